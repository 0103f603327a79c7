package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const hwHead = `site: {name: Lab}
doors:
  - name: d1
`

func TestParseHardware(t *testing.T) {
	const in = hwHead + `    readers:
      - name: w
        direction: entry
        driver: wiegand
        d0: GPIO5
        d1: gpiochip0:6
        lengths: [26, 34]
        gap: 30ms
      - {name: r, direction: exit, driver: rc522, bus: SPI0.0, reset: GPIO25, irq: GPIO24, holdoff: 2s}
      - {name: p, direction: entry, driver: pn532, bus: I2C1, addr: 0x28, irq: GPIO27}
      - {name: h, direction: exit, driver: hid, device: /dev/input/by-id/kbd, hex: true, terminator: tab, key_timeout: 50ms}
      - {name: n, direction: entry, driver: wiegand, chip: gpiochip1, d0: 3, d1: 4}
    relay: {driver: gpio, pin: GPIO17, active_low: true}
    contact: {driver: gpio, pin: GPIO22}
    rex: {driver: gpio, pin: GPIO23, pull: none, debounce: 50ms}
    tamper:
      driver: gpio
      pin: GPIO26
      active_low: true
    indicator: {driver: gpio, led: GPIO13, active_low: true}
`
	f, err := Parse("pintud.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse error:\n%v", err)
	}
	d := f.Doors[0]
	got := []Device{d.Readers[0].Device, d.Readers[1].Device, d.Readers[2].Device, d.Readers[3].Device,
		d.Readers[4].Device, d.Relay.Device, *d.Contact, *d.REX, *d.Tamper}
	want := []Device{
		{Driver: "wiegand", Line: 7, Wiegand: &Wiegand{
			D0: Pin{Name: "GPIO5", Line: 8}, D1: Pin{Chip: "gpiochip0", Offset: 6, Line: 9},
			Lengths: []int{26, 34}, Gap: 30 * time.Millisecond}},
		{Driver: "rc522", Line: 12, RC522: &RC522{Bus: Bus{"SPI0.0", 12},
			Reset: Pin{Name: "GPIO25", Line: 12}, IRQ: Pin{Name: "GPIO24", Line: 12}, HoldOff: 2 * time.Second}},
		{Driver: "pn532", Line: 13, PN532: &PN532{Bus: Bus{"I2C1", 13}, Addr: 0x28, IRQ: Pin{Name: "GPIO27", Line: 13}}},
		{Driver: "hid", Line: 14, HID: &HID{Device: "/dev/input/by-id/kbd", DeviceLine: 14, HoldOff: time.Second,
			Hex: true, Terminator: "tab", KeyTimeout: 50 * time.Millisecond}},
		{Driver: "wiegand", Line: 15, Wiegand: &Wiegand{
			D0: Pin{Chip: "gpiochip1", Offset: 3, Line: 15}, D1: Pin{Chip: "gpiochip1", Offset: 4, Line: 15}}},
		{Driver: "gpio", Line: 16, Pin: Pin{Name: "GPIO17", Line: 16}},
		{Driver: "gpio", Line: 17, Pin: Pin{Name: "GPIO22", Line: 17},
			Input: &Input{Pull: PullUp, Debounce: 20 * time.Millisecond}},
		{Driver: "gpio", Line: 18, Pin: Pin{Name: "GPIO23", Line: 18},
			Input: &Input{Pull: PullNone, ActiveLow: true, Debounce: 50 * time.Millisecond}},
		{Driver: "gpio", Line: 20, Pin: Pin{Name: "GPIO26", Line: 21},
			Input: &Input{Pull: PullUp, ActiveLow: true, Debounce: 20 * time.Millisecond}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse devices mismatch (-want +got):\n%s", diff)
	}
	if !d.Relay.ActiveLow {
		t.Errorf("relay ActiveLow = false, want true")
	}
	wantInd := &Indicator{Driver: "gpio", Line: 23, LED: Pin{Name: "GPIO13", Line: 23}, ActiveLow: true}
	if diff := cmp.Diff(wantInd, d.Indicator); diff != "" {
		t.Errorf("Parse indicator mismatch (-want +got):\n%s", diff)
	}
}

const hwReader = "    readers:\n      - {name: in, direction: entry, driver: sim}\n"

