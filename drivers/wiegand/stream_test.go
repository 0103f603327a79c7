package wiegand

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.edges from the generator")

// An edge stream file (testdata/*.edges) holds, one per line:
//
//	# comment
//	opts lengths=26,34 gap=25ms h10302=false   the decoder's options
//	want H10301:12:3456                        a card expected, in order
//	stats frames=1 badparity=0 ...             the Stats expected at the end
//	1000000000 1 7                             an edge: time_ns bit seq
//
// The generator below writes them from the format definitions in
// spec_test.go, with a fixed seed; the outcome lines are the generator's
// intent, not the decoder's output.
type stream struct {
	desc  []string
	opts  Opts
	wants []string
	stats Stats
	edges []Edge
}

func (s *stream) marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# Wiegand edge stream: \"time_ns bit seq\" per edge (bit 0: D0, 1: D1).\n")
	b.WriteString("# Written by `go test -run TestStreamFiles -update`; do not edit.\n")
	for _, d := range s.desc {
		fmt.Fprintf(&b, "# %s\n", d)
	}
	var ls []string
	for _, n := range s.opts.Lengths {
		ls = append(ls, strconv.Itoa(n))
	}
	fmt.Fprintf(&b, "opts lengths=%s gap=%v h10302=%t\n", strings.Join(ls, ","), s.opts.Gap, s.opts.H10302)
	for _, w := range s.wants {
		fmt.Fprintf(&b, "want %s\n", w)
	}
	st := s.stats
	fmt.Fprintf(&b, "stats frames=%d badparity=%d badlength=%d noise=%d dropped=%d lost=%d\n",
		st.Frames, st.BadParity, st.BadLength, st.Noise, st.Dropped, st.LostEdges)
	for _, e := range s.edges {
		fmt.Fprintf(&b, "%d %d %d\n", int64(e.Time), e.Bit, e.Seq)
	}
	return b.Bytes()
}

func parseStream(data []byte) (*stream, error) {
	s := &stream{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		fields := strings.Fields(text)
		if len(fields) == 0 || strings.HasPrefix(text, "#") {
			continue
		}
		bad := func(err error) error { return fmt.Errorf("line %d: %q: %v", line, text, err) }
		switch fields[0] {
		case "opts":
			for _, kv := range fields[1:] {
				k, v, _ := strings.Cut(kv, "=")
				var err error
				switch k {
				case "lengths":
					for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' }) {
						var x int
						if x, err = strconv.Atoi(n); err == nil {
							s.opts.Lengths = append(s.opts.Lengths, x)
						}
					}
				case "gap":
					s.opts.Gap, err = time.ParseDuration(v)
				case "h10302":
					s.opts.H10302, err = strconv.ParseBool(v)
				default:
					err = fmt.Errorf("unknown option %q", k)
				}
				if err != nil {
					return nil, bad(err)
				}
			}
		case "want":
			s.wants = append(s.wants, fields[1])
		case "stats":
			for _, kv := range fields[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return nil, bad(err)
				}
				switch k {
				case "frames":
					s.stats.Frames = n
				case "badparity":
					s.stats.BadParity = n
				case "badlength":
					s.stats.BadLength = n
				case "noise":
					s.stats.Noise = n
				case "dropped":
					s.stats.Dropped = n
				case "lost":
					s.stats.LostEdges = n
				default:
					return nil, bad(fmt.Errorf("unknown counter %q", k))
				}
			}
		default:
			if len(fields) != 3 {
				return nil, bad(fmt.Errorf("want time_ns bit seq"))
			}
			t, err1 := strconv.ParseInt(fields[0], 10, 64)
			bit, err2 := strconv.ParseUint(fields[1], 10, 1)
			seq, err3 := strconv.ParseUint(fields[2], 10, 64)
			for _, err := range []error{err1, err2, err3} {
				if err != nil {
					return nil, bad(err)
				}
			}
			s.edges = append(s.edges, Edge{Time: time.Duration(t), Bit: uint8(bit), Seq: seq})
		}
	}
	return s, sc.Err()
}

// replay decodes edges as a reader would see them live: the frame under
// way is flushed at its deadline, before any later edge.
func replay(opts *Opts, edges []Edge) ([]string, Stats, error) {
	d, err := NewDecoder(opts)
	if err != nil {
		return nil, Stats{}, err
	}
	var ids []string
	for _, e := range edges {
		if dl, ok := d.Deadline(); ok && dl <= e.Time {
			if c, ok := d.Flush(dl); ok {
				ids = append(ids, c.String())
			}
		}
		if c, ok := d.Feed(e); ok {
			ids = append(ids, c.String())
		}
	}
	if dl, ok := d.Deadline(); ok {
		if c, ok := d.Flush(dl); ok {
			ids = append(ids, c.String())
		}
	}
	return ids, d.Stats(), nil
}

