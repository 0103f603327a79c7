package indicator

import (
	"fmt"
	"time"
)

// Step holds both outputs for a time.
type Step struct {
	LED    bool          // LED lit
	Buzzer bool          // buzzer sounding
	D      time.Duration // how long; must be positive
}

// Pattern is a sequence of steps.
type Pattern struct {
	// Name identifies the pattern in errors.
	Name  string
	Steps []Step
	// Repeat plays Steps in a loop until replaced or halted.
	Repeat bool
	// Limit, when positive, stops the pattern after that long, even in
	// the middle of a step.
	Limit time.Duration
}

// Duration is the time one pass over the steps takes.
func (p Pattern) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Steps {
		d += s.D
	}
	return d
}

func (p Pattern) validate() error {
	if len(p.Steps) == 0 {
		return fmt.Errorf("indicator: pattern %q: no steps", p.Name)
	}
	for i, s := range p.Steps {
		if s.D <= 0 {
			return fmt.Errorf("indicator: pattern %q: step %d: duration %v is not positive", p.Name, i, s.D)
		}
	}
	if p.Limit < 0 {
		return fmt.Errorf("indicator: pattern %q: negative limit %v", p.Name, p.Limit)
	}
	return nil
}

const (
	beep      = 100 * time.Millisecond
	slowBlink = 500 * time.Millisecond // 1 Hz
	fastBlink = 125 * time.Millisecond // 4 Hz
)

// Granted is the LED on for 2s with one short beep at the start.
func Granted() Pattern {
	return Pattern{Name: "granted", Steps: []Step{
		{LED: true, Buzzer: true, D: beep},
		{LED: true, D: 2*time.Second - beep},
	}}
}

// Denied is three short beeps with the LED off.
func Denied() Pattern {
	return Pattern{Name: "denied", Steps: []Step{
		{Buzzer: true, D: beep}, {D: beep},
		{Buzzer: true, D: beep}, {D: beep},
		{Buzzer: true, D: beep}, {D: beep},
	}}
}

// Waiting is a slow blink, silent, for at most limit; zero means until
// replaced or halted. It asks for an escort to badge.
func Waiting(limit time.Duration) Pattern {
	return Pattern{Name: "waiting", Repeat: true, Limit: limit, Steps: []Step{
		{LED: true, D: slowBlink},
		{D: slowBlink},
	}}
}

// Alarm is a fast blink with a beep on every flash, until replaced or
// halted.
func Alarm() Pattern {
	return Pattern{Name: "alarm", Repeat: true, Steps: []Step{
		{LED: true, Buzzer: true, D: fastBlink},
		{D: fastBlink},
	}}
}
