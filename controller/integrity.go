package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the integrity of the log and the records: the breaks the
// checks find, the integrity alarm that refuses entry while any break is
// not accepted, a head accepting them, and the checkpoint up to which the
// log is known good. verifier.go runs the checks.

// Checkpoint is a point up to which the log was verified: the seq and hash
// of the last event checked.
type Checkpoint struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Break is a part of the log or a record that failed its integrity check.
// A break in the log names the range of events that do not verify; a
// record break names the record and the event it names (Seq); a break with
// neither is the store's file itself (a page that does not hold together).
type Break struct {
	From   uint64     `json:"from,omitempty"`
	To     uint64     `json:"to,omitempty"`
	Kind   RecordKind `json:"kind,omitempty"`
	ID     string     `json:"id,omitempty"`
	Seq    uint64     `json:"seq,omitempty"`
	Reason string     `json:"reason"`
	Found  time.Time  `json:"found"`
	// Set when a head accepted the break.
	AcceptedBy  string    `json:"accepted_by,omitempty"`
	AcceptedAt  time.Time `json:"accepted_at,omitzero"`
	AcceptedSeq uint64    `json:"accepted_seq,omitempty"` // the integrity_accepted event
	Note        string    `json:"note,omitempty"`
}

func (b Break) String() string {
	switch {
	case b.Kind != "":
		return fmt.Sprintf("%s %s: %s", b.Kind, b.ID, b.Reason)
	case b.From == 0:
		return "the database file: " + b.Reason
	case b.From == b.To:
		return fmt.Sprintf("seq %d: %s", b.From, b.Reason)
	}
	return fmt.Sprintf("seq %d..%d: %s", b.From, b.To, b.Reason)
}

// covers reports whether b already stands for o: the same record and
// event, or a log range that contains o's.
func (b Break) covers(o Break) bool {
	switch {
	case b.Kind != "" || o.Kind != "":
		return b.Kind == o.Kind && b.ID == o.ID && b.Seq == o.Seq
	case b.From == 0 || o.From == 0:
		return b.From == o.From && b.Reason == o.Reason
	}
	return b.From <= o.From && o.To <= b.To
}

// maxBreaks bounds the breaks listed at once: a log damaged everywhere is
// one alarm, and the rest are still written as integrity_break events.
const maxBreaks = 64

// IntegrityState is the integrity check's durable state.
type IntegrityState struct {
	// Checkpoint is where the log was last verified up to.
	Checkpoint Checkpoint `json:"checkpoint"`
	// Breaks are found and not accepted: while there is one, every entry
	// read is refused integrity_failure.
	Breaks []Break `json:"breaks,omitempty"`
	// Accepted are breaks a head accepted; the checks do not raise them
	// again.
	Accepted []Break `json:"accepted,omitempty"`
}

func (s IntegrityState) clone() IntegrityState {
	s.Breaks, s.Accepted = slices.Clone(s.Breaks), slices.Clone(s.Accepted)
	return s
}

// known reports whether b is listed or accepted already.
func (s IntegrityState) known(b Break) bool {
	return slices.ContainsFunc(s.Breaks, func(x Break) bool { return x.covers(b) }) ||
		slices.ContainsFunc(s.Accepted, func(x Break) bool { return x.covers(b) })
}

// broken reports whether entry must be refused: a break is listed, or
// found but not yet written (commits failing).
func (s *state) broken() bool { return len(s.integ.Breaks) > 0 || len(s.unrecorded) > 0 }

// integrity returns the step's copy of the integrity state, to change.
func (st *step) integrity() *IntegrityState {
	if st.integ == nil {
		in := st.s.integ.clone()
		st.integ = &in
	}
	return st.integ
}

// broken is state.broken with the step's own findings.
func (st *step) broken() bool {
	if st.integ != nil && len(st.integ.Breaks) > 0 {
		return true
	}
	return st.s.broken() || st.faulted()
}

// addBreak records a break unless it is known: an integrity_break event,
// the break listed, and the integrity alarm raised. It reports whether the
// break was new.
func (st *step) addBreak(b Break) bool {
	in := st.integrity()
	if in.known(b) {
		return false
	}
	if b.Found.IsZero() {
		b.Found = st.now.UTC()
	}
	st.emit(Event{Type: EventIntegrityBreak, Detail: truncate(b.String())})
	if len(in.Breaks) < maxBreaks {
		in.Breaks = append(in.Breaks, b)
	}
	st.raise(Alarm{Kind: AlarmIntegrity, Detail: truncate(b.String())})
	return true
}

