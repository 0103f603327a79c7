// Package doortest holds a doorio.Resolver over fakes, for tests of the
// door hardware opened from a configuration: recording pins
// (hwtest.Pin), fake Wiegand edge sources (hwtest.EdgeSource) and empty
// bus playbacks.
package doortest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/drivers/wiegand"
	"github.com/pintu/pintu/internal/hwtest"
)

// ErrNoPin is wrapped by Resolver for a line it does not have.
var ErrNoPin = errors.New("no such GPIO line")

// Resolver is a doorio.Resolver over fakes: GPIO0 to GPIO27 (or
// gpiochip0:0 to :27) are recording Pins, SPI0.0 and SPI0.1 and I2C1 empty
// playbacks (a reader there never answers), and Wiegand lines fake edge
// sources.
type Resolver struct {
	// OnOut, if set before the first line is resolved, is called after
	// every level written to a line, with the line's name.
	OnOut func(pin string, l gpio.Level)

	mu        sync.Mutex
	pins      map[int]*hwtest.Pin
	consumers map[int]string
	sources   map[string]chan *hwtest.EdgeSource // by d0, every source opened
}

// NewResolver returns a Resolver with no line resolved yet.
func NewResolver() *Resolver {
	return &Resolver{pins: map[int]*hwtest.Pin{}, consumers: map[int]string{}, sources: map[string]chan *hwtest.EdgeSource{}}
}

func (r *Resolver) offset(p config.Pin) (int, error) {
	n := -1
	switch {
	case p.Name != "":
		if v, ok := strings.CutPrefix(p.Name, "GPIO"); ok {
			if i, err := strconv.Atoi(v); err == nil {
				n = i
			}
		}
	case p.Chip == "gpiochip0":
		n = p.Offset
	}
	if n < 0 || n > 27 {
		return 0, fmt.Errorf("%w %s", ErrNoPin, p)
	}
	return n, nil
}

func (r *Resolver) pin(p config.Pin, consumer string) (*hwtest.Pin, error) {
	n, err := r.offset(p)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.consumers[n] = consumer
	if pin, ok := r.pins[n]; ok {
		return pin, nil
	}
	name := "GPIO" + strconv.Itoa(n)
	pin := hwtest.NewPin(name, n)
	if r.OnOut != nil {
		on := r.OnOut
		pin.OnOut = func(l gpio.Level) { on(name, l) }
	}
	r.pins[n] = pin
	return pin, nil
}

// Line implements doorio.Resolver.
func (r *Resolver) Line(p config.Pin, consumer string) (gpio.PinIO, error) {
	return r.pin(p, consumer)
}

// SPI implements doorio.Resolver.
func (r *Resolver) SPI(name string) (spi.PortCloser, error) {
	if name != "SPI0.0" && name != "SPI0.1" {
		return nil, fmt.Errorf("no SPI port %s", name)
	}
	return &spitest.Playback{Playback: conntest.Playback{DontPanic: true}}, nil
}

// I2C implements doorio.Resolver.
func (r *Resolver) I2C(name string) (i2c.BusCloser, error) {
	if name != "I2C1" {
		return nil, fmt.Errorf("no I2C bus %s", name)
	}
	return &i2ctest.Playback{DontPanic: true}, nil
}

// Wiegand implements doorio.Resolver: each open makes an EdgeSource, which
// Source returns.
func (r *Resolver) Wiegand(d0, d1 config.Pin, consumer string) (doorio.WiegandOpener, error) {
	for _, p := range []config.Pin{d0, d1} {
		if _, err := r.pin(p, consumer); err != nil {
			return nil, err
		}
	}
	ch := r.sourceChan(d0.String())
	return func(opts *wiegand.Opts) (*wiegand.Dev, error) {
		src := hwtest.NewEdgeSource("fake " + d0.String())
		dev, err := wiegand.New(src, opts)
		if err == nil {
			ch <- src
		}
		return dev, err
	}, nil
}

// Describe implements doorio.Resolver: every line is on gpiochip0, held by
// the consumer it was resolved with.
func (r *Resolver) Describe(p config.Pin) (doorio.LineState, error) {
	n, err := r.offset(p)
	if err != nil {
		return doorio.LineState{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := doorio.LineState{Chip: "gpiochip0", Label: "fake", Offset: n, Name: "GPIO" + strconv.Itoa(n), Flags: "none"}
	if c, ok := r.consumers[n]; ok {
		s.Consumer, s.Flags = c, "used"
	}
	return s, nil
}

func (r *Resolver) sourceChan(d0 string) chan *hwtest.EdgeSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.sources[d0]
	if !ok {
		ch = make(chan *hwtest.EdgeSource, 8)
		r.sources[d0] = ch
	}
	return ch
}

// Source returns the next edge source opened for the reader on d0, such
// as "GPIO5", waiting up to 10s.
func (r *Resolver) Source(t testing.TB, d0 string) *hwtest.EdgeSource {
	t.Helper()
	select {
	case s := <-r.sourceChan(d0):
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("no edge source opened on %s", d0)
		return nil
	}
}

// Get returns the Pin of offset n, or nil if it was never resolved.
func (r *Resolver) Get(n int) *hwtest.Pin {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pins[n]
}

var _ doorio.Resolver = (*Resolver)(nil)