var hwErrorTests = []struct {
	name, in string
	want     []string
}{
	{"pin used twice", hwHead + hwReader + "    relay: {driver: gpio, pin: GPIO17}\n    contact: {driver: gpio, pin: GPIO17}\n", []string{
		`pintud.yaml:7: doors[0].contact.pin: "GPIO17" is already used by doors[0].relay.pin (line 6)`}},
	{"pin used twice across doors", hwHead + hwReader + "    relay: {driver: gpio, pin: gpiochip0:17}\n" +
		"  - name: d2\n" + hwReader + "    relay: {driver: gpio, pin: gpiochip0:17}\n", []string{
		`pintud.yaml:10: doors[1].relay.pin: "gpiochip0:17" is already used by doors[0].relay.pin (line 6)`}},
	{"bus used twice", hwHead + "    readers:\n      - {name: a, direction: entry, driver: rc522, bus: SPI0.0}\n" +
		"      - {name: b, direction: exit, driver: rc522, bus: SPI0.0}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:6: doors[0].readers[1].bus: "SPI0.0" is already used by doors[0].readers[0].bus (line 5)`}},
	{"wiegand pin reused by indicator", hwHead + "    readers:\n      - {name: a, direction: entry, driver: wiegand, d0: GPIO5, d1: GPIO6}\n" +
		"    relay: {driver: sim}\n    indicator: {driver: gpio, buzzer: GPIO6}\n", []string{
		`pintud.yaml:7: doors[0].indicator.buzzer: "GPIO6" is already used by doors[0].readers[0].d1 (line 5)`}},
	{"bad pin", hwHead + hwReader + "    relay: {driver: gpio, pin: 'GPIO 17'}\n", []string{
		`pintud.yaml:6: doors[0].relay.pin: "GPIO 17" is not a GPIO line (want a name like GPIO17, or chip:line like gpiochip0:17)`}},
	{"bad chip line", hwHead + hwReader + "    relay: {driver: gpio, pin: 'chip0:17'}\n", []string{
		`pintud.yaml:6: doors[0].relay.pin: "chip0:17" is not a GPIO line (want a name like GPIO17, or chip:line like gpiochip0:17)`}},
	{"relay without pin", hwHead + hwReader + "    relay: {driver: gpio}\n", []string{
		`pintud.yaml:6: doors[0].relay.pin: missing`}},
	{"input key on relay", hwHead + hwReader + "    relay: {driver: gpio, pin: GPIO17, debounce: 1s}\n", []string{
		`pintud.yaml:6: doors[0].relay.debounce: unknown key (want driver, pin, active_low, fail_safe)`}},
	{"bad spi bus", hwHead + "    readers:\n      - {name: a, direction: entry, driver: rc522, bus: I2C1}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].bus: "I2C1" is not an SPI bus (want a name like SPI0.0 (bus 0, chip select 0))`}},
	{"bad i2c bus", hwHead + "    readers:\n      - {name: a, direction: entry, driver: pn532, bus: SPI0.0}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].bus: "SPI0.0" is not an I2C bus (want a name like I2C1)`}},
	{"bad addr", hwHead + "    readers:\n      - {name: a, direction: entry, driver: pn532, bus: I2C1, addr: 0x80}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].addr: 0x80 is not a 7-bit I2C device address (want 0x08 to 0x77)`}},
	{"bad lengths", hwHead + "    readers:\n      - name: a\n        direction: entry\n        driver: wiegand\n        d0: 5\n        d1: 6\n" +
		"        lengths: [26, 2, 26, x]\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:10: doors[0].readers[0].lengths[1]: 2 is not a Wiegand frame length (want 4 to 64 bits)`,
		`pintud.yaml:10: doors[0].readers[0].lengths[2]: 26 is listed twice`,
		`pintud.yaml:10: doors[0].readers[0].lengths[3]: "x" is not a whole number`}},
	{"wiegand lines on two chips", hwHead + "    readers:\n      - {name: a, direction: entry, driver: wiegand, d0: gpiochip0:5, d1: gpiochip1:6}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].d1: is on gpiochip1 but d0 is on gpiochip0; D0 and D1 must be on one chip`}},
	{"bad pull", hwHead + hwReader + "    relay: {driver: sim}\n    rex: {driver: gpio, pin: GPIO23, pull: high}\n", []string{
		`pintud.yaml:7: doors[0].rex.pull: "high" is not up, down or none`}},
	{"hid relative path", hwHead + "    readers:\n      - {name: a, direction: entry, driver: hid, device: event0}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].device: "event0" is not an absolute path (want /dev/input/by-id/...)`}},
	{"hid device twice", hwHead + "    readers:\n      - {name: a, direction: entry, driver: hid, device: /dev/input/event0}\n" +
		"      - {name: b, direction: exit, driver: hid, device: /dev/input/event0}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:6: doors[0].readers[1].device: "/dev/input/event0" is already used by doors[0].readers[0].device (line 5)`}},
	{"hid terminator", hwHead + "    readers:\n      - {name: a, direction: entry, driver: hid, device: /dev/input/event0, terminator: space}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].terminator: "space" is not a terminator (want enter or tab)`}},
	{"hid key timeout", hwHead + "    readers:\n      - name: a\n        direction: entry\n        driver: hid\n        device: /dev/input/event0\n" +
		"        key_timeout: 1m\n        hex: maybe\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:9: doors[0].readers[0].key_timeout: 1m0s is longer than 10s`,
		`pintud.yaml:10: doors[0].readers[0].hex: "maybe" is not true or false`}},
	{"hid zero key timeout", hwHead + "    readers:\n      - {name: a, direction: entry, driver: hid, device: /dev/input/event0, key_timeout: 0s}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:5: doors[0].readers[0].key_timeout: "0s" must be positive`}},
	{"indicator without outputs", hwHead + hwReader + "    relay: {driver: sim}\n    indicator: {driver: gpio}\n", []string{
		`pintud.yaml:7: doors[0].indicator: names neither led nor buzzer (want at least one)`}},
	{"indicator driver", hwHead + hwReader + "    relay: {driver: sim}\n    indicator: {driver: sim, led: GPIO13}\n", []string{
		`pintud.yaml:7: doors[0].indicator.driver: "sim" is not a known driver (want gpio)`}},
	{"tamper driver", hwHead + hwReader + "    relay: {driver: sim}\n    tamper: {driver: rc522}\n", []string{
		`pintud.yaml:7: doors[0].tamper.driver: "rc522" is not a known driver (want sim, gpio)`}},
}

func TestParseHardwareErrors(t *testing.T) {
	for _, tt := range hwErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pintud.yaml", []byte(tt.in))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want Errors", err)
			}
			var got []string
			for _, p := range errs {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseHardware checks that the device keys never panic and that every
// line a parsed device carries is in the file, since pintud names it in its
// errors.
func FuzzParseHardware(f *testing.F) {
	for _, tt := range hwErrorTests {
		f.Add(tt.in)
	}
	if data, err := os.ReadFile("example.yaml"); err == nil {
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse("fuzz.yaml", []byte(in))
		if err != nil {
			return // FuzzParse checks the problems
		}
		lines := strings.Count(in, "\n") + strings.Count(in, "\r") + strings.Count(in, "\u0085") +
			strings.Count(in, "\u2028") + strings.Count(in, "\u2029") + 1
		check := func(what string, line int, set bool) {
			if set && (line < 1 || line > lines) {
				t.Errorf("Parse(%q): %s at line %d, want 1..%d", in, what, line, lines)
			}
		}
		for _, d := range file.Doors {
			devs := []*Device{&d.Relay.Device, d.Contact, d.REX, d.Tamper}
			for i := range d.Readers {
				devs = append(devs, &d.Readers[i].Device)
			}
			for _, dev := range devs {
				if dev == nil {
					continue
				}
				check("device", dev.Line, true)
				check("pin", dev.Pin.Line, !dev.Pin.IsZero())
				if w := dev.Wiegand; w != nil {
					check("d0", w.D0.Line, true)
					check("d1", w.D1.Line, true)
				}
				if r := dev.RC522; r != nil {
					check("bus", r.Bus.Line, true)
				}
				if r := dev.PN532; r != nil {
					check("bus", r.Bus.Line, true)
				}
			}
			if ind := d.Indicator; ind != nil {
				check("indicator", ind.Line, true)
			}
		}
	})
}
