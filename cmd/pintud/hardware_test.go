package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/drivers/wiegand"
	"github.com/pintu/pintu/internal/hwtest"
)

// fakeResolver resolves GPIO0 to GPIO27 (or gpiochip0:0 to :27) to
// recording fake pins, SPI0.0, SPI0.1 and I2C1 to empty playbacks (a reader
// there never answers), and Wiegand lines to fake edge sources.
type fakeResolver struct {
	mu      sync.Mutex
	pins    map[int]*hwtest.Pin
	sources map[string]chan *hwtest.EdgeSource // by d0, every source opened
	onOut   func(pin string, l gpio.Level)
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{pins: map[int]*hwtest.Pin{}, sources: map[string]chan *hwtest.EdgeSource{}}
}

func (r *fakeResolver) pin(p config.Pin) (*hwtest.Pin, error) {
	n := -1
	switch {
	case p.Name != "":
		if v, ok := strings.CutPrefix(p.Name, "GPIO"); ok {
			if i, err := strconv.Atoi(v); err == nil {
				n = i
			}
		}
	case p.Chip == "gpiochip0":
		n = p.Offset
	}
	if n < 0 || n > 27 {
		return nil, fmt.Errorf("%w %s", errNoPin, p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if pin, ok := r.pins[n]; ok {
		return pin, nil
	}
	name := "GPIO" + strconv.Itoa(n)
	pin := hwtest.NewPin(name, n)
	if r.onOut != nil {
		on := r.onOut
		pin.OnOut = func(l gpio.Level) { on(name, l) }
	}
	r.pins[n] = pin
	return pin, nil
}

func (r *fakeResolver) PinIn(p config.Pin) (gpio.PinIn, error) { return r.pin(p) }

func (r *fakeResolver) PinOut(p config.Pin) (gpio.PinOut, error) { return r.pin(p) }

func (r *fakeResolver) SPI(name string) (spi.PortCloser, error) {
	if name != "SPI0.0" && name != "SPI0.1" {
		return nil, fmt.Errorf("no SPI port %s", name)
	}
	return &spitest.Playback{Playback: conntest.Playback{DontPanic: true}}, nil
}

func (r *fakeResolver) I2C(name string) (i2c.BusCloser, error) {
	if name != "I2C1" {
		return nil, fmt.Errorf("no I2C bus %s", name)
	}
	return &i2ctest.Playback{DontPanic: true}, nil
}

func (r *fakeResolver) Wiegand(d0, d1 config.Pin) (WiegandOpener, error) {
	for _, p := range []config.Pin{d0, d1} {
		if _, err := r.pin(p); err != nil {
			return nil, err
		}
	}
	ch := r.sourceChan(d0.String())
	return func(opts *wiegand.Opts) (*wiegand.Dev, error) {
		src := hwtest.NewEdgeSource("fake " + d0.String())
		dev, err := wiegand.New(src, opts)
		if err == nil {
			ch <- src
		}
		return dev, err
	}, nil
}

func (r *fakeResolver) sourceChan(d0 string) chan *hwtest.EdgeSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.sources[d0]
	if !ok {
		ch = make(chan *hwtest.EdgeSource, 8)
		r.sources[d0] = ch
	}
	return ch
}

// source returns the next edge source opened for the reader on d0.
func (r *fakeResolver) source(t testing.TB, d0 string) *hwtest.EdgeSource {
	t.Helper()
	select {
	case s := <-r.sourceChan(d0):
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("no edge source opened on %s", d0)
		return nil
	}
}

func (r *fakeResolver) get(n int) *hwtest.Pin {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pins[n]
}

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
// openHardware from a config, a controller on a memstore, both running.
type station struct {
	res  *fakeResolver
	hw   *hardware
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
	s := &station{res: newFakeResolver(), taps: make(chan doorio.TapRecord, 64)}
	s.res.onOut = onOut
	log := slog.New(slog.DiscardHandler)
	s.hw, err = openHardware(cfg, "pintud.yaml", false, func() (Resolver, error) { return s.res, nil }, log)
	if err != nil {
		t.Fatal(err)
	}
	s.ctrl, err = controller.New(cfg.Controller(), store, s.hw.strikes, controller.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.hw.io.OnTap = func(r doorio.TapRecord) { s.taps <- r }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.ctrl.Run(ctx); err != nil {
			t.Errorf("controller Run = %v", err)
		}
	})
	wg.Go(func() {
		if err := s.hw.run(ctx, s.ctrl); err != nil {
			t.Errorf("hardware run = %v", err)
		}
	})
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			s.hw.close()
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
// openHardware's wiring on fake hardware. The decisions must be the same.
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
		src := map[string]*hwtest.EdgeSource{"entry": s.res.source(t, "GPIO5"), "exit": s.res.source(t, "GPIO12")}
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
				relayPin := s.res.get(17)
				if got := relayPin.Levels(); len(got) == 0 || got[0] != tt.locked {
					t.Fatalf("relay writes at start = %v, want %v first", got, tt.locked)
				}
				seed(t, s.ctrl)
				s.res.source(t, "GPIO12").Send(card(t, 1004), time.Millisecond)
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

// TestHardwareConfigErrors checks that a pin or bus the machine lacks is an
// error at start naming the configuration line, and that a relay opened
// before it is left locked.
func TestHardwareConfigErrors(t *testing.T) {
	const head = `site: {name: Lab}
doors:
  - name: d
    readers:
`
	tests := []struct {
		name, yaml, want string
	}{
		{"relay pin", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: gpio, pin: GPIO99}\n",
			"pintud.yaml:6: door d relay: no such GPIO line GPIO99"},
		{"contact pin", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: gpio, pin: GPIO17}\n" +
			"    contact:\n      driver: gpio\n      pin: gpiochip1:3\n",
			"pintud.yaml:9: door d contact: no such GPIO line gpiochip1:3"},
		{"wiegand line", head + "      - name: in\n        direction: entry\n        driver: wiegand\n        d0: GPIO40\n        d1: GPIO6\n    relay: {driver: gpio, pin: GPIO17}\n",
			"pintud.yaml:8: door d reader in: no such GPIO line GPIO40"},
		{"spi bus", head + "      - {name: in, direction: entry, driver: rc522, bus: SPI1.0}\n    relay: {driver: sim}\n",
			"pintud.yaml:5: door d reader in: no SPI port SPI1.0"},
		{"rc522 irq", head + "      - {name: in, direction: entry, driver: rc522, bus: SPI0.0,\n         irq: GPIO30}\n    relay: {driver: sim}\n",
			"pintud.yaml:6: door d reader in: no such GPIO line GPIO30"},
		{"i2c bus", head + "      - {name: in, direction: entry, driver: pn532, bus: I2C0}\n    relay: {driver: sim}\n",
			"pintud.yaml:5: door d reader in: no I2C bus I2C0"},
		{"indicator", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: sim}\n    indicator: {driver: gpio, led: GPIO28}\n",
			"pintud.yaml:7: door d indicator: no such GPIO line GPIO28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("pintud.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			res := newFakeResolver()
			_, err = openHardware(cfg, "pintud.yaml", false, func() (Resolver, error) { return res, nil }, slog.New(slog.DiscardHandler))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("openHardware error = %v, want %q", err, tt.want)
			}
			if relayPin := res.get(17); relayPin != nil {
				if got := relayPin.Levels(); len(got) < 2 || got[len(got)-1] != gpio.Low {
					t.Errorf("relay writes after the failed start = %v, want locked (low) at least twice", got)
				}
			}
		})
	}
}

