package hidreader

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Key codes the tests use besides those in keys and hexKeys.
const (
	keyLeftShift = 42
	keySpace     = 57
	evMsc        = 0x04
	mscScan      = 0x04
)

// codeOf returns the main-row key code typing r: digits, A-F, '\n' for Enter.
func codeOf(r rune) uint16 {
	if r == '\n' {
		return keyEnter
	}
	for _, m := range []map[uint16]byte{keys, hexKeys} {
		for code, c := range m {
			if rune(c) == r && (code < 71 || code > 82) { // not the keypad
				return code
			}
		}
	}
	panic("no key for " + string(r))
}

// stroke is what a keyboard sends for one key: scan code, press, sync,
// scan code, release, sync.
func stroke(code uint16) []event {
	return []event{
		{evMsc, mscScan, 0x70000 + int32(code)}, {evKey, code, 1}, {evSyn, 0, 0},
		{evMsc, mscScan, 0x70000 + int32(code)}, {evKey, code, 0}, {evSyn, 0, 0},
	}
}

// typed types s on the main row.
func typed(s string) []event {
	var evs []event
	for _, r := range s {
		evs = append(evs, stroke(codeOf(r))...)
	}
	return evs
}

// keypad types s on the numeric keypad; '\n' is the keypad Enter.
func keypad(s string) []event {
	var evs []event
	for _, r := range s {
		code := uint16(keyKPEnter)
		if r != '\n' {
			for k, c := range keys {
				if rune(c) == r && k >= 71 && k <= 82 {
					code = k
				}
			}
		}
		evs = append(evs, stroke(code)...)
	}
	return evs
}

var dropped = []event{{evSyn, synDropped, 0}}

func cat(parts ...[]event) []event {
	var evs []event
	for _, p := range parts {
		evs = append(evs, p...)
	}
	return evs
}

var decoderTests = []struct {
	name   string
	maxLen int
	hex    bool
	events []event
	want   []string
}{
	{"digits", 32, false, typed("0123456789\n"), []string{"0123456789"}},
	{"two cards", 32, false, typed("12\n34\n"), []string{"12", "34"}},
	{"keypad", 32, false, keypad("4711\n"), []string{"4711"}},
	{"keypad and main row", 32, false, cat(typed("12"), keypad("34"), typed("\n")), []string{"1234"}},
	{"no enter no card", 32, false, typed("1234"), nil},
	{"empty lines dropped", 32, false, typed("\n\n5\n"), []string{"5"}},
	{"max length", 4, false, typed("1234\n"), []string{"1234"}},
	{"too long dropped whole", 4, false, typed("12345\n6\n"), []string{"6"}},
	{"far too long dropped whole", 4, false, typed("123456789\n6\n"), []string{"6"}},
	{"letters ignored without hex", 32, false, typed("12AB3\n"), []string{"123"}},
	{"hex", 32, true, typed("04A3F2BCDE\n"), []string{"04A3F2BCDE"}},
	{"shift ignored", 32, true, cat(
		[]event{{evKey, keyLeftShift, 1}}, typed("AB"), []event{{evKey, keyLeftShift, 0}}, typed("\n"),
	), []string{"AB"}},
	{"other keys ignored", 32, false, cat(typed("1"), stroke(keySpace), typed("2\n")), []string{"12"}},
	{"autorepeat ignored", 32, false, cat(
		[]event{{evKey, 2, 1}, {evKey, 2, 2}, {evKey, 2, 2}, {evKey, 2, 0}}, typed("\n"),
	), []string{"1"}},
	{"releases ignored", 32, false, []event{{evKey, 2, 0}, {evKey, keyEnter, 0}}, nil},
	{"dropped events drop the line", 32, false, cat(typed("12"), dropped, typed("34\n56\n")), []string{"56"}},
	{"dropped after enter drops the next line", 32, false, cat(typed("12\n"), dropped, typed("34\n56\n")), []string{"12", "56"}},
}

func TestDecoder(t *testing.T) {
	for _, tt := range decoderTests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.maxLen, tt.hex)
			var got []string
			for _, e := range tt.events {
				if card, ok := d.feed(e); ok {
					got = append(got, card)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
		})
	}
}

// encode lays out events as the kernel does for a word-byte long, with a
// junk timestamp.
func encode(word int, evs []event) []byte {
	size := 2*word + 8
	b := make([]byte, len(evs)*size)
	for i, e := range evs {
		p := b[i*size:]
		for j := range 2 * word {
			p[j] = 0xA5
		}
		p = p[2*word:]
		binary.NativeEndian.PutUint16(p[0:], e.typ)
		binary.NativeEndian.PutUint16(p[2:], e.code)
		binary.NativeEndian.PutUint32(p[4:], uint32(e.value))
	}
	return b
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		word int
		size int
		e    event
	}{
		{"32-bit key press", 4, 16, event{evKey, 2, 1}},
		{"64-bit key press", 8, 24, event{evKey, 2, 1}},
		{"32-bit negative value", 4, 16, event{3, 0, -12345}},
		{"64-bit dropped", 8, 24, event{evSyn, synDropped, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(tt.word, []event{tt.e})
			if len(b) != tt.size {
				t.Fatalf("input_event size for %d-byte long = %d, want %d", tt.word, len(b), tt.size)
			}
			if got := parseEvent(b, tt.word); got != tt.e {
				t.Errorf("parseEvent(%x, %d) = %+v, want %+v", b, tt.word, got, tt.e)
			}
		})
	}
	if eventSize != 2*wordSize+8 || (eventSize != 16 && eventSize != 24) {
		t.Errorf("eventSize = %d, want 16 or 24", eventSize)
	}
}

func FuzzDecoder(f *testing.F) {
	for _, tt := range decoderTests {
		f.Add(encode(wordSize, tt.events), uint8(tt.maxLen), tt.hex)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxLen uint8, hex bool) {
		if maxLen == 0 {
			maxLen = 32
		}
		d := newDecoder(int(maxLen), hex)
		allowed := "0123456789"
		if hex {
			allowed += "ABCDEF"
		}
		for off := 0; off+eventSize <= len(b); off += eventSize {
			card, ok := d.feed(parseEvent(b[off:off+eventSize], wordSize))
			if !ok {
				continue
			}
			if len(card) == 0 || len(card) > int(maxLen) {
				t.Errorf("card %q: length %d not in 1..%d", card, len(card), maxLen)
			}
			if strings.Trim(card, allowed) != "" {
				t.Errorf("card %q has characters outside %q", card, allowed)
			}
		}
	})
}
