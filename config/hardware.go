package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hardware drivers, beside DriverSim.
const (
	// DriverGPIO is a relay, contact, REX button, tamper switch or
	// indicator on GPIO lines.
	DriverGPIO = "gpio"
	// DriverWiegand is a Wiegand reader on two GPIO lines, D0 and D1.
	DriverWiegand = "wiegand"
	// DriverRC522 is an MFRC522 reader on SPI.
	DriverRC522 = "rc522"
	// DriverPN532 is a PN532 reader on I2C.
	DriverPN532 = "pn532"
	// DriverHID is a USB keyboard-wedge reader, read through Linux evdev.
	DriverHID = "hid"
)

// Defaults of the hardware keys.
const (
	// DefaultDebounce is how long a contact, REX or tamper input must be
	// stable before a change counts.
	DefaultDebounce = 20 * time.Millisecond
	// DefaultPN532Addr is the PN532's fixed I2C address.
	DefaultPN532Addr = 0x24
	// DefaultHIDHoldOff is how long a keyboard-wedge reader's repeat of the
	// same card is ignored.
	DefaultHIDHoldOff = time.Second
)

// Pin names a GPIO line, either by the name the kernel gives it (GPIO17 on
// a Raspberry Pi) or by chip and line offset (gpiochip0:17).
type Pin struct {
	Name   string // line name such as GPIO17; empty when Chip is set
	Chip   string // chip name such as gpiochip0
	Offset int    // line offset on Chip
	Line   int    // the line of the configuration file that names it
}

// IsZero reports whether p names no line.
func (p Pin) IsZero() bool { return p.Name == "" && p.Chip == "" }

// String returns the pin as written in a file: GPIO17 or gpiochip0:17.
func (p Pin) String() string {
	if p.Name != "" || p.Chip == "" {
		return p.Name
	}
	return p.Chip + ":" + strconv.Itoa(p.Offset)
}

// Pull is an input's internal bias resistor.
type Pull string

// The pulls.
const (
	PullUp   Pull = "up"
	PullDown Pull = "down"
	PullNone Pull = "none" // external resistors, or an input that drives both ways
)

// Input configures a GPIO door contact, REX button or tamper switch.
// Active means open for a contact, pressed for a REX button and tampered
// for a tamper switch.
type Input struct {
	Pull Pull
	// ActiveLow means a Low pin is active.
	ActiveLow bool
	Debounce  time.Duration
}

// Wiegand configures a Wiegand reader.
type Wiegand struct {
	D0, D1 Pin // on one chip: the kernel orders their edges in one request
	// Lengths are the frame lengths the reader sends; empty means any known
	// format, each frame then ending only after Gap.
	Lengths []int
	Gap     time.Duration // zero means the driver's default, 25ms
}

// Bus names an SPI port (SPI0.0) or an I2C bus (I2C1).
type Bus struct {
	Name string
	Line int // the line of the configuration file that names it
}

// RC522 configures an MFRC522 reader on SPI.
type RC522 struct {
	Bus     Bus
	Reset   Pin           // zero when not wired
	IRQ     Pin           // zero when not wired: the driver polls
	HoldOff time.Duration // zero means the driver's default, 1s
}

// PN532 configures a PN532 reader on I2C.
type PN532 struct {
	Bus     Bus
	Addr    uint16
	IRQ     Pin           // zero when not wired: the driver polls
	HoldOff time.Duration // zero means the driver's default, 1s
}

// HID configures a USB keyboard-wedge reader.
type HID struct {
	Device     string // evdev path, best under /dev/input/by-id
	DeviceLine int
	// HoldOff ignores the same card read again within it.
	HoldOff time.Duration
	// Hex accepts A-F, for readers that type the UID in hexadecimal.
	Hex bool
	// Terminator is the key after each card number: TerminatorEnter or
	// TerminatorTab.
	Terminator string
	// KeyTimeout is the longest gap between two keys of one card number;
	// zero means the driver's default, 200ms.
	KeyTimeout time.Duration
}

