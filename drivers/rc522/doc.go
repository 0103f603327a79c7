// Package rc522 reads ISO/IEC 14443 type A card UIDs with an NXP MFRC522
// reader IC on SPI.
//
// It owns the chip: reset, register set-up and the WUPA / anticollision /
// select cascade (levels 1 to 3, so 4-, 7- and 10-byte UIDs). The polling
// schedule, the hold-off that turns a card resting on the reader into one
// read and the retries after errors are package cardpoll's, shared with
// pn532. It knows nothing about doors or badges; an adapter turns UIDs into
// controller inputs.
//
// ReadUID returns the UID of the next card in the field. Run polls forever,
// sends each new UID on a channel and re-initialises the chip after errors.
//
// # Why not periph.io/x/devices/v3/mfrc522
//
// That package (v3.7.4) was read and rejected: it requires the IRQ pin (a nil
// one panics in String and when waiting), waits up to 30 s by default, busy
// polls up to 2000 SPI reads per command instead of using the chip's timer,
// stops at cascade level 2 (no 10-byte UIDs, no level-2 SELECT, the cascade
// decided from the 0x88 tag rather than the SAK bit), reports chip error
// flags as a nil error with no data, leaks a goroutine when the wait is
// halted, and panics when Halt is called twice.
//
// # Operation
//
// Each card command is bounded by the chip's own timer (Opts.CommandTimeout,
// default 3 ms, 25 µs resolution): with no card the chip raises TimerIRq. With
// Opts.IRQ wired, the chip drives IRQ low (push-pull, active low) on RxIRq,
// ErrIRq or TimerIRq and the driver waits for the falling edge; without it the
// driver reads ComIrqReg every 250 µs. Either way a host-side deadline of
// CommandTimeout+50 ms catches a chip that has stopped answering.
//
// A poll is: WUPA (so a card left on the reader answers every poll and its
// presence can be tracked), then per cascade level ANTICOLLISION (BCC
// checked) and SELECT (CRC_A checked, SAK cascade bit followed), then HLTA.
// CRC_A is computed in software, so the chip's CRC coprocessor is not used.
//
// # Errors and recovery
//
// Errors wrap the operation that failed ("rc522: select cascade level 2: ...")
// and one of the sentinels below, tested with errors.Is. ErrCollision, ErrBCC,
// ErrCRC and ErrCardProtocol are about a card: the chip is fine. Anything
// else (an SPI error, ErrNoChip, ErrTimeout, ErrChip) means the reader
// cannot be trusted; the next ReadUID, or Run's next attempt, starts with a
// full re-initialisation (reset pulse or SoftReset, then every register
// written again). Run retries with a backoff from 100 ms doubling to 5 s,
// calls Opts.OnError once with the error when an outage starts and once with
// nil when the chip answers again, and never returns because of it.
//
// # Datasheet
//
// https://www.nxp.com/docs/en/data-sheet/MFRC522.pdf
//
// ISO/IEC 14443-3 (type A initialisation and anticollision) defines WUPA,
// the cascade levels, BCC, SAK and CRC_A.
//
// # Caveats
//
//   - Two cards in the field give ErrCollision; the bit-wise collision
//     resolution of ISO/IEC 14443-3 is not implemented, the person has to
//     present one card.
//   - SPI has no acknowledge: a missing chip reads as 0x00 or 0xFF. The driver
//     checks VersionReg at initialisation and the write-only Set1 bit of
//     ComIrqReg on every command, which catches a reader unplugged while
//     running.
//   - Cards with a random UID (first byte 0x08) give a different UID at every
//     activation; they cannot identify a person.
//   - The receiver gain stays at the chip default (33 dB).
//   - Without Opts.Reset the chip is never hard-reset; a latched-up chip then
//     needs a power cycle.
//   - Opts.HoldOff counts absence from polls: a card that stops answering
//     while resting on the reader (detuned, metal behind it) for longer than
//     HoldOff is reported again when it answers.
package rc522
