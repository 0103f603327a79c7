//go:build vmtest && linux

package relay_test

import (
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/drivers/relay"
	"github.com/pintu/pintu/internal/vmtest"
)

// TestVMRelay drives gpio-sim lines through periph.io's character-device
// driver and reads the level the simulator sees, for every wiring of the
// package documentation's table.
func TestVMRelay(t *testing.T) {
	vmtest.Require(t)
	for _, tc := range []struct {
		line             string
		opts             relay.Opts
		locked, unlocked bool // the pin level, true for High
	}{
		{"relay-a", relay.Opts{}, false, true},
		{"relay-b", relay.Opts{ActiveLow: true}, true, false},
		{"relay-a", relay.Opts{FailSafe: true}, true, false},
		{"relay-b", relay.Opts{FailSafe: true, ActiveLow: true}, false, true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			sim := vmtest.FindLine(t, tc.line)
			pin := vmtest.Pin(t, tc.line)
			check := func(when string, want bool) {
				t.Helper()
				got, err := sim.Value()
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%+v: %s: simulator reads %v, want %v", tc.opts, when, level(got), level(want))
				}
			}
			// Make the line read the unlocked level first, so that the
			// locked level after New is New's doing. On an input line the
			// simulator's pull sets the value.
			if err := pin.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
				t.Fatal(err)
			}
			if err := sim.SetPull(tc.unlocked); err != nil {
				t.Fatal(err)
			}
			check("before New", tc.unlocked)

			r, err := relay.New(pin, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			check("after New", tc.locked)
			if err := r.Set(true); err != nil {
				t.Fatal(err)
			}
			check("after Set(true)", tc.unlocked)
			if !r.Unlocked() {
				t.Error("Unlocked() = false after Set(true)")
			}
			if err := r.Set(false); err != nil {
				t.Fatal(err)
			}
			check("after Set(false)", tc.locked)
			if err := r.Set(true); err != nil {
				t.Fatal(err)
			}
			if err := r.Halt(); err != nil {
				t.Fatal(err)
			}
			check("after Halt", tc.locked)
			if r.Unlocked() {
				t.Error("Unlocked() = true after Halt")
			}
		})
	}
}

func level(high bool) string {
	if high {
		return "High"
	}
	return "Low"
}
