package wiegand

import (
	"fmt"
	"math/bits"
	"strconv"
)

// Format names, as found in Card.Format.
const (
	// FormatH10301 is the standard 26-bit format: 8-bit facility code,
	// 16-bit card number.
	FormatH10301 = "H10301"
	// FormatH10306 is the 34-bit format: 16-bit facility code, 16-bit card
	// number.
	FormatH10306 = "H10306"
	// FormatC1000 is HID's 35-bit Corporate 1000: 12-bit company ID (kept in
	// Card.Facility), 20-bit card number.
	FormatC1000 = "C1000"
	// FormatH10304 is the 37-bit format with a 16-bit facility code and a
	// 19-bit card number.
	FormatH10304 = "H10304"
	// FormatH10302 is the 37-bit format with a 35-bit card number and no
	// facility code.
	FormatH10302 = "H10302"
	// FormatRaw is any other configured length, taken as is: Card.Number is
	// the whole frame and no parity is checked.
	FormatRaw = "RAW"
)

// MaxBits is the longest frame the decoder accepts.
const MaxBits = 64

// Card is one decoded frame.
//
// Two cards are the same credential when they are ==, or when their String
// values are equal.
type Card struct {
	// Format is one of the Format constants.
	Format string
	// Bits is the frame length, parity bits included.
	Bits int
	// Facility is the facility code (the company ID for FormatC1000); zero
	// for formats without one.
	Facility uint32
	// Number is the card number; for FormatRaw, the whole frame.
	Number uint64
	// Raw is the whole frame as received, parity included, the first bit
	// received being the most significant of the Bits low bits.
	Raw uint64
}

// String returns a stable identifier for the card, fit to be stored and
// compared:
//
//   - "FORMAT:FACILITY:NUMBER" in decimal for formats with a facility code,
//     e.g. "H10301:123:45678", "H10306:...", "C1000:...", "H10304:...";
//   - "H10302:NUMBER" for H10302, which has no facility code;
//   - "RAWn:HEX" for raw frames of n bits, the whole frame in lower-case
//     hexadecimal padded to (n+3)/4 digits, e.g. "RAW32:00c0ffee".
func (c Card) String() string {
	if c.Format == FormatRaw {
		h := strconv.FormatUint(c.Raw, 16)
		for w := (c.Bits + 3) / 4; len(h) < w; {
			h = "0" + h
		}
		return "RAW" + strconv.Itoa(c.Bits) + ":" + h
	}
	b := make([]byte, 0, 32)
	b = append(b, c.Format...)
	b = append(b, ':')
	if f := formatByName(c.Format); f == nil || f.fac.len > 0 {
		b = strconv.AppendUint(b, uint64(c.Facility), 10)
		b = append(b, ':')
	}
	b = strconv.AppendUint(b, c.Number, 10)
	return string(b)
}

// field is a run of bits in a frame; pos is the 1-based position of its
// first (most significant) bit, counted from the first bit received, as the
// format definitions number them.
type field struct{ pos, len int }

// parityBit is the parity bit at pos covering the positions in over (pos
// itself excluded): the count of ones over pos and over is odd when odd is
// set, even otherwise.
type parityBit struct {
	pos  int
	over []int
	odd  bool
}

type format struct {
	name     string
	bits     int
	fac, num field
	// parity lists the parity bits in the order an encoder sets them: a bit
	// covering another parity bit comes after it.
	parity []parityBit
	// masks[i] covers parity[i].pos and parity[i].over, in frame bit order.
	masks []uint64
}

// span returns the positions from a to b inclusive.
func span(a, b int) []int {
	p := make([]int, 0, b-a+1)
	for i := a; i <= b; i++ {
		p = append(p, i)
	}
	return p
}

// c1000Pairs returns the positions from a to b that are not skipped when
// every third position, starting at a+2, is left out: a, a+1, a+3, a+4...
func c1000Pairs(a, b int) []int {
	var p []int
	for i := a; i <= b; i++ {
		if (i-a)%3 != 2 {
			p = append(p, i)
		}
	}
	return p
}

