package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// rows are the event rows of the events table in out: not the header, not
// a day's line.
func rows(out string) []string {
	var rs []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "SEQ") || strings.HasPrefix(l, "        2") || l == "" {
			continue
		}
		rs = append(rs, l)
	}
	return rs
}

// rowShape is an events row with its columns where they belong: SEQ right
// aligned in 6, then TIME, TYPE (18), DOOR (11), WHO (10) and DETAIL, two
// spaces apart, whatever each cell holds.
var rowShape = regexp.MustCompile(`^[ 0-9]{5}[0-9]  [0-9]{2}:[0-9]{2}:[0-9]{2}  .{18}  .{11}  (.{10}  \S.*|.{0,10})$`)

// TestEventsTable: the table keeps its columns in place over thousands of
// events with cells of every length, and no line is wider than 100
// columns.
func TestEventsTable(t *testing.T) {
	d := startDaemon(t).seed()
	long := strings.Repeat("x", 64)
	d.must(nil, "person", "add", "--id", long, "--name", strings.Repeat("Panjang ", 20), "--role", "officer")
	for i := range 1200 {
		card := fmt.Sprintf("C-%d", i)
		if i%3 == 0 {
			card = "H10301:123:" + strings.Repeat("9", i%40)
		}
		d.clock.Add(time.Second)
		d.must(nil, "sim", "tap", "--door", "server-room", "--reader", "entry", "--card", card)
	}
	d.must(nil, "person", "update", "--id", long, "--name", "Short")
	out := d.must(nil, "events")
	rs := rows(out)
	if len(rs) < 1200 {
		t.Fatalf("%d rows, want over 1200", len(rs))
	}
	for i, r := range rs {
		if n := utf8.RuneCountInString(r); n > 100 {
			t.Fatalf("row %d is %d columns wide:\n%s", i, n, r)
		}
		if !rowShape.MatchString(r) {
			t.Fatalf("row %d is out of its columns:\n%s", i, r)
		}
	}
	if !strings.Contains(out, "person_updated      -            local       "+strings.Repeat("x", 36)+"…\n") {
		t.Errorf("a long detail is not cut with an ellipsis:\n%s", out[len(out)-400:])
	}

	// --limit N: the newest N, with the same rows.
	lim := rows(d.must(nil, "events", "--limit", "5"))
	if len(lim) != 5 || lim[4] != rs[len(rs)-1] || lim[0] != rs[len(rs)-5] {
		t.Errorf("events --limit 5 =\n%s\nwant the last 5 rows of events", strings.Join(lim, "\n"))
	}
}

// syncBuffer is a stdout that a running pintuctl writes while the test
// reads it; each write is announced.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// await waits until the output holds want.
func (s *syncBuffer) await(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second) // a guard: the event is committed before the wait
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.wrote:
		case <-timeout:
			t.Fatalf("output lacks %q after 10s:\n%s", want, s.String())
		}
	}
}

// TestEventsTail: --tail shows the newest events, then each new one as it
// is recorded, in the same columns as a listing; Ctrl-C ends it with exit
// status 0, and so does pintud's stop.
func TestEventsTail(t *testing.T) {
	for _, ending := range []string{"ctrl-c", "pintud stops"} {
		t.Run(ending, func(t *testing.T) {
			d := startDaemon(t).seed()
			out := &syncBuffer{wrote: make(chan struct{}, 1)}
			var stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := &cli{stdout: out, stderr: &stderr, now: d.clock.Now,
				getenv: func(k string) string { return map[string]string{"PINTU_SOCKET": d.sock}[k] }}
			done := make(chan int, 1)
			go func() { done <- c.exit(c.run(ctx, []string{"events", "--tail", "--limit", "2"}), nil) }()

			last := rows(d.must(nil, "events"))
			out.await(t, last[len(last)-1])
			if got := rows(out.String()); len(got) != 2 || got[0] != last[len(last)-2] {
				t.Fatalf("--tail --limit 2 began with\n%s\nwant the last 2 rows of events", strings.Join(got, "\n"))
			}
			for _, card := range []string{"C-LIVE-1", "C-LIVE-2"} {
				d.clock.Add(time.Second)
				d.must(nil, "sim", "tap", "--door", "server-room", "--reader", "entry", "--card", card)
				out.await(t, "card "+card)
			}
			all := rows(d.must(nil, "events"))
			if got := rows(out.String()); strings.Join(got, "\n") != strings.Join(all[len(all)-4:], "\n") {
				t.Errorf("--tail printed\n%s\nwant the rows events prints\n%s", strings.Join(got, "\n"), strings.Join(all[len(all)-4:], "\n"))
			}
			if ending == "ctrl-c" {
				cancel()
			} else {
				d.stop()
			}
			select {
			case code := <-done:
				if code != exitOK || stderr.String() != "" {
					t.Errorf("--tail ended with exit %d, stderr %q; want 0 and nothing", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("--tail did not end within 10s")
			}
			if ending == "pintud stops" && !strings.Contains(out.String(), "stopped") {
				t.Errorf("--tail did not show pintud's stop:\n%s", out.String())
			}
		})
	}
}
