package hidreader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3"
)

// ErrClosed is returned by Close and Run once the Dev is closed.
var ErrClosed = errors.New("hidreader: closed")

// Terminator is the key a reader types after each card number.
type Terminator string

// Terminators. The zero value means TermEnter.
const (
	// TermEnter is Enter or the keypad's Enter, the usual.
	TermEnter Terminator = "enter"
	// TermTab is Tab, for readers set up to move to the next form field.
	TermTab Terminator = "tab"
)

func (t Terminator) name() string {
	if t == TermTab {
		return "Tab"
	}
	return "Enter"
}

// Opts configures a reader. Zero values mean the defaults below.
type Opts struct {
	// MaxLen is the longest card number accepted; a longer line is
	// rejected. Default 32.
	MaxLen int
	// Hex also accepts the letters A-F, for readers that type the card UID
	// in hexadecimal. Cards are reported in upper case. Without it a line
	// holding a letter is rejected.
	Hex bool
	// Terminator is the key that ends a card number: TermEnter (default)
	// or TermTab. The other one, like any key that is neither a character
	// of a card number nor a modifier, rejects the line.
	Terminator Terminator
	// KeyTimeout is the longest gap allowed between two keys of one card
	// number, terminator included, from 1 ms to 10 s. A longer gap ends
	// the line: what came before it is rejected, never joined to what
	// follows, so a lost terminator cannot join two cards. Default 200ms;
	// readers type a whole number in a few tens of milliseconds.
	KeyTimeout time.Duration
	// Reopen is the wait before each new attempt to open the device after
	// it failed or could not be opened. Default 1s.
	Reopen time.Duration
	// OnError receives the error that starts an outage (see the package
	// documentation). Default: log.Print. It is called from Run's
	// goroutine and must not call Halt or Close.
	OnError func(error)
	// OnOpen, if set, is called each time the device has been opened and
	// grabbed, including the first. It is called from Run's goroutine and
	// must not call Halt or Close.
	OnOpen func()
	// OnReject receives the reason each rejected line was rejected (see the
	// package documentation). Default: the first reason goes to log.Print,
	// later ones are only counted (Dev.Rejected). It is called from Run's
	// goroutine, must not block and must not call Halt or Close.
	OnReject func(reason string)
}

// DefaultOpts are the options used for a nil *Opts.
var DefaultOpts = Opts{MaxLen: 32, Reopen: time.Second, Terminator: TermEnter, KeyTimeout: 200 * time.Millisecond}

const maxKeyTimeout = 10 * time.Second

// Dev is a keyboard-wedge card reader on an evdev device path.
type Dev struct {
	path string
	opts Opts
	// open opens and grabs the device; Close on its result must unblock a
	// pending Read. Tests replace it.
	open func(path string) (io.ReadCloser, error)

	rejected atomic.Uint64

	mu     sync.Mutex
	closed bool
	cancel context.CancelFunc // of the running Run; nil when none
	done   chan struct{}      // closed when that Run has returned
}

// New returns a reader for the evdev device at path, such as
// /dev/input/by-id/usb-Reader-event-kbd. It does not open the device: Run
// does, so that a reader unplugged at start-up is waited for. A nil opts
// means DefaultOpts.
func New(path string, opts *Opts) (*Dev, error) {
	if path == "" {
		return nil, errors.New("hidreader: empty device path")
	}
	if opts == nil {
		opts = &DefaultOpts
	}
	o := *opts
	if o.MaxLen < 0 || o.Reopen < 0 {
		return nil, fmt.Errorf("hidreader %s: negative MaxLen or Reopen", path)
	}
	if o.MaxLen == 0 {
		o.MaxLen = DefaultOpts.MaxLen
	}
	if o.Reopen == 0 {
		o.Reopen = DefaultOpts.Reopen
	}
	if o.Terminator == "" {
		o.Terminator = DefaultOpts.Terminator
	}
	if o.Terminator != TermEnter && o.Terminator != TermTab {
		return nil, fmt.Errorf("hidreader %s: terminator %q is not %q or %q", path, o.Terminator, TermEnter, TermTab)
	}
	if o.KeyTimeout == 0 {
		o.KeyTimeout = DefaultOpts.KeyTimeout
	}
	if o.KeyTimeout < time.Millisecond || o.KeyTimeout > maxKeyTimeout {
		return nil, fmt.Errorf("hidreader %s: key timeout %v out of range [1ms, %v]", path, o.KeyTimeout, maxKeyTimeout)
	}
	if o.OnError == nil {
		o.OnError = func(err error) { log.Print(err) }
	}
	d := &Dev{path: path, opts: o, open: openDevice}
	if d.opts.OnReject == nil {
		var once sync.Once
		d.opts.OnReject = func(why string) {
			once.Do(func() { log.Printf("hidreader %s: line rejected: %s; further rejections are only counted", path, why) })
		}
	}
	return d, nil
}

