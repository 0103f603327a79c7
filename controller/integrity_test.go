package controller_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

// memHarness runs fn with a harness on a memstore, which a test can change
// behind the controller's back as someone with the database file would.
func memHarness(t *testing.T, fn func(t *testing.T, h *harness)) {
	synctest.Test(t, func(t *testing.T) {
		h := &harness{t: t, kind: "memstore", cfg: controller.DefaultConfig(), act: &relays{}, logs: &countingHandler{},
			synced: true, mem: memstore.New(), verifyEvery: time.Hour}
		h.start()
		t.Cleanup(h.shutdown)
		fn(t, h)
	})
}

func (h *harness) eventTypes() []controller.EventType {
	var ts []controller.EventType
	for _, e := range h.events() {
		ts = append(ts, e.Type)
	}
	return ts
}

// TestTamperedRecordRefused is the case: a visitor's role changed
// to officer in the database while pintud was down. Before, the visitor
// was let in alone. Now the read is refused integrity_failure, the alarm
// is raised, every entry is refused and egress still opens, verify names
// the record, and only the head's acceptance, with a note, opens entry
// again.
func TestTamperedRecordRefused(t *testing.T) {
	memHarness(t, func(t *testing.T, h *harness) {
		h.cast()
		h.mem.Tamper("vina", func(p controller.Person) controller.Person {
			p.Roles = []controller.Role{controller.RoleOfficer}
			return p
		})
		h.restart()
		if r := h.in("vina"); r.Decision != controller.Denied || r.Reason != controller.ReasonIntegrityFailure {
			t.Fatalf("the tampered visitor's read = %+v, want denied integrity_failure", r)
		}
		if !h.active(controller.AlarmIntegrity) {
			t.Fatal("no integrity alarm after a record failed its check")
		}
		if r := h.in("oki"); r.Decision != controller.Denied || r.Reason != controller.ReasonIntegrityFailure {
			t.Errorf("an officer's read while the break stands = %+v, want denied integrity_failure", r)
		}
		if r := h.out("oki"); r.Decision != controller.Granted || !h.act.released("server-room") {
			t.Errorf("an exit read while the break stands = %+v, want granted and released", r)
		}
		rep, err := h.c.Verify(h.ctx(), nil)
		h.must(err)
		if len(rep.Breaks) != 1 || rep.Breaks[0].Kind != controller.RecordPerson || rep.Breaks[0].ID != "vina" {
			t.Errorf("Verify() breaks = %+v, want person vina", rep.Breaks)
		}
		for _, tt := range []struct {
			by   controller.Actor
			note string
			want error
		}{{as("oki"), "seen", controller.ErrWrongRole}, {as("hasan"), " ", controller.ErrInvalid},
			{as("nobody"), "x", controller.ErrUnauthenticated}, {root, "root is not the head", controller.ErrUnauthenticated},
			{controller.Actor{Via: controller.ViaSocket, Person: "oki", Claim: "hasan"}, "claims to be the head", controller.ErrUnauthenticated}} {
			if _, err := h.c.AcceptIntegrity(h.ctx(), tt.by, tt.note); !errors.Is(err, tt.want) {
				t.Errorf("AcceptIntegrity(%+v, %q) = %v, want %v", tt.by, tt.note, err, tt.want)
			}
		}
		if r := h.in("oki"); r.Reason != controller.ReasonIntegrityFailure {
			t.Errorf("entry after refused acceptances = %+v, want still integrity_failure", r)
		}
		bs, err := h.c.AcceptIntegrity(h.ctx(), as("hasan"), "vina's record was edited; checked with the form; sealed as found")
		if err != nil || len(bs) != 1 || bs[0].AcceptedBy != "hasan" {
			t.Fatalf("AcceptIntegrity(hasan) = %+v, %v", bs, err)
		}
		if _, err := h.c.AcceptIntegrity(h.ctx(), as("hasan"), "again"); !errors.Is(err, controller.ErrAlready) {
			t.Errorf("a second acceptance = %v, want ErrAlready", err)
		}
		if h.active(controller.AlarmIntegrity) {
			t.Error("integrity alarm still active after the head accepted")
		}
		if _, listed := h.listed(controller.AlarmIntegrity); listed {
			t.Error("integrity alarm still listed after the head accepted it (the acceptance acknowledges it)")
		}
		if r := h.in("oki"); r.Decision != controller.Granted {
			t.Errorf("an officer's read after the acceptance = %+v, want granted", r)
		}
		// Accepting seals the record as it was found: the head owns that.
		if p, err := h.c.Person(h.ctx(), "vina"); err != nil || !p.Has(controller.RoleOfficer) {
			t.Errorf("vina after the acceptance = %+v, %v; want her record as found", p, err)
		}
		types := h.eventTypes()
		for _, want := range []controller.EventType{controller.EventIntegrityBreak, controller.EventRecordSealed, controller.EventIntegrityAccepted} {
			if !slices.Contains(types, want) {
				t.Errorf("the log has no %s event", want)
			}
		}
		accepted := h.events()[slices.Index(types, controller.EventIntegrityAccepted)]
		if accepted.Actor != "hasan" || !strings.Contains(accepted.Detail, "person vina:") || !strings.Contains(accepted.Detail, "sealed as found") {
			t.Errorf("integrity_accepted event = %+v, want it to name the record, the head and the note", accepted)
		}
		rep, err = h.c.Verify(h.ctx(), nil)
		if err != nil || len(rep.Breaks) != 0 {
			t.Errorf("Verify() after the acceptance = %+v, %v; want nothing", rep, err)
		}
		// The acceptance survives a restart.
		h.restart()
		if r := h.in("putri"); r.Decision != controller.Granted {
			t.Errorf("entry after a restart = %+v, want granted", r)
		}
	})
}

