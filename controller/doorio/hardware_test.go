package doorio_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/drivers/indicator"
	"github.com/pintu/pintu/drivers/input"
	"github.com/pintu/pintu/drivers/sim"
	"github.com/pintu/pintu/drivers/wiegand"
	"github.com/pintu/pintu/internal/hwtest"
)

const door = "server-room"

// rig is a controller on a memstore with its simulated strike, inside a
// synctest bubble.
type rig struct {
	t      *testing.T
	ctrl   *controller.Controller
	strike *sim.Relay
	taps   chan doorio.TapRecord
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, strike: sim.NewRelay(door, nil), taps: make(chan doorio.TapRecord, 16)}
	ctrl, err := controller.New(controller.DefaultConfig(), memstore.New(), doorio.Strikes{door: r.strike}, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller Run = %v", err)
		}
	})
	for _, p := range []struct {
		id   string
		role controller.Role
		card string
	}{{"oki", controller.RoleOfficer, wcard(t, 1004).String()}, {"citra", controller.RoleCoordinator, "CITRA"}} {
		if err := ctrl.AddPerson(t.Context(), controller.Person{ID: p.id, Name: p.id, Roles: []controller.Role{p.role}}, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
			t.Fatal(err)
		}
		if err := ctrl.AssignCard(t.Context(), p.card, p.id, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// run starts h on r's controller and stops it on cleanup.
func (r *rig) run(h *doorio.Hardware) {
	h.Ctrl = r.ctrl
	h.OnTap = func(rec doorio.TapRecord) { r.taps <- rec }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Hardware.Run = %v", err)
		}
	})
}

func (r *rig) nextTap() doorio.TapRecord {
	r.t.Helper()
	select {
	case rec := <-r.taps:
		return rec
	case <-time.After(time.Minute):
		r.t.Fatal("no card read within a minute")
		return doorio.TapRecord{}
	}
}

func wcard(t testing.TB, number uint64) wiegand.Card {
	t.Helper()
	c, err := wiegand.Encode(wiegand.FormatH10301, 12, number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeReader is a CardReader the test drives: cards to read, faults to
// report.
type fakeReader struct {
	cards  chan doorio.Card
	faults chan error
}

func newFakeReader() *fakeReader {
	return &fakeReader{cards: make(chan doorio.Card), faults: make(chan error)}
}

func (f *fakeReader) String() string { return "fake" }

func (f *fakeReader) ReadCards(ctx context.Context, out chan<- doorio.Card, h doorio.Health) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-f.faults:
			h.Fault(err)
		case c := <-f.cards:
			select {
			case out <- c:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// wiegandOpener opens a Dev on a new fake source each time, and hands the
// source to the test.
type wiegandOpener struct {
	sources chan *hwtest.EdgeSource
	opts    *wiegand.Opts
}

func (w *wiegandOpener) open() (*wiegand.Dev, error) {
	src := hwtest.NewEdgeSource("fake-wiegand")
	dev, err := wiegand.New(src, w.opts)
	if err != nil {
		return nil, err
	}
	w.sources <- src
	return dev, nil
}

// TestReaderFailureKeepsOthersWorking has the Wiegand reader's lines fail:
// the failure is counted once, the exit reader keeps working meanwhile, and
// the entry reader works again once reopened.
func TestReaderFailureKeepsOthersWorking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		op := &wiegandOpener{sources: make(chan *hwtest.EdgeSource, 4), opts: &wiegand.Opts{Lengths: []int{26}}}
		exit := newFakeReader()
		h := &doorio.Hardware{Doors: []doorio.Door{{
			Name: door,
			Readers: []doorio.Reader{
				{Name: "entry", Dev: &doorio.Wiegand{Name: "wiegand fake", Open: op.open}},
				{Name: "exit", Dev: exit},
			},
		}}}
		r.run(h)
		src := <-op.sources
		src.Send(wcard(t, 1004), time.Millisecond)
		if rec := r.nextTap(); rec.Reader != "entry" || rec.Result.Decision != controller.Granted || rec.Card.Format != "H10301 26-bit" {
			t.Fatalf("first entry read = %+v, want granted H10301", rec)
		}

		src.Fail(errors.New("line request lost"))
		synctest.Wait()
		if st := h.Stats()[0]; !st.Down || st.Faults != 1 {
			t.Errorf("entry stats after failure = %+v, want down, 1 fault", st)
		}
		exit.cards <- doorio.Card{ID: "CITRA", Format: "test"}
		if rec := r.nextTap(); rec.Reader != "exit" || rec.Result.Decision != controller.Granted || rec.Result.Person != "citra" {
			t.Errorf("exit read while entry is down = %+v, want granted for citra", rec)
		}

		src = <-op.sources // reopened after the retry wait
		synctest.Wait()
		src.Send(wcard(t, 1004), time.Millisecond)
		if rec := r.nextTap(); rec.Reader != "entry" || rec.Result.Person != "oki" {
			t.Errorf("entry read after reopening = %+v, want oki's", rec)
		}
		exit.faults <- errors.New("i2c: nack")
		exit.faults <- errors.New("i2c: nack again")
		exit.faults <- nil
		synctest.Wait()
		want := []doorio.ReaderStats{
			{Door: door, Reader: "entry", Reads: 2, Faults: 1},
			{Door: door, Reader: "exit", Reads: 1, Faults: 1},
		}
		if diff := cmp.Diff(want, h.Stats()); diff != "" {
			t.Errorf("Stats mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestWiegandDiscards counts corrupt frames without turning them into
// cards, and keeps reading.
func TestWiegandDiscards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		op := &wiegandOpener{sources: make(chan *hwtest.EdgeSource, 4), opts: &wiegand.Opts{Lengths: []int{26}}}
		h := &doorio.Hardware{Doors: []doorio.Door{{Name: door, Readers: []doorio.Reader{
			{Name: "entry", Dev: &doorio.Wiegand{Name: "wiegand fake", Open: op.open}},
		}}}}
		r.run(h)
		src := <-op.sources
		bad := wcard(t, 1004)
		bad.Raw ^= 1 // breaks the odd parity bit
		src.Send(bad, time.Millisecond)
		time.Sleep(100 * time.Millisecond) // fake time: past the frame's gap
		src.Send(wcard(t, 1004), time.Millisecond)
		if rec := r.nextTap(); rec.Result.Person != "oki" {
			t.Errorf("read after a corrupt frame = %+v, want oki's", rec)
		}
		time.Sleep(2 * time.Second) // fake time: the stats poll
		if st := h.Stats()[0]; st.Discarded != 1 || st.Reads != 1 {
			t.Errorf("stats = %+v, want 1 discarded, 1 read", st)
		}
	})
}

// patterns is a fake Indicator that records the patterns played.
type patterns struct {
	mu    sync.Mutex
	names []string
}

func (p *patterns) Play(pt indicator.Pattern) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = append(p.names, pt.Name)
	return nil
}

func (p *patterns) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = append(p.names, "off")
	return nil
}

