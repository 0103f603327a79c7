package pn532

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"github.com/pintu/pintu/drivers/cardpoll"
)

// Errors returned by this package, tested with errors.Is. ErrTarget is about
// a card; the others are about the reader or the bus.
var (
	// ErrHalted is returned by ReadUID and Run once Halt has been called.
	ErrHalted = errors.New("pn532: halted")
	// ErrTimeout means the PN532 did not acknowledge or answer a command in
	// Opts.CommandTimeout.
	ErrTimeout = errors.New("pn532: no answer in time")
	// ErrNACK means the PN532 answered a command frame with a NACK frame: it
	// received the frame corrupted.
	ErrNACK = errors.New("pn532: command frame rejected (NACK)")
	// ErrChecksum means a frame's length checksum (LCS) or data checksum
	// (DCS) did not match.
	ErrChecksum = errors.New("pn532: frame checksum mismatch")
	// ErrFrame means bytes from the PN532 were not a frame, were truncated or
	// were not the answer to the command sent.
	ErrFrame = errors.New("pn532: malformed frame")
	// ErrSyntax means the PN532 sent an application error frame: it did not
	// understand the command.
	ErrSyntax = errors.New("pn532: error frame, command not understood")

	// ErrTarget means the PN532 found a card whose target data this driver
	// does not accept, such as a UID that is not 4, 7 or 10 bytes long.
	ErrTarget = errors.New("pn532: unsupported target")
)

// UID is a card's unique identifier as the card sent it: 4, 7 or 10 bytes,
// cascade tags removed. String gives uppercase hex, for example
// "04A1B2C3D4E5F6".
type UID = cardpoll.UID

// isCardErr reports whether err is about a card rather than the reader.
func isCardErr(err error) bool { return errors.Is(err, ErrTarget) }

// opError names the operation that failed without repeating the package
// prefix of the error it wraps.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "pn532: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "pn532: ")
}

func (e *opError) Unwrap() error { return e.err }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

// Opts configures a Dev. A zero field means the value in DefaultOpts.
type Opts struct {
	// Addr is the 7-bit I2C address. Default 0x24.
	Addr uint16
	// IRQ is the pin wired to the PN532's P70_IRQ output, which the PN532
	// pulls low while a frame is ready to read. The driver configures it as
	// input with pull-up and falling-edge detection and reads only after an
	// edge. nil means not wired: the driver polls the I2C status byte.
	IRQ gpio.PinIn
	// PollInterval is the time between the starts of two polls for a card.
	// Default 20 ms.
	PollInterval time.Duration
	// CommandTimeout bounds the wait for the acknowledgement of a command and
	// again for its answer, up to 1 s. Default 100 ms.
	CommandTimeout time.Duration
	// HoldOff is how long a UID must have been absent before Run reports it
	// again: a card resting on the reader is reported once. Default 1 s.
	HoldOff time.Duration
	// OnError, if set, is called by Run, on Run's goroutine, with the error
	// when the reader fails (once per outage, not once per retry), and with
	// nil when it answers again. It must not block.
	OnError func(err error)
	// OnCardError, if set, is called by Run, on Run's goroutine, with each
	// card error (ErrTarget): a card the driver could not read. The reader
	// stays up. It must not block.
	OnCardError func(err error)
}

// DefaultOpts holds the defaults used for zero Opts fields.
var DefaultOpts = Opts{
	Addr:           0x24,
	PollInterval:   20 * time.Millisecond,
	CommandTimeout: 100 * time.Millisecond,
	HoldOff:        time.Second,
}

// Commands (UM0701-02, command set) and their parameters.
const (
	cmdGetFirmwareVersion  = 0x02
	cmdSAMConfiguration    = 0x14
	cmdPowerDown           = 0x16
	cmdRFConfiguration     = 0x32
	cmdInListPassiveTarget = 0x4A

	samNormal      = 0x01 // SAMConfiguration mode: no SAM
	samUseIRQ      = 0x01 // SAMConfiguration: drive P70_IRQ
	cfgMaxRetries  = 0x05 // RFConfiguration item
	retryATR       = 0xFF // default
	retryPSL       = 0x01 // default
	retryActivate  = 0x01 // default 0xFF would wait for a card forever
	brTy106TypeA   = 0x00 // InListPassiveTarget: 106 kbps type A
	wakeOnI2C      = 0x80 // PowerDown WakeUpEnable bit
	statusReady    = 0x01 // I2C status byte bit
	maxInListReply = 57   // answer bytes read for InListPassiveTarget
)

