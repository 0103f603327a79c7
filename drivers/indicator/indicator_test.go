package indicator

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

const ms = time.Millisecond

// write is one pin write seen by a recorder.
type write struct {
	At    time.Duration
	Pin   string
	Level gpio.Level
}

// recorder logs the writes of several pins against one start time.
type recorder struct {
	mu     sync.Mutex
	start  time.Time
	writes []write
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start = time.Now()
	r.writes = nil
}

func (r *recorder) log() []write {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]write(nil), r.writes...)
}

// recPin is a gpiotest.Pin whose writes go to a recorder; Out fails with
// err once err is set.
type recPin struct {
	*gpiotest.Pin
	rec *recorder
	mu  sync.Mutex
	err error
}

func (p *recPin) Out(l gpio.Level) error {
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	if err != nil {
		return err
	}
	p.rec.mu.Lock()
	p.rec.writes = append(p.rec.writes, write{time.Since(p.rec.start), p.N, l})
	p.rec.mu.Unlock()
	return p.Pin.Out(l)
}

func (p *recPin) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func newPins(rec *recorder) (led, buzzer *recPin) {
	return &recPin{Pin: &gpiotest.Pin{N: "led"}, rec: rec},
		&recPin{Pin: &gpiotest.Pin{N: "buzzer"}, rec: rec}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		name     string
		p        Pattern
		beeps    int           // buzzer off-to-on changes in one pass
		flashes  int           // LED off-to-on changes in one pass
		lit      time.Duration // LED on time in one pass
		duration time.Duration
		repeat   bool
		limit    time.Duration
	}{
		{"granted", Granted(), 1, 1, 2 * time.Second, 2 * time.Second, false, 0},
		{"denied", Denied(), 3, 0, 0, 600 * ms, false, 0},
		{"waiting", Waiting(time.Minute), 0, 1, 500 * ms, time.Second, true, time.Minute},
		{"alarm", Alarm(), 1, 1, 125 * ms, 250 * ms, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.validate(); err != nil {
				t.Fatalf("validate() = %v", err)
			}
			if tt.p.Name != tt.name {
				t.Errorf("Name = %q, want %q", tt.p.Name, tt.name)
			}
			var beeps, flashes int
			var lit time.Duration
			var prev Step // outputs start off
			for _, s := range tt.p.Steps {
				if s.Buzzer && !prev.Buzzer {
					beeps++
				}
				if s.LED && !prev.LED {
					flashes++
				}
				if s.LED {
					lit += s.D
				}
				prev = s
			}
			got := []any{beeps, flashes, lit, tt.p.Duration(), tt.p.Repeat, tt.p.Limit}
			want := []any{tt.beeps, tt.flashes, tt.lit, tt.duration, tt.repeat, tt.limit}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[beeps flashes lit duration repeat limit] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p    Pattern
		want string // error text; empty for none
	}{
		{Pattern{Name: "ok", Steps: []Step{{D: ms}}}, ""},
		{Pattern{Name: "empty"}, `indicator: pattern "empty": no steps`},
		{Pattern{Name: "zero", Steps: []Step{{D: ms}, {LED: true}}}, `indicator: pattern "zero": step 1: duration 0s is not positive`},
		{Pattern{Name: "neg", Steps: []Step{{D: ms}}, Limit: -ms}, `indicator: pattern "neg": negative limit -1ms`},
	}
	for _, tt := range tests {
		err := tt.p.validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q.validate() = %q, want %q", tt.p.Name, got, tt.want)
		}
	}
}

