package wiegand

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// concat joins edge lists.
func concat(parts ...[]Edge) []Edge {
	var all []Edge
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func mustEncode(t testing.TB, format string, facility uint32, number uint64) (Card, string) {
	t.Helper()
	c, err := Encode(format, facility, number)
	if err != nil {
		t.Fatal(err)
	}
	return c, specEncode(format, facility, number)
}

func TestDecoderStreams(t *testing.T) {
	c26, f26 := mustEncode(t, FormatH10301, 12, 3456)
	c34, f34 := mustEncode(t, FormatH10306, 1000, 2000)
	c35, f35 := mustEncode(t, FormatC1000, 77, 99999)
	c37, f37 := mustEncode(t, FormatH10304, 4242, 424242)
	cp34, fp34 := prefixed34(t)
	bad26 := []byte(f26)
	bad26[5] ^= 1
	ms := time.Millisecond
	us := time.Microsecond
	s := time.Second

	for _, tc := range []struct {
		name  string
		opts  Opts
		edges []Edge
		want  []Card
		stats Stats
	}{
		{
			name:  "26 then 34 a few ms later, lengths 26 and 34",
			opts:  Opts{Lengths: []int{26, 34}},
			edges: concat(frameEdges(f26, s, 900*us, 1), frameEdges(f34, s+25*900*us+4*ms, 900*us, 27)),
			want:  []Card{c26, c34},
			stats: Stats{Frames: 2},
		},
		{
			name:  "34 then 26 a few ms later, lengths 26 and 34",
			opts:  Opts{Lengths: []int{26, 34}},
			edges: concat(frameEdges(f34, s, ms, 1), frameEdges(f26, s+33*ms+5*ms, ms, 35)),
			want:  []Card{c34, c26},
			stats: Stats{Frames: 2},
		},
		{
			name:  "34-bit frame whose 26-bit prefix has good parity",
			opts:  Opts{Lengths: []int{26, 34}},
			edges: frameEdges(fp34, s, 2*ms, 1),
			want:  []Card{cp34},
			stats: Stats{Frames: 1},
		},
		{
			name:  "gap only: every known format, 30 ms apart",
			opts:  Opts{},
			edges: concat(frameEdges(f26, 0, 2*ms, 1), frameEdges(f34, 100*ms, ms, 27), frameEdges(f35, 200*ms, 500*us, 61), frameEdges(f37, 300*ms, 200*us, 96)),
			want:  []Card{c26, c34, c35, c37},
			stats: Stats{Frames: 4},
		},
		{
			name:  "gap only merges frames closer than Gap",
			opts:  Opts{},
			edges: concat(frameEdges(f26, 0, 900*us, 1), frameEdges(f34, 25*900*us+4*ms, 900*us, 27)),
			stats: Stats{BadLength: 1},
		},
		{
			name:  "bad parity",
			opts:  Opts{Lengths: []int{26}},
			edges: frameEdges(string(bad26), 0, ms, 1),
			stats: Stats{BadParity: 1},
		},
		{
			name:  "unexpected length",
			opts:  Opts{Lengths: []int{26}},
			edges: concat(frameEdges(f34, 0, ms, 1), frameEdges(f26[:20], 100*ms, ms, 35)),
			stats: Stats{BadLength: 2},
		},
		{
			name:  "noise, then a card",
			opts:  Opts{Lengths: []int{26}},
			edges: concat(frameEdges("1", 0, ms, 1), frameEdges("010", 50*ms, 10*us, 2), frameEdges(f26, 100*ms, ms, 5)),
			want:  []Card{c26},
			stats: Stats{Noise: 2, Frames: 1},
		},
		{
			name:  "too long for MaxBits",
			opts:  Opts{Lengths: []int{64}},
			edges: frameEdges(strings.Repeat("1", 70), 0, ms, 1),
			stats: Stats{BadLength: 1},
		},
		{
			name: "lost edges inside a frame",
			opts: Opts{Lengths: []int{26}},
			edges: concat(
				frameEdges(f26[:10], 0, ms, 1),
				frameEdges(f26[10:], 10*ms, ms, 14), // 11, 12, 13 lost
				frameEdges(f26, 100*ms, ms, 30),
			),
			want:  []Card{c26},
			stats: Stats{Dropped: 1, Frames: 1, LostEdges: 3},
		},
		{
			// The lost edge may end the first frame or start the second.
			name: "lost edges between frames taint both",
			opts: Opts{Lengths: []int{26}},
			edges: concat(
				frameEdges(f26, 0, ms, 1),
				frameEdges(f26, 100*ms, ms, 28), // 27 lost
				frameEdges(f26, 200*ms, ms, 54),
			),
			want:  []Card{c26},
			stats: Stats{Dropped: 2, Frames: 1, LostEdges: 1},
		},
		{
			name:  "unnumbered edges",
			opts:  Opts{Lengths: []int{26}},
			edges: concat(frameEdges(f26, 0, ms, 0), frameEdges(f26, 100*ms, ms, 0)),
			want:  []Card{c26, c26},
			stats: Stats{Frames: 2},
		},
		{
			name:  "clock stepped back within a frame",
			opts:  Opts{Lengths: []int{26}},
			edges: concat(frameEdges(f26[:13], 10*s, ms, 1), frameEdges(f26[13:], 10*s-500*ms, ms, 14)),
			want:  []Card{c26},
			stats: Stats{Frames: 1},
		},
		{
			name:  "slow reader, 15 ms bit interval, long gap",
			opts:  Opts{Lengths: []int{35}, Gap: 50 * ms},
			edges: concat(frameEdges(f35, 0, 15*ms, 1), frameEdges(f35, 35*15*ms+60*ms, 15*ms, 36)),
			want:  []Card{c35, c35},
			stats: Stats{Frames: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cards, st, err := decodeAll(&tc.opts, tc.edges)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cards); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stats, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

// prefixed34 returns an H10306 card whose first 26 bits make a valid
// H10301 frame: a decoder expecting 26 or 34 bits must not stop at 26.
func prefixed34(t *testing.T) (Card, string) {
	// 320 ends in 0000: bits 14-17 keep bit 1 valid for both formats.
	for n := uint64(1); n < 1<<16; n++ {
		if f := specEncode(FormatH10306, 320, n); specParityOK(FormatH10301, f[:26]) {
			return mustEncode(t, FormatH10306, 320, n)
		}
	}
	t.Fatal("no H10306 card with a valid H10301 prefix")
	return Card{}, ""
}

func TestDeadline(t *testing.T) {
	_, f26 := mustEncode(t, FormatH10301, 1, 1)
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		opts     Opts
		interval time.Duration
		frame    string
		wait     time.Duration // after the last edge
	}{
		{"lengths set, 2 ms", Opts{Lengths: []int{26}}, 2 * ms, f26, 4 * ms},
		{"lengths set, 900 µs", Opts{Lengths: []int{26}}, 900 * time.Microsecond, f26, 1800 * time.Microsecond},
		{"lengths set, 200 µs: floor", Opts{Lengths: []int{26}}, 200 * time.Microsecond, f26, ms},
		{"lengths set, 20 ms: capped at gap", Opts{Lengths: []int{26}}, 20 * ms, f26, 25 * ms},
		{"no lengths: gap", Opts{}, 2 * ms, f26, 25 * ms},
		{"no lengths: custom gap", Opts{Gap: 40 * ms}, 2 * ms, f26, 40 * ms},
		{"length not reached", Opts{Lengths: []int{26}}, 2 * ms, f26[:25], 25 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDecoder(&tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Deadline(); ok {
				t.Fatal("Deadline() of a new decoder: ok, want none")
			}
			edges := frameEdges(tc.frame, time.Hour, tc.interval, 1)
			for _, e := range edges {
				if c, ok := d.Feed(e); ok {
					t.Fatalf("Feed(%v) = %v, want no card yet", e, c)
				}
			}
			last := edges[len(edges)-1].Time
			dl, ok := d.Deadline()
			if !ok || dl-last != tc.wait {
				t.Fatalf("Deadline() = last+%v, %t; want last+%v", dl-last, ok, tc.wait)
			}
			if d.Pending() != len(tc.frame) {
				t.Errorf("Pending() = %d, want %d", d.Pending(), len(tc.frame))
			}
			if c, ok := d.Flush(dl - 1); ok || d.Pending() == 0 {
				t.Errorf("Flush(deadline-1ns) = %v, %t; want the frame still pending", c, ok)
			}
			_, ok = d.Flush(dl)
			if want := len(tc.frame) == 26; ok != want {
				t.Errorf("Flush(deadline) ok = %t, want %t", ok, want)
			}
			if _, ok := d.Deadline(); ok {
				t.Error("Deadline() after Flush: ok, want none")
			}
		})
	}
}

// The frame ends at its deadline whether the caller flushes or the next
// edge tells: decoding depends on edge times only.
func TestFlushOrFeedAgree(t *testing.T) {
	_, f26 := mustEncode(t, FormatH10301, 9, 99)
	ms := time.Millisecond
	edges := concat(frameEdges(f26, 0, ms, 1), frameEdges(f26, 26*ms+3*ms, ms, 27))
	byFeed, st1, _ := decodeAll(&Opts{Lengths: []int{26}}, edges)

	d, _ := NewDecoder(&Opts{Lengths: []int{26}})
	var byFlush []Card
	for _, e := range edges {
		if dl, ok := d.Deadline(); ok && e.Time >= dl {
			if c, ok := d.Flush(e.Time); ok {
				byFlush = append(byFlush, c)
			}
		}
		if c, ok := d.Feed(e); ok {
			t.Fatalf("Feed after Flush returned %v", c)
		}
	}
	dl, _ := d.Deadline()
	if c, ok := d.Flush(dl); ok {
		byFlush = append(byFlush, c)
	}
	if diff := cmp.Diff(byFeed, byFlush); diff != "" {
		t.Errorf("cards by Feed vs by Flush (-feed +flush):\n%s", diff)
	}
	if len(byFeed) != 2 || st1.Frames != 2 {
		t.Errorf("got %d cards, stats %+v; want 2 frames", len(byFeed), st1)
	}
}

func TestOptsErrors(t *testing.T) {
	for _, o := range []Opts{
		{Lengths: []int{3}},
		{Lengths: []int{65}},
		{Lengths: []int{26, 26}},
		{Gap: -time.Millisecond},
		{BufferSize: 128},
		{BufferSize: 2048},
	} {
		if _, err := NewDecoder(&o); err == nil || !strings.HasPrefix(err.Error(), "wiegand: ") {
			t.Errorf("NewDecoder(%+v) error = %v, want a wiegand: error", o, err)
		}
		if _, err := New(nil, &o); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", o)
		}
	}
	if _, err := NewDecoder(nil); err != nil {
		t.Errorf("NewDecoder(nil) = %v", err)
	}
}
