package rc522

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/pintu/pintu/drivers/cardpoll"
)

// Errors returned by this package, tested with errors.Is. The first group is
// about the reader, the second about a card.
var (
	// ErrHalted is returned by ReadUID and Run once Halt has been called.
	ErrHalted = errors.New("rc522: halted")
	// ErrNoChip means nothing answers on SPI: a register read 0x00 or 0xFF,
	// a value the chip cannot produce, a chip that does not come out of
	// reset, or a register that did not keep the value written to it.
	ErrNoChip = errors.New("rc522: no MFRC522 answering")
	// ErrTimeout means the chip did not end a command by the host-side
	// deadline, although its own timer should have fired well before.
	ErrTimeout = errors.New("rc522: chip did not complete the command")
	// ErrChip means the chip flagged an internal error in ErrorReg:
	// overheating, FIFO overflow or a FIFO write at the wrong time.
	ErrChip = errors.New("rc522: chip error")

	// ErrCollision means more than one card answered at once.
	ErrCollision = errors.New("rc522: collision, more than one card in the field")
	// ErrBCC means a cascade level's check byte did not match its UID bytes.
	ErrBCC = errors.New("rc522: uid check byte (BCC) mismatch")
	// ErrCRC means a card reply failed its CRC_A check.
	ErrCRC = errors.New("rc522: card reply failed CRC_A check")
	// ErrCardProtocol means a card reply had the wrong length, a parity or
	// framing error, or content ISO/IEC 14443-3 does not allow.
	ErrCardProtocol = errors.New("rc522: malformed card reply")
	// ErrCardGone means a card answered WUPA and then stopped answering
	// before its UID was complete: it was pulled away, or it sits at the
	// edge of the field.
	ErrCardGone = errors.New("rc522: card stopped answering")
)

// errNoResponse means the chip's timer expired with no card answering.
var errNoResponse = errors.New("rc522: no card answered")

// isCardErr reports whether err is about a card rather than the reader.
func isCardErr(err error) bool {
	return errors.Is(err, ErrCollision) || errors.Is(err, ErrBCC) ||
		errors.Is(err, ErrCRC) || errors.Is(err, ErrCardProtocol) || errors.Is(err, ErrCardGone)
}

// opError names the operation that failed without repeating the package
// prefix of the error it wraps.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "rc522: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "rc522: ")
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
	// Reset is the pin wired to the chip's NRSTPD input. Initialisation
	// pulses it low to hard-reset the chip, and Halt holds it low (hard
	// power-down). nil means not wired: the driver uses the SoftReset command
	// and Halt leaves the chip in soft power-down.
	Reset gpio.PinOut
	// IRQ is the pin wired to the chip's IRQ output. The driver configures it
	// as input with pull-up and falling-edge detection, sets the chip's IRQ
	// output to push-pull, active low, and waits for the edge that ends each
	// card command. nil means not wired: the driver reads ComIrqReg over SPI.
	IRQ gpio.PinIn
	// MaxFreq is the SPI clock. The chip allows up to 10 MHz; long wires may
	// need less. Default 1 MHz.
	MaxFreq physic.Frequency
	// PollInterval is the time between the starts of two polls for a card.
	// Default 20 ms.
	PollInterval time.Duration
	// CommandTimeout is how long the chip's timer waits for a card to answer
	// one command, from 1 ms to 100 ms. Cards answer within 0.1 ms; a poll
	// with no card costs one CommandTimeout. Default 3 ms.
	CommandTimeout time.Duration
	// HoldOff is how long a UID must have been absent before Run reports it
	// again: a card resting on the reader is reported once. Default 1 s.
	HoldOff time.Duration
	// OnError, if set, is called by Run, on Run's goroutine, with the error
	// when the reader fails (once per outage, not once per retry), and with
	// nil when it answers again. It must not block.
	OnError func(err error)
	// OnCardError, if set, is called by Run, on Run's goroutine, with each
	// card error (ErrCollision, ErrBCC, ErrCRC, ErrCardProtocol,
	// ErrCardGone). The reader stays up. It must not block.
	OnCardError func(err error)
}

