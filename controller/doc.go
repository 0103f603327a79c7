// Package controller is Pintu's domain: people, cards and roles, the SOP visit
// workflow ("Akses Masuk Ruangan Server"), the access rule for escorted
// visitors, the door state machine, occupancy, alarms and the hash-chained
// audit events that record all of it.
//
// The package is pure: it imports only the standard library, takes time from
// its callers, and reaches storage and hardware through the small ports
// declared here ([Store], [EventLog], [Actuator]). Adapters in sub-packages
// implement those ports; drivers never see this package.
//
// One goroutine, started by [Controller.Run], owns all mutable state. Every
// other goroutine talks to it through the Controller's methods, which send a
// request on a channel and wait for the answer, so the order of inputs is the
// order of decisions.
//
// Every input is one step (see step.go): a pure function of the state, the
// input and the time computes the audit events and records to commit (a
// [Change]) and the runtime values the state takes after it. The run loop
// commits the change through the [Store], and only then applies the step
// and drives the relays; egress (an exit read, the REX button) releases the
// strike first. When a commit fails, commitFailed decides what still
// happens: locks are driven, an egress release stands, an entry read is
// denied with [ReasonStorageFailure], and the storage_failure alarm is
// raised.
//
// The chain covers the records too (digest.go): every change to a person,
// card, visit or key is an event carrying the record's content digest, and
// the stored record carries that event's seq. Records are read from the
// store through a bounded cache that checks each against its event
// (records.go). The log's tail is checked before New returns, the rest and
// every record in the background (verifier.go); a break raises the
// integrity alarm and refuses every entry until the head accepts it
// (integrity.go).
//
// The files follow the concerns: access.go the access rule and pairing,
// door.go the door machine and lockdown, occupancy.go who is inside,
// alarms.go the alarm set, timers.go what time alone does, records.go and
// people.go, keys.go, workflow.go the records and the SOP, import.go the bulk
// import, remote.go signed commands, actor.go who acts (an [Actor] the
// adapter established, never a typed name) and who may manage whom, login.go
// console accounts (passwords, sign-in, lockout, Unix links), text.go the
// check on stored text, consolestore.go the console's port, digest.go,
// records.go, integrity.go and verifier.go the records sealed into the chain
// and the checks on them, step.go and commit.go the step and its commit,
// controller.go the run loop, inputs.go and queries.go the methods, event.go
// and canon.go the events and their canonical bytes.
//
// # Caveats
//
// Occupancy is only as good as the taps: a person who leaves without badging
// out (tailgating the door) stays "inside" until an admin records the exit.
//
// Alarms and lockdown are durable; the lock, contact and pending reads are
// not: after a restart the door starts locked and closed, and an alarm whose
// cause ended while pintud was down ends when the input next reports (a
// contact reporting closed clears forced_open and held_open).
//
// A REX press says nobody's name, so it ends every escort read at its door.
//
// The remote command rate limiter is charged per attempt, committed or not.
package controller
