package controller

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pintu/pintu/controller/remote"
)

// state is everything the controller knows. Only the Run goroutine touches
// it, and only apply changes it: every input is first computed into a step
// against a read-only view of the state (see step), and the step's values
// are swapped in once its change is committed.
type state struct {
	cfg    Config
	doors  map[string]*door
	rec    records             // people, cards, visits, keys
	inside map[string]Occupant // by person
	guests map[string]bool     // visitors among inside, so per-input scans stay small
	alarms map[string]Alarm    // the listed alarms, by ID
	// accounts are the console sign-in states, by person; links maps a
	// linked Unix user to its person.
	accounts map[string]Account
	links    map[string]string
	access   map[Role]bool
	escort   map[Role]bool

	lastSeq  uint64
	lastHash string
	newest   time.Time // newest event time ever stored; the clock must not read earlier
	synced   bool      // the kernel says the clock is synchronised
	visitSeq int

	seen    map[string]time.Time // replay cache of remote commands: id -> until
	limiter remote.Limiter       // rations remote commands per key; charged per attempt, committed or not

	// storage is the storage_failure alarm while commits fail; nil
	// otherwise. It lives only in memory until a commit succeeds, which
	// writes its raise and clear events (see step.begin).
	storage *storageFailure

	numPeople int
	// integ is the integrity check's durable state; unrecorded are breaks
	// found whose commit failed: entry is refused all the same, and the
	// next step that commits writes them (see step.begin).
	integ      IntegrityState
	unrecorded []Break
	// startFaults are what the checks in New found, for the start step to
	// record.
	startFaults     []Break
	startCheckpoint Checkpoint
	// importing is set while a bulk import runs (see import.go).
	importing bool
}

// door is one configured door and its runtime state.
type door struct {
	cfg     DoorConfig
	readers map[string]Direction
	rt      doorRT
}

func newState(cfg Config, snap Snapshot, store RecordStore, cacheSize int) (*state, error) {
	if cfg.MaxVisitWindow == 0 {
		cfg.MaxVisitWindow = DefaultMaxVisitWindow
	}
	s := &state{
		cfg:       cfg,
		doors:     map[string]*door{},
		numPeople: snap.NumPeople,
		visitSeq:  snap.LastVisit,
		integ:     snap.Integrity.clone(),
		inside:    map[string]Occupant{},
		guests:    map[string]bool{},
		alarms:    make(map[string]Alarm, len(snap.Alarms)),
		accounts:  make(map[string]Account, len(snap.Accounts)),
		links:     make(map[string]string, len(snap.Links)),
		access:    map[Role]bool{},
		escort:    map[Role]bool{},
		lastSeq:   snap.Last.Seq,
		lastHash:  snap.Last.Hash,
		newest:    snap.Last.Time,
		synced:    true,
		seen:      make(map[string]time.Time, len(snap.Commands)),
		limiter:   remote.NewTokenBucket(remote.DefaultBurst, remote.DefaultPer),
	}
	for _, r := range cfg.RoomAccess {
		s.access[r] = true
	}
	for _, r := range cfg.Escort {
		s.escort[r] = true
	}
	for _, dc := range cfg.Doors {
		d := &door{cfg: dc, readers: map[string]Direction{}}
		for _, r := range dc.Readers {
			d.readers[r.Name] = r.Direction
		}
		s.doors[dc.Name] = d
	}
	for _, dr := range snap.Doors {
		if d, ok := s.doors[dr.Name]; ok {
			d.rt.lockdown, d.rt.lockdownSince, d.rt.lockdownBy = dr.Lockdown, dr.Since, dr.By
		}
	}
	rec, faults := newStoreRecords(store, snap.Keys, cacheSize)
	s.rec = rec
	for _, err := range faults {
		s.startFaults = append(s.startFaults, breakOf(err))
	}
	for _, o := range snap.Inside {
		s.setOccupant(o)
	}
	for _, a := range snap.Alarms {
		if a.ID == "" {
			return nil, fmt.Errorf("alarm %s without an id", a.Kind)
		}
		s.alarms[a.ID] = a
	}
	for _, c := range snap.Commands {
		s.seen[c.ID] = c.Until
	}
	for _, a := range snap.Accounts {
		s.accounts[a.Person] = a
	}
	// The links are an index the store keeps: a person is found by it,
	// then read and checked like any record, and must name the same user
	// (see resolveLinked), so an edited index grants nothing.
	for user, id := range snap.Links {
		s.links[user] = id
	}
	return s, nil
}

func visitNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "V"))
	return n
}

func (s *state) clockTrusted(now time.Time) bool { return s.synced && !now.Before(s.newest) }

func (s *state) setOccupant(o Occupant) {
	s.inside[o.Person] = o
	if o.Visit != "" {
		s.guests[o.Person] = true
	} else {
		delete(s.guests, o.Person)
	}
}

func (s *state) removeOccupant(person string) {
	delete(s.inside, person)
	delete(s.guests, person)
}

func (s *state) hasAccess(p Person) bool {
	return !p.IsVisitor() && !p.Disabled && slices.ContainsFunc(p.Roles, func(r Role) bool { return s.access[r] })
}

func (s *state) canEscort(p Person) bool {
	return !p.IsVisitor() && !p.Disabled && slices.ContainsFunc(p.Roles, func(r Role) bool { return s.escort[r] })
}

func (s *state) door(name string) (*door, error) {
	d, ok := s.doors[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown door %q", ErrNotFound, name)
	}
	return d, nil
}

func (s *state) doorNames() []string {
	names := make([]string, len(s.cfg.Doors))
	for i, d := range s.cfg.Doors {
		names[i] = d.Name
	}
	return names
}

// apply swaps in what a committed step decided. It is the only place the
// state changes (besides the clock reading and storageFailed, which follow
// the world rather than a decision).
func (s *state) apply(st *step) {
	s.lastSeq, s.lastHash, s.newest, s.visitSeq = st.lastSeq, st.lastHash, st.newest, st.visitSeq
	s.numPeople += st.newPeople
	if st.integ != nil {
		s.integ = *st.integ
	}
	s.unrecorded = nil
	for name, rt := range st.doors {
		s.doors[name].rt = *rt
	}
	for _, l := range st.change.Links {
		if l.Person == "" {
			delete(s.links, l.User)
		} else {
			s.links[l.User] = l.Person
		}
	}
	for _, a := range st.change.Accounts {
		s.accounts[a.Person] = a
	}
	s.rec.Apply(st.change)
	for _, o := range st.change.Enter {
		s.setOccupant(o)
	}
	for _, p := range st.change.Leave {
		s.removeOccupant(p)
	}
	if st.alarms != nil {
		s.alarms = st.alarms
	}
	for _, c := range st.change.Commands {
		s.seen[c.ID] = c.Until
	}
	for _, id := range st.change.Forget {
		delete(s.seen, id)
	}
	s.storage = nil
}

// occupants lists everyone inside, oldest entry first.
func (s *state) occupants() []Occupant {
	os := make([]Occupant, 0, len(s.inside))
	for _, o := range s.inside {
		os = append(os, o)
	}
	sortOccupants(os)
	return os
}

func sortOccupants(os []Occupant) {
	slices.SortFunc(os, func(a, b Occupant) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Person, b.Person))
	})
}
