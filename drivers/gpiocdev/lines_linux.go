//go:build linux

package gpiocdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The uAPI structs are x/sys/unix's, generated from linux/gpio.h for each
// architecture. The kernel lays them out with no implicit padding, so that
// 32- and 64-bit ABIs agree; these checks make the build fail on any
// GOARCH where a size drifts from linux/gpio.h's.
var (
	_ [unsafe.Sizeof(unix.GPIOV2LineConfig{}) - 272]byte
	_ [272 - unsafe.Sizeof(unix.GPIOV2LineConfig{})]byte
	_ [unsafe.Sizeof(unix.GPIOV2LineRequest{}) - 592]byte
	_ [592 - unsafe.Sizeof(unix.GPIOV2LineRequest{})]byte
	_ [unsafe.Sizeof(unix.GPIOV2LineInfo{}) - 256]byte
	_ [256 - unsafe.Sizeof(unix.GPIOV2LineInfo{})]byte
	_ [unsafe.Sizeof(unix.GPIOV2LineEvent{}) - EventSize]byte
	_ [EventSize - unsafe.Sizeof(unix.GPIOV2LineEvent{})]byte
)

// lineSetConfigIoctl is GPIO_V2_LINE_SET_CONFIG_IOCTL, _IOWR(0xB4, 0x0D,
// struct gpio_v2_line_config), which x/sys/unix lacks. The generic _IOWR
// (3<<30) and that of MIPS and PowerPC (6<<29) agree under 8 KiB.
const lineSetConfigIoctl = 3<<30 | uintptr(unsafe.Sizeof(unix.GPIOV2LineConfig{}))<<16 | 0xB4<<8 | 0x0D

// lineConfig builds struct gpio_v2_line_config for n lines: the flags for
// all, and for outputs the values as an attribute of all n lines, so the
// kernel sets direction and level in one driver call.
func lineConfig(c *Config, n int) unix.GPIOV2LineConfig {
	lc := unix.GPIOV2LineConfig{Flags: uint64(c.Flags)}
	if c.Flags&FlagOutput != 0 {
		mask := uint64(1)<<n - 1 // all ones for n = 64
		lc.Attrs[0] = unix.GPIOV2LineConfigAttribute{
			Attr: unix.GPIOV2LineAttribute{Id: unix.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, Flags: c.Values & mask},
			Mask: mask,
		}
		lc.Num_attrs = 1
	}
	return lc
}

// lineRequest builds struct gpio_v2_line_request.
func lineRequest(offsets []int, c *Config) unix.GPIOV2LineRequest {
	var req unix.GPIOV2LineRequest
	for i, o := range offsets {
		req.Offsets[i] = uint32(o)
	}
	req.Num_lines = uint32(len(offsets))
	copy(req.Consumer[:], c.consumer())
	req.Config = lineConfig(c, len(offsets))
	req.Event_buffer_size = uint32(c.EventBufferSize)
	return req
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}

// Lines is one GPIO v2 line request: lines of one chip, held until Close,
// with one descriptor that reads as their edge events in the order they
// happened.
type Lines struct {
	f       *os.File
	chip    string
	offsets []int
	closed  atomic.Bool
}

// RequestLines requests offsets of the chip at path (/dev/gpiochip0, or
// gpiochip0) with cfg, in one ioctl. A line another consumer holds is an
// error wrapping ErrBusy that names the line and that consumer.
func RequestLines(path string, offsets []int, cfg Config) (*Lines, error) {
	path = devPath(path)
	if err := cfg.check(len(offsets)); err != nil {
		return nil, err
	}
	for i, o := range offsets {
		if o < 0 || slices.Contains(offsets[:i], o) {
			return nil, fmt.Errorf("gpiocdev: offsets %v: want distinct offsets of 0 or more", offsets)
		}
	}
	chipFd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("gpiocdev: open %s: %w", path, err)
	}
	defer unix.Close(chipFd)
	req := lineRequest(offsets, &cfg)
	if err := ioctl(chipFd, unix.GPIO_V2_GET_LINE_IOCTL, unsafe.Pointer(&req)); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil, busy(chipFd, path, offsets, err)
		}
		return nil, fmt.Errorf("gpiocdev: request %s lines %s: %w", filepath.Base(path), joinInts(offsets), err)
	}
	fd := int(req.Fd)
	// Non-blocking, the descriptor joins Go's poller: reads wait there,
	// with deadlines, and Close wakes them.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("gpiocdev: line request: %w", err)
	}
	name := filepath.Base(path) + ":" + joinInts(offsets)
	return &Lines{f: os.NewFile(uintptr(fd), name), chip: filepath.Base(path), offsets: slices.Clone(offsets)}, nil
}

// busy names the first line of offsets that another consumer holds.
func busy(chipFd int, path string, offsets []int, cause error) error {
	for _, o := range offsets {
		info, err := lineInfo(chipFd, o)
		if err != nil || info.Flags&FlagUsed == 0 {
			continue
		}
		line := filepath.Base(path) + ":" + strconv.Itoa(o)
		if info.Name != "" {
			line = info.Name + " (" + line + ")"
		}
		who := strconv.Quote(info.Consumer)
		if info.Consumer == "" {
			who = "a consumer with no label"
		}
		return fmt.Errorf("%w: %s is held by %s (gpioinfo shows it): stop that program or driver, or configure another line: %w", ErrBusy, line, who, cause)
	}
	return fmt.Errorf("%w: %s lines %s: %w", ErrBusy, filepath.Base(path), joinInts(offsets), cause)
}

