package console

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/pintu/pintu/controller"
)

// This file is the audit log's search: by time, door, person, visit,
// decision and type, newest first, a page at a time. A page reads a
// bounded stretch of the log, never all of it: a rare match in a long log
// is found by following "older" links.

const (
	eventsPerPage  = 50
	firstRead      = 64    // seqs read by a page's first store query; each next one doubles
	maxRead        = 4096  // seqs read by one store query at most
	maxEventsPerPg = 20000 // seqs read for one page at most
)

// eventQuery is the search form.
type eventQuery struct {
	From, Until, Door, Person, Visit, Decision, Type string
	Before                                           uint64 // show events before this seq
}

func (f eventQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "until": f.Until, "door": f.Door, "person": f.Person, "visit": f.Visit,
		"decision": f.Decision, "type": f.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (f eventQuery) match(e controller.Event) bool {
	return (f.Door == "" || e.Door == f.Door) &&
		(f.Person == "" || e.Person == f.Person || e.Actor == f.Person) &&
		(f.Visit == "" || e.Visit == f.Visit) &&
		(f.Decision == "" || string(e.Decision) == f.Decision) &&
		(f.Type == "" || string(e.Type) == f.Type)
}

// eventPage is one page of results.
type eventPage struct {
	Q      eventQuery
	Events []controller.Event
	Names  map[string]string
	Older  string // the link to the next page, "" at the log's start
	// Searched is the lowest seq read for this page, when the page ran
	// out of its budget before filling.
	Searched uint64
	Head     uint64
}

func (s *Server) events(q *rq) error {
	qv := q.r.URL.Query()
	f := eventQuery{From: qv.Get("from"), Until: qv.Get("until"), Door: qv.Get("door"), Person: qv.Get("person"),
		Visit: qv.Get("visit"), Decision: qv.Get("decision"), Type: qv.Get("type")}
	if b := qv.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			return errors.Join(controller.ErrInvalid, errors.New("before: not a sequence number"))
		}
		f.Before = n
	}
	pg, err := s.searchEvents(q, f)
	if err != nil {
		return err
	}
	s.render(q, eventsPage(q, pg, s.ctrl.Config().Doors))
	return nil
}

// searchEvents reads one page of matches, newest first.
func (s *Server) searchEvents(q *rq, f eventQuery) (*eventPage, error) {
	ctx := q.r.Context()
	head, _, err := s.ctrl.Head(ctx)
	if err != nil {
		return nil, err
	}
	pg := &eventPage{Q: f, Names: map[string]string{}, Head: head}
	from, err := q.parseLocal(q.T("From"), f.From)
	if err != nil {
		return nil, err
	}
	until, err := q.parseLocal(q.T("Until"), f.Until)
	if err != nil {
		return nil, err
	}
	lo, hi := uint64(1), head
	if !from.IsZero() {
		if lo, err = s.firstAtOrAfter(from, head); err != nil {
			return nil, err
		}
	}
	if !until.IsZero() {
		n, err := s.firstAtOrAfter(until, head)
		if err != nil {
			return nil, err
		}
		hi = n - 1
	}
	if f.Before != 0 {
		hi = min(hi, f.Before-1)
	}
	read, window := uint64(0), uint64(firstRead)
	for hi >= lo && hi > 0 && len(pg.Events) < eventsPerPage && read < maxEventsPerPg {
		a := max(lo, hi-min(hi, window)+1)
		window = min(2*window, maxRead)
		var batch []controller.Event
		err := s.evlog.Events(controller.EventQuery{FromSeq: a, ToSeq: hi, Since: from, Until: until}, func(e controller.Event) error {
			if f.match(e) {
				batch = append(batch, e)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		read += hi - a + 1
		hi = a - 1
		for _, e := range slices.Backward(batch) {
			if len(pg.Events) == eventsPerPage {
				hi = pg.Events[len(pg.Events)-1].Seq - 1 // resume below the last shown
				break
			}
			pg.Events = append(pg.Events, e)
		}
	}
	if hi >= lo && hi > 0 {
		v := f.values()
		v.Set("before", strconv.FormatUint(hi+1, 10))
		pg.Older = "/events?" + v.Encode()
		if len(pg.Events) < eventsPerPage {
			pg.Searched = hi + 1
		}
	}
	for _, e := range pg.Events {
		for _, id := range []string{e.Person, e.Actor} {
			if _, ok := pg.Names[id]; !ok && id != "" {
				pg.Names[id] = id
				if p, err := s.ctrl.Person(ctx, id); err == nil {
					pg.Names[id] = p.Name
				}
			}
		}
	}
	return pg, nil
}

// firstAtOrAfter is the first seq whose event is at or after t, head+1 if
// none: a binary search over the log, which is in time order as long as
// the clock never went back (an event out of order is still filtered by
// its time, but may fall outside the range searched).
func (s *Server) firstAtOrAfter(t time.Time, head uint64) (uint64, error) {
	lo, hi := uint64(1), head+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		var at time.Time
		err := s.evlog.Events(controller.EventQuery{FromSeq: mid, ToSeq: mid}, func(e controller.Event) error { at = e.Time; return nil })
		if err != nil {
			return 0, err
		}
		if at.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

func decisionClass(d controller.Decision) string {
	switch d {
	case controller.Denied:
		return "denied"
	case controller.Pending:
		return "pending"
	}
	return ""
}
