package hidreader

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Key codes the tests use besides those in keys, hexKeys and keyNames.
const (
	keyLeftShift = 42
	keyNumLock   = 69
	keySpace     = 57
	evMsc        = 0x04
	mscScan      = 0x04
)

const ms = time.Millisecond

// codeOf returns the main-row key code typing r: digits, letters, '\n' for
// Enter, '\t' for Tab, ' ' for Space.
func codeOf(r rune) uint16 {
	switch r {
	case '\n':
		return keyEnter
	case '\t':
		return keyTab
	case ' ':
		return keySpace
	}
	for code, c := range keys {
		if rune(c) == r && (code < 71 || code > 82) { // not the keypad
			return code
		}
	}
	for code, name := range keyNames {
		if name == string(r) {
			return code
		}
	}
	panic("no key for " + string(r))
}

// stroke is what a keyboard sends for one key at time at: scan code,
// press, sync, scan code, release, sync.
func stroke(code uint16, at time.Duration) []event {
	return []event{
		{evMsc, mscScan, 0x70000 + int32(code), at}, {evKey, code, 1, at}, {evSyn, 0, 0, at},
		{evMsc, mscScan, 0x70000 + int32(code), at}, {evKey, code, 0, at}, {evSyn, 0, 0, at},
	}
}

// typed types s on the main row, all at time 0.
func typed(s string) []event { return typedAt(s, 0, 0) }

// typedAt types s on the main row, the first key at start and each next one
// step later, as a reader or a person does.
func typedAt(s string, start, step time.Duration) []event {
	var evs []event
	for i, r := range []rune(s) {
		evs = append(evs, stroke(codeOf(r), start+time.Duration(i)*step)...)
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
		evs = append(evs, stroke(code, 0)...)
	}
	return evs
}

func press(code uint16, at time.Duration) event   { return event{evKey, code, 1, at} }
func release(code uint16, at time.Duration) event { return event{evKey, code, 0, at} }

var dropped = []event{{evSyn, synDropped, 0, 0}}

func cat(parts ...[]event) []event {
	var evs []event
	for _, p := range parts {
		evs = append(evs, p...)
	}
	return evs
}

const (
	noEnter = "no Enter within 200ms of the last key"
	noTab   = "no Tab within 200ms of the last key"
)

// decoderTests: o is the decoder's options; a zero timeout means untimed
// events (all at 0), so no line expires.
var decoderTests = []struct {
	name        string
	maxLen      int
	hex         bool
	term        Terminator
	timeout     time.Duration
	events      []event
	want        []string
	wantRejects []string
}{
	{name: "digits", events: typed("0123456789\n"), want: []string{"0123456789"}},
	{name: "two cards", events: typed("12\n34\n"), want: []string{"12", "34"}},
	{name: "keypad", events: keypad("4711\n"), want: []string{"4711"}},
	{name: "keypad and main row", events: cat(typed("12"), keypad("34"), typed("\n")), want: []string{"1234"}},
	{name: "no enter no card", events: typed("1234")},
	{name: "empty lines dropped", events: typed("\n\n5\n"), want: []string{"5"}},
	{name: "max length", maxLen: 4, events: typed("1234\n"), want: []string{"1234"}},
	{name: "too long rejected whole", maxLen: 4, events: typed("12345\n6\n"), want: []string{"6"}, wantRejects: []string{"longer than 4 characters"}},
	{name: "far too long rejected whole", maxLen: 4, events: typed("123456789\n6\n"), want: []string{"6"}, wantRejects: []string{"longer than 4 characters"}},
	// Dropping the letters would read 12AB3 as 123, another card's number.
	{name: "letters rejected without hex", events: typed("12AB3\n123\n"), want: []string{"123"}, wantRejects: []string{"unexpected key A (code 30)"}},
	{name: "hex", hex: true, events: typed("04A3F2BCDE\n"), want: []string{"04A3F2BCDE"}},
	{name: "letter beyond F rejected in hex", hex: true, events: typed("04G1\n"), wantRejects: []string{"unexpected key G (code 34)"}},
	{name: "shift ignored", hex: true, events: cat(
		[]event{press(keyLeftShift, 0)}, typed("AB"), []event{release(keyLeftShift, 0)}, typed("\n"),
	), want: []string{"AB"}},
	{name: "num lock ignored", events: cat(stroke(keyNumLock, 0), keypad("42\n")), want: []string{"42"}},
	{name: "space rejects the line", events: cat(typed("1"), stroke(keySpace, 0), typed("2\n")), wantRejects: []string{"unexpected key Space (code 57)"}},
	{name: "unnamed key", events: cat(typed("1"), stroke(200, 0), typed("\n")), wantRejects: []string{"unexpected key code 200"}},
	{name: "autorepeat ignored", events: cat(
		[]event{press(2, 0), {evKey, 2, 2, 0}, {evKey, 2, 2, 0}, release(2, 0)}, typed("\n"),
	), want: []string{"1"}},
	{name: "releases ignored", events: []event{release(2, 0), release(keyEnter, 0)}},
	{name: "dropped events reject the line", events: cat(typed("12"), dropped, typed("34\n56\n")), want: []string{"56"},
		wantRejects: []string{"events lost by the kernel (SYN_DROPPED)"}},
	{name: "dropped after enter rejects the next line", events: cat(typed("12\n"), dropped, typed("34\n56\n")), want: []string{"12", "56"},
		wantRejects: []string{"events lost by the kernel (SYN_DROPPED)"}},

	{name: "tab terminator", term: TermTab, events: typed("1234\t5678\t"), want: []string{"1234", "5678"}},
	{name: "enter on a tab reader rejects", term: TermTab, events: typed("1234\n5678\t"), wantRejects: []string{"unexpected key Enter (code 28)"}},
	{name: "tab on an enter reader rejects", events: typed("1234\t\n"), wantRejects: []string{"unexpected key Tab (code 15)"}},

	{name: "reader types fast", timeout: 200 * ms, events: typedAt("0012345678\n", 0, 8*ms), want: []string{"0012345678"}},
	{name: "gap exactly the timeout", timeout: 200 * ms, events: typedAt("12\n", 0, 200*ms), want: []string{"12"}},
	// A person typing slowly at a keyboard gets no card: each key more
	// than 200 ms after the one before ends the line.
	{name: "slow typist", timeout: 200 * ms, events: typedAt("1234\n", 0, 300*ms),
		wantRejects: []string{noEnter, noEnter, noEnter, noEnter}},
	{name: "slow typist on a tab reader", term: TermTab, timeout: 200 * ms, events: typedAt("12\t", 0, 201*ms),
		wantRejects: []string{noTab, noTab}},
	{name: "late terminator", timeout: 200 * ms, events: cat(typedAt("1234", 0, 5*ms), typedAt("\n", 500*ms, 0)),
		wantRejects: []string{noEnter}},
	// The Enter of the first card is lost: its digits must not become the
	// start of the second card's number.
	{name: "lost enter never joins two cards", timeout: 200 * ms, events: cat(typedAt("1234", 0, 5*ms), typedAt("5678\n", 2*time.Second, 5*ms)),
		want: []string{"5678"}, wantRejects: []string{noEnter}},
	{name: "bad line then a good one after a pause", timeout: 200 * ms, events: cat(typedAt("12X", 0, 5*ms), typedAt("5678\n", time.Second, 5*ms)),
		want: []string{"5678"}, wantRejects: []string{"unexpected key X (code 45)"}},
	{name: "lost events, then a card after a pause", timeout: 200 * ms,
		events: cat(typedAt("12", 0, 5*ms), []event{{evSyn, synDropped, 0, 10 * ms}}, typedAt("5678\n", time.Second, 5*ms)),
		want:   []string{"5678"}, wantRejects: []string{"events lost by the kernel (SYN_DROPPED)"}},
	{name: "clock step backwards ends the line", timeout: 200 * ms, events: cat(typedAt("12", time.Hour, 5*ms), typedAt("34\n", 0, 5*ms)),
		want: []string{"34"}, wantRejects: []string{noEnter}},
}

