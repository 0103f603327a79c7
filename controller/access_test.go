package controller

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestDenials covers every denial reason of the access rule. Each case sets
// up a rig, then the final tap (reader, person) must be denied with reason.
func TestDenials(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*Config)
		setup  func(r *rig)
		person string // tapped at the entry reader as card-<person>
		card   string // overrides the card
		want   Reason
	}{
		{name: "unknown card", card: "card-nobody", want: ReasonUnknownCard},
		{name: "revoked", setup: func(r *rig) { r.must(r.s.revokeCard(r.now, "card-oki", root)) }, person: "oki", want: ReasonRevoked},
		{name: "visitor without visit", person: "vina", want: ReasonNotApproved},
		{name: "visit only submitted", setup: func(r *rig) {
			if _, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "x"}, "adi"); err != nil {
				t.Fatal(err)
			}
		}, person: "vina", want: ReasonNotApproved},
		{name: "before window", setup: func(r *rig) {
			id, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "x", From: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}, "adi")
			if err != nil {
				t.Fatal(err)
			}
			approved(r, id)
			r.tap("entry", "oki")
		}, person: "vina", want: ReasonOutsideWindow},
		{name: "after window", setup: func(r *rig) {
			r.approvedVisit("")
			r.advance(3 * time.Hour)
			r.tap("entry", "oki")
		}, person: "vina", want: ReasonOutsideWindow},
		{name: "escort not authorized: head has no escort rights", setup: func(r *rig) {
			r.approvedVisit("")
			r.tap("entry", "hasan")
		}, person: "vina", want: ReasonEscortNotAuthorized},
		{name: "escort not authorized: not the named escort", setup: func(r *rig) {
			r.approvedVisit("citra")
			r.tap("entry", "oki")
		}, person: "vina", want: ReasonEscortNotAuthorized},
		{name: "already inside", setup: func(r *rig) {
			r.approvedVisit("")
			r.tap("entry", "oki")
			r.tap("entry", "vina")
			r.tap("entry", "oki")
		}, person: "vina", want: ReasonAlreadyInside},
		{name: "lockdown", setup: func(r *rig) { r.lockdown(true, "citra") }, person: "oki", want: ReasonLockdown},
		{name: "lockdown visitor", setup: func(r *rig) {
			r.approvedVisit("")
			r.tap("entry", "oki")
			r.lockdown(true, "citra")
		}, person: "vina", want: ReasonLockdown},
		{name: "clock unsynced", setup: func(r *rig) {
			r.approvedVisit("")
			r.tap("entry", "oki")
			r.s.synced = false
		}, person: "vina", want: ReasonClockUnsynced},
		{name: "clock behind the log", setup: func(r *rig) {
			r.approvedVisit("")
			r.advance(time.Minute)
			r.tap("entry", "oki")
			r.now = r.now.Add(-30 * time.Second)
		}, person: "vina", want: ReasonClockUnsynced},
		{name: "no room access", person: "adi", want: ReasonNoRoomAccess},
		{name: "head alone", person: "hasan", want: ReasonNoRoomAccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			r := newRig(t, mods...)
			r.staff()
			if tt.setup != nil {
				tt.setup(r)
			}
			card := tt.card
			if card == "" {
				card = "card-" + tt.person
			}
			before := r.strike()
			res, st, err := r.s.tap(r.now, "server-room", "entry", card)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.commit(st); err != nil {
				t.Fatal(err)
			}
			if res.Decision != Denied || res.Reason != tt.want {
				t.Fatalf("tap = %s/%s, want denied/%s", res.Decision, res.Reason, tt.want)
			}
			last := r.log()[st.resultSeq()-1]
			if last.Type != EventAccess || last.Decision != Denied || last.Reason != tt.want || last.Card != card {
				t.Errorf("logged %+v, want the denial", last)
			}
			if slices.ContainsFunc(st.strikes, func(s strike) bool { return s.unlocked }) {
				t.Errorf("denial released the strike (was unlocked=%v)", before)
			}
		})
	}
}

