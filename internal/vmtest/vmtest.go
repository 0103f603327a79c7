//go:build vmtest && linux

// Package vmtest is the kernel side of the VM tests that .ci/vmtest runs:
// the gpio-sim lines that /init creates through configfs, the simulator end
// of each line (what the world outside the Raspberry Pi would do to it),
// and virtual keyboards made through /dev/uinput. It is built only with the
// vmtest tag; the *_vm_test.go files beside the drivers use it, and skip
// unless they run inside the VM.
package vmtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"
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

// Device is the gpio-sim device /init creates: one chip whose lines carry
// these names, by offset. The tests of each package use their own lines, so
// the state one leaves behind does not reach another.
const Device = "pintu"

// Lines are the names of the simulated chip's lines, by offset; "" is an
// unnamed line.
var Lines = []string{
	"relay-a", "relay-b", // drivers/relay
	"in-contact", "in-rex", "in-tamper", // drivers/input
	"wg-d0", "wg-d1", // drivers/wiegand
	"",
	"door-relay", "door-contact", "door-rex", "door-tamper", // cmd/pintud
	"", "", "", "",
}

const configfs = "/sys/kernel/config/gpio-sim"

// Setup creates the gpio-sim device with Lines and brings it live. /init
// calls it once, before any test runs.
func Setup() error {
	dev := filepath.Join(configfs, Device)
	bank := filepath.Join(dev, "bank0")
	if err := os.MkdirAll(bank, 0o755); err != nil {
		return fmt.Errorf("vmtest: create gpio-sim bank: %w", err)
	}
	if err := writeFile(filepath.Join(bank, "num_lines"), strconv.Itoa(len(Lines))); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(bank, "label"), "pintu-sim"); err != nil {
		return err
	}
	for i, name := range Lines {
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
	return writeFile(filepath.Join(dev, "live"), "1")
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
		dev, err := readFile(filepath.Join(filepath.Dir(bankDir), "dev_name"))
		if err != nil {
			return nil, err
		}
		l := &Line{Name: name, Chip: chip, Offset: off,
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

var hostInit = sync.OnceValue(func() error {
	_, err := host.Init()
	return err
})

// Pin initialises periph.io's host drivers, once, and returns the line
// called name from its registry, as pintud resolves a pin. It fails t
// unless the pin is a line of the GPIO character device.
func Pin(t testing.TB, name string) gpio.PinIO {
	t.Helper()
	if err := hostInit(); err != nil {
		t.Fatalf("host.Init: %v", err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		t.Fatalf("gpioreg.ByName(%q) = nil", name)
	}
	if _, ok := p.(*gpioioctl.GPIOLine); !ok {
		t.Fatalf("gpioreg.ByName(%q) is a %T, want a *gpioioctl.GPIOLine", name, p)
	}
	return p
}

func (l *Line) String() string { return fmt.Sprintf("%s (%s:%d)", l.Name, l.Chip, l.Offset) }

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

// IsBusy reports whether err is EBUSY, what a second EVIOCGRAB of a
// grabbed device fails with.
func IsBusy(err error) bool { return errors.Is(err, unix.EBUSY) }
