package gpiocdev

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// handle is what a Line needs of its request; *Lines is one, tests
// record instead.
type handle interface {
	setValues(bits, mask uint64) error
	values(mask uint64) (uint64, error)
	reconfigure(cfg Config) error
	// waitEdge waits up to timeout (forever if negative, not at all if
	// zero) for edge events and reads those queued; it reports whether
	// there were any.
	waitEdge(timeout time.Duration) (bool, error)
	// wake ends a pending waitEdge.
	wake()
	close() error
}

// Line is one GPIO line of the character device as a periph gpio.PinIO,
// for the drivers that take a pin. It is requested from the kernel by its
// first In, Out or Read, with that call's configuration in the request:
// Out(l) requests an output at level l in one ioctl, so the line is never
// driven to another level first; In(pull, edge) requests an input with its
// bias and edges. Later calls change the configuration of the held
// request (GPIO_V2_LINE_SET_CONFIG_IOCTL), direction and level in one
// ioctl again. A request refused because another consumer holds the line
// is an error wrapping ErrBusy that names it.
//
// Line is safe for concurrent use; one WaitForEdge at a time.
type Line struct {
	loc      Location
	consumer string
	open     func(Config) (handle, error)

	mu     sync.Mutex
	h      handle // nil until requested
	cfg    Config // as requested or last reconfigured
	pull   gpio.Pull
	closed bool
}

func newLine(loc Location, consumer string, open func(Config) (handle, error)) *Line {
	return &Line{loc: loc, consumer: consumer, open: open}
}

// Location returns the line's chip and offset.
func (l *Line) Location() Location { return l.loc }

// String returns the line as Location does, "GPIO17 (gpiochip0:17)".
func (l *Line) String() string { return l.loc.String() }

// Name returns the kernel's name of the line, or its chip and offset when
// it has none.
func (l *Line) Name() string {
	if l.loc.Name != "" {
		return l.loc.Name
	}
	return l.loc.String()
}

// Number returns the line's offset on its chip.
func (l *Line) Number() int { return l.loc.Offset }

// Function returns "In", "Out", or "" before the first request.
//
// Deprecated: kept for pin.Pin.
func (l *Line) Function() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.h == nil:
		return ""
	case l.cfg.Flags&FlagOutput != 0:
		return "Out"
	}
	return "In"
}

// apply requests the line with cfg, or reconfigures the request held.
func (l *Line) apply(cfg Config) error {
	if l.closed {
		return fmt.Errorf("gpiocdev: %s: %w", l.loc, ErrClosed)
	}
	cfg.Consumer = l.consumer
	if l.h == nil {
		h, err := l.open(cfg)
		if err != nil {
			return err
		}
		l.h = h
	} else if err := l.h.reconfigure(cfg); err != nil {
		return err
	}
	l.cfg = cfg
	return nil
}

// In makes the line an input with pull's bias (gpio.Float disables the
// bias, gpio.PullNoChange leaves it) and edge detection. Implements
// gpio.PinIn.
func (l *Line) In(pull gpio.Pull, edge gpio.Edge) error {
	bias, err := Bias(pull)
	if err != nil {
		return err
	}
	edges, err := Edges(edge)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.apply(Config{Flags: FlagInput | bias | edges}); err != nil {
		return err
	}
	l.pull = pull
	return nil
}

// Out drives the line to level: on the first call, or on an input, by
// making it an output at that level in one ioctl. Implements
// gpio.PinOut.
func (l *Line) Out(level gpio.Level) error {
	var v uint64
	if level {
		v = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("gpiocdev: %s: %w", l.loc, ErrClosed)
	}
	if l.h != nil && l.cfg.Flags&FlagOutput != 0 {
		if err := l.h.setValues(v, 1); err != nil {
			return err
		}
		l.cfg.Values = v
		return nil
	}
	if err := l.apply(Config{Flags: FlagOutput, Values: v}); err != nil {
		return err
	}
	l.pull = gpio.PullNoChange
	return nil
}

// Read returns the line's level. A line not yet requested is requested as
// an input with its bias left as it is. gpio.PinIn has no way to report
// an error: a failed read returns Low.
func (l *Line) Read() gpio.Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h == nil {
		if err := l.apply(Config{Flags: FlagInput}); err != nil {
			return gpio.Low
		}
	}
	if l.closed {
		return gpio.Low
	}
	v, err := l.h.values(1)
	if err != nil {
		return gpio.Low
	}
	return v&1 != 0
}

// WaitForEdge waits up to timeout (forever if negative) for an edge
// requested by In, and reports whether there was one; the edges queued
// since the last call count as one. Halt ends a pending wait.
func (l *Line) WaitForEdge(timeout time.Duration) bool {
	l.mu.Lock()
	h, edges := l.h, l.cfg.Flags&(FlagEdgeRising|FlagEdgeFalling) != 0
	closed := l.closed
	l.mu.Unlock()
	if h == nil || !edges || closed {
		return false
	}
	ok, err := h.waitEdge(timeout)
	return ok && err == nil
}

// Pull returns the pull last set by In.
func (l *Line) Pull() gpio.Pull {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pull
}

// DefaultPull returns gpio.PullNoChange: the uAPI does not report a line's
// reset bias.
func (l *Line) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// PWM is not supported.
func (l *Line) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("gpiocdev: PWM is not supported")
}

// Halt ends a pending WaitForEdge. The line stays requested, at its level.
// Implements conn.Resource.
func (l *Line) Halt() error {
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	if h != nil {
		h.wake()
	}
	return nil
}

// Close releases the line; what the kernel then does with it is the
// chip's driver's (a Raspberry Pi keeps an output driven). A second Close
// returns ErrClosed.
func (l *Line) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	if l.h == nil {
		return nil
	}
	return l.h.close()
}

var (
	_ gpio.PinIO    = (*Line)(nil)
	_ conn.Resource = (*Line)(nil)
)