func TestEscortWindow(t *testing.T) {
	tests := []struct {
		name       string
		first      string
		gap        time.Duration
		second     string
		wantFirst  Decision
		wantSecond Decision
		visitor    Decision // the visitor's final outcome
		reason     Reason
	}{
		{"escort first", "oki", 10 * time.Second, "vina", Granted, Granted, Granted, ""},
		{"visitor first", "vina", 10 * time.Second, "oki", Pending, Granted, Granted, ""},
		{"escort first, just inside window", "oki", 29 * time.Second, "vina", Granted, Granted, Granted, ""},
		{"escort first, window over", "oki", 30 * time.Second, "vina", Granted, Pending, Denied, ReasonEscortRequired},
		{"visitor first, window over", "vina", 30 * time.Second, "oki", Pending, Granted, Denied, ReasonEscortRequired},
		{"coordinator escorts", "vina", time.Second, "citra", Pending, Granted, Granted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.staff()
			id := r.approvedVisit("")
			if got := r.tap("entry", tt.first); got.Decision != tt.wantFirst {
				t.Fatalf("first tap %s = %+v, want %s", tt.first, got, tt.wantFirst)
			}
			r.advance(tt.gap)
			if got := r.tap("entry", tt.second); got.Decision != tt.wantSecond {
				t.Fatalf("second tap %s = %+v, want %s", tt.second, got, tt.wantSecond)
			}
			r.advance(time.Minute) // let any waiting read run out
			var final Event
			for _, e := range r.log() {
				if e.Type == EventAccess && e.Person == "vina" && e.Decision != Pending {
					final = e
				}
			}
			if final.Decision != tt.visitor || final.Reason != tt.reason {
				t.Fatalf("visitor outcome = %s/%s, want %s/%s", final.Decision, final.Reason, tt.visitor, tt.reason)
			}
			wantState := StateApproved
			if tt.visitor == Granted {
				wantState = StateInside
			}
			if got := r.visitState(id); got != wantState {
				t.Errorf("visit state = %s, want %s", got, wantState)
			}
			if r.inside("vina") != (tt.visitor == Granted) {
				t.Errorf("visitor inside = %v, want %v", r.inside("vina"), tt.visitor == Granted)
			}
		})
	}
}

func TestVisitorWaitsThenRunsOut(t *testing.T) {
	r := newRig(t)
	r.staff()
	r.approvedVisit("")
	if got := r.tap("entry", "vina"); got.Decision != Pending || got.Reason != ReasonWaitingForEscort {
		t.Fatalf("tap = %+v, want pending waiting_for_escort", got)
	}
	next, ok := r.s.nextDeadline()
	if !ok || !next.Equal(r.now.Add(30*time.Second)) {
		t.Fatalf("next deadline = %v %v, want %v", next, ok, r.now.Add(30*time.Second))
	}
	r.advance(30 * time.Second)
	last := r.last()
	if last.Person != "vina" || last.Decision != Denied || last.Reason != ReasonEscortRequired {
		t.Fatalf("last event = %+v, want vina denied escort_required", last)
	}
	if r.strike() {
		t.Fatal("strike released for a visitor without escort")
	}
	// The escort arriving late is just staff entering.
	if got := r.tap("entry", "oki"); got.Decision != Granted || r.inside("vina") {
		t.Fatalf("late escort = %+v, visitor inside %v; want granted, visitor not inside", got, r.inside("vina"))
	}
}

func TestStaffAlone(t *testing.T) {
	r := newRig(t)
	r.staff()
	res := r.tap("entry", "oki")
	if res.Decision != Granted || !r.strike() || !r.inside("oki") {
		t.Fatalf("officer tap = %+v strike %v inside %v, want granted, unlocked, inside", res, r.strike(), r.inside("oki"))
	}
	r.advance(5 * time.Second)
	if r.strike() {
		t.Fatal("strike still released after the unlock time")
	}
	r.tap("exit", "oki")
	if r.inside("oki") {
		t.Fatal("officer inside after exit")
	}
}

