//go:build vmtest && linux

package gpiocdev_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"

	"github.com/pintu/pintu/drivers/gpiocdev"
	"github.com/pintu/pintu/internal/vmtest"
)

// These tests request lines of the VM's gpio-sim chips, named like a
// Raspberry Pi's, and check what the kernel does with each request:
// gpiolib's trace of the levels it sets, the flags GPIO_V2_GET_LINEINFO
// reports, and the simulator's pull.

// TestVMChips: the chips and line names are the kernel's, and a name is
// found on whichever chip has it, here not gpiochip0.
func TestVMChips(t *testing.T) {
	vmtest.Require(t)
	chips, err := gpiocdev.Chips("/dev")
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range chips {
		labels = append(labels, c.Label)
	}
	for _, sc := range vmtest.Chips {
		i := slices.Index(labels, sc.Label)
		if i < 0 {
			t.Fatalf("no chip labelled %q among %v", sc.Label, labels)
		}
		if !slices.Equal(chips[i].Lines, sc.Lines) {
			t.Errorf("chip %s lines = %v, want %v", chips[i].Name, chips[i].Lines, sc.Lines)
		}
	}
	sim := vmtest.FindLine(t, "GPIO17")
	loc, err := gpiocdev.Lookup(chips, "", "GPIO17")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Chip != sim.Chip || loc.Offset != 17 || loc.Label != "pinctrl-bcm2711" || loc.Chip == "gpiochip0" {
		t.Errorf("Lookup(GPIO17) = %+v, want %s offset 17 (not gpiochip0)", loc, sim.Chip)
	}
	if _, err := gpiocdev.Lookup(chips, "", "GPIO58"); !errors.Is(err, gpiocdev.ErrNotFound) || !strings.Contains(err.Error(), "BT_ON") {
		t.Errorf("Lookup(GPIO58) = %v, want not found, listing the lines", err)
	}
}

// TestVMOutputAtLevel: a Line's first Out makes it an output at that level
// in one driver call: the kernel's trace shows that level set with the
// direction, and no other before it.
func TestVMOutputAtLevel(t *testing.T) {
	vmtest.Require(t)
	sim := vmtest.FindLine(t, "GPIO10")
	for _, level := range []gpio.Level{gpio.High, gpio.Low} {
		t.Run(level.String(), func(t *testing.T) {
			// Outside, the line is pulled to the same level: any other
			// level driven during the request would be a glitch.
			if err := sim.SetPull(bool(level)); err != nil {
				t.Fatal(err)
			}
			trace := vmtest.StartTrace(t)
			l := vmtest.Pin(t, "GPIO10")
			if err := l.Out(level); err != nil {
				t.Fatal(err)
			}
			want := []vmtest.TraceEvent{{Kind: "set", Value: bit(level)}, {Kind: "out"}}
			if got := trace.Events(sim); !slices.Equal(got, want) {
				t.Errorf("kernel events of Out(%v) = %v, want %v", level, got, want)
			}
			if v, err := sim.Value(); err != nil || v != bool(level) {
				t.Errorf("simulator reads %v (%v), want %v", v, err, level)
			}
			info, err := sim.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.Flags&(gpiocdev.FlagUsed|gpiocdev.FlagOutput) != gpiocdev.FlagUsed|gpiocdev.FlagOutput || info.Consumer != "vmtest:GPIO10" {
				t.Errorf("line info = %+v, want used, output, held by vmtest:GPIO10", info)
			}
			// Released, the line is free again.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if info, err := sim.Info(); err != nil || info.Flags&gpiocdev.FlagUsed != 0 {
				t.Errorf("line info after Close = %+v, %v; want free", info, err)
			}
		})
	}
}

