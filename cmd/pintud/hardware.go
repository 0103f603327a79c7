package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/drivers/hidreader"
	"github.com/pintu/pintu/drivers/indicator"
	"github.com/pintu/pintu/drivers/input"
	"github.com/pintu/pintu/drivers/pn532"
	"github.com/pintu/pintu/drivers/rc522"
	"github.com/pintu/pintu/drivers/relay"
	"github.com/pintu/pintu/drivers/sim"
	"github.com/pintu/pintu/drivers/wiegand"
)

// Resolver finds the pins and buses a configuration names. pintud uses
// periph.io's registries; tests substitute gpiotest pins, spitest and
// i2ctest.
type Resolver interface {
	PinIn(p config.Pin) (gpio.PinIn, error)
	PinOut(p config.Pin) (gpio.PinOut, error)
	// SPI opens an SPI port such as SPI0.0. It is called again each time
	// a reader on it is re-initialised.
	SPI(name string) (spi.PortCloser, error)
	I2C(name string) (i2c.BusCloser, error)
	// Wiegand checks that d0 and d1 exist on one chip, and returns what
	// requests them as one line set.
	Wiegand(d0, d1 config.Pin) (WiegandOpener, error)
}

// WiegandOpener requests a Wiegand reader's lines and starts decoding.
type WiegandOpener func(opts *wiegand.Opts) (*wiegand.Dev, error)

// newResolver initialises periph.io's host drivers, once, and returns the
// resolver over its registries. It is a variable for tests.
var newResolver = func() (Resolver, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("initialise periph.io host drivers: %w", err)
	}
	return periphResolver{}, nil
}

// periphResolver resolves names through periph.io: GPIO lines by the
// kernel's line names or by chip and offset on the character device,
// buses by their periph names.
type periphResolver struct{}

var errNoPin = errors.New("no such GPIO line")

func (periphResolver) line(p config.Pin) (*gpioioctl.GPIOChip, *gpioioctl.GPIOLine, error) {
	var chips []*gpioioctl.GPIOChip
	for _, c := range gpioioctl.Chips {
		if p.Chip == "" || c.Name() == p.Chip || filepath.Base(c.Path()) == p.Chip {
			chips = append(chips, c)
		}
	}
	if len(chips) == 0 {
		var names []string
		for _, c := range gpioioctl.Chips {
			names = append(names, c.Name())
		}
		return nil, nil, fmt.Errorf("no GPIO chip %q (this machine has %s)", p.Chip, orNone(names))
	}
	for _, c := range chips {
		if p.Name != "" {
			if l := c.ByName(p.Name); l != nil {
				return c, l, nil
			}
		} else if p.Offset < c.LineCount() {
			return c, c.ByNumber(p.Offset), nil
		}
	}
	return nil, nil, fmt.Errorf("%w %s", errNoPin, p)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none: is this a Raspberry Pi with /dev/gpiochip* readable by group gpio?"
	}
	return strings.Join(names, ", ")
}

func (r periphResolver) pin(p config.Pin) (gpio.PinIO, error) {
	if p.Name != "" && p.Chip == "" {
		if pin := gpioreg.ByName(p.Name); pin != nil {
			return pin, nil
		}
		return nil, fmt.Errorf("%w %s (names are the kernel's, GPIO17 on a Raspberry Pi; gpioinfo lists them)", errNoPin, p)
	}
	_, l, err := r.line(p)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (r periphResolver) PinIn(p config.Pin) (gpio.PinIn, error)   { return r.pin(p) }
func (r periphResolver) PinOut(p config.Pin) (gpio.PinOut, error) { return r.pin(p) }

func (periphResolver) SPI(name string) (spi.PortCloser, error) {
	p, err := spireg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open SPI port %s (is SPI enabled with dtparam=spi=on?): %w", name, err)
	}
	return p, nil
}

func (periphResolver) I2C(name string) (i2c.BusCloser, error) {
	b, err := i2creg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open I2C bus %s (is I2C enabled with dtparam=i2c_arm=on?): %w", name, err)
	}
	return b, nil
}

func (r periphResolver) Wiegand(d0, d1 config.Pin) (WiegandOpener, error) {
	c0, l0, err := r.line(d0)
	if err != nil {
		return nil, fmt.Errorf("d0: %w", err)
	}
	c1, l1, err := r.line(d1)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if c0 != c1 {
		return nil, fmt.Errorf("d0 is on %s and d1 on %s; they must be on one chip", c0.Name(), c1.Name())
	}
	path, o0, o1 := c0.Path(), l0.Number(), l1.Number()
	return func(opts *wiegand.Opts) (*wiegand.Dev, error) { return wiegand.Open(path, o0, o1, opts) }, nil
}

