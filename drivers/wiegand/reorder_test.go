package wiegand

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReorderer(t *testing.T) {
	const (
		iv = 200 * time.Microsecond // between two stamps
		w  = reorderWindow
	)
	type step struct {
		push     []uint64      // seqs pushed, edge seq stamped at (seq-start)×iv
		expire   time.Duration // if set, Expire at that time, after the push
		want     []uint64      // seqs popped after the step
		held     int           // edges held after it
		deadline time.Duration // the Deadline after it, if edges are held
	}
	for _, tc := range []struct {
		name  string
		start uint64 // the first seq; 0 means 1
		steps []step
	}{
		{
			name:  "in order",
			steps: []step{{push: []uint64{1, 2, 3}, want: []uint64{1, 2, 3}}, {push: []uint64{4}, want: []uint64{4}}},
		},
		{
			name:  "adjacent swap in one batch",
			steps: []step{{push: []uint64{1, 3, 2, 4}, want: []uint64{1, 2, 3, 4}}},
		},
		{
			name:  "first two swapped",
			steps: []step{{push: []uint64{2, 1, 3}, want: []uint64{1, 2, 3}}},
		},
		{
			name: "swap across two batches",
			steps: []step{
				{push: []uint64{1, 2, 4}, want: []uint64{1, 2}, held: 1, deadline: 3*iv + w},
				{expire: 3*iv + w - 1, held: 1, deadline: 3*iv + w},
				{push: []uint64{3, 5}, want: []uint64{3, 4, 5}},
			},
		},
		{
			name: "184 and 185 swapped, then 186 and 187",
			steps: []step{
				{push: []uint64{1}, want: []uint64{1}},
				{push: []uint64{3}, held: 1, deadline: 2*iv + w},
				{push: []uint64{2, 5}, want: []uint64{2, 3}, held: 1, deadline: 4*iv + w},
				{push: []uint64{4}, want: []uint64{4, 5}},
			},
		},
		{
			name: "a gap never filled: released after the window, with the gap",
			steps: []step{
				{push: []uint64{1, 3, 4}, want: []uint64{1}, held: 2, deadline: 2*iv + w},
				{expire: 2*iv + w - 1, held: 2, deadline: 2*iv + w},
				{expire: 2*iv + w, want: []uint64{3, 4}},
				{push: []uint64{5}, want: []uint64{5}},
			},
		},
		{
			name: "two gaps: each edge waits its own window",
			steps: []step{
				{push: []uint64{1, 3, 6}, want: []uint64{1}, held: 2, deadline: 2*iv + w},
				{expire: 2*iv + w, want: []uint64{3}, held: 1, deadline: 5*iv + w},
				{push: []uint64{4}, want: []uint64{4}, held: 1, deadline: 5*iv + w},
				{expire: 5*iv + w, want: []uint64{6}},
			},
		},
		{
			name: "late after its place was given up: passed on for the decoder to count",
			steps: []step{
				{push: []uint64{1, 3}, expire: 2*iv + w, want: []uint64{1, 3}},
				{push: []uint64{2, 4}, want: []uint64{2, 4}},
			},
		},
		{
			name: "really old and duplicated edges pass straight through",
			steps: []step{
				{push: []uint64{1, 2, 3, 4}, want: []uint64{1, 2, 3, 4}},
				{push: []uint64{4, 1}, want: []uint64{4, 1}},
				{push: []uint64{5}, want: []uint64{5}},
			},
		},
		{
			name: "duplicate of a held edge comes out after it",
			steps: []step{
				{push: []uint64{1, 3, 3}, want: []uint64{1}, held: 2, deadline: 2*iv + w},
				{push: []uint64{2}, want: []uint64{2, 3, 3}},
			},
		},
		{
			name: "unnumbered edges pass straight through",
			steps: []step{
				{push: []uint64{0, 0, 0}, want: []uint64{0, 0, 0}},
			},
		},
		{
			name:  "wraparound of the kernel's 32-bit seqno, extended",
			start: 1<<32 - 2,
			steps: []step{
				{push: []uint64{1<<32 - 2, 1 << 32, 1<<32 - 1}, want: []uint64{1<<32 - 2, 1<<32 - 1, 1 << 32}},
				{push: []uint64{1<<32 + 2, 1<<32 + 1}, want: []uint64{1<<32 + 1, 1<<32 + 2}},
			},
		},
		{
			name: "too many held: the oldest wait ends",
			steps: []step{
				{push: seqs(1, 1), want: seqs(1, 1)},
				{push: seqs(3, maxHeld), held: maxHeld, deadline: 2*iv + w},
				{push: []uint64{3 + maxHeld}, want: seqs(3, maxHeld+1)},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := max(tc.start, 1)
			r := newReorderer(w)
			r.next = start
			stamp := func(seq uint64) time.Duration {
				if seq == 0 {
					return 0
				}
				return time.Duration(seq-start) * iv
			}
			for i, s := range tc.steps {
				for _, seq := range s.push {
					r.Push(Edge{Time: stamp(seq), Bit: uint8(seq & 1), Seq: seq})
				}
				if s.expire != 0 {
					r.Expire(s.expire)
				}
				var got []uint64
				for {
					e, ok := r.Pop()
					if !ok {
						break
					}
					if e.Time != stamp(e.Seq) || e.Bit != uint8(e.Seq&1) {
						t.Errorf("step %d: popped %+v, not an edge pushed", i, e)
					}
					got = append(got, e.Seq)
				}
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Errorf("step %d: popped (-want +got):\n%s", i, diff)
				}
				if r.Held() != s.held {
					t.Errorf("step %d: Held() = %d, want %d", i, r.Held(), s.held)
				}
				dl, ok := r.Deadline()
				if ok != (s.held > 0) || dl != s.deadline {
					t.Errorf("step %d: Deadline() = %v, %t; want %v, %t", i, dl, ok, s.deadline, s.held > 0)
				}
			}
		})
	}
}

