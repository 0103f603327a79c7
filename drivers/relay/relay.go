package relay

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// Opts describes how the relay and the lock are wired. The zero value is a
// fail-secure strike on a relay energised by a High pin.
type Opts struct {
	// ActiveLow means a Low pin energises the relay.
	ActiveLow bool
	// FailSafe means the lock is released when the relay is de-energised
	// (a maglock); false means energising the relay releases it (a
	// fail-secure strike).
	FailSafe bool
}

// DefaultOpts is a fail-secure strike on an active-high relay.
var DefaultOpts = Opts{}

// Dev is a door lock relay. It is safe for concurrent use.
type Dev struct {
	pin      gpio.PinOut
	opts     Opts
	mu       sync.Mutex
	unlocked bool
}

// New returns a relay on pin and drives the pin to the locked level (see the
// package documentation) before returning. A nil opts means DefaultOpts.
func New(pin gpio.PinOut, opts *Opts) (*Dev, error) {
	if pin == nil {
		return nil, fmt.Errorf("relay: nil pin")
	}
	if opts == nil {
		opts = &DefaultOpts
	}
	d := &Dev{pin: pin, opts: *opts}
	if err := d.pin.Out(d.level(false)); err != nil {
		return nil, fmt.Errorf("relay %s: lock: %w", pin, err)
	}
	return d, nil
}

// Set drives the lock to unlocked (true) or locked (false). If the write
// fails, Unlocked keeps reporting the previous state.
func (d *Dev) Set(unlocked bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.set(unlocked)
}

func (d *Dev) set(unlocked bool) error {
	if err := d.pin.Out(d.level(unlocked)); err != nil {
		op := "lock"
		if unlocked {
			op = "unlock"
		}
		return fmt.Errorf("relay %s: %s: %w", d.pin, op, err)
	}
	d.unlocked = unlocked
	return nil
}

// Unlocked reports the last state successfully written.
func (d *Dev) Unlocked() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unlocked
}

// Halt implements conn.Resource. It locks the door: the pin goes to the
// locked level from the table in the package documentation, which leaves a
// fail-secure strike's relay de-energised and a fail-safe maglock's relay
// energised. With the zero Opts the pin goes Low.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.set(false)
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("relay(%s)", d.pin)
}

// level returns the pin level for a lock state: the relay is energised when
// unlocked XOR FailSafe, and energised means High unless ActiveLow.
func (d *Dev) level(unlocked bool) gpio.Level {
	energised := unlocked != d.opts.FailSafe
	return gpio.Level(energised != d.opts.ActiveLow)
}

var _ conn.Resource = (*Dev)(nil)
