package gpiocdev

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// piNames returns n lines named GPIO0, GPIO1… as a Raspberry Pi's
// pinctrl driver names them.
func piNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("GPIO%d", i)
	}
	return names
}

// pi4 is the chips of a Raspberry Pi 4: the SoC's 58 lines and the
// firmware's expander.
var pi4 = []Chip{
	{Path: "/dev/gpiochip0", Name: "gpiochip0", Label: "pinctrl-bcm2711", Lines: piNames(58)},
	{Path: "/dev/gpiochip1", Name: "gpiochip1", Label: "raspberrypi-exp-gpio",
		Lines: []string{"BT_ON", "WL_ON", "PWR_LED_OFF", "GLOBAL_RESET", "VDD_SD_IO_SEL", "CAM_GPIO", "SD_PWR_ON", ""}},
}

// pi5 is a Raspberry Pi 5 on a kernel that numbers the RP1's chip 4: its
// lines carry the header's names, the SoC's chips others.
var pi5 = []Chip{
	{Path: "/dev/gpiochip0", Name: "gpiochip0", Label: "gpio-brcmstb@107d508500", Lines: []string{"-", "2712_BOOT_CS_N", "2712_BOOT_MISO", "", "-", "-"}},
	{Path: "/dev/gpiochip1", Name: "gpiochip1", Label: "gpio-brcmstb@107d508520", Lines: []string{"HDMI0_SCL", "HDMI0_SDA", "", ""}},
	{Path: "/dev/gpiochip4", Name: "gpiochip4", Label: "pinctrl-rp1", Lines: append(piNames(28), "PCIE_RP1_WAKE", "FAN_TACH", "HOST_SDA")},
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name       string
		chips      []Chip
		chip, line string
		want       Location
	}{
		{"pi4 GPIO17", pi4, "", "GPIO17", Location{Path: "/dev/gpiochip0", Chip: "gpiochip0", Label: "pinctrl-bcm2711", Offset: 17, Name: "GPIO17"}},
		{"pi4 expander", pi4, "", "CAM_GPIO", Location{Path: "/dev/gpiochip1", Chip: "gpiochip1", Label: "raspberrypi-exp-gpio", Offset: 5, Name: "CAM_GPIO"}},
		{"pi5 GPIO17 on the RP1, chip 4", pi5, "", "GPIO17", Location{Path: "/dev/gpiochip4", Chip: "gpiochip4", Label: "pinctrl-rp1", Offset: 17, Name: "GPIO17"}},
		{"pi5 GPIO0", pi5, "", "GPIO0", Location{Path: "/dev/gpiochip4", Chip: "gpiochip4", Label: "pinctrl-rp1", Offset: 0, Name: "GPIO0"}},
		{"chip given", pi4, "gpiochip0", "GPIO4", Location{Path: "/dev/gpiochip0", Chip: "gpiochip0", Label: "pinctrl-bcm2711", Offset: 4, Name: "GPIO4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Lookup(tc.chips, tc.chip, tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Lookup(%q, %q) (-want +got):\n%s", tc.chip, tc.line, diff)
			}
		})
	}
}

// The same name on two chips is refused, naming both, whichever one a
// careless search would have found first.
func TestLookupAmbiguous(t *testing.T) {
	chips := []Chip{
		pi4[0],
		{Path: "/dev/gpiochip2", Name: "gpiochip2", Label: "mcp23017", Lines: []string{"GPIO0", "GPIO1", "GPIO17", "GPIO3"}},
	}
	_, err := Lookup(chips, "", "GPIO17")
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("Lookup(GPIO17) = %v, want ErrAmbiguous", err)
	}
	for _, want := range []string{"gpiochip0 (pinctrl-bcm2711) line 17", "gpiochip2 (mcp23017) line 2", "chip:offset"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// On one chip, the name is that chip's.
	got, err := Lookup(chips, "gpiochip2", "GPIO17")
	if err != nil || got.Chip != "gpiochip2" || got.Offset != 2 {
		t.Errorf("Lookup(gpiochip2, GPIO17) = %v, %v; want gpiochip2 line 2", got, err)
	}
	// Two lines of one name on one chip are ambiguous too.
	if _, err := Lookup(pi5, "", "-"); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "line 0 and") {
		t.Errorf("Lookup(-) on a Pi 5 = %v, want ErrAmbiguous", err)
	}
}

// A missing name lists what exists, bounded, and hints at a case slip.
func TestLookupMissing(t *testing.T) {
	_, err := Lookup(pi4, "", "GPIO71")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup(GPIO71) = %v, want ErrNotFound", err)
	}
	msg := err.Error()
	for _, want := range []string{`"GPIO71"`, "gpiochip0 (pinctrl-bcm2711): GPIO0, GPIO1,", "and 46 more", "gpiochip1 (raspberrypi-exp-gpio): BT_ON, WL_ON"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "GPIO57") {
		t.Errorf("error lists all 58 lines: %q", msg)
	}
	if len(msg) > 400 {
		t.Errorf("error is %d bytes long: %q", len(msg), msg)
	}

	_, err = Lookup(pi4, "", "gpio17")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "did you mean GPIO17?") {
		t.Errorf("Lookup(gpio17) = %v, want not found with a hint at GPIO17", err)
	}

	// Many chips: the list stays bounded.
	var many []Chip
	for i := range 20 {
		many = append(many, Chip{Name: fmt.Sprintf("gpiochip%d", i), Lines: piNames(40)})
	}
	if _, err := Lookup(many, "", "NOPE"); err == nil || len(err.Error()) > 2000 || !strings.Contains(err.Error(), "and 12 chips more") {
		t.Errorf("Lookup on 20 chips = %v, want a bounded list", err)
	}

	_, err = Lookup(nil, "", "GPIO17")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no GPIO chips") {
		t.Errorf("Lookup with no chips = %v", err)
	}
	_, err = Lookup(pi4, "gpiochip7", "GPIO17")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gpiochip0 (pinctrl-bcm2711), gpiochip1 (raspberrypi-exp-gpio)") {
		t.Errorf("Lookup on a missing chip = %v, want the chips listed", err)
	}
	// The name exists, but not on the chip asked for.
	if _, err := Lookup(pi4, "gpiochip1", "GPIO17"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(gpiochip1, GPIO17) = %v, want ErrNotFound", err)
	}
}

func TestAt(t *testing.T) {
	got, err := At(pi4, "gpiochip0", 17)
	if err != nil || got.Name != "GPIO17" || got.Path != "/dev/gpiochip0" {
		t.Errorf("At(gpiochip0, 17) = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		chip   string
		offset int
		want   string
	}{
		{"gpiochip0", 58, "lines 0 to 57, not 58"},
		{"gpiochip0", -1, "not -1"},
		{"gpiochip3", 1, "no GPIO chip gpiochip3"},
	} {
		if _, err := At(pi4, tc.chip, tc.offset); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("At(%s, %d) = %v, want ErrNotFound saying %q", tc.chip, tc.offset, err, tc.want)
		}
	}
}

func TestLocationString(t *testing.T) {
	if got := (Location{Chip: "gpiochip4", Offset: 17, Name: "GPIO17"}).String(); got != "GPIO17 (gpiochip4:17)" {
		t.Errorf("String() = %q", got)
	}
	if got := (Location{Chip: "gpiochip0", Offset: 3}).String(); got != "gpiochip0:3" {
		t.Errorf("String() = %q", got)
	}
}
