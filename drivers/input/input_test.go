package input

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// step changes the pin at a time since Run started. A silent step changes
// the level without an edge, as when the kernel loses one.
type step struct {
	at     time.Duration
	level  gpio.Level
	silent bool
}

// report is one value Run sent, with when it was sent.
type report struct {
	At     time.Duration
	Active bool
}

const ms = time.Millisecond

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		opts    *Opts // nil: DefaultOpts (pull-up, active low, 20ms, 250ms)
		initial gpio.Level
		steps   []step
		want    []report
	}{
		{
			name: "idle",
			want: []report{{0, false}},
		},
		{
			name:  "clean press",
			steps: []step{{at: 1000 * ms, level: gpio.Low}},
			want:  []report{{0, false}, {1020 * ms, true}},
		},
		{
			name: "bouncy press",
			steps: []step{
				{at: 1000 * ms, level: gpio.Low},
				{at: 1002 * ms, level: gpio.High},
				{at: 1005 * ms, level: gpio.Low},
				{at: 1011 * ms, level: gpio.High},
				{at: 1012 * ms, level: gpio.Low},
			},
			want: []report{{0, false}, {1032 * ms, true}},
		},
		{
			name: "glitch",
			steps: []step{
				{at: 1000 * ms, level: gpio.Low},
				{at: 1005 * ms, level: gpio.High},
			},
			want: []report{{0, false}},
		},
		{
			name: "press and release",
			steps: []step{
				{at: 1000 * ms, level: gpio.Low},
				{at: 2000 * ms, level: gpio.High},
				{at: 2001 * ms, level: gpio.Low},
				{at: 2003 * ms, level: gpio.High},
			},
			want: []report{{0, false}, {1020 * ms, true}, {2023 * ms, false}},
		},
		{
			name:  "lost edge found by poll",
			steps: []step{{at: 1100 * ms, level: gpio.Low, silent: true}},
			// Polls end at 250ms multiples; 1250ms sees Low, 1270ms reports.
			want: []report{{0, false}, {1270 * ms, true}},
		},
		{
			name:  "active high with pull-down",
			opts:  &Opts{Pull: gpio.PullDown},
			steps: []step{{at: 500 * ms, level: gpio.High}},
			want:  []report{{0, false}, {520 * ms, true}},
		},
		{
			name:    "no pull keeps level, custom debounce",
			opts:    &Opts{ActiveLow: true, Debounce: 50 * ms},
			initial: gpio.Low,
			steps:   []step{{at: 500 * ms, level: gpio.High}},
			want:    []report{{0, true}, {550 * ms, false}},
		},
	}
	tests = append(tests, chatterTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := &gpiotest.Pin{N: "GPIO22", Num: 22, L: tt.initial, EdgesChan: make(chan gpio.Level)}
				d, err := New(pin, tt.opts)
				if err != nil {
					t.Fatalf("New() = %v", err)
				}
				got := runFor(t, d, 4*time.Second, func(start time.Time) {
					for _, s := range tt.steps {
						time.Sleep(s.at - time.Since(start))
						if s.silent {
							pin.Lock()
							pin.L = s.level
							pin.Unlock()
						} else {
							pin.EdgesChan <- s.level
						}
					}
				})
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Run reports (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// chatter is a pin toggling every period from..to, mains hum on a long
// cable run: its last edge, at to, leaves it at last.
func chatter(from, to, period time.Duration, last gpio.Level) []step {
	var steps []step
	n := int((to - from) / period)
	for i := 0; i <= n; i++ {
		l := last
		if (n-i)%2 == 1 {
			l = !last
		}
		steps = append(steps, step{at: from + time.Duration(i)*period, level: l})
	}
	return steps
}

// Contacts and tamper switches here are closed (Low, inactive) when shut:
// a cut wire or an open door reads High, active, as config's defaults wire
// them. The pull is left alone so that the test sets the initial level.
var (
	contactOpts = &Opts{Chatter: ChatterActive}
	rexOpts     = &Opts{ActiveLow: true}
)

var chatterTests = []struct {
	name    string
	opts    *Opts
	initial gpio.Level
	steps   []step
	want    []report
}{
	{
		// Hum on the tamper loop from 1 s to 3 s, 10 ms edges: after
		// 500 ms of it the input reads as tampered, and it reads shut again
		// 20 ms after the hum stops with the loop closed.
		name:  "chattering tamper counts as tamper",
		opts:  contactOpts,
		steps: chatter(1000*ms, 3000*ms, 10*ms, gpio.Low),
		want:  []report{{0, false}, {1500 * ms, true}, {3020 * ms, false}},
	},
	{
		// Chatter cannot hide a door forced open under it.
		name:  "chattering contact reads open, and stays open",
		opts:  contactOpts,
		steps: chatter(1000*ms, 3000*ms, 10*ms, gpio.High),
		want:  []report{{0, false}, {1500 * ms, true}},
	},
	{
		name:    "chatter on an open contact changes nothing",
		opts:    contactOpts,
		initial: gpio.High,
		steps:   chatter(1000*ms, 3000*ms, 10*ms, gpio.High),
		want:    []report{{0, true}},
	},
	{
		// A chattering REX line must never release the door.
		name:    "chattering rex stays released",
		opts:    rexOpts,
		initial: gpio.High,
		steps:   chatter(1000*ms, 3000*ms, 10*ms, gpio.High),
		want:    []report{{0, false}},
	},
	{
		name:    "chattering rex held pressed reads released, then pressed once settled",
		opts:    rexOpts,
		initial: gpio.Low,
		steps:   chatter(1000*ms, 3000*ms, 10*ms, gpio.Low),
		want:    []report{{0, true}, {1500 * ms, false}, {3020 * ms, true}},
	},
	{
		// Bounce shorter than MaxSettle is ordinary debouncing.
		name:  "long bounce within the cap",
		opts:  contactOpts,
		steps: chatter(1000*ms, 1400*ms, 10*ms, gpio.High),
		want:  []report{{0, false}, {1420 * ms, true}},
	},
	{
		name:  "custom cap",
		opts:  &Opts{Chatter: ChatterActive, MaxSettle: 100 * ms},
		steps: chatter(1000*ms, 3000*ms, 10*ms, gpio.Low),
		want:  []report{{0, false}, {1100 * ms, true}, {3020 * ms, false}},
	},
}

// runFor runs d for total (fake) time, calling drive in the test goroutine
// meanwhile, and returns what Run sent. It fails t if Run returns an error.
func runFor(t *testing.T, d *Dev, total time.Duration, drive func(start time.Time)) []report {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan bool, 16)
	var got []report
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for v := range out {
			got = append(got, report{time.Since(start), v})
		}
	}()
	ran := make(chan error)
	go func() { ran <- d.Run(ctx, out) }()
	drive(start)
	time.Sleep(total - time.Since(start))
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	close(out)
	<-collected
	return got
}

