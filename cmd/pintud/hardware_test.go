package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/doorio/doortest"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/drivers/wiegand"
	"github.com/pintu/pintu/internal/hwtest"
)

// hwConfig is a door on fake hardware: Wiegand readers on GPIO5/6 (entry)
// and GPIO12/13 (exit), the relay on GPIO17.
const hwConfig = `site: {name: Lab, require_clock_sync: false}
doors:
  - name: server-room
    readers:
      - {name: entry, direction: entry, driver: wiegand, d0: GPIO5, d1: GPIO6, lengths: [26, 34]}
      - {name: exit, direction: exit, driver: wiegand, d0: GPIO12, d1: GPIO13, lengths: [26, 34]}
    relay: {driver: gpio, pin: GPIO17, active_low: %v, fail_safe: %v}
    contact: {driver: gpio, pin: GPIO22, pull: down}
`

// station is pintud's wiring on fake hardware: the hardware opened by
// doorio.Open from a config, a controller on a memstore, both running.
type station struct {
	res  *doortest.Resolver
	hw   *doorio.Devices
	ctrl *controller.Controller
	taps chan doorio.TapRecord
	stop func()
}

func startStation(t testing.TB, yaml string, store controller.Store, onOut func(string, gpio.Level)) *station {
	t.Helper()
	cfg, err := config.Parse("pintud.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s := &station{res: doortest.NewResolver(), taps: make(chan doorio.TapRecord, 64)}
	s.res.OnOut = onOut
	log := slog.New(slog.DiscardHandler)
	s.hw, err = doorio.Open(cfg, "pintud.yaml", false, func() (doorio.Resolver, error) { return s.res, nil }, log)
	if err != nil {
		t.Fatal(err)
	}
	s.ctrl, err = controller.New(cfg.Controller(), store, s.hw.Strikes, controller.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.hw.Hardware.OnTap = func(r doorio.TapRecord) { s.taps <- r }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.ctrl.Run(ctx); err != nil {
			t.Errorf("controller Run = %v", err)
		}
	})
	wg.Go(func() {
		if err := s.hw.Run(ctx, s.ctrl); err != nil {
			t.Errorf("hardware run = %v", err)
		}
	})
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			s.hw.Close()
		})
	}
	t.Cleanup(s.stop)
	return s
}

// cast is the people and cards of the equivalence test, with Wiegand
// cards.
type castMember struct {
	id     string
	role   controller.Role
	number uint64
}

var cast = []castMember{
	{"oki", controller.RoleOfficer, 1004},
	{"citra", controller.RoleCoordinator, 1002},
	{"hasan", controller.RoleHead, 1003},
	{"vina", controller.RoleVisitor, 2001},
	{"rudi", controller.RoleVisitor, 2002}, // no visit
	{"eko", controller.RoleOfficer, 1005},  // card revoked
}

