package hidreader

import (
	"encoding/binary"
	"math/bits"
)

// event is the part of a Linux input_event the decoder needs.
type event struct {
	typ   uint16
	code  uint16
	value int32
}

// Event types, codes and values from linux/input-event-codes.h.
const (
	evSyn      = 0x00
	evKey      = 0x01
	synDropped = 3
	keyPress   = 1 // 0 is release, 2 autorepeat

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

// wordSize is the size of a C long, which is the size of each of the two
// timestamp fields opening an input_event.
const wordSize = bits.UintSize / 8

// eventSize is sizeof(struct input_event) for this program's architecture:
// 16 bytes on 32-bit ARM, 24 on arm64 and amd64.
const eventSize = 2*wordSize + 8

// parseEvent decodes one input_event of 2*word+8 bytes, skipping the
// timestamp.
func parseEvent(b []byte, word int) event {
	b = b[2*word:]
	return event{
		typ:   binary.NativeEndian.Uint16(b[0:2]),
		code:  binary.NativeEndian.Uint16(b[2:4]),
		value: int32(binary.NativeEndian.Uint32(b[4:8])),
	}
}

// decoder turns key events into card numbers. It knows nothing of devices.
type decoder struct {
	maxLen int
	hex    bool
	line   []byte
	bad    bool // the line overflowed or lost events: drop it at Enter
}

func newDecoder(maxLen int, hex bool) *decoder {
	return &decoder{maxLen: maxLen, hex: hex, line: make([]byte, 0, maxLen)}
}

// feed takes one event and returns a card number when e completes one.
func (d *decoder) feed(e event) (string, bool) {
	switch {
	case e.typ == evSyn && e.code == synDropped:
		d.bad = true
		return "", false
	case e.typ != evKey || e.value != keyPress:
		return "", false
	case e.code == keyEnter || e.code == keyKPEnter:
		card, ok := string(d.line), !d.bad && len(d.line) > 0
		d.line, d.bad = d.line[:0], false
		if !ok {
			return "", false
		}
		return card, true
	}
	c, ok := keys[e.code]
	if !ok && d.hex {
		c, ok = hexKeys[e.code]
	}
	switch {
	case !ok, d.bad:
	case len(d.line) == d.maxLen:
		d.line, d.bad = d.line[:0], true
	default:
		d.line = append(d.line, c)
	}
	return "", false
}
