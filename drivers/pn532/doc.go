// Package pn532 reads ISO/IEC 14443 type A card UIDs with an NXP PN532 NFC
// controller on I2C.
//
// It owns the host link to the chip: the frame format, acknowledgements, the
// I2C status byte or the P70_IRQ line and initialisation. The polling
// schedule, the hold-off that turns a card resting on the reader into one
// read and the retries after errors are package cardpoll's, shared with
// rc522. It knows nothing about doors or badges; an adapter turns UIDs into
// controller inputs.
//
// ReadUID returns the UID of the next card in the field. Run polls forever,
// sends each new UID on a channel and re-initialises the chip after errors.
//
// # Protocol
//
// A command is a normal information frame, 00 00 FF LEN LCS D4 cmd params
// DCS 00, with LEN+LCS and the sum of TFI, command, parameters and DCS both
// 0 modulo 256. The PN532 answers with an ACK frame (00 00 FF 00 FF 00), then
// an information frame with TFI D5 and code cmd+1. On I2C every read starts
// with a status byte whose bit 0 says a frame is ready. With Opts.IRQ wired
// the driver reads after each falling edge of P70_IRQ (falling back to one
// status read when the edge does not come); without it, it waits 2 ms after
// the command frame and again after the ACK, then reads the status byte
// every millisecond. A failed I2C transfer while waiting counts as "not
// ready" (see Caveats: clock stretching); only a PN532 silent for the whole
// deadline is ErrTimeout. Every checksum is verified; a frame that fails is
// ErrChecksum, never a card. The acknowledgement and the answer each have
// Opts.CommandTimeout (default 100 ms); a command that does not answer in
// time is aborted with an ACK frame.
//
// An answer longer than the first read (a card with a long ATS) is read
// again whole: the driver sends a NACK frame, which makes the PN532 send its
// last answer again, and reads the length the first read's LEN announced.
//
// Initialisation is GetFirmwareVersion, SAMConfiguration (normal mode, no
// SAM, P70_IRQ driven) and RFConfiguration MaxRetries with
// MxRtyPassiveActivation 1, since the default 0xFF makes InListPassiveTarget
// wait for a card for ever. A poll is InListPassiveTarget for one target at
// 106 kbps type A; the PN532 runs the anticollision cascade itself and
// returns the NFCID1 (the UID) of 4, 7 or 10 bytes.
//
// # Errors and recovery
//
// Errors wrap the operation that failed ("pn532: in list passive target:
// read answer: ...") and one of the sentinels below, tested with errors.Is.
// ErrTarget is about a card: a UID of a length ISO/IEC 14443-3 does not
// allow, or a long answer the PN532 would not send again whole. Run passes
// it to Opts.OnCardError and polls on; the reader is not re-initialised
// while a card rests on it. Anything else (an I2C error such as a NACK on
// the address, ErrTimeout, ErrNACK, ErrChecksum, ErrFrame, ErrSyntax) means
// the reader cannot be trusted; the next ReadUID, or Run's next attempt,
// starts with a full initialisation. Run retries with a backoff from 100 ms
// doubling to 5 s, calls Opts.OnError once with the error when an outage
// starts and once with nil when the chip answers again, and never returns
// because of it.
//
// # Datasheet
//
// NXP PN532 User Manual UM0701-02:
// https://www.nxp.com/docs/en/user-guide/141520.pdf. What this driver
// relies on: §6.2.1 (normal information frame, LEN/LCS and DCS; the ACK
// frame, which from the host aborts the command in progress; the NACK
// frame, which asks the PN532 to send its last answer again; the error
// frame), §6.2.4 (I2C: the status byte before every read, bit 0 ready, and
// the 7-bit address 0x24), §7.2.2 GetFirmwareVersion, §7.2.10
// SAMConfiguration (P70_IRQ), §7.3.1 RFConfiguration (MaxRetries) and
// §7.3.5 InListPassiveTarget (target data of a 106 kbps type A target:
// Tg, SENS_RES, SEL_RES, NFCIDLength, NFCID1, ATS).
//
// The PN532 holds SCL low while it is busy or waking (clock stretching);
// libnfc's pn532_i2c driver relies on it for wake-up. The I2C controller
// of the BCM2835/6/7 and BCM2711 (Pi Zero 2 W, 3, 4) mishandles a stretch
// that ends at the wrong moment: raspberrypi/linux issues #254 and #4884.
// ESPHome's pn532_i2c re-reads long answers after a NACK as this driver does.
//
// # Caveats
//
//   - The PN532 must be strapped for I2C with its I0/I1 interface-select
//     pins (the switches or jumpers on most boards).
//   - The driver has no reset pin; a PN532 that stops answering altogether
//     needs a power cycle. Run keeps retrying meanwhile.
//   - On a Pi Zero 2 W, 3 or 4 the hardware I2C controller can corrupt or
//     fail a transfer that the PN532 stretches. The driver rides out failed
//     status reads, but a corrupted frame still fails its checksum and is a
//     reader error. Wire the PN532 to a bit-banged bus (the i2c-gpio
//     overlay), lower i2c_arm_baudrate, or use SPI or UART; the README's
//     wiring guide says how. The Pi 5's I2C (in RP1) is not affected.
//   - An answer is first read in one I2C transfer of 66 frame bytes for
//     InListPassiveTarget, room for an ATS of about 40 bytes; a longer one
//     costs a NACK and a second read.
//   - Extended information frames (LEN 0xFF FF) are not supported; the
//     commands used never produce them.
//   - Whether a card left on the reader answers every InListPassiveTarget
//     is up to the PN532 firmware. Absence shorter than Opts.HoldOff does not
//     count, so a card missed on some polls is still reported once.
//   - Two cards in the field: the PN532 resolves the collision and returns
//     one of them.
//   - Cards with a random UID (first byte 0x08) give a different UID at every
//     activation; they cannot identify a person.
package pn532