func (p *patterns) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.names)
}

func newInput(t *testing.T, name string, num int) (*hwtest.Pin, *input.Dev) {
	t.Helper()
	pin := hwtest.NewPin(name, num)
	dev, err := input.New(pin, &input.Opts{Pull: gpio.PullDown})
	if err != nil {
		t.Fatal(err)
	}
	return pin, dev
}

// TestSwitchesAndIndicator drives the contact, REX and tamper inputs
// through the input driver on fake pins, and checks the controller's
// view and the indicator's patterns.
func TestSwitchesAndIndicator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		contactPin, contact := newInput(t, "GPIO22", 22)
		rexPin, rex := newInput(t, "GPIO23", 23)
		tamperPin, tamper := newInput(t, "GPIO26", 26)
		entry := newFakeReader()
		ind := &patterns{}
		h := &doorio.Hardware{Doors: []doorio.Door{{
			Name:    door,
			Readers: []doorio.Reader{{Name: "entry", Dev: entry}},
			Contact: contact, REX: rex, Tamper: tamper, Indicator: ind,
			EscortWindow: 30 * time.Second,
		}}}
		r.run(h)
		synctest.Wait()
		status := func() controller.Status {
			st, err := r.ctrl.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return st
		}

		entry.cards <- doorio.Card{ID: "nobody"}
		if rec := r.nextTap(); rec.Result.Reason != controller.ReasonUnknownCard {
			t.Errorf("unknown card = %+v, want unknown_card", rec.Result)
		}
		rexPin.Set(gpio.High) // pressed
		time.Sleep(time.Second)
		if st := status(); st.Doors[0].Lock != "unlocked" {
			t.Errorf("after REX: lock %q, want unlocked", st.Doors[0].Lock)
		}
		rexPin.Set(gpio.Low)
		contactPin.Set(gpio.High) // open
		time.Sleep(time.Second)
		contactPin.Set(gpio.Low) // closed: relocks
		time.Sleep(time.Second)
		if st := status(); st.Doors[0].Lock != "locked" || st.Doors[0].Contact != "closed" {
			t.Errorf("after the door opened and closed: %+v, want locked and closed", st.Doors[0])
		}
		// Locked by NewRelay and by the controller's start, then the REX.
		if got := r.strike.Writes(); !slices.Equal(got, []bool{false, false, true, false}) {
			t.Errorf("strike writes = %v, want locked, locked, unlocked, locked", got)
		}

		tamperPin.Set(gpio.High)
		time.Sleep(2 * time.Second)
		if st := status(); len(st.Alarms) != 1 || st.Alarms[0].Kind != controller.AlarmTamper {
			t.Errorf("after tamper: alarms %+v, want tamper", st.Alarms)
		}
		entry.cards <- doorio.Card{ID: "CITRA"}
		r.nextTap()
		time.Sleep(5 * time.Second) // the granted pattern ends, the alarm shows again
		tamperPin.Set(gpio.Low)
		time.Sleep(2 * time.Second)
		if st := status(); len(st.Alarms) != 0 {
			t.Errorf("after closing the enclosure: alarms %+v, want none", st.Alarms)
		}
		want := []string{"denied", "alarm", "granted", "alarm", "off"}
		if diff := cmp.Diff(want, ind.get()); diff != "" {
			t.Errorf("indicator patterns mismatch (-want +got):\n%s", diff)
		}
	})
}