// seqs returns n sequence numbers from first.
func seqs(first uint64, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = first + uint64(i)
	}
	return s
}

// A Dev holds no edge of a frame past the frame's end.
func TestReorderWindowWithinSlack(t *testing.T) {
	if reorderWindow > settleFloor {
		t.Errorf("reorderWindow %v > settleFloor %v", reorderWindow, settleFloor)
	}
}

// A Decoder fed an edge behind one already fed, directly, discards the
// frame and counts the edge, and never counts it as 2^64 lost edges.
func TestDecoderLate(t *testing.T) {
	c26, f26 := mustEncode(t, FormatH10301, 12, 3456)
	ms := time.Millisecond
	swapped := frameEdges(f26, 0, ms, 1)
	swapped[9], swapped[10] = swapped[10], swapped[9]
	for _, tc := range []struct {
		name  string
		edges []Edge
		want  []Card
		stats Stats
	}{
		{
			name:  "adjacent swap",
			edges: concat(swapped, frameEdges(f26, 100*ms, ms, 27)),
			want:  []Card{c26},
			stats: Stats{Frames: 1, Dropped: 1, LostEdges: 1, Late: 1},
		},
		{
			name:  "duplicate",
			edges: concat(frameEdges(f26[:20], 0, ms, 1), frameEdges(f26[19:], 20*ms, ms, 20), frameEdges(f26, 100*ms, ms, 27)),
			want:  []Card{c26},
			stats: Stats{Frames: 1, Dropped: 1, Late: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cards, st, err := decodeAll(&Opts{Lengths: []int{26}}, tc.edges)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cards); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stats, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

// maxQueueDelay is how long after stamping an edge the simulated kernel
// may queue it: less than reorderWindow, as a real one does.
const maxQueueDelay = 800 * time.Microsecond

// swapEdges returns edges in the order a kernel on several CPUs may queue
// them, and when it queues each: an edge is queued up to maxQueueDelay
// after it was stamped, after the next one, with probability p, when the
// next one was stamped within that delay (no edge swapped twice); others
// are queued when stamped.
func swapEdges(rng *rand.Rand, edges []Edge, p float64) (queued []Edge, at []time.Duration, swaps int) {
	queued = append([]Edge(nil), edges...)
	at = make([]time.Duration, len(edges))
	for i := range queued {
		at[i] = queued[i].Time
	}
	for i := 0; i+1 < len(queued); i++ {
		gap := queued[i+1].Time - queued[i].Time
		if gap >= maxQueueDelay || rng.Float64() >= p {
			continue
		}
		delay := gap + time.Duration(rng.Int64N(int64(maxQueueDelay-gap)))
		queued[i], queued[i+1] = queued[i+1], queued[i]
		at[i+1] = queued[i+1].Time + delay
		i++
		swaps++
	}
	// The source hands edges out in queue order.
	for i := 1; i < len(at); i++ {
		at[i] = max(at[i], at[i-1])
	}
	return queued, at, swaps
}

// randomFrames returns n frames of random formats and bit intervals, as
// edges numbered from 1, with the cards they carry and the options that
// accept them.
func randomFrames(rng *rand.Rand, n int) ([]Edge, []Card, Opts) {
	var edges []Edge
	var cards []Card
	at := 10 * time.Second
	for range n {
		tc := formatCases[rng.IntN(len(formatCases))]
		for tc.format == FormatH10302 { // the options decode 37 bits as H10304
			tc = formatCases[rng.IntN(len(formatCases))]
		}
		c, err := Encode(tc.format, tc.facility, tc.number)
		if err != nil {
			panic(err)
		}
		frame := specEncode(tc.format, tc.facility, tc.number)
		iv := 200*time.Microsecond + time.Duration(rng.Int64N(int64(time.Millisecond)))
		edges = append(edges, frameEdges(frame, at, iv, uint64(len(edges)+1))...)
		cards = append(cards, c)
		at += time.Duration(len(frame))*iv + 30*time.Millisecond + time.Duration(rng.Int64N(int64(500*time.Millisecond)))
	}
	return edges, cards, Opts{Lengths: []int{26, 34, 35, 37}}
}

// Property: swapping adjacent edges of valid frames, in the kernel's
// queue, never changes the cards a Dev reads, nor discards a frame; the
// Dev counts each edge it put back in order.
func TestDevReorderProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 34))
	for i := range 100 {
		edges, want, opts := randomFrames(rng, 1+rng.IntN(4))
		queued, at, swaps := swapEdges(rng, edges, 0.2)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got, st := readAll(t, queued, at, &opts)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%d swaps: cards (-want +got):\n%s", swaps, diff)
				}
				// Each swap is one edge put back in order, and counted.
				if st != (Stats{Frames: uint64(len(want)), Reordered: uint64(swaps)}) {
					t.Errorf("%d swaps: Stats() = %+v, want %d frames, %d reordered and nothing else", swaps, st, len(want), swaps)
				}
			})
		})
	}
}

