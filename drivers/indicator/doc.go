// Package indicator drives a reader's feedback outputs, an LED and a buzzer,
// through timed patterns.
//
// A Pattern is plain data: a list of Steps, each holding both outputs on or
// off for a duration, played once or repeated, optionally cut off after a
// Limit. Granted, Denied, Waiting and Alarm build the standard ones:
//
//   - Granted: LED on for 2s with one short beep at the start.
//   - Denied: three short beeps, LED off.
//   - Waiting (for an escort): slow 1 Hz blink until replaced, halted or the
//     limit passed in.
//   - Alarm: fast 4 Hz blink with a beep on every flash, until replaced or
//     halted.
//
// Dev.Play starts a pattern on a goroutine owned by the Dev, replacing the
// one playing. A pattern that ends, or reaches its Limit, leaves both outputs
// off. Halt stops playback, turns both outputs off and returns once the
// goroutine has exited; Play may be called again after it. New's first
// writes are off: on lines of package gpiocdev, as pintud gives them, the
// lines are requested at that level, so a buzzer never chirps at start.
//
// # Caveats
//
// Either output may be absent (nil), but not both. Steps that switch an
// absent output are still timed.
//
// Only the first step is written before Play returns, so only its errors
// come back from Play. A later write error stops the pattern, and is
// returned by the next Play or Halt.
//
// Timing is that of Go timers: steps may stretch by scheduler latency, and
// a repeating pattern drifts accordingly. That is fine for a person watching
// a LED.
//
// # Datasheet
//
// None: a LED with its resistor, and an active buzzer (one that sounds on DC
// through a transistor), each on a GPIO. A passive buzzer needs PWM instead.
package indicator
