package controller_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
)

var (
	propSeed = flag.Uint64("prop.seed", 0, "first seed of TestProperty's sequences (0: from the clock)")
	propRuns = flag.Int("prop.runs", 0, "sequences per store in TestProperty (0: the default)")
)

// TestProperty drives random sequences of reads at the entry and exit
// readers of two doors (one under the two-person rule), REX presses, door
// moves, lockdowns, tamper, alarm acknowledgements, clock steps, failing
// commits and restarts, and checks after every input:
//   - no visitor is inside without their escort inside, or an active
//     visitor_unescorted alarm for the visit;
//   - no strike is released for anything but egress before the event that
//     explains it is committed;
//   - no event names a read that did not happen, and the chain verifies;
//   - each door's relay is where the controller says the door's lock is.
//
// A failure names its seed; rerun it with -prop.seed=N -prop.runs=1.
func TestProperty(t *testing.T) {
	seed := *propSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	runs := map[string]int{"memstore": 120, "bbolt": 30}
	if raceBuild {
		runs = map[string]int{"memstore": 30, "bbolt": 8}
	}
	if testing.Short() {
		runs = map[string]int{"memstore": 20, "bbolt": 5}
	}
	for _, kind := range storeKinds {
		n := runs[kind]
		if *propRuns > 0 {
			n = *propRuns
		}
		t.Run(kind, func(t *testing.T) {
			for i := range n {
				s := seed + uint64(i)
				if !runSequence(t, kind, s) {
					t.Fatalf("sequence failed: rerun with go test ./controller -run 'TestProperty/%s' -prop.seed=%d -prop.runs=1 -v", kind, s)
				}
			}
		})
	}
}

// checkedRelays is the property test's Actuator: it records the relay and
// checks, at each release, that the release is egress or follows the
// committed event that explains it.
type checkedRelays struct {
	relays
	mu       sync.Mutex
	egress   bool   // the input being made is egress
	fromSeq  uint64 // the log's next seq when the input began
	store    func() []controller.Event
	problems []string
}

func (r *checkedRelays) SetStrike(door string, unlocked bool) error {
	if unlocked {
		r.mu.Lock()
		egress, from := r.egress, r.fromSeq
		r.mu.Unlock()
		if !egress && !slices.ContainsFunc(r.store(), func(e controller.Event) bool {
			return e.Seq >= from && e.Type == controller.EventUnlock && e.Door == door
		}) {
			r.mu.Lock()
			r.problems = append(r.problems, fmt.Sprintf("%s released before its unlock event was committed", door))
			r.mu.Unlock()
		}
	}
	return r.relays.SetStrike(door, unlocked)
}

type propPerson struct {
	id      string
	visitor bool
}

var propCast = []propPerson{{"oki", false}, {"putri", false}, {"citra", false}, {"hasan", false}, {"adi", false},
	{"vina", true}, {"wawan", true}, {"xena", true}, {"nobody", false}}

func runSequence(t *testing.T, kind string, seed uint64) (ok bool) {
	ok = true
	t.Run(fmt.Sprint(seed), func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			defer func() {
				if t.Failed() {
					ok = false
				}
			}()
			propSequence(t, kind, seed)
		})
	})
	return ok
}