func TestTwoPersonRule(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Doors[0].TwoPerson = true })
	r.staff()
	if got := r.tap("entry", "oki"); got.Decision != Pending || got.Reason != ReasonWaitingForSecond {
		t.Fatalf("first = %+v, want pending", got)
	}
	if got := r.tap("entry", "oki"); got.Decision != Pending {
		t.Fatalf("same person again = %+v, want still pending", got)
	}
	if got := r.tap("entry", "citra"); got.Decision != Granted || !r.inside("oki") || !r.inside("citra") {
		t.Fatalf("second = %+v, want both granted and inside", got)
	}
	r.tap("exit", "oki")
	r.tap("exit", "citra")
	r.advance(time.Minute)
	r.tap("entry", "oki")
	r.advance(30 * time.Second)
	last := r.last()
	if last.Person != "oki" || last.Reason != ReasonTwoPersonRequired {
		t.Fatalf("alone = %+v, want denied two_person_required", last)
	}
}

func TestExitNeverBlocked(t *testing.T) {
	r := newRig(t)
	r.staff()
	r.lockdown(true, "citra")
	for _, card := range []string{"card-oki", "card-stranger"} {
		res, st, err := r.s.tap(r.now, "server-room", "exit", card)
		if err != nil {
			t.Fatal(err)
		}
		r.commit(st)
		if res.Decision != Granted || !r.strike() {
			t.Fatalf("exit %s in lockdown = %+v, want granted and strike released", card, res)
		}
		r.advance(10 * time.Second)
	}
	r.rex()
	if !r.strike() {
		t.Fatal("REX did not release the strike")
	}
}

func TestAlarms(t *testing.T) {
	t.Run("visitor_unescorted raised and cleared by visitor exit", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		id := r.approvedVisit("")
		r.tap("entry", "oki")
		r.tap("entry", "vina")
		r.tap("exit", "oki")
		if !r.hasAlarm(AlarmVisitorUnescorted) {
			t.Fatalf("alarms = %v, want visitor_unescorted", r.alarms())
		}
		r.tap("exit", "vina")
		if r.hasAlarm(AlarmVisitorUnescorted) || r.visitState(id) != StateExited {
			t.Fatalf("alarms = %v state %s, want cleared and exited", r.alarms(), r.visitState(id))
		}
	})
	t.Run("visitor_unescorted cleared by escort returning", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		r.approvedVisit("")
		r.tap("entry", "oki")
		r.tap("entry", "vina")
		r.tap("exit", "oki")
		r.advance(time.Minute)
		r.tap("entry", "oki")
		if r.hasAlarm(AlarmVisitorUnescorted) {
			t.Fatalf("alarms = %v, want cleared when the escort is back", r.alarms())
		}
	})
	t.Run("overstay raised at window end and cleared on exit", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		r.approvedVisit("")
		r.tap("entry", "oki")
		r.tap("entry", "vina")
		r.advance(time.Hour + 59*time.Minute)
		if r.hasAlarm(AlarmOverstay) {
			t.Fatal("overstay before the window ends")
		}
		r.advance(time.Minute)
		if !r.hasAlarm(AlarmOverstay) {
			t.Fatalf("alarms = %v, want overstay", r.alarms())
		}
		r.tap("exit", "vina")
		if r.hasAlarm(AlarmOverstay) {
			t.Fatal("overstay not cleared on exit")
		}
	})
	t.Run("forced_open raised and cleared on close", func(t *testing.T) {
		r := newRig(t)
		r.contact(true)
		if !r.hasAlarm(AlarmForcedOpen) {
			t.Fatalf("alarms = %v, want forced_open", r.alarms())
		}
		r.contact(false)
		if r.hasAlarm(AlarmForcedOpen) {
			t.Fatal("forced_open not cleared on close")
		}
	})
	t.Run("open after grant is not forced", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		r.tap("entry", "oki")
		r.contact(true)
		if r.hasAlarm(AlarmForcedOpen) {
			t.Fatal("forced_open after a grant")
		}
	})
	t.Run("open after REX is not forced", func(t *testing.T) {
		r := newRig(t)
		r.rex()
		r.contact(true)
		if r.hasAlarm(AlarmForcedOpen) {
			t.Fatal("forced_open after REX")
		}
	})
	t.Run("held_open raised at the limit and cleared on close", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		r.tap("entry", "oki")
		r.contact(true)
		r.advance(29 * time.Second)
		if r.hasAlarm(AlarmHeldOpen) {
			t.Fatal("held_open before the limit")
		}
		r.advance(time.Second)
		if !r.hasAlarm(AlarmHeldOpen) {
			t.Fatalf("alarms = %v, want held_open", r.alarms())
		}
		r.contact(false)
		if r.hasAlarm(AlarmHeldOpen) {
			t.Fatal("held_open not cleared on close")
		}
	})
	t.Run("clock_unsynced raised and cleared", func(t *testing.T) {
		r := newRig(t)
		r.s.synced = false
		r.advance(time.Second)
		if !r.hasAlarm(AlarmClockUnsynced) {
			t.Fatalf("alarms = %v, want clock_unsynced", r.alarms())
		}
		if r.last().ClockTrusted {
			t.Error("event logged while unsynced says the clock was trusted")
		}
		r.s.synced = true
		r.advance(time.Second)
		if r.hasAlarm(AlarmClockUnsynced) {
			t.Fatal("clock_unsynced not cleared")
		}
	})
}