func TestDecoder(t *testing.T) {
	for _, tt := range decoderTests {
		t.Run(tt.name, func(t *testing.T) {
			maxLen, term := tt.maxLen, tt.term
			if maxLen == 0 {
				maxLen = 32
			}
			if term == "" {
				term = TermEnter
			}
			d := newDecoder(maxLen, tt.hex, term, tt.timeout)
			var got, rejects []string
			for _, e := range tt.events {
				card, rejected := d.feed(e)
				if card != "" && rejected != "" {
					t.Fatalf("feed(%+v) = %q, %q: a card and a rejection at once", e, card, rejected)
				}
				if card != "" {
					got = append(got, card)
				}
				if rejected != "" {
					rejects = append(rejects, rejected)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRejects, rejects); diff != "" {
				t.Errorf("rejections (-want +got):\n%s", diff)
			}
		})
	}
}

// encode lays out events as the kernel does for a word-byte long.
func encode(word int, evs []event) []byte {
	size := 2*word + 8
	b := make([]byte, len(evs)*size)
	for i, e := range evs {
		p := b[i*size:]
		sec, usec := e.at/time.Second, e.at%time.Second/time.Microsecond
		if word == 8 {
			binary.NativeEndian.PutUint64(p[0:], uint64(sec))
			binary.NativeEndian.PutUint64(p[8:], uint64(usec))
		} else {
			binary.NativeEndian.PutUint32(p[0:], uint32(sec))
			binary.NativeEndian.PutUint32(p[4:], uint32(usec))
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
		{"32-bit key press", 4, 16, event{evKey, 2, 1, 1700000000*time.Second + 123456*time.Microsecond}},
		{"64-bit key press", 8, 24, event{evKey, 2, 1, 1700000000*time.Second + 999999*time.Microsecond}},
		{"32-bit negative value", 4, 16, event{3, 0, -12345, 5 * time.Second}},
		{"64-bit dropped", 8, 24, event{evSyn, synDropped, 0, 0}},
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
		f.Add(encode(wordSize, tt.events), uint8(tt.maxLen), tt.hex, tt.term == TermTab)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxLen uint8, hex, tab bool) {
		if maxLen == 0 {
			maxLen = 32
		}
		term := TermEnter
		if tab {
			term = TermTab
		}
		d := newDecoder(int(maxLen), hex, term, 200*time.Millisecond)
		allowed := "0123456789"
		if hex {
			allowed += "ABCDEF"
		}
		for off := 0; off+eventSize <= len(b); off += eventSize {
			card, rejected := d.feed(parseEvent(b[off:off+eventSize], wordSize))
			if card != "" && rejected != "" {
				t.Errorf("a card %q and a rejection %q from one event", card, rejected)
			}
			if card == "" {
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