func devPath(chip string) string {
	if strings.Contains(chip, "/") {
		return chip
	}
	return "/dev/" + chip
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// String returns the chip and offsets, "gpiochip0:5,6".
func (l *Lines) String() string { return l.f.Name() }

// Offsets returns the lines' offsets, in the request's order.
func (l *Lines) Offsets() []int { return slices.Clone(l.offsets) }

// File returns the request's descriptor, non-blocking and in Go's poller:
// it reads as Events (EventSize bytes each) of the lines requested with
// edges. Closing the Lines closes it.
func (l *Lines) File() *os.File { return l.f }

func (l *Lines) control(what string, req uintptr, arg unsafe.Pointer) error {
	if l.closed.Load() {
		return fmt.Errorf("gpiocdev: %s: %s: %w", l, what, ErrClosed)
	}
	rc, err := l.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("gpiocdev: %s: %s: %w", l, what, err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = ioctl(int(fd), req, arg) }); err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
		}
		return fmt.Errorf("gpiocdev: %s: %s: %w", l, what, err)
	}
	if ierr != nil {
		return fmt.Errorf("gpiocdev: %s: %s: %w", l, what, ierr)
	}
	return nil
}

// SetValues drives the output lines whose bit is set in mask to the level
// of their bit in bits (bit i: the request's line i).
func (l *Lines) SetValues(bits, mask uint64) error {
	v := unix.GPIOV2LineValues{Bits: bits, Mask: mask}
	return l.control("set values", unix.GPIO_V2_LINE_SET_VALUES_IOCTL, unsafe.Pointer(&v))
}

// Values reads the levels of the lines whose bit is set in mask.
func (l *Lines) Values(mask uint64) (uint64, error) {
	v := unix.GPIOV2LineValues{Mask: mask}
	if err := l.control("get values", unix.GPIO_V2_LINE_GET_VALUES_IOCTL, unsafe.Pointer(&v)); err != nil {
		return 0, err
	}
	return v.Bits & mask, nil
}

// Reconfigure changes the lines' flags (and, for outputs, values) in one
// ioctl, keeping the request. cfg.Consumer and cfg.EventBufferSize are
// fixed at request and ignored here.
func (l *Lines) Reconfigure(cfg Config) error {
	if err := cfg.check(len(l.offsets)); err != nil {
		return err
	}
	lc := lineConfig(&cfg, len(l.offsets))
	return l.control("set config", lineSetConfigIoctl, unsafe.Pointer(&lc))
}

// Close releases the lines. A second Close returns ErrClosed.
func (l *Lines) Close() error {
	if l.closed.Swap(true) {
		return ErrClosed
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("gpiocdev: release %s: %w", l, err)
	}
	return nil
}

// LineInfo is what GPIO_V2_GET_LINEINFO_IOCTL reports of a line.
type LineInfo struct {
	Offset   int
	Name     string // the kernel's name; "" when unnamed
	Consumer string // who holds it; "" when free
	Flags    Flags  // FlagUsed when held, and its configuration
}

func lineInfo(chipFd, offset int) (LineInfo, error) {
	info := unix.GPIOV2LineInfo{Offset: uint32(offset)}
	if err := ioctl(chipFd, unix.GPIO_V2_GET_LINEINFO_IOCTL, unsafe.Pointer(&info)); err != nil {
		return LineInfo{}, err
	}
	return LineInfo{
		Offset:   offset,
		Name:     unix.ByteSliceToString(info.Name[:]),
		Consumer: unix.ByteSliceToString(info.Consumer[:]),
		Flags:    Flags(info.Flags),
	}, nil
}

// ReadLineInfo reports line offset of the chip at path as the kernel
// sees it now: its name, and who holds it with which flags.
func ReadLineInfo(path string, offset int) (LineInfo, error) {
	path = devPath(path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return LineInfo{}, fmt.Errorf("gpiocdev: open %s: %w", path, err)
	}
	defer unix.Close(fd)
	info, err := lineInfo(fd, offset)
	if err != nil {
		return LineInfo{}, fmt.Errorf("gpiocdev: line info of %s:%d: %w", filepath.Base(path), offset, err)
	}
	return info, nil
}

// ReadChip reports the chip at path with its lines' names.
func ReadChip(path string) (Chip, error) {
	path = devPath(path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Chip{}, fmt.Errorf("gpiocdev: open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var ci unix.GPIOChipInfo
	if err := ioctl(fd, unix.GPIO_GET_CHIPINFO_IOCTL, unsafe.Pointer(&ci)); err != nil {
		return Chip{}, fmt.Errorf("gpiocdev: chip info of %s: %w", path, err)
	}
	c := Chip{
		Path:  path,
		Name:  unix.ByteSliceToString(ci.Name[:]),
		Label: unix.ByteSliceToString(ci.Label[:]),
		Lines: make([]string, ci.Lines),
	}
	for o := range c.Lines {
		info, err := lineInfo(fd, o)
		if err != nil {
			return Chip{}, fmt.Errorf("gpiocdev: line info of %s:%d: %w", path, o, err)
		}
		c.Lines[o] = info.Name
	}
	return c, nil
}

// Chips reports every GPIO chip under dir (/dev), in the order of their
// numbers.
func Chips(dir string) ([]Chip, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "gpiochip*"))
	if err != nil {
		return nil, fmt.Errorf("gpiocdev: list chips: %w", err)
	}
	num := func(p string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "gpiochip"))
		if err != nil {
			return -1
		}
		return n
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return num(p) < 0 })
	slices.SortFunc(paths, func(a, b string) int { return num(a) - num(b) })
	chips := make([]Chip, 0, len(paths))
	for _, p := range paths {
		c, err := ReadChip(p)
		if err != nil {
			return nil, err
		}
		chips = append(chips, c)
	}
	return chips, nil
}
