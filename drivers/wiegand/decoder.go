package wiegand

import (
	"fmt"
	"time"
)

// Edge is one falling edge on D0 or D1, that is one bit.
type Edge struct {
	// Time is when the edge happened, in nanoseconds on the source's clock
	// (the kernel's event clock for Open).
	Time time.Duration
	// Bit is 0 for an edge on D0, 1 for one on D1.
	Bit uint8
	// Seq numbers the edges of one source, from 1, without gaps unless edges
	// were lost. Zero means the source does not number its edges.
	Seq uint64
}

// Stats counts the frames a Decoder finished, by outcome. Every frame but
// those counted in Frames was discarded.
type Stats struct {
	// Frames is the number of frames decoded into a card.
	Frames uint64
	// BadParity counts frames of an accepted length whose parity failed.
	BadParity uint64
	// BadLength counts frames of 4 bits or more whose length is not
	// accepted.
	BadLength uint64
	// Noise counts frames of fewer than 4 bits: glitches, not reads.
	Noise uint64
	// Dropped counts frames that may have lost edges, as told by a gap in
	// Edge.Seq.
	Dropped uint64
	// LostEdges is the number of edges missing from Edge.Seq.
	LostEdges uint64
	// Late counts edges numbered behind one already decoded: delivered out
	// of order by more than a Dev puts back (see Caveats), or twice. They
	// are left out, and the frame under way is discarded (Dropped). An
	// edge that a Dev gave up waiting for, and that came after all, is
	// counted in LostEdges and in Late.
	Late uint64
	// Reordered counts edges a Dev put back in order: delivered behind an
	// edge numbered after them, within the wait described in Caveats. A
	// Decoder fed directly leaves it 0.
	Reordered uint64
}

const (
	// noiseBits: a frame shorter than this is noise, not a read.
	noiseBits = 4
	// settleFactor times the mean bit interval is how long a frame of an
	// expected length and good parity waits for more bits before it is
	// finished.
	settleFactor = 2
	// settleFloor is the least such wait: kernel timestamps of
	// hard-interrupt time carry some tens of microseconds of jitter.
	settleFloor = time.Millisecond
)

// Decoder turns a stream of edges into cards. It is a pure state machine:
// it starts no goroutine and never reads a clock; time only moves with the
// Edge.Time of the edges fed and the now given to Flush. A frame ends at
// the same point whether Flush finishes it or the next edge does.
//
// A gap in Edge.Seq discards the frame under way, which the lost edges may
// have ended, and the frame the next edge starts, which they may have
// begun. A frame already flushed stays accepted: Flush's caller asserts
// it has fed every edge that happened before now. An edge numbered at or
// behind the last one fed is late: it is counted in Stats.Late and left
// out, and the frame under way is discarded. The Decoder does not reorder
// edges; a Dev does, before them (see Caveats).
//
// A frame ends when no edge follows its last one for the wait that
// Deadline reports: Opts.Gap in general, shorter once the frame has one of
// the configured Opts.Lengths with good parity (see Opts.Lengths).
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	allowed uint64 // bit n-1 set: n-bit frames are accepted
	early   bool   // Opts.Lengths was set: finish frames early
	gap     time.Duration
	h10302  bool

	// The frame under way; n == 0 when none.
	n       int
	v       uint64
	last    time.Duration
	sum     time.Duration // of the intervals between the frame's edges
	maxIv   time.Duration
	wait    time.Duration // from last to the frame's end, if no edge comes
	tainted bool          // edges may have been lost within the frame

	lastSeq uint64
	stats   Stats
}

// defaultLengths are the lengths accepted when Opts.Lengths is empty: those
// of the known formats.
var defaultLengths = []int{26, 34, 35, 37}

// NewDecoder returns a Decoder for opts; nil means DefaultOpts. Only the
// decoding fields of Opts are used.
func NewDecoder(opts *Opts) (*Decoder, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	d := &Decoder{early: len(o.Lengths) > 0, gap: o.Gap, h10302: o.H10302}
	lengths := o.Lengths
	if !d.early {
		lengths = defaultLengths
	}
	for _, n := range lengths {
		d.allowed |= 1 << (n - 1)
	}
	return d, nil
}

// Feed adds one edge. If the edge comes at or after the pending frame's
// Deadline, that frame is finished first, and Feed returns its card, if it
// made one. Feed never finishes the frame the edge belongs to.
func (d *Decoder) Feed(e Edge) (Card, bool) {
	lost := false
	if e.Seq != 0 {
		if d.lastSeq != 0 && e.Seq <= d.lastSeq {
			d.late()
			return Card{}, false
		}
		if d.lastSeq != 0 && e.Seq != d.lastSeq+1 {
			lost = true
			d.stats.LostEdges += e.Seq - d.lastSeq - 1
		}
		d.lastSeq = e.Seq
	}
	if lost {
		d.tainted = true // the lost edges may have ended the pending frame
	}
	var c Card
	var ok bool
	if d.n > 0 && e.Time-d.last >= d.wait {
		c, ok = d.finish()
	}
	if lost {
		d.tainted = true // or begun the one e starts
	}
	d.add(e)
	return c, ok
}

