package wiegand

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeSource plays edges back at their times on a clock that runs with
// time.Now, so that in a synctest bubble it runs on fake time. It is a
// real EdgeSource: it honours until, ctx and Close as Open's does.
type fakeSource struct {
	base  time.Duration // the clock's reading at start
	start time.Time
	edges []Edge
	// queued, if set, is when the source has each edge, in order, as
	// the kernel queues them after stamping them; nil: at its Time.
	queued []time.Duration
	next   int
	err    error // returned once the edges are played, if set

	closeOnce sync.Once
	closed    chan struct{}
	closes    int
}

func newFakeSource(edges []Edge) *fakeSource {
	var base time.Duration
	if len(edges) > 0 {
		base = edges[0].Time - time.Second
	}
	return &fakeSource{base: base, start: time.Now(), edges: edges, closed: make(chan struct{})}
}

func (f *fakeSource) String() string { return "fake" }

func (f *fakeSource) Now() time.Duration { return f.base + time.Since(f.start) }

func (f *fakeSource) ReadEdges(ctx context.Context, buf []Edge, until time.Duration) (int, error) {
	for {
		select {
		case <-f.closed:
			return 0, fmt.Errorf("fake: %w", ErrClosed)
		default:
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		now := f.Now()
		n := 0
		for n < len(buf) && f.next < len(f.edges) && f.at(f.next) <= now {
			buf[n] = f.edges[f.next]
			n++
			f.next++
		}
		if n > 0 {
			return n, nil
		}
		if f.next == len(f.edges) && f.err != nil {
			return 0, f.err
		}
		if until != 0 && now >= until {
			return 0, nil
		}
		var wake <-chan time.Time
		at, timed := until, until != 0
		if f.next < len(f.edges) && (!timed || f.at(f.next) < at) {
			at, timed = f.at(f.next), true
		}
		if timed {
			tm := time.NewTimer(at - now)
			defer tm.Stop()
			wake = tm.C
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-f.closed:
			return 0, fmt.Errorf("fake: %w", ErrClosed)
		case <-wake:
		}
	}
}

// at returns when the source has edge i.
func (f *fakeSource) at(i int) time.Duration {
	if f.queued != nil {
		return f.queued[i]
	}
	return f.edges[i].Time
}

func (f *fakeSource) Close() error {
	f.closes++
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

// The testdata streams, played live through a Dev, give the cards and
// counts the generator meant.
func TestDevStreams(t *testing.T) {
	all := readStreams(t)
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := all[name]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := newFakeSource(s.edges)
				d, err := New(src, &s.opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for range s.wants {
					got = append(got, (<-d.Reads()).String())
				}
				// Let the last frames end and the source run dry.
				time.Sleep(s.edges[len(s.edges)-1].Time - src.Now() + time.Second)
				synctest.Wait()
				if diff := cmp.Diff(s.wants, got); diff != "" {
					t.Errorf("cards (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(s.stats, d.Stats()); diff != "" {
					t.Errorf("stats (-want +got):\n%s", diff)
				}
				if err := d.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
				if c, ok := <-d.Reads(); ok {
					t.Errorf("Reads after Close: %v, want closed", c)
				}
			})
		})
	}
}

func TestDevLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, frame := mustEncode(t, FormatH10301, 1, 1)
		edges := frameEdges(frame, 10*time.Second, time.Millisecond, 1)
		src := newFakeSource(edges)
		d, err := New(src, &Opts{Lengths: []int{26}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		got := <-d.Reads()
		if got != c {
			t.Errorf("read %v, want %v", got, c)
		}
		// Two bit intervals, then the least slack for the kernel's
		// queueing: every edge came as soon as it was stamped.
		if lat, want := src.Now()-edges[25].Time, 2*time.Millisecond+minSlack; lat != want {
			t.Errorf("card delivered %v after the last edge, want %v", lat, want)
		}
	})
}

func TestDevClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource(nil)
		d, err := New(src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.String(), "wiegand(fake)"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		synctest.Wait() // the goroutine waits in ReadEdges
		if err := d.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if err := d.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close() = %v, want ErrClosed", err)
		}
		if src.closes != 1 {
			t.Errorf("source closed %d times, want 1", src.closes)
		}
		if err := d.Halt(); err != nil {
			t.Errorf("Halt() after Close = %v", err)
		}
		if err := d.Err(); err != nil {
			t.Errorf("Err() = %v, want nil after Close", err)
		}
	})
}

// Halt returns even while a card waits for a reader that never comes.
func TestDevHaltBlockedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, frame := mustEncode(t, FormatH10301, 2, 2)
		var edges []Edge
		for i := range readsQueue + 3 {
			edges = append(edges, frameEdges(frame, time.Duration(i)*time.Second, time.Millisecond, uint64(1+26*i))...)
		}
		src := newFakeSource(edges)
		d, err := New(src, &Opts{Lengths: []int{26}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(readsQueue+4) * time.Second)
		synctest.Wait() // blocked sending
		if err := d.Halt(); err != nil {
			t.Errorf("Halt() = %v", err)
		}
		n := 0
		for range d.Reads() {
			n++
		}
		if n != readsQueue {
			t.Errorf("%d cards queued, want %d", n, readsQueue)
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close() after Halt = %v", err)
		}
	})
}

func TestDevSourceError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, frame := mustEncode(t, FormatH10306, 3, 3)
		src := newFakeSource(frameEdges(frame, time.Second, time.Millisecond, 1))
		cause := errors.New("line went away")
		src.err = cause
		d, err := New(src, &Opts{Lengths: []int{34}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var got []Card
		for c := range d.Reads() {
			got = append(got, c)
		}
		// The error came before the frame's deadline: the frame is lost.
		if len(got) != 0 {
			t.Errorf("read %v, want nothing (%v was cut off)", got, c)
		}
		if err := d.Err(); !errors.Is(err, cause) {
			t.Errorf("Err() = %v, want %v", err, cause)
		}
	})
}