// gen writes one stream, with realistic timing.
type gen struct {
	rng *rand.Rand
	s   stream
	t   time.Duration
	seq uint64
}

func newGen(seed uint64, start time.Duration, opts Opts, desc ...string) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), t: start, s: stream{desc: desc, opts: opts}}
}

// between returns a random duration in [lo, hi).
func (g *gen) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)))
}

// pause lets lo to hi pass.
func (g *gen) pause(lo, hi time.Duration) { g.t += g.between(lo, hi) }

// edge emits one edge now.
func (g *gen) edge(bit uint8) {
	g.seq++
	g.s.edges = append(g.s.edges, Edge{Time: g.t, Bit: bit, Seq: g.seq})
}

// bits emits a frame's bits every interval, ±jitter (a fraction).
func (g *gen) bits(frame string, interval time.Duration, jitter float64) {
	for i, c := range frame {
		if i > 0 {
			j := 1 + jitter*(2*g.rng.Float64()-1)
			g.t += time.Duration(float64(interval) * j)
		}
		g.edge(uint8(c - '0'))
	}
}

// card emits a card that must decode.
func (g *gen) card(format string, facility uint32, number uint64, interval time.Duration) {
	g.bits(specEncode(format, facility, number), interval, 0.1)
	g.s.wants = append(g.s.wants, specID(format, facility, number))
	g.s.stats.Frames++
}

// randomCard emits a card of random identity.
func (g *gen) randomCard(format string, interval time.Duration) {
	f := specFormats[format]
	var fac uint32
	if f.facLen > 0 {
		fac = uint32(g.rng.Uint64N(1 << f.facLen))
	}
	g.card(format, fac, g.rng.Uint64N(1<<f.numLen), interval)
}

// noise emits a burst of 1 to 3 edges, tens of µs apart, as a relay or a
// long cable picks up.
func (g *gen) noise() {
	n := 1 + g.rng.IntN(3)
	for i := 0; i < n; i++ {
		if i > 0 {
			g.pause(5*time.Microsecond, 200*time.Microsecond)
		}
		g.edge(uint8(g.rng.IntN(2)))
	}
	g.s.stats.Noise++
}

// lose skips n sequence numbers, as when the kernel's buffer overflows.
func (g *gen) lose(n int) {
	g.seq += uint64(n)
	g.s.stats.LostEdges += uint64(n)
}