// Keyboard-wedge terminators, the values of a hid reader's terminator key.
const (
	TerminatorEnter = "enter"
	TerminatorTab   = "tab"
)

// MaxKeyTimeout is the longest key_timeout a hid reader accepts.
const MaxKeyTimeout = 10 * time.Second

// Indicator is a door's LED and buzzer.
type Indicator struct {
	Driver string
	Line   int
	LED    Pin // zero when not fitted
	Buzzer Pin // zero when not fitted
	// ActiveLow means an output is on when its pin is Low.
	ActiveLow bool
}

// deviceKind says what a device is for, which decides its drivers and
// keys.
type deviceKind int

const (
	kindReader deviceKind = iota
	kindRelay
	kindContact
	kindREX
	kindTamper
)

func (k deviceKind) drivers() []string {
	if k == kindReader {
		return []string{DriverSim, DriverWiegand, DriverRC522, DriverPN532, DriverHID}
	}
	return []string{DriverSim, DriverGPIO}
}

// hwDevice reads a device's driver key and the keys of that driver; it
// returns the keys it knows, for the caller's allow list.
func (d *decoder) hwDevice(o *object, kind deviceKind) (Device, []string) {
	f := o.get("driver")
	s := d.str(f, "", true)
	dev := Device{Driver: s, Line: f.line}
	if s != "" && !slices.Contains(kind.drivers(), s) {
		d.addf(f.line, f.path, "%s is not a known driver (want %s)", quote(s), strings.Join(kind.drivers(), ", "))
		return dev, []string{"driver"}
	}
	switch {
	case s == DriverGPIO && kind == kindRelay:
		dev.Pin = d.pin(o.get("pin"), "", true)
		return dev, []string{"driver", "pin"}
	case s == DriverGPIO:
		in := Input{Pull: PullUp, ActiveLow: kind == kindREX, Debounce: DefaultDebounce}
		dev.Pin = d.pin(o.get("pin"), "", true)
		in.Pull = d.pull(o.get("pull"), in.Pull)
		in.ActiveLow = d.boolean(o.get("active_low"), in.ActiveLow)
		in.Debounce = d.duration(o.get("debounce"), in.Debounce)
		dev.Input = &in
		return dev, []string{"driver", "pin", "pull", "active_low", "debounce"}
	case s == DriverWiegand:
		w := &Wiegand{}
		cf := o.get("chip")
		chip := d.str(cf, "", false)
		if chip != "" && !validChip(chip) {
			d.addf(cf.line, cf.path, "%s is not a GPIO chip name like gpiochip0", quote(chip))
			chip = ""
		}
		w.D0 = d.pin(o.get("d0"), chip, true)
		w.D1 = d.pin(o.get("d1"), chip, true)
		if w.D0.Name == "" && w.D1.Name == "" && w.D0.Chip != "" && w.D1.Chip != "" && w.D0.Chip != w.D1.Chip {
			d.addf(w.D1.Line, join(o.path, "d1"), "is on %s but d0 is on %s; D0 and D1 must be on one chip", w.D1.Chip, w.D0.Chip)
		}
		w.Lengths = d.lengths(o.get("lengths"))
		w.Gap = d.duration(o.get("gap"), 0)
		dev.Wiegand = w
		return dev, []string{"driver", "d0", "d1", "chip", "lengths", "gap"}
	case s == DriverRC522:
		dev.RC522 = &RC522{
			Bus:     d.bus(o.get("bus"), "SPI"),
			Reset:   d.pin(o.get("reset"), "", false),
			IRQ:     d.pin(o.get("irq"), "", false),
			HoldOff: d.duration(o.get("holdoff"), 0),
		}
		return dev, []string{"driver", "bus", "reset", "irq", "holdoff"}
	case s == DriverPN532:
		af := o.get("addr")
		addr := d.integer(af, DefaultPN532Addr)
		if addr < 0x08 || addr > 0x77 {
			d.addf(af.line, af.path, "%#x is not a 7-bit I2C device address (want 0x08 to 0x77)", addr)
			addr = DefaultPN532Addr
		}
		dev.PN532 = &PN532{
			Bus:     d.bus(o.get("bus"), "I2C"),
			Addr:    uint16(addr),
			IRQ:     d.pin(o.get("irq"), "", false),
			HoldOff: d.duration(o.get("holdoff"), 0),
		}
		return dev, []string{"driver", "bus", "addr", "irq", "holdoff"}
	case s == DriverHID:
		pf := o.get("device")
		h := &HID{Device: d.str(pf, "", true), DeviceLine: pf.line, HoldOff: d.duration(o.get("holdoff"), DefaultHIDHoldOff)}
		if h.Device != "" && !strings.HasPrefix(h.Device, "/") {
			d.addf(pf.line, pf.path, "%s is not an absolute path (want /dev/input/by-id/...)", quote(h.Device))
		} else if h.Device != "" {
			d.use(h.Device, pf.path, pf.line)
		}
		h.Hex = d.boolean(o.get("hex"), false)
		tf := o.get("terminator")
		h.Terminator = d.str(tf, TerminatorEnter, false)
		if h.Terminator != TerminatorEnter && h.Terminator != TerminatorTab {
			d.addf(tf.line, tf.path, "%s is not a terminator (want %s or %s)", quote(h.Terminator), TerminatorEnter, TerminatorTab)
			h.Terminator = TerminatorEnter
		}
		kf := o.get("key_timeout")
		h.KeyTimeout = d.duration(kf, 0)
		if h.KeyTimeout > MaxKeyTimeout {
			d.addf(kf.line, kf.path, "%v is longer than %v", h.KeyTimeout, MaxKeyTimeout)
			h.KeyTimeout = 0
		}
		dev.HID = h
		return dev, []string{"driver", "device", "holdoff", "hex", "terminator", "key_timeout"}
	}
	return dev, []string{"driver"}
}

