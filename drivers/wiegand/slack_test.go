package wiegand

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

func TestSlackMeter(t *testing.T) {
	us := time.Microsecond
	var m slackMeter
	if got := m.slack(); got != maxSlack {
		t.Errorf("slack before any lag = %v, want %v", got, maxSlack)
	}
	for _, tc := range []struct {
		lag, want time.Duration
	}{
		{0, minSlack},
		{50 * us, minSlack},
		{-time.Second, minSlack}, // a clock behind its edges is no lag
		{300 * us, 1200 * us},
		{100 * us, 1200 * us}, // the worst recent lag rules
		{5 * time.Millisecond, maxSlack},
	} {
		m.observe(tc.lag)
		if got := m.slack(); got != tc.want {
			t.Errorf("after a lag of %v: slack %v, want %v", tc.lag, got, tc.want)
		}
	}
	// lagHistory reads later, the spike is forgotten.
	for range lagHistory {
		m.observe(20 * us)
	}
	if got := m.slack(); got != minSlack {
		t.Errorf("after %d quick reads: slack %v, want %v", lagHistory, got, minSlack)
	}
}

// A Dev waits after a frame's end four times the delivery lag it
// measures, within [minSlack, maxSlack], and reads a 34-bit frame whose
// first 26 bits would make a card whole, however late its edges come
// within that: the wait follows the lag. The wait is needed: at 200 µs
// bits and a 900 µs lag, bit 27 is queued 100 µs after the 26-bit
// prefix's end, and without the wait the Dev would read that prefix, a
// wrong card.
func TestDevSlackFollowsLag(t *testing.T) {
	c34, f34 := prefixed34(t)
	for _, tc := range []struct {
		lag, iv, want time.Duration // want: from the last edge to the card
	}{
		{0, time.Millisecond, 2*time.Millisecond + minSlack},
		{300 * time.Microsecond, time.Millisecond, 2*time.Millisecond + 1200*time.Microsecond},
		{time.Millisecond, time.Millisecond, 2*time.Millisecond + maxSlack},
		{0, 200 * time.Microsecond, settleFloor + minSlack},
		{400 * time.Microsecond, 200 * time.Microsecond, settleFloor + 1600*time.Microsecond},
		{900 * time.Microsecond, 200 * time.Microsecond, settleFloor + maxSlack},
	} {
		t.Run(fmt.Sprintf("lag=%v/interval=%v", tc.lag, tc.iv), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				edges := frameEdges(f34, 10*time.Second, tc.iv, 1)
				src := newFakeSource(edges)
				src.queued = make([]time.Duration, len(edges))
				for i, e := range edges {
					src.queued[i] = e.Time + tc.lag
				}
				d, err := New(src, &Opts{Lengths: []int{26, 34}})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				got := <-d.Reads()
				if got != c34 {
					t.Errorf("read %v, want %v", got, c34)
				}
				if lat := src.Now() - edges[len(edges)-1].Time; lat != tc.want {
					t.Errorf("card delivered %v after the last edge, want %v", lat, tc.want)
				}
			})
		})
	}
}
