// Package hidreader reads card numbers from a USB "keyboard wedge" card
// reader through Linux evdev.
//
// Such a reader types the card number as key presses followed by Enter. The
// driver opens the reader's event device, grabs it with EVIOCGRAB so the
// digits never reach a console or another program, and turns key presses
// into card numbers: KEY_0..KEY_9 and the keypad digits, plus A-F when
// Opts.Hex is set, ended by KEY_ENTER or KEY_KPENTER. Other keys (Shift, for
// instance) are ignored; key releases and autorepeat are ignored. An empty
// line is dropped, and so is a line longer than Opts.MaxLen, whole.
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
// dropped at the next Enter; if the Enter itself was lost, the next card is
// dropped too. Dropping is preferred to reporting a number missing digits.
//
// The input_event layout is the kernel's: two native longs of timestamp,
// then type, code and value, 16 bytes for 32-bit programs (even on a 64-bit
// kernel, through its compat layer) and 24 bytes for 64-bit ones.
//
// # Datasheet
//
// https://www.kernel.org/doc/html/latest/input/input.html and
// https://www.kernel.org/doc/html/latest/input/event-codes.html
package hidreader
