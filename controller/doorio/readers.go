package doorio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/pintu/pintu/drivers/hidreader"
	"github.com/pintu/pintu/drivers/pn532"
	"github.com/pintu/pintu/drivers/rc522"
	"github.com/pintu/pintu/drivers/wiegand"
)

// DefaultRetry is how long a reader waits before opening its device again
// after a failure, when the driver does not do it itself.
const DefaultRetry = time.Second

// statsPoll is how often a Wiegand reader looks for discarded frames.
const statsPoll = time.Second

// errStopped is a reader whose driver stopped without saying why.
var errStopped = errors.New("reader stopped")

// Wiegand reads a Wiegand reader. Open is called at start and again after
// the line request fails; each call must return a new Dev.
type Wiegand struct {
	Name  string // for logs, e.g. "wiegand gpiochip0:5,6"
	Open  func() (*wiegand.Dev, error)
	Retry time.Duration // default DefaultRetry
}

func (w *Wiegand) String() string { return w.Name }

// ReadCards implements CardReader.
func (w *Wiegand) ReadCards(ctx context.Context, out chan<- Card, h Health) error {
	for {
		dev, err := w.Open()
		if err != nil {
			h.Fault(fmt.Errorf("open: %w", err))
		} else {
			h.Fault(nil)
			err = w.read(ctx, dev, out, h)
			if cerr := dev.Close(); cerr != nil && !errors.Is(cerr, wiegand.ErrClosed) && err == nil {
				err = cerr
			}
			if ctx.Err() != nil {
				return nil
			}
			h.Fault(err)
		}
		if !wait(ctx, retry(w.Retry)) {
			return nil
		}
	}
}

// read forwards dev's cards until ctx is done or dev stops, and returns
// why it stopped.
func (w *Wiegand) read(ctx context.Context, dev *wiegand.Dev, out chan<- Card, h Health) error {
	tick := time.NewTicker(statsPoll)
	defer tick.Stop()
	var last wiegand.Stats
	discards := func() {
		s := dev.Stats()
		for _, c := range []struct {
			n, was uint64
			why    string
		}{
			{s.BadParity, last.BadParity, "bad parity"},
			{s.BadLength, last.BadLength, "unexpected length"},
			{s.Dropped, last.Dropped, "edges lost by the kernel"},
		} {
			if c.n > c.was {
				h.Discarded(c.n-c.was, c.why)
			}
		}
		last = s
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			discards()
		case c, ok := <-dev.Reads():
			if !ok {
				discards()
				if err := dev.Err(); err != nil {
					return err
				}
				return errStopped
			}
			select {
			case out <- Card{ID: c.String(), Format: fmt.Sprintf("%s %d-bit", c.Format, c.Bits)}:
			case <-ctx.Done():
				return nil
			}
			discards()
		}
	}
}

// RC522 reads an MFRC522 on SPI. Port is called for each attempt to
// initialise the chip, since an spi.Port connects only once.
type RC522 struct {
	Name  string // for logs, e.g. "rc522 SPI0.0"
	Port  func() (spi.PortCloser, error)
	Opts  rc522.Opts // OnError and OnCardError are set by ReadCards
	Retry time.Duration
}

func (r *RC522) String() string { return r.Name }

// ReadCards implements CardReader.
func (r *RC522) ReadCards(ctx context.Context, out chan<- Card, h Health) error {
	opts := r.Opts
	opts.OnError, opts.OnCardError = h.Fault, cardError(h)
	for {
		port, err := r.Port()
		if err != nil {
			h.Fault(fmt.Errorf("open port: %w", err))
		} else if dev, err := rc522.New(port, &opts); err != nil {
			port.Close()
			h.Fault(err)
		} else {
			h.Fault(nil)
			err := forwardUIDs(ctx, dev.Run, out)
			_ = dev.Halt()
			port.Close()
			if ctx.Err() != nil {
				return nil
			}
			h.Fault(err)
		}
		if !wait(ctx, retry(r.Retry)) {
			return nil
		}
	}
}