// TestSimulateIgnoresHardware checks that -sim never asks for hardware.
func TestSimulateIgnoresHardware(t *testing.T) {
	cfg, err := config.Parse("pintud.yaml", []byte(fmt.Sprintf(hwConfig, false, false)))
	if err != nil {
		t.Fatal(err)
	}
	hw, err := openHardware(cfg, "pintud.yaml", true, func() (Resolver, error) {
		t.Fatal("-sim asked for hardware")
		return nil, nil
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer hw.close()
	if len(hw.io.Doors) != 0 || len(hw.strikes) != 1 {
		t.Errorf("simulated hardware = %d doors of inputs, %d strikes; want 0, 1", len(hw.io.Doors), len(hw.strikes))
	}
}

// TestHwcheck runs pintud -hwcheck on fake hardware: it pulses the relay,
// then prints a contact change and a card read.
func TestHwcheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pintud.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hwConfig, false, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		res := newFakeResolver()
		old := newResolver
		newResolver = func() (Resolver, error) { return res, nil }
		defer func() { newResolver = old }()
		out := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- hwcheck(ctx, path, out, slog.New(slog.DiscardHandler)) }()
		src := res.source(t, "GPIO5")
		synctest.Wait()
		res.get(22).Set(gpio.High)
		time.Sleep(time.Second)
		src.Send(card(t, 1004), time.Millisecond)
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("hwcheck = %v", err)
		}
		got := out.String()
		for _, want := range []string{
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
		if got := res.get(17).Levels(); !cmp.Equal(got, []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.Low}) {
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