// Rejected returns how many lines the reader has rejected since New.
func (d *Dev) Rejected() uint64 { return d.rejected.Load() }

// Run opens and grabs the device and sends each card number read on out,
// reopening the device after any failure, until ctx is cancelled or Halt or
// Close is called; then it releases the device and returns nil. It returns
// ErrClosed after Close, and an error if another Run is active.
func (d *Dev) Run(ctx context.Context, out chan<- string) error {
	d.mu.Lock()
	switch {
	case d.closed:
		d.mu.Unlock()
		return ErrClosed
	case d.cancel != nil:
		d.mu.Unlock()
		return fmt.Errorf("hidreader %s: already running", d.path)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	d.mu.Unlock()
	defer func() {
		cancel()
		d.mu.Lock()
		d.cancel, d.done = nil, nil
		d.mu.Unlock()
		close(done)
	}()

	down := false // in an outage, already reported
	for {
		rc, err := d.open(d.path)
		if err == nil {
			down = false
			if d.opts.OnOpen != nil {
				d.opts.OnOpen()
			}
			err = d.read(ctx, rc, out)
		}
		if ctx.Err() != nil {
			return nil
		}
		if !down {
			down = true
			d.opts.OnError(fmt.Errorf("hidreader: %w", err))
		}
		t := time.NewTimer(d.opts.Reopen)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// read decodes events from rc until a read fails or ctx ends, and closes
// rc, which also releases the grab.
func (d *Dev) read(ctx context.Context, rc io.ReadCloser, out chan<- string) error {
	// Closing rc is the one way to interrupt a blocked Read. The Once makes
	// the deferred call wait for a close the AfterFunc began, so the device
	// is released before Run returns.
	var once sync.Once
	closeDev := func() { once.Do(func() { rc.Close() }) }
	stop := context.AfterFunc(ctx, closeDev)
	defer func() {
		stop()
		closeDev()
	}()
	dec := newDecoder(d.opts.MaxLen, d.opts.Hex, d.opts.Terminator, d.opts.KeyTimeout)
	buf := make([]byte, 64*eventSize)
	kept := 0 // bytes of an incomplete event carried to the next Read
	for {
		n, err := rc.Read(buf[kept:])
		n += kept
		whole := n - n%eventSize
		for off := 0; off < whole; off += eventSize {
			card, rejected := dec.feed(parseEvent(buf[off:off+eventSize], wordSize))
			if rejected != "" {
				d.rejected.Add(1)
				d.opts.OnReject(rejected)
			}
			if card == "" {
				continue
			}
			select {
			case out <- card:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		kept = copy(buf, buf[whole:n])
		if err == nil && n == 0 {
			err = io.ErrNoProgress
		}
		if err != nil {
			return err
		}
	}
}

// Halt implements conn.Resource. It stops a running Run and waits until it
// has returned, which releases the grab and closes the device. Run may be
// called again afterwards.
func (d *Dev) Halt() error {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// Close halts the reader for good: Run then returns ErrClosed. A second
// Close returns ErrClosed.
func (d *Dev) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.closed = true
	d.mu.Unlock()
	return d.Halt()
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("hidreader(%s)", d.path)
}

var _ conn.Resource = (*Dev)(nil)
