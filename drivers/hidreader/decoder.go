package hidreader

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// event is the part of a Linux input_event the decoder needs.
type event struct {
	typ   uint16
	code  uint16
	value int32
	at    time.Duration // the kernel's timestamp: CLOCK_MONOTONIC once openDevice set it
}

// Event types, codes and values from linux/input-event-codes.h.
const (
	evSyn      = 0x00
	evKey      = 0x01
	synDropped = 3
	keyPress   = 1 // 0 is release, 2 autorepeat

	keyTab     = 15
	keyEnter   = 28
	keyKPEnter = 96
)

// keys maps key codes to the characters a card number may hold.
var keys = map[uint16]byte{
	2: '1', 3: '2', 4: '3', 5: '4', 6: '5', 7: '6', 8: '7', 9: '8', 10: '9', 11: '0', // KEY_1..KEY_0
	79: '1', 80: '2', 81: '3', 75: '4', 76: '5', 77: '6', 71: '7', 72: '8', 73: '9', 82: '0', // KEY_KP1..KEY_KP0
}

// hexKeys maps the key codes of A-F, used with Opts.Hex.
var hexKeys = map[uint16]byte{
	30: 'A', 48: 'B', 46: 'C', 32: 'D', 18: 'E', 33: 'F',
}

// modifiers are keys a reader may press around characters (Shift for the
// letters of a hexadecimal UID, Num Lock before keypad digits); they are
// ignored rather than rejecting the line.
var modifiers = map[uint16]bool{
	29: true, 97: true, // KEY_LEFTCTRL, KEY_RIGHTCTRL
	42: true, 54: true, // KEY_LEFTSHIFT, KEY_RIGHTSHIFT
	56: true, 100: true, // KEY_LEFTALT, KEY_RIGHTALT
	125: true, 126: true, // KEY_LEFTMETA, KEY_RIGHTMETA
	58: true, 69: true, // KEY_CAPSLOCK, KEY_NUMLOCK
}

// keyNames names the keys a rejection most likely reports.
var keyNames = map[uint16]string{
	1: "Esc", 12: "Minus", 14: "Backspace", keyTab: "Tab", keyEnter: "Enter", keyKPEnter: "keypad Enter", 57: "Space",
	16: "Q", 17: "W", 18: "E", 19: "R", 20: "T", 21: "Y", 22: "U", 23: "I", 24: "O", 25: "P",
	30: "A", 31: "S", 32: "D", 33: "F", 34: "G", 35: "H", 36: "J", 37: "K", 38: "L",
	44: "Z", 45: "X", 46: "C", 47: "V", 48: "B", 49: "N", 50: "M",
}

func keyName(code uint16) string {
	if n, ok := keyNames[code]; ok {
		return fmt.Sprintf("%s (code %d)", n, code)
	}
	return fmt.Sprintf("code %d", code)
}

// wordSize is the size of a C long, which is the size of each of the two
// timestamp fields opening an input_event.
const wordSize = bits.UintSize / 8

// eventSize is sizeof(struct input_event) for this program's architecture:
// 16 bytes on 32-bit ARM, 24 on arm64 and amd64.
const eventSize = 2*wordSize + 8

// parseEvent decodes one input_event of 2*word+8 bytes: the timestamp
// (seconds and microseconds, each a C long), type, code and value.
func parseEvent(b []byte, word int) event {
	var sec, usec int64
	if word == 8 {
		sec, usec = int64(binary.NativeEndian.Uint64(b[0:])), int64(binary.NativeEndian.Uint64(b[8:]))
	} else {
		sec, usec = int64(int32(binary.NativeEndian.Uint32(b[0:]))), int64(int32(binary.NativeEndian.Uint32(b[4:])))
	}
	b = b[2*word:]
	return event{
		typ:   binary.NativeEndian.Uint16(b[0:2]),
		code:  binary.NativeEndian.Uint16(b[2:4]),
		value: int32(binary.NativeEndian.Uint32(b[4:8])),
		at:    time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
	}
}

// decoder turns key events into card numbers. It knows nothing of devices.
//
// A line is the key presses up to a terminator. It becomes a card only if
// every key in it, modifiers aside, is one the card number may hold, it is
// no longer than maxLen, no event was lost while it was typed, and no two
// of its keys are more than timeout apart. Anything else rejects the whole
// line: dropping one key could turn one card's number into another's.
type decoder struct {
	maxLen  int
	hex     bool
	term    Terminator
	timeout time.Duration // zero: no limit (tests with untimed events)

	line   []byte
	typing bool          // a key or a lost event belongs to the current line
	bad    string        // why the current line is rejected; "" while good
	last   time.Duration // time of the line's last key press or lost event
}

func newDecoder(maxLen int, hex bool, term Terminator, timeout time.Duration) *decoder {
	return &decoder{maxLen: maxLen, hex: hex, term: term, timeout: timeout, line: make([]byte, 0, maxLen)}
}

// feed takes one event. It returns a card number when e completes one, or
// the reason a line was rejected when e ends a bad line or shows that the
// line before it was abandoned; at most one of the two.
func (d *decoder) feed(e event) (card, rejected string) {
	switch {
	case e.typ == evSyn && e.code == synDropped:
		rejected = d.expire(e.at)
		d.reject("events lost by the kernel (SYN_DROPPED)")
		d.typing, d.last = true, e.at
		return "", rejected
	case e.typ != evKey || e.value != keyPress || modifiers[e.code]:
		return "", ""
	}
	rejected = d.expire(e.at)
	if d.isTerm(e.code) {
		if !d.typing {
			return "", rejected // an empty line: a second terminator, say
		}
		card, bad := string(d.line), d.bad
		d.reset()
		if bad != "" {
			return "", bad
		}
		return card, ""
	}
	d.typing, d.last = true, e.at
	c, ok := keys[e.code]
	if !ok && d.hex {
		c, ok = hexKeys[e.code]
	}
	switch {
	case !ok:
		d.reject("unexpected key " + keyName(e.code))
	case len(d.line) == d.maxLen:
		d.reject(fmt.Sprintf("longer than %d characters", d.maxLen))
	case d.bad == "":
		d.line = append(d.line, c)
	}
	return "", rejected
}

// expire ends a line left unfinished for longer than the timeout before at,
// and returns why it was rejected; "" if there was none. A gap that runs
// backwards (a clock step) ends it too.
func (d *decoder) expire(at time.Duration) string {
	if !d.typing || d.timeout == 0 {
		return ""
	}
	if gap := at - d.last; gap >= 0 && gap <= d.timeout {
		return ""
	}
	why := d.bad
	if why == "" {
		why = fmt.Sprintf("no %s within %v of the last key", d.term.name(), d.timeout)
	}
	d.reset()
	return why
}

// reject marks the current line bad; the first reason stays.
func (d *decoder) reject(why string) {
	if d.bad == "" {
		d.bad = why
	}
	d.line = d.line[:0]
}

func (d *decoder) reset() {
	d.line, d.typing, d.bad = d.line[:0], false, ""
}

func (d *decoder) isTerm(code uint16) bool {
	if d.term == TermTab {
		return code == keyTab
	}
	return code == keyEnter || code == keyKPEnter
}
