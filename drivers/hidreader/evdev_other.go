//go:build !linux

package hidreader

import (
	"errors"
	"io"
)

// openDevice fails: evdev exists only on Linux.
func openDevice(string) (io.ReadCloser, error) {
	return nil, errors.New("evdev is only available on Linux")
}
