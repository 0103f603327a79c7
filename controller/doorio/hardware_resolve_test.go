package doorio_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/drivers/gpiocdev"
)

// fakeChips is a Raspberry Pi 4's GPIO chips, with GPIO18 held by another
// program, as the kernel would report them.
func fakeChips() *doorio.ChardevResolver {
	names := make([]string, 58)
	for i := range names {
		names[i] = fmt.Sprintf("GPIO%d", i)
	}
	chips := []gpiocdev.Chip{
		{Path: "/dev/gpiochip0", Name: "gpiochip0", Label: "pinctrl-bcm2711", Lines: names},
		{Path: "/dev/gpiochip1", Name: "gpiochip1", Label: "raspberrypi-exp-gpio", Lines: []string{"BT_ON", "WL_ON", "", ""}},
	}
	return &doorio.ChardevResolver{
		Chips: func() ([]gpiocdev.Chip, error) { return chips, nil },
		Info: func(path string, offset int) (gpiocdev.LineInfo, error) {
			info := gpiocdev.LineInfo{Offset: offset}
			for _, c := range chips {
				if c.Path == path {
					info.Name = c.Lines[offset]
				}
			}
			if path == "/dev/gpiochip0" && offset == 18 {
				info.Consumer, info.Flags = "pigpiod", gpiocdev.FlagUsed|gpiocdev.FlagOutput
			}
			return info, nil
		},
	}
}

// A name resolves to a line of the character device, never to the pin of
// that name in periph's registry (where host.Init puts the bcm283x
// driver's register-backed pins on a Pi 0 to 4): a name only the registry
// knows is not found.
func TestResolverNeverAsksGPIORegistry(t *testing.T) {
	for _, name := range []string{"GPIO17", "GPIO99"} {
		if err := gpioreg.Register(&gpiotest.Pin{N: name, Num: 17}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gpioreg.Unregister(name) })
	}
	r := fakeChips()
	pin, err := r.Line(config.Pin{Name: "GPIO17"}, "pintud:d:relay")
	if err != nil {
		t.Fatal(err)
	}
	l, ok := pin.(*gpiocdev.Line)
	if !ok {
		t.Fatalf("Line(GPIO17) is a %T, want a *gpiocdev.Line", pin)
	}
	if loc := l.Location(); loc.Path != "/dev/gpiochip0" || loc.Offset != 17 {
		t.Errorf("GPIO17 resolved to %+v, want /dev/gpiochip0 offset 17", loc)
	}
	if _, err := r.Line(config.Pin{Name: "GPIO99"}, "x"); !errors.Is(err, gpiocdev.ErrNotFound) {
		t.Errorf("Line(GPIO99), a name only the registry has = %v, want ErrNotFound", err)
	}
	if _, err := r.Wiegand(config.Pin{Name: "GPIO99"}, config.Pin{Name: "GPIO6"}, "x"); !errors.Is(err, gpiocdev.ErrNotFound) {
		t.Errorf("Wiegand(GPIO99, GPIO6) = %v, want ErrNotFound", err)
	}
}

// The package that resolves and opens lines does not link periph's GPIO
// registry, its character-device driver or its SoC drivers at all.
func TestResolverDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkg struct{ Deps []string }
	if err := json.Unmarshal(out, &pkg); err != nil {
		t.Fatal(err)
	}
	for _, d := range pkg.Deps {
		if d == "periph.io/x/conn/v3/gpio/gpioreg" || strings.HasPrefix(d, "periph.io/x/host/") {
			t.Errorf("doorio depends on %s", d)
		}
	}
}

func TestResolverLines(t *testing.T) {
	r := fakeChips()
	for _, tc := range []struct {
		pin  config.Pin
		want string // the location, or the error
	}{
		{config.Pin{Name: "GPIO4"}, "GPIO4 (gpiochip0:4)"},
		{config.Pin{Chip: "gpiochip0", Offset: 27}, "GPIO27 (gpiochip0:27)"},
		{config.Pin{Chip: "gpiochip1", Offset: 2}, "gpiochip1:2"},
		{config.Pin{Name: "WL_ON", Chip: "gpiochip1"}, "WL_ON (gpiochip1:1)"},
		{config.Pin{Name: "WL_ON", Chip: "gpiochip0"}, `no such GPIO line "WL_ON"`},
		{config.Pin{Chip: "gpiochip1", Offset: 4}, "gpiochip1 (raspberrypi-exp-gpio) has lines 0 to 3, not 4"},
		{config.Pin{Chip: "gpiochip5", Offset: 1}, "no GPIO chip gpiochip5"},
		{config.Pin{Name: "gpio4"}, "did you mean GPIO4?"},
		// Held by another program: named, with the holder.
		{config.Pin{Name: "GPIO18"}, `GPIO18 (gpiochip0:18) is held by "pigpiod"`},
	} {
		pin, err := r.Line(tc.pin, "pintud:d:x")
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = pin.String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("Line(%s) = %q, want %q", tc.pin, got, tc.want)
		}
	}
	_, err := r.Line(config.Pin{Name: "GPIO18"}, "x")
	if !errors.Is(err, gpiocdev.ErrBusy) {
		t.Errorf("Line(GPIO18) = %v, want ErrBusy", err)
	}
	if _, err := r.Wiegand(config.Pin{Name: "GPIO5"}, config.Pin{Name: "GPIO18"}, "x"); !errors.Is(err, gpiocdev.ErrBusy) || !strings.HasPrefix(err.Error(), "d1: ") {
		t.Errorf("Wiegand with d1 held = %v, want d1: ErrBusy", err)
	}
	if _, err := r.Wiegand(config.Pin{Name: "GPIO5"}, config.Pin{Name: "BT_ON"}, "x"); err == nil || !strings.Contains(err.Error(), "one chip") {
		t.Errorf("Wiegand across chips = %v, want an error", err)
	}
	s, err := r.Describe(config.Pin{Name: "GPIO18"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (doorio.LineState{Chip: "gpiochip0", Label: "pinctrl-bcm2711", Offset: 18, Name: "GPIO18", Consumer: "pigpiod", Flags: "used,output"}); s != want {
		t.Errorf("Describe(GPIO18) = %+v, want %+v", s, want)
	}
}

// A machine whose chips cannot be read says so for every line.
func TestResolverNoChips(t *testing.T) {
	boom := errors.New("open /dev/gpiochip0: permission denied")
	r := &doorio.ChardevResolver{Chips: func() ([]gpiocdev.Chip, error) { return nil, boom }}
	if _, err := r.Line(config.Pin{Name: "GPIO17"}, "x"); !errors.Is(err, boom) {
		t.Errorf("Line = %v, want the scan's error", err)
	}
}