const (
	maxCmdTimeout = time.Second
	statusStep    = time.Millisecond // status byte poll period
	// settleDelay is the wait after a command frame, and again after its
	// ACK, before the first status read: a status read while the PN532 is
	// busy is where it stretches the clock.
	settleDelay = 2 * time.Millisecond
	wakeDelay   = 10 * time.Millisecond
	// maxFrameRead is the longest normal information frame, LEN 254, with
	// the status byte: 1 + 3 + 2 + 254 + 2.
	maxFrameRead = 262
)

// Dev is a PN532 on I2C. Its methods are safe for concurrent use; card polls
// are serialised.
type Dev struct {
	bus  i2c.Bus
	opts Opts
	loop cardpoll.Loop // serialises polls and Halt: it owns the chip after New
}

// New initialises the PN532 on bus: GetFirmwareVersion, SAMConfiguration
// (normal mode, P70_IRQ driven) and RFConfiguration (MxRtyPassiveActivation
// 1 instead of the default 0xFF, which retries until a card comes). opts may be nil for
// DefaultOpts. A PN532 in power-down can miss the frame that wakes it, so New
// tries twice, 10 ms apart, before returning the error.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if o.IRQ != nil {
		if err := o.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, wrap("configure irq pin", err)
		}
	}
	d := &Dev{bus: bus, opts: o}
	d.loop = cardpoll.Loop{
		Read:        d.listTarget,
		Reinit:      d.init,
		CardErr:     isCardErr,
		Interval:    o.PollInterval,
		HoldOff:     o.HoldOff,
		OnError:     o.OnError,
		OnCardError: o.OnCardError,
		ErrHalted:   ErrHalted,
	}
	if err := d.init(); err != nil {
		time.Sleep(wakeDelay)
		if err := d.init(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func resolve(opts *Opts) (Opts, error) {
	o := DefaultOpts
	if opts != nil {
		o.IRQ, o.OnError, o.OnCardError = opts.IRQ, opts.OnError, opts.OnCardError
		if opts.Addr != 0 {
			o.Addr = opts.Addr
		}
		if opts.PollInterval != 0 {
			o.PollInterval = opts.PollInterval
		}
		if opts.CommandTimeout != 0 {
			o.CommandTimeout = opts.CommandTimeout
		}
		if opts.HoldOff != 0 {
			o.HoldOff = opts.HoldOff
		}
	}
	switch {
	case o.Addr > 0x7F:
		return o, fmt.Errorf("pn532: i2c address %#x is not 7-bit", o.Addr)
	case o.PollInterval < 0:
		return o, fmt.Errorf("pn532: negative poll interval %v", o.PollInterval)
	case o.CommandTimeout < 0 || o.CommandTimeout > maxCmdTimeout:
		return o, fmt.Errorf("pn532: command timeout %v out of range (0, %v]", o.CommandTimeout, maxCmdTimeout)
	case o.HoldOff < 0:
		return o, fmt.Errorf("pn532: negative hold-off %v", o.HoldOff)
	}
	return o, nil
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("PN532{%s, %#02x}", d.bus, d.opts.Addr)
}

// Halt implements conn.Resource. It sends PowerDown with only I2C as wake-up
// source: the PN532 switches its RF field off and enters power-down, where
// it stays since the Dev does no more I/O. A ReadUID or Run in progress
// finishes its current command first and then returns ErrHalted; the Dev
// starts no goroutine, so none outlives Halt. Halt is final: later calls
// return nil.
func (d *Dev) Halt() error {
	return d.loop.Halt(d.powerDown)
}

// powerDown leaves the chip inert, as Halt describes.
func (d *Dev) powerDown() error {
	b, err := d.exec("power down", cmdPowerDown, []byte{wakeOnI2C}, 1)
	if err == nil && (len(b) != 1 || b[0] != 0x00) {
		err = wrap("power down", fmt.Errorf("%w: status % X, want 00", ErrFrame, b))
	}
	return err
}

// ReadUID waits for a card and returns its UID. A card resting on the reader
// is returned by every call; Run applies the hold-off. It returns ctx.Err()
// when ctx is done, ErrHalted after Halt, ErrTarget for a card it cannot
// read, or a reader error; the next call re-initialises the PN532 after a
// reader error.
func (d *Dev) ReadUID(ctx context.Context) (UID, error) {
	return d.loop.Wait(ctx)
}

// Run polls for cards every Opts.PollInterval and sends each UID on out, once
// per presentation: a UID is sent again only after it has been absent for
// Opts.HoldOff. ErrTarget goes to Opts.OnCardError and the next poll tries
// again. Reader
// errors go to Opts.OnError once per outage while Run re-initialises the
// PN532 with a backoff from 100 ms to 5 s. Run returns nil when ctx is done
// and ErrHalted after Halt.
// The loop is [cardpoll.Loop]'s.
func (d *Dev) Run(ctx context.Context, out chan<- UID) error {
	return d.loop.Run(ctx, out)
}

func (d *Dev) init() error {
	v, err := d.exec("get firmware version", cmdGetFirmwareVersion, nil, 4)
	if err != nil {
		return err
	}
	if len(v) != 4 {
		return wrap("get firmware version", fmt.Errorf("%w: %d bytes, want 4", ErrFrame, len(v)))
	}
	if _, err := d.exec("sam configuration", cmdSAMConfiguration, []byte{samNormal, 0x00, samUseIRQ}, 0); err != nil {
		return err
	}
	if _, err := d.exec("rf configuration", cmdRFConfiguration, []byte{cfgMaxRetries, retryATR, retryPSL, retryActivate}, 0); err != nil {
		return err
	}
	return nil
}

// listTarget runs InListPassiveTarget for one 106 kbps type A target.
func (d *Dev) listTarget() (UID, error) {
	const op = "in list passive target"
	b, err := d.exec(op, cmdInListPassiveTarget, []byte{0x01, brTy106TypeA}, maxInListReply)
	if err != nil {
		return nil, err
	}
	// NbTg, then per target: Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1,
	// and the ATS for ISO/IEC 14443-4 cards.
	switch {
	case len(b) == 0:
		return nil, wrap(op, fmt.Errorf("%w: empty answer", ErrFrame))
	case b[0] == 0:
		return nil, nil
	case b[0] > 1:
		return nil, wrap(op, fmt.Errorf("%w: %d targets, asked for 1", ErrFrame, b[0]))
	case len(b) < 6:
		return nil, wrap(op, fmt.Errorf("%w: target data of %d bytes", ErrFrame, len(b)-1))
	}
	n := int(b[5])
	if n != 4 && n != 7 && n != 10 {
		return nil, wrap(op, fmt.Errorf("%w: uid length %d, not 4, 7 or 10", ErrTarget, n))
	}
	if len(b) < 6+n {
		return nil, wrap(op, fmt.Errorf("%w: uid length %d but %d bytes left", ErrFrame, n, len(b)-6))
	}
	return append(UID(nil), b[6:6+n]...), nil
}

// exec sends a command, reads its ACK and its answer, and returns the answer
// after the response code. maxReply is the largest answer expected; a
// longer one is read again whole after a NACK (UM0701-02 §6.2.1).
func (d *Dev) exec(op string, cmd byte, params []byte, maxReply int) ([]byte, error) {
	body := append([]byte{tfiHost, cmd}, params...)
	if err := d.bus.Tx(d.opts.Addr, appendFrame(nil, body), nil); err != nil {
		return nil, wrap(op+": write command", err)
	}
	b, err := d.read(len(ackFrame))
	if err != nil {
		return nil, wrap(op+": read ack", err)
	}
	f, err := parseFrame(b)
	switch {
	case err != nil:
		return nil, wrap(op+": read ack", err)
	case f.kind == kindNACK:
		return nil, wrap(op, ErrNACK)
	case f.kind != kindACK:
		return nil, wrap(op, fmt.Errorf("%w: got an information frame, want ACK", ErrFrame))
	}
	// Answer frame: 00 00 FF LEN LCS D5 cmd+1 answer DCS 00.
	b, err = d.readAnswer(7 + 2 + maxReply)
	if err != nil {
		return nil, wrap(op+": read answer", err)
	}
	f, err = parseFrame(b)
	var tr *truncatedError
	if errors.As(err, &tr) {
		// A longer answer than expected: for InListPassiveTarget, a card
		// with a long ATS. The header was intact, so the link works; if the
		// answer cannot be read again whole, that is about this answer,
		// and for a card about the card, which must not cost the reader an
		// outage while it rests on it.
		if f, err = d.reread(tr.need); err != nil {
			sentinel := ErrFrame
			if cmd == cmdInListPassiveTarget {
				sentinel = ErrTarget
			}
			return nil, wrap(op+": read long answer", fmt.Errorf("%w: %d bytes: %w", sentinel, tr.need, err))
		}
	}
	switch {
	case err != nil:
		return nil, wrap(op+": read answer", err)
	case f.kind != kindInfo:
		return nil, wrap(op, fmt.Errorf("%w: got ACK or NACK, want an answer", ErrFrame))
	case f.tfi != tfiChip || len(f.data) == 0 || f.data[0] != cmd+1:
		return nil, wrap(op, fmt.Errorf("%w: answer %02X % X does not match command %#02x", ErrFrame, f.tfi, f.data, cmd))
	}
	return f.data[1:], nil
}

// reread asks the PN532 with a NACK frame to send its last answer again and
// reads need bytes of it.
func (d *Dev) reread(need int) (frame, error) {
	if need > maxFrameRead-1 {
		return frame{}, fmt.Errorf("%w: frame of %d bytes", ErrFrame, need)
	}
	if err := d.bus.Tx(d.opts.Addr, nackFrame, nil); err != nil {
		return frame{}, fmt.Errorf("send nack: %w", err)
	}
	b, err := d.readAnswer(need)
	if err != nil {
		return frame{}, err
	}
	return parseFrame(b)
}

// readAnswer is read for an answer frame: a command that does not answer in
// time is aborted with an ACK frame from the host.
func (d *Dev) readAnswer(n int) ([]byte, error) {
	b, err := d.read(n)
	if errors.Is(err, ErrTimeout) {
		if err2 := d.bus.Tx(d.opts.Addr, ackFrame, nil); err2 != nil {
			err = fmt.Errorf("%w (abort failed: %v)", err, err2)
		}
	}
	return b, err
}

// read waits until the PN532 has a frame ready and reads n bytes of it.
// Every I2C read starts with the status byte, which is dropped.
//
// A failed transfer counts as "not ready" until the deadline, and so does a
// frame whose status byte says not ready: the PN532 stretches the clock
// while it is busy (up to about 1 ms), which the I2C controller of the Pi 3,
// 4 and Zero 2 W can turn into a failed or garbled transfer. Only a chip
// silent for the whole CommandTimeout is an error. After a failed transfer
// the status byte is polled even with Opts.IRQ, since the edge may have
// been consumed by the transfer that failed.
func (d *Dev) read(n int) ([]byte, error) {
	buf := make([]byte, 1+n)
	deadline := time.Now().Add(d.opts.CommandTimeout)
	poll := d.opts.IRQ == nil
	if poll {
		time.Sleep(settleDelay)
	}
	var last error // the last failed transfer
	for {
		ready := false
		if !poll {
			// A negative timeout means forever to some gpio drivers.
			if left := time.Until(deadline); left > 0 {
				ready = d.opts.IRQ.WaitForEdge(left)
			}
		}
		if !ready {
			// No IRQ pin, no edge in time or a failed transfer: ask the
			// status byte, which also catches an edge that was missed.
			var s [1]byte
			if err := d.bus.Tx(d.opts.Addr, nil, s[:]); err != nil {
				last, poll = fmt.Errorf("read status: %w", err), true
			} else {
				ready = s[0]&statusReady != 0
			}
		}
		if ready {
			if err := d.bus.Tx(d.opts.Addr, nil, buf); err != nil {
				last, poll = fmt.Errorf("read frame: %w", err), true
			} else if buf[0]&statusReady != 0 {
				return buf[1:], nil
			}
		}
		if !time.Now().Before(deadline) {
			if last != nil {
				return nil, fmt.Errorf("%w: nothing after %v, last transfer failed: %w", ErrTimeout, d.opts.CommandTimeout, last)
			}
			return nil, fmt.Errorf("%w: nothing after %v", ErrTimeout, d.opts.CommandTimeout)
		}
		if poll {
			time.Sleep(statusStep)
		}
	}
}

var _ conn.Resource = (*Dev)(nil)
