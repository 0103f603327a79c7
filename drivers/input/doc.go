// Package input reads a debounced digital input on one GPIO pin: a door
// contact, a request-to-exit (REX) button or an enclosure tamper switch.
//
// The driver reports a logical level, active or inactive, and leaves the
// meaning to the caller: with Opts.ActiveLow a Low pin is active, which suits
// the usual switch to ground with a pull-up. Run sends the initial level and
// then every change that has been stable for Opts.Debounce.
//
// # Debouncing
//
// A change is reported once the pin has had no edge for Opts.Debounce, with
// the level read at that moment; a pulse shorter than that is dropped. The
// report therefore lags the last bounce by Opts.Debounce.
//
// The wait is capped: a pin still changing Opts.MaxSettle (default 500 ms)
// after its first edge is chattering, as a long contact run picking up
// mains hum does, and Run reports Opts.Chatter until the pin has been quiet
// for Opts.Debounce, then the level it settled at. Without the cap such a
// pin would never be reported as changed, and hum could hide a door forced
// open or a box opened. A door contact and a tamper switch chatter as
// active (ChatterActive): a contact that cannot settle cannot prove the door
// or the enclosure shut, so chatter on the tamper loop counts as tamper and
// chatter on the contact reads as open, which raises forced-open on a
// locked door rather than hiding it. A REX button chatters as inactive
// (ChatterInactive, the zero value): chatter must never release the door.
//
// periph's gpioutil.Debounce is not used: it needs a gpio.PinIO rather than
// a gpio.PinIn, its WaitForEdge sleeps a fixed denoise time after the first
// edge and compares levels, so a contact still bouncing at that moment is
// reported as it happens to be, and its debounce argument does not affect
// WaitForEdge.
//
// # Caveats
//
// Run waits for edges at most Opts.Poll at a time: a cancelled context or a
// Halt takes effect within that time, because gpio.PinIn offers no way to
// interrupt WaitForEdge that every implementation honours. Each time the wait
// ends without an edge Run also reads the pin, so an edge the kernel lost is
// noticed within Opts.Poll.
//
// A report of Opts.Chatter is the driver's reading of an input it cannot
// read; the caller sees only active or inactive, not that it chatters.
//
// # Datasheet
//
// None: any dry contact or open-collector output wired between the pin and
// ground (with a pull-up) or 3.3 V (with a pull-down). Never feed 5 V or
// 12 V to a Raspberry Pi GPIO.
package input