func card(t testing.TB, number uint64) wiegand.Card {
	t.Helper()
	c, err := wiegand.Encode(wiegand.FormatH10301, 12, number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seed registers the cast and an approved visit for vina escorted by oki.
func seed(t testing.TB, c *controller.Controller) {
	t.Helper()
	ctx := context.Background()
	for _, m := range cast {
		if err := c.AddPerson(ctx, controller.Person{ID: m.id, Name: m.id, Roles: []controller.Role{m.role}}, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
			t.Fatal(err)
		}
		if err := c.AssignCard(ctx, card(t, m.number).String(), m.id, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddPerson(ctx, controller.Person{ID: "adi", Name: "adi", Roles: []controller.Role{controller.RoleAdmin}}, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeCard(ctx, card(t, 1005).String(), controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
		t.Fatal(err)
	}
	v, err := c.SubmitVisit(ctx, controller.VisitForm{VisitorID: "vina", Purpose: "replace a disk"}, controller.Actor{Person: "adi", Via: controller.ViaSocket})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		a  controller.Action
		by string
	}{{controller.ActionCheck, "citra"}, {controller.ActionApprove, "hasan"}} {
		if _, err := c.Step(ctx, v.ID, s.a, controller.Actor{Person: s.by, Via: controller.ViaSocket}, ""); err != nil {
			t.Fatal(err)
		}
	}
}

type tapCase struct {
	reader string
	number uint64
}

// visit is a morning at the door: unknown and revoked cards, a visitor
// without a visit, a visitor waiting for and then entering with an escort,
// staff entering and leaving.
var visit = []tapCase{
	{"entry", 9999},
	{"entry", 1005},
	{"entry", 2002},
	{"entry", 2001},
	{"entry", 1004},
	{"entry", 1004},
	{"entry", 1002},
	{"exit", 2001},
	{"exit", 1004},
	{"entry", 1003},
	{"exit", 1002},
}

// decision is what the comparison keeps of a Result: everything but the
// sequence number, which other inputs shift.
type decision struct {
	Decision controller.Decision
	Reason   controller.Reason
	Person   string
}

// TestWiringMatchesSim plays the same visit twice: tapping the controller
// as the simulated readers do, and sending Wiegand frames through
// doorio.Open's wiring on fake hardware. The decisions must be the same.
func TestWiringMatchesSim(t *testing.T) {
	var viaSim, viaHW []decision
	synctest.Test(t, func(t *testing.T) {
		ctrl, err := controller.New(config.Default().Controller(), memstore.New(), nil, controller.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- ctrl.Run(ctx) }()
		seed(t, ctrl)
		bench := doorio.NewSim(ctrl)
		for _, tc := range visit {
			time.Sleep(time.Second)
			res, err := bench.Tap(ctx, "server-room", tc.reader, card(t, tc.number).String())
			if err != nil {
				t.Fatal(err)
			}
			viaSim = append(viaSim, decision{res.Decision, res.Reason, res.Person})
		}
		cancel()
		<-done
	})
	synctest.Test(t, func(t *testing.T) {
		s := startStation(t, fmt.Sprintf(hwConfig, false, false), memstore.New(), nil)
		seed(t, s.ctrl)
		src := map[string]*hwtest.EdgeSource{"entry": s.res.Source(t, "GPIO5"), "exit": s.res.Source(t, "GPIO12")}
		for _, tc := range visit {
			time.Sleep(time.Second)
			c := card(t, tc.number)
			src[tc.reader].Send(c, 2*time.Millisecond)
			r := <-s.taps
			if r.Reader != tc.reader || r.Card.ID != c.String() || r.Err != nil {
				t.Fatalf("tap on %s of %s = %+v", tc.reader, c, r)
			}
			viaHW = append(viaHW, decision{r.Result.Decision, r.Result.Reason, r.Result.Person})
		}
	})
	if len(viaSim) != len(visit) {
		t.Fatalf("simulated run made %d decisions, want %d", len(viaSim), len(visit))
	}
	if diff := cmp.Diff(viaSim, viaHW); diff != "" {
		t.Errorf("decisions via fake hardware differ from the simulated readers' (-sim +hardware):\n%s", diff)
	}
	// The run is a useful one only if it covers the interesting outcomes.
	seen := map[controller.Reason]bool{}
	for _, d := range viaSim {
		seen[d.Reason] = true
	}
	for _, r := range []controller.Reason{controller.ReasonUnknownCard, controller.ReasonRevoked, controller.ReasonNotApproved, controller.ReasonWaitingForEscort, ""} {
		if !seen[r] {
			t.Errorf("the visit never gives reason %q: %+v", r, viaSim)
		}
	}
}

// TestRelayLockedFirstAndLast checks on the relay's fake pin that the
// first and the last level written are the locked one, for each wiring.
func TestRelayLockedFirstAndLast(t *testing.T) {
	for _, tt := range []struct {
		activeLow, failSafe bool
		locked              gpio.Level
	}{
		{false, false, gpio.Low},
		{true, false, gpio.High},
		{false, true, gpio.High},
		{true, true, gpio.Low},
	} {
		t.Run(fmt.Sprintf("active_low=%v,fail_safe=%v", tt.activeLow, tt.failSafe), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := startStation(t, fmt.Sprintf(hwConfig, tt.activeLow, tt.failSafe), memstore.New(), nil)
				relayPin := s.res.Get(17)
				if got := relayPin.Levels(); len(got) == 0 || got[0] != tt.locked {
					t.Fatalf("relay writes at start = %v, want %v first", got, tt.locked)
				}
				seed(t, s.ctrl)
				s.res.Source(t, "GPIO12").Send(card(t, 1004), time.Millisecond)
				if r := <-s.taps; r.Result.Decision != controller.Granted {
					t.Fatalf("exit tap = %+v, want granted", r)
				}
				s.stop()
				got := relayPin.Levels()
				if len(got) < 3 || got[0] != tt.locked || got[len(got)-1] != tt.locked || !containsLevel(got, !tt.locked) {
					t.Errorf("relay writes = %v, want %v first and last and an unlock between", got, tt.locked)
				}
			})
		})
	}
}

func containsLevel(ls []gpio.Level, l gpio.Level) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// TestHwcheck runs pintud -hwcheck on fake hardware: it pulses the relay,
// then prints a contact change and a card read.
func TestHwcheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pintud.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hwConfig, false, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		res := doortest.NewResolver()
		out := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		newRes := func() (doorio.Resolver, error) { return res, nil }
		go func() { done <- hwcheck(ctx, path, newRes, out, slog.New(slog.DiscardHandler)) }()
		src := res.Source(t, "GPIO5") // requested at start, before the pulse
		time.Sleep(pulse + time.Second)
		synctest.Wait()
		res.Get(22).Set(gpio.High)
		time.Sleep(time.Second)
		src.Send(card(t, 1004), time.Millisecond)
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("hwcheck = %v", err)
		}
		got := out.String()
		for _, want := range []string{
			`line door server-room relay (GPIO17): gpiochip0 offset 17 (fake), kernel name "GPIO17", held by "pintud:server-room:relay" [used]` + "\n",
			`line door server-room reader entry d0 (GPIO5): gpiochip0 offset 5 (fake), kernel name "GPIO5", held by "pintud:server-room:entry" [used]` + "\n",
			`line door server-room contact (GPIO22): gpiochip0 offset 22 (fake), kernel name "GPIO22", held by "pintud:server-room:contact" [used]` + "\n",
			"door server-room: relay (gpio GPIO17): unlocking for 1s\n",
			"door server-room: relay locked\n",
			"door server-room: contact closed\n",
			"door server-room: contact open\n",
			"door server-room: reader entry: card H10301:12:1004 (H10301 26-bit); indicator shows granted\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("hwcheck output lacks %q; got:\n%s", want, got)
			}
		}
		if got := res.Get(17).Levels(); !cmp.Equal(got, []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.Low}) {
			t.Errorf("relay writes = %v, want locked, pulse, locked, and locked at the end", got)
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
