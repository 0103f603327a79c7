package doorio

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/drivers/hidreader"
	"github.com/pintu/pintu/drivers/indicator"
	"github.com/pintu/pintu/drivers/input"
	"github.com/pintu/pintu/drivers/pn532"
	"github.com/pintu/pintu/drivers/rc522"
	"github.com/pintu/pintu/drivers/relay"
	"github.com/pintu/pintu/drivers/sim"
	"github.com/pintu/pintu/drivers/wiegand"
)

// Resolver finds the GPIO lines and buses a configuration names.
// NewResolver's goes through the kernel's GPIO character device; tests
// substitute fakes.
type Resolver interface {
	// Line returns the line p names, checked to exist and to be free,
	// and not yet requested: the driver's first In or Out requests it
	// with its configuration (an output at its safe level, an input with
	// its bias). consumer is the label the kernel shows while pintud
	// holds it.
	Line(p config.Pin, consumer string) (gpio.PinIO, error)
	// SPI opens an SPI port such as SPI0.0. It is called again each time
	// a reader on it is re-initialised.
	SPI(name string) (spi.PortCloser, error)
	I2C(name string) (i2c.BusCloser, error)
	// Wiegand checks that d0 and d1 exist on one chip and are free, and
	// returns what requests them as one line set.
	Wiegand(d0, d1 config.Pin, consumer string) (WiegandOpener, error)
	// Describe reports where the line p names is and who holds it now.
	Describe(p config.Pin) (LineState, error)
}

// WiegandOpener requests a Wiegand reader's lines and starts decoding.
type WiegandOpener func(opts *wiegand.Opts) (*wiegand.Dev, error)

// LineState is a configured line as the kernel reports it.
type LineState struct {
	Chip     string // gpiochip0
	Label    string // the chip's driver, pinctrl-bcm2711
	Offset   int
	Name     string // the kernel's name of the line
	Consumer string // who holds it; "" when free
	Flags    string // how it is held: "used,output", "used,input,pull-up,…"
}

// LineUse is one GPIO line of the configuration and what it is for.
type LineUse struct {
	Use string // "door server-room relay"
	Pin config.Pin
}

// Devices is the door hardware opened from a configuration: the strikes
// for the controller, and the readers, switches and indicators to run.
type Devices struct {
	Strikes  Strikes
	Hardware *Hardware

	res     Resolver // nil when nothing is real
	lines   []LineUse
	halts   []func() error // relays last, so the doors lock last
	closers []io.Closer    // lines and readers held, released after the halts
	log     *slog.Logger
}

// lineError names the configuration line a hardware problem comes from.
func lineError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %w", file, line, fmt.Errorf(format, args...))
}

// Open opens every device cfg names. The relays come first, each requested
// at its locked level as it is opened, so that nothing else can happen
// before the doors are locked. With simulate, or a device whose driver is
// sim, the device is simulated, and newRes is not called when everything
// is. A line or bus that does not exist, or a line another program holds,
// is an error naming its line in file; a reader that does not answer is
// not, since its run loop retries it.
func Open(cfg *config.File, file string, simulate bool, newRes func() (Resolver, error), log *slog.Logger) (_ *Devices, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Devices{Strikes: Strikes{}, Hardware: &Hardware{Log: log}, log: log}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	real := !simulate && usesHardware(cfg)
	if real {
		if d.res, err = newRes(); err != nil {
			return nil, err
		}
	}
	// Whatever fails below, the relays opened are halted (locked), last.
	var relays []func() error
	defer func() { d.halts = append(d.halts, relays...) }()
	for _, door := range cfg.Doors {
		name := door.Name
		if !real || door.Relay.Driver != config.DriverGPIO {
			d.Strikes[name] = sim.NewRelay(name, func(unlocked bool) {
				state := "locked"
				if unlocked {
					state = "unlocked"
				}
				log.Info("relay", "door", name, "state", state)
			})
			continue
		}
		pin, err := d.line(door.Relay.Pin, name, "relay")
		if err != nil {
			return nil, lineError(file, door.Relay.Pin.Line, "door %s relay: %w", name, err)
		}
		// relay.New's first write is the locked level: the line's request.
		rl, err := relay.New(pin, &relay.Opts{ActiveLow: door.Relay.ActiveLow, FailSafe: door.Relay.FailSafe})
		if err != nil {
			return nil, lineError(file, door.Relay.Line, "door %s relay: %w", name, err)
		}
		d.Strikes[name] = rl
		relays = append(relays, rl.Halt)
	}
	if !real {
		return d, nil
	}
	for _, door := range cfg.Doors {
		dd, err := d.openDoor(file, door)
		if err != nil {
			return nil, err
		}
		d.Hardware.Doors = append(d.Hardware.Doors, dd)
	}
	return d, nil
}