// DefaultOpts holds the defaults used for zero Opts fields.
var DefaultOpts = Opts{
	MaxFreq:        physic.MegaHertz,
	PollInterval:   20 * time.Millisecond,
	CommandTimeout: 3 * time.Millisecond,
	HoldOff:        time.Second,
}

const (
	maxFreq         = 10 * physic.MegaHertz
	minCmdTimeout   = time.Millisecond
	maxCmdTimeout   = 100 * time.Millisecond
	hostMargin      = 50 * time.Millisecond // beyond CommandTimeout, for SPI and scheduling
	irqPollStep     = 250 * time.Microsecond
	resetPulse      = time.Millisecond
	startupStep     = time.Millisecond
	startupDeadline = 50 * time.Millisecond
)

// Dev is an MFRC522 on SPI. Its methods are safe for concurrent use; card
// polls are serialised.
type Dev struct {
	c    spi.Conn
	opts Opts
	loop cardpoll.Loop // serialises polls and Halt: it owns the chip after New
}

// New connects to the MFRC522 on port and initialises it. opts may be nil for
// DefaultOpts. New fails if the chip does not answer; as an spi.Port can be
// connected only once, retrying needs a new port.
func New(port spi.Port, opts *Opts) (*Dev, error) {
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	c, err := port.Connect(o.MaxFreq, spi.Mode0, 8)
	if err != nil {
		return nil, wrap("connect", err)
	}
	if o.IRQ != nil {
		if err := o.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, wrap("configure irq pin", err)
		}
	}
	d := &Dev{c: c, opts: o}
	d.loop = cardpoll.Loop{
		Read:        d.activate,
		Reinit:      d.init,
		CardErr:     isCardErr,
		Interval:    o.PollInterval,
		HoldOff:     o.HoldOff,
		OnError:     o.OnError,
		OnCardError: o.OnCardError,
		ErrHalted:   ErrHalted,
	}
	if err := d.init(); err != nil {
		return nil, err
	}
	return d, nil
}

