package gpiocdev

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"periph.io/x/conn/v3/gpio"
)

// Flags are a line's flags, GPIO_V2_LINE_FLAG_* of linux/gpio.h: what a
// request asks for, and what GPIO_V2_GET_LINEINFO_IOCTL reports.
type Flags uint64

// The flags, in the kernel's bit order.
const (
	FlagUsed Flags = 1 << iota
	FlagActiveLow
	FlagInput
	FlagOutput
	FlagEdgeRising
	FlagEdgeFalling
	FlagOpenDrain
	FlagOpenSource
	FlagBiasPullUp
	FlagBiasPullDown
	FlagBiasDisabled
	FlagEventClockRealtime
	FlagEventClockHTE
)

var flagNames = []string{
	"used", "active-low", "input", "output", "edge-rising", "edge-falling",
	"open-drain", "open-source", "pull-up", "pull-down", "bias-disabled",
	"clock-realtime", "clock-hte",
}

// String lists the flags set, "input,pull-up,edge-falling" style, in the
// kernel's bit order.
func (f Flags) String() string {
	var s []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	if rest := f &^ (1<<len(flagNames) - 1); rest != 0 {
		s = append(s, fmt.Sprintf("%#x", uint64(rest)))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

// biasFlags are the flags that set a line's bias; none of them leaves the
// bias as it is.
const biasFlags = FlagBiasPullUp | FlagBiasPullDown | FlagBiasDisabled

// Bias returns the flag for a periph pull: gpio.Float disables the bias
// (GPIO_V2_LINE_FLAG_BIAS_DISABLED), so that an input with external
// resistors floats as wired; gpio.PullNoChange sets no flag and leaves the
// bias as the board or the last user set it.
func Bias(p gpio.Pull) (Flags, error) {
	switch p {
	case gpio.PullNoChange:
		return 0, nil
	case gpio.Float:
		return FlagBiasDisabled, nil
	case gpio.PullUp:
		return FlagBiasPullUp, nil
	case gpio.PullDown:
		return FlagBiasPullDown, nil
	}
	return 0, fmt.Errorf("gpiocdev: unknown pull %d", p)
}

// Edges returns the flags for a periph edge.
func Edges(e gpio.Edge) (Flags, error) {
	switch e {
	case gpio.NoEdge:
		return 0, nil
	case gpio.RisingEdge:
		return FlagEdgeRising, nil
	case gpio.FallingEdge:
		return FlagEdgeFalling, nil
	case gpio.BothEdges:
		return FlagEdgeRising | FlagEdgeFalling, nil
	}
	return 0, fmt.Errorf("gpiocdev: unknown edge %d", e)
}

// Config is what a request asks of its lines, all of them alike.
type Config struct {
	// Consumer is the label the kernel shows for the lines (gpioinfo,
	// GPIO_V2_GET_LINEINFO_IOCTL) while they are held; at most 31 bytes
	// are kept. Empty means "pintu".
	Consumer string
	// Flags are the lines' direction, bias, edges and event clock.
	// FlagInput or FlagOutput is required.
	Flags Flags
	// Values are the levels of output lines, bit i for the request's line
	// i: the kernel makes the lines outputs at these levels in the one
	// call, so no other level is ever driven. Ignored for inputs.
	Values uint64
	// EventBufferSize is the number of edge events the kernel keeps for
	// the request until they are read; zero means the kernel's default
	// (16 per line).
	EventBufferSize int
}

// maxLines is GPIO_V2_LINES_MAX: the lines one request can hold.
const maxLines = 64

func (c *Config) check(n int) error {
	if n < 1 || n > maxLines {
		return fmt.Errorf("gpiocdev: %d lines in one request, want 1 to %d", n, maxLines)
	}
	dir := c.Flags & (FlagInput | FlagOutput)
	if dir == 0 || dir == FlagInput|FlagOutput {
		return fmt.Errorf("gpiocdev: flags %v: want input or output", c.Flags)
	}
	if dir == FlagOutput && c.Flags&(FlagEdgeRising|FlagEdgeFalling) != 0 {
		return fmt.Errorf("gpiocdev: flags %v: edges need an input", c.Flags)
	}
	if b := c.Flags & biasFlags; b&(b-1) != 0 {
		return fmt.Errorf("gpiocdev: flags %v: more than one bias", c.Flags)
	}
	if c.EventBufferSize < 0 {
		return fmt.Errorf("gpiocdev: negative event buffer size %d", c.EventBufferSize)
	}
	return nil
}

// consumer returns the label as the kernel keeps it: at most 31 bytes,
// cut at a character boundary.
func (c *Config) consumer() string {
	s := c.Consumer
	if s == "" {
		s = "pintu"
	}
	for len(s) > maxNameSize-1 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// maxNameSize is GPIO_MAX_NAME_SIZE, with the terminating NUL.
const maxNameSize = 32
