package doorio

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/drivers/gpiocdev"
	"github.com/pintu/pintu/drivers/wiegand"
)

// ChardevResolver is the machine's Resolver. Every GPIO line, named
// (GPIO17) or by chip and offset (gpiochip0:17), is found among the
// kernel's GPIO chips and requested through the GPIO character device
// (package gpiocdev); periph.io's GPIO registry, and with it its bcm283x
// driver that writes the SoC's registers, is never asked. Buses come from
// periph.io's SPI and I2C registries, which host.Init fills.
type ChardevResolver struct {
	// Chips lists the GPIO chips; nil means gpiocdev.Chips("/dev"). It is
	// called once, at the first line resolved.
	Chips func() ([]gpiocdev.Chip, error)
	// Info reports a line as the kernel sees it; nil means
	// gpiocdev.ReadLineInfo.
	Info func(path string, offset int) (gpiocdev.LineInfo, error)

	once  sync.Once
	chips []gpiocdev.Chip
	err   error
}

// NewResolver returns the machine's Resolver over /dev/gpiochip*.
func NewResolver() *ChardevResolver { return &ChardevResolver{} }

func (r *ChardevResolver) scan() ([]gpiocdev.Chip, error) {
	r.once.Do(func() {
		list := r.Chips
		if list == nil {
			list = func() ([]gpiocdev.Chip, error) { return gpiocdev.Chips("/dev") }
		}
		r.chips, r.err = list()
	})
	return r.chips, r.err
}

func (r *ChardevResolver) info(loc gpiocdev.Location) (gpiocdev.LineInfo, error) {
	if r.Info != nil {
		return r.Info(loc.Path, loc.Offset)
	}
	return gpiocdev.ReadLineInfo(loc.Path, loc.Offset)
}

// locate finds the line p names.
func (r *ChardevResolver) locate(p config.Pin) (gpiocdev.Location, error) {
	chips, err := r.scan()
	if err != nil {
		return gpiocdev.Location{}, err
	}
	if p.Name != "" {
		return gpiocdev.Lookup(chips, p.Chip, p.Name)
	}
	return gpiocdev.At(chips, p.Chip, p.Offset)
}

// free locates the line p names and checks that nobody holds it: the
// request would fail too, but a reader's lines are requested by its run
// loop, and start is the time to say.
func (r *ChardevResolver) free(p config.Pin) (gpiocdev.Location, error) {
	loc, err := r.locate(p)
	if err != nil {
		return loc, err
	}
	info, err := r.info(loc)
	if err != nil {
		return loc, err
	}
	if info.Flags&gpiocdev.FlagUsed != 0 {
		who := fmt.Sprintf("%q", info.Consumer)
		if info.Consumer == "" {
			who = "a consumer with no label"
		}
		return loc, fmt.Errorf("%w: %s is held by %s (gpioinfo shows it): stop that program or driver, or configure another line",
			gpiocdev.ErrBusy, loc, who)
	}
	return loc, nil
}

// Line implements Resolver: a *gpiocdev.Line, requested by the driver's
// first call.
func (r *ChardevResolver) Line(p config.Pin, consumer string) (gpio.PinIO, error) {
	loc, err := r.free(p)
	if err != nil {
		return nil, err
	}
	return gpiocdev.NewLine(loc, consumer), nil
}

// Wiegand implements Resolver.
func (r *ChardevResolver) Wiegand(d0, d1 config.Pin, consumer string) (WiegandOpener, error) {
	l0, err := r.free(d0)
	if err != nil {
		return nil, fmt.Errorf("d0: %w", err)
	}
	l1, err := r.free(d1)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if l0.Path != l1.Path {
		return nil, fmt.Errorf("d0 is %s and d1 %s: they must be on one chip, whose one request numbers their edges in order", l0, l1)
	}
	return func(opts *wiegand.Opts) (*wiegand.Dev, error) {
		o := *opts
		o.Consumer = consumer
		return wiegand.Open(l0.Path, l0.Offset, l1.Offset, &o)
	}, nil
}

// Describe implements Resolver.
func (r *ChardevResolver) Describe(p config.Pin) (LineState, error) {
	loc, err := r.locate(p)
	if err != nil {
		return LineState{}, err
	}
	info, err := r.info(loc)
	if err != nil {
		return LineState{}, err
	}
	return LineState{
		Chip: loc.Chip, Label: loc.Label, Offset: loc.Offset, Name: info.Name,
		Consumer: info.Consumer, Flags: info.Flags.String(),
	}, nil
}

// SPI implements Resolver.
func (*ChardevResolver) SPI(name string) (spi.PortCloser, error) {
	p, err := spireg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open SPI port %s (is SPI enabled with dtparam=spi=on?): %w", name, err)
	}
	return p, nil
}

// I2C implements Resolver.
func (*ChardevResolver) I2C(name string) (i2c.BusCloser, error) {
	b, err := i2creg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open I2C bus %s (is I2C enabled with dtparam=i2c_arm=on?): %w", name, err)
	}
	return b, nil
}

var _ Resolver = (*ChardevResolver)(nil)
