//go:build vmtest && linux

package wiegand

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/internal/vmtest"
)

// These tests request real lines of the kernel's gpio-sim, in the VM of
// .ci/vmtest, and drive D0 and D1 from the simulator side. Bit timing from
// there is coarse (a sysfs write per level, a few hundred microseconds
// apart), so it stays with the decoder tests; these check what only the
// kernel can show: the one line request, its event order, timestamps,
// sequence numbers and buffer size.

// pace is the time between two simulated bits. The simulator raises one
// interrupt per edge, and the kernel's threaded handler must have queued
// an edge before the next one comes, or the two are merged into one event
// with a sequence number skipped; real readers leave 0.2 ms or more.
const pace = 300 * time.Microsecond

// wire is a reader's D0 and D1 seen from the simulator side.
type wire struct {
	t      *testing.T
	d0, d1 *vmtest.Line
	clock  int32
}

func newWire(t *testing.T, clock int32) *wire {
	t.Helper()
	vmtest.Require(t)
	w := &wire{t: t, d0: vmtest.FindLine(t, "GPIO5"), d1: vmtest.FindLine(t, "GPIO6"), clock: clock}
	// Idle high, as a reader holds them, before the lines are requested.
	for _, l := range []*vmtest.Line{w.d0, w.d1} {
		if err := l.SetPull(true); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// request requests D0 and D1 as Open does and returns the source.
func (w *wire) request(opts *Opts) *lineSource {
	w.t.Helper()
	o, err := opts.resolve()
	if err != nil {
		w.t.Fatal(err)
	}
	src, err := requestLines("/dev/"+w.d0.Chip, w.d0.Offset, w.d1.Offset, &o)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { src.Close() })
	return src
}

func (w *wire) now() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(w.clock, &ts); err != nil {
		w.t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// bit sends one bit, a low pulse on D0 or D1, and returns the time on the
// wire's clock just before the falling edge.
func (w *wire) bit(b uint8) time.Duration {
	l := w.d0
	if b != 0 {
		l = w.d1
	}
	before := w.now()
	if err := l.SetPull(false); err != nil {
		w.t.Fatal(err)
	}
	if err := l.SetPull(true); err != nil {
		w.t.Fatal(err)
	}
	time.Sleep(pace)
	return before
}

// frame sends the n bits of v, most significant first.
func (w *wire) frame(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bit(uint8(v >> i & 1))
	}
}

// bitsOf returns the n bits of v, most significant first.
func bitsOf(v uint64, n int) []uint8 {
	bs := make([]uint8, n)
	for i := range bs {
		bs[i] = uint8(v >> (n - 1 - i) & 1)
	}
	return bs
}

// outOfOrder counts the edges delivered behind one numbered after them.
func outOfOrder(es []Edge) int {
	n := 0
	var top uint64
	for _, e := range es {
		if e.Seq < top {
			n++
		}
		top = max(top, e.Seq)
	}
	return n
}

// drain reads the edges queued in the kernel without waiting for more.
func drain(t *testing.T, src *lineSource) []Edge {
	t.Helper()
	var all []Edge
	buf := make([]Edge, edgeBatch)
	for {
		// An until in the past: read what is queued, never wait.
		n, err := src.ReadEdges(context.Background(), buf, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return all
		}
		all = append(all, buf[:n]...)
	}
}

// TestVMWiegandEdges: one request for both lines delivers the falling
// edges of D0 and D1 interleaved in the order they happened (on one CPU;
// on more, numbered in that order), numbered from 1 without gaps, each stamped by the kernel when it happened (after the
// write that made it began, before the next one began) on the clock Opts
// asks for.
func TestVMWiegandEdges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Opts
		clock int32
	}{
		{"monotonic", Opts{}, unix.CLOCK_MONOTONIC},
		{"realtime", Opts{Realtime: true}, unix.CLOCK_REALTIME},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, tc.clock)
			src := w.request(&tc.opts)
			want := bitsOf(0xb5a3c96e1d, 40)
			before := make([]time.Duration, len(want)+1)
			for i, b := range want {
				before[i] = w.bit(b)
			}
			before[len(want)] = w.now()

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var got []Edge
			buf := make([]Edge, edgeBatch)
			for len(got) < len(want) {
				n, err := src.ReadEdges(ctx, buf, 0)
				if err != nil {
					t.Fatalf("after %d edges: ReadEdges: %v", len(got), err)
				}
				got = append(got, buf[:n]...)
			}
			if extra := drain(t, src); len(extra) > 0 {
				t.Errorf("%d edges more than the %d bits sent: %+v", len(extra), len(want), extra)
			}
			// With more than one CPU the kernel may queue two edges out of
			// order (see the package Caveats); their numbers keep the order
			// they happened in.
			if swapped := outOfOrder(got); swapped > 0 {
				t.Logf("%d of %d edges queued behind one numbered after them", swapped, len(got))
				slices.SortFunc(got, func(a, b Edge) int { return cmp.Compare(a.Seq, b.Seq) })
			}
			for i, e := range got {
				if e.Bit != want[i] {
					t.Errorf("edge %d: bit %d, want %d (line %s)", i, e.Bit, want[i], map[uint8]string{0: "D0", 1: "D1"}[want[i]])
				}
				if e.Seq != uint64(i+1) {
					t.Errorf("edge %d: seq %d, want %d", i, e.Seq, i+1)
				}
				if e.Time < before[i] || e.Time >= before[i+1] {
					t.Errorf("edge %d: stamped %v, want within [%v, %v): the kernel's %s clock when the edge happened",
						i, e.Time, before[i], before[i+1], tc.name)
				}
			}
		})
	}
}

