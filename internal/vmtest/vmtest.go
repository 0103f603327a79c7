//go:build vmtest && linux

// Package vmtest is the kernel side of the VM tests that .ci/vmtest runs:
// the gpio-sim chips that /init creates through configfs, named like a
// Raspberry Pi's, the simulator end of each line (what the world outside
// the Pi would do to it), gpiolib's trace of the levels the kernel sets,
// and virtual keyboards made through /dev/uinput. It is built only with the
// vmtest tag; the *_vm_test.go files beside the drivers use it, and skip
// unless they run inside the VM.
package vmtest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/drivers/gpiocdev"
)

// Env is the environment variable /init sets to 1 for the test binaries.
const Env = "PINTU_VMTEST"

// BinEnv names the directory holding the static pintud and pintuctl.
const BinEnv = "PINTU_VM_BIN"

// Require skips t unless it runs inside the VM.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(Env) != "1" {
		t.Skip("runs only inside the VM of .ci/vmtest")
	}
}

// SimChip is a gpio-sim device of one bank: one GPIO chip.
type SimChip struct {
	Device string   // its configfs directory
	Label  string   // the chip's label
	Lines  []string // line names by offset; "" is unnamed
}

func piLines(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "GPIO" + strconv.Itoa(i)
	}
	return names
}

// Chips are the chips /init creates, in this order: the Raspberry Pi
// firmware's expander first, so that it is gpiochip0 and the chip named
// like a Pi 4's SoC, with its 58 lines GPIO0 to GPIO57, is gpiochip1. On a
// Pi 0 to 4 the SoC's is gpiochip0; here a lookup by name has to find it
// elsewhere, as it must on a Pi 5, whose RP1 has had other numbers.
//
// The tests of each package use their own lines, so that the state one
// leaves behind (a pull) does not reach another:
//
//	GPIO2, GPIO3            drivers/relay
//	GPIO5, GPIO6            drivers/wiegand (D0, D1)
//	GPIO7, GPIO8, GPIO9     drivers/input
//	GPIO10 to GPIO13        drivers/gpiocdev
//	GPIO17, 22, 23, 27      cmd/pintud TestVMHardware (relay, rex, tamper, contact)
//	GPIO16, 19 to 21, 24 to 26  cmd/pintud start-up and ownership tests
var Chips = []SimChip{
	{Device: "pi-exp", Label: "raspberrypi-exp-gpio",
		Lines: []string{"BT_ON", "WL_ON", "PWR_LED_OFF", "GLOBAL_RESET", "VDD_SD_IO_SEL", "CAM_GPIO", "SD_PWR_ON", ""}},
	{Device: "pi", Label: "pinctrl-bcm2711", Lines: piLines(58)},
}

const configfs = "/sys/kernel/config/gpio-sim"

// Setup creates the gpio-sim devices of Chips and brings them live. /init
// calls it once, before any test runs.
func Setup() error {
	for _, c := range Chips {
		dev := filepath.Join(configfs, c.Device)
		bank := filepath.Join(dev, "bank0")
		if err := os.MkdirAll(bank, 0o755); err != nil {
			return fmt.Errorf("vmtest: create gpio-sim bank: %w", err)
		}
		if err := writeFile(filepath.Join(bank, "num_lines"), strconv.Itoa(len(c.Lines))); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(bank, "label"), c.Label); err != nil {
			return err
		}
		for i, name := range c.Lines {
			if name == "" {
				continue
			}
			line := filepath.Join(bank, "line"+strconv.Itoa(i))
			if err := os.Mkdir(line, 0o755); err != nil {
				return fmt.Errorf("vmtest: create gpio-sim line: %w", err)
			}
			if err := writeFile(filepath.Join(line, "name"), name); err != nil {
				return err
			}
		}
		if err := writeFile(filepath.Join(dev, "live"), "1"); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path, v string) error {
	if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
		return fmt.Errorf("vmtest: %w", err)
	}
	return nil
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("vmtest: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Line is one gpio-sim line: the chip and offset a program requests, and
// the simulator's end of it under sysfs.
type Line struct {
	Name   string
	Chip   string // gpiochipN
	Label  string // the chip's label
	Offset int
	sim    string // .../gpiochipN/sim_gpioM
	pull   *os.File
}

// FindLine returns the line called name, as configured through configfs,
// and closes its simulator files when t ends.
func FindLine(t testing.TB, name string) *Line {
	t.Helper()
	l, err := findLine(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.pull.Close() })
	return l
}

