//go:build linux

package gpiocdev

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The sizes, offsets and ioctl numbers linux/gpio.h gives (the same on
// 32- and 64-bit ABIs), on x/sys/unix's structs.
func TestUAPILayout(t *testing.T) {
	var (
		attr unix.GPIOV2LineAttribute
		ca   unix.GPIOV2LineConfigAttribute
		cfg  unix.GPIOV2LineConfig
		req  unix.GPIOV2LineRequest
		info unix.GPIOV2LineInfo
		ev   unix.GPIOV2LineEvent
	)
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(gpio_v2_line_attribute)", unsafe.Sizeof(attr), 16},
		{"offsetof(gpio_v2_line_attribute, flags)", unsafe.Offsetof(attr.Flags), 8},
		{"sizeof(gpio_v2_line_config_attribute)", unsafe.Sizeof(ca), 24},
		{"offsetof(gpio_v2_line_config_attribute, mask)", unsafe.Offsetof(ca.Mask), 16},
		{"sizeof(gpio_v2_line_config)", unsafe.Sizeof(cfg), 272},
		{"offsetof(gpio_v2_line_config, num_attrs)", unsafe.Offsetof(cfg.Num_attrs), 8},
		{"offsetof(gpio_v2_line_config, attrs)", unsafe.Offsetof(cfg.Attrs), 32},
		{"sizeof(gpio_v2_line_request)", unsafe.Sizeof(req), 592},
		{"offsetof(gpio_v2_line_request, consumer)", unsafe.Offsetof(req.Consumer), 256},
		{"offsetof(gpio_v2_line_request, config)", unsafe.Offsetof(req.Config), 288},
		{"offsetof(gpio_v2_line_request, num_lines)", unsafe.Offsetof(req.Num_lines), 560},
		{"offsetof(gpio_v2_line_request, event_buffer_size)", unsafe.Offsetof(req.Event_buffer_size), 564},
		{"offsetof(gpio_v2_line_request, fd)", unsafe.Offsetof(req.Fd), 588},
		{"sizeof(gpio_v2_line_info)", unsafe.Sizeof(info), 256},
		{"offsetof(gpio_v2_line_info, consumer)", unsafe.Offsetof(info.Consumer), 32},
		{"offsetof(gpio_v2_line_info, flags)", unsafe.Offsetof(info.Flags), 72},
		{"sizeof(gpio_v2_line_event)", unsafe.Sizeof(ev), EventSize},
		{"offsetof(gpio_v2_line_event, offset)", unsafe.Offsetof(ev.Offset), 12},
		{"offsetof(gpio_v2_line_event, seqno)", unsafe.Offsetof(ev.Seqno), 16},
		{"GPIO_V2_GET_LINE_IOCTL", unix.GPIO_V2_GET_LINE_IOCTL, 0xC250B407},
		{"GPIO_V2_GET_LINEINFO_IOCTL", unix.GPIO_V2_GET_LINEINFO_IOCTL, 0xC100B405},
		{"GPIO_V2_LINE_SET_CONFIG_IOCTL", lineSetConfigIoctl, 0xC110B40D},
		{"GPIO_V2_LINE_SET_VALUES_IOCTL", unix.GPIO_V2_LINE_SET_VALUES_IOCTL, 0xC010B40F},
		{"GPIO_V2_LINE_GET_VALUES_IOCTL", unix.GPIO_V2_LINE_GET_VALUES_IOCTL, 0xC010B40E},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
	// The flags' bits, from linux/gpio.h.
	for _, f := range []struct {
		flag Flags
		want uint64
	}{
		{FlagUsed, 1 << 0}, {FlagInput, 1 << 2}, {FlagOutput, 1 << 3},
		{FlagEdgeRising, 1 << 4}, {FlagEdgeFalling, 1 << 5},
		{FlagBiasPullUp, 1 << 8}, {FlagBiasPullDown, 1 << 9}, {FlagBiasDisabled, 1 << 10},
		{FlagEventClockRealtime, 1 << 11}, {FlagEventClockHTE, 1 << 12},
	} {
		if uint64(f.flag) != f.want {
			t.Errorf("%v = %#x, want %#x", f.flag, uint64(f.flag), f.want)
		}
	}
}

// The request an output makes carries its levels as an attribute of all
// its lines: the kernel sets direction and level in one driver call.
func TestLineRequestStruct(t *testing.T) {
	req := lineRequest([]int{17, 27, 22}, &Config{Consumer: "pintud:d:relay", Flags: FlagOutput, Values: 0b101 | 1<<9})
	if req.Num_lines != 3 || req.Offsets[0] != 17 || req.Offsets[2] != 22 {
		t.Errorf("offsets %v, %d lines", req.Offsets[:3], req.Num_lines)
	}
	if got := unix.ByteSliceToString(req.Consumer[:]); got != "pintud:d:relay" {
		t.Errorf("consumer %q", got)
	}
	lc := req.Config
	if lc.Flags != uint64(FlagOutput) || lc.Num_attrs != 1 {
		t.Fatalf("config flags %#x, %d attributes; want output and one", lc.Flags, lc.Num_attrs)
	}
	a := lc.Attrs[0]
	if a.Attr.Id != unix.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES || a.Mask != 0b111 || a.Attr.Flags != 0b101 {
		t.Errorf("attribute %+v, want output values 0b101 over mask 0b111", a)
	}

	in := lineRequest([]int{5, 6}, &Config{Flags: FlagInput | FlagEdgeFalling | FlagBiasDisabled, EventBufferSize: 512})
	if in.Config.Flags != uint64(FlagInput|FlagEdgeFalling|FlagBiasDisabled) || in.Config.Num_attrs != 0 || in.Event_buffer_size != 512 {
		t.Errorf("input request: flags %#x, %d attributes, buffer %d", in.Config.Flags, in.Config.Num_attrs, in.Event_buffer_size)
	}
	if got := unix.ByteSliceToString(in.Consumer[:]); got != "pintu" {
		t.Errorf("default consumer %q", got)
	}
	// 64 lines: every mask bit.
	all := lineConfig(&Config{Flags: FlagOutput, Values: ^uint64(0)}, 64)
	if all.Attrs[0].Mask != ^uint64(0) || all.Attrs[0].Attr.Flags != ^uint64(0) {
		t.Errorf("64 lines: mask %#x values %#x", all.Attrs[0].Mask, all.Attrs[0].Attr.Flags)
	}
}

func TestRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		path    string
		offsets []int
		cfg     Config
		want    string
	}{
		{"/nonexistent/gpiochip0", []int{1}, Config{Flags: FlagInput}, "open /nonexistent/gpiochip0"},
		{"/dev/null", []int{1}, Config{Flags: FlagInput}, "request null lines 1"},
		{"gpiochip0", []int{1, 1}, Config{Flags: FlagInput}, "distinct offsets"},
		{"gpiochip0", []int{-1}, Config{Flags: FlagInput}, "distinct offsets"},
		{"gpiochip0", []int{1}, Config{}, "want input or output"},
	} {
		l, err := RequestLines(tc.path, tc.offsets, tc.cfg)
		if err == nil {
			l.Close()
			t.Errorf("RequestLines(%s, %v) succeeded", tc.path, tc.offsets)
			continue
		}
		if !strings.HasPrefix(err.Error(), "gpiocdev: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RequestLines(%s, %v) = %v, want a gpiocdev error saying %q", tc.path, tc.offsets, err, tc.want)
		}
	}
	if _, err := ReadLineInfo("/dev/null", 0); err == nil {
		t.Error("ReadLineInfo(/dev/null) succeeded")
	}
	if _, err := ReadChip("/dev/null"); err == nil {
		t.Error("ReadChip(/dev/null) succeeded")
	}
	if _, err := NewLine(Location{Path: "/dev/null", Chip: "null", Offset: 3}, "x").Info(); err == nil {
		t.Error("Info of a line of /dev/null succeeded")
	}
	if err := NewLine(Location{Path: "/dev/null", Chip: "null", Offset: 3}, "x").Out(true); err == nil {
		t.Error("Out on a line of /dev/null succeeded")
	}
}

// Chips lists only gpiochipN devices; an empty directory has none.
func TestChipsEmpty(t *testing.T) {
	dir := t.TempDir()
	chips, err := Chips(dir)
	if err != nil || len(chips) != 0 {
		t.Errorf("Chips(empty) = %v, %v", chips, err)
	}
	// A file that is not a chip fails, naming it.
	if err := unix.Mkfifo(filepath.Join(dir, "gpiochipX"), 0o600); err != nil {
		t.Fatal(err)
	}
	if chips, err := Chips(dir); err != nil || len(chips) != 0 {
		t.Errorf("Chips with gpiochipX = %v, %v; want it ignored", chips, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gpiochip3"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Chips(dir); err == nil || !strings.Contains(err.Error(), "gpiochip3") || errors.Is(err, ErrNotFound) {
		t.Errorf("Chips with a regular file gpiochip3 = %v, want an error naming it", err)
	}
}
