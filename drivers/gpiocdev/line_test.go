package gpiocdev

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
)

// fakeChip records what a Line asks of the kernel, in order: "request
// <config>", "config <config>", "set <bits>/<mask>".
type fakeChip struct {
	calls   []string
	level   uint64
	openErr error
	closes  int
}

func (c *fakeChip) line() *Line {
	return newLine(Location{Path: "/dev/gpiochip0", Chip: "gpiochip0", Offset: 17, Name: "GPIO17"}, "pintud:door:relay",
		func(cfg Config) (handle, error) {
			if c.openErr != nil {
				return nil, c.openErr
			}
			c.calls = append(c.calls, "request "+describe(cfg))
			if cfg.Flags&FlagOutput != 0 {
				c.level = cfg.Values
			}
			return (*fakeHandle)(c), nil
		})
}

func describe(cfg Config) string {
	s := fmt.Sprintf("%s %v", cfg.Consumer, cfg.Flags)
	if cfg.Flags&FlagOutput != 0 {
		s += fmt.Sprintf(" values=%d", cfg.Values)
	}
	return s
}

type fakeHandle fakeChip

func (h *fakeHandle) setValues(bits, mask uint64) error {
	h.calls = append(h.calls, fmt.Sprintf("set %d/%d", bits, mask))
	h.level = bits & mask
	return nil
}

func (h *fakeHandle) values(mask uint64) (uint64, error) { return h.level & mask, nil }

func (h *fakeHandle) reconfigure(cfg Config) error {
	h.calls = append(h.calls, "config "+describe(cfg))
	if cfg.Flags&FlagOutput != 0 {
		h.level = cfg.Values
	}
	return nil
}

func (h *fakeHandle) waitEdge(time.Duration) (bool, error) { return true, nil }
func (h *fakeHandle) wake()                                {}
func (h *fakeHandle) close() error                         { h.closes++; return nil }

