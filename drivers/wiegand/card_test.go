package wiegand

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Hand-computed H10301 frames, from the format's definition.
var h10301Vectors = []struct {
	facility uint32
	number   uint64
	frame    string // P FFFFFFFF CCCCCCCCCCCCCCCC P
}{
	// 2-13 hold one 1: even parity sets bit 1. 14-25 hold one 1: odd
	// parity leaves bit 26 clear. 0x2020002.
	{1, 1, "1 00000001 0000000000000001 0"},
	// All zero: bit 1 clear, bit 26 set.
	{0, 0, "0 00000000 0000000000000000 1"},
	// Twelve ones on each side: bit 1 clear, bit 26 set.
	{255, 65535, "0 11111111 1111111111111111 1"},
	// 123 = 01111011, 45678 = 1011001001101110. 2-13 hold 9 ones: bit 1
	// set; 14-25 hold 6: bit 26 set. 0x2F764DD.
	{123, 45678, "1 01111011 1011001001101110 1"},
}

func TestH10301Vectors(t *testing.T) {
	for _, v := range h10301Vectors {
		frame := strings.ReplaceAll(v.frame, " ", "")
		t.Run(fmt.Sprintf("%d:%d", v.facility, v.number), func(t *testing.T) {
			if got := specEncode(FormatH10301, v.facility, v.number); got != frame {
				t.Errorf("specEncode = %s, want %s", got, frame)
			}
			c, err := Encode(FormatH10301, v.facility, v.number)
			if err != nil {
				t.Fatal(err)
			}
			if got := frameBits(c.Raw, 26); got != frame {
				t.Errorf("Encode(H10301, %d, %d).Raw = %s, want %s", v.facility, v.number, got, frame)
			}
			cards, _, err := decodeAll(&Opts{Lengths: []int{26}}, frameEdges(frame, time.Second, time.Millisecond, 1))
			if err != nil {
				t.Fatal(err)
			}
			want := []Card{{Format: FormatH10301, Bits: 26, Facility: v.facility, Number: v.number, Raw: c.Raw}}
			if diff := cmp.Diff(want, cards); diff != "" {
				t.Errorf("decode(%s) (-want +got):\n%s", frame, diff)
			}
		})
	}
	if c, _ := Encode(FormatH10301, 1, 1); c.Raw != 0x2020002 {
		t.Errorf("Encode(H10301, 1, 1).Raw = %#x, want 0x2020002", c.Raw)
	}
	if c, _ := Encode(FormatH10301, 123, 45678); c.Raw != 0x2F764DD {
		t.Errorf("Encode(H10301, 123, 45678).Raw = %#x, want 0x2F764DD", c.Raw)
	}
}

// formatCases are cards of every format, at the edges of their ranges.
var formatCases = []struct {
	format   string
	facility uint32
	number   uint64
}{
	{FormatH10301, 0, 0},
	{FormatH10301, 1, 1},
	{FormatH10301, 18, 12345},
	{FormatH10301, 255, 65535},
	{FormatH10306, 0, 0},
	{FormatH10306, 1, 1},
	{FormatH10306, 40000, 12345},
	{FormatH10306, 65535, 65535},
	{FormatC1000, 0, 0},
	{FormatC1000, 1, 1},
	{FormatC1000, 2047, 524287},
	{FormatC1000, 4095, 1048575},
	{FormatC1000, 1234, 987654},
	{FormatH10304, 0, 0},
	{FormatH10304, 1, 1},
	{FormatH10304, 65535, 524287},
	{FormatH10304, 3571, 300001},
	{FormatH10302, 0, 0},
	{FormatH10302, 0, 1},
	{FormatH10302, 0, 1<<35 - 1},
	{FormatH10302, 0, 12345678901},
}

