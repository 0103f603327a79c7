//go:build !linux

package gpiocdev

import "errors"

var errNotLinux = errors.New("gpiocdev: the GPIO character device needs Linux")

// NewLine returns the line at loc. Outside Linux every request fails.
func NewLine(loc Location, consumer string) *Line {
	return newLine(loc, consumer, func(Config) (handle, error) { return nil, errNotLinux })
}

// Info reports the line as the kernel sees it: outside Linux, an error.
func (l *Line) Info() (LineInfo, error) { return LineInfo{}, errNotLinux }

// LineInfo is what GPIO_V2_GET_LINEINFO_IOCTL reports of a line.
type LineInfo struct {
	Offset   int
	Name     string
	Consumer string
	Flags    Flags
}

// Chips reports the GPIO chips: outside Linux, an error.
func Chips(dir string) ([]Chip, error) { return nil, errNotLinux }

// ReadLineInfo reports a line: outside Linux, an error.
func ReadLineInfo(path string, offset int) (LineInfo, error) { return LineInfo{}, errNotLinux }