// The formats, from HID's format descriptions (see the package doc).
var formats = []*format{
	{
		name: FormatH10301, bits: 26,
		fac: field{2, 8}, num: field{10, 16},
		parity: []parityBit{
			{pos: 1, over: span(2, 13)},
			{pos: 26, over: span(14, 25), odd: true},
		},
	},
	{
		name: FormatH10306, bits: 34,
		fac: field{2, 16}, num: field{18, 16},
		parity: []parityBit{
			{pos: 1, over: span(2, 17)},
			{pos: 34, over: span(18, 33), odd: true},
		},
	},
	{
		name: FormatC1000, bits: 35,
		fac: field{3, 12}, num: field{15, 20},
		parity: []parityBit{
			{pos: 2, over: c1000Pairs(3, 34)},             // 3-4, 6-7 ... 33-34
			{pos: 35, over: c1000Pairs(2, 33), odd: true}, // 2-3, 5-6 ... 32-33
			{pos: 1, over: span(2, 35), odd: true},        // the whole frame
		},
	},
	{
		name: FormatH10304, bits: 37,
		fac: field{2, 16}, num: field{18, 19},
		parity: []parityBit{
			{pos: 1, over: span(2, 19)},
			{pos: 37, over: span(19, 36), odd: true},
		},
	},
	{
		name: FormatH10302, bits: 37,
		num: field{2, 35},
		parity: []parityBit{
			{pos: 1, over: span(2, 19)},
			{pos: 37, over: span(19, 36), odd: true},
		},
	},
}

func init() {
	for _, f := range formats {
		for _, p := range f.parity {
			m := bitAt(f.bits, p.pos)
			for _, q := range p.over {
				m |= bitAt(f.bits, q)
			}
			f.masks = append(f.masks, m)
		}
	}
}

func formatByName(name string) *format {
	for _, f := range formats {
		if f.name == name {
			return f
		}
	}
	return nil
}

// bitAt returns the mask of the 1-based position pos in an n-bit frame.
func bitAt(n, pos int) uint64 { return 1 << (n - pos) }

func (f field) get(n int, v uint64) uint64 {
	if f.len == 0 {
		return 0
	}
	return v >> (n - (f.pos + f.len - 1)) & (1<<f.len - 1)
}

func (f field) set(n int, v, x uint64) uint64 {
	return v | x<<(n-(f.pos+f.len-1))
}

// parityOK reports whether every parity bit of the frame v holds.
func (f *format) parityOK(v uint64) bool {
	for i, p := range f.parity {
		if bits.OnesCount64(v&f.masks[i])&1 == 1 != p.odd {
			return false
		}
	}
	return true
}

// card decodes the frame v, which must be f.bits long.
func (f *format) card(v uint64) Card {
	return Card{
		Format:   f.name,
		Bits:     f.bits,
		Facility: uint32(f.fac.get(f.bits, v)),
		Number:   f.num.get(f.bits, v),
		Raw:      v,
	}
}

// Encode returns the card of the given format with its frame, parity bits
// set, in Raw. It is the inverse of decoding, for tests and simulators.
// FormatRaw cannot be encoded: a raw card is its frame.
func Encode(format string, facility uint32, number uint64) (Card, error) {
	f := formatByName(format)
	if f == nil {
		return Card{}, fmt.Errorf("wiegand: encode: unknown format %q", format)
	}
	if uint64(facility) >= 1<<f.fac.len {
		return Card{}, fmt.Errorf("wiegand: encode: facility %d does not fit %s's %d bits", facility, format, f.fac.len)
	}
	if number >= 1<<f.num.len {
		return Card{}, fmt.Errorf("wiegand: encode: number %d does not fit %s's %d bits", number, format, f.num.len)
	}
	var v uint64
	if f.fac.len > 0 {
		v = f.fac.set(f.bits, v, uint64(facility))
	}
	v = f.num.set(f.bits, v, number)
	for i, p := range f.parity {
		if bits.OnesCount64(v&f.masks[i])&1 == 1 != p.odd {
			v |= bitAt(f.bits, p.pos)
		}
	}
	return f.card(v), nil
}
