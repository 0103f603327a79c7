package controller

import "time"

// Store is the durable home of the controller's records and audit log.
// Adapters implement it (controller/boltstore, controller/memstore); both pass
// the shared conformance test in controller/storetest.
type Store interface {
	// Load returns the small part of the stored state the controller keeps
	// in memory, for it to start from. People, cards and visits stay in the
	// store and are read through RecordStore.
	Load() (Snapshot, error)
	// Commit writes c atomically and durably: all of it or none of it. The
	// events carry their final Seq, Prev and Hash; a store refuses events whose
	// Seq does not follow the last stored one.
	Commit(c Change) error
	RecordStore
	EventLog
}

// RecordStore reads stored records, one by id or in pages. It is safe to
// call from any goroutine, while the controller commits. Values it returns
// share no memory with it. A read that hits damage returns an error
// wrapping ErrIntegrity (an *IntegrityError naming what it could not read),
// never a panic.
type RecordStore interface {
	Person(id string) (Person, bool, error)
	Card(id string) (Card, bool, error)
	Visit(id string) (Visit, bool, error)
	// VisitsOf lists a visitor's visit IDs, oldest first.
	VisitsOf(visitor string) ([]string, error)
	// CardsOf lists the cards a person holds or held, by card id.
	CardsOf(person string) ([]Card, error)
	// People, Cards and Visits list up to limit records whose id comes
	// after the given one ("" for the first page), in id order (visits by
	// number).
	People(after string, limit int) ([]Person, error)
	Cards(after string, limit int) ([]Card, error)
	Visits(after string, limit int) ([]Visit, error)
	// Event returns event seq with its Prev, the hash of the event before
	// it; ok is false when the log has no such event.
	Event(seq uint64) (e Event, ok bool, err error)
	// SealedKinds lists the kinds of records the store holds, and Sealed
	// lists up to limit of those of one kind whose id comes after the given
	// one, as the integrity check sees them (SealedOne: one by id). A store
	// that keeps records of its own kinds seals them with DigestBytes.
	SealedKinds() []RecordKind
	Sealed(kind RecordKind, after string, limit int) ([]SealedRecord, error)
	SealedOne(kind RecordKind, id string) (SealedRecord, bool, error)
	// SealedSeqs returns, for each ref, the seq the stored record it names
	// carries (0: there is none); EventsAt returns the events at seqs (the
	// zero Event where there is none), without their Prev. Each is one
	// read, for the integrity check's batches.
	SealedSeqs(refs []RecordRef) ([]uint64, error)
	EventsAt(seqs []uint64) ([]Event, error)
}

// EventLog reads the audit log. It is safe to call from any goroutine, while
// the controller commits.
type EventLog interface {
	// Events calls fn for each stored event matching q, in sequence order,
	// and stops at the first error fn returns (which Events returns).
	Events(q EventQuery, fn func(Event) error) error
}

// EventQuery selects events. Zero fields do not restrict.
type EventQuery struct {
	FromSeq uint64    // first sequence number, inclusive
	ToSeq   uint64    // last sequence number, inclusive
	Since   time.Time // earliest event time, inclusive
	Until   time.Time // latest event time, exclusive
}

// Match reports whether e is selected by q.
func (q EventQuery) Match(e Event) bool {
	switch {
	case q.FromSeq != 0 && e.Seq < q.FromSeq,
		q.ToSeq != 0 && e.Seq > q.ToSeq,
		!q.Since.IsZero() && e.Time.Before(q.Since),
		!q.Until.IsZero() && !e.Time.Before(q.Until):
		return false
	}
	return true
}

// Snapshot is the stored state the controller keeps in memory.
type Snapshot struct {
	// NumPeople is how many people are registered.
	NumPeople int
	// LastVisit is the highest visit number (V0042: 42) stored.
	LastVisit int
	Inside    []Occupant
	// Keys are the coordinators' remote command keys, revoked ones too.
	Keys []Key
	// Commands are the remote commands decided on and not yet forgotten:
	// the persistent replay cache.
	Commands []CommandRecord
	// Alarms are the listed alarms: active, or cleared and awaiting an
	// acknowledgement.
	Alarms []Alarm
	// Doors are the doors' durable states (lockdown).
	Doors []DoorRecord
	// Accounts are the console sign-in states (lockouts).
	Accounts []Account
	// Links map each linked Unix account to its person (Person.UnixUser,
	// indexed, so that start-up need not read every person).
	Links map[string]string
	// Last is the newest stored event (zero Seq when the log is empty).
	Last Event
	// Integrity is the integrity check's durable state: its checkpoint and
	// the breaks found and accepted.
	Integrity IntegrityState
}

// Change is one atomic commit: the audit events an input produced and the
// records they create or update.
type Change struct {
	Events []Event
	People []Person   // created or updated
	Cards  []Card     // created or updated
	Visits []Visit    // created or updated
	Enter  []Occupant // now inside (replaces any record for the same person)
	Leave  []string   // person IDs no longer inside
	Keys   []Key      // remote command keys created or updated
	// Commands are remote command ids to remember (replay cache); Forget
	// are ids whose time has passed, to drop. Commands apply before Forget.
	Commands []CommandRecord
	Forget   []string
	// Alarms are alarms raised or changed (upserted by ID); AlarmsGone are
	// alarm IDs no longer listed. Alarms apply before AlarmsGone.
	Alarms     []Alarm
	AlarmsGone []string
	// Doors are door records created or updated (by Name).
	Doors []DoorRecord
	// Credentials are console passwords set (upserted by Person); the
	// store keeps them apart from everything Load returns.
	Credentials []Credential
	// Accounts are console sign-in states created or updated (by Person).
	Accounts []Account
	// Links are Unix accounts linked to a person or (Person "") unlinked:
	// the store's index of Person.UnixUser, read back as Snapshot.Links.
	Links []Link
	// Integrity, when set, replaces the stored integrity state.
	Integrity *IntegrityState
}

// Actuator drives a door's strike. Implementations are hardware adapters. The
// controller releases a strike for entry only after the change that explains
// it is committed; egress releases come first and are logged after. Calls
// are serialised by the controller.
type Actuator interface {
	// SetStrike releases (unlocked=true) or locks the named door's strike.
	SetStrike(door string, unlocked bool) error
}