func propSequence(t *testing.T, kind string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cfg := twoDoors()
	cfg.Doors[1].TwoPerson = true
	h := &harness{t: t, kind: kind, cfg: cfg, logs: &countingHandler{}, synced: true}
	act := &checkedRelays{}
	if kind == "bbolt" {
		h.path = t.TempDir() + "/pintu.db"
	} else {
		h.mem = memstoreNew()
	}
	h.act = &act.relays
	h.start() // with the plain relays; restarted below with the checked ones
	h.shutdown()
	startChecked(h, act)
	t.Cleanup(h.shutdown)
	act.store = func() []controller.Event {
		var evs []controller.Event
		h.store.Store.Events(controller.EventQuery{}, func(e controller.Event) error { evs = append(evs, e); return nil })
		return evs
	}
	h.cast()
	h.must(h.c.AddPerson(h.ctx(), controller.Person{ID: "xena", Name: "Xena", Roles: []controller.Role{controller.RoleVisitor}}, root))
	h.must(h.c.AssignCard(h.ctx(), "card-xena", "xena", root))
	for _, v := range []string{"vina", "wawan", "xena"} {
		escort := ""
		if v == "xena" {
			escort = "putri"
		}
		h.approve(controller.VisitForm{VisitorID: v, Until: time.Now().Add(6 * time.Hour), EscortID: escort})
	}

	doors := []string{"server-room", "ups-room"}
	var trace []string
	for step := range 80 {
		door := doors[rng.IntN(2)]
		p := propCast[rng.IntN(len(propCast))]
		act.mu.Lock()
		act.egress, act.fromSeq = false, uint64(len(act.store()))+1
		act.mu.Unlock()
		var what string
		switch n := rng.IntN(100); {
		case n < 35:
			what = fmt.Sprintf("%s entry %s", p.id, door)
			h.tap(door, "entry", p.id)
		case n < 50:
			what = fmt.Sprintf("%s exit %s", p.id, door)
			act.mu.Lock()
			act.egress = true
			act.mu.Unlock()
			h.tap(door, "exit", p.id)
		case n < 55:
			what = "REX " + door
			act.mu.Lock()
			act.egress = true
			act.mu.Unlock()
			if err := h.c.RequestExit(h.ctx(), door); err != nil && !errors.Is(err, controller.ErrStorage) {
				t.Fatal(err)
			}
		case n < 65:
			open := rng.IntN(2) == 0
			what = fmt.Sprintf("contact %s open=%v", door, open)
			if err := h.c.SetContact(h.ctx(), door, open); err != nil && !errors.Is(err, controller.ErrStorage) {
				t.Fatal(err)
			}
		case n < 69:
			on := rng.IntN(2) == 0
			what = fmt.Sprintf("lockdown %s %v", door, on)
			if _, err := h.c.Lockdown(h.ctx(), door, as("citra"), on); err != nil && !errors.Is(err, controller.ErrStorage) && !errors.Is(err, controller.ErrAlready) {
				t.Fatal(err)
			}
		case n < 72:
			on := rng.IntN(2) == 0
			what = fmt.Sprintf("tamper %s %v", door, on)
			if err := h.c.SetTamper(h.ctx(), door, on); err != nil && !errors.Is(err, controller.ErrStorage) {
				t.Fatal(err)
			}
		case n < 75:
			what = "ack"
			if alarms, _ := h.c.Alarms(h.ctx()); len(alarms) > 0 {
				a := alarms[rng.IntN(len(alarms))]
				what = "ack " + a.ID
				if _, err := h.c.AckAlarm(h.ctx(), a.ID, as("hasan"), ""); err != nil && !errors.Is(err, controller.ErrStorage) && !errors.Is(err, controller.ErrAlready) {
					t.Fatal(err)
				}
			}
		case n < 80:
			fail := rng.IntN(3) == 0
			what = fmt.Sprintf("store failing=%v", fail)
			if fail {
				h.store.setFail(errors.New("disk gone"))
			} else {
				h.store.setFail(nil)
			}
		case n < 84:
			offset := []time.Duration{0, 0, -time.Hour}[rng.IntN(3)]
			synced := rng.IntN(4) != 0
			what = fmt.Sprintf("clock offset %v synced %v", offset, synced)
			h.setClock(offset, synced)
		case n < 86:
			what = "restart"
			fail := h.store.fail
			h.shutdown()
			startChecked(h, act)
			h.store.setFail(fail)
		default:
			d := time.Duration(rng.IntN(40_000)) * time.Millisecond
			what = "wait " + d.String()
			h.advance(d)
		}
		synctest.Wait()
		trace = append(trace, what)
		if msg := propInvariants(h, act); msg != "" {
			t.Fatalf("after step %d (%s): %s\nseed %d, steps:\n  %s", step, what, msg, seed, strings.Join(trace, "\n  "))
		}
	}
	h.store.setFail(nil)
	h.advance(10 * time.Second)
	checkLog(t, h.events(), h.inputs)
	if t.Failed() {
		t.Logf("seed %d, steps:\n  %s", seed, strings.Join(trace, "\n  "))
	}
}

// startChecked starts h's controller with the checked relays.
func startChecked(h *harness, act *checkedRelays) {
	h.act = &act.relays
	h.startWith(act)
}

func propInvariants(h *harness, act *checkedRelays) string {
	act.mu.Lock()
	problems := act.problems
	act.mu.Unlock()
	if len(problems) > 0 {
		return strings.Join(problems, "; ")
	}
	st := h.status()
	in := map[string]bool{}
	for _, o := range st.Inside {
		in[o.Person] = true
	}
	for _, o := range st.Inside {
		if o.Visit == "" {
			continue
		}
		alarmed := slices.ContainsFunc(st.Alarms, func(a controller.Alarm) bool {
			return a.Kind == controller.AlarmVisitorUnescorted && a.Visit == o.Visit && a.Active
		})
		if !in[o.Escort] && !alarmed {
			return fmt.Sprintf("visitor %s inside without escort %s and no visitor_unescorted alarm", o.Person, o.Escort)
		}
	}
	for _, d := range st.Doors {
		if (d.Lock == "unlocked") != h.act.released(d.Name) {
			return fmt.Sprintf("door %s is %s but its relay released=%v", d.Name, d.Lock, h.act.released(d.Name))
		}
	}
	var v controller.Verifier
	if err := h.store.Events(controller.EventQuery{}, v.Next); err != nil {
		return "chain: " + err.Error()
	}
	return ""
}
