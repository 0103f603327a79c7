//go:build linux

package wiegand

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/drivers/gpiocdev"
)

// Open requests the lines d0 and d1 of a GPIO chip as inputs with
// falling-edge detection, in one line request (package gpiocdev) so that
// the kernel numbers the edges of both in the order they happened, and
// returns a Dev decoding them. chip is a name such as "gpiochip0" or a
// path such as "/dev/gpiochip0"; d0 and d1 are line offsets on that chip.
// A nil opts means DefaultOpts.
func Open(chip string, d0, d1 int, opts *Opts) (*Dev, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if d0 < 0 || d1 < 0 || d0 == d1 {
		return nil, fmt.Errorf("wiegand: lines %d and %d: want two distinct offsets", d0, d1)
	}
	path := chip
	if !strings.Contains(chip, "/") {
		path = "/dev/" + chip
	}
	src, err := requestLines(path, d0, d1, &o)
	if err != nil {
		return nil, err
	}
	d, err := New(src, opts)
	if err != nil {
		src.Close()
		return nil, err
	}
	return d, nil
}

func requestLines(path string, d0, d1 int, o *Opts) (*lineSource, error) {
	flags := gpiocdev.FlagInput | gpiocdev.FlagEdgeFalling
	if o.Inverted {
		flags = gpiocdev.FlagInput | gpiocdev.FlagEdgeRising
	}
	if o.PullUp {
		flags |= gpiocdev.FlagBiasPullUp
	}
	clock := int32(unix.CLOCK_MONOTONIC)
	if o.Realtime {
		flags |= gpiocdev.FlagEventClockRealtime
		clock = unix.CLOCK_REALTIME
	}
	lines, err := gpiocdev.RequestLines(path, []int{d0, d1}, gpiocdev.Config{
		Consumer:        o.Consumer,
		Flags:           flags,
		EventBufferSize: o.BufferSize,
	})
	if err != nil {
		return nil, fmt.Errorf("wiegand: %w", err)
	}
	return newLineSource(lines.File(), lines, uint32(d0), uint32(d1), clock), nil
}

// lineSource is the EdgeSource of a GPIO v2 line request.
type lineSource struct {
	f      *os.File
	lines  io.Closer // the request f belongs to
	d0, d1 uint32
	clock  int32
	seq    uint64 // the highest sequence number, extended to 64 bits
	raw    []byte
	closed atomic.Bool
}

func newLineSource(f *os.File, lines io.Closer, d0, d1 uint32, clock int32) *lineSource {
	return &lineSource{f: f, lines: lines, d0: d0, d1: d1, clock: clock, raw: make([]byte, edgeBatch*gpiocdev.EventSize)}
}

func (s *lineSource) String() string { return s.f.Name() }

// now reads the clock that stamps the events.
func (s *lineSource) Now() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(s.clock, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// aLongTimeAgo is a read deadline that has passed: it wakes a pending read.
var aLongTimeAgo = time.Unix(1, 0)

func (s *lineSource) ReadEdges(ctx context.Context, buf []Edge, until time.Duration) (int, error) {
	nev := min(len(buf), edgeBatch)
	if nev == 0 {
		return 0, nil
	}
	raw := s.raw[:nev*gpiocdev.EventSize]
	stop := context.AfterFunc(ctx, func() { s.f.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var deadline time.Time
		if until != 0 {
			left := until - s.Now()
			if left <= 0 {
				return s.readNow(raw, buf)
			}
			deadline = time.Now().Add(left)
		}
		if err := s.f.SetReadDeadline(deadline); err != nil {
			return 0, s.readErr(err)
		}
		// Checked after setting the deadline: a cancellation from now on
		// sets its deadline after ours.
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := s.f.Read(raw)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // cancelled, or until reached: the loop tells which
		}
		if err != nil {
			return 0, s.readErr(err)
		}
		return s.parse(raw[:n], buf), nil
	}
}

// readNow reads the events already queued, without waiting.
func (s *lineSource) readNow(raw []byte, buf []Edge) (int, error) {
	if err := s.f.SetReadDeadline(time.Time{}); err != nil {
		return 0, s.readErr(err)
	}
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0, s.readErr(err)
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), raw)
		return true // one attempt: never wait
	}); err != nil {
		return 0, s.readErr(err)
	}
	if rerr == unix.EAGAIN {
		return 0, nil
	}
	if rerr != nil {
		return 0, s.readErr(rerr)
	}
	return s.parse(raw[:max(n, 0)], buf), nil
}

func (s *lineSource) readErr(err error) error {
	// os.File reports a closed descriptor in more than one way.
	if s.closed.Load() || errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("%s: %w", s.f.Name(), ErrClosed)
	}
	return fmt.Errorf("%s: %w", s.f.Name(), err)
}

// parse decodes the events in raw into buf.
func (s *lineSource) parse(raw []byte, buf []Edge) int {
	n := 0
	for ; len(raw) >= gpiocdev.EventSize; raw = raw[gpiocdev.EventSize:] {
		ev := gpiocdev.ParseEvent(raw)
		seq := extendSeq(s.seq, ev.Seqno)
		s.seq = max(s.seq, seq)
		var bit uint8
		switch ev.Offset {
		case s.d0:
		case s.d1:
			bit = 1
		default:
			continue // not ours; cannot happen with two lines requested
		}
		buf[n] = Edge{Time: ev.Time, Bit: bit, Seq: seq}
		n++
	}
	return n
}

// extendSeq extends the kernel's 32-bit sequence number seq32 to 64 bits:
// to the value nearest prev, the highest extended so far. An edge that the
// kernel queued behind later ones stays behind them (the reorderer puts it
// back), and the number wraps from 2^32-1 to 0 forward. seq32 is never
// taken to be 0 or less: the kernel numbers from 1.
func extendSeq(prev uint64, seq32 uint32) uint64 {
	d := int64(int32(seq32 - uint32(prev)))
	if d < 0 && uint64(-d) >= prev {
		d += 1 << 32
	}
	return prev + uint64(d)
}

func (s *lineSource) Close() error {
	s.closed.Store(true)
	if err := s.lines.Close(); err != nil {
		return s.readErr(err)
	}
	return nil
}
