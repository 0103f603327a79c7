package wiegand

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file restates the formats from HID's descriptions, independently of
// card.go, so that tests compare the decoder against the definitions and
// not against itself. Positions are 1-based, bit 1 being the first sent.

type specParity struct {
	pos  int
	odd  bool
	over func(p int) bool // the positions covered, pos excluded
}

type specFormat struct {
	bits           int
	facPos, facLen int
	numPos, numLen int
	parity         []specParity // in encoding order
}

func between(a, b int) func(int) bool { return func(p int) bool { return p >= a && p <= b } }

var specFormats = map[string]specFormat{
	// H10301: P(even, 2-13) FFFFFFFF CCCCCCCCCCCCCCCC P(odd, 14-25).
	FormatH10301: {26, 2, 8, 10, 16, []specParity{
		{1, false, between(2, 13)}, {26, true, between(14, 25)},
	}},
	// H10306: P(even, 2-17) F×16 C×16 P(odd, 18-33).
	FormatH10306: {34, 2, 16, 18, 16, []specParity{
		{1, false, between(2, 17)}, {34, true, between(18, 33)},
	}},
	// Corporate 1000: P1(odd, 1-35) P2(even, 3-4 6-7 ... 33-34) company×12
	// C×20 P35(odd, 2-3 5-6 ... 32-33).
	FormatC1000: {35, 3, 12, 15, 20, []specParity{
		{2, false, func(p int) bool { return p >= 3 && p <= 34 && p%3 != 2 }},
		{35, true, func(p int) bool { return p >= 2 && p <= 33 && p%3 != 1 }},
		{1, true, between(2, 35)},
	}},
	// H10304: P(even, 2-19) F×16 C×19 P(odd, 19-36).
	FormatH10304: {37, 2, 16, 18, 19, []specParity{
		{1, false, between(2, 19)}, {37, true, between(19, 36)},
	}},
	// H10302: P(even, 2-19) C×35 P(odd, 19-36).
	FormatH10302: {37, 0, 0, 2, 35, []specParity{
		{1, false, between(2, 19)}, {37, true, between(19, 36)},
	}},
}

// specEncode returns the frame of a card as a string of '0' and '1', first
// bit first.
func specEncode(format string, facility uint32, number uint64) string {
	f, ok := specFormats[format]
	if !ok {
		panic("no format " + format)
	}
	b := make([]byte, f.bits+1) // b[p] is position p
	for i := range b {
		b[i] = '0'
	}
	put := func(pos, n int, v uint64) {
		for i := 0; i < n; i++ {
			if v>>(n-1-i)&1 == 1 {
				b[pos+i] = '1'
			}
		}
	}
	put(f.facPos, f.facLen, uint64(facility))
	put(f.numPos, f.numLen, number)
	for _, p := range f.parity {
		ones := 0
		for q := 1; q <= f.bits; q++ {
			if q != p.pos && p.over(q) && b[q] == '1' {
				ones++
			}
		}
		if (ones%2 == 1) != p.odd {
			b[p.pos] = '1'
		}
	}
	return string(b[1:])
}

// specParityOK reports whether every parity bit of frame holds.
func specParityOK(format, frame string) bool {
	f := specFormats[format]
	if len(frame) != f.bits {
		return false
	}
	for _, p := range f.parity {
		ones := 0
		for q := 1; q <= f.bits; q++ {
			if (q == p.pos || p.over(q)) && frame[q-1] == '1' {
				ones++
			}
		}
		if (ones%2 == 1) != p.odd {
			return false
		}
	}
	return true
}

// specID is the documented Card.String of a card.
func specID(format string, facility uint32, number uint64) string {
	if specFormats[format].facLen == 0 {
		return fmt.Sprintf("%s:%d", format, number)
	}
	return fmt.Sprintf("%s:%d:%d", format, facility, number)
}

// frameBits returns the n low bits of v as a string of '0' and '1'.
func frameBits(v uint64, n int) string {
	s := strconv.FormatUint(v, 2)
	return strings.Repeat("0", max(n-len(s), 0)) + s
}

// frameEdges turns a frame string into edges every interval from start,
// numbered from seq; seq 0 leaves them unnumbered.
func frameEdges(frame string, start, interval time.Duration, seq uint64) []Edge {
	e := make([]Edge, len(frame))
	for i, c := range frame {
		e[i] = Edge{Time: start + time.Duration(i)*interval, Bit: uint8(c - '0')}
		if seq != 0 {
			e[i].Seq = seq + uint64(i)
		}
	}
	return e
}

// decodeAll feeds edges to a new Decoder and flushes it at the end.
func decodeAll(opts *Opts, edges []Edge) ([]Card, Stats, error) {
	d, err := NewDecoder(opts)
	if err != nil {
		return nil, Stats{}, err
	}
	var cards []Card
	for _, e := range edges {
		if c, ok := d.Feed(e); ok {
			cards = append(cards, c)
		}
	}
	if dl, ok := d.Deadline(); ok {
		if c, ok := d.Flush(dl); ok {
			cards = append(cards, c)
		}
	}
	return cards, d.Stats(), nil
}