// hardware is the door hardware pintud opened from the configuration.
type hardware struct {
	strikes doorio.Strikes
	io      *doorio.Hardware
	halts   []func() error // relays last, so the doors lock last
	log     *slog.Logger
}

// lineError names the configuration line a hardware problem comes from.
func lineError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %w", file, line, fmt.Errorf(format, args...))
}

// openHardware opens every device the configuration names. The relays come
// first, each driven to locked as it is opened, so nothing else can happen
// before the doors are locked. With simulate, or a device whose driver is
// sim, the device is simulated. A pin or bus that does not exist is an
// error naming its line in file; a reader that does not answer is not,
// since its run loop retries it.
func openHardware(cfg *config.File, file string, simulate bool, newRes func() (Resolver, error), log *slog.Logger) (_ *hardware, err error) {
	hw := &hardware{strikes: doorio.Strikes{}, io: &doorio.Hardware{Log: log}, log: log}
	defer func() {
		if err != nil {
			hw.close()
		}
	}()
	real := !simulate && usesHardware(cfg)
	var res Resolver
	if real {
		if res, err = newRes(); err != nil {
			return nil, err
		}
	}
	// Whatever fails below, the relays opened are halted (locked), last.
	var relays []func() error
	defer func() { hw.halts = append(hw.halts, relays...) }()
	for _, d := range cfg.Doors {
		name := d.Name
		if !real || d.Relay.Driver != config.DriverGPIO {
			hw.strikes[name] = sim.NewRelay(name, func(unlocked bool) {
				log.Info("relay", "door", name, "state", lockWord(unlocked))
			})
			continue
		}
		pin, err := res.PinOut(d.Relay.Pin)
		if err != nil {
			return nil, lineError(file, d.Relay.Pin.Line, "door %s relay: %w", name, err)
		}
		rl, err := relay.New(pin, &relay.Opts{ActiveLow: d.Relay.ActiveLow, FailSafe: d.Relay.FailSafe})
		if err != nil {
			return nil, lineError(file, d.Relay.Line, "door %s relay: %w", name, err)
		}
		hw.strikes[name] = rl
		relays = append(relays, rl.Halt)
	}
	if !real {
		return hw, nil
	}
	for _, d := range cfg.Doors {
		dd, err := hw.openDoor(res, file, d)
		if err != nil {
			return nil, err
		}
		hw.io.Doors = append(hw.io.Doors, dd)
	}
	return hw, nil
}

func usesHardware(cfg *config.File) bool {
	for _, d := range cfg.Doors {
		if d.Relay.Driver != config.DriverSim || d.Indicator != nil {
			return true
		}
		for _, dev := range []*config.Device{d.Contact, d.REX, d.Tamper} {
			if dev != nil && dev.Driver != config.DriverSim {
				return true
			}
		}
		for _, r := range d.Readers {
			if r.Driver != config.DriverSim {
				return true
			}
		}
	}
	return false
}

func (hw *hardware) openDoor(res Resolver, file string, d config.Door) (doorio.Door, error) {
	dd := doorio.Door{Name: d.Name, EscortWindow: d.EscortWindow}
	for _, r := range d.Readers {
		cr, err := hw.openReader(res, file, d.Name, r)
		if err != nil {
			return dd, err
		}
		if cr == nil {
			hw.log.Info("reader is simulated; nothing reads it without -sim", "door", d.Name, "reader", r.Name)
			continue
		}
		dd.Readers = append(dd.Readers, doorio.Reader{Name: r.Name, Dev: cr})
	}
	for _, in := range []struct {
		what    string
		dev     *config.Device
		to      *doorio.Switch
		chatter input.Chatter // chatter cannot hide a forced door or tamper, nor open the door by REX
	}{{"contact", d.Contact, &dd.Contact, input.ChatterActive}, {"rex", d.REX, &dd.REX, input.ChatterInactive}, {"tamper", d.Tamper, &dd.Tamper, input.ChatterActive}} {
		if in.dev == nil || in.dev.Driver != config.DriverGPIO {
			continue
		}
		pin, err := res.PinIn(in.dev.Pin)
		if err != nil {
			return dd, lineError(file, in.dev.Pin.Line, "door %s %s: %w", d.Name, in.what, err)
		}
		dev, err := input.New(pin, &input.Opts{
			Pull:      pull(in.dev.Input.Pull),
			ActiveLow: in.dev.Input.ActiveLow,
			Debounce:  in.dev.Input.Debounce,
			Chatter:   in.chatter,
		})
		if err != nil {
			return dd, lineError(file, in.dev.Line, "door %s %s: %w", d.Name, in.what, err)
		}
		hw.halts = append(hw.halts, dev.Halt)
		*in.to = dev
	}
	if ind := d.Indicator; ind != nil {
		var led, buzzer gpio.PinOut
		for _, o := range []struct {
			p  config.Pin
			to *gpio.PinOut
		}{{ind.LED, &led}, {ind.Buzzer, &buzzer}} {
			if o.p.IsZero() {
				continue
			}
			pin, err := res.PinOut(o.p)
			if err != nil {
				return dd, lineError(file, o.p.Line, "door %s indicator: %w", d.Name, err)
			}
			*o.to = pin
		}
		dev, err := indicator.New(led, buzzer, &indicator.Opts{LEDActiveLow: ind.ActiveLow, BuzzerActiveLow: ind.ActiveLow})
		if err != nil {
			return dd, lineError(file, ind.Line, "door %s indicator: %w", d.Name, err)
		}
		hw.halts = append(hw.halts, dev.Halt)
		dd.Indicator = dev
	}
	return dd, nil
}

