package controller

import (
	"fmt"
	"slices"
	"time"
)

// Back-off of time-driven steps while commits fail.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// failing is the Run goroutine's record of failing commits.
type failing struct {
	backoff time.Duration
	retryAt time.Time
}

// process commits a step and applies it: the order every input follows.
//
//  1. An egress step (exit read, REX) releases its strike first: egress
//     never waits on the disk.
//  2. The change is committed. A step with no events has nothing to
//     commit (a staff read that ran out, say): it is applied as it is.
//  3. Only then is the step applied to the state, the strikes driven (an
//     entry grant's release is here, after its event is durable) and the
//     watchers told.
//
// If the commit fails, commitFailed says what happens instead.
func (c *Controller) process(st *step) error {
	if st == nil {
		return nil
	}
	if st.faulted() {
		st.recordFaults()
	}
	if st.empty() {
		c.st.apply(st)
		return nil
	}
	st.finish()
	obs := c.opts.Observer
	if obs != nil && !c.began.IsZero() {
		obs.ObserveDecision(time.Since(c.began))
	}
	if st.egress {
		for _, s := range st.strikes {
			if s.unlocked {
				c.driveEgress(s.door)
			}
		}
	}
	t0 := time.Now()
	err := c.store.Commit(st.change)
	if obs != nil {
		obs.ObserveCommit(time.Since(t0), err)
	}
	if err != nil {
		c.commitFailed(st, err)
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	if c.st.storage != nil {
		c.log.Info("commits work again: storage_failure cleared", "failed_commits", c.st.storage.failed)
	}
	c.fail = failing{}
	c.st.apply(st)
	for _, s := range st.strikes {
		if !(st.egress && s.unlocked) {
			c.drive(s.door, s.unlocked)
		}
	}
	c.notify()
	return nil
}

// commitFailed is what happens when a step's change cannot be written.
// Nothing the step decided is applied (an entry read is answered
// storage_failure by its caller), except what the hardware must do anyway:
// a lock is always driven, since locking is always safe, and an egress
// release already made stays made. The door's runtime state follows those
// moves, so an unlogged egress release still relocks on time. The first
// failure raises the storage_failure alarm (in memory; it is written once a
// commit succeeds) and is logged; later ones are logged at debug level.
// Time-driven steps back off, from minBackoff doubling to maxBackoff, so a
// deadline that cannot be written does not turn into a hot loop.
func (c *Controller) commitFailed(st *step, err error) {
	for _, s := range st.strikes {
		switch {
		case !s.unlocked:
			c.drive(s.door, false)
			c.st.forceStrike(st.now, s.door, false)
		case st.egress:
			c.st.forceStrike(st.now, s.door, true)
		}
	}
	if st.integ != nil {
		// Breaks this step found stay known, so entry stays refused, and
		// the next step that commits writes them.
		for _, b := range st.integ.Breaks {
			if !c.st.integ.known(b) && !slices.ContainsFunc(c.st.unrecorded, b.covers) {
				c.st.unrecorded = append(c.st.unrecorded, b)
			}
		}
	}
	c.fail.backoff = min(max(2*c.fail.backoff, minBackoff), maxBackoff)
	c.fail.retryAt = c.opts.Now().Add(c.fail.backoff)
	if c.st.storageFailed(st.now, err) {
		c.log.Error("commit failed: storage_failure raised; entry is refused, egress still opens",
			"alarm", c.st.storage.alarm.ID, "events", len(st.change.Events), "err", err)
		return
	}
	c.log.Debug("commit failed again", "failed_commits", c.st.storage.failed, "retry_in", c.fail.backoff, "err", err)
}