// The same property for the reorderer and decoder alone, the edges pushed
// in random batches, without goroutines or time.
func TestReorderDecodeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 35))
	for range 500 {
		checkReorderDecode(t, rng)
	}
}

func FuzzReorderDecode(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		checkReorderDecode(t, rand.New(rand.NewPCG(s1, s2)))
	})
}

func checkReorderDecode(t *testing.T, rng *rand.Rand) {
	t.Helper()
	edges, want, opts := randomFrames(rng, 1+rng.IntN(4))
	queued, _, swaps := swapEdges(rng, edges, 0.3)
	r := newReorderer(reorderWindow)
	d, err := NewDecoder(&opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []Card
	for len(queued) > 0 {
		n := min(1+rng.IntN(edgeBatch), len(queued))
		for _, e := range queued[:n] {
			r.Push(e)
		}
		queued = queued[n:]
		for e, ok := r.Pop(); ok; e, ok = r.Pop() {
			if c, ok := d.Feed(e); ok {
				got = append(got, c)
			}
		}
	}
	if r.Held() != 0 {
		t.Fatalf("%d edges held at the end", r.Held())
	}
	if dl, ok := d.Deadline(); ok {
		if c, ok := d.Flush(dl); ok {
			got = append(got, c)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%d swaps: cards (-want +got):\n%s", swaps, diff)
	}
	if st := d.Stats(); st != (Stats{Frames: uint64(len(want))}) {
		t.Fatalf("%d swaps: Stats() = %+v", swaps, st)
	}
}

// readAll plays edges through a Dev, each handed out by the source at its
// time in at, and returns the cards read and the final Stats; within a
// synctest bubble.
func readAll(t *testing.T, edges []Edge, at []time.Duration, opts *Opts) ([]Card, Stats) {
	t.Helper()
	src := newFakeSource(edges)
	src.queued = at
	d, err := New(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Let the last frame end and the source run dry; Reads holds more
	// cards than the tests send.
	time.Sleep(at[len(at)-1] - src.Now() + time.Second)
	synctest.Wait()
	st := d.Stats()
	if err := d.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	var got []Card
	for c := range d.Reads() {
		got = append(got, c)
	}
	return got, st
}

// A 26-bit frame whose edges the kernel queued out of order, two pairs
// swapped, one pair within a read and one across two reads, reads as the
// card, with nothing discarded, and as soon as if in order.
func TestDevSwappedEdges(t *testing.T) {
	c, frame := mustEncode(t, FormatH10301, 123, 45678)
	edges := frameEdges(frame, 10*time.Second, time.Millisecond, 1)
	at := make([]time.Duration, len(edges))
	for i, e := range edges {
		at[i] = e.Time
	}
	us := time.Microsecond
	// 7 and 8 queued together, 8 first: one read.
	edges[6], edges[7] = edges[7], edges[6]
	at[6], at[7] = edges[6].Time, edges[6].Time
	// The last two: 26 queued when stamped, 25 300 µs later: two reads.
	edges[24], edges[25] = edges[25], edges[24]
	at[24], at[25] = edges[24].Time, edges[24].Time+300*us
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource(edges)
		src.queued = at
		d, err := New(src, &Opts{Lengths: []int{26}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		got := <-d.Reads()
		if got != c {
			t.Errorf("read %v, want %v", got, c)
		}
		// Edge 25 came 1.3 ms after its stamp: the slack is at its most.
		if lat, want := src.Now()-edges[24].Time, 2*time.Millisecond+maxSlack; lat != want {
			t.Errorf("card delivered %v after the last edge, want %v", lat, want)
		}
		synctest.Wait()
		if st := d.Stats(); st != (Stats{Frames: 1, Reordered: 2}) {
			t.Errorf("Stats() = %+v, want 1 frame, 2 edges put back in order, nothing dropped", st)
		}
	})
}

// An edge lost for good: the frame is discarded once the wait ends, and
// the next frame reads. An edge that comes far too late is counted as
// late, not as 2^32 or 2^64 lost edges.
func TestDevGapAndLate(t *testing.T) {
	c, frame := mustEncode(t, FormatH10301, 7, 777)
	ms := time.Millisecond
	first := frameEdges(frame, 10*time.Second, ms, 1)
	second := frameEdges(frame, 11*time.Second, ms, 27)
	third := frameEdges(frame, 12*time.Second, ms, 53)
	for _, tc := range []struct {
		name  string
		edges []Edge
		at    []time.Duration
		want  []Card
		stats Stats
	}{
		{
			name:  "edge 10 lost",
			edges: concat(first[:9], first[10:], second),
			want:  []Card{c},
			stats: Stats{Frames: 1, Dropped: 1, LostEdges: 1},
		},
		{
			name:  "edge 10 queued 4 ms late",
			edges: concat(first[:9], first[10:14], first[9:10], first[14:], second),
			at: func() []time.Duration {
				var at []time.Duration
				for _, e := range concat(first[:9], first[10:14]) {
					at = append(at, e.Time)
				}
				at = append(at, first[13].Time) // with 14, 4 ms after its stamp
				for _, e := range concat(first[14:], second) {
					at = append(at, e.Time)
				}
				return at
			}(),
			want:  []Card{c},
			stats: Stats{Frames: 1, Dropped: 1, LostEdges: 1, Late: 1},
		},
		{
			name:  "an edge of the first frame again, during the third",
			edges: concat(first, second, third[:5], first[3:4], third[5:]),
			want:  []Card{c, c},
			stats: Stats{Frames: 2, Dropped: 1, Late: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at == nil {
				for i, e := range tc.edges {
					at = append(at, e.Time)
					if i > 0 {
						at[i] = max(at[i], at[i-1])
					}
				}
			}
			synctest.Test(t, func(t *testing.T) {
				got, st := readAll(t, tc.edges, at, &Opts{Lengths: []int{26}})
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("cards (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.stats, st); diff != "" {
					t.Errorf("stats (-want +got):\n%s", diff)
				}
			})
		})
	}
}
