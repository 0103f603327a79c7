// Package relay drives a door-strike or maglock relay on one GPIO output.
//
// The driver speaks in the door's terms, locked or unlocked, and maps that to
// a pin level through two options, because both the lock and the relay board
// can be wired either way:
//
//   - FailSafe false (fail-secure electric strike): energise to unlock.
//   - FailSafe true (fail-safe maglock): energise to lock.
//   - ActiveLow false: the relay is energised by a High pin.
//   - ActiveLow true: the relay is energised by a Low pin (most opto-isolated
//     Raspberry Pi relay boards).
//
// Pin level for each state:
//
//	FailSafe  ActiveLow  locked  unlocked
//	false     false      Low     High
//	false     true       High    Low
//	true      false      High    Low
//	true      true       Low     High
//
// New drives the pin to the locked level before it returns; that is the
// first write the driver makes. Halt drives it to the locked level again.
// On a line of package gpiocdev, as pintud gives it, that first write is
// the line's request: the kernel makes the line an output at the locked
// level in one call, and never drives it to another level first (periph's
// gpioioctl requests the line, which drives it low, then writes).
//
// # Caveats
//
// Between power-on and New the pin floats or sits at the SoC's reset default
// (a pull-down on most Raspberry Pi GPIOs). Pick ActiveLow and the board's
// wiring so that level is the locked one, or add an external pull resistor;
// software cannot help before it runs.
//
// For a fail-safe maglock, Halt energises the relay: it keeps the door locked
// while the process is alive, but the door opens when power is lost, as the
// fire code for such locks requires.
//
// The driver does not time anything: relocking after an unlock is the
// caller's job.
//
// # Datasheet
//
// None: any relay module or MOSFET stage with a logic-level input works. Use
// the module's own sheet to tell whether its input is active low.
package relay