// TestVMPeriphGlitches is the control of the check above: periph's
// gpioioctl requests the line, then writes the level, and the kernel
// drives it low in between. For a relay locked high (active low, or a
// fail-safe lock) that is a release. This is why pintud does not use it.
func TestVMPeriphGlitches(t *testing.T) {
	vmtest.Require(t)
	sim := vmtest.FindLine(t, "GPIO11")
	if err := sim.SetPull(true); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Init(); err != nil {
		t.Fatal(err)
	}
	var line *gpioioctl.GPIOLine
	for _, c := range gpioioctl.Chips {
		if l := c.ByName("GPIO11"); l != nil {
			line = l
		}
	}
	if line == nil {
		t.Fatal("periph's gpioioctl has no line GPIO11")
	}
	trace := vmtest.StartTrace(t)
	if err := line.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { line.Close() })
	got := trace.Levels(sim)
	if !slices.Equal(got, []int{0, 1}) {
		t.Errorf("levels the kernel set for periph's Out(High) = %v, want [0 1]: low first, then high", got)
	}
	t.Logf("periph gpioioctl Out(High): kernel events %v", trace.Events(sim))
}

// TestVMBias: each pull reaches the kernel as its bias flag, and gpio-sim
// holds pull-up and pull-down as its pull. A disabled bias is recorded
// (gpio-sim cannot switch a pull off, and ignores it; a Pi's pin
// controller does); the pull the outside holds stays.
func TestVMBias(t *testing.T) {
	vmtest.Require(t)
	sim := vmtest.FindLine(t, "GPIO12")
	l := vmtest.Pin(t, "GPIO12")
	const biases = gpiocdev.FlagBiasPullUp | gpiocdev.FlagBiasPullDown | gpiocdev.FlagBiasDisabled
	for _, tc := range []struct {
		pull   gpio.Pull
		flag   gpiocdev.Flags
		before bool // the simulator's pull before
		up     bool // and after
	}{
		{gpio.PullUp, gpiocdev.FlagBiasPullUp, false, true},
		{gpio.PullDown, gpiocdev.FlagBiasPullDown, true, false},
		{gpio.Float, gpiocdev.FlagBiasDisabled, true, true},
		{gpio.Float, gpiocdev.FlagBiasDisabled, false, false},
		{gpio.PullNoChange, 0, true, true},
	} {
		if err := sim.SetPull(tc.before); err != nil {
			t.Fatal(err)
		}
		if err := l.In(tc.pull, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
		info, err := sim.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Flags&biases != tc.flag || info.Flags&gpiocdev.FlagInput == 0 {
			t.Errorf("In(%v): kernel flags %v, want input and %v", tc.pull, info.Flags, tc.flag)
		}
		if up, err := sim.Pull(); err != nil || up != tc.up {
			t.Errorf("In(%v) from pull-up %v: simulator pull-up %v (%v), want %v", tc.pull, tc.before, up, err, tc.up)
		}
		if got := l.Read(); got != gpio.Level(tc.up) {
			t.Errorf("In(%v): Read = %v, want %v", tc.pull, got, gpio.Level(tc.up))
		}
	}
}

// TestVMBusy: a line another program holds is refused, naming the line,
// its chip and the holder; once released it can be had.
func TestVMBusy(t *testing.T) {
	vmtest.Require(t)
	sim := vmtest.FindLine(t, "GPIO13")
	holder, err := gpiocdev.RequestLines("/dev/"+sim.Chip, []int{13}, gpiocdev.Config{Consumer: "other-program", Flags: gpiocdev.FlagInput})
	if err != nil {
		t.Fatal(err)
	}
	l := vmtest.Pin(t, "GPIO13")
	err = l.Out(gpio.Low)
	want := `GPIO13 (` + sim.Chip + `:13) is held by "other-program"`
	if !errors.Is(err, gpiocdev.ErrBusy) || !strings.Contains(err.Error(), want) {
		t.Errorf("Out on a held line = %v, want ErrBusy saying %s", err, want)
	}
	if info, err := sim.Info(); err != nil || info.Consumer != "other-program" {
		t.Errorf("line info = %+v, %v; want held by other-program", info, err)
	}
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	if err := holder.Close(); !errors.Is(err, gpiocdev.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := l.Out(gpio.Low); err != nil {
		t.Errorf("Out once released = %v", err)
	}
}

func bit(l gpio.Level) int {
	if l {
		return 1
	}
	return 0
}
