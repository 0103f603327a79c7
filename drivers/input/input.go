package input

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
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
}

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
	if o.Debounce < 0 || o.Poll < 0 {
		return nil, fmt.Errorf("input %s: negative Debounce or Poll", pin)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.Poll == 0 {
		o.Poll = DefaultOpts.Poll
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
	level := d.pin.Read()
	if !d.send(ctx, out, level) {
		return
	}
	for {
		edge := d.pin.WaitForEdge(d.opts.Poll)
		if ctx.Err() != nil {
			return
		}
		if !edge && d.pin.Read() == level {
			continue
		}
		// Settle: every edge restarts the quiet period.
		for d.pin.WaitForEdge(d.opts.Debounce) {
			if ctx.Err() != nil {
				return
			}
		}
		if l := d.pin.Read(); l != level {
			level = l
			if !d.send(ctx, out, level) {
				return
			}
		}
	}
}

func (d *Dev) send(ctx context.Context, out chan<- bool, l gpio.Level) bool {
	select {
	case out <- bool(l) != d.opts.ActiveLow:
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
