//go:build linux

package gpiocdev

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// NewLine returns the line at loc, not yet requested: its first In, Out
// or Read requests it, with consumer as the label the kernel shows for it.
func NewLine(loc Location, consumer string) *Line {
	return newLine(loc, consumer, func(cfg Config) (handle, error) {
		ls, err := RequestLines(loc.Path, []int{loc.Offset}, cfg)
		if err != nil {
			return nil, err
		}
		return &lineHandle{Lines: ls, buf: make([]byte, 16*EventSize)}, nil
	})
}

// Info reports the line as the kernel sees it now.
func (l *Line) Info() (LineInfo, error) { return ReadLineInfo(l.loc.Path, l.loc.Offset) }

// lineHandle is a one-line request as a Line's handle.
type lineHandle struct {
	*Lines
	buf []byte // events read and dropped: a Line reports that there were some
}

func (h *lineHandle) setValues(bits, mask uint64) error  { return h.SetValues(bits, mask) }
func (h *lineHandle) values(mask uint64) (uint64, error) { return h.Values(mask) }
func (h *lineHandle) reconfigure(cfg Config) error       { return h.Reconfigure(cfg) }
func (h *lineHandle) close() error                       { return h.Close() }
func (h *lineHandle) wake()                              { _ = h.f.SetReadDeadline(time.Unix(1, 0)) }

func (h *lineHandle) waitEdge(timeout time.Duration) (bool, error) {
	if timeout == 0 {
		return h.readQueued()
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := h.f.SetReadDeadline(deadline); err != nil {
		return false, fmt.Errorf("gpiocdev: %s: %w", h, err)
	}
	n, err := h.f.Read(h.buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("gpiocdev: %s: read events: %w", h, err)
	}
	return n >= EventSize, nil
}

// readQueued reads the events queued, without waiting: a passed deadline
// would fail the read before it is tried.
func (h *lineHandle) readQueued() (bool, error) {
	rc, err := h.f.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("gpiocdev: %s: %w", h, err)
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), h.buf)
		return true // one attempt
	}); err != nil {
		return false, fmt.Errorf("gpiocdev: %s: %w", h, err)
	}
	if rerr == unix.EAGAIN {
		return false, nil
	}
	if rerr != nil {
		return false, fmt.Errorf("gpiocdev: %s: read events: %w", h, rerr)
	}
	return n >= EventSize, nil
}