func TestClockUnsyncedStaffGoOn(t *testing.T) {
	r := newRig(t)
	r.staff()
	r.s.synced = false
	if got := r.tap("entry", "oki"); got.Decision != Granted {
		t.Fatalf("staff with untrusted clock = %+v, want granted", got)
	}
}

func TestDoorRelock(t *testing.T) {
	t.Run("relock on close", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		r.tap("entry", "oki")
		r.advance(time.Second)
		r.contact(true)
		r.advance(time.Second)
		r.contact(false)
		if r.strike() {
			t.Fatal("strike released after the door closed")
		}
		if st := r.s.status(r.now).Doors[0]; st.Lock != "locked" || st.Contact != "closed" {
			t.Fatalf("door = %+v, want locked and closed", st)
		}
	})
	t.Run("no relock on close when disabled", func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.Doors[0].RelockOnClose = false })
		r.staff()
		r.tap("entry", "oki")
		r.contact(true)
		r.contact(false)
		if !r.strike() {
			t.Fatal("strike locked on close with relock_on_close off")
		}
		r.advance(5 * time.Second)
		if r.strike() {
			t.Fatal("strike not locked after the unlock time")
		}
	})
	t.Run("door states", func(t *testing.T) {
		r := newRig(t)
		r.staff()
		type door struct{ lock, contact string }
		get := func() door {
			d := r.s.status(r.now).Doors[0]
			return door{d.Lock, d.Contact}
		}
		steps := []struct {
			do   func()
			want door
		}{
			{func() {}, door{"locked", "closed"}},
			{func() { r.tap("entry", "oki") }, door{"unlocked", "closed"}},
			{func() { r.contact(true) }, door{"unlocked", "open"}},
			{func() { r.advance(5 * time.Second) }, door{"locked", "open"}},
			{func() { r.contact(false) }, door{"locked", "closed"}},
		}
		for i, st := range steps {
			st.do()
			if got := get(); got != st.want {
				t.Fatalf("step %d: door = %+v, want %+v", i, got, st.want)
			}
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	r := newRig(t)
	r.staff()
	n := len(r.log())
	if _, _, err := r.s.tap(r.now, "nope", "entry", "card-oki"); !isErr(err, ErrNotFound) {
		t.Errorf("unknown door = %v, want ErrNotFound", err)
	}
	if _, _, err := r.s.tap(r.now, "server-room", "side", "card-oki"); !isErr(err, ErrNotFound) {
		t.Errorf("unknown reader = %v, want ErrNotFound", err)
	}
	if _, _, err := r.s.tap(r.now, "server-room", "entry", " "); !isErr(err, ErrInvalid) {
		t.Errorf("empty card = %v, want ErrInvalid", err)
	}
	if _, err := r.s.addPerson(r.now, Person{ID: "oki", Name: "x", Roles: []Role{RoleOfficer}}, root); !isErr(err, ErrExists) {
		t.Errorf("duplicate person = %v, want ErrExists", err)
	}
	if _, err := r.s.addPerson(r.now, Person{ID: "v2", Name: "x", Roles: []Role{RoleVisitor, RoleOfficer}}, root); !isErr(err, ErrInvalid) {
		t.Errorf("visitor with staff role = %v, want ErrInvalid", err)
	}
	if _, err := r.s.addPerson(r.now, Person{ID: "a b", Name: "x", Roles: []Role{RoleOfficer}}, root); !isErr(err, ErrInvalid) {
		t.Errorf("id with space = %v, want ErrInvalid", err)
	}
	if _, err := r.s.addPerson(r.now, Person{ID: "z", Name: "x", Roles: []Role{"janitor"}}, root); !isErr(err, ErrInvalid) {
		t.Errorf("unknown role = %v, want ErrInvalid", err)
	}
	if _, err := r.s.assignCard(r.now, "card-oki", "citra", root); !isErr(err, ErrExists) {
		t.Errorf("card in use = %v, want ErrExists", err)
	}
	if _, err := r.s.assignCard(r.now, "card-new", "ghost", root); !isErr(err, ErrNotFound) {
		t.Errorf("card for unknown person = %v, want ErrNotFound", err)
	}
	if _, err := r.s.revokeCard(r.now, "card-ghost", root); !isErr(err, ErrNotFound) {
		t.Errorf("revoke unknown card = %v, want ErrNotFound", err)
	}
	if _, err := r.s.contact(r.now, "nope", true); !isErr(err, ErrNotFound) {
		t.Errorf("contact on unknown door = %v, want ErrNotFound", err)
	}
	if got := len(r.log()); got != n {
		t.Fatalf("bad input wrote %d events", got-n)
	}
}

// TestFailedCommitChangesNothing: a step whose commit fails leaves the state
// as it was (no snapshot, no undo: the step was never applied), and the
// escort's read still pairs once the store works.
func TestFailedCommitChangesNothing(t *testing.T) {
	r := newRig(t)
	r.staff()
	r.approvedVisit("")
	r.tap("entry", "oki")
	before := r.s.status(r.now)
	seq, hash, recent := r.s.lastSeq, r.s.lastHash, len(r.s.doors["server-room"].rt.recent)

	r.store.fail = errors.New("disk full")
	if got := r.tap("entry", "vina"); got.Decision != Denied || got.Reason != ReasonStorageFailure {
		t.Fatalf("tap with a failing store = %+v, want denied storage_failure", got)
	}
	after := r.s.status(r.now)
	if len(after.Inside) != len(before.Inside) || r.inside("vina") || r.visitState("V0001") != StateApproved {
		t.Fatalf("a failed commit left the visitor inside or moved the visit: %+v", after.Inside)
	}
	if r.s.lastSeq != seq || r.s.lastHash != hash || len(r.s.doors["server-room"].rt.recent) != recent {
		t.Fatal("a failed commit moved the log position or used up the escort read")
	}
	r.store.fail = nil
	if got := r.tap("entry", "vina"); got.Decision != Granted {
		t.Fatalf("retry after the store recovered = %+v, want granted", got)
	}
	r.verify()
}

func TestRestartDerivesUnescorted(t *testing.T) {
	store := &logStore{changes: []Change{{
		People: []Person{{ID: "vina", Name: "V", Roles: []Role{RoleVisitor}}},
		Visits: []Visit{{ID: "V0001", VisitForm: VisitForm{VisitorID: "vina", Until: t0.Add(time.Hour)}, State: StateInside}},
		Enter:  []Occupant{{Person: "vina", Door: "server-room", Visit: "V0001", Escort: "oki", Since: t0}},
	}}}
	snap, _ := store.Load()
	s, err := newState(DefaultConfig(), snap, store, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := s.start(t0, nil)
	st.finish()
	s.apply(st)
	if st := s.status(t0); len(st.Alarms) != 1 || st.Alarms[0].Kind != AlarmVisitorUnescorted {
		t.Fatalf("alarms after restart = %+v, want visitor_unescorted", st.Alarms)
	}
	if s.visitSeq != 1 {
		t.Fatalf("visit counter after restart = %d, want 1", s.visitSeq)
	}
}
