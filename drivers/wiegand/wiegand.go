package wiegand

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
)

// Errors.
var (
	// ErrClosed is returned by a second Close, and wrapped by an
	// EdgeSource's ReadEdges once it is closed.
	ErrClosed = errors.New("wiegand: closed")
)

// Opts configures a Dev or a Decoder. The zero value of a field means its
// default, from DefaultOpts.
type Opts struct {
	// Lengths lists the frame lengths, in bits, that the reader sends, e.g.
	// []int{26} or []int{26, 34}; each from 4 to MaxBits. Frames of other
	// lengths are discarded. When set, a frame is finished as soon as it
	// has one of these lengths, good parity, and no further bit came
	// within twice its mean bit interval, nor within 1.25 times its
	// longest (at least 1 ms, at most Gap): a longer frame whose first
	// bits look like a shorter one is not cut short. Empty
	// means the lengths of the known formats (26, 34, 35, 37), each frame
	// then ending only after Gap of silence.
	//
	// Lengths 26, 34, 35 and 37 decode as H10301, H10306, Corporate 1000 and
	// H10304 (or H10302), parity checked; any other length as FormatRaw,
	// whose frames carry no parity to check.
	Lengths []int
	// Gap is the silence after which a frame is over, whatever its length.
	// The Wiegand interface allows bit intervals up to 20 ms, but readers
	// send a bit every 0.5 to 2 ms. Zero means 25 ms.
	Gap time.Duration
	// H10302 decodes 37-bit frames as H10302 (a 35-bit card number, no
	// facility code) instead of H10304. The two share one parity layout: the
	// bits cannot tell them apart.
	H10302 bool

	// The fields below configure the line request made by Open; New and
	// NewDecoder ignore them.

	// PullUp enables the pull-up bias of D0 and D1, for a reader with
	// open-collector outputs and no pull-ups of its own. Leave it off
	// behind a level shifter that pulls up.
	PullUp bool
	// Inverted is for an interface that inverts the lines (an optocoupler):
	// a bit is then a rising edge at the GPIO.
	Inverted bool
	// Realtime stamps edges with CLOCK_REALTIME instead of CLOCK_MONOTONIC.
	// The wall clock may step while a frame comes in; see Caveats.
	Realtime bool
	// BufferSize is the number of edges the kernel keeps for the two lines
	// until they are read, from 256 to 1024; past it, the oldest are
	// dropped. Zero means 256, about seven 34-bit frames.
	BufferSize int
	// Consumer is the label the kernel shows for the two lines while they
	// are requested (gpioinfo). Empty means "pintu-wiegand".
	Consumer string
}

// DefaultOpts is the configuration used for a nil *Opts and for zero
// fields.
var DefaultOpts = Opts{
	Gap:        25 * time.Millisecond,
	BufferSize: 256,
	Consumer:   "pintu-wiegand",
}

const (
	minBuffer = 256
	maxBuffer = 1024 // the kernel's cap for a line request
	// readsQueue is the capacity of the channel returned by Reads.
	readsQueue = 8
	// edgeBatch is the number of edges read at once.
	edgeBatch = 64
)

// Clock is implemented by an EdgeSource that can read the clock its edges
// are stamped on. A Dev over such a source measures how late edges reach
// it and waits after a frame's end only a few times that (see Caveats);
// over any other it waits 2 ms.
type Clock interface {
	Now() time.Duration
}

// EdgeSource delivers the edges of D0 and D1, in the order they happened,
// or numbered (Edge.Seq) in that order: a Dev puts back in order an edge
// delivered behind ones that follow it, as the kernel's may be, if it
// comes within 1 ms of their timestamps (see Caveats). Open makes one from the GPIO character device;
// tests and simulators provide their own.
type EdgeSource interface {
	// ReadEdges waits for at least one edge and reads as many as are
	// available and fit in buf. If until is not zero and the source's clock
	// reaches until first, it returns 0, nil; before that it has
	// delivered every edge it had received that happened before until.
	// When ctx is done it returns ctx's error. Once the source is closed it
	// returns an error wrapping ErrClosed. It is called from one goroutine
	// at a time.
	ReadEdges(ctx context.Context, buf []Edge, until time.Duration) (int, error)
	// Close releases the source; a pending ReadEdges returns.
	Close() error
}

// Dev is a Wiegand reader. It decodes the edges of its EdgeSource in a
// goroutine of its own and delivers cards on Reads.
type Dev struct {
	name   string
	src    EdgeSource
	dec    *Decoder
	reo    *reorderer
	clock  Clock // nil when the source has none
	slack  slackMeter
	reads  chan Card
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	stats  Stats
	err    error
	closed bool
}

