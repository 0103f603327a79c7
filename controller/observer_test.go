package controller_test

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// observed counts what the controller told its Observer.
type observed struct {
	mu                 sync.Mutex
	decisions, commits int
	failed             []error
}

func (o *observed) ObserveDecision(time.Duration) { o.mu.Lock(); o.decisions++; o.mu.Unlock() }
func (o *observed) ObserveCommit(_ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commits++
	if err != nil {
		o.failed = append(o.failed, err)
	}
}

func (o *observed) counts() (int, int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.decisions, o.commits, len(o.failed)
}

// TestObserverTimings: every decided step and every commit reaches the
// Observer (pintud's latency histograms), failed commits with their error.
func TestObserverTimings(t *testing.T) {
	eachStore(t, twoDoors(), func(t *testing.T, h *harness) {
		o := &observed{}
		h.shutdown()
		h.obs = o
		h.start()
		d0, c0, f0 := o.counts()
		if d0 < 1 || c0 < 1 || f0 != 0 {
			t.Fatalf("after start: decisions %d, commits %d, failed %d; want the start decided and committed", d0, c0, f0)
		}
		h.cast()
		d1, c1, _ := o.counts()
		h.tap("server-room", "entry", "oki")
		d2, c2, f2 := o.counts()
		if d2 != d1+1 || c2 != c1+1 || f2 != 0 {
			t.Errorf("a granted read: decisions +%d, commits +%d, failed %d; want +1, +1, 0", d2-d1, c2-c1, f2)
		}
		boom := errors.New("disk gone")
		h.store.setFail(boom)
		h.tap("server-room", "entry", "oki")
		_, _, f3 := o.counts()
		if f3 != 1 || !errors.Is(o.failed[0], boom) {
			t.Errorf("a failed commit reached the Observer %d times (%v), want once with %v", f3, o.failed, boom)
		}
		h.store.setFail(nil)
	})
}