// Deadline returns when the pending frame ends if no edge comes before,
// on the edges' clock; ok is false when no frame is pending.
func (d *Decoder) Deadline() (t time.Duration, ok bool) {
	if d.n == 0 {
		return 0, false
	}
	return d.last + d.wait, true
}

// Flush finishes the pending frame if now is at or past its Deadline, and
// returns its card, if it made one. The caller must have fed every edge
// that happened before now.
func (d *Decoder) Flush(now time.Duration) (Card, bool) {
	if d.n == 0 || now-d.last < d.wait {
		return Card{}, false
	}
	return d.finish()
}

// late counts an edge that came behind its successors, and discards the
// frame under way, to which it may belong: its bit cannot be put back in
// place. The frame then waits for Gap, as one that lost edges does.
func (d *Decoder) late() {
	d.stats.Late++
	if d.n > 0 {
		d.tainted = true
		d.wait = d.settle()
	}
}

// Pending returns the number of bits of the frame under way.
func (d *Decoder) Pending() int { return d.n }

// Stats returns the counts of the frames finished so far.
func (d *Decoder) Stats() Stats { return d.stats }

func (d *Decoder) add(e Edge) {
	if d.n == 0 {
		d.sum, d.maxIv = 0, 0
	} else if iv := e.Time - d.last; iv > 0 {
		// A clock stepped back (CLOCK_REALTIME) counts as no time at all.
		d.sum += iv
		d.maxIv = max(d.maxIv, iv)
	}
	if d.n <= MaxBits {
		d.v <<= 1
		if e.Bit != 0 {
			d.v |= 1
		}
		d.n++
	}
	d.last = e.Time
	d.wait = d.settle()
}

// settle returns how long the pending frame waits for another bit.
func (d *Decoder) settle() time.Duration {
	if !d.early || d.n < 2 || d.tainted || !d.accepts(d.n) {
		return d.gap
	}
	if _, ok := d.decode(); !ok {
		// Perhaps the prefix of a longer frame: wait for it.
		return d.gap
	}
	// Readers clock bits out at a steady interval: a bit that does not come
	// within twice the mean interval (and a quarter more than the longest
	// seen) is not coming.
	mean := d.sum / time.Duration(d.n-1)
	return min(max(settleFactor*mean, d.maxIv+d.maxIv/4, settleFloor), d.gap)
}

func (d *Decoder) accepts(n int) bool {
	return n >= noiseBits && n <= MaxBits && d.allowed&(1<<(n-1)) != 0
}

// decode decodes the pending frame, of an accepted length; ok is false if
// its parity fails.
func (d *Decoder) decode() (Card, bool) {
	var f *format
	switch d.n {
	case 26:
		f = formats[0]
	case 34:
		f = formats[1]
	case 35:
		f = formats[2]
	case 37:
		f = formats[3]
		if d.h10302 {
			f = formats[4]
		}
	default:
		return Card{Format: FormatRaw, Bits: d.n, Number: d.v, Raw: d.v}, true
	}
	if !f.parityOK(d.v) {
		return Card{}, false
	}
	return f.card(d.v), true
}

// finish ends the pending frame, counts it, and returns its card if it
// made one.
func (d *Decoder) finish() (c Card, ok bool) {
	switch {
	case d.tainted:
		d.stats.Dropped++
	case d.n < noiseBits:
		d.stats.Noise++
	case !d.accepts(d.n):
		d.stats.BadLength++
	default:
		if c, ok = d.decode(); ok {
			d.stats.Frames++
		} else {
			d.stats.BadParity++
		}
	}
	d.n, d.v, d.tainted = 0, 0, false
	return c, ok
}

func (o *Opts) resolve() (Opts, error) {
	r := DefaultOpts
	if o != nil {
		r = *o
	}
	if r.Gap == 0 {
		r.Gap = DefaultOpts.Gap
	}
	if r.BufferSize == 0 {
		r.BufferSize = DefaultOpts.BufferSize
	}
	if r.Consumer == "" {
		r.Consumer = DefaultOpts.Consumer
	}
	if r.Gap < 0 {
		return r, fmt.Errorf("wiegand: gap %v is negative", r.Gap)
	}
	if r.BufferSize < minBuffer || r.BufferSize > maxBuffer {
		return r, fmt.Errorf("wiegand: buffer size %d is outside [%d, %d]", r.BufferSize, minBuffer, maxBuffer)
	}
	seen := map[int]bool{}
	for _, n := range r.Lengths {
		if n < noiseBits || n > MaxBits {
			return r, fmt.Errorf("wiegand: frame length %d is outside [%d, %d]", n, noiseBits, MaxBits)
		}
		if seen[n] {
			return r, fmt.Errorf("wiegand: frame length %d listed twice", n)
		}
		seen[n] = true
	}
	r.Lengths = append([]int(nil), r.Lengths...)
	return r, nil
}