// consumer is the label the kernel shows for a line: "pintud:<door>:<what>",
// cut to the kernel's 31 bytes by the request.
func consumer(door, what string) string { return "pintud:" + door + ":" + what }

// line resolves a line and keeps it to release on Close.
func (d *Devices) line(p config.Pin, door, what string) (gpio.PinIO, error) {
	pin, err := d.res.Line(p, consumer(door, what))
	if err != nil {
		return nil, err
	}
	d.lines = append(d.lines, LineUse{Use: "door " + door + " " + what, Pin: p})
	if c, ok := pin.(io.Closer); ok {
		d.closers = append(d.closers, c)
	}
	return pin, nil
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

func (d *Devices) openDoor(file string, door config.Door) (Door, error) {
	dd := Door{Name: door.Name, EscortWindow: door.EscortWindow}
	for _, r := range door.Readers {
		cr, err := d.openReader(file, door.Name, r)
		if err != nil {
			return dd, err
		}
		if cr == nil {
			d.log.Info("reader is simulated; nothing reads it without -sim", "door", door.Name, "reader", r.Name)
			continue
		}
		dd.Readers = append(dd.Readers, Reader{Name: r.Name, Dev: cr})
	}
	for _, in := range []struct {
		what    string
		dev     *config.Device
		to      *Switch
		chatter input.Chatter // chatter cannot hide a forced door or tamper, nor open the door by REX
	}{{"contact", door.Contact, &dd.Contact, input.ChatterActive}, {"rex", door.REX, &dd.REX, input.ChatterInactive}, {"tamper", door.Tamper, &dd.Tamper, input.ChatterActive}} {
		if in.dev == nil || in.dev.Driver != config.DriverGPIO {
			continue
		}
		pin, err := d.line(in.dev.Pin, door.Name, in.what)
		if err != nil {
			return dd, lineError(file, in.dev.Pin.Line, "door %s %s: %w", door.Name, in.what, err)
		}
		dev, err := input.New(pin, &input.Opts{
			Pull:      Pull(in.dev.Input.Pull),
			ActiveLow: in.dev.Input.ActiveLow,
			Debounce:  in.dev.Input.Debounce,
			Chatter:   in.chatter,
		})
		if err != nil {
			return dd, lineError(file, in.dev.Line, "door %s %s: %w", door.Name, in.what, err)
		}
		d.halts = append(d.halts, dev.Halt)
		*in.to = dev
	}
	if ind := door.Indicator; ind != nil {
		var led, buzzer gpio.PinOut
		for _, o := range []struct {
			what string
			p    config.Pin
			to   *gpio.PinOut
		}{{"led", ind.LED, &led}, {"buzzer", ind.Buzzer, &buzzer}} {
			if o.p.IsZero() {
				continue
			}
			pin, err := d.line(o.p, door.Name, o.what)
			if err != nil {
				return dd, lineError(file, o.p.Line, "door %s indicator: %w", door.Name, err)
			}
			*o.to = pin
		}
		// indicator.New's first writes are off: the lines' requests.
		dev, err := indicator.New(led, buzzer, &indicator.Opts{LEDActiveLow: ind.ActiveLow, BuzzerActiveLow: ind.ActiveLow})
		if err != nil {
			return dd, lineError(file, ind.Line, "door %s indicator: %w", door.Name, err)
		}
		d.halts = append(d.halts, dev.Halt)
		dd.Indicator = dev
	}
	return dd, nil
}

// Pull maps a configured pull to periph's: none is gpio.Float, which
// package gpiocdev requests as GPIO_V2_LINE_FLAG_BIAS_DISABLED.
func Pull(p config.Pull) gpio.Pull {
	switch p {
	case config.PullUp:
		return gpio.PullUp
	case config.PullDown:
		return gpio.PullDown
	}
	return gpio.Float
}

// openReader returns the reader's run loop, or nil for a simulated one.
func (d *Devices) openReader(file, door string, r config.Reader) (CardReader, error) {
	fail := func(line int, err error) error {
		return lineError(file, line, "door %s reader %s: %w", door, r.Name, err)
	}
	optPin := func(p config.Pin, what string) (gpio.PinIO, error) {
		if p.IsZero() {
			return nil, nil
		}
		pin, err := d.line(p, door, r.Name+"-"+what)
		if err != nil {
			return nil, fail(p.Line, err)
		}
		return pin, nil
	}
	switch {
	case r.Wiegand != nil:
		w := r.Wiegand
		open, err := d.res.Wiegand(w.D0, w.D1, consumer(door, r.Name))
		if err != nil {
			return nil, fail(w.D0.Line, err)
		}
		d.lines = append(d.lines,
			LineUse{Use: "door " + door + " reader " + r.Name + " d0", Pin: w.D0},
			LineUse{Use: "door " + door + " reader " + r.Name + " d1", Pin: w.D1})
		opts := &wiegand.Opts{Lengths: w.Lengths, Gap: w.Gap}
		if _, err := wiegand.NewDecoder(opts); err != nil {
			return nil, fail(r.Line, err)
		}
		// Requested now, so that a line another program holds fails the
		// start and the lines show as pintud's; the run loop takes this
		// Dev first and reopens on failure.
		first, err := open(opts)
		if err != nil {
			return nil, fail(w.D0.Line, err)
		}
		f := &firstDev{dev: first}
		d.closers = append(d.closers, f)
		return &Wiegand{
			Name: fmt.Sprintf("wiegand d0=%s d1=%s", w.D0, w.D1),
			Open: func() (*wiegand.Dev, error) {
				if dev := f.take(); dev != nil {
					return dev, nil
				}
				return open(opts)
			},
		}, nil
	case r.RC522 != nil:
		c := r.RC522
		first, err := d.res.SPI(c.Bus.Name)
		if err != nil {
			return nil, fail(c.Bus.Line, err)
		}
		opts := rc522.Opts{HoldOff: c.HoldOff}
		reset, err := optPin(c.Reset, "reset")
		if err != nil {
			first.Close()
			return nil, err
		}
		if reset != nil {
			opts.Reset = reset
		}
		irq, err := optPin(c.IRQ, "irq")
		if err != nil {
			first.Close()
			return nil, err
		}
		if irq != nil {
			opts.IRQ = irq
		}
		name := c.Bus.Name
		return &RC522{
			Name: "rc522 " + name,
			Opts: opts,
			Port: func() (spi.PortCloser, error) {
				if p := first; p != nil {
					first = nil
					return p, nil
				}
				return d.res.SPI(name)
			},
		}, nil
	case r.PN532 != nil:
		c := r.PN532
		bus, err := d.res.I2C(c.Bus.Name)
		if err != nil {
			return nil, fail(c.Bus.Line, err)
		}
		d.halts = append(d.halts, bus.Close)
		opts := pn532.Opts{Addr: c.Addr, HoldOff: c.HoldOff}
		irq, err := optPin(c.IRQ, "irq")
		if err != nil {
			return nil, err
		}
		if irq != nil {
			opts.IRQ = irq
		}
		return &PN532{Name: fmt.Sprintf("pn532 %s@%#x", c.Bus.Name, c.Addr), Bus: bus, Opts: opts}, nil
	case r.HID != nil:
		return &HID{Path: r.HID.Device, HoldOff: r.HID.HoldOff, Opts: hidreader.Opts{Hex: r.HID.Hex, Terminator: hidreader.Terminator(r.HID.Terminator), KeyTimeout: r.HID.KeyTimeout}}, nil
	}
	return nil, nil
}

// firstDev is a Wiegand Dev opened at start, until its run loop takes it.
type firstDev struct {
	mu  sync.Mutex
	dev *wiegand.Dev
}

func (f *firstDev) take() *wiegand.Dev {
	f.mu.Lock()
	defer f.mu.Unlock()
	dev := f.dev
	f.dev = nil
	return dev
}

// Close closes the Dev if no run loop took it.
func (f *firstDev) Close() error {
	if dev := f.take(); dev != nil {
		return dev.Close()
	}
	return nil
}

// Lines returns the GPIO lines of the configuration that are real, in the
// order they were opened.
func (d *Devices) Lines() []LineUse { return d.lines }

// Describe reports a line of Lines as the kernel sees it now.
func (d *Devices) Describe(u LineUse) (LineState, error) {
	if d.res == nil {
		return LineState{}, fmt.Errorf("%s: simulated", u.Use)
	}
	return d.res.Describe(u.Pin)
}

// Run runs the readers and inputs until ctx is done, feeding in.
func (d *Devices) Run(ctx context.Context, in Inputs) error {
	if len(d.Hardware.Doors) == 0 {
		return nil
	}
	d.Hardware.Ctrl = in
	return d.Hardware.Run(ctx)
}

// Close halts every device, inputs, indicators and buses first, the relays
// (locked) last, then releases the lines.
func (d *Devices) Close() {
	for _, h := range d.halts {
		if err := h(); err != nil {
			d.log.Warn("halt device", "err", err)
		}
	}
	d.halts = nil
	for _, c := range d.closers {
		if err := c.Close(); err != nil {
			d.log.Warn("release device", "err", err)
		}
	}
	d.closers = nil
}