func TestHalt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "GPIO22", EdgesChan: make(chan gpio.Level)}
		d, err := New(pin, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan bool, 1)
		ran := make(chan error, 1)
		go func() { ran <- d.Run(t.Context(), out) }()
		<-out
		if err := d.Run(t.Context(), out); err == nil {
			t.Errorf("second concurrent Run() = nil, want an error")
		}
		start := time.Now()
		if err := d.Halt(); err != nil {
			t.Errorf("Halt() = %v", err)
		}
		synctest.Wait() // let the goroutine above pass Run's result on
		select {
		case err := <-ran:
			if err != nil {
				t.Errorf("Run() after Halt = %v, want nil", err)
			}
		default:
			t.Fatalf("Run still running after Halt returned")
		}
		if el := time.Since(start); el > DefaultOpts.Poll {
			t.Errorf("Halt took %v, want at most %v", el, DefaultOpts.Poll)
		}
		// Halt with nothing running is a no-op, and Run works again.
		if err := d.Halt(); err != nil {
			t.Errorf("idle Halt() = %v", err)
		}
		go func() { ran <- d.Run(t.Context(), out) }()
		if got := <-out; got != false {
			t.Errorf("restarted Run first report = %t, want false", got)
		}
		d.Halt()
		<-ran
	})
}

// A Run blocked on a full out channel still stops on cancellation.
func TestBlockedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "GPIO22", EdgesChan: make(chan gpio.Level)}
		d, err := New(pin, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error)
		go func() { ran <- d.Run(ctx, make(chan bool)) }()
		synctest.Wait()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}

type failPin struct {
	gpiotest.Pin
	err error
}

func (p *failPin) In(gpio.Pull, gpio.Edge) error { return p.err }

func TestNew(t *testing.T) {
	boom := errors.New("boom")
	_, err := New(&failPin{Pin: gpiotest.Pin{N: "GPIO5", Num: 5}, err: boom}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("New(failing pin) = %v, want %v", err, boom)
	}
	if got, want := err.Error(), "input GPIO5(5): configure: boom"; got != want {
		t.Errorf("New(failing pin) error = %q, want %q", got, want)
	}
	if _, err := New(nil, nil); err == nil {
		t.Errorf("New(nil) = nil error, want an error")
	}
	if _, err := New(&gpiotest.Pin{EdgesChan: make(chan gpio.Level)}, &Opts{Poll: -1}); err == nil {
		t.Errorf("New(Poll: -1) = nil error, want an error")
	}
	if _, err := New(&gpiotest.Pin{EdgesChan: make(chan gpio.Level)}, &Opts{Debounce: time.Second, MaxSettle: 100 * time.Millisecond}); err == nil {
		t.Errorf("New(MaxSettle < Debounce) = nil error, want an error")
	}
	for _, tc := range []struct{ debounce, want time.Duration }{{0, 500 * time.Millisecond}, {time.Second, 2 * time.Second}} {
		d, err := New(&gpiotest.Pin{EdgesChan: make(chan gpio.Level)}, &Opts{Debounce: tc.debounce})
		if err != nil || d.opts.MaxSettle != tc.want {
			t.Errorf("New(Debounce: %v): MaxSettle = %v, %v; want %v", tc.debounce, d.opts.MaxSettle, err, tc.want)
		}
	}

	pin := &gpiotest.Pin{N: "GPIO5", Num: 5, EdgesChan: make(chan gpio.Level)}
	d, err := New(pin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullUp {
		t.Errorf("pull after New(nil opts) = %s, want %s", pin.P, gpio.PullUp)
	}
	if got, want := d.String(), "input(GPIO5(5))"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
