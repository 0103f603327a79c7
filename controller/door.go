package controller

import (
	"fmt"
	"slices"
	"time"
)

// doorRT is a door's runtime state: the strike, the contact, lockdown, and
// the reads that may still pair (see access.go).
type doorRT struct {
	unlocked bool
	relockAt time.Time
	open     bool
	openedAt time.Time

	lockdown      bool // durable: written as a DoorRecord
	lockdownSince time.Time
	lockdownBy    string

	waiting []waiter   // visitors' reads waiting for their escort (and second)
	recent  []staffTap // staff reads in the escort window; the pending ones wait for a second
}

// clone copies d for a step to change. The copies have room for one more
// read, which is what a step usually adds.
func (d doorRT) clone() doorRT {
	d.waiting, d.recent = grow(d.waiting), grow(d.recent)
	return d
}

func grow[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)+1), s...)
}

// unlock releases the strike for dur (or keeps it released at least that
// long).
func (st *step) unlock(name string, dur time.Duration) {
	d := st.door(name)
	if !d.unlocked {
		st.emit(Event{Type: EventUnlock, Door: name, Detail: dur.String()})
		st.strikes = append(st.strikes, strike{name, true})
		d.unlocked = true
	}
	d.relockAt = later(d.relockAt, st.now.Add(dur))
}

func (st *step) relock(name, why string) {
	if !st.peek(name).unlocked {
		return
	}
	d := st.door(name)
	st.emit(Event{Type: EventRelock, Door: name, Detail: why})
	st.strikes = append(st.strikes, strike{name, false})
	d.unlocked, d.relockAt = false, time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// forceStrike makes a door's runtime state follow a relay move made without
// a commit (see Controller.commitFailed), so that an unlogged egress
// release still relocks on time.
func (s *state) forceStrike(now time.Time, name string, unlocked bool) {
	d := &s.doors[name].rt
	if !unlocked {
		d.unlocked, d.relockAt = false, time.Time{}
		return
	}
	d.unlocked, d.relockAt = true, later(d.relockAt, now.Add(s.doors[name].cfg.Unlock))
}

// contact handles the door contact. Opening without a grant or REX raises
// forced_open; closing clears forced_open and held_open, and is reported
// even when the door was already closed: after a restart that is how an
// alarm whose cause ended while pintud was down is cleared.
func (s *state) contact(now time.Time, name string, open bool) (*step, error) {
	if _, err := s.door(name); err != nil {
		return nil, err
	}
	st := s.begin(now)
	st.housekeep()
	was := st.peek(name).open
	if open {
		if was {
			return st, nil
		}
		st.emit(Event{Type: EventDoorOpen, Door: name})
		d := st.door(name)
		d.open, d.openedAt = true, now
		if !d.unlocked {
			st.raise(Alarm{Kind: AlarmForcedOpen, Door: name})
		}
		return st, nil
	}
	if was {
		st.emit(Event{Type: EventDoorClose, Door: name})
		st.door(name).open = false
	}
	for _, k := range []AlarmKind{AlarmForcedOpen, AlarmHeldOpen} {
		st.clear(k, func(a Alarm) bool { return a.Door == name })
	}
	if was && st.cfg(name).RelockOnClose {
		st.relock(name, "door closed")
	}
	return st, nil
}

// rex is the request-to-exit button: egress, so it always releases. Who
// pressed it is unknown, so every staff read at this door that is not
// waiting outside for a second stops counting as a possible escort: the
// person who just left may have been the escort.
func (s *state) rex(now time.Time, name string) (*step, error) {
	if _, err := s.door(name); err != nil {
		return nil, err
	}
	st := s.begin(now)
	st.egress = true
	st.housekeep()
	st.emit(Event{Type: EventRex, Door: name, Decision: Granted})
	if slices.ContainsFunc(st.peek(name).recent, func(t staffTap) bool { return !t.pending }) {
		d := st.door(name)
		d.recent = slices.DeleteFunc(d.recent, func(t staffTap) bool { return !t.pending })
	}
	st.unlock(name, st.cfg(name).Unlock)
	return st, nil
}

// tamper handles the enclosure tamper switch.
func (s *state) tamper(now time.Time, name string, tampered bool) (*step, error) {
	if _, err := s.door(name); err != nil {
		return nil, err
	}
	st := s.begin(now)
	st.housekeep()
	if tampered {
		st.raise(Alarm{Kind: AlarmTamper, Door: name})
	} else {
		st.clear(AlarmTamper, func(a Alarm) bool { return a.Door == name })
	}
	return st, nil
}

// setLockdown puts a door in lockdown (only egress opens it) or releases
// it, and reports whether anything changed. It is the one path for every
// lockdown: local (pintuctl) and signed remote commands. Lockdown is
// durable: a restart keeps it.
func (st *step) setLockdown(name string, on bool, actor, via, why string) bool {
	if st.peek(name).lockdown == on {
		return false
	}
	d := st.door(name)
	d.lockdown, d.lockdownSince, d.lockdownBy = on, st.now.UTC(), actor
	if st.doorRecs == nil {
		st.doorRecs = map[string]DoorRecord{}
	}
	st.doorRecs[name] = DoorRecord{Name: name, Lockdown: on, Since: st.now.UTC(), By: actor}
	if !on {
		st.emit(Event{Type: EventLockdownClear, Door: name, Actor: actor, Via: via, Detail: why})
		return true
	}
	st.emit(Event{Type: EventLockdown, Door: name, Actor: actor, Via: via, Detail: why})
	st.relock(name, "lockdown")
	st.denyWaiting(name, ReasonLockdown, "lockdown")
	st.door(name).recent = nil // reads from before the lockdown pair with nothing after it
	return true
}

// lockdown is a local lockdown or release, of one door or (door "") of
// all, by a coordinator or the head.
func (s *state) lockdown(now time.Time, doorName string, on bool, by Actor) (*step, []string, error) {
	p, err := s.actor(by)
	if err != nil {
		return nil, nil, err
	}
	what := "release the lockdown"
	if on {
		what = "lock a door down"
	}
	if !p.Has(RoleCoordinator) && !p.Has(RoleHead) {
		return nil, nil, fmt.Errorf("%w: %s (%s) may not %s: that is for a coordinator or the head", ErrWrongRole, p.ID, rolesText(p.Roles), what)
	}
	names := s.doorNames()
	if doorName != "" {
		if _, err := s.door(doorName); err != nil {
			return nil, nil, err
		}
		names = []string{doorName}
	}
	st := s.begin(now)
	st.housekeep()
	var changed []string
	for _, n := range names {
		if st.setLockdown(n, on, p.ID, by.via(), "local") {
			changed = append(changed, n)
		}
	}
	switch {
	case len(changed) > 0:
	case doorName == "" && on:
		return nil, nil, fmt.Errorf("%w: every door is already in lockdown", ErrAlready)
	case doorName == "":
		return nil, nil, fmt.Errorf("%w: no door is in lockdown", ErrAlready)
	case on:
		return nil, nil, fmt.Errorf("%w: door %s is already in lockdown", ErrAlready, doorName)
	default:
		return nil, nil, fmt.Errorf("%w: door %s is not in lockdown", ErrAlready, doorName)
	}
	return st, changed, nil
}
