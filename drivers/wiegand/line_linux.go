//go:build linux

package wiegand

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The GPIO v2 character device uAPI, from linux/gpio.h. The kernel lays
// these out with no implicit padding, so that 32- and 64-bit ABIs agree;
// the checks below make the build fail if a Go layout drifts.

const (
	gpioMaxNameSize      = 32
	gpioV2LinesMax       = 64
	gpioV2LineNumAttrMax = 10

	gpioV2LineFlagInput              = 1 << 2
	gpioV2LineFlagEdgeRising         = 1 << 4
	gpioV2LineFlagEdgeFalling        = 1 << 5
	gpioV2LineFlagBiasPullUp         = 1 << 8
	gpioV2LineFlagEventClockRealtime = 1 << 11

	// gpioV2LineEventSize is sizeof(struct gpio_v2_line_event).
	gpioV2LineEventSize = 48
)

// gpioV2LineAttribute is struct gpio_v2_line_attribute. Its union of flags,
// values and debounce_period_us is held as the 64-bit flags.
type gpioV2LineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64
}

// gpioV2LineConfigAttribute is struct gpio_v2_line_config_attribute.
type gpioV2LineConfigAttribute struct {
	Attr gpioV2LineAttribute
	Mask uint64
}

// gpioV2LineConfig is struct gpio_v2_line_config.
type gpioV2LineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [gpioV2LineNumAttrMax]gpioV2LineConfigAttribute
}

// gpioV2LineRequest is struct gpio_v2_line_request.
type gpioV2LineRequest struct {
	Offsets         [gpioV2LinesMax]uint32
	Consumer        [gpioMaxNameSize]byte
	Config          gpioV2LineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

// gpioV2LineEvent is struct gpio_v2_line_event. Events are decoded from
// bytes by parseEvent; the type documents and checks the layout.
type gpioV2LineEvent struct {
	TimestampNs uint64
	ID          uint32
	Offset      uint32
	Seqno       uint32
	LineSeqno   uint32
	Padding     [6]uint32
}

// Compile-time checks of the sizes linux/gpio.h gives, on every GOARCH.
var (
	_ [unsafe.Sizeof(gpioV2LineAttribute{}) - 16]byte
	_ [16 - unsafe.Sizeof(gpioV2LineAttribute{})]byte
	_ [unsafe.Sizeof(gpioV2LineConfigAttribute{}) - 24]byte
	_ [24 - unsafe.Sizeof(gpioV2LineConfigAttribute{})]byte
	_ [unsafe.Sizeof(gpioV2LineConfig{}) - 272]byte
	_ [272 - unsafe.Sizeof(gpioV2LineConfig{})]byte
	_ [unsafe.Sizeof(gpioV2LineRequest{}) - 592]byte
	_ [592 - unsafe.Sizeof(gpioV2LineRequest{})]byte
	_ [unsafe.Offsetof(gpioV2LineRequest{}.Fd) - 588]byte
	_ [588 - unsafe.Offsetof(gpioV2LineRequest{}.Fd)]byte
	_ [unsafe.Sizeof(gpioV2LineEvent{}) - gpioV2LineEventSize]byte
	_ [gpioV2LineEventSize - unsafe.Sizeof(gpioV2LineEvent{})]byte
)

// gpioV2GetLineIoctl is GPIO_V2_GET_LINE_IOCTL, _IOWR(0xB4, 0x07, struct
// gpio_v2_line_request), 0xC250B407: direction read|write in the top bits,
// then the size. The generic encoding (3<<30) and that of MIPS and PowerPC
// (6<<29) agree for _IOWR of anything under 8 KiB.
const gpioV2GetLineIoctl = 3<<30 | uintptr(unsafe.Sizeof(gpioV2LineRequest{}))<<16 | 0xB4<<8 | 0x07

// Open requests the lines d0 and d1 of a GPIO chip as inputs with
// falling-edge detection, in one line request so that the kernel numbers
// the edges of both in the order they happened, and returns a Dev decoding them. chip is a
// name such as "gpiochip0" or a path such as "/dev/gpiochip0"; d0 and d1 are
// line offsets on that chip. A nil opts means DefaultOpts.
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
	chipFd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("wiegand: open %s: %w", path, err)
	}
	defer unix.Close(chipFd)

	var req gpioV2LineRequest
	req.Offsets[0], req.Offsets[1] = uint32(d0), uint32(d1)
	req.NumLines = 2
	req.EventBufferSize = uint32(o.BufferSize)
	copy(req.Consumer[:gpioMaxNameSize-1], "pintu-wiegand")
	flags := uint64(gpioV2LineFlagInput | gpioV2LineFlagEdgeFalling)
	if o.Inverted {
		flags = gpioV2LineFlagInput | gpioV2LineFlagEdgeRising
	}
	if o.PullUp {
		flags |= gpioV2LineFlagBiasPullUp
	}
	clock := int32(unix.CLOCK_MONOTONIC)
	if o.Realtime {
		flags |= gpioV2LineFlagEventClockRealtime
		clock = unix.CLOCK_REALTIME
	}
	req.Config.Flags = flags
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(chipFd), gpioV2GetLineIoctl, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return nil, fmt.Errorf("wiegand: request lines %d,%d of %s: %w", d0, d1, path, errno)
	}
	fd := int(req.Fd)
	// Non-blocking, the descriptor joins Go's poller: reads wait there, with
	// deadlines, and Close wakes them.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wiegand: line request: %w", err)
	}
	name := strings.TrimPrefix(path, "/dev/") + ":" + strconv.Itoa(d0) + "," + strconv.Itoa(d1)
	return newLineSource(os.NewFile(uintptr(fd), name), uint32(d0), uint32(d1), clock), nil
}

// lineSource is the EdgeSource of a GPIO v2 line request.
type lineSource struct {
	f      *os.File
	d0, d1 uint32
	clock  int32
	seq    uint64 // the highest sequence number, extended to 64 bits
	raw    []byte
	closed atomic.Bool
}

func newLineSource(f *os.File, d0, d1 uint32, clock int32) *lineSource {
	return &lineSource{f: f, d0: d0, d1: d1, clock: clock, raw: make([]byte, edgeBatch*gpioV2LineEventSize)}
}

func (s *lineSource) String() string { return s.f.Name() }

// now reads the clock that stamps the events.
func (s *lineSource) now() time.Duration {
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
	raw := s.raw[:nev*gpioV2LineEventSize]
	stop := context.AfterFunc(ctx, func() { s.f.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var deadline time.Time
		if until != 0 {
			left := until - s.now()
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
	for ; len(raw) >= gpioV2LineEventSize; raw = raw[gpioV2LineEventSize:] {
		ev := parseEvent(raw)
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
		buf[n] = Edge{Time: time.Duration(ev.TimestampNs), Bit: bit, Seq: seq}
		n++
	}
	return n
}

// parseEvent decodes one struct gpio_v2_line_event, in the machine's byte
// order.
func parseEvent(b []byte) gpioV2LineEvent {
	ne := binary.NativeEndian
	return gpioV2LineEvent{
		TimestampNs: ne.Uint64(b[0:]),
		ID:          ne.Uint32(b[8:]),
		Offset:      ne.Uint32(b[12:]),
		Seqno:       ne.Uint32(b[16:]),
		LineSeqno:   ne.Uint32(b[20:]),
	}
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
	if err := s.f.Close(); err != nil {
		return s.readErr(err)
	}
	return nil
}
