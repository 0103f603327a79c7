package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pintu/pintu/controller"
)

// batchSize is how many rows of a CSV export are written between flushes.
const batchSize = 512

// eachEvent calls fn for each event of log matching q, in sequence order,
// and stops at the first error fn returns or when ctx ends. The store reads
// the log in batches of short transactions and calls fn between them, so a
// slow client holds no transaction open, and each event is decoded once.
func eachEvent(ctx context.Context, log controller.EventLog, q controller.EventQuery, fn func(controller.Event) error) error {
	var fnErr error
	err := log.Events(q, func(e controller.Event) error {
		if fnErr = fn(e); fnErr != nil {
			return fnErr
		}
		if e.Seq%batchSize == 0 {
			fnErr = ctx.Err()
		}
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	return err
}

// timeQuery reads the since and until query parameters.
func timeQuery(r *http.Request) (controller.EventQuery, error) {
	var q controller.EventQuery
	vals := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := vals.Get(p.name); v != "" {
			t, err := parseTime("query parameter", p.name, v)
			if err != nil {
				return q, err
			}
			*p.dst = t
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, badRequest("query parameter \"until\" must be after \"since\"")
	}
	return q, nil
}

// stream is a response body written event by event. Its status and headers
// go out with the first write, so an error before any event can still be an
// error response; one after is reported in the Pintu-Error trailer.
type stream struct {
	w           http.ResponseWriter
	contentType string
	started     bool
	n           int
	err         error // the first write error: the client is gone
}

func (st *stream) Write(b []byte) (int, error) {
	if st.err != nil {
		return 0, st.err
	}
	if !st.started {
		st.started = true
		h := st.w.Header()
		h.Set("Content-Type", st.contentType)
		h.Set("Trailer", "Pintu-Count, Pintu-Error")
		st.w.WriteHeader(http.StatusOK)
	}
	n, err := st.w.Write(b)
	st.err = err
	return n, err
}

// finish ends the stream after eachEvent returned err.
func (s *Server) finish(st *stream, r *http.Request, err error) error {
	if err != nil && !st.started {
		return err
	}
	if err != nil {
		s.log.Error("api: stream cut short", "path", r.URL.Path, "sent", st.n, "err", err)
		st.w.Header().Set("Pintu-Error", err.Error())
	}
	st.w.Header().Set("Pintu-Count", strconv.Itoa(st.n))
	return nil
}

func utcEvent(e controller.Event) controller.Event {
	e.Time = e.Time.UTC()
	return e
}

// MaxEventLimit is the most events GET /v1/events?limit= returns.
const MaxEventLimit = 100000

// eventsQuery is GET /v1/events's query: the time window, and limit (the
// newest events only), after (events after a seq) and follow.
type eventsQuery struct {
	q      controller.EventQuery
	limit  int // 0: every matching event (without follow), none of the old ones (with follow)
	follow bool
}

func readEventsQuery(r *http.Request) (eventsQuery, error) {
	var eq eventsQuery
	q, err := timeQuery(r)
	if err != nil {
		return eq, err
	}
	eq.q = q
	vals := r.URL.Query()
	if v := vals.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxEventLimit {
			return eq, badRequest("query parameter \"limit\": %q: want a number from 1 to %d", v, MaxEventLimit)
		}
		eq.limit = n
	}
	if v := vals.Get("after"); v != "" {
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return eq, badRequest("query parameter \"after\": %q: want an event seq", v)
		}
		eq.q.FromSeq = seq + 1
	}
	if v := vals.Get("follow"); v != "" {
		f, err := strconv.ParseBool(v)
		if err != nil {
			return eq, badRequest("query parameter \"follow\": %q: want true or false", v)
		}
		eq.follow = f
	}
	if eq.follow && !eq.q.Until.IsZero() {
		return eq, badRequest("query parameter \"until\" cannot be given with \"follow\": new events are always later")
	}
	return eq, nil
}

// events answers GET /v1/events: a JSON array of the matching events (the
// newest limit of them, with limit), or with follow a stream of JSON lines:
// the newest limit events, then each new one as it is committed, until the
// client goes away or pintud stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	eq, err := readEventsQuery(r)
	if err != nil {
		return err
	}
	if eq.follow {
		return s.follow(w, r, eq)
	}
	st := &stream{w: w, contentType: "application/json"}
	write := func(e controller.Event) error {
		b, err := json.Marshal(utcEvent(e))
		if err != nil {
			return fmt.Errorf("encode event %d: %w", e.Seq, err)
		}
		sep := ",\n"
		if st.n == 0 {
			sep = "[\n"
		}
		st.n++
		_, err = st.Write(append([]byte(sep), b...))
		return err
	}
	if eq.limit > 0 {
		var evs []controller.Event
		if evs, _, err = s.newest(r.Context(), eq.q, eq.limit); err == nil {
			for _, e := range evs {
				if err = write(e); err != nil {
					break
				}
			}
		}
	} else {
		err = eachEvent(r.Context(), s.evlog, eq.q, write)
	}
	if err == nil {
		end := "\n]\n"
		if st.n == 0 {
			end = "[]\n"
		}
		_, err = io.WriteString(st, end)
	}
	return s.finish(st, r, err)
}