// recordFaults turns the step's failed reads into breaks.
func (st *step) recordFaults() {
	faults := st.faults
	st.faults = nil
	for _, err := range faults {
		st.addBreak(breakOf(err))
	}
}

// breakOf turns a failed check or read into the break it reveals.
func breakOf(err error) Break {
	var ie *IntegrityError
	if !errors.As(err, &ie) {
		return Break{Reason: err.Error()}
	}
	reason := ie.Reason
	if ie.Err != nil {
		reason += ": " + ie.Err.Error()
	}
	if ie.Kind != "" {
		return Break{Kind: ie.Kind, ID: ie.ID, Seq: ie.Seq, Reason: reason}
	}
	return Break{From: ie.Seq, To: ie.Seq, Reason: reason}
}

func truncate(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return strings.ToValidUTF8(s[:maxDetail], "") + "..."
}

// acceptIntegrity is the head accepting every listed break, with a note:
// an integrity_accepted event names them and who accepted, a record whose
// content no longer matches is sealed again as it is (record_sealed, by
// the head), and the integrity alarm ends.
func (s *state) acceptIntegrity(now time.Time, by Actor, note string) (*step, []Break, error) {
	p, err := s.actor(by)
	if err != nil {
		return nil, nil, err
	}
	if !p.Has(RoleHead) {
		return nil, nil, fmt.Errorf("%w: %s (%s) may not accept an integrity break: that is for the head", ErrWrongRole, p.ID, rolesText(p.Roles))
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, nil, fmt.Errorf("%w: accepting an integrity break needs a note saying what was found and done (--note)", ErrInvalid)
	}
	if len(s.integ.Breaks) == 0 {
		if len(s.unrecorded) > 0 {
			return nil, nil, fmt.Errorf("%w: the breaks found cannot be written to the log now; accept them once it can", ErrStorage)
		}
		return nil, nil, fmt.Errorf("%w: no integrity break to accept", ErrAlready)
	}
	st := s.begin(now)
	in := st.integrity()
	breaks := in.Breaks
	for _, b := range breaks {
		if b.Kind == "" {
			continue
		}
		seal, detail, err := s.reseal(st, b)
		if err != nil {
			return nil, nil, err
		}
		if seal != nil {
			st.emit(Event{Type: EventRecordSealed, Actor: p.ID, Via: by.via(), Detail: truncate(detail)}, seal)
		}
	}
	texts := make([]string, len(breaks))
	for i, b := range breaks {
		texts[i] = b.String()
	}
	seq := st.emit(Event{Type: EventIntegrityAccepted, Actor: p.ID, Via: by.via(), Detail: truncate(strings.Join(texts, "; ") + "; note: " + note)})
	for i := range breaks {
		breaks[i].AcceptedBy, breaks[i].AcceptedAt, breaks[i].AcceptedSeq, breaks[i].Note = p.ID, now.UTC(), seq, note
	}
	in.Accepted = append(in.Accepted, breaks...)
	in.Breaks = nil
	for _, a := range st.alarmSet() {
		if a.Kind == AlarmIntegrity && !a.Acked() {
			a.AckedBy, a.AckedAt, a.AckNote = p.ID, now.UTC(), note
			st.alarmEvent(EventAlarmAcked, a, p.ID, by.via(), note)
			st.setAlarm(a)
		}
	}
	st.clear(AlarmIntegrity, func(Alarm) bool { return true })
	for id, a := range st.alarmSet() {
		if a.Kind == AlarmIntegrity && !a.Active {
			st.dropAlarm(id)
		}
	}
	return st, breaks, nil
}

// reseal returns the sealer that seals a broken record as it is stored,
// or nil when it is gone (or sealed again since).
func (s *state) reseal(st *step, b Break) (sealer, string, error) {
	raw := s.rec.Unchecked()
	what := fmt.Sprintf("%s %s sealed as found, accepting: %s", b.Kind, b.ID, b.Reason)
	wrap := func(err error) error { return fmt.Errorf("read %s %s to seal it again: %w", b.Kind, b.ID, err) }
	switch b.Kind {
	case RecordPerson:
		p, ok, err := raw.Person(b.ID)
		if err != nil || !ok {
			return nil, "", orNil(err, wrap)
		}
		return st.sealPerson(p), what, nil
	case RecordCard:
		c, ok, err := raw.Card(b.ID)
		if err != nil || !ok {
			return nil, "", orNil(err, wrap)
		}
		return st.sealCard(c), what, nil
	case RecordVisit:
		v, ok, err := raw.Visit(b.ID)
		if err != nil || !ok {
			return nil, "", orNil(err, wrap)
		}
		return st.sealVisit(v), what, nil
	case RecordKey:
		if k, ok := s.rec.badKey(b.ID); ok {
			return st.sealKey(k), what, nil
		}
	}
	// A kind the domain does not know (an adapter's own records): the
	// adapter seals it again when it sees the break accepted.
	return nil, "", nil
}

