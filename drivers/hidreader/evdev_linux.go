package hidreader

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// eviocgrab is EVIOCGRAB, _IOW('E', 0x90, int) in linux/input.h, with the
// generic ioctl encoding that arm, arm64 and amd64 share.
const eviocgrab = 0x40044590

// eviocsclockid is EVIOCSCLOCKID, _IOW('E', 0xa0, int): the clock of the
// event timestamps, which the decoder's key timeout measures.
const eviocsclockid = 0x400445A0

// openDevice opens path and grabs it. The os.File is registered with Go's
// poller (an evdev node supports poll), so Close unblocks a pending Read;
// the grab ends when the file is closed.
func openDevice(path string) (io.ReadCloser, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	// SyscallConn rather than Fd: Fd would switch the file to blocking mode.
	sc, err := f.SyscallConn()
	if err == nil {
		cerr := sc.Control(func(fd uintptr) {
			err = unix.IoctlSetInt(int(fd), eviocgrab, 1)
			if err == nil {
				// Monotonic timestamps, so that a clock step cannot end or
				// stretch a line. Kernels before 3.4 lack it; the decoder
				// then ends a line whose gap runs backwards.
				_ = unix.IoctlSetInt(int(fd), eviocsclockid, unix.CLOCK_MONOTONIC)
			}
		})
		if cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("grab %s: %w", path, err)
	}
	return f, nil
}