// newest returns the newest n events matching q, oldest first, and the
// seq of the log's head when it began. It reads the log backwards in
// windows that double, so the last events of a long log cost what a short
// log's do.
func (s *Server) newest(ctx context.Context, q controller.EventQuery, n int) ([]controller.Event, uint64, error) {
	head, _, err := s.ctrl.Head(ctx)
	if err != nil {
		return nil, 0, err
	}
	hi := head
	if q.ToSeq != 0 && q.ToSeq < hi {
		hi = q.ToSeq
	}
	lo := max(q.FromSeq, 1)
	var chunks [][]controller.Event // newest first
	count := 0
	for span := uint64(max(n, 64)); hi >= lo && count < n; span *= 2 {
		from := lo
		if hi-lo+1 > span {
			from = hi - span + 1
		}
		wq := q
		wq.FromSeq, wq.ToSeq = from, hi
		var chunk []controller.Event
		if err := eachEvent(ctx, s.evlog, wq, func(e controller.Event) error {
			chunk = append(chunk, e)
			return nil
		}); err != nil {
			return nil, 0, err
		}
		if k := n - count; len(chunk) > k {
			chunk = chunk[len(chunk)-k:]
		}
		chunks = append(chunks, chunk)
		count += len(chunk)
		hi = from - 1
	}
	out := make([]controller.Event, 0, count)
	for i := len(chunks) - 1; i >= 0; i-- {
		out = append(out, chunks[i]...)
	}
	return out, head, nil
}

// followWrite bounds each write to a follower: one that stops reading
// (a suspended pintuctl) is dropped rather than held forever.
const followWrite = 30 * time.Second

