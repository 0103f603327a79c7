package input

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// Chatter is what Run reports for a pin that is still changing after
// Opts.MaxSettle: the debounce has not found a stable level, and the
// contact behind it cannot prove the door or the box shut.
type Chatter int

const (
	// ChatterInactive reports a chattering pin as inactive: right for a
	// request-to-exit button, where a false press would release the door.
	// It is the zero value, so an input that does not choose never invents
	// an activation.
	ChatterInactive Chatter = iota
	// ChatterActive reports a chattering pin as active: right for a door
	// contact (chatter cannot hide a forced-open door) and a tamper switch
	// (persistent chatter on the tamper loop is tamper).
	ChatterActive
)

// Opts configures an input. Zero durations mean the defaults below.
type Opts struct {
	// Pull is the pin's internal resistor. gpio.Float switches it off, for
	// external resistors (on a gpiocdev line, the bias disabled); the zero
	// value, gpio.PullNoChange, leaves it as the board or the last user set
	// it.
	Pull gpio.Pull
	// ActiveLow means a Low pin is reported as active.
	ActiveLow bool
	// Debounce is how long the pin must be free of edges before a change is
	// reported. Default 20ms.
	Debounce time.Duration
	// Poll bounds each wait for an edge; see the package Caveats.
	// Default 250ms.
	Poll time.Duration
	// MaxSettle caps the wait for the pin to settle: a pin that has not
	// been free of edges for Debounce within MaxSettle of the first edge is
	// chattering, and Run reports the Chatter level until it settles.
	// Default the larger of 500ms and 2*Debounce; it must not be shorter
	// than Debounce.
	MaxSettle time.Duration
	// Chatter is the level reported while the pin chatters.
	Chatter Chatter
}

// minMaxSettle is the default MaxSettle for short debounce times: a
// mechanical contact bounces for tens of milliseconds, never half a second.
const minMaxSettle = 500 * time.Millisecond

// DefaultOpts suits a switch to ground: internal pull-up, Low is active.
var DefaultOpts = Opts{
	Pull:      gpio.PullUp,
	ActiveLow: true,
	Debounce:  20 * time.Millisecond,
	Poll:      250 * time.Millisecond,
}

// Dev is a debounced digital input.
type Dev struct {
	pin  gpio.PinIn
	opts Opts

	mu     sync.Mutex
	cancel context.CancelFunc // of the running Run; nil when none
	done   chan struct{}      // closed when that Run has returned
}

// New configures pin as an input with opts.Pull and edge detection on both
// edges. A nil opts means DefaultOpts.
func New(pin gpio.PinIn, opts *Opts) (*Dev, error) {
	if pin == nil {
		return nil, fmt.Errorf("input: nil pin")
	}
	if opts == nil {
		opts = &DefaultOpts
	}
	o := *opts
	if o.Debounce < 0 || o.Poll < 0 || o.MaxSettle < 0 {
		return nil, fmt.Errorf("input %s: negative Debounce, Poll or MaxSettle", pin)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.Poll == 0 {
		o.Poll = DefaultOpts.Poll
	}
	if o.MaxSettle == 0 {
		o.MaxSettle = max(minMaxSettle, 2*o.Debounce)
	}
	if o.MaxSettle < o.Debounce {
		return nil, fmt.Errorf("input %s: MaxSettle %v shorter than Debounce %v", pin, o.MaxSettle, o.Debounce)
	}
	if err := pin.In(o.Pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("input %s: configure: %w", pin, err)
	}
	return &Dev{pin: pin, opts: o}, nil
}

// Run sends the current logical level (true: active) on out, then each
// debounced change, until ctx is cancelled or Halt is called; then it
// returns nil. Only one Run may be active at a time.
func (d *Dev) Run(ctx context.Context, out chan<- bool) error {
	d.mu.Lock()
	if d.cancel != nil {
		d.mu.Unlock()
		return fmt.Errorf("input %s: already running", d.pin)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	d.mu.Unlock()
	defer func() {
		cancel()
		d.mu.Lock()
		d.cancel, d.done = nil, nil
		d.mu.Unlock()
		close(done)
	}()
	d.watch(ctx, out)
	return nil
}

func (d *Dev) watch(ctx context.Context, out chan<- bool) {
	active := d.active(d.pin.Read())
	if !d.send(ctx, out, active) {
		return
	}
	for {
		edge := d.pin.WaitForEdge(d.opts.Poll)
		if ctx.Err() != nil {
			return
		}
		if !edge && d.active(d.pin.Read()) == active {
			continue
		}
		// Settle: every edge restarts the quiet period, but only up to
		// MaxSettle; then the pin is chattering and reads as Chatter until
		// it has been quiet for Debounce.
		start := time.Now()
		chattering := false
		for d.pin.WaitForEdge(d.opts.Debounce) {
			if ctx.Err() != nil {
				return
			}
			if chattering || time.Since(start) < d.opts.MaxSettle {
				continue
			}
			chattering = true
			if c := d.opts.Chatter == ChatterActive; c != active {
				active = c
				if !d.send(ctx, out, active) {
					return
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		if a := d.active(d.pin.Read()); a != active {
			active = a
			if !d.send(ctx, out, active) {
				return
			}
		}
	}
}

// active reports whether level l is the active level.
func (d *Dev) active(l gpio.Level) bool { return bool(l) != d.opts.ActiveLow }

func (d *Dev) send(ctx context.Context, out chan<- bool, active bool) bool {
	select {
	case out <- active:
		return true
	case <-ctx.Done():
		return false
	}
}

// Halt implements conn.Resource. It stops a running Run and waits for it to
// return (up to Opts.Poll). The pin stays an input.
func (d *Dev) Halt() error {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("input(%s)", d.pin)
}

var _ conn.Resource = (*Dev)(nil)