// streams returns the testdata streams, by file name.
func streams() map[string]*stream {
	const (
		us = time.Microsecond
		ms = time.Millisecond
	)
	boot := 3*time.Hour + 17*time.Minute + 1234567*time.Nanosecond // a monotonic clock
	all := map[string]*stream{}

	g := newGen(1, boot, Opts{Lengths: []int{26}},
		"H10301 cards at a 2 ms bit interval, ±10% jitter, 0.3-0.8 s apart.")
	g.card(FormatH10301, 1, 1, 2*ms)
	for i := 0; i < 6; i++ {
		g.pause(300*ms, 800*ms)
		g.randomCard(FormatH10301, 2*ms)
	}
	all["h10301_2ms.edges"] = &g.s

	g = newGen(2, boot, Opts{Lengths: []int{26, 34}},
		"A reader sending a 26-bit frame and, 3-6 ms later, a 34-bit one",
		"(and the other way round), at a 900 µs bit interval.")
	for i := 0; i < 4; i++ {
		first, second := FormatH10301, FormatH10306
		if i%2 == 1 {
			first, second = second, first
		}
		g.randomCard(first, 900*us)
		g.pause(3*ms, 6*ms)
		g.randomCard(second, 900*us)
		g.pause(200*ms, 400*ms)
	}
	all["close_26_34.edges"] = &g.s

	g = newGen(3, boot, Opts{Lengths: []int{26, 37}},
		"H10301 and H10304 at a 200 µs bit interval among noise bursts,",
		"a frame with a bit flipped, one cut short, one with a glitch inside.")
	for i := 0; i < 3; i++ {
		g.noise()
		g.pause(40*ms, 90*ms)
		g.randomCard(FormatH10304, 200*us)
		g.pause(40*ms, 90*ms)
		g.noise()
		g.pause(40*ms, 90*ms)
		g.randomCard(FormatH10301, 200*us)
		g.pause(40*ms, 90*ms)
	}
	bad := []byte(specEncode(FormatH10304, 1234, 56789))
	bad[20] ^= 1
	g.bits(string(bad), 200*us, 0.1)
	g.s.stats.BadParity++
	g.pause(50*ms, 90*ms)
	g.bits(specEncode(FormatH10301, 5, 55)[:19], 200*us, 0.1)
	g.s.stats.BadLength++
	g.pause(50*ms, 90*ms)
	glitched := specEncode(FormatH10301, 6, 66)
	g.bits(glitched[:10], 200*us, 0.1)
	g.pause(30*us, 60*us)
	g.edge(1)
	g.pause(150*us, 170*us)
	g.bits(glitched[10:], 200*us, 0.1)
	g.s.stats.BadLength++ // 27 bits
	g.pause(50*ms, 90*ms)
	g.randomCard(FormatH10301, 200*us)
	all["noise_200us.edges"] = &g.s

	g = newGen(4, boot, Opts{Lengths: []int{34}},
		"H10306 at 1 ms; the kernel drops edges inside one frame and at the",
		"head of another: both are discarded, the cards around them are not.")
	g.randomCard(FormatH10306, ms)
	g.pause(100*ms, 200*ms)
	lost := specEncode(FormatH10306, 777, 7777)
	g.bits(lost[:12], ms, 0.1)
	g.pause(ms, ms+1)
	g.lose(5)
	g.bits(lost[17:], ms, 0.1)
	g.s.stats.Dropped++
	g.pause(100*ms, 200*ms)
	g.randomCard(FormatH10306, ms)
	g.pause(100*ms, 200*ms)
	g.lose(2)
	g.bits(lost[2:], ms, 0.1)
	g.s.stats.Dropped++
	g.pause(100*ms, 200*ms)
	g.randomCard(FormatH10306, ms)
	all["dropped_1ms.edges"] = &g.s

	epoch := time.Duration(1764316800) * time.Second // a realtime clock
	g = newGen(5, epoch, Opts{},
		"No lengths configured: frames end after the 25 ms gap. Every known",
		"format, at 2 ms, 1 ms and 500 µs, on a realtime clock; a 32-bit",
		"frame, not expected, is discarded.")
	for _, iv := range []time.Duration{2 * ms, ms, 500 * us} {
		for _, f := range []string{FormatH10301, FormatH10306, FormatC1000, FormatH10304} {
			g.randomCard(f, iv)
			g.pause(60*ms, 300*ms)
		}
	}
	g.bits("10110011100011110000111110000011", ms, 0.1)
	g.s.stats.BadLength++
	all["gap_only_realtime.edges"] = &g.s

	g = newGen(6, boot, Opts{Lengths: []int{35}, Gap: 60 * ms},
		"A slow reader: Corporate 1000 at a 15 ms bit interval, ±20% jitter,",
		"with a 60 ms gap.")
	for i := 0; i < 3; i++ {
		f := specEncode(FormatC1000, uint32(100+i), uint64(200000+i))
		g.bits(f, 15*ms, 0.2)
		g.s.wants = append(g.s.wants, specID(FormatC1000, uint32(100+i), uint64(200000+i)))
		g.s.stats.Frames++
		g.pause(200*ms, 500*ms)
	}
	all["c1000_slow.edges"] = &g.s

	g = newGen(7, boot, Opts{Lengths: []int{37}, H10302: true},
		"H10302 37-bit cards at 2 ms.")
	for i := 0; i < 3; i++ {
		g.randomCard(FormatH10302, 2*ms)
		g.pause(300*ms, 600*ms)
	}
	all["h10302_2ms.edges"] = &g.s
	return all
}

func TestStreamFiles(t *testing.T) {
	gen := streams()
	if *update {
		for name, s := range gen {
			if err := os.WriteFile(filepath.Join("testdata", name), s.marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.edges"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(gen) {
		t.Errorf("testdata holds %d streams, the generator %d: run go test -update", len(files), len(gen))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if g, ok := gen[filepath.Base(file)]; !ok || !bytes.Equal(g.marshal(), data) {
				t.Errorf("%s differs from the generator's: run go test -update", file)
			}
			s, err := parseStream(data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			got, st, err := replay(&s.opts, s.edges)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.wants, got); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(s.stats, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

// readStreams reads every testdata stream.
func readStreams(t testing.TB) map[string]*stream {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.edges"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]*stream{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseStream(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		all[filepath.Base(file)] = s
	}
	return all
}