// TestLogBreakFoundAtStart: an event changed while pintud was down is
// found before the controller answers anyone.
func TestLogBreakFoundAtStart(t *testing.T) {
	memHarness(t, func(t *testing.T, h *harness) {
		h.cast()
		h.in("oki")
		h.out("oki")
		n := uint64(len(h.events()))
		h.mem.TamperEvent(n-1, func(e *controller.Event) bool { e.Card = "card-putri"; return true })
		h.restart()
		a, ok := h.listed(controller.AlarmIntegrity)
		if !ok || !a.Active || !strings.Contains(a.Detail, "hash does not match the event's contents") {
			t.Fatalf("integrity alarm after a restart on an edited event = %+v, %v", a, ok)
		}
		st, err := h.c.Integrity(h.ctx())
		h.must(err)
		if len(st.Breaks) != 1 || st.Breaks[0].From != n-1 || st.Breaks[0].To != n-1 {
			t.Errorf("Integrity().Breaks = %+v, want seq %d", st.Breaks, n-1)
		}
		if r := h.in("oki"); r.Reason != controller.ReasonIntegrityFailure {
			t.Errorf("entry = %+v, want integrity_failure", r)
		}
		// A restart does not make it go away, nor raise it twice.
		h.restart()
		if r := h.in("oki"); r.Reason != controller.ReasonIntegrityFailure {
			t.Errorf("entry after another restart = %+v, want integrity_failure", r)
		}
		breaks := 0
		for _, e := range h.events() {
			if e.Type == controller.EventIntegrityBreak {
				breaks++
			}
		}
		if breaks != 1 {
			t.Errorf("%d integrity_break events after two restarts, want 1", breaks)
		}
	})
}

// TestLogBreakFoundInBackground: an event changed while pintud runs, in a
// part of the log checked at start, is found by the background check's
// next pass.
func TestLogBreakFoundInBackground(t *testing.T) {
	memHarness(t, func(t *testing.T, h *harness) {
		h.cast()
		h.mem.TamperEvent(3, func(e *controller.Event) bool { e.Actor = "someone"; return true })
		if r := h.in("oki"); r.Decision != controller.Granted {
			t.Fatalf("entry before the check came round = %+v", r)
		}
		h.advance(time.Hour + time.Minute)
		if !h.active(controller.AlarmIntegrity) {
			t.Fatal("no integrity alarm after the background check's next pass")
		}
		if r := h.in("putri"); r.Reason != controller.ReasonIntegrityFailure {
			t.Errorf("entry after the background check found the break = %+v, want integrity_failure", r)
		}
	})
}

// failingReads is a store whose log reads hit damage from a seq on, once
// fail is set.
type failingReads struct {
	controller.Store
	from atomic.Uint64
}

func (s *failingReads) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	return s.Store.Events(q, func(e controller.Event) error {
		if f := s.from.Load(); f != 0 && e.Seq >= f {
			return &controller.IntegrityError{Seq: e.Seq, Reason: "cannot be read", Err: errors.New("bad page")}
		}
		return fn(e)
	})
}

// TestReadFaultRaisesAlarm: a reader of the log (an export, an MQTT gap
// fill) that hits damage gets the error, and the integrity alarm goes up.
func TestReadFaultRaisesAlarm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &failingReads{Store: memstore.New()}
		c, err := controller.New(controller.DefaultConfig(), s, nil, controller.Options{VerifyEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		s.from.Store(1)
		n := 0
		err = c.Log().Events(controller.EventQuery{}, func(controller.Event) error { n++; return nil })
		if !errors.Is(err, controller.ErrIntegrity) || n != 0 {
			t.Fatalf("reading a damaged log = %d events, %v; want an integrity error", n, err)
		}
		st, err := c.Status(ctx)
		if err != nil || !slices.ContainsFunc(st.Alarms, func(a controller.Alarm) bool { return a.Kind == controller.AlarmIntegrity }) {
			t.Errorf("status after a damaged read = %+v, %v; want the integrity alarm", st.Alarms, err)
		}
		// A reader's own error is the reader's: no alarm for it.
		s.from.Store(0)
		mine := errors.New("client went away")
		if err := c.Log().Events(controller.EventQuery{}, func(controller.Event) error { return mine }); err != mine {
			t.Errorf("Events with fn failing = %v, want fn's error", err)
		}
	})
}