func pull(p config.Pull) gpio.Pull {
	switch p {
	case config.PullUp:
		return gpio.PullUp
	case config.PullDown:
		return gpio.PullDown
	}
	return gpio.Float
}

// openReader returns the reader's run loop, or nil for a simulated one.
func (hw *hardware) openReader(res Resolver, file, door string, r config.Reader) (doorio.CardReader, error) {
	fail := func(line int, err error) error {
		return lineError(file, line, "door %s reader %s: %w", door, r.Name, err)
	}
	optPin := func(p config.Pin) (gpio.PinIO, error) {
		if p.IsZero() {
			return nil, nil
		}
		in, err := res.PinIn(p)
		if err != nil {
			return nil, fail(p.Line, err)
		}
		out, ok := in.(gpio.PinIO)
		if !ok {
			return nil, fail(p.Line, fmt.Errorf("pin %s cannot be an output", p))
		}
		return out, nil
	}
	switch {
	case r.Wiegand != nil:
		w := r.Wiegand
		open, err := res.Wiegand(w.D0, w.D1)
		if err != nil {
			return nil, fail(w.D0.Line, err)
		}
		opts := &wiegand.Opts{Lengths: w.Lengths, Gap: w.Gap}
		if _, err := wiegand.NewDecoder(opts); err != nil {
			return nil, fail(r.Line, err)
		}
		return &doorio.Wiegand{
			Name: fmt.Sprintf("wiegand d0=%s d1=%s", w.D0, w.D1),
			Open: func() (*wiegand.Dev, error) { return open(opts) },
		}, nil
	case r.RC522 != nil:
		c := r.RC522
		first, err := res.SPI(c.Bus.Name)
		if err != nil {
			return nil, fail(c.Bus.Line, err)
		}
		opts := rc522.Opts{HoldOff: c.HoldOff}
		reset, err := optPin(c.Reset)
		if err != nil {
			first.Close()
			return nil, err
		}
		if reset != nil {
			opts.Reset = reset
		}
		irq, err := optPin(c.IRQ)
		if err != nil {
			first.Close()
			return nil, err
		}
		if irq != nil {
			opts.IRQ = irq
		}
		name := c.Bus.Name
		return &doorio.RC522{
			Name: "rc522 " + name,
			Opts: opts,
			Port: func() (spi.PortCloser, error) {
				if p := first; p != nil {
					first = nil
					return p, nil
				}
				return res.SPI(name)
			},
		}, nil
	case r.PN532 != nil:
		c := r.PN532
		bus, err := res.I2C(c.Bus.Name)
		if err != nil {
			return nil, fail(c.Bus.Line, err)
		}
		hw.halts = append(hw.halts, bus.Close)
		opts := pn532.Opts{Addr: c.Addr, HoldOff: c.HoldOff}
		irq, err := optPin(c.IRQ)
		if err != nil {
			return nil, err
		}
		if irq != nil {
			opts.IRQ = irq
		}
		return &doorio.PN532{Name: fmt.Sprintf("pn532 %s@%#x", c.Bus.Name, c.Addr), Bus: bus, Opts: opts}, nil
	case r.HID != nil:
		return &doorio.HID{Path: r.HID.Device, HoldOff: r.HID.HoldOff, Opts: hidreader.Opts{Hex: r.HID.Hex, Terminator: hidreader.Terminator(r.HID.Terminator), KeyTimeout: r.HID.KeyTimeout}}, nil
	}
	return nil, nil
}

// run runs the readers and inputs until ctx is done.
func (hw *hardware) run(ctx context.Context, in doorio.Inputs) error {
	if len(hw.io.Doors) == 0 {
		return nil
	}
	hw.io.Ctrl = in
	return hw.io.Run(ctx)
}

// close halts every device: inputs, indicators and buses first, the relays
// (locked) last.
func (hw *hardware) close() {
	for _, h := range hw.halts {
		if err := h(); err != nil {
			hw.log.Warn("halt device", "err", err)
		}
	}
	hw.halts = nil
}