func resolve(opts *Opts) (Opts, error) {
	o := DefaultOpts
	if opts != nil {
		o.Reset, o.IRQ, o.OnError, o.OnCardError = opts.Reset, opts.IRQ, opts.OnError, opts.OnCardError
		if opts.MaxFreq != 0 {
			o.MaxFreq = opts.MaxFreq
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
	case o.MaxFreq < 0 || o.MaxFreq > maxFreq:
		return o, fmt.Errorf("rc522: spi clock %s out of range (0, %s]", o.MaxFreq, maxFreq)
	case o.PollInterval < 0:
		return o, fmt.Errorf("rc522: negative poll interval %v", o.PollInterval)
	case o.CommandTimeout < minCmdTimeout || o.CommandTimeout > maxCmdTimeout:
		return o, fmt.Errorf("rc522: command timeout %v out of range [%v, %v]", o.CommandTimeout, minCmdTimeout, maxCmdTimeout)
	case o.HoldOff < 0:
		return o, fmt.Errorf("rc522: negative hold-off %v", o.HoldOff)
	}
	return o, nil
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("MFRC522{%s}", d.c)
}

// Halt implements conn.Resource. It switches the RF field off and puts the
// chip in soft power-down (CommandReg PowerDown bit); with Opts.Reset wired
// it then holds NRSTPD low, which is hard power-down. A ReadUID or Run in
// progress finishes its current command first and then returns ErrHalted;
// the Dev starts no goroutine, so none outlives Halt. Halt is final: later
// calls return nil and the Dev does no more I/O.
func (d *Dev) Halt() error {
	return d.loop.Halt(d.powerDown)
}

// powerDown leaves the chip inert, as Halt describes.
func (d *Dev) powerDown() error {
	err := d.writeReg(regTxControl, txAntennaOf)
	if err2 := d.writeReg(regCommand, cmdIdle|bitPowerDown); err == nil {
		err = err2
	}
	if d.opts.Reset != nil {
		if err2 := d.opts.Reset.Out(gpio.Low); err == nil {
			err = err2
		}
	}
	return wrap("halt", err)
}

// ReadUID waits for a card and returns its UID. A card resting on the reader
// is returned by every call; Run applies the hold-off. It returns ctx.Err()
// when ctx is done, ErrHalted after Halt, a card error (ErrCollision, ErrBCC,
// ErrCRC, ErrCardProtocol, ErrCardGone) when a card answered badly, or a
// reader error; the
// next call re-initialises the chip after a reader error.
func (d *Dev) ReadUID(ctx context.Context) (UID, error) {
	return d.loop.Wait(ctx)
}

// Run polls for cards every Opts.PollInterval and sends each UID on out, once
// per presentation: a UID is sent again only after it has been absent for
// Opts.HoldOff. Card errors go to Opts.OnCardError and the next poll tries
// again. Reader
// errors go to Opts.OnError once per outage while Run re-initialises the chip
// with a backoff from 100 ms to 5 s. Run returns nil when ctx is done and
// ErrHalted after Halt.
// The loop is [cardpoll.Loop]'s.
func (d *Dev) Run(ctx context.Context, out chan<- UID) error {
	return d.loop.Run(ctx, out)
}

// init resets the chip and writes every register the driver relies on.
func (d *Dev) init() error {
	if err := d.reset(); err != nil {
		return wrap("reset", err)
	}
	v, err := d.readReg(regVersion)
	if err != nil {
		return wrap("read version", err)
	}
	if v == 0x00 || v == 0xFF {
		return wrap("read version", fmt.Errorf("%w: VersionReg reads %#02x", ErrNoChip, v))
	}
	reload := (d.opts.CommandTimeout+timerTick-1)/timerTick - 1
	regs := [][2]byte{
		{regTMode, tModeAuto},
		{regTPrescaler, tPrescaler},
		{regTReloadH, byte(reload >> 8)},
		{regTReloadL, byte(reload)},
		{regTxASK, txASK100},
		{regMode, modeDefault},
	}
	if d.opts.IRQ != nil {
		regs = append(regs, [2]byte{regComIEn, comIEnIRQ}, [2]byte{regDivIEn, divIEnPush})
	} else {
		regs = append(regs, [2]byte{regComIEn, comIEnPoll})
	}
	regs = append(regs, [2]byte{regTxControl, txAntennaOn})
	for _, r := range regs {
		if err := d.writeReg(r[0], r[1]); err != nil {
			return wrap("configure", err)
		}
	}
	// A lost TAuto bit or reload value leaves every card command without
	// its timer: each poll with no card would then end at the host deadline
	// as ErrTimeout. Catch it here, where it is one clear error.
	timer := regs[:4] // TModeReg, TPrescalerReg, TReloadReg high and low
	for _, r := range timer {
		v, err := d.readReg(r[0])
		if err != nil {
			return wrap("check configuration", err)
		}
		if v != r[1] {
			return wrap("check configuration", fmt.Errorf("%w: register %#02x reads %#02x after writing %#02x", ErrNoChip, r[0], v, r[1]))
		}
	}
	return nil
}

// reset hard-resets the chip through NRSTPD, or soft-resets it, then waits
// until CommandReg reads its reset value 0x20 (Idle, receiver off, powered):
// the chip answers SPI only once its oscillator runs (datasheet §8.8, reset
// and oscillator start-up), and a chip not yet driving MISO reads 0x00,
// which a test of the PowerDown bit alone would take for "ready". After
// SoftReset the command field reads SoftReset until the reset is done, so
// 0x20 also marks its end.
func (d *Dev) reset() error {
	if d.opts.Reset != nil {
		if err := d.opts.Reset.Out(gpio.Low); err != nil {
			return err
		}
		time.Sleep(resetPulse)
		if err := d.opts.Reset.Out(gpio.High); err != nil {
			return err
		}
	} else if err := d.writeReg(regCommand, cmdSoftReset); err != nil {
		return err
	}
	deadline := time.Now().Add(startupDeadline)
	for {
		v, err := d.readReg(regCommand)
		if err != nil {
			return err
		}
		if v == commandReset {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: still in reset after %v: CommandReg reads %#02x, want %#02x", ErrNoChip, startupDeadline, v, commandReset)
		}
		time.Sleep(startupStep)
	}
}

// activate runs WUPA, the anticollision and select cascade, and HLTA.
func (d *Dev) activate() (UID, error) {
	atqa, err := d.transceive([]byte{piccWUPA}, 7)
	switch {
	case errors.Is(err, errNoResponse):
		return nil, nil
	case errors.Is(err, ErrCollision):
		// Several cards answered; anticollision reports it.
	case isCardErr(err):
		// A garbled ATQA is a card at the edge of the field: not there yet.
		return nil, nil
	case err != nil:
		return nil, wrap("wupa", err)
	case len(atqa) != 2:
		return nil, nil
	}
	// A card has answered: from here on, silence is that card leaving the
	// field or sitting at its edge, not the reader failing.
	cardCmd := func(data []byte) ([]byte, error) {
		b, err := d.transceive(data, 0)
		if errors.Is(err, errNoResponse) {
			return nil, ErrCardGone
		}
		return b, err
	}
	uid := make(UID, 0, 10)
	for level := 1; level <= 3; level++ {
		sel := selCodes[level-1]
		part, err := cardCmd([]byte{sel, nvbAnticoll})
		if err == nil && len(part) != 5 {
			err = fmt.Errorf("%w: %d bytes, want 5", ErrCardProtocol, len(part))
		}
		if err == nil && bcc(part) != part[4] {
			err = fmt.Errorf("%w: % X, want BCC %#02x", ErrBCC, part, bcc(part))
		}
		if err != nil {
			return nil, wrap(fmt.Sprintf("anticollision cascade level %d", level), err)
		}
		frame := append([]byte{sel, nvbSelect}, part...)
		crc := crcA(frame)
		sak, err := cardCmd(append(frame, crc[0], crc[1]))
		if err == nil {
			err = checkSAK(sak)
		}
		if err != nil {
			return nil, wrap(fmt.Sprintf("select cascade level %d", level), err)
		}
		if sak[0]&sakCascade == 0 {
			uid = append(uid, part[:4]...)
			if err := d.halt(); err != nil {
				return nil, err
			}
			return uid, nil
		}
		if part[0] != ctCascade {
			return nil, wrap(fmt.Sprintf("select cascade level %d", level),
				fmt.Errorf("%w: SAK %#02x asks for another level but first byte is %#02x, not the cascade tag", ErrCardProtocol, sak[0], part[0]))
		}
		uid = append(uid, part[1:4]...)
	}
	return nil, wrap("select cascade level 3", fmt.Errorf("%w: SAK asks for a fourth level", ErrCardProtocol))
}

// checkSAK validates a SELECT answer: SAK and its CRC_A.
func checkSAK(b []byte) error {
	if len(b) != 3 {
		return fmt.Errorf("%w: SAK reply of %d bytes, want 3", ErrCardProtocol, len(b))
	}
	if crc := crcA(b[:1]); crc[0] != b[1] || crc[1] != b[2] {
		return fmt.Errorf("%w: SAK % X, want CRC % X", ErrCRC, b, crc)
	}
	return nil
}

// halt sends HLTA. The card does not answer it; an answer is ignored.
func (d *Dev) halt() error {
	frame := []byte{piccHLTA, 0x00}
	crc := crcA(frame)
	_, err := d.transceive(append(frame, crc[0], crc[1]), 0)
	if err == nil || errors.Is(err, errNoResponse) || isCardErr(err) {
		return nil
	}
	return wrap("hlta", err)
}

// transceive sends data to the card, the last byte with txLastBits bits (0
// means 8), and returns the card's reply. It returns errNoResponse when the
// chip's timer expires first.
func (d *Dev) transceive(data []byte, txLastBits byte) ([]byte, error) {
	for _, r := range [][2]byte{
		{regCommand, cmdIdle},
		{regComIrq, 0x7F}, // Set1=0: clear every request bit
		{regFIFOLevel, fifoFlush},
	} {
		if err := d.writeReg(r[0], r[1]); err != nil {
			return nil, err
		}
	}
	if err := d.writeFIFO(data); err != nil {
		return nil, err
	}
	// Datasheet §10.3.1.8: Transceive transmits the FIFO only once
	// BitFramingReg's StartSend is set, and StartSend is only valid with
	// Transceive running. So: TxLastBits first, with StartSend clear, then
	// the command, then StartSend; StartSend is cleared again once the
	// command has ended, so it is never left set when a command is written.
	for _, r := range [][2]byte{
		{regBitFraming, txLastBits},
		{regCommand, cmdTransceive},
		{regBitFraming, startSend | txLastBits},
	} {
		if err := d.writeReg(r[0], r[1]); err != nil {
			return nil, err
		}
	}
	irq, err := d.wait()
	if err != nil {
		return nil, err
	}
	if err := d.writeReg(regBitFraming, 0); err != nil {
		return nil, err
	}
	if irq&(irqRx|irqErr) == 0 {
		return nil, errNoResponse
	}
	e, err := d.readReg(regError)
	if err != nil {
		return nil, err
	}
	switch {
	case e&(errTemp|errWr|errBufferOvfl) != 0:
		return nil, fmt.Errorf("%w: ErrorReg %#02x", ErrChip, e)
	case e&errColl != 0:
		return nil, ErrCollision
	case e&(errProtocol|errParity|errCRC) != 0:
		return nil, fmt.Errorf("%w: ErrorReg %#02x", ErrCardProtocol, e)
	}
	n, err := d.readReg(regFIFOLevel)
	if err != nil {
		return nil, err
	}
	if n > 64 {
		return nil, fmt.Errorf("%w: FIFOLevelReg reads %#02x", ErrNoChip, n)
	}
	bits, err := d.readReg(regControl)
	if err != nil {
		return nil, err
	}
	if bits&0x07 != 0 {
		return nil, fmt.Errorf("%w: reply ends with %d bits of a byte", ErrCardProtocol, bits&0x07)
	}
	return d.readFIFO(int(n))
}

// wait returns ComIrqReg once the running command has ended: a reply was
// received, an error flagged or the timer expired.
func (d *Dev) wait() (byte, error) {
	const done = irqRx | irqErr | irqTimer
	limit := d.opts.CommandTimeout + hostMargin
	deadline := time.Now().Add(limit)
	for {
		if d.opts.IRQ != nil {
			// A negative timeout means forever to some gpio drivers.
			left := time.Until(deadline)
			if left <= 0 || !d.opts.IRQ.WaitForEdge(left) {
				return 0, fmt.Errorf("%w: no IRQ edge within %v", ErrTimeout, limit)
			}
		}
		irq, err := d.readReg(regComIrq)
		if err != nil {
			return 0, err
		}
		if irq&irqSet1 != 0 {
			return 0, fmt.Errorf("%w: ComIrqReg reads %#02x", ErrNoChip, irq)
		}
		if irq&done != 0 {
			return irq, nil
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("%w: ComIrqReg %#02x after %v", ErrTimeout, irq, limit)
		}
		if d.opts.IRQ == nil {
			time.Sleep(irqPollStep)
		}
	}
}

// SPI framing (datasheet, SPI address byte): the address byte is 0 A5..A0 0 for a
// write and 1 A5..A0 0 for a read; several bytes may follow one address.

func (d *Dev) writeReg(reg, v byte) error {
	if err := d.c.Tx([]byte{reg << 1, v}, nil); err != nil {
		return fmt.Errorf("rc522: write register %#02x: %w", reg, err)
	}
	return nil
}

func (d *Dev) readReg(reg byte) (byte, error) {
	var r [2]byte
	if err := d.c.Tx([]byte{0x80 | reg<<1, 0}, r[:]); err != nil {
		return 0, fmt.Errorf("rc522: read register %#02x: %w", reg, err)
	}
	return r[1], nil
}

func (d *Dev) writeFIFO(data []byte) error {
	w := append([]byte{regFIFOData << 1}, data...)
	if err := d.c.Tx(w, nil); err != nil {
		return fmt.Errorf("rc522: write fifo: %w", err)
	}
	return nil
}

func (d *Dev) readFIFO(n int) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	w := make([]byte, n+1)
	for i := range n {
		w[i] = 0x80 | regFIFOData<<1
	}
	r := make([]byte, n+1)
	if err := d.c.Tx(w, r); err != nil {
		return nil, fmt.Errorf("rc522: read fifo: %w", err)
	}
	return r[1:], nil
}

var _ conn.Resource = (*Dev)(nil)