// TestVMWiegandBufferSize: the kernel keeps exactly Opts.BufferSize edges
// for a reader that does not read, and drops the oldest beyond; what is
// left is numbered so that the loss shows. GPIO_V2_GET_LINEINFO does not
// report the size, so this is the proof that the request carried it
// (without it the kernel keeps 16 per line, 32).
func TestVMWiegandBufferSize(t *testing.T) {
	for _, size := range []int{0, 1024} {
		want := size
		if want == 0 {
			want = DefaultOpts.BufferSize
		}
		t.Run(fmt.Sprint(want), func(t *testing.T) {
			w := newWire(t, unix.CLOCK_MONOTONIC)
			src := w.request(&Opts{BufferSize: size})
			const over = 40
			for i := 0; i < want+over; i++ {
				w.bit(uint8(i & 1))
			}
			time.Sleep(50 * time.Millisecond)
			got := drain(t, src)
			slices.SortFunc(got, func(a, b Edge) int { return cmp.Compare(a.Seq, b.Seq) })
			if len(got) != want {
				t.Fatalf("read %d queued edges after %d sent unread, want the buffer's %d", len(got), want+over, want)
			}
			first, last := got[0].Seq, got[len(got)-1].Seq
			if first <= 1 {
				t.Errorf("first edge read has seq %d: want the oldest dropped, a seq above 1", first)
			}
			for i, e := range got {
				if e.Seq != first+uint64(i) {
					t.Fatalf("edge %d: seq %d, want %d: the kernel keeps the newest edges, in order", i, e.Seq, first+uint64(i))
				}
			}
			t.Logf("%d edges sent, the kernel numbered %d, kept seq %d to %d", want+over, last, first, last)
		})
	}
}

