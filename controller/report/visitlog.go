package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pintu/pintu/controller"
)

var errDone = errors.New("report: done")

// VisitEvents reads the events of v's dossier (those Covers selects) from
// log, in sequence order.
//
// It does not walk the whole log: it looks up the first event at or after
// the visit's submission by bisecting on time, reads forward from there,
// and stops at the archive step. The log's times only go forward while the
// clock is trusted; if the submission event is not found from that start
// (a clock set back since), it reads the log from the first event.
func VisitEvents(ctx context.Context, log controller.EventLog, v controller.Visit) ([]controller.Event, error) {
	from := uint64(1)
	if len(v.Steps) > 0 {
		seq, err := firstAtOrAfter(log, v.Steps[0].At)
		if err != nil {
			return nil, err
		}
		from = seq
	}
	evs, sawSubmit, err := scanVisit(ctx, log, v, from)
	if err == nil && !sawSubmit && from > 1 {
		evs, _, err = scanVisit(ctx, log, v, 1)
	}
	return evs, err
}

func scanVisit(ctx context.Context, log controller.EventLog, v controller.Visit, from uint64) ([]controller.Event, bool, error) {
	var evs []controller.Event
	sawSubmit := false
	n := 0
	err := log.Events(controller.EventQuery{FromSeq: from}, func(e controller.Event) error {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !Covers(v, e) {
			return nil
		}
		evs = append(evs, e)
		if e.Type == controller.EventVisitStep && e.Visit == v.ID {
			switch controller.Action(e.Detail) {
			case controller.ActionSubmit:
				sawSubmit = true
			case controller.ActionArchive:
				return errDone // nothing of a visit happens after its file is archived
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, false, fmt.Errorf("report: read the events of visit %s: %w", v.ID, err)
	}
	return evs, sawSubmit, nil
}

// firstAtOrAfter is the first seq whose event's time is at or after t, or
// one past the last event: galloping then bisecting on point reads, so a
// long log costs a few dozen lookups.
func firstAtOrAfter(log controller.EventLog, t time.Time) (uint64, error) {
	// before reports whether seq exists and is earlier than t.
	before := func(seq uint64) (bool, error) {
		found, early := false, false
		err := log.Events(controller.EventQuery{FromSeq: seq, ToSeq: seq}, func(e controller.Event) error {
			found, early = true, e.Time.Before(t)
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("report: read event %d: %w", seq, err)
		}
		return found && early, nil
	}
	lo, hi := uint64(0), uint64(1) // before(lo) holds (lo 0 is a virtual start); hi is unknown
	for {
		b, err := before(hi)
		if err != nil {
			return 0, err
		}
		if !b {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // before(lo) && !before(hi)
		mid := lo + (hi-lo)/2
		b, err := before(mid)
		if err != nil {
			return 0, err
		}
		if b {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
