//go:build vmtest && linux

package relay_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pintu/pintu/drivers/relay"
	"github.com/pintu/pintu/internal/vmtest"
)

// TestVMRelay drives gpio-sim lines named like a Pi's through the GPIO
// character device (package gpiocdev, as pintud does) and checks, for
// every wiring of the package documentation's table, the level the
// simulator sees, and in gpiolib's trace every level the kernel set on
// the line: from New on, the locked level, with the request itself
// driving it (never the kernel's default low first).
func TestVMRelay(t *testing.T) {
	vmtest.Require(t)
	for _, tc := range []struct {
		line             string
		opts             relay.Opts
		locked, unlocked bool // the pin level, true for High
	}{
		{"GPIO2", relay.Opts{}, false, true},
		{"GPIO3", relay.Opts{ActiveLow: true}, true, false},
		{"GPIO2", relay.Opts{FailSafe: true}, true, false},
		{"GPIO3", relay.Opts{FailSafe: true, ActiveLow: true}, false, true},
	} {
		t.Run(fmt.Sprintf("%s/%+v", tc.line, tc.opts), func(t *testing.T) {
			sim := vmtest.FindLine(t, tc.line)
			check := func(when string, want bool) {
				t.Helper()
				got, err := sim.Value()
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s: simulator reads %v, want %v", when, level(got), level(want))
				}
			}
			// Before New the line is not requested and reads its pull:
			// make that the unlocked level, so that the locked level after
			// New is New's doing.
			if err := sim.SetPull(tc.unlocked); err != nil {
				t.Fatal(err)
			}
			check("before New", tc.unlocked)
			trace := vmtest.StartTrace(t)
			pin := vmtest.Pin(t, tc.line)

			r, err := relay.New(pin, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			check("after New", tc.locked)
			// One driver call made the line an output at the locked
			// level: gpiolib's "set L" then "out".
			locked := bit(tc.locked)
			if got, want := trace.Events(sim), []vmtest.TraceEvent{{Kind: "set", Value: locked}, {Kind: "out"}}; !slices.Equal(got, want) {
				t.Errorf("kernel events of New = %v, want %v: the request at the locked level", got, want)
			}
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
			unlocked := bit(tc.unlocked)
			if got, want := trace.Levels(sim), []int{locked, unlocked, locked, unlocked, locked}; !slices.Equal(got, want) {
				t.Errorf("levels the kernel set = %v, want %v", got, want)
			}
		})
	}
}

func bit(high bool) int {
	if high {
		return 1
	}
	return 0
}

func level(high bool) string {
	if high {
		return "High"
	}
	return "Low"
}
