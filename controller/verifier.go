package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// This file runs the integrity checks: the log's tail at start (New),
// the whole log and every record in the background (verifyLoop), and on
// request (Verify). They report breaks; integrity.go records them.

// How the background check paces itself.
const (
	// DefaultVerifyDuty is the share of one CPU the background check takes
	// while it runs: after each batch it pauses for three times as long
	// as the batch took, so that on a single-core Pi it never starves the
	// decisions.
	DefaultVerifyDuty = 0.25
	// DefaultVerifyEvery is how often the background check walks the whole
	// log and every record again.
	DefaultVerifyEvery = 24 * time.Hour
	// checkpointEvery is how many events past the checkpoint the
	// background check lets pass before it verifies them and advances the
	// checkpoint, so that the tail checked at start stays short.
	checkpointEvery = 4096
	// followEvery is how often it looks whether that many have passed.
	followEvery = time.Minute
	// walkBatch is how many events or records are checked between pauses.
	walkBatch = 1024
)

// PageChecker is a store that can check its file's structure page by page
// (boltstore). The background check runs it after the log and records.
type PageChecker interface {
	CheckPages() error
}

// walker checks the log and the records of a store, collecting breaks.
type walker struct {
	store Store
	ctx   context.Context
	pace  func(n int) // called after each batch of n checked
	// records: check the records each event names against the store.
	records bool
	breaks  []Break
	events  uint64 // events checked
	nrecs   int    // records checked
	now     time.Time
	// progress, when set, hears where the walk is.
	progress func(phase string, at uint64)
	// pending are the records named by events verified since the last
	// batch, checked together (see eventRecords).
	pending []pendingRef
}

// pendingRef is a record an intact event named.
type pendingRef struct {
	ref RecordRef
	seq uint64 // the event
}

func (w *walker) found(b Break) {
	if b.Found.IsZero() {
		b.Found = w.now
	}
	if slices.ContainsFunc(w.breaks, func(x Break) bool { return x.covers(b) }) {
		return // the same record, seen from its event and from itself
	}
	w.breaks = append(w.breaks, b)
}

// chain verifies the log after cp up to seq last. It returns the last
// event it verified, as a checkpoint. Breaks are ranges of events that do
// not verify, merged while they follow each other; a part of the log the
// store cannot read is one break, and the walk goes on after it.
func (w *walker) chain(cp Checkpoint, last uint64) (Checkpoint, error) {
	v := VerifierAfter(cp.Seq, cp.Hash)
	resync := false
	var open *Break
	closeOpen := func() {
		if open != nil {
			w.found(*open)
			open = nil
		}
	}
	fail := func(from, to uint64, reason string) {
		if open != nil && from <= open.To+1 {
			open.To = max(open.To, to)
			return
		}
		closeOpen()
		open = &Break{From: from, To: to, Reason: reason}
	}
	next := cp.Seq + 1
	n := 0
	for next <= last {
		err := w.store.Events(EventQuery{FromSeq: next, ToSeq: last}, func(e Event) error {
			if resync {
				v, resync = VerifierAfter(e.Seq-1, e.Prev), false
			}
			if err := v.Next(e); err != nil {
				from, reason := e.Seq, err.Error()
				var ce *ChainError
				if errors.As(err, &ce) {
					from, reason = min(ce.Seq, e.Seq), ce.Reason
				}
				fail(from, e.Seq, reason)
				v = VerifierAfter(e.Seq, e.Hash)
			} else {
				closeOpen()
				if w.records {
					for _, r := range e.Records {
						w.pending = append(w.pending, pendingRef{ref: r, seq: e.Seq})
					}
				}
			}
			next = e.Seq + 1
			w.events++
			if n++; n%walkBatch == 0 {
				if err := w.eventRecords(); err != nil {
					return err
				}
				if w.progress != nil {
					w.progress("log", e.Seq)
				}
				w.pace(walkBatch)
				return w.ctx.Err()
			}
			return nil
		})
		if err == nil {
			if next <= last {
				// The log ends before last: events after it are gone.
				fail(next, last, fmt.Sprintf("missing: the log ends at seq %d", next-1))
			}
			break
		}
		if cerr := w.ctx.Err(); cerr != nil {
			return Checkpoint{}, cerr
		}
		if !errors.Is(err, ErrIntegrity) {
			return Checkpoint{}, fmt.Errorf("read the log from seq %d: %w", next, err)
		}
		// The store cannot read the log at next: find where it can again.
		r := w.readableFrom(next, last)
		fail(next, r-1, fmt.Sprintf("cannot be read: %v", err))
		next, resync = r, true
	}
	closeOpen()
	if err := w.eventRecords(); err != nil {
		return Checkpoint{}, err
	}
	s, h := v.Last()
	return Checkpoint{Seq: s, Hash: h}, nil
}