// PN532 reads a PN532 on I2C.
type PN532 struct {
	Name  string // for logs, e.g. "pn532 I2C1"
	Bus   i2c.Bus
	Opts  pn532.Opts // OnError and OnCardError are set by ReadCards
	Retry time.Duration
}

func (r *PN532) String() string { return r.Name }

// ReadCards implements CardReader.
func (r *PN532) ReadCards(ctx context.Context, out chan<- Card, h Health) error {
	opts := r.Opts
	opts.OnError, opts.OnCardError = h.Fault, cardError(h)
	for {
		if dev, err := pn532.New(r.Bus, &opts); err != nil {
			h.Fault(err)
		} else {
			h.Fault(nil)
			err := forwardUIDs(ctx, dev.Run, out)
			_ = dev.Halt()
			if ctx.Err() != nil {
				return nil
			}
			h.Fault(err)
		}
		if !wait(ctx, retry(r.Retry)) {
			return nil
		}
	}
}

// cardError counts a card a reader could not read (pulled away mid-read,
// half an anticollision, a UID of a bad length) as a discarded frame: the
// first is logged with the reader's name, the rest counted.
func cardError(h Health) func(error) {
	return func(err error) { h.Discarded(1, err.Error()) }
}

// forwardUIDs runs a UID reader's Run until it returns, sending its UIDs on
// out as cards. Run keeps the reader going across failures, so it returns
// only when ctx is done or the device was halted; its error says which.
func forwardUIDs[U interface {
	~[]byte
	String() string
}](ctx context.Context, run func(context.Context, chan<- U) error, out chan<- Card) error {
	uids := make(chan U)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { done <- run(ctx, uids) }()
	for {
		select {
		case u := <-uids:
			select {
			case out <- Card{ID: u.String(), Format: fmt.Sprintf("ISO 14443A %d-byte UID", len(u))}:
			case <-ctx.Done():
			}
		case err := <-done:
			if err == nil && ctx.Err() == nil {
				err = errStopped
			}
			return err
		}
	}
}

// HID reads a USB keyboard-wedge reader. The driver reopens the device
// itself when it is unplugged and plugged back.
type HID struct {
	Path string
	// HoldOff ignores the same card typed again until it has not been seen
	// for this long: some readers repeat while the card rests on them.
	HoldOff time.Duration
	Reopen  time.Duration // default: the driver's, 1s
	// Now reads the clock for HoldOff; default time.Now.
	Now func() time.Time
	// Opts are the driver's line options (Hex, MaxLen, Terminator,
	// KeyTimeout); Reopen, OnError, OnOpen and OnReject are set by
	// ReadCards.
	Opts hidreader.Opts
}

func (r *HID) String() string { return "hid " + r.Path }

// ReadCards implements CardReader.
func (r *HID) ReadCards(ctx context.Context, out chan<- Card, h Health) error {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	opts := r.Opts
	opts.Reopen, opts.OnError, opts.OnOpen = r.Reopen, h.Fault, func() { h.Fault(nil) }
	// A rejected line (a key outside the card alphabet, a lost terminator)
	// is a discarded frame: logged once with the reader's name, counted.
	opts.OnReject = func(why string) { h.Discarded(1, why) }
	dev, err := hidreader.New(r.Path, &opts)
	if err != nil {
		return err
	}
	defer dev.Close()
	lines := make(chan string)
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, lines) }()
	var last string
	var seen time.Time
	for {
		select {
		case s := <-lines:
			t := now()
			repeat := s == last && t.Sub(seen) < r.HoldOff
			last, seen = s, t
			if repeat {
				continue
			}
			select {
			case out <- Card{ID: s, Format: "keyboard"}:
			case <-ctx.Done():
			}
		case err := <-done:
			return err
		}
	}
}

func retry(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultRetry
	}
	return d
}

// wait waits d, or reports false if ctx is done first.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var (
	_ CardReader = (*Wiegand)(nil)
	_ CardReader = (*RC522)(nil)
	_ CardReader = (*PN532)(nil)
	_ CardReader = (*HID)(nil)
)
