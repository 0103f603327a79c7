package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/memstore"
)

// faultStore wraps a real store with the faults a disk has: commits that
// fail, and commits that stall until released. It counts commits.
type faultStore struct {
	controller.Store
	mu      sync.Mutex
	fail    error
	stall   chan struct{} // non-nil: Commit waits for it to close
	commits int
}

func (s *faultStore) Commit(c controller.Change) error {
	s.mu.Lock()
	s.commits++
	fail, stall := s.fail, s.stall
	s.mu.Unlock()
	if stall != nil {
		<-stall
	}
	if fail != nil {
		return fmt.Errorf("faultstore: %w", fail)
	}
	return s.Store.Commit(c)
}

func (s *faultStore) setFail(err error) { s.mu.Lock(); s.fail = err; s.mu.Unlock() }
func (s *faultStore) count() int        { s.mu.Lock(); defer s.mu.Unlock(); return s.commits }

// stallCommits makes commits wait until the returned function is called.
func (s *faultStore) stallCommits() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.stall = ch
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.stall = nil
		s.mu.Unlock()
		close(ch)
	}
}

// relays is a fake Actuator: every write, per door.
type relays struct {
	mu     sync.Mutex
	writes map[string][]bool
}

func (r *relays) SetStrike(door string, unlocked bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.writes == nil {
		r.writes = map[string][]bool{}
	}
	r.writes[door] = append(r.writes[door], unlocked)
	return nil
}

// released reports whether the door's last write released it.
func (r *relays) released(door string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.writes[door]
	return len(w) > 0 && w[len(w)-1]
}

// countingHandler counts log records by level.
type countingHandler struct {
	mu     sync.Mutex
	levels map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.levels == nil {
		h.levels = map[slog.Level]int{}
	}
	h.levels[r.Level]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) n(l slog.Level) int                 { h.mu.Lock(); defer h.mu.Unlock(); return h.levels[l] }

// storeKinds are the stores every table test runs with.
var storeKinds = []string{"memstore", "bbolt"}

// twoDoors is the default config with a second door, ups-room.
func twoDoors() controller.Config {
	cfg := controller.DefaultConfig()
	d := cfg.Doors[0]
	d.Name = "ups-room"
	cfg.Doors = append(cfg.Doors, d)
	return cfg
}

// harness is a running Controller on a store of one kind, inside a
// synctest bubble: time moves only when the test sleeps.
type harness struct {
	t      *testing.T
	kind   string
	cfg    controller.Config
	path   string // bbolt file
	mem    *memstore.Store
	bolt   *boltstore.Store
	store  *faultStore
	c      *controller.Controller
	act    *relays
	logs   *countingHandler
	offset time.Duration // the wall clock's error: Now is fake time plus this
	synced bool
	mu     sync.Mutex
	stop   func()
	inputs []input // every read the test made, for checkLog
	obs    controller.Observer
	// verifyEvery is the background integrity check's period (zero: the
	// default).
	verifyEvery time.Duration
}

// input is one read the test presented.
type input struct{ door, reader, card string }

// eachStore runs fn with a harness on each kind of store, in a bubble.
func eachStore(t *testing.T, cfg controller.Config, fn func(t *testing.T, h *harness)) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &harness{t: t, kind: kind, cfg: cfg, act: &relays{}, logs: &countingHandler{}, synced: true}
				if kind == "bbolt" {
					h.path = filepath.Join(t.TempDir(), "pintu.db")
				} else {
					h.mem = memstore.New()
				}
				h.start()
				t.Cleanup(h.shutdown)
				fn(t, h)
			})
		})
	}
}

func (h *harness) start() { h.startWith(h.act) }

// memstoreNew is memstore.New, for files that do not import it.
func memstoreNew() *memstore.Store { return memstore.New() }

// startWith starts a controller driving act.
func (h *harness) startWith(act controller.Actuator) {
	h.t.Helper()
	var base controller.Store = h.mem
	if h.kind == "bbolt" {
		s, err := boltstore.Open(h.path, &boltstore.Options{NoSync: true})
		if err != nil {
			h.t.Fatal(err)
		}
		h.bolt, base = s, s
	}
	h.store = &faultStore{Store: base}
	c, err := controller.New(h.cfg, h.store, act, controller.Options{
		Now:         func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return time.Now().Add(h.offset) },
		ClockSynced: func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.synced },
		Logger:      slog.New(h.logs),
		Observer:    h.obs,
		VerifyEvery: h.verifyEvery,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run = %v", err)
		}
		if h.bolt != nil {
			h.bolt.Close()
			h.bolt = nil
		}
	}
	synctest.Wait()
}