func TestPlay(t *testing.T) {
	tests := []struct {
		name  string
		opts  *Opts
		drive func(d *Dev) error // runs in the bubble, starting at 0
		want  []write
	}{
		{
			name:  "granted",
			drive: func(d *Dev) error { return d.Play(Granted()) },
			want: []write{
				{0, "led", gpio.High}, {0, "buzzer", gpio.High},
				{100 * ms, "buzzer", gpio.Low},
				{2000 * ms, "led", gpio.Low},
			},
		},
		{
			name:  "granted active low",
			opts:  &Opts{LEDActiveLow: true, BuzzerActiveLow: true},
			drive: func(d *Dev) error { return d.Play(Granted()) },
			want: []write{
				{0, "led", gpio.Low}, {0, "buzzer", gpio.Low},
				{100 * ms, "buzzer", gpio.High},
				{2000 * ms, "led", gpio.High},
			},
		},
		{
			name:  "denied",
			drive: func(d *Dev) error { return d.Play(Denied()) },
			want: []write{
				{0, "buzzer", gpio.High}, {100 * ms, "buzzer", gpio.Low},
				{200 * ms, "buzzer", gpio.High}, {300 * ms, "buzzer", gpio.Low},
				{400 * ms, "buzzer", gpio.High}, {500 * ms, "buzzer", gpio.Low},
			},
		},
		{
			name:  "waiting times out",
			drive: func(d *Dev) error { return d.Play(Waiting(2250 * ms)) },
			want: []write{
				{0, "led", gpio.High}, {500 * ms, "led", gpio.Low},
				{1000 * ms, "led", gpio.High}, {1500 * ms, "led", gpio.Low},
				{2000 * ms, "led", gpio.High}, {2250 * ms, "led", gpio.Low},
			},
		},
		{
			name: "waiting cancelled by Halt",
			drive: func(d *Dev) error {
				if err := d.Play(Waiting(0)); err != nil {
					return err
				}
				time.Sleep(1200 * ms)
				return d.Halt()
			},
			want: []write{
				{0, "led", gpio.High}, {500 * ms, "led", gpio.Low},
				{1000 * ms, "led", gpio.High}, {1200 * ms, "led", gpio.Low},
			},
		},
		{
			name: "alarm until halted",
			drive: func(d *Dev) error {
				if err := d.Play(Alarm()); err != nil {
					return err
				}
				time.Sleep(560 * ms)
				return d.Halt()
			},
			want: []write{
				{0, "led", gpio.High}, {0, "buzzer", gpio.High},
				{125 * ms, "led", gpio.Low}, {125 * ms, "buzzer", gpio.Low},
				{250 * ms, "led", gpio.High}, {250 * ms, "buzzer", gpio.High},
				{375 * ms, "led", gpio.Low}, {375 * ms, "buzzer", gpio.Low},
				{500 * ms, "led", gpio.High}, {500 * ms, "buzzer", gpio.High},
				{560 * ms, "led", gpio.Low}, {560 * ms, "buzzer", gpio.Low},
			},
		},
		{
			name: "granted replaces alarm",
			drive: func(d *Dev) error {
				if err := d.Play(Alarm()); err != nil {
					return err
				}
				time.Sleep(300 * ms)
				// Both outputs are already on: granted's first step writes nothing.
				return d.Play(Granted())
			},
			want: []write{
				{0, "led", gpio.High}, {0, "buzzer", gpio.High},
				{125 * ms, "led", gpio.Low}, {125 * ms, "buzzer", gpio.Low},
				{250 * ms, "led", gpio.High}, {250 * ms, "buzzer", gpio.High},
				{400 * ms, "buzzer", gpio.Low},
				{2300 * ms, "led", gpio.Low},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				led, buzzer := newPins(rec)
				d, err := New(led, buzzer, tt.opts)
				if err != nil {
					t.Fatalf("New() = %v", err)
				}
				t.Cleanup(func() { d.Halt() })
				rec.reset()
				if err := tt.drive(d); err != nil {
					t.Fatalf("drive = %v", err)
				}
				time.Sleep(10 * time.Second)
				if diff := cmp.Diff(tt.want, rec.log()); diff != "" {
					t.Errorf("pin writes (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestNew(t *testing.T) {
	rec := &recorder{}
	led, buzzer := newPins(rec)
	rec.reset()
	d, err := New(led, buzzer, nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	want := []write{{0, "led", gpio.Low}, {0, "buzzer", gpio.Low}}
	if diff := cmp.Diff(want, rec.log(), cmp.Transformer("noTime", func(w write) write { w.At = 0; return w })); diff != "" {
		t.Errorf("writes at New (-want +got):\n%s", diff)
	}
	if got, want := d.String(), "indicator(led=led(0), buzzer=buzzer(0))"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}

	if _, err := New(nil, nil, nil); err == nil {
		t.Errorf("New(nil, nil) = nil error, want an error")
	}
	boom := errors.New("boom")
	led.fail(boom)
	if _, err := New(led, buzzer, nil); !errors.Is(err, boom) {
		t.Errorf("New(failing led) = %v, want %v", err, boom)
	}
}

// An absent output is skipped, and its steps are still timed.
func TestBuzzerOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		_, buzzer := newPins(rec)
		d, err := New(nil, buzzer, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.String(), "indicator(led=none, buzzer=buzzer(0))"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		rec.reset()
		if err := d.Play(Granted()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		want := []write{{0, "buzzer", gpio.High}, {100 * ms, "buzzer", gpio.Low}}
		if diff := cmp.Diff(want, rec.log()); diff != "" {
			t.Errorf("pin writes (-want +got):\n%s", diff)
		}
	})
}

func TestErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		rec := &recorder{}
		led, buzzer := newPins(rec)
		d, err := New(led, buzzer, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Halt() })

		if err := d.Play(Pattern{Name: "bad"}); err == nil {
			t.Errorf("Play(no steps) = nil, want an error")
		}

		// A failure on the first step comes back from Play.
		buzzer.fail(boom)
		err = d.Play(Denied())
		if !errors.Is(err, boom) {
			t.Fatalf("Play(denied) with failing buzzer = %v, want %v", err, boom)
		}
		if got, want := err.Error(), `indicator: play "denied": buzzer buzzer(0): boom`; got != want {
			t.Errorf("Play(denied) error = %q, want %q", got, want)
		}
		buzzer.fail(nil)

		// A later failure stops the pattern and comes back from the next call.
		if err := d.Play(Alarm()); err != nil {
			t.Fatalf("Play(alarm) = %v", err)
		}
		led.fail(boom)
		time.Sleep(time.Second)
		rec.reset()
		led.fail(nil)
		time.Sleep(time.Second)
		if got := rec.log(); len(got) != 0 {
			t.Errorf("writes after a failed step = %v, want none", got)
		}
		if err := d.Halt(); !errors.Is(err, boom) || !strings.Contains(err.Error(), `play "alarm"`) {
			t.Errorf("Halt() after failed step = %v, want %v from alarm", err, boom)
		}
		if err := d.Halt(); err != nil {
			t.Errorf("second Halt() = %v, want nil", err)
		}
	})
}