// readableFrom returns the first seq after from, up to last+1, from which
// the store reads the log again: it probes ahead doubling the step, then
// narrows down. A damaged page makes a run of events unreadable.
func (w *walker) readableFrom(from, last uint64) uint64 {
	readable := func(seq uint64) bool {
		err := w.store.Events(EventQuery{FromSeq: seq, ToSeq: seq}, func(Event) error { return nil })
		return err == nil
	}
	lo, hi := from, last+1 // from is unreadable; hi is readable or past the end
	for step := uint64(1); from+step <= last; step *= 2 {
		if readable(from + step) {
			hi = from + step
			break
		}
		lo = from + step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if readable(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// eventRecords checks the records the intact events of the last batch
// named: each must be stored, and written by that event or a later one. A
// record put back to an older sealed version passes the check at a
// decision; this is where it is caught. That the record written by the
// event has the digest the event recorded is sealed's part.
func (w *walker) eventRecords() error {
	if len(w.pending) == 0 {
		return nil
	}
	refs := make([]RecordRef, len(w.pending))
	for i, p := range w.pending {
		refs[i] = p.ref
	}
	seqs, err := w.store.SealedSeqs(refs)
	if err != nil {
		if !errors.Is(err, ErrIntegrity) {
			return fmt.Errorf("read records: %w", err)
		}
		w.found(breakOf(err))
		w.pending = w.pending[:0]
		return nil
	}
	for i, p := range w.pending {
		switch {
		case seqs[i] == 0:
			w.found(Break{Kind: p.ref.Kind, ID: p.ref.ID, Seq: p.seq, Reason: fmt.Sprintf("is missing; event #%d wrote it", p.seq)})
		case seqs[i] < p.seq:
			w.found(Break{Kind: p.ref.Kind, ID: p.ref.ID, Seq: seqs[i], Reason: fmt.Sprintf("is an older version (event #%d) than event #%d wrote", seqs[i], p.seq)})
		}
	}
	w.pending = w.pending[:0]
	return nil
}

// sealed checks every stored record against the event that sealed it, a
// page at a time: the event must name the record with the digest of what
// is stored (the chain walk checks the events themselves). Records written
// after seq last (while the walk ran) are left for the next walk.
func (w *walker) sealed(last uint64) error {
	for _, kind := range w.store.SealedKinds() {
		after := ""
		for {
			rs, err := w.store.Sealed(kind, after, walkBatch)
			if err != nil {
				if !errors.Is(err, ErrIntegrity) {
					return fmt.Errorf("read %s records: %w", kind, err)
				}
				w.found(Break{Kind: kind, ID: after, Reason: fmt.Sprintf("records after it cannot be read: %v", err)})
				break
			}
			seqs := make([]uint64, len(rs))
			for i, r := range rs {
				seqs[i] = r.Seq
			}
			evs, err := w.store.EventsAt(seqs)
			if err != nil {
				if !errors.Is(err, ErrIntegrity) {
					return fmt.Errorf("read the events of %s records: %w", kind, err)
				}
				w.found(breakOf(err))
				evs = make([]Event, len(rs))
			}
			for i, r := range rs {
				w.nrecs++
				if r.Seq > last {
					continue
				}
				if err := checkRef(r, evs[i]); err != nil {
					w.found(breakOf(err))
				}
			}
			if len(rs) < walkBatch {
				break
			}
			after = rs[len(rs)-1].ID
			if w.progress != nil {
				w.progress(string(kind)+" records", uint64(w.nrecs))
			}
			w.pace(len(rs))
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// pages runs the store's page check, if it has one.
func (w *walker) pages() {
	if pc, ok := w.store.(PageChecker); ok {
		if w.progress != nil {
			w.progress("pages", 0)
		}
		if err := pc.CheckPages(); err != nil {
			w.found(Break{Reason: err.Error()})
		}
	}
}

// newPacer returns a pace function that keeps the walk to duty of a CPU
// by pausing after each batch (duty 1 or more: no pause), until ctx ends.
func newPacer(ctx context.Context, duty float64) func(int) {
	if duty <= 0 {
		duty = DefaultVerifyDuty
	}
	last := time.Now()
	return func(int) {
		if duty >= 1 {
			return
		}
		worked := time.Since(last)
		t := time.NewTimer(time.Duration(float64(worked) * (1 - duty) / duty))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		last = time.Now()
	}
}

// checkTail is the check New runs before the controller answers anyone:
// the checkpoint still matches the log, and the events after it verify.
// It returns the breaks found and the new checkpoint.
func checkTail(store Store, in IntegrityState, last Event, now time.Time) ([]Break, Checkpoint, error) {
	w := &walker{store: store, ctx: context.Background(), pace: func(int) {}, records: true, now: now.UTC()}
	cp := in.Checkpoint
	switch {
	case cp.Seq > last.Seq:
		w.found(Break{From: last.Seq + 1, To: cp.Seq, Reason: fmt.Sprintf("missing: the log ends at seq %d, but it was verified to seq %d", last.Seq, cp.Seq)})
		return w.breaks, in.Checkpoint, nil
	case cp.Seq > 0:
		e, ok, err := store.Event(cp.Seq)
		switch {
		case err != nil:
			w.found(Break{From: cp.Seq, To: cp.Seq, Reason: fmt.Sprintf("the checkpoint's event cannot be read: %v", err)})
			cp = Checkpoint{}
		case !ok || e.Hash != cp.Hash:
			w.found(Break{From: cp.Seq, To: cp.Seq, Reason: "no longer the event the log was verified with (its hash changed)"})
		}
		if err == nil && ok {
			cp.Hash = e.Hash // go on from what is stored
		}
	}
	end, err := w.chain(cp, last.Seq)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	return w.breaks, end, nil
}

// verifyProgress is the background check's position, for Integrity.
type verifyProgress struct {
	lastPass time.Time
	at       uint64
	phase    string
}

// verifyLoop is the background check, owned by Run: a full pass over the
// log, the records and the pages soon after start and every VerifyEvery,
// and between passes the log's new events, to move the checkpoint.
func (c *Controller) verifyLoop(ctx context.Context) {
	every := c.opts.VerifyEvery
	if every <= 0 {
		every = DefaultVerifyEvery
	}
	pace := newPacer(ctx, c.opts.VerifyDuty)
	for {
		passEnd := time.Now().Add(every)
		if err := c.pass(ctx, pace); err != nil {
			if ctx.Err() == nil {
				c.log.Error("integrity check: pass failed", "err", err)
			}
		}
		for time.Now().Before(passEnd) {
			t := time.NewTimer(min(followEvery, time.Until(passEnd)))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if err := c.follow(ctx, pace, checkpointEvery); err != nil && ctx.Err() == nil {
				c.log.Error("integrity check: tail", "err", err)
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// where reads the controller's checkpoint and newest seq.
func (c *Controller) where(ctx context.Context) (Checkpoint, uint64, error) {
	var cp Checkpoint
	var last uint64
	err := c.do(ctx, func(time.Time) { cp, last = c.st.integ.Checkpoint, c.st.lastSeq })
	return cp, last, err
}

func (c *Controller) setProgress(phase string, at uint64) {
	c.progressMu.Lock()
	c.progress.phase, c.progress.at = phase, at
	c.progressMu.Unlock()
}

// pass walks the whole log, every record and the pages once.
func (c *Controller) pass(ctx context.Context, pace func(int)) error {
	_, last, err := c.where(ctx)
	if err != nil {
		return err
	}
	w := &walker{store: c.store, ctx: ctx, pace: pace, records: true, now: c.opts.Now().UTC(), progress: c.setProgress}
	end, err := w.chain(Checkpoint{}, last)
	if err != nil {
		return err
	}
	if err := w.sealed(last); err != nil {
		return err
	}
	w.pages()
	if err := c.reportBreaks(ctx, w.breaks); err != nil {
		return err
	}
	c.progressMu.Lock()
	c.progress = verifyProgress{lastPass: c.opts.Now().UTC()}
	c.progressMu.Unlock()
	c.log.Info("integrity check: pass done", "events", w.events, "records", w.nrecs, "breaks", len(w.breaks))
	cp, _, err := c.where(ctx)
	if err != nil || end.Seq < cp.Seq+checkpointEvery {
		return err
	}
	return c.checkpoint(ctx, end)
}

// follow verifies the events after the checkpoint once at least min of
// them have been written, and advances the checkpoint.
func (c *Controller) follow(ctx context.Context, pace func(int), least uint64) error {
	cp, last, err := c.where(ctx)
	if err != nil || last < cp.Seq+least {
		return err
	}
	w := &walker{store: c.store, ctx: ctx, pace: pace, records: true, now: c.opts.Now().UTC()}
	end, err := w.chain(cp, last)
	if err != nil {
		return err
	}
	if err := c.reportBreaks(ctx, w.breaks); err != nil {
		return err
	}
	return c.checkpoint(ctx, end)
}

// checkpoint commits a checkpoint event, if cp is past the current one.
func (c *Controller) checkpoint(ctx context.Context, cp Checkpoint) error {
	return c.do(ctx, func(now time.Time) {
		if cp.Seq <= c.st.integ.Checkpoint.Seq {
			return
		}
		st := c.st.begin(now)
		st.advanceCheckpoint(cp)
		c.process(st)
	})
}

// VerifyReport is the answer of Verify.
type VerifyReport struct {
	// Events and Records are how many were checked.
	Events  uint64 `json:"events"`
	Records int    `json:"records"`
	// Breaks are every break found, in the log first; those a head
	// accepted carry the acceptance.
	Breaks []Break `json:"breaks"`
}

// Verify checks the whole log and every record now, without pausing, and
// reports every break; breaks not known before raise the integrity alarm.
// progress, if not nil, hears where it is.
func (c *Controller) Verify(ctx context.Context, progress func(phase string, at uint64)) (VerifyReport, error) {
	_, last, err := c.where(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	var in IntegrityState
	if err := c.do(ctx, func(time.Time) { in = c.st.integ.clone() }); err != nil {
		return VerifyReport{}, err
	}
	w := &walker{store: c.store, ctx: ctx, pace: func(int) {}, records: true, now: c.opts.Now().UTC(), progress: progress}
	if _, err := w.chain(Checkpoint{}, last); err != nil {
		return VerifyReport{}, err
	}
	if err := w.sealed(last); err != nil {
		return VerifyReport{}, err
	}
	w.pages()
	if err := c.reportBreaks(ctx, w.breaks); err != nil {
		return VerifyReport{}, err
	}
	rep := VerifyReport{Events: w.events, Records: w.nrecs, Breaks: []Break{}}
	for _, b := range w.breaks {
		if i := slices.IndexFunc(in.Accepted, func(a Break) bool { return a.covers(b) }); i >= 0 {
			a := in.Accepted[i]
			b.AcceptedBy, b.AcceptedAt, b.AcceptedSeq, b.Note = a.AcceptedBy, a.AcceptedAt, a.AcceptedSeq, a.Note
		}
		rep.Breaks = append(rep.Breaks, b)
	}
	return rep, nil
}

// progressMu guards the background check's progress, read by Integrity.
type progressState struct {
	progressMu sync.Mutex
	progress   verifyProgress
}
