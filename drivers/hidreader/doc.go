// Package hidreader reads card numbers from a USB "keyboard wedge" card
// reader through Linux evdev.
//
// Such a reader types the card number as key presses followed by a
// terminator. The driver opens the reader's event device, grabs it with
// EVIOCGRAB so the digits never reach a console or another program, and
// turns key presses into card numbers: KEY_0..KEY_9 and the keypad digits,
// plus A-F when Opts.Hex is set, ended by Opts.Terminator (Enter and keypad
// Enter, or Tab). Key releases, autorepeat and modifiers (Shift, Ctrl, Alt,
// Meta, Caps Lock, Num Lock) are ignored.
//
// A line is accepted whole or rejected whole, never repaired: a key outside
// the accepted set (a letter without Opts.Hex, Space, the other terminator),
// a line longer than Opts.MaxLen, events the kernel dropped (SYN_DROPPED),
// or a gap of more than Opts.KeyTimeout between two keys of the line reject
// it. Dropping the odd key instead would read 12AB3 as 123, another card's
// number; the timeout makes sure a card whose terminator was lost is never
// joined to the next one, and that a person typing at a keyboard plugged in
// instead of the reader gets no card. The gap is measured on the kernel's
// event timestamps, switched to CLOCK_MONOTONIC with EVIOCSCLOCKID. Each
// rejection is counted (Dev.Rejected) and its reason goes to Opts.OnReject,
// by default logged the first time only. An empty line is dropped silently.
//
// Run keeps the reader going across unplugging: when the device fails or
// cannot be opened it waits Opts.Reopen, opens the path again and grabs it
// again, for as long as its context lives. The wait is fixed rather than
// growing, because a failed open of a missing path costs nothing and a short
// fixed wait brings a replugged reader back within a second.
//
// Loss is reported once per outage through Opts.OnError: the first failure
// (a failed open or a read error) starts an outage; failed reopens during it
// are not reported again; the next successful open ends it and calls
// Opts.OnOpen. Without an OnError the error goes to the standard logger.
//
// Use a stable path such as /dev/input/by-id/usb-...-event-kbd; the
// /dev/input/eventN numbers change when devices come and go.
//
// # Caveats
//
// The process needs read access to the device (group input on Raspberry Pi
// OS, or a udev rule).
//
// A grab excludes other evdev readers but not a reader that grabbed first:
// then the open fails with EBUSY and Run keeps retrying.
//
// While Run is not running nobody holds the grab, and key presses reach the
// console as typing. Start Run as soon as possible.
//
// If the kernel's event queue overflows (SYN_DROPPED) the line being read is
// rejected, and so is a card typed within Opts.KeyTimeout of the loss.
// Rejecting is preferred to reporting a number missing digits.
//
// A reader set to a terminator other than the configured one has every
// line rejected ("unexpected key Enter"): the first rejection logged says
// which key to configure.
//
// The input_event layout is the kernel's: two native longs of timestamp,
// then type, code and value, 16 bytes for 32-bit programs (even on a 64-bit
// kernel, through its compat layer) and 24 bytes for 64-bit ones.
//
// # Datasheet
//
// https://www.kernel.org/doc/html/latest/input/input.html (struct
// input_event), https://www.kernel.org/doc/html/latest/input/event-codes.html
// (EV_KEY values 0, 1, 2; SYN_DROPPED) and linux/input.h (EVIOCGRAB,
// EVIOCSCLOCKID).
package hidreader
