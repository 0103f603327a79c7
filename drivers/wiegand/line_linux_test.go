//go:build linux

package wiegand

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/drivers/gpiocdev"
)

func TestExtendSeq(t *testing.T) {
	for _, tc := range []struct {
		prev uint64
		seq  uint32
		want uint64
	}{
		{0, 1, 1},
		{1, 2, 2},
		{5, 9, 9},
		{0xffff_fffe, 0xffff_ffff, 0xffff_ffff},
		{0xffff_ffff, 0, 1 << 32},
		{0xffff_fffd, 2, 1<<32 + 2},
		{1<<32 + 7, 8, 1<<32 + 8},
		// Queued out of order: behind, not 2^32 ahead.
		{2, 1, 1},
		{185, 184, 184},
		{1 << 32, 0xffff_ffff, 0xffff_ffff},
		{1<<32 + 1, 0xffff_fffe, 0xffff_fffe},
		{3<<32 + 5, 0xffff_fff0, 3<<32 - 16},
		// Never 0 or below: the kernel numbers from 1.
		{1, 0, 1 << 32},
		{0, 0x8000_0001, 0x8000_0001},
	} {
		if got := extendSeq(tc.prev, tc.seq); got != tc.want {
			t.Errorf("extendSeq(%#x, %#x) = %#x, want %#x", tc.prev, tc.seq, got, tc.want)
		}
	}
}

// event returns a struct gpio_v2_line_event as the kernel writes it.
func event(ts uint64, offset, seq uint32) []byte {
	return gpiocdev.AppendEvent(nil, gpiocdev.Event{
		Time: time.Duration(ts), ID: gpiocdev.FallingEdge, Offset: offset, Seqno: seq, LineSeqno: seq,
	})
}

// pipeSource returns a lineSource reading a pipe, and the pipe's writing
// end: the kernel's line request fd behaves alike for read and poll.
func pipeSource(t *testing.T) (*lineSource, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return newLineSource(r, r, 17, 27, unix.CLOCK_MONOTONIC), w
}

func TestLineSourceRead(t *testing.T) {
	src, w := pipeSource(t)
	var raw []byte
	raw = append(raw, event(1000, 17, 1)...)
	raw = append(raw, event(2000, 27, 2)...)
	raw = append(raw, event(3000, 27, 5)...)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	buf := make([]Edge, 8)
	n, err := src.ReadEdges(context.Background(), buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Edge{{1000, 0, 1}, {2000, 1, 2}, {3000, 1, 5}}
	if diff := cmp.Diff(want, buf[:n]); diff != "" {
		t.Errorf("ReadEdges (-want +got):\n%s", diff)
	}

	// Past until, events already queued are still read, without waiting.
	if _, err := w.Write(event(4000, 17, 6)); err != nil {
		t.Fatal(err)
	}
	n, err = src.ReadEdges(context.Background(), buf[:1], 1)
	if err != nil || n != 1 || buf[0] != (Edge{4000, 0, 6}) {
		t.Errorf("ReadEdges(until passed) = %d, %v, %v; want the queued edge", n, err, buf[:n])
	}
	n, err = src.ReadEdges(context.Background(), buf, 1)
	if err != nil || n != 0 {
		t.Errorf("ReadEdges(until passed, nothing queued) = %d, %v; want 0, nil", n, err)
	}
}

// Edges the kernel queued out of order, across the wraparound of its
// 32-bit seqno, come out numbered in order, and in order from a Dev's
// reorderer, with no gap.
func TestLineSourceSwappedWrap(t *testing.T) {
	src, w := pipeSource(t)
	src.seq = 0xffff_fffc // as if 2^32-4 edges came before
	var raw []byte
	for _, seq := range []uint32{0xffff_fffd, 0xffff_ffff, 0xffff_fffe, 1, 0, 2} {
		raw = append(raw, event(uint64(seq)+1000, 17, seq)...)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	buf := make([]Edge, 8)
	n, err := src.ReadEdges(context.Background(), buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, e := range buf[:n] {
		got = append(got, e.Seq)
	}
	want := []uint64{1<<32 - 3, 1<<32 - 1, 1<<32 - 2, 1<<32 + 1, 1 << 32, 1<<32 + 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("seqs read (-want +got):\n%s", diff)
	}
	r := newReorderer(reorderWindow)
	r.next = 1<<32 - 3
	got = got[:0]
	for _, e := range buf[:n] {
		r.Push(e)
	}
	for e, ok := r.Pop(); ok; e, ok = r.Pop() {
		got = append(got, e.Seq)
	}
	if diff := cmp.Diff(seqs(1<<32-3, 6), got); diff != "" {
		t.Errorf("seqs reordered (-want +got):\n%s", diff)
	}
}

func TestLineSourceUntil(t *testing.T) {
	src, _ := pipeSource(t)
	const wait = 20 * time.Millisecond
	until := src.Now() + wait
	n, err := src.ReadEdges(context.Background(), make([]Edge, 4), until)
	if err != nil || n != 0 {
		t.Errorf("ReadEdges(until) = %d, %v; want 0, nil", n, err)
	}
	if now := src.Now(); now < until {
		t.Errorf("ReadEdges returned %v before until", until-now)
	}
}

func TestLineSourceCancel(t *testing.T) {
	src, _ := pipeSource(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := src.ReadEdges(ctx, make([]Edge, 4), 0)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ReadEdges after cancel = %v, want context.Canceled", err)
	}
}

func TestLineSourceClose(t *testing.T) {
	src, _ := pipeSource(t)
	done := make(chan error)
	go func() {
		_, err := src.ReadEdges(context.Background(), make([]Edge, 4), 0)
		done <- err
	}()
	if err := src.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("ReadEdges after Close = %v, want ErrClosed", err)
	}
	if _, err := src.ReadEdges(context.Background(), make([]Edge, 4), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadEdges on a closed source = %v, want ErrClosed", err)
	}
}

// A Dev over a line source: edges through the uAPI's byte format to cards.
func TestDevOverLineSource(t *testing.T) {
	src, w := pipeSource(t)
	c, frame := mustEncode(t, FormatH10301, 200, 3000)
	t0 := uint64(src.Now()) - uint64(time.Second)
	var raw []byte
	for i, b := range frame {
		off := uint32(17)
		if b == '1' {
			off = 27
		}
		raw = append(raw, event(t0+uint64(i)*uint64(time.Millisecond), off, uint32(i+1))...)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	d, err := New(src, &Opts{Lengths: []int{26}})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-d.Reads(); got != c {
		t.Errorf("read %v, want %v", got, c)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := d.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		chip   string
		d0, d1 int
		opts   *Opts
	}{
		{"gpiochip-none", 17, 27, nil},
		{"/nonexistent/gpiochip0", 17, 27, nil},
		{"gpiochip0", 17, 17, nil},
		{"gpiochip0", -1, 27, nil},
		{"gpiochip0", 17, 27, &Opts{BufferSize: 16}},
		{"/dev/null", 17, 27, nil}, // not a GPIO chip: the ioctl fails
	} {
		d, err := Open(tc.chip, tc.d0, tc.d1, tc.opts)
		if err == nil {
			d.Close()
			t.Errorf("Open(%q, %d, %d) succeeded, want an error", tc.chip, tc.d0, tc.d1)
			continue
		}
		if !strings.HasPrefix(err.Error(), "wiegand: ") {
			t.Errorf("Open(%q, %d, %d) = %v, want a wiegand: error", tc.chip, tc.d0, tc.d1, err)
		}
	}
}