// TestVMWiegandCards: Open decodes frames sent on the lines into cards.
func TestVMWiegandCards(t *testing.T) {
	w := newWire(t, unix.CLOCK_MONOTONIC)
	d, err := Open("/dev/"+w.d0.Chip, w.d0.Offset, w.d1.Offset, &Opts{Lengths: []int{26, 34}, Gap: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for _, c := range []struct {
		format string
		fac    uint32
		number uint64
	}{
		{FormatH10301, 123, 45678},
		{FormatH10306, 4321, 54321},
		{FormatH10301, 1, 1},
	} {
		want, err := Encode(c.format, c.fac, c.number)
		if err != nil {
			t.Fatal(err)
		}
		w.frame(want.Raw, want.Bits)
		select {
		case got := <-d.Reads():
			if got != want {
				t.Errorf("card %v: read %v", want, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("card %v: not read within 5s; stats %+v", want, d.Stats())
		}
	}
	if s := d.Stats(); s != (Stats{Frames: 3, Reordered: s.Reordered}) {
		t.Errorf("Stats() = %+v, want 3 frames and nothing discarded", s)
	}
}

// TestVMWiegandPaused: while nobody drains Reads, the Dev stops reading
// and the kernel's buffer fills; frames that arrive past it lose their
// oldest edges. The Dev must notice the gap in the sequence numbers and
// discard the frame around it, even though its bits, alone, would decode:
// a frame is lost, never turned into a wrong or stale card.
func TestVMWiegandPaused(t *testing.T) {
	w := newWire(t, unix.CLOCK_MONOTONIC)
	// 32-bit raw frames: 16 of them fill the 512-edge buffer exactly, so
	// the loss ends on a frame boundary and the first frame kept is
	// whole, and would decode without the sequence numbers.
	const (
		n      = 32
		buffer = 512
		gap    = 100 * time.Millisecond
	)
	d, err := Open("/dev/"+w.d0.Chip, w.d0.Offset, w.d1.Offset, &Opts{Lengths: []int{n}, Gap: gap, BufferSize: buffer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	frame := func(i int) uint64 { return 0xa5c30000 | uint64(i)<<4 | 0x9 }
	send := func(i int) {
		w.frame(frame(i), n)
		time.Sleep(gap + gap/2) // the frame ends before the next begins
	}
	// Fill Reads (readsQueue cards) and one more that the Dev holds,
	// blocked in its send: from then on it reads no edges.
	held := readsQueue + 1
	for i := range held {
		send(i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Frames < uint64(held) {
		if time.Now().After(deadline) {
			t.Fatalf("the Dev decoded %d frames within 5s, want %d; stats %+v", d.Stats().Frames, held, d.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// One frame more than the buffer holds: the kernel drops the first.
	const paused = buffer/n + 1
	for i := held; i < held+paused; i++ {
		send(i)
	}

	var got []uint64
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case c := <-d.Reads():
			got = append(got, c.Raw)
		case <-time.After(4 * gap):
			done = true // nothing more is coming
		case <-timeout:
			t.Fatalf("still reading after 10s: %d cards", len(got))
		}
	}
	var want []uint64
	for i := range held {
		want = append(want, frame(i))
	}
	// Frame held is lost in the kernel; frame held+1, whole, starts after
	// the gap and is discarded; the rest decode.
	for i := held + 2; i < held+paused; i++ {
		want = append(want, frame(i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("cards read:\n%x\nwant:\n%x", got, want)
	}
	if slices.Contains(got, frame(held+1)) {
		t.Errorf("the frame after the lost edges was decoded into card %x", frame(held+1))
	}
	s := d.Stats()
	if s.Dropped != 1 || s.LostEdges != n || s.Frames != uint64(len(want)) {
		t.Errorf("Stats() = %+v, want Dropped 1, LostEdges %d, Frames %d", s, n, len(want))
	}
}

// TestVMWiegandSMPReorder runs on two CPUs or more (the smp2 boot of
// .ci/vmtest): the kernel numbers D0 and D1 edges in the interrupt but
// queues each line's from its own thread, and edges of alternating lines
// close together now and then reach the queue out of order. Frames of
// alternating bits, sent 20 µs apart, and every other frame 8 µs apart,
// provoke it. A frame during which the Dev put edges back in order
// (Stats.Reordered grew) must read as the frame sent; no card may ever
// differ from its frame. Frames are sent until three such frames were read,
// at most 900 or for 75 s (the VM's test binary stops at 90): how often the
// kernel reorders depends on how the host schedules the VM's CPUs (3 in 64
// or 130 frames in most boots, none in 300 once), and .ci/vmtest boots again
// a boot that failed only for too few.
//
// At this pace the simulator now and then merges two edges of one line
// (the kernel's thread had not queued the first): those frames are lost,
// and must be counted (Stats.Dropped).
func TestVMWiegandSMPReorder(t *testing.T) {
	w := newWire(t, unix.CLOCK_MONOTONIC)
	if n := runtime.NumCPU(); n < 2 {
		t.Fatalf("%d CPU: this test needs two or more (run it in the smp2 boot of .ci/vmtest)", n)
	}
	const (
		n         = 32
		maxFrames = 900
		budget    = 75 * time.Second
		want      = 3
		gap       = 30 * time.Millisecond
	)
	start := time.Now()
	d, err := Open("/dev/"+w.d0.Chip, w.d0.Offset, w.d1.Offset, &Opts{Lengths: []int{n}, Gap: gap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sent, read, reordered := 0, 0, 0
	for i := 0; i < maxFrames && reordered < want && time.Since(start) < budget; i++ {
		pace := 20 * time.Microsecond
		if i%2 == 1 {
			pace = 8 * time.Microsecond
		}
		v := 0xaaaa0000 | uint64(i)
		before := d.Stats().Reordered
		for b := n - 1; b >= 0; b-- {
			l := w.d0
			if v>>b&1 != 0 {
				l = w.d1
			}
			if err := l.SetPull(false); err != nil {
				t.Fatal(err)
			}
			if err := l.SetPull(true); err != nil {
				t.Fatal(err)
			}
			// A busy wait: a sleep this short lasts far longer.
			for end := time.Now().Add(pace); time.Now().Before(end); {
			}
		}
		sent++
		select {
		case c := <-d.Reads():
			if c.Raw != v || c.Bits != n {
				t.Fatalf("frame %d: read %v, want raw %#x: misread", i, c, v)
			}
			read++
			if d.Stats().Reordered > before {
				reordered++
			}
		case <-time.After(10 * gap):
			// Lost: merged edges, counted below.
		}
	}
	st := d.Stats()
	t.Logf("%d frames sent, %d read, %d of them with edges put back in order; stats %+v", sent, read, reordered, st)
	if reordered < want {
		t.Errorf("%d frames read with edges put back in order, want %d within %d frames or %v: the run did not exercise the reordering", reordered, want, maxFrames, budget)
	}
	// Every frame not read was discarded and counted.
	if discarded := st.Dropped + st.BadLength + st.BadParity + st.Noise; discarded < uint64(sent-read) {
		t.Errorf("%d of %d frames read and %d discarded: frames went missing uncounted; stats %+v", read, sent, discarded, st)
	}
}