func findLine(name string) (*Line, error) {
	names, err := filepath.Glob(filepath.Join(configfs, "*", "bank*", "line*", "name"))
	if err != nil {
		return nil, err
	}
	for _, p := range names {
		if n, err := readFile(p); err != nil || n != name {
			continue
		}
		lineDir := filepath.Dir(p)
		bankDir := filepath.Dir(lineDir)
		off, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(lineDir), "line"))
		if err != nil {
			return nil, fmt.Errorf("vmtest: line %s: %w", p, err)
		}
		chip, err := readFile(filepath.Join(bankDir, "chip_name"))
		if err != nil {
			return nil, err
		}
		label, err := readFile(filepath.Join(bankDir, "label"))
		if err != nil {
			return nil, err
		}
		dev, err := readFile(filepath.Join(filepath.Dir(bankDir), "dev_name"))
		if err != nil {
			return nil, err
		}
		l := &Line{Name: name, Chip: chip, Label: label, Offset: off,
			sim: filepath.Join("/sys/devices/platform", dev, chip, "sim_gpio"+strconv.Itoa(off))}
		if l.pull, err = os.OpenFile(filepath.Join(l.sim, "pull"), os.O_RDWR, 0); err != nil {
			return nil, fmt.Errorf("vmtest: line %s: %w", name, err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("vmtest: no gpio-sim line named %q under %s", name, configfs)
}

// SetPull drives the line from the outside: high (pull-up) or low
// (pull-down). An input reads it, and sees an edge when it changes; an
// output is not affected. A program that sets the line's bias moves the
// same pull.
func (l *Line) SetPull(high bool) error {
	v := "pull-down"
	if high {
		v = "pull-up"
	}
	// One write at offset 0 of an open attribute file: an edge per call,
	// with no open and close between edges.
	if _, err := l.pull.WriteAt([]byte(v), 0); err != nil {
		return fmt.Errorf("vmtest: line %s: set %s: %w", l.Name, v, err)
	}
	return nil
}

// Pull reports the line's pull as the simulator holds it: true for
// pull-up.
func (l *Line) Pull() (bool, error) {
	v, err := readFile(filepath.Join(l.sim, "pull"))
	if err != nil {
		return false, err
	}
	return v == "pull-up", nil
}

// Value reads the line's level on the simulator side: what the chip
// drives for an output, the pull for an input.
func (l *Line) Value() (bool, error) {
	v, err := readFile(filepath.Join(l.sim, "value"))
	if err != nil {
		return false, err
	}
	switch v {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("vmtest: line %s: value %q", l.Name, v)
}

// WaitValue polls the simulator side until the line reads want, for at
// most timeout, and reports whether it did.
func (l *Line) WaitValue(want bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if v, err := l.Value(); err == nil && v == want {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Info reports the line as the kernel's GPIO character device does: its
// name, who holds it, and with which flags.
func (l *Line) Info() (gpiocdev.LineInfo, error) {
	return gpiocdev.ReadLineInfo("/dev/"+l.Chip, l.Offset)
}

// Global returns the line's global GPIO number, which gpiolib's trace
// events carry: its chip's base (under /sys/class/gpio, found by the
// chip's label) plus its offset.
func (l *Line) Global() (int, error) {
	labels, err := filepath.Glob("/sys/class/gpio/gpiochip*/label")
	if err != nil {
		return 0, err
	}
	for _, p := range labels {
		if v, err := readFile(p); err != nil || v != l.Label {
			continue
		}
		b, err := readFile(filepath.Join(filepath.Dir(p), "base"))
		if err != nil {
			return 0, err
		}
		base, err := strconv.Atoi(b)
		if err != nil {
			return 0, fmt.Errorf("vmtest: base of %s: %w", l.Label, err)
		}
		return base + l.Offset, nil
	}
	return 0, fmt.Errorf("vmtest: no /sys/class/gpio chip labelled %q", l.Label)
}

// Pin returns the line called name as pintud resolves it: looked up by
// name among the kernel's GPIO chips and not yet requested, a
// *gpiocdev.Line, released when t ends.
func Pin(t testing.TB, name string) *gpiocdev.Line {
	t.Helper()
	chips, err := gpiocdev.Chips("/dev")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := gpiocdev.Lookup(chips, "", name)
	if err != nil {
		t.Fatal(err)
	}
	l := gpiocdev.NewLine(loc, "vmtest:"+name)
	t.Cleanup(func() { l.Close() })
	return l
}

func (l *Line) String() string { return fmt.Sprintf("%s (%s:%d)", l.Name, l.Chip, l.Offset) }

// The trace: gpiolib emits gpio_value for every level it sets on a line
// (and reads), and gpio_direction for every direction change. A line
// requested as an output at a level gets "gpio_value: N set L" then
// "gpio_direction: N out (0)" from the one driver call that does both;
// periph's gpioioctl, which requests first and writes the level after,
// gets "set 0" before its level.

const tracefs = "/sys/kernel/tracing"

// Trace records gpiolib's events from StartTrace until t ends.
type Trace struct{ t testing.TB }

// TraceEvent is one gpiolib event for a line.
type TraceEvent struct {
	Kind  string // "set", "get", "in" or "out"
	Value int    // the level for set and get; the error for in and out
}

func (e TraceEvent) String() string { return fmt.Sprintf("%s %d", e.Kind, e.Value) }

// StartTrace clears the trace buffer and records gpiolib's events until t
// ends. Only one test may trace at a time.
func StartTrace(t testing.TB) *Trace {
	t.Helper()
	for _, w := range []struct{ file, v string }{
		{"tracing_on", "0"},
		{"trace", ""},
		{"events/gpio/enable", "1"},
		{"tracing_on", "1"},
	} {
		if err := os.WriteFile(filepath.Join(tracefs, w.file), []byte(w.v), 0o644); err != nil {
			t.Fatalf("vmtest: trace: %v", err)
		}
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(tracefs, "events/gpio/enable"), []byte("0"), 0o644)
	})
	return &Trace{t: t}
}

var traceRE = regexp.MustCompile(`gpio_(value|direction): (\d+)\s+(set|get|in|out) \(?(-?\d+)\)?`)

// Events returns the events recorded for l so far, in order.
func (tr *Trace) Events(l *Line) []TraceEvent {
	tr.t.Helper()
	gpio, err := l.Global()
	if err != nil {
		tr.t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(tracefs, "trace"))
	if err != nil {
		tr.t.Fatalf("vmtest: trace: %v", err)
	}
	defer f.Close()
	var evs []TraceEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := traceRE.FindStringSubmatch(sc.Text())
		if m == nil || m[2] != strconv.Itoa(gpio) {
			continue
		}
		v, _ := strconv.Atoi(m[4])
		evs = append(evs, TraceEvent{Kind: m[3], Value: v})
	}
	if err := sc.Err(); err != nil {
		tr.t.Fatalf("vmtest: trace: %v", err)
	}
	return evs
}

// Levels returns the levels the kernel set on l so far ("set" events),
// in order.
func (tr *Trace) Levels(l *Line) []int {
	var ls []int
	for _, e := range tr.Events(l) {
		if e.Kind == "set" {
			ls = append(ls, e.Value)
		}
	}
	return ls
}

// IsBusy reports whether err is EBUSY, what a second EVIOCGRAB of a
// grabbed device fails with.
func IsBusy(err error) bool { return errors.Is(err, unix.EBUSY) }

// The uinput and evdev uAPI, from linux/uinput.h and linux/input.h, with
// the generic ioctl encoding of amd64.
const (
	uiSetEvBit   = 0x40045564 // _IOW('U', 100, int)
	uiSetKeyBit  = 0x40045565 // _IOW('U', 101, int)
	uiDevSetup   = 0x405c5503 // _IOW('U', 3, struct uinput_setup)
	uiDevCreate  = 0x5501     // _IO('U', 1)
	uiDevDestroy = 0x5502     // _IO('U', 2)
	// EVIOCGRAB is _IOW('E', 0x90, int).
	EVIOCGRAB = 0x40044590

	evSyn    = 0
	evKey    = 1
	keyEnter = 28
	busUSB   = 3
)

// keyCodes are the key codes a Keyboard types: the digits row.
var keyCodes = map[rune]uint16{
	'1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11,
}

// Keyboard is a virtual USB keyboard made through /dev/uinput: a
// keyboard-wedge card reader.
type Keyboard struct {
	f *os.File
	// Node is its evdev node, /dev/input/eventN.
	Node string
}

// NewKeyboard creates a keyboard called name that types digits and Enter,
// waits for its evdev node, and destroys it when t ends.
func NewKeyboard(t testing.TB, name string) *Keyboard {
	t.Helper()
	f, err := os.OpenFile("/dev/uinput", os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	k := &Keyboard{f: f}
	t.Cleanup(func() {
		_ = k.ioctl(uiDevDestroy, 0)
		f.Close()
	})
	if err := k.ioctl(uiSetEvBit, evKey); err != nil {
		t.Fatalf("vmtest: UI_SET_EVBIT: %v", err)
	}
	for _, c := range append(mapValues(keyCodes), keyEnter) {
		if err := k.ioctl(uiSetKeyBit, uintptr(c)); err != nil {
			t.Fatalf("vmtest: UI_SET_KEYBIT: %v", err)
		}
	}
	// struct uinput_setup: struct input_id (bustype, vendor, product,
	// version), char name[80], __u32 ff_effects_max.
	var setup [92]byte
	binary.NativeEndian.PutUint16(setup[0:], busUSB)
	binary.NativeEndian.PutUint16(setup[2:], 0x1234)
	binary.NativeEndian.PutUint16(setup[4:], 0x5678)
	copy(setup[8:87], name)
	if err := k.ioctl(uiDevSetup, uintptr(unsafe.Pointer(&setup[0]))); err != nil {
		t.Fatalf("vmtest: UI_DEV_SETUP: %v", err)
	}
	if err := k.ioctl(uiDevCreate, 0); err != nil {
		t.Fatalf("vmtest: UI_DEV_CREATE: %v", err)
	}
	// The evdev node appears shortly after; the VM's AT keyboard has
	// another one, so look it up by name.
	deadline := time.Now().Add(5 * time.Second)
	for k.Node == "" {
		nodes, _ := filepath.Glob("/sys/class/input/event*")
		for _, n := range nodes {
			if v, err := readFile(filepath.Join(n, "device", "name")); err == nil && v == name {
				if _, err := os.Stat("/dev/input/" + filepath.Base(n)); err == nil {
					k.Node = "/dev/input/" + filepath.Base(n)
				}
			}
		}
		if k.Node == "" {
			if time.Now().After(deadline) {
				t.Fatalf("vmtest: no evdev node for keyboard %q within 5s", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return k
}

func mapValues(m map[rune]uint16) []uint16 {
	var vs []uint16
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

func (k *Keyboard) ioctl(req, arg uintptr) error {
	rc, err := k.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, arg)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// Type presses and releases the key of each digit of s, then Enter, as a
// keyboard-wedge reader types a card number.
func (k *Keyboard) Type(s string) error {
	for _, r := range s {
		c, ok := keyCodes[r]
		if !ok {
			return fmt.Errorf("vmtest: keyboard cannot type %q", r)
		}
		if err := k.key(c); err != nil {
			return err
		}
	}
	return k.key(keyEnter)
}

func (k *Keyboard) key(code uint16) error {
	for _, v := range []int32{1, 0} {
		if err := k.event(evKey, code, v); err != nil {
			return err
		}
		if err := k.event(evSyn, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// event writes one struct input_event: a timeval the kernel fills in, then
// type, code and value.
func (k *Keyboard) event(typ, code uint16, value int32) error {
	var b [24]byte
	binary.NativeEndian.PutUint16(b[16:], typ)
	binary.NativeEndian.PutUint16(b[18:], code)
	binary.NativeEndian.PutUint32(b[20:], uint32(value))
	if _, err := k.f.Write(b[:]); err != nil {
		return fmt.Errorf("vmtest: keyboard: %w", err)
	}
	return nil
}

// Grab tries EVIOCGRAB on a new descriptor of node and returns the
// descriptor's file (which holds the grab, if it succeeded) and the ioctl's
// error.
func Grab(node string) (*os.File, error) {
	f, err := os.Open(node)
	if err != nil {
		return nil, err
	}
	if err := unix.IoctlSetInt(int(f.Fd()), EVIOCGRAB, 1); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
