package hidreader

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// The kernel's struct input_event opens with a struct timeval (two longs).
// unix.Timeval follows the architecture, so this checks eventSize on every
// GOARCH the test is built for.
func TestEventSizeMatchesKernel(t *testing.T) {
	var ev struct {
		Time  unix.Timeval
		Type  uint16
		Code  uint16
		Value int32
	}
	if got := unsafe.Sizeof(ev); got != eventSize {
		t.Errorf("sizeof(input_event) = %d, want eventSize %d", got, eventSize)
	}
}

func TestEviocgrab(t *testing.T) {
	// _IOW(type, nr, size) = 1<<30 | size<<16 | type<<8 | nr.
	const want = 1<<30 | 4<<16 | 'E'<<8 | 0x90
	if eviocgrab != want {
		t.Errorf("eviocgrab = %#x, want %#x", eviocgrab, want)
	}
	if want := 1<<30 | 4<<16 | 'E'<<8 | 0xa0; eviocsclockid != want {
		t.Errorf("eviocsclockid = %#x, want %#x", eviocsclockid, want)
	}
}

// Checks the key tables against the system's kernel header, if installed.
func TestCodesMatchHeader(t *testing.T) {
	f, err := os.Open("/usr/include/linux/input-event-codes.h")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	hdr := map[string]uint16{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 3 && fields[0] == "#define" {
			if v, err := strconv.ParseUint(fields[2], 0, 16); err == nil {
				hdr[fields[1]] = uint16(v)
			}
		}
	}
	got := map[string]uint16{
		"EV_SYN": evSyn, "EV_KEY": evKey, "SYN_DROPPED": synDropped,
		"KEY_ENTER": keyEnter, "KEY_KPENTER": keyKPEnter,
		"KEY_LEFTSHIFT": keyLeftShift, "KEY_SPACE": keySpace, "EV_MSC": evMsc, "MSC_SCAN": mscScan,
	}
	for code, c := range keys {
		name := "KEY_" + string(c)
		if code >= 71 {
			name = "KEY_KP" + string(c)
		}
		got[name] = code
	}
	for code, c := range hexKeys {
		got["KEY_"+string(c)] = code
	}
	got["KEY_TAB"], got["KEY_NUMLOCK"] = keyTab, keyNumLock
	for code, name := range keyNames {
		got["KEY_"+strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(name, "keypad ", "KP"), " ", ""))] = code
	}
	for name, code := range map[string]uint16{
		"KEY_LEFTCTRL": 29, "KEY_RIGHTCTRL": 97, "KEY_LEFTSHIFT": 42, "KEY_RIGHTSHIFT": 54,
		"KEY_LEFTALT": 56, "KEY_RIGHTALT": 100, "KEY_LEFTMETA": 125, "KEY_RIGHTMETA": 126,
		"KEY_CAPSLOCK": 58, "KEY_NUMLOCK": 69,
	} {
		if !modifiers[code] {
			t.Errorf("%s (%d) is not a modifier", name, code)
		}
		got[name] = code
	}
	if len(modifiers) != 10 {
		t.Errorf("%d modifiers, want the 10 checked here", len(modifiers))
	}
	want := map[string]uint16{}
	for name := range got {
		want[name] = hdr[name]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("codes (-header +ours):\n%s", diff)
	}
}

func TestOpenDeviceErrors(t *testing.T) {
	_, err := openDevice("/nonexistent/event0")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("openDevice(missing) = %v, want %v", err, fs.ErrNotExist)
	}
	// /dev/null opens but is no evdev device: the grab fails.
	_, err = openDevice(os.DevNull)
	if !errors.Is(err, unix.ENOTTY) {
		t.Errorf("openDevice(%s) = %v, want %v", os.DevNull, err, unix.ENOTTY)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "grab /dev/null: ") {
		t.Errorf("openDevice(%s) error = %q, want a grab error", os.DevNull, err)
	}
}
