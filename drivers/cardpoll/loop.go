package cardpoll

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Backoff between retries after reader errors: minBackoff after the first
// failed poll, doubling up to maxBackoff.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Loop polls a reader for cards. Its exported fields are set once, before
// any method is called, typically in a composite literal; a Loop must not be
// copied after first use. Its methods are safe for concurrent use: polls,
// re-initialisations and the final Halt are serialised.
type Loop struct {
	// Read polls the reader once for a card. It returns nil, nil when none
	// answers, the UID of a card that does, or an error.
	Read func() (UID, error)
	// Reinit initialises the reader again. The poll that follows a reader
	// error from Read or Reinit calls it before Read.
	Reinit func() error
	// CardErr reports whether an error is about a card rather than the
	// reader: Run drops it and polls again on schedule, and the reader is
	// not re-initialised. nil means every error is a reader error.
	CardErr func(error) bool
	// Interval is the time between the starts of two polls.
	Interval time.Duration
	// HoldOff is how long a UID must have been absent before Run reports it
	// again. Zero reports every poll that sees a card.
	HoldOff time.Duration
	// OnError, if set, is called by Run, on Run's goroutine, with the error
	// when the reader fails (once per outage, not once per retry), and with
	// nil when it answers again. It must not block.
	OnError func(err error)
	// OnCardError, if set, is called by Run, on Run's goroutine, with each
	// error CardErr accepts: a card that answered badly, left the field
	// mid-read or sent what the driver does not accept. The reader stays
	// up. It must not block; counting and logging once is the caller's.
	OnCardError func(err error)
	// ErrHalted is what Read and Run return once Halt has been called.
	ErrHalted error

	doneOnce sync.Once
	haltOnce sync.Once
	done     chan struct{} // closed by Halt

	mu       sync.Mutex // serialises polls and Halt; guards the fields below
	halted   bool
	needInit bool
}

// Halt stops the Loop for good: a Wait or Run sleeping returns ErrHalted
// at once, one polling finishes its poll first. Then, with polls excluded,
// Halt calls powerDown, which leaves the reader inert, and returns its
// error. Later calls return nil and do not call powerDown.
func (l *Loop) Halt(powerDown func() error) error {
	done := l.doneChan()
	l.haltOnce.Do(func() { close(done) })
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.halted {
		return nil
	}
	l.halted = true
	return powerDown()
}

// doneChan returns the channel Halt closes.
func (l *Loop) doneChan() chan struct{} {
	l.doneOnce.Do(func() { l.done = make(chan struct{}) })
	return l.done
}

// halts reports whether err is ErrHalted, which ends Run.
func (l *Loop) halts(err error) bool {
	return err != nil && l.ErrHalted != nil && errors.Is(err, l.ErrHalted)
}

// Poll polls the reader once, re-initialising it first if the previous
// poll ended in a reader error. It returns nil, nil when no card answers and
// ErrHalted after Halt.
func (l *Loop) Poll() (UID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.halted {
		return nil, l.ErrHalted
	}
	if l.needInit {
		if err := l.Reinit(); err != nil {
			return nil, err
		}
		l.needInit = false
	}
	uid, err := l.Read()
	if err != nil && !l.cardErr(err) {
		l.needInit = true
	}
	return uid, err
}

func (l *Loop) cardErr(err error) bool {
	return l.CardErr != nil && l.CardErr(err)
}

// Wait polls every Interval until a card answers and returns its UID. A
// card resting on the reader is returned by every call. It returns the first
// error of a poll, ctx.Err() when ctx is done and ErrHalted after Halt.
func (l *Loop) Wait(ctx context.Context) (UID, error) {
	for {
		start := time.Now()
		uid, err := l.Poll()
		if err != nil || uid != nil {
			return uid, err
		}
		if err := l.sleep(ctx, time.Until(start.Add(l.Interval))); err != nil {
			return nil, err
		}
	}
}

// Run polls every Interval and sends each UID on out, once per presentation:
// a UID is sent again only after it has been absent for HoldOff. Card errors
// go to OnCardError and are otherwise dropped. After a reader error Run polls again with a backoff from
// 100 ms doubling to 5 s, and calls OnError with the error when the outage
// starts and with nil when a poll succeeds again. Run returns nil when ctx
// is done and ErrHalted after Halt.
func (l *Loop) Run(ctx context.Context, out chan<- UID) error {
	h := newHoldOff(l.HoldOff)
	failing := false
	backoff := minBackoff
	next := time.Now()
	for {
		if err := l.sleep(ctx, time.Until(next)); err != nil {
			if l.halts(err) {
				return err
			}
			return nil
		}
		start := time.Now()
		uid, err := l.Poll()
		if l.halts(err) {
			return err
		}
		if err != nil && !l.cardErr(err) {
			if !failing && l.OnError != nil {
				l.OnError(err)
			}
			failing = true
			next = start.Add(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		if err != nil && l.OnCardError != nil {
			l.OnCardError(err)
		}
		if failing && l.OnError != nil {
			l.OnError(nil)
		}
		failing = false
		backoff = minBackoff
		next = start.Add(l.Interval)
		now := time.Now()
		h.forget(now)
		if uid == nil || !h.see(uid, now) {
			continue
		}
		select {
		case out <- uid:
		case <-ctx.Done():
			return nil
		case <-l.doneChan():
			return l.ErrHalted
		}
	}
}

// sleep waits for dur, ctx or Halt. It returns ctx.Err() or ErrHalted
// without waiting when either is already the case.
func (l *Loop) sleep(ctx context.Context, dur time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := l.doneChan()
	select {
	case <-done:
		return l.ErrHalted
	default:
	}
	if dur <= 0 {
		return nil
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return l.ErrHalted
	}
}
