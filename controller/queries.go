package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file is the Controller's read-only methods.

// Person returns the person with the given id, checked against the event
// that wrote it.
func (c *Controller) Person(ctx context.Context, id string) (Person, error) {
	var p Person
	var ok bool
	var err error
	derr := c.do(ctx, func(now time.Time) {
		if p, ok, err = c.st.rec.Person(id); err != nil {
			c.process(c.st.faultStep(now, err))
		}
		p.Roles = slices.Clone(p.Roles)
	})
	if derr == nil && err == nil && !ok {
		return Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	return p, errors.Join(derr, err)
}

// Page selects part of a list: at most Limit records (zero: DefaultPage;
// more than MaxPage: MaxPage) whose id comes after After.
type Page struct {
	After string
	Limit int
}

// List sizes.
const (
	DefaultPage = 1000
	MaxPage     = 10000
)

func (pg Page) limit() int {
	switch {
	case pg.Limit <= 0:
		return DefaultPage
	case pg.Limit > MaxPage:
		return MaxPage
	}
	return pg.Limit
}

// list reads a page from the store, off the Run goroutine: lists are read
// as committed, and are not checked record by record (a decision or verify
// checks them). A read that hits damage raises the integrity alarm.
func list[T any](c *Controller, ctx context.Context, read func(string, int) ([]T, error), pg Page) ([]T, error) {
	out, err := read(pg.After, pg.limit())
	if err != nil {
		c.StoreFault(ctx, err)
		return nil, err
	}
	return out, nil
}

// People lists a page of people, ordered by id.
func (c *Controller) People(ctx context.Context, pg Page) ([]Person, error) {
	return list(c, ctx, c.store.People, pg)
}

// Cards lists a page of cards, ordered by id.
func (c *Controller) Cards(ctx context.Context, pg Page) ([]Card, error) {
	return list(c, ctx, c.store.Cards, pg)
}

// CardsOf lists the cards a person holds or held, by card id, as
// committed (like the lists, not checked card by card).
func (c *Controller) CardsOf(ctx context.Context, person string) ([]Card, error) {
	out, err := c.store.CardsOf(person)
	if err != nil {
		c.StoreFault(ctx, err)
		return nil, err
	}
	return out, nil
}

// Card returns one card, checked against the event that wrote it.
func (c *Controller) Card(ctx context.Context, id string) (Card, error) {
	var cd Card
	var ok bool
	var err error
	derr := c.do(ctx, func(now time.Time) {
		if cd, ok, err = c.st.rec.Card(id); err != nil {
			c.process(c.st.faultStep(now, err))
		}
	})
	if derr == nil && err == nil && !ok {
		return Card{}, fmt.Errorf("%w: unknown card %q", ErrNotFound, id)
	}
	return cd, errors.Join(derr, err)
}

// Visit returns one visit, checked against the event that wrote it.
func (c *Controller) Visit(ctx context.Context, id string) (Visit, error) {
	var v Visit
	var ok bool
	var err error
	derr := c.do(ctx, func(now time.Time) {
		if v, ok, err = c.st.rec.Visit(id); err != nil {
			c.process(c.st.faultStep(now, err))
		}
		v = v.clone()
	})
	if derr == nil && err == nil && !ok {
		return Visit{}, fmt.Errorf("%w: unknown visit %q", ErrNotFound, id)
	}
	return v, errors.Join(derr, err)
}

// Visits lists a page of visits, ordered by number (V0001 first); a
// non-empty state keeps only visits in it, reading further pages until the
// page is full or the list ends.
func (c *Controller) Visits(ctx context.Context, state VisitState, pg Page) ([]Visit, error) {
	n := pg.limit()
	var out []Visit
	for {
		vs, err := list(c, ctx, c.store.Visits, Page{After: pg.After, Limit: n})
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if state == "" || v.State == state {
				out = append(out, v)
			}
			if len(out) == n {
				return out, nil
			}
		}
		if len(vs) < n {
			return out, nil
		}
		pg.After = vs[len(vs)-1].ID
	}
}

// RecentVisits lists up to n visits that keep accepts (nil: all), newest
// first, looking at no more than the newest scan visits: the console's
// list, which must not read a million visits to show a page.
func (c *Controller) RecentVisits(ctx context.Context, n, scan int, keep func(Visit) bool) ([]Visit, error) {
	var last int
	if err := c.do(ctx, func(time.Time) { last = c.st.visitSeq }); err != nil {
		return nil, err
	}
	var out []Visit
	for hi := last; hi > 0 && len(out) < n && last-hi < scan; hi -= DefaultPage {
		lo := max(0, hi-DefaultPage)
		after := ""
		if lo > 0 {
			after = fmt.Sprintf("V%04d", lo)
		}
		vs, err := list(c, ctx, c.store.Visits, Page{After: after, Limit: hi - lo})
		if err != nil {
			return nil, err
		}
		for i := len(vs) - 1; i >= 0 && len(out) < n; i-- {
			if keep == nil || keep(vs[i]) {
				out = append(out, vs[i])
			}
		}
	}
	return out, nil
}

// AllPeople and AllVisits read every page, for the reports that resolve
// names: they hold the whole list, so a site of a million people pays for
// it there.
func (c *Controller) AllPeople(ctx context.Context) ([]Person, error) {
	return all(ctx, func(pg Page) ([]Person, error) { return c.People(ctx, pg) }, func(p Person) string { return p.ID })
}

// AllVisits: see AllPeople.
func (c *Controller) AllVisits(ctx context.Context) ([]Visit, error) {
	return all(ctx, func(pg Page) ([]Visit, error) { return c.Visits(ctx, "", pg) }, func(v Visit) string { return v.ID })
}

func all[T any](ctx context.Context, page func(Page) ([]T, error), id func(T) string) ([]T, error) {
	var out []T
	pg := Page{Limit: MaxPage}
	for {
		xs, err := page(pg)
		if err != nil {
			return nil, err
		}
		out = append(out, xs...)
		if len(xs) < pg.Limit {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pg.After = id(xs[len(xs)-1])
	}
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
	var err error
	derr := c.do(ctx, func(now time.Time) {
		id, linked := c.st.links[user]
		if !linked {
			return
		}
		if p, ok, err = c.st.rec.Person(id); err != nil {
			c.process(c.st.faultStep(now, err))
			return
		}
		// The index is the store's; the person record is sealed. Only a
		// person whose own record names the account acts as it.
		ok = ok && p.UnixUser == user
		p.Roles = slices.Clone(p.Roles)
	})
	if err = errors.Join(derr, err); err != nil || !ok {
		return Person{}, false, err
	}
	return p, true, nil
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
