package controller

import "time"

// Store is the durable home of the controller's records and audit log.
// Adapters implement it (controller/boltstore, controller/memstore); both pass
// the shared conformance test in controller/storetest.
type Store interface {
	// Load returns everything stored, for the controller to start from.
	Load() (Snapshot, error)
	// Commit writes c atomically and durably: all of it or none of it. The
	// events carry their final Seq, Prev and Hash; a store refuses events whose
	// Seq does not follow the last stored one.
	Commit(c Change) error
	EventLog
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

// Snapshot is the stored state the controller starts from.
type Snapshot struct {
	People []Person
	Cards  []Card
	Visits []Visit
	Inside []Occupant
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
	// Last is the newest stored event (zero Seq when the log is empty).
	Last Event
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
}

// Actuator drives a door's strike. Implementations are hardware adapters. The
// controller releases a strike for entry only after the change that explains
// it is committed; egress releases come first and are logged after. Calls
// are serialised by the controller.
type Actuator interface {
	// SetStrike releases (unlocked=true) or locks the named door's strike.
	SetStrike(door string, unlocked bool) error
}