func TestFormats(t *testing.T) {
	for _, tc := range formatCases {
		t.Run(specID(tc.format, tc.facility, tc.number), func(t *testing.T) {
			frame := specEncode(tc.format, tc.facility, tc.number)
			c, err := Encode(tc.format, tc.facility, tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if got := frameBits(c.Raw, len(frame)); got != frame {
				t.Errorf("Encode.Raw = %s, want %s", got, frame)
			}
			opts := &Opts{Lengths: []int{len(frame)}, H10302: tc.format == FormatH10302}
			cards, st, err := decodeAll(opts, frameEdges(frame, time.Second, time.Millisecond, 7))
			if err != nil {
				t.Fatal(err)
			}
			want := []Card{c}
			if diff := cmp.Diff(want, cards); diff != "" {
				t.Fatalf("decode(%s) (-want +got):\n%s", frame, diff)
			}
			if got, want := cards[0].String(), specID(tc.format, tc.facility, tc.number); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if diff := cmp.Diff(Stats{Frames: 1}, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}

			// Every bit is covered by a parity bit: no single-bit error
			// makes a card.
			for i := range frame {
				bad := []byte(frame)
				bad[i] ^= 1
				cards, st, _ := decodeAll(opts, frameEdges(string(bad), time.Second, time.Millisecond, 7))
				if len(cards) != 0 || st != (Stats{BadParity: 1}) {
					t.Errorf("decode(%s, bit %d flipped) = %v, %+v; want no card, one BadParity", bad, i+1, cards, st)
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		format   string
		facility uint32
		number   uint64
	}{
		{"H99999", 0, 0},
		{FormatRaw, 0, 0},
		{FormatH10301, 256, 0},
		{FormatH10301, 0, 65536},
		{FormatH10306, 65536, 0},
		{FormatC1000, 4096, 0},
		{FormatC1000, 0, 1 << 20},
		{FormatH10304, 0, 1 << 19},
		{FormatH10302, 1, 0},
		{FormatH10302, 0, 1 << 35},
	} {
		c, err := Encode(tc.format, tc.facility, tc.number)
		if err == nil || !strings.HasPrefix(err.Error(), "wiegand: ") {
			t.Errorf("Encode(%q, %d, %d) = %v, %v; want a wiegand: error", tc.format, tc.facility, tc.number, c, err)
		}
	}
}

func TestCardString(t *testing.T) {
	for _, tc := range []struct {
		c    Card
		want string
	}{
		{Card{Format: FormatH10301, Bits: 26, Facility: 123, Number: 45678}, "H10301:123:45678"},
		{Card{Format: FormatH10306, Bits: 34, Facility: 0, Number: 7}, "H10306:0:7"},
		{Card{Format: FormatC1000, Bits: 35, Facility: 4095, Number: 1048575}, "C1000:4095:1048575"},
		{Card{Format: FormatH10304, Bits: 37, Facility: 1, Number: 2}, "H10304:1:2"},
		{Card{Format: FormatH10302, Bits: 37, Number: 12345678901}, "H10302:12345678901"},
		{Card{Format: FormatRaw, Bits: 32, Number: 0xc0ffee, Raw: 0xc0ffee}, "RAW32:00c0ffee"},
		{Card{Format: FormatRaw, Bits: 5, Number: 3, Raw: 3}, "RAW5:03"},
		{Card{Format: FormatRaw, Bits: 64, Number: 1<<64 - 1, Raw: 1<<64 - 1}, "RAW64:ffffffffffffffff"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestRawLengths(t *testing.T) {
	frame := "10110011100011110000111110000011" // 32 bits, no parity
	cards, st, err := decodeAll(&Opts{Lengths: []int{32}}, frameEdges(frame, 0, 2*time.Millisecond, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := []Card{{Format: FormatRaw, Bits: 32, Number: 0xb38f0f83, Raw: 0xb38f0f83}}
	if diff := cmp.Diff(want, cards); diff != "" {
		t.Errorf("decode raw 32 (-want +got):\n%s", diff)
	}
	if got := cards[0].String(); got != "RAW32:b38f0f83" {
		t.Errorf("String() = %q, want RAW32:b38f0f83", got)
	}
	if st != (Stats{Frames: 1}) {
		t.Errorf("stats = %+v, want one frame", st)
	}
}
