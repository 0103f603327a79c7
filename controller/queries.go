package controller

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// This file is the Controller's read-only methods.

// Person returns the person with the given id.
func (c *Controller) Person(ctx context.Context, id string) (Person, error) {
	var p Person
	var ok bool
	derr := c.do(ctx, func(time.Time) { p, ok = c.st.rec.Person(id); p.Roles = slices.Clone(p.Roles) })
	if derr == nil && !ok {
		return Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	return p, derr
}

// People lists everyone, ordered by id.
func (c *Controller) People(ctx context.Context) ([]Person, error) {
	var ps []Person
	err := c.do(ctx, func(time.Time) { ps = c.st.rec.People() })
	return ps, err
}

// Cards lists every card, ordered by id.
func (c *Controller) Cards(ctx context.Context) ([]Card, error) {
	var cs []Card
	err := c.do(ctx, func(time.Time) { cs = c.st.rec.Cards() })
	return cs, err
}

// Visit returns one visit.
func (c *Controller) Visit(ctx context.Context, id string) (Visit, error) {
	var v Visit
	var ok bool
	derr := c.do(ctx, func(time.Time) { v, ok = c.st.rec.Visit(id); v = v.clone() })
	if derr == nil && !ok {
		return Visit{}, fmt.Errorf("%w: unknown visit %q", ErrNotFound, id)
	}
	return v, derr
}

// Visits lists visits, ordered by id; a non-empty state filters.
func (c *Controller) Visits(ctx context.Context, state VisitState) ([]Visit, error) {
	var vs []Visit
	err := c.do(ctx, func(time.Time) {
		vs = slices.DeleteFunc(c.st.rec.Visits(), func(v Visit) bool { return state != "" && v.State != state })
	})
	return vs, err
}

// Keys lists the remote command keys, revoked ones too, ordered by id.
func (c *Controller) Keys(ctx context.Context) ([]Key, error) {
	var ks []Key
	err := c.do(ctx, func(time.Time) { ks = c.st.rec.Keys() })
	return ks, err
}

// Alarms lists the listed alarms, oldest first: those active and those
// cleared but waiting for an acknowledgement.
func (c *Controller) Alarms(ctx context.Context) ([]Alarm, error) {
	var as []Alarm
	err := c.do(ctx, func(time.Time) { as = c.st.listAlarms() })
	return as, err
}

// Account returns a person's console sign-in state; the zero Account (no
// password) for a person who has none.
func (c *Controller) Account(ctx context.Context, person string) (Account, error) {
	var a Account
	err := c.do(ctx, func(time.Time) {
		var ok bool
		if a, ok = c.st.accounts[person]; !ok {
			a = Account{Person: person}
		}
	})
	return a, err
}

// PersonByUnixUser returns the person linked to a Unix account.
func (c *Controller) PersonByUnixUser(ctx context.Context, user string) (Person, bool, error) {
	var p Person
	var ok bool
	err := c.do(ctx, func(time.Time) {
		var id string
		if id, ok = c.st.links[user]; ok {
			p, ok = c.st.rec.Person(id)
			p.Roles = slices.Clone(p.Roles)
		}
	})
	return p, ok, err
}

// Head is the newest event's seq and hash: the head of the chain.
func (c *Controller) Head(ctx context.Context) (uint64, string, error) {
	var seq uint64
	var hash string
	err := c.do(ctx, func(time.Time) { seq, hash = c.st.lastSeq, c.st.lastHash })
	return seq, hash, err
}

// Status is a snapshot of the doors, alarms and occupancy.
func (c *Controller) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, func(now time.Time) { s = c.st.status(now) })
	return s, err
}

// Status is what `pintuctl status` shows.
type Status struct {
	Site         string       `json:"site"`
	Time         time.Time    `json:"time"`
	ClockTrusted bool         `json:"clock_trusted"`
	Doors        []DoorStatus `json:"doors"`
	// Alarms are the active alarms: their cause is present.
	Alarms []Alarm `json:"alarms"`
	// AwaitingAck are alarms whose cause is gone but that stay listed
	// until a person acknowledges them.
	AwaitingAck []Alarm    `json:"awaiting_ack"`
	Inside      []Occupant `json:"inside"`
}

// DoorStatus is one door's state.
type DoorStatus struct {
	Name          string    `json:"name"`
	Lock          string    `json:"lock"`    // locked or unlocked
	Contact       string    `json:"contact"` // open or closed
	Lockdown      bool      `json:"lockdown,omitempty"`
	LockdownSince time.Time `json:"lockdown_since,omitzero"`
	LockdownBy    string    `json:"lockdown_by,omitempty"`
}

func (s *state) status(now time.Time) Status {
	st := Status{Site: s.cfg.Site, Time: now.UTC(), ClockTrusted: s.clockTrusted(now),
		Alarms: []Alarm{}, AwaitingAck: []Alarm{}, Inside: s.occupants()}
	for _, a := range s.listAlarms() {
		if a.Active {
			st.Alarms = append(st.Alarms, a)
		} else {
			st.AwaitingAck = append(st.AwaitingAck, a)
		}
	}
	for _, name := range s.doorNames() {
		d := s.doors[name].rt
		ds := DoorStatus{Name: name, Lock: "locked", Contact: "closed", Lockdown: d.lockdown}
		if d.lockdown {
			ds.LockdownSince, ds.LockdownBy = d.lockdownSince, d.lockdownBy
		}
		if d.unlocked {
			ds.Lock = "unlocked"
		}
		if d.open {
			ds.Contact = "open"
		}
		st.Doors = append(st.Doors, ds)
	}
	return st
}
