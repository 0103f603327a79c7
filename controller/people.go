package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the people and cards records: registering, updating,
// disabling and enabling people; assigning and revoking cards.

// PersonUpdate names the fields of a person to change; nil fields stay.
type PersonUpdate struct {
	Name  *string
	Roles []Role // nil: unchanged
	Org   *string
	IDDoc *string
}

// validID checks a person id or a card number (what is "card").
func validID(what, id string) error {
	if what == "card" {
		return CheckCard(what, id)
	}
	return CheckID(what, id)
}

// checkRoles validates and normalises a person's roles.
func checkRoles(id string, roles []Role) ([]Role, error) {
	if len(roles) == 0 {
		return nil, fmt.Errorf("%w: person %q: no role", ErrInvalid, id)
	}
	for _, r := range roles {
		if _, err := ParseRole(string(r)); err != nil {
			return nil, fmt.Errorf("person %q: %w", id, err)
		}
	}
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	if slices.Contains(roles, RoleVisitor) && len(roles) > 1 {
		return nil, fmt.Errorf("%w: person %q: a visitor cannot also hold a staff role", ErrInvalid, id)
	}
	return roles, nil
}

func (s *state) addPerson(now time.Time, p Person, actor Actor) (*step, error) {
	p.ID, p.Name = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name)
	if err := validID("person id", p.ID); err != nil {
		return nil, err
	}
	if s.importing {
		return nil, fmt.Errorf("%w: an import is registering people; try again when it is done", ErrBusy)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%w: person %q: name is empty", ErrInvalid, p.ID)
	}
	roles, err := checkRoles(p.ID, p.Roles)
	if err != nil {
		return nil, err
	}
	p.Roles, p.Disabled, p.DisabledAt, p.UnixUser = roles, false, time.Time{}, ""
	if _, ok, err := s.rec.Person(p.ID); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("%w: person %q", ErrExists, p.ID)
	}
	st := s.begin(now)
	st.newPeople++
	st.emit(Event{Type: EventPersonAdded, Person: p.ID, Actor: actor.Name(), Via: actor.via(), Detail: rolesText(p.Roles)}, st.sealPerson(p))
	return st, nil
}

// updatePerson changes a person's name, roles, organisation or identity
// document. The event says what changed, from what to what. A visitor
// cannot become staff nor staff a visitor: that is a new person.
func (s *state) updatePerson(now time.Time, id string, u PersonUpdate, actor Actor) (*step, Person, error) {
	old, ok, err := s.rec.Person(id)
	if err != nil {
		return nil, Person{}, err
	}
	if !ok {
		return nil, Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	if u.Name == nil && u.Roles == nil && u.Org == nil && u.IDDoc == nil {
		return nil, Person{}, fmt.Errorf("%w: person %s: nothing to change (give a name, roles, organisation or identity document)", ErrInvalid, id)
	}
	p := old
	p.Roles = slices.Clone(old.Roles)
	var changes []string
	field := func(name, from, to string) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s %q -> %q", name, from, to))
		}
	}
	if u.Name != nil {
		p.Name = strings.TrimSpace(*u.Name)
		if p.Name == "" {
			return nil, Person{}, fmt.Errorf("%w: person %s: name is empty", ErrInvalid, id)
		}
		field("name", old.Name, p.Name)
	}
	if u.Roles != nil {
		roles, err := checkRoles(id, u.Roles)
		if err != nil {
			return nil, Person{}, err
		}
		if slices.Contains(roles, RoleVisitor) != old.IsVisitor() {
			return nil, Person{}, fmt.Errorf("%w: person %s: a visitor cannot become staff, nor staff a visitor; register a new person", ErrInvalid, id)
		}
		p.Roles = roles
		field("roles", rolesText(old.Roles), rolesText(roles))
	}
	if u.Org != nil {
		p.Org = strings.TrimSpace(*u.Org)
		field("org", old.Org, p.Org)
	}
	if u.IDDoc != nil {
		p.IDDoc = strings.TrimSpace(*u.IDDoc)
		field("id_doc", old.IDDoc, p.IDDoc)
	}
	if len(changes) == 0 {
		return nil, Person{}, fmt.Errorf("%w: person %s already has these values", ErrAlready, id)
	}
	st := s.begin(now)
	st.emit(Event{Type: EventPersonUpdated, Person: id, Actor: actor.Name(), Via: actor.via(), Detail: strings.Join(changes, "; ")}, st.sealPerson(p))
	return st, p, nil
}

// setDisabled disables or enables a person. A disabled person's cards are
// refused (revoked) at every reader, their remote keys stop verifying,
// their reads still pairing stop counting, and they take no SOP step. A
// visit they are inside stays as it is.
func (s *state) setDisabled(now time.Time, id string, off bool, actor Actor) (*step, Person, error) {
	p, ok, err := s.rec.Person(id)
	if err != nil {
		return nil, Person{}, err
	}
	if !ok {
		return nil, Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	if p.Disabled == off {
		word := "enabled"
		if off {
			word = "disabled"
		}
		return nil, Person{}, fmt.Errorf("%w: person %s is already %s", ErrAlready, id, word)
	}
	p.Roles = slices.Clone(p.Roles)
	st := s.begin(now)
	st.housekeep()
	p.Disabled, p.DisabledAt = off, time.Time{}
	t := EventPersonOn
	if off {
		p.DisabledAt = now.UTC()
		t = EventPersonOff
	}
	st.emit(Event{Type: t, Person: id, Actor: actor.Name(), Via: actor.via()}, st.sealPerson(p))
	if off {
		st.dropReadsOf(id, ReasonRevoked, "person disabled")
	}
	return st, p, nil
}

func (s *state) assignCard(now time.Time, card, person string, actor Actor) (*step, error) {
	card = strings.TrimSpace(card)
	if err := validID("card", card); err != nil {
		return nil, err
	}
	if s.importing {
		return nil, fmt.Errorf("%w: an import is assigning cards; try again when it is done", ErrBusy)
	}
	if _, ok, err := s.rec.Person(person); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: unknown person %q", ErrNotFound, person)
	}
	if c, ok, err := s.rec.Card(card); err != nil {
		return nil, err
	} else if ok && !c.Revoked {
		return nil, fmt.Errorf("%w: card %q is assigned to %q; revoke it first", ErrExists, card, c.PersonID)
	}
	st := s.begin(now)
	st.emit(Event{Type: EventCardAssigned, Card: card, Person: person, Actor: actor.Name(), Via: actor.via()}, st.sealCard(Card{ID: card, PersonID: person, AssignedAt: now.UTC()}))
	return st, nil
}

func (s *state) revokeCard(now time.Time, card string, actor Actor) (*step, error) {
	c, ok, err := s.rec.Card(card)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown card %q", ErrNotFound, card)
	}
	if c.Revoked {
		return nil, fmt.Errorf("%w: card %q is already revoked", ErrInvalid, card)
	}
	st := s.begin(now)
	st.housekeep()
	c.Revoked, c.RevokedAt = true, now.UTC()
	st.emit(Event{Type: EventCardRevoked, Card: card, Person: c.PersonID, Actor: actor.Name(), Via: actor.via()}, st.sealCard(c))
	// A read made with the card no longer vouches for anyone.
	st.dropReadsOf(c.PersonID, ReasonRevoked, "card revoked")
	return st, nil
}
