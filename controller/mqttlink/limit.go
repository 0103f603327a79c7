package mqttlink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the per-topic command limit. A coordinator sends a few
// commands an hour; five at once and five a minute leave room for that and
// for a retry, while a flood costs the audit log at most about six events a
// minute per topic.
const (
	DefaultCommandBurst = 5
	DefaultCommandPer   = time.Minute
	// dropWindow is how often the dropped payloads of each topic are
	// recorded, as one event per topic.
	dropWindow = time.Minute
	// maxRetained bounds the memory of retained commands already audited.
	maxRetained = 1024
)

// drops counts payloads dropped unchecked, per topic, and records them once
// per window through Conditions: one event per topic and window, however
// many payloads.
type drops struct {
	cond   Conditions // nil: log only
	log    *slog.Logger
	window time.Duration

	total atomic.Uint64 // since start

	mu     sync.Mutex
	counts map[string]int // since the last report
	since  time.Time      // start of the window
}

func newDrops(cond Conditions, log *slog.Logger, now time.Time) *drops {
	return &drops{cond: cond, log: log, window: dropWindow, counts: map[string]int{}, since: now}
}

// add counts one dropped payload; it never blocks for long (paho's
// callbacks call it).
func (d *drops) add(topic string) {
	d.total.Add(1)
	d.mu.Lock()
	d.counts[topic]++
	d.mu.Unlock()
}

// run records the counts every window until ctx is done, then once more:
// payloads dropped in the last moments are recorded too, if the controller
// still answers.
func (d *drops) run(ctx context.Context) {
	t := time.NewTicker(d.window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			d.flush(fctx, time.Now())
			cancel()
			return
		case now := <-t.C:
			d.flush(ctx, now)
		}
	}
}

// flush records and resets the counts of the window ending now. Counts
// whose record failed are kept for the next window.
func (d *drops) flush(ctx context.Context, now time.Time) {
	d.mu.Lock()
	counts, since := d.counts, d.since
	d.counts, d.since = map[string]int{}, now
	d.mu.Unlock()
	window := now.Sub(since)
	for _, topic := range slices.Sorted(maps.Keys(counts)) {
		n := counts[topic]
		d.log.Warn("mqtt command payloads dropped unchecked: over the topic's limit", "topic", topic, "dropped", n,
			"window", window.Round(time.Second).String())
		if d.cond == nil {
			continue
		}
		if err := d.cond.RecordDroppedCommands(ctx, topic, n, window); err != nil {
			d.log.Error("mqtt: record dropped commands; counting them into the next window", "topic", topic, "dropped", n, "err", err)
			d.mu.Lock()
			d.counts[topic] += n
			d.since = since
			d.mu.Unlock()
		}
	}
}

// retainedSeen remembers the retained commands already passed to the
// controller, by command id (or, for a payload that is not a command, by
// its digest), so that one left on the broker is audited once rather than
// on every reconnect. It forgets the oldest beyond maxRetained.
type retainedSeen struct {
	seen  map[string]bool
	order []string
}

// first reports whether key is new, and remembers it.
func (r *retainedSeen) first(key string) bool {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[key] {
		return false
	}
	if len(r.order) == maxRetained {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	r.seen[key] = true
	r.order = append(r.order, key)
	return true
}

// retainedKey names a retained payload: its topic and command id, or its
// digest when it has none.
func retainedKey(topic string, payload []byte) string {
	if id := peekID(payload); id != "" {
		return topic + " id:" + id
	}
	sum := sha256.Sum256(payload)
	return topic + " sha256:" + hex.EncodeToString(sum[:])
}
