//go:build vmtest && linux

package input_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/drivers/gpiocdev"
	"github.com/pintu/pintu/drivers/input"
	"github.com/pintu/pintu/internal/vmtest"
)

// TestVMInput drives gpio-sim lines from the simulator side, as a door
// contact, a REX button and a tamper switch would, and checks what
// drivers/input reports on a line of the GPIO character device (package
// gpiocdev): the bias in the request, the level at start, each settled
// change, and nothing for a bounce that comes back within the debounce
// period.
func TestVMInput(t *testing.T) {
	vmtest.Require(t)
	const debounce = 30 * time.Millisecond
	for _, tc := range []struct {
		line string
		opts input.Opts
		bias gpiocdev.Flags // the flag the request must carry
	}{
		// As config/example.yaml wires them: contact and tamper a closed
		// loop to ground while inactive, REX a button to ground; the
		// tamper loop here with external resistors (pull: none).
		{"GPIO7", input.Opts{Pull: gpio.PullUp, Debounce: debounce}, gpiocdev.FlagBiasPullUp},
		{"GPIO8", input.Opts{Pull: gpio.PullUp, ActiveLow: true, Debounce: debounce}, gpiocdev.FlagBiasPullUp},
		{"GPIO9", input.Opts{Pull: gpio.PullDown, Debounce: debounce}, gpiocdev.FlagBiasPullDown},
		{"GPIO9", input.Opts{Pull: gpio.Float, Debounce: debounce}, gpiocdev.FlagBiasDisabled},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.line, tc.opts.Pull), func(t *testing.T) {
			sim := vmtest.FindLine(t, tc.line)
			// The outside holds the line against the pull asked for, so
			// that the pull after New is New's doing. For none, it must
			// stay where the outside holds it.
			wantUp := tc.opts.Pull == gpio.PullUp
			before := !wantUp
			if tc.opts.Pull == gpio.Float {
				before = true
			}
			if err := sim.SetPull(before); err != nil {
				t.Fatal(err)
			}
			dev, err := input.New(vmtest.Pin(t, tc.line), &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			// The request carried the bias: the kernel reports its flags.
			info, err := sim.Info()
			if err != nil {
				t.Fatal(err)
			}
			const biases = gpiocdev.FlagBiasPullUp | gpiocdev.FlagBiasPullDown | gpiocdev.FlagBiasDisabled
			if info.Flags&biases != tc.bias || info.Flags&gpiocdev.FlagInput == 0 || info.Consumer != "vmtest:"+tc.line {
				t.Errorf("line after New: flags %v, consumer %q; want input with %v, held by vmtest:%s", info.Flags, info.Consumer, tc.bias, tc.line)
			}
			// gpio-sim holds a pull-up or pull-down as its pull; it ignores
			// a disabled bias (a Pi's pin controller switches its resistor
			// off), so for none the outside's level stays.
			want := wantUp
			if tc.opts.Pull == gpio.Float {
				want = before
			}
			if up, err := sim.Pull(); err != nil || up != want {
				t.Fatalf("simulator pull after New = up %v (%v), want up %v", up, err, want)
			}
			// set drives the line and returns the time just before: the
			// edge happens after it.
			set := func(high bool) time.Time {
				t.Helper()
				before := time.Now()
				if err := sim.SetPull(high); err != nil {
					t.Fatal(err)
				}
				return before
			}
			idle := tc.opts.ActiveLow // the pin level that reads inactive
			set(idle)

			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan bool, 16)
			done := make(chan error, 1)
			go func() { done <- dev.Run(ctx, out) }()
			defer func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run = %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Error("Run did not return within 5s of cancel")
				}
			}()
			recv := func(what string) (bool, time.Time) {
				t.Helper()
				select {
				case v := <-out:
					return v, time.Now()
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: no report within 5s", what)
				}
				return false, time.Time{}
			}
			quiet := func(what string, d time.Duration) {
				t.Helper()
				select {
				case v := <-out:
					t.Fatalf("%s: reported %v, want nothing", what, v)
				case <-time.After(d):
				}
			}

			if v, _ := recv("initial level"); v != false {
				t.Fatalf("initial level = %v, want false (inactive)", v)
			}
			// A clean change: reported once, after the debounce period.
			at := set(!idle)
			v, got := recv("activate")
			if !v {
				t.Fatalf("after the line went %s: reported %v, want true", level(!idle), v)
			}
			if d := got.Sub(at); d < debounce {
				t.Errorf("reported %v after the edge, before the %v debounce period", d, debounce)
			}
			quiet("after activate", 3*debounce)

			// Contact bounce: edges closer than the debounce period, ending
			// inactive. One report, after the last edge has settled.
			for i, high := 0, idle; i < 6; i, high = i+1, !high {
				set(high)
				time.Sleep(debounce / 6)
			}
			last := set(idle)
			v, got = recv("bounce to inactive")
			if v {
				t.Fatalf("after a bounce ending inactive: reported %v, want false", v)
			}
			if d := got.Sub(last); d < debounce {
				t.Errorf("reported %v after the last bounce, before the %v debounce period", d, debounce)
			}
			quiet("after the bounce", 3*debounce)

			// A glitch that comes back within the debounce period: no report.
			set(!idle)
			time.Sleep(debounce / 4)
			set(idle)
			quiet("after a glitch", 4*debounce)

			// Halt stops Run.
			if err := dev.Halt(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				done <- err
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5s of Halt")
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
