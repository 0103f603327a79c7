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
// Initialisation resets the chip (NRSTPD pulse, or SoftReset) and waits
// until CommandReg reads its reset value 0x20, for at most 50 ms: a chip
// whose oscillator has not started does not drive MISO and reads 0x00. It
// then writes the registers below and reads the timer registers back, so a
// write the chip lost is a reader error at once rather than a timer that
// never ends a command.
//
// Each Transceive writes BitFramingReg's TxLastBits with StartSend clear,
// then the command, then StartSend, and clears StartSend once the command
// has ended.
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
// ErrCRC, ErrCardProtocol and ErrCardGone are about a card: the chip is
// fine. A card that answered WUPA and then fell silent (pulled away, or at
// the edge of the field) is ErrCardGone, not a reader outage. Run passes
// card errors to Opts.OnCardError and polls on. Anything
// else (an SPI error, ErrNoChip, ErrTimeout, ErrChip) means the reader
// cannot be trusted; the next ReadUID, or Run's next attempt, starts with a
// full re-initialisation (reset pulse or SoftReset, then every register
// written again). Run retries with a backoff from 100 ms doubling to 5 s,
// calls Opts.OnError once with the error when an outage starts and once with
// nil when the chip answers again, and never returns because of it.
//
// # Datasheet
//
// NXP MFRC522 product data sheet (rev. 3.9):
// https://www.nxp.com/docs/en/data-sheet/MFRC522.pdf. What this driver
// relies on: the SPI address byte (§8.1.2.3), reset timing and oscillator
// start-up (§8.8: the chip is not addressable until its oscillator runs;
// CommandReg's reset value 20h), the timer unit (§8.5, TModeReg TAuto and
// the 40 kHz prescaler, f = 13.56 MHz / (2*TPreScaler+1); Table 106: with
// RxMultiple clear the timer stops at the 5th bit received), the Transceive
// command (§10.3.1.8: each transmission is started by StartSend) and the
// register descriptions of CommandReg, ComIEnReg, DivIEnReg (IRQPushPull),
// ComIrqReg (Set1), ErrorReg, FIFOLevelReg, ControlReg (RxLastBits),
// BitFramingReg (StartSend, TxLastBits), TxControlReg, TxASKReg and
// VersionReg (91h, 92h).
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
//   - The chip's timer stops once a card has started to answer (Table 106),
//     so a reply cut off mid-frame ends on the receiver's own end-of-frame
//     detection, normally as a parity or protocol error (ErrCardProtocol, a
//     card error). If instead the command outlives the host deadline, that
//     is ErrTimeout and the chip is re-initialised, card or no card.
//   - Opts.HoldOff counts absence from polls: a card that stops answering
//     while resting on the reader (detuned, metal behind it) for longer than
//     HoldOff is reported again when it answers.
package rc522