func orNil(err error, wrap func(error) error) error {
	if err == nil {
		return nil
	}
	return wrap(err)
}

// advanceCheckpoint records that the log verified up to cp.
func (st *step) advanceCheckpoint(cp Checkpoint) {
	in := st.integrity()
	if cp.Seq <= in.Checkpoint.Seq {
		return
	}
	in.Checkpoint = cp
	st.emit(Event{Type: EventCheckpoint, Detail: fmt.Sprintf("log verified to seq %d (hash %s)", cp.Seq, cp.Hash)})
}

// IntegrityStatus is what `pintuctl integrity` shows.
type IntegrityStatus struct {
	Checkpoint Checkpoint `json:"checkpoint"`
	Breaks     []Break    `json:"breaks"`
	Accepted   []Break    `json:"accepted"`
	// The background check: when its last full pass ended (zero: none
	// yet) and how far the current one is.
	LastPass  time.Time `json:"last_pass,omitzero"`
	PassAt    uint64    `json:"pass_at,omitempty"`
	PassPhase string    `json:"pass_phase,omitempty"`
}

// Integrity returns the integrity check's state.
func (c *Controller) Integrity(ctx context.Context) (IntegrityStatus, error) {
	var s IntegrityStatus
	err := c.do(ctx, func(time.Time) {
		in := c.st.integ.clone()
		s = IntegrityStatus{Checkpoint: in.Checkpoint, Breaks: in.Breaks, Accepted: in.Accepted}
		s.Breaks = append(s.Breaks, c.st.unrecorded...)
		if s.Breaks == nil {
			s.Breaks = []Break{}
		}
		if s.Accepted == nil {
			s.Accepted = []Break{}
		}
	})
	c.progressMu.Lock()
	s.LastPass, s.PassAt, s.PassPhase = c.progress.lastPass, c.progress.at, c.progress.phase
	c.progressMu.Unlock()
	return s, err
}

// AcceptIntegrity is the head accepting the listed integrity breaks, with
// a note saying what was found and done. It returns the breaks accepted.
func (c *Controller) AcceptIntegrity(ctx context.Context, by Actor, note string) ([]Break, error) {
	note = normalizeNote(note)
	if err := CheckText("note", note, MaxNoteLen, true); err != nil {
		return nil, err
	}
	var bs []Break
	err := c.runAs(ctx, by, "accept the integrity breaks", Event{}, func(now time.Time) (*step, error) {
		st, x, err := c.st.acceptIntegrity(now, by, note)
		bs = x
		return st, err
	})
	return bs, err
}

// reportBreaks records breaks found outside the Run goroutine (the
// background check, a store read for the API).
func (c *Controller) reportBreaks(ctx context.Context, bs []Break) error {
	if len(bs) == 0 {
		return nil
	}
	return c.do(ctx, func(now time.Time) {
		st := c.st.begin(now)
		for _, b := range bs {
			st.addBreak(b)
		}
		c.process(st)
	})
}

// StoreFault is how an adapter that reads the store directly (the MQTT
// outbox) reports a read that hit damage: an error wrapping ErrIntegrity
// raises the integrity alarm like any other break. Other errors are
// ignored.
func (c *Controller) StoreFault(ctx context.Context, err error) {
	if errors.Is(err, ErrIntegrity) {
		_ = c.reportBreaks(ctx, []Break{breakOf(err)})
	}
}

// checkedLog is the audit log as the controller hands it out: a read that
// hits damage raises the integrity alarm before its error goes back to
// the reader.
type checkedLog struct{ c *Controller }

func (l checkedLog) Events(q EventQuery, fn func(Event) error) error {
	var fnErr error
	err := l.c.store.Events(q, func(e Event) error {
		fnErr = fn(e)
		return fnErr
	})
	if err != nil && fnErr == nil && errors.Is(err, ErrIntegrity) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.c.StoreFault(ctx, err)
	}
	return err
}

// faultStep is a step that records only the break err reveals.
func (s *state) faultStep(now time.Time, err error) *step {
	st := s.begin(now)
	st.addBreak(breakOf(err))
	return st
}