func (h *harness) shutdown() {
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// restart stops the controller and starts a new one on the same store, as
// after a power cut with the file intact.
func (h *harness) restart() {
	h.t.Helper()
	h.shutdown()
	h.start()
}

func (h *harness) setClock(offset time.Duration, synced bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.offset, h.synced = offset, synced
}

// advance lets fake time pass and the controller's timers fire.
func (h *harness) advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func (h *harness) ctx() context.Context { return context.Background() }

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// cast registers the usual people, each with card "card-<id>".
func (h *harness) cast() {
	h.t.Helper()
	for _, p := range []controller.Person{
		{ID: "adi", Name: "Adi", Roles: []controller.Role{controller.RoleAdmin}},
		{ID: "citra", Name: "Citra", Roles: []controller.Role{controller.RoleCoordinator}},
		{ID: "hasan", Name: "Hasan", Roles: []controller.Role{controller.RoleHead}},
		{ID: "oki", Name: "Oki", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "putri", Name: "Putri", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "vina", Name: "Vina", Roles: []controller.Role{controller.RoleVisitor}},
		{ID: "wawan", Name: "Wawan", Roles: []controller.Role{controller.RoleVisitor}},
	} {
		h.must(h.c.AddPerson(h.ctx(), p, root))
		h.must(h.c.AssignCard(h.ctx(), "card-"+p.ID, p.ID, root))
	}
}

// approve submits, checks and approves a visit for visitor; from and until
// default to now and two hours later.
func (h *harness) approve(f controller.VisitForm) string {
	h.t.Helper()
	if f.Purpose == "" {
		f.Purpose = "replace a disk"
	}
	v, err := h.c.SubmitVisit(h.ctx(), f, as("adi"))
	h.must(err)
	_, err = h.c.Step(h.ctx(), v.ID, controller.ActionCheck, as("citra"), "")
	h.must(err)
	_, err = h.c.Step(h.ctx(), v.ID, controller.ActionApprove, as("hasan"), "")
	h.must(err)
	return v.ID
}

func (h *harness) tap(door, reader, person string) controller.Result {
	h.t.Helper()
	card := "card-" + person
	h.inputs = append(h.inputs, input{door, reader, card})
	res, err := h.c.Tap(h.ctx(), door, reader, card)
	if err != nil {
		h.t.Fatalf("tap %s %s %s: %v", door, reader, person, err)
	}
	return res
}

// in and out are reads at server-room's entry and exit readers.
func (h *harness) in(person string) controller.Result  { return h.tap("server-room", "entry", person) }
func (h *harness) out(person string) controller.Result { return h.tap("server-room", "exit", person) }

func (h *harness) status() controller.Status {
	h.t.Helper()
	st, err := h.c.Status(h.ctx())
	h.must(err)
	return st
}

func (h *harness) inside(person string) bool {
	return slices.ContainsFunc(h.status().Inside, func(o controller.Occupant) bool { return o.Person == person })
}

// active reports whether an alarm of kind is active.
func (h *harness) active(k controller.AlarmKind) bool {
	return slices.ContainsFunc(h.status().Alarms, func(a controller.Alarm) bool { return a.Kind == k })
}

// listed returns the listed alarm of kind k.
func (h *harness) listed(k controller.AlarmKind) (controller.Alarm, bool) {
	as, err := h.c.Alarms(h.ctx())
	h.must(err)
	i := slices.IndexFunc(as, func(a controller.Alarm) bool { return a.Kind == k })
	if i < 0 {
		return controller.Alarm{}, false
	}
	return as[i], true
}

func (h *harness) visit(id string) controller.Visit {
	h.t.Helper()
	v, err := h.c.Visit(h.ctx(), id)
	h.must(err)
	return v
}

func (h *harness) events() []controller.Event {
	h.t.Helper()
	var evs []controller.Event
	h.must(h.store.Events(controller.EventQuery{}, func(e controller.Event) error { evs = append(evs, e); return nil }))
	return evs
}

// decisions lists the access decisions about person's reads, in order.
func (h *harness) decisions(person string) []string {
	var out []string
	for _, e := range h.events() {
		if e.Type == controller.EventAccess && e.Person == person {
			out = append(out, string(e.Decision)+"/"+string(e.Reason))
		}
	}
	return out
}

// check runs checkLog on the store's log.
func (h *harness) check() {
	h.t.Helper()
	checkLog(h.t, h.events(), h.inputs)
}

var readRef = regexp.MustCompile(`read #(\d+)`)

// checkLog checks what every log must hold: the hash chain verifies; every
// access or exit event with a card is a read the test made; every "read #N"
// an event names is an access or exit event of a read with a card; and no
// access event grants anyone without a card, unless it is a remote command's.
func checkLog(t testing.TB, evs []controller.Event, inputs []input) {
	t.Helper()
	var v controller.Verifier
	for _, e := range evs {
		if err := v.Next(e); err != nil {
			t.Fatalf("chain: %v", err)
		}
	}
	made := map[input]bool{}
	for _, in := range inputs {
		made[in] = true
	}
	for _, e := range evs {
		if e.Type != controller.EventAccess && e.Type != controller.EventExit {
			continue
		}
		if e.Card == "" && e.Reader != "remote" {
			t.Errorf("event %d (%s %s of %s) names no card: an invented read", e.Seq, e.Type, e.Decision, e.Person)
		}
		if e.Card != "" && !made[input{e.Door, e.Reader, e.Card}] {
			t.Errorf("event %d names a read (%s %s %s) that never happened", e.Seq, e.Door, e.Reader, e.Card)
		}
		for _, m := range readRef.FindAllStringSubmatch(e.Detail, -1) {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			if n == 0 || n >= e.Seq || int(n) > len(evs) {
				t.Errorf("event %d names read #%d, which is not an earlier event", e.Seq, n)
				continue
			}
			r := evs[n-1]
			if (r.Type != controller.EventAccess && r.Type != controller.EventExit) || r.Card == "" {
				t.Errorf("event %d names read #%d, which is a %s without a card", e.Seq, n, r.Type)
			}
		}
	}
}

// as is the person id acting through the local socket, as the API would
// establish it; root is root on the socket.
func as(id string) controller.Actor { return controller.Actor{Person: id, Via: controller.ViaSocket} }

var root = controller.Actor{Root: true, Via: controller.ViaSocket}

func eventTypes(evs []controller.Event) []controller.EventType {
	ts := make([]controller.EventType, len(evs))
	for i, e := range evs {
		ts[i] = e.Type
	}
	return ts
}
