package wiegand

import (
	"strings"
	"testing"
	"time"
)

// fuzzOpts are the configurations FuzzDecode picks from with its first
// byte.
var fuzzOpts = []Opts{
	{},
	{Lengths: []int{26}},
	{Lengths: []int{26, 34}},
	{Lengths: []int{34}},
	{Lengths: []int{35}},
	{Lengths: []int{37}},
	{Lengths: []int{37}, H10302: true},
	{Lengths: []int{26, 32}},
	{Lengths: []int{4, 8}, Gap: 5 * time.Millisecond},
	{Lengths: []int{26, 34, 35, 37}, Gap: 40 * time.Millisecond},
}

// fuzzEdges turns fuzz input into edges: two bytes an edge. In the first,
// bit 0 is the bit; bits 1-2 choose how the time moves: 0, b×10 µs later;
// 1, b×250 µs later (gaps); 2, as 0 but with 1 to 4 edges lost first; 3,
// b µs earlier (a clock step). Bit 5 asks for a Flush before the edge. b is
// the second byte.
func fuzzEdges(data []byte) (edges []Edge, flush []bool) {
	t := time.Hour
	seq := uint64(0)
	for ; len(data) >= 2; data = data[2:] {
		b0, b1 := data[0], time.Duration(data[1])
		seq++
		switch b0 >> 1 & 3 {
		case 0:
			t += b1*10*time.Microsecond + time.Duration(b0>>3)*time.Microsecond
		case 1:
			t += b1 * 250 * time.Microsecond
		case 2:
			t += b1*10*time.Microsecond + time.Duration(b0>>3)*time.Microsecond
			seq += 1 + uint64(b0>>3&3)
		case 3:
			t -= b1 * time.Microsecond
		}
		edges = append(edges, Edge{Time: t, Bit: b0 & 1, Seq: seq})
		flush = append(flush, b0&(1<<5) != 0)
	}
	return edges, flush
}

// fuzzInput encodes a frame as fuzz input: bits 1 ms apart, after a 64 ms
// gap.
func fuzzInput(config byte, frame string) []byte {
	data := []byte{config}
	for i, c := range frame {
		b0, b1 := byte(c-'0'), byte(100)
		if i == 0 {
			b0, b1 = b0|2, 255
		}
		data = append(data, b0, b1)
	}
	return data
}

func FuzzDecode(f *testing.F) {
	for _, tc := range formatCases {
		frame := specEncode(tc.format, tc.facility, tc.number)
		for config, o := range fuzzOpts {
			f.Add(fuzzInput(byte(config), frame))
			if len(o.Lengths) == 1 && o.Lengths[0] == len(frame) {
				bad := []byte(frame)
				bad[len(bad)/2] ^= 1
				f.Add(fuzzInput(byte(config), string(bad)))
				f.Add(append(fuzzInput(byte(config), frame), fuzzInput(byte(config), frame)[1:]...))
			}
		}
	}
	f.Add([]byte{2, 1, 0, 0, 0, 1, 1})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		opts := fuzzOpts[int(data[0])%len(fuzzOpts)]
		d, err := NewDecoder(&opts)
		if err != nil {
			t.Fatal(err)
		}
		edges, flush := fuzzEdges(data[1:])
		var cards []Card
		var fed strings.Builder
		for i, e := range edges {
			if flush[i] {
				if c, ok := d.Flush(e.Time); ok {
					cards = append(cards, c)
				}
			}
			if c, ok := d.Feed(e); ok {
				cards = append(cards, c)
			}
			fed.WriteByte('0' + e.Bit)
		}
		if dl, ok := d.Deadline(); ok {
			if c, ok := d.Flush(dl); ok {
				cards = append(cards, c)
			}
		}

		lengths := opts.Lengths
		if len(lengths) == 0 {
			lengths = defaultLengths
		}
		for _, c := range cards {
			checkCard(t, c, lengths, opts.H10302, fed.String())
		}
		st := d.Stats()
		if st.Frames != uint64(len(cards)) {
			t.Errorf("Stats().Frames = %d, but %d cards came out", st.Frames, len(cards))
		}
		if d.Pending() != 0 {
			t.Errorf("Pending() = %d after the final Flush", d.Pending())
		}
	})
}

// checkCard fails unless c re-encodes to a frame of a configured length
// with good parity, made of bits that were fed in a row.
func checkCard(t *testing.T, c Card, lengths []int, h10302 bool, fed string) {
	t.Helper()
	ok := false
	for _, n := range lengths {
		ok = ok || n == c.Bits
	}
	if !ok {
		t.Fatalf("card %v: %d bits, not one of %v", c, c.Bits, lengths)
	}
	frame := frameBits(c.Raw, c.Bits)
	if len(frame) != c.Bits {
		t.Fatalf("card %v: Raw %#x longer than %d bits", c, c.Raw, c.Bits)
	}
	if !strings.Contains(fed, frame) {
		t.Fatalf("card %v: frame %s is not a run of the bits fed", c, frame)
	}
	want := map[int]string{26: FormatH10301, 34: FormatH10306, 35: FormatC1000, 37: FormatH10304}[c.Bits]
	if c.Bits == 37 && h10302 {
		want = FormatH10302
	}
	if want == "" {
		want = FormatRaw
	}
	if c.Format != want {
		t.Fatalf("card %v: format %s, want %s for %d bits", c, c.Format, want, c.Bits)
	}
	if c.Format == FormatRaw {
		if c.Number != c.Raw || c.Facility != 0 {
			t.Fatalf("raw card %v: Number and Facility must be Raw and 0", c)
		}
		return
	}
	if !specParityOK(c.Format, frame) {
		t.Fatalf("card %v: frame %s fails %s parity", c, frame, c.Format)
	}
	if got := specEncode(c.Format, c.Facility, c.Number); got != frame {
		t.Fatalf("card %v: re-encodes to %s, was %s", c, got, frame)
	}
}