// New returns a Dev reading src, and starts decoding. The Dev owns src: its
// Close closes src. On error src is left open. A nil opts means
// DefaultOpts.
func New(src EdgeSource, opts *Opts) (*Dev, error) {
	dec, err := NewDecoder(opts)
	if err != nil {
		return nil, err
	}
	name := "wiegand"
	if s, ok := src.(fmt.Stringer); ok {
		name = "wiegand(" + s.String() + ")"
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dev{
		name:   name,
		src:    src,
		dec:    dec,
		reo:    newReorderer(reorderWindow),
		clock:  clockOf(src),
		reads:  make(chan Card, readsQueue),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go d.run(ctx)
	return d, nil
}

// String returns the device's name and lines, e.g.
// "wiegand(gpiochip0:17,18)".
func (d *Dev) String() string { return d.name }

// Reads returns the channel of cards read, in the order they were
// presented. It is closed when decoding stops: after Halt or Close, or when
// the source fails (see Err). Cards are held while the channel is full,
// and edges then wait in the source.
func (d *Dev) Reads() <-chan Card { return d.reads }

// Stats returns the counts of frames decoded and discarded so far.
func (d *Dev) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Err returns the error that stopped decoding, once Reads is closed; nil
// if Halt or Close stopped it.
func (d *Dev) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Halt stops decoding and waits for the decoding goroutine to return; a
// frame under way is discarded and Reads is closed. A reader is input
// only: nothing is driven, and the lines stay requested as inputs until
// Close. Halt cannot be undone.
func (d *Dev) Halt() error {
	d.cancel()
	<-d.done
	return nil
}

// Close halts the device and closes its EdgeSource (for Open, releasing the
// lines). A second Close returns ErrClosed.
func (d *Dev) Close() error {
	d.mu.Lock()
	closed := d.closed
	d.closed = true
	d.mu.Unlock()
	if closed {
		return ErrClosed
	}
	_ = d.Halt()
	if err := d.src.Close(); err != nil {
		return fmt.Errorf("wiegand: close: %w", err)
	}
	return nil
}

func clockOf(src EdgeSource) Clock {
	if c, ok := src.(Clock); ok {
		return c
	}
	return nil
}

func (d *Dev) run(ctx context.Context) {
	defer close(d.done)
	defer close(d.reads)
	buf := make([]Edge, edgeBatch)
	for {
		// Wake for the pending frame's end, once the kernel has had the
		// time to queue its edges, or for the end of a held edge's wait
		// for those numbered before it, whichever comes first.
		slack := maxSlack
		if d.clock != nil {
			slack = d.slack.slack()
		}
		var until time.Duration
		if dl, ok := d.dec.Deadline(); ok {
			until = dl + slack
		}
		if dl, ok := d.reo.Deadline(); ok && (until == 0 || dl < until) {
			until = dl
		}
		n, err := d.src.ReadEdges(ctx, buf, until)
		if err != nil {
			if ctx.Err() == nil {
				d.mu.Lock()
				d.err = fmt.Errorf("wiegand: read edges: %w", err)
				d.mu.Unlock()
			}
			return
		}
		if n > 0 && d.clock != nil {
			newest := buf[0].Time
			for _, e := range buf[1:n] {
				newest = max(newest, e.Time)
			}
			d.slack.observe(d.clock.Now() - newest)
		}
		for _, e := range buf[:n] {
			d.reo.Push(e)
		}
		drained := n == 0 && until != 0 // every edge before until was read
		if drained {
			d.reo.Expire(until)
		}
		for {
			e, ok := d.reo.Pop()
			if !ok {
				break
			}
			if c, ok := d.dec.Feed(e); ok && !d.send(ctx, c) {
				return
			}
		}
		// Edges stamped before until-slack have been queued by now. A
		// held edge waits for those numbered before it, which may belong
		// to the frame: the frame ends after that wait.
		if drained && d.reo.Held() == 0 {
			if c, ok := d.dec.Flush(until - slack); ok && !d.send(ctx, c) {
				return
			}
		}
		d.updateStats()
	}
}

func (d *Dev) updateStats() {
	d.mu.Lock()
	d.stats = d.dec.Stats()
	d.stats.Reordered = d.reo.reordered
	d.mu.Unlock()
}

// send delivers c, or reports false if ctx is done first.
func (d *Dev) send(ctx context.Context, c Card) bool {
	d.updateStats()
	select {
	case d.reads <- c:
		return true
	case <-ctx.Done():
		return false
	}
}

var _ conn.Resource = (*Dev)(nil)
