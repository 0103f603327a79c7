package wiegand

import (
	"slices"
	"time"
)

const (
	// reorderWindow is how long after its timestamp an edge waits for the
	// edges numbered before it that have not come yet. The kernel numbers
	// the edges of both lines in the hard interrupt, but each line's
	// interrupt thread queues its own: with more than one CPU, two edges
	// close together can be queued out of order. The threads run at
	// real-time priority, within microseconds; a missing edge not queued
	// a millisecond after a later one was stamped is taken as lost. A Dev
	// never finishes a frame while an edge is held.
	reorderWindow = time.Millisecond
	// maxHeld bounds the edges held while waiting: past it the oldest
	// wait ends, whatever the time.
	maxHeld = 32
)

// reorderer puts edges back in the order of their Edge.Seq. It is a pure
// state machine, like Decoder: edges in, edges out, with time given by the
// caller. An edge numbered past the next one expected is held until the
// missing ones come, or until the caller reports, by Expire, a time
// reorderWindow past the held edge's: the missing ones are then given up,
// and the Decoder sees the gap in Edge.Seq. Edges numbered behind the
// next expected (late, after their place was given up, or duplicated)
// and unnumbered edges pass straight through: the Decoder counts and
// discards the former.
//
// A reorderer is not safe for concurrent use.
type reorderer struct {
	window time.Duration
	next   uint64 // the Seq expected next
	held   []Edge // sorted by Seq, each past next
	out    []Edge // ready, in order, from out[head]
	head   int
	// reordered counts edges pushed behind a held edge numbered after
	// them: put back in order.
	reordered uint64
}

func newReorderer(window time.Duration) *reorderer {
	// Sources number their edges from 1.
	return &reorderer{window: window, next: 1, held: make([]Edge, 0, maxHeld+edgeBatch)}
}

// Push adds an edge, in the order the source delivered it.
func (r *reorderer) Push(e Edge) {
	if e.Seq < r.next { // unnumbered (0), late or duplicated
		r.out = append(r.out, e)
		return
	}
	// After any edge of the same Seq: a duplicate comes out late.
	i, _ := slices.BinarySearchFunc(r.held, e.Seq+1, func(h Edge, seq uint64) int {
		switch {
		case h.Seq < seq:
			return -1
		case h.Seq > seq:
			return 1
		}
		return 0
	})
	if i < len(r.held) && (i == 0 || r.held[i-1].Seq != e.Seq) {
		r.reordered++
	}
	r.held = slices.Insert(r.held, i, e)
	r.release()
	for len(r.held) > maxHeld {
		r.giveUp()
	}
}

// Expire tells the reorderer that the source's clock has reached now and
// that every edge the source had by then was pushed: the edges held since
// reorderWindow before now stop waiting for those missing before them,
// and the missing ones will be late.
func (r *reorderer) Expire(now time.Duration) {
	for len(r.held) > 0 && now-r.held[0].Time >= r.window {
		r.giveUp()
	}
}

// Pop returns the next edge in order, if one is ready.
func (r *reorderer) Pop() (Edge, bool) {
	if r.head == len(r.out) {
		r.out, r.head = r.out[:0], 0
		return Edge{}, false
	}
	e := r.out[r.head]
	r.head++
	return e, true
}

// Deadline returns the time at which Expire would release the first held
// edge, on the edges' clock; ok is false when no edge is held.
func (r *reorderer) Deadline() (t time.Duration, ok bool) {
	if len(r.held) == 0 {
		return 0, false
	}
	return r.held[0].Time + r.window, true
}

// Held returns the number of edges waiting for missing ones.
func (r *reorderer) Held() int { return len(r.held) }

// giveUp gives up waiting for the edges missing before the first held.
func (r *reorderer) giveUp() {
	r.next = r.held[0].Seq
	r.release()
}

// release moves the held edges that are next in order to out.
func (r *reorderer) release() {
	n := 0
	for n < len(r.held) && r.held[n].Seq <= r.next {
		if r.held[n].Seq == r.next {
			r.next++
		}
		n++
	}
	if n > 0 {
		r.out = append(r.out, r.held[:n]...)
		r.held = slices.Delete(r.held, 0, n)
	}
}