// indicator reads a door's optional LED and buzzer; nil means none fitted.
func (d *decoder) indicator(f field) *Indicator {
	if f.n == nil {
		return nil
	}
	o := d.object(f)
	df := o.get("driver")
	s := d.str(df, "", true)
	ind := &Indicator{Driver: s, Line: df.line}
	if s != "" && s != DriverGPIO {
		d.addf(df.line, df.path, "%s is not a known driver (want %s)", quote(s), DriverGPIO)
	}
	ind.LED = d.pin(o.get("led"), "", false)
	ind.Buzzer = d.pin(o.get("buzzer"), "", false)
	ind.ActiveLow = d.boolean(o.get("active_low"), false)
	if ind.LED.IsZero() && ind.Buzzer.IsZero() && !o.quiet {
		d.addf(o.line, o.path, "names neither led nor buzzer (want at least one)")
	}
	o.allow("driver", "led", "buzzer", "active_low")
	return ind
}

// pin reads a GPIO line: a name such as GPIO17, chip:offset such as
// gpiochip0:17, or, when chip is given, a bare offset on that chip.
func (d *decoder) pin(f field, chip string, required bool) Pin {
	s := d.str(f, "", required)
	if s == "" {
		return Pin{}
	}
	p := Pin{Line: f.line}
	if c, off, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.Atoi(off)
		if !validChip(c) || err != nil || n < 0 || n > 1023 {
			d.addf(f.line, f.path, "%s is not a GPIO line (want a name like GPIO17, or chip:line like gpiochip0:17)", quote(s))
			return Pin{}
		}
		p.Chip, p.Offset = c, n
	} else if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 1023 {
			d.addf(f.line, f.path, "%s is not a GPIO line offset (want 0 to 1023)", quote(s))
			return Pin{}
		}
		if chip == "" {
			chip = "gpiochip0"
		}
		p.Chip, p.Offset = chip, n
	} else if validLineName(s) {
		// With a chip, the name is looked up on that chip only.
		p.Name, p.Chip = s, chip
	} else {
		d.addf(f.line, f.path, "%s is not a GPIO line (want a name like GPIO17, or chip:line like gpiochip0:17)", quote(s))
		return Pin{}
	}
	d.use(p.String(), f.path, f.line)
	return p
}

