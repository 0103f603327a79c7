package relay

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// recordPin is a gpiotest.Pin that also remembers every level written, so a
// test can check the first write, not only the last.
type recordPin struct {
	*gpiotest.Pin
	writes []gpio.Level
	err    error // returned by Out when set
}

func (p *recordPin) Out(l gpio.Level) error {
	if p.err != nil {
		return p.err
	}
	p.writes = append(p.writes, l)
	return p.Pin.Out(l)
}

func newPin(initial gpio.Level) *recordPin {
	return &recordPin{Pin: &gpiotest.Pin{N: "GPIO17", Num: 17, L: initial}}
}

var truthTable = []struct {
	name     string
	opts     Opts
	locked   gpio.Level
	unlocked gpio.Level
}{
	{"strike/active-high", Opts{}, gpio.Low, gpio.High},
	{"strike/active-low", Opts{ActiveLow: true}, gpio.High, gpio.Low},
	{"maglock/active-high", Opts{FailSafe: true}, gpio.High, gpio.Low},
	{"maglock/active-low", Opts{FailSafe: true, ActiveLow: true}, gpio.Low, gpio.High},
}

func TestLifecycle(t *testing.T) {
	for _, tt := range truthTable {
		t.Run(tt.name, func(t *testing.T) {
			// Start at the unlocked level so that New must write.
			p := newPin(tt.unlocked)
			d, err := New(p, &tt.opts)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			if d.Unlocked() {
				t.Errorf("Unlocked() after New = true, want false")
			}
			if err := d.Set(true); err != nil {
				t.Fatalf("Set(true) = %v", err)
			}
			if !d.Unlocked() {
				t.Errorf("Unlocked() after Set(true) = false, want true")
			}
			if err := d.Set(false); err != nil {
				t.Fatalf("Set(false) = %v", err)
			}
			if err := d.Set(true); err != nil {
				t.Fatalf("Set(true) = %v", err)
			}
			if err := d.Halt(); err != nil {
				t.Fatalf("Halt() = %v", err)
			}
			if d.Unlocked() {
				t.Errorf("Unlocked() after Halt = true, want false")
			}
			want := []gpio.Level{tt.locked, tt.unlocked, tt.locked, tt.unlocked, tt.locked}
			if diff := cmp.Diff(want, p.writes); diff != "" {
				t.Errorf("pin writes (-want +got):\n%s", diff)
			}
			if got := p.Read(); got != tt.locked {
				t.Errorf("pin level after Halt = %s, want %s", got, tt.locked)
			}
		})
	}
}

func TestNilOpts(t *testing.T) {
	p := newPin(gpio.High)
	if _, err := New(p, nil); err != nil {
		t.Fatalf("New(nil opts) = %v", err)
	}
	if diff := cmp.Diff([]gpio.Level{gpio.Low}, p.writes); diff != "" {
		t.Errorf("pin writes (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := New(&recordPin{Pin: &gpiotest.Pin{N: "GPIO17"}, err: boom}, nil); !errors.Is(err, boom) {
		t.Errorf("New(failing pin) = %v, want %v", err, boom)
	}
	if _, err := New(nil, nil); err == nil {
		t.Errorf("New(nil pin) = nil error, want an error")
	}

	p := newPin(gpio.Low)
	d, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.err = boom
	err = d.Set(true)
	if !errors.Is(err, boom) {
		t.Errorf("Set(true) = %v, want %v", err, boom)
	}
	if got, want := err.Error(), "relay GPIO17(17): unlock: boom"; got != want {
		t.Errorf("Set(true) error = %q, want %q", got, want)
	}
	if d.Unlocked() {
		t.Errorf("Unlocked() after failed unlock = true, want false")
	}
	if err := d.Halt(); !errors.Is(err, boom) {
		t.Errorf("Halt() = %v, want %v", err, boom)
	}
}

func TestString(t *testing.T) {
	d, err := New(newPin(gpio.Low), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.String(), "relay(GPIO17(17))"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
