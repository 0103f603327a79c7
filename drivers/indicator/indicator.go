package indicator

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// Opts describes how the outputs are wired.
type Opts struct {
	// LEDActiveLow means the LED lights when its pin is Low.
	LEDActiveLow bool
	// BuzzerActiveLow means the buzzer sounds when its pin is Low.
	BuzzerActiveLow bool
}

// DefaultOpts is both outputs active high.
var DefaultOpts = Opts{}

// Dev plays patterns on a LED and a buzzer. It is safe for concurrent use.
type Dev struct {
	led, buzzer gpio.PinOut
	opts        Opts

	mu sync.Mutex // serialises Play and Halt
	p  *player    // the playing pattern; nil when none
	// lit and sounding are the last levels written, and known says whether
	// they are valid. They belong to the running player, or to the holder of
	// mu when there is none.
	lit, sounding, known bool
	err                  error // a write error from a player, for the next call
}

// player is one playback of a pattern.
type player struct {
	stop chan struct{} // closed to ask the goroutine to stop
	done chan struct{} // closed by the goroutine when it exits
}

// New returns an indicator and turns both outputs off. Either pin may be
// nil, not both. A nil opts means DefaultOpts.
func New(led, buzzer gpio.PinOut, opts *Opts) (*Dev, error) {
	if led == nil && buzzer == nil {
		return nil, errors.New("indicator: no LED and no buzzer")
	}
	if opts == nil {
		opts = &DefaultOpts
	}
	d := &Dev{led: led, buzzer: buzzer, opts: *opts}
	if err := d.write(Step{}); err != nil {
		return nil, fmt.Errorf("indicator: off: %w", err)
	}
	return d, nil
}

// Play starts p, replacing the pattern playing. It writes the first step
// before it returns.
func (d *Dev) Play(p Pattern) error {
	if err := p.validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.stop()
	if err := d.write(p.Steps[0]); err != nil {
		return errors.Join(prev, fmt.Errorf("indicator: play %q: %w", p.Name, err))
	}
	pl := &player{stop: make(chan struct{}), done: make(chan struct{})}
	d.p = pl
	go d.run(p, pl)
	return prev
}

// Halt implements conn.Resource. It stops the pattern playing, waits for
// the player goroutine to exit and turns the LED and the buzzer off (pins
// at their inactive level: Low unless the output is active low).
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.stop()
	if err := d.write(Step{}); err != nil {
		return errors.Join(prev, fmt.Errorf("indicator: off: %w", err))
	}
	return prev
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("indicator(led=%s, buzzer=%s)", name(d.led), name(d.buzzer))
}

func name(p gpio.PinOut) string {
	if p == nil {
		return "none"
	}
	return p.String()
}

// stop stops the player, if any, and returns the error left by a player.
// d.mu must be held.
func (d *Dev) stop() error {
	if d.p != nil {
		close(d.p.stop)
		<-d.p.done
		d.p = nil
	}
	err := d.err
	d.err = nil
	return err
}

// run plays p until it ends, its Limit passes or pl.stop is closed. The
// first step has been written already.
func (d *Dev) run(p Pattern, pl *player) {
	defer close(pl.done)
	var limit <-chan time.Time
	if p.Limit > 0 {
		t := time.NewTimer(p.Limit)
		defer t.Stop()
		limit = t.C
	}
	step := time.NewTimer(p.Steps[0].D)
	defer step.Stop()
	for i := 0; ; {
		select {
		case <-pl.stop:
			return
		case <-limit:
			d.finish(p, d.write(Step{}))
			return
		case <-step.C:
		}
		i++
		if i == len(p.Steps) {
			if !p.Repeat {
				d.finish(p, d.write(Step{}))
				return
			}
			i = 0
		}
		if err := d.write(p.Steps[i]); err != nil {
			d.finish(p, errors.Join(err, d.write(Step{})))
			return
		}
		step.Reset(p.Steps[i].D)
	}
}

// finish records a write error of the player for the next Play or Halt.
// Only the goroutine writes d.err while it runs; stop reads it after done.
func (d *Dev) finish(p Pattern, err error) {
	if err != nil {
		d.err = fmt.Errorf("indicator: play %q: %w", p.Name, err)
	}
}

// write sets both outputs as s says, skipping a pin already at that level.
// Its errors name the pin but lack the package prefix, for the caller to add.
func (d *Dev) write(s Step) error {
	var errs []error
	if d.led != nil && (!d.known || d.lit != s.LED) {
		if err := d.led.Out(gpio.Level(s.LED != d.opts.LEDActiveLow)); err != nil {
			errs = append(errs, fmt.Errorf("led %s: %w", d.led, err))
		}
	}
	if d.buzzer != nil && (!d.known || d.sounding != s.Buzzer) {
		if err := d.buzzer.Out(gpio.Level(s.Buzzer != d.opts.BuzzerActiveLow)); err != nil {
			errs = append(errs, fmt.Errorf("buzzer %s: %w", d.buzzer, err))
		}
	}
	// After a failed write the level is unknown: rewrite both next time.
	d.lit, d.sounding, d.known = s.LED, s.Buzzer, len(errs) == 0
	return errors.Join(errs...)
}

var _ conn.Resource = (*Dev)(nil)