// The flags a Line requests for each call a driver makes: an output's
// first level is in its request, a pull is a bias flag, Float disables the
// bias and PullNoChange sets none.
func TestLineRequests(t *testing.T) {
	const who = "pintud:door:relay"
	for _, tc := range []struct {
		name string
		do   func(l *Line) error
		want []string
	}{
		{"relay locked high: one request, output at 1",
			func(l *Line) error { return l.Out(gpio.High) },
			[]string{"request " + who + " output values=1"}},
		{"relay locked low",
			func(l *Line) error { return l.Out(gpio.Low) },
			[]string{"request " + who + " output values=0"}},
		{"output written again: a value, no new request",
			func(l *Line) error { return errors.Join(l.Out(gpio.High), l.Out(gpio.Low), l.Out(gpio.High)) },
			[]string{"request " + who + " output values=1", "set 0/1", "set 1/1"}},
		{"pull up",
			func(l *Line) error { return l.In(gpio.PullUp, gpio.BothEdges) },
			[]string{"request " + who + " input,edge-rising,edge-falling,pull-up"}},
		{"pull down, falling edge",
			func(l *Line) error { return l.In(gpio.PullDown, gpio.FallingEdge) },
			[]string{"request " + who + " input,edge-falling,pull-down"}},
		{"pull none disables the bias",
			func(l *Line) error { return l.In(gpio.Float, gpio.BothEdges) },
			[]string{"request " + who + " input,edge-rising,edge-falling,bias-disabled"}},
		{"no change leaves the bias",
			func(l *Line) error { return l.In(gpio.PullNoChange, gpio.NoEdge) },
			[]string{"request " + who + " input"}},
		{"read first: an input, bias left",
			func(l *Line) error { l.Read(); return nil },
			[]string{"request " + who + " input"}},
		{"input to output: direction and level in one config",
			func(l *Line) error { return errors.Join(l.In(gpio.PullUp, gpio.NoEdge), l.Out(gpio.High)) },
			[]string{"request " + who + " input,pull-up", "config " + who + " output values=1"}},
		{"output to input",
			func(l *Line) error { return errors.Join(l.Out(gpio.Low), l.In(gpio.Float, gpio.RisingEdge)) },
			[]string{"request " + who + " output values=0", "config " + who + " input,edge-rising,bias-disabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeChip{}
			if err := tc.do(c.line()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineState(t *testing.T) {
	c := &fakeChip{}
	l := c.line()
	if l.Function() != "" || l.WaitForEdge(0) {
		t.Errorf("before a request: Function %q, WaitForEdge true", l.Function())
	}
	if err := l.In(gpio.PullDown, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	if l.Pull() != gpio.PullDown || l.Function() != "In" {
		t.Errorf("after In: Pull %v, Function %q", l.Pull(), l.Function())
	}
	if l.WaitForEdge(time.Millisecond) {
		t.Error("WaitForEdge with no edges requested = true")
	}
	if err := l.In(gpio.PullDown, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if !l.WaitForEdge(time.Millisecond) {
		t.Error("WaitForEdge with edges = false")
	}
	if err := l.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if l.Read() != gpio.High || l.Function() != "Out" || l.Pull() != gpio.PullNoChange {
		t.Errorf("after Out(High): Read %v, Function %q, Pull %v", l.Read(), l.Function(), l.Pull())
	}
	if l.Name() != "GPIO17" || l.Number() != 17 || l.String() != "GPIO17 (gpiochip0:17)" {
		t.Errorf("Name %q, Number %d, String %q", l.Name(), l.Number(), l.String())
	}
	if err := l.In(gpio.Pull(9), gpio.NoEdge); err == nil {
		t.Error("In with an unknown pull succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if c.closes != 1 {
		t.Errorf("request closed %d times, want 1", c.closes)
	}
	n := len(c.calls)
	if err := l.Out(gpio.Low); !errors.Is(err, ErrClosed) {
		t.Errorf("Out after Close = %v, want ErrClosed", err)
	}
	if err := l.In(gpio.PullUp, gpio.NoEdge); !errors.Is(err, ErrClosed) {
		t.Errorf("In after Close = %v, want ErrClosed", err)
	}
	if len(c.calls) != n {
		t.Errorf("calls after Close: %v", c.calls[n:])
	}
}

// A refused request is the caller's error, and the Line can try again.
func TestLineRequestRefused(t *testing.T) {
	c := &fakeChip{openErr: fmt.Errorf("%w: GPIO17 (gpiochip0:17) is held by \"other\"", ErrBusy)}
	l := c.line()
	if err := l.Out(gpio.Low); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), `"other"`) {
		t.Fatalf("Out on a held line = %v, want ErrBusy naming the holder", err)
	}
	c.openErr = nil
	if err := l.Out(gpio.Low); err != nil {
		t.Fatalf("Out once free = %v", err)
	}
	if len(c.calls) != 1 {
		t.Errorf("calls = %v, want one request", c.calls)
	}
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                                     "none",
		FlagUsed | FlagInput | FlagBiasPullUp: "used,input,pull-up",
		FlagOutput | FlagActiveLow:            "active-low,output",
		FlagBiasDisabled | 1<<20:              "bias-disabled,0x100000",
	} {
		if got := f.String(); got != want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint64(f), got, want)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		n   int
	}{
		{Config{Flags: 0}, 1},
		{Config{Flags: FlagInput | FlagOutput}, 1},
		{Config{Flags: FlagOutput | FlagEdgeFalling}, 1},
		{Config{Flags: FlagInput | FlagBiasPullUp | FlagBiasDisabled}, 1},
		{Config{Flags: FlagInput}, 0},
		{Config{Flags: FlagInput}, 65},
		{Config{Flags: FlagInput, EventBufferSize: -1}, 1},
	} {
		if err := tc.cfg.check(tc.n); err == nil {
			t.Errorf("check(%v, %d lines) = nil, want an error", tc.cfg.Flags, tc.n)
		}
	}
	if err := (&Config{Flags: FlagInput | FlagBiasDisabled | FlagEdgeRising}).check(2); err != nil {
		t.Errorf("check of a valid config = %v", err)
	}
}

func TestConsumer(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "pintu",
		"pintud:server-room:relay":            "pintud:server-room:relay",
		"pintud:ruang-server-lantai-2:tamper": "pintud:ruang-server-lantai-2:ta",
		"pintud:pintu-ruang-serverñññ:relay":  "pintud:pintu-ruang-serverñññ", // 31 bytes would split ñ
	} {
		c := Config{Consumer: in}
		if got := c.consumer(); got != want || len(got) > 31 {
			t.Errorf("consumer(%q) = %q (%d bytes), want %q", in, got, len(got), want)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	e := Event{Time: 123456789 * time.Nanosecond, ID: FallingEdge, Offset: 6, Seqno: 41, LineSeqno: 20}
	b := AppendEvent(nil, e)
	if len(b) != EventSize {
		t.Fatalf("AppendEvent wrote %d bytes, want %d", len(b), EventSize)
	}
	if got := ParseEvent(b); got != e {
		t.Errorf("ParseEvent(AppendEvent(%+v)) = %+v", e, got)
	}
}
