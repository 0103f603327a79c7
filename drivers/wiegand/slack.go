package wiegand

import "time"

const (
	// minSlack and maxSlack bound how long after a frame's deadline a Dev
	// still waits for edges stamped before it: the kernel stamps an edge
	// in the hard interrupt and queues it from a thread, a little later,
	// and the Dev wakes a little after that. maxSlack is also the wait
	// before any lag is measured, and for a source without a clock.
	minSlack = 500 * time.Microsecond
	maxSlack = 2 * time.Millisecond
	// slackFactor times the longest delivery lag measured recently is the
	// wait: room for a lag several times the worst seen.
	slackFactor = 4
	// lagHistory is how many reads the longest lag is taken over, about
	// two frames' edges when they come one at a time.
	lagHistory = 64
)

// slackMeter measures the delivery lag of edges (how long after its
// timestamp the newest edge of a read reached the Dev) and turns it into
// the wait after a frame's deadline. It is a pure state machine, like
// Decoder: the caller gives it the lags.
type slackMeter struct {
	lags [lagHistory]time.Duration
	n    int // lags recorded, up to lagHistory
	next int // where the next lag goes
}

// observe records the lag of one read.
func (m *slackMeter) observe(lag time.Duration) {
	m.lags[m.next] = max(lag, 0)
	m.next = (m.next + 1) % lagHistory
	m.n = min(m.n+1, lagHistory)
}

// slack returns the wait after a frame's deadline: slackFactor times the
// longest recent lag, within [minSlack, maxSlack]; maxSlack until a lag
// is known.
func (m *slackMeter) slack() time.Duration {
	if m.n == 0 {
		return maxSlack
	}
	var worst time.Duration
	for _, l := range m.lags[:m.n] {
		worst = max(worst, l)
	}
	return min(max(slackFactor*worst, minSlack), maxSlack)
}