// follow streams the newest eq.limit events, then every event committed
// after, as JSON lines. It ends when the client goes away, a write stalls,
// or the log records that pintud stopped.
func (s *Server) follow(w http.ResponseWriter, r *http.Request, eq eventsQuery) error {
	ctx := r.Context()
	// Watch before reading the head: a commit in between wakes the loop.
	watch, stop := s.ctrl.Watch()
	defer stop()
	var old []controller.Event
	head, _, err := s.ctrl.Head(ctx)
	if err != nil {
		return err
	}
	if eq.limit > 0 {
		if old, head, err = s.newest(ctx, eq.q, eq.limit); err != nil {
			return err
		}
	}
	rc := http.NewResponseController(w)
	st := &stream{w: w, contentType: "application/x-ndjson"}
	stopped := false
	write := func(e controller.Event) error {
		b, err := json.Marshal(utcEvent(e))
		if err != nil {
			return fmt.Errorf("encode event %d: %w", e.Seq, err)
		}
		st.n++
		stopped = e.Type == controller.EventStopped
		_, err = st.Write(append(b, '\n'))
		return err
	}
	send := func(evs func(func(controller.Event) error) error) error {
		_ = rc.SetWriteDeadline(time.Now().Add(followWrite)) // unsupported only on test recorders
		if err := evs(write); err != nil {
			return err
		}
		if !st.started { // the headers go out before the first event
			st.Write(nil)
		}
		return rc.Flush()
	}
	err = send(func(fn func(controller.Event) error) error {
		for _, e := range old {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
	stopped = false // a stop before this run is history
	q := eq.q
	q.FromSeq = max(q.FromSeq, head+1)
	for err == nil && !stopped {
		select {
		case <-ctx.Done():
			return s.finish(st, r, nil)
		case <-watch:
		}
		err = send(func(fn func(controller.Event) error) error {
			return eachEvent(ctx, s.evlog, q, func(e controller.Event) error {
				q.FromSeq = e.Seq + 1
				return fn(e)
			})
		})
	}
	if st.err != nil || ctx.Err() != nil {
		return s.finish(st, r, nil) // the client went away
	}
	return s.finish(st, r, err)
}

// exportRow is one event in a JSON Lines export. Every field is present in
// every row.
type exportRow struct {
	Seq          uint64 `json:"seq"`
	Time         string `json:"time"`
	Type         string `json:"type"`
	Door         string `json:"door"`
	Reader       string `json:"reader"`
	Card         string `json:"card"`
	Person       string `json:"person"`
	Visit        string `json:"visit"`
	Decision     string `json:"decision"`
	Reason       string `json:"reason"`
	Actor        string `json:"actor"`
	Via          string `json:"via"`
	Detail       string `json:"detail"`
	ClockTrusted bool   `json:"clock_trusted"`
	Hash         string `json:"hash"`
	// Records are the records the event sealed ([] for none): with the
	// rest, what an auditor recomputes the hash from.
	Records []controller.RecordRef `json:"records"`
}

// newExportRow renders e with its time in loc. Times keep their full
// precision so that an auditor can recompute the hash chain from an export.
func newExportRow(e controller.Event, loc *time.Location) exportRow {
	return exportRow{
		Seq: e.Seq, Time: e.Time.In(loc).Format(time.RFC3339Nano), Type: string(e.Type),
		Door: e.Door, Reader: e.Reader, Card: e.Card, Person: e.Person, Visit: e.Visit,
		Decision: string(e.Decision), Reason: string(e.Reason), Actor: e.Actor, Via: e.Via,
		Detail: e.Detail, ClockTrusted: e.ClockTrusted, Hash: e.Hash, Records: nonNil(e.Records),
	}
}

// appendExportRow appends e as one line of the JSON Lines export: what
// json.Encoder writes for newExportRow(e, time.UTC).
func appendExportRow(b []byte, e controller.Event) []byte {
	str := func(name, v string) {
		b = append(b, name...)
		b = controller.AppendJSONString(b, v)
	}
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	str(`,"type":`, string(e.Type))
	str(`,"door":`, e.Door)
	str(`,"reader":`, e.Reader)
	str(`,"card":`, e.Card)
	str(`,"person":`, e.Person)
	str(`,"visit":`, e.Visit)
	str(`,"decision":`, string(e.Decision))
	str(`,"reason":`, string(e.Reason))
	str(`,"actor":`, e.Actor)
	str(`,"via":`, e.Via)
	str(`,"detail":`, e.Detail)
	b = append(b, `,"clock_trusted":`...)
	b = strconv.AppendBool(b, e.ClockTrusted)
	str(`,"hash":`, e.Hash)
	b = append(b, `,"records":[`...)
	for i, r := range e.Records {
		if i > 0 {
			b = append(b, ',')
		}
		str(`{"kind":`, string(r.Kind))
		str(`,"id":`, r.ID)
		str(`,"digest":`, r.Digest)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) error {
	q, err := timeQuery(r)
	if err != nil {
		return err
	}
	var st *stream
	var row func(controller.Event) error
	var end func() error
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		st = &stream{w: w, contentType: "text/csv; charset=utf-8"}
		cw, err := s.csvWriter(r, st)
		if err != nil {
			return err
		}
		row = func(e controller.Event) error {
			st.n++
			if err := cw.Write(e); err != nil {
				return err
			}
			if st.n%batchSize == 0 {
				return cw.Flush()
			}
			return nil
		}
		end = cw.Flush
	case "jsonl":
		st = &stream{w: w, contentType: "application/jsonl"}
		// Rows are written by hand, the bytes json.Encoder writes for an
		// exportRow (TestExportGolden holds them to it), and sent in
		// blocks: reflection and a write per event halved the rate.
		buf := make([]byte, 0, 64<<10)
		row = func(e controller.Event) error {
			st.n++
			buf = appendExportRow(buf, e)
			if len(buf) >= 60<<10 {
				_, err := st.Write(buf)
				buf = buf[:0]
				return err
			}
			return nil
		}
		end = func() error {
			if len(buf) > 0 || !st.started { // an empty export is an empty body, with status 200
				_, err := st.Write(buf)
				return err
			}
			return nil
		}
	case "":
		return badRequest("missing query parameter \"format\" (want csv or jsonl)")
	default:
		return badRequest("query parameter \"format\": unknown format %q (want csv or jsonl)", f)
	}
	err = eachEvent(r.Context(), s.evlog, q, row)
	if err == nil {
		err = end()
	}
	return s.finish(st, r, err)
}

// VerifyResult is the answer of the verify route.
type VerifyResult struct {
	OK        bool   `json:"ok"`                   // the log and every record are intact
	Count     uint64 `json:"count"`                // events checked
	BrokenSeq uint64 `json:"broken_seq,omitempty"` // the first event of the first break in the log
	Reason    string `json:"reason,omitempty"`     // what is wrong there
	Records   int    `json:"records"`              // records checked against their events
	// Breaks are every break found, in the log and in the records; those a
	// head accepted say so.
	Breaks []controller.Break `json:"breaks,omitempty"`
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.ctrl.Verify(r.Context(), nil)
	if err != nil {
		return err
	}
	res := VerifyResult{OK: len(rep.Breaks) == 0, Count: rep.Events, Records: rep.Records, Breaks: rep.Breaks}
	for _, b := range rep.Breaks {
		if b.Kind == "" && b.From != 0 {
			res.BrokenSeq, res.Reason = b.From, b.Reason
			break
		}
	}
	if res.Reason == "" && len(rep.Breaks) > 0 {
		res.Reason = rep.Breaks[0].String()
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