func validChip(s string) bool {
	n, ok := strings.CutPrefix(s, "gpiochip")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

func validLineName(s string) bool {
	if len(s) > 31 || s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// bus reads an SPI port (kind SPI, e.g. SPI0.0) or I2C bus (kind I2C, e.g.
// I2C1).
func (d *decoder) bus(f field, kind string) Bus {
	s := d.str(f, "", true)
	if s == "" {
		return Bus{}
	}
	ok := false
	if rest, found := strings.CutPrefix(s, kind); found {
		if kind == "SPI" {
			b, cs, dot := strings.Cut(rest, ".")
			_, e1 := strconv.Atoi(b)
			_, e2 := strconv.Atoi(cs)
			ok = dot && e1 == nil && e2 == nil
		} else {
			_, err := strconv.Atoi(rest)
			ok = err == nil
		}
	}
	if !ok {
		want := "SPI0.0 (bus 0, chip select 0)"
		if kind == "I2C" {
			want = "I2C1"
		}
		d.addf(f.line, f.path, "%s is not an %s bus (want a name like %s)", quote(s), kind, want)
		return Bus{}
	}
	d.use(s, f.path, f.line)
	return Bus{Name: s, Line: f.line}
}

func (d *decoder) pull(f field, def Pull) Pull {
	s, ok := d.scalar(f, "up, down or none")
	if !ok {
		return def
	}
	switch p := Pull(s); p {
	case PullUp, PullDown, PullNone:
		return p
	}
	d.addf(f.line, f.path, "%s is not up, down or none", quote(s))
	return def
}

// integer reads a whole number, decimal or 0x hexadecimal.
func (d *decoder) integer(f field, def int) int {
	s, ok := d.scalar(f, "a number")
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(s, 0, 32)
	if err != nil {
		d.addf(f.line, f.path, "%s is not a whole number", quote(s))
		return def
	}
	return int(n)
}

// lengths reads a Wiegand reader's frame lengths.
func (d *decoder) lengths(f field) []int {
	items, ok := d.list(f, false)
	if !ok {
		return nil
	}
	var out []int
	for _, it := range items {
		n := d.integer(it, 0)
		switch {
		case it.null:
			d.missing(it)
		case n == 0:
		case n < 4 || n > 64:
			d.addf(it.line, it.path, "%d is not a Wiegand frame length (want 4 to 64 bits)", n)
		case slices.Contains(out, n):
			d.addf(it.line, it.path, "%d is listed twice", n)
		default:
			out = append(out, n)
		}
	}
	return out
}

// use records that a pin, bus or device path is used at path, and reports
// a second use: two devices cannot share one line or one port.
func (d *decoder) use(key, path string, line int) {
	if d.uses == nil {
		d.uses = map[string]field{}
	}
	if prev, ok := d.uses[key]; ok {
		d.addf(line, path, "%s is already used by %s (line %d)", quote(key), prev.path, prev.line)
		return
	}
	d.uses[key] = field{path: path, line: line}
}

// Describe names the device for messages: its driver and what it is on.
func (dev Device) Describe() string {
	switch {
	case dev.Wiegand != nil:
		return fmt.Sprintf("wiegand d0=%s d1=%s", dev.Wiegand.D0, dev.Wiegand.D1)
	case dev.RC522 != nil:
		return "rc522 on " + dev.RC522.Bus.Name
	case dev.PN532 != nil:
		return fmt.Sprintf("pn532 on %s at %#x", dev.PN532.Bus.Name, dev.PN532.Addr)
	case dev.HID != nil:
		return "hid " + dev.HID.Device
	case !dev.Pin.IsZero():
		return dev.Driver + " " + dev.Pin.String()
	}
	return dev.Driver
}
