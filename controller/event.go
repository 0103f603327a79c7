package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// EventType names what an audit event records.
type EventType string

// The audit event types.
const (
	EventStarted       EventType = "started"
	EventStopped       EventType = "stopped"
	EventAccess        EventType = "access" // a read at an entry reader, with its decision
	EventExit          EventType = "exit"   // a read at an exit reader
	EventRex           EventType = "rex"    // the request-to-exit button
	EventUnlock        EventType = "unlock" // the strike released
	EventRelock        EventType = "relock" // the strike locked again
	EventDoorOpen      EventType = "door_open"
	EventDoorClose     EventType = "door_close"
	EventAlarmRaised   EventType = "alarm_raised"
	EventAlarmCleared  EventType = "alarm_cleared"
	EventAlarmAcked    EventType = "alarm_acknowledged"
	EventPersonAdded   EventType = "person_added"
	EventPersonUpdated EventType = "person_updated" // Detail says what changed
	EventPersonOff     EventType = "person_disabled"
	EventPersonOn      EventType = "person_enabled"
	EventCardAssigned  EventType = "card_assigned"
	EventCardRevoked   EventType = "card_revoked"
	EventVisitStep     EventType = "visit_step" // an SOP step; Detail names the action
	EventLockdown      EventType = "lockdown"
	EventLockdownClear EventType = "lockdown_released"
	EventRemoteCommand EventType = "remote_command"
	// Identity and the console (Via says through what).
	EventPersonLinked EventType = "person_linked" // Detail: unix_user "old" -> "new"
	EventPasswordSet  EventType = "password_set"  // Detail: "credential sha256:" and the stored credential's Digest
	EventLogin        EventType = "login"
	EventLoginFailed  EventType = "login_failed" // Detail says why; Person is empty for an unknown id
	EventLockout      EventType = "lockout"      // too many failed sign-ins; Detail says until when
	EventLogout       EventType = "logout"       // Detail: signed out, or what ended the session
	EventRefused      EventType = "refused"      // an action refused for want of identity or role; Detail says which and why

	// A person registered with their card by a bulk import; it seals both
	// records. The import's first and last events frame the lines.
	EventPersonImported EventType = "person_imported"
	EventImportStarted  EventType = "import_started"
	EventImportFinished EventType = "import_finished"
	// A record sealed as it was found: by the schema migration for records
	// written before records carried digests, or by a head accepting an
	// integrity break on the record.
	EventRecordSealed EventType = "record_sealed"
	// The log verified up to a seq; Detail names the seq and its hash.
	EventCheckpoint EventType = "checkpoint"
	// The integrity check found a break (Detail says where and what); an
	// integrity_accepted event by a head names the breaks it accepts.
	EventIntegrityBreak    EventType = "integrity_break"
	EventIntegrityAccepted EventType = "integrity_accepted"
	// The first event of a log started deliberately (pintud -init-new-log);
	// Detail names the log it replaces, from its anchor.
	EventLogInitialised EventType = "log_initialised"
	// The anchor beside the database was missing and was made again from
	// the log.
	EventAnchorRecreated EventType = "anchor_recreated"
	// The database was restored from a backup that ends before the log the
	// anchor knew; Detail names the events that are gone.
	EventLogRestored EventType = "log_restored"
)

// Event is one entry of the append-only audit log. Seq starts at 1 and has no
// gaps; Prev is the Hash of the event before it (empty for the first), and
// Hash is the SHA-256 of Prev and the event's canonical bytes, so changing or
// removing any stored event breaks the chain from there on.
type Event struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Type     EventType `json:"type"`
	Door     string    `json:"door,omitempty"`
	Reader   string    `json:"reader,omitempty"`
	Card     string    `json:"card,omitempty"`
	Person   string    `json:"person,omitempty"`
	Visit    string    `json:"visit,omitempty"`
	Decision Decision  `json:"decision,omitempty"`
	Reason   Reason    `json:"reason,omitempty"`
	Actor    string    `json:"actor,omitempty"`
	// Via is how the actor was identified: console, socket, or
	// unauthenticated-sim for pintud -sim's --by (see Actor). Empty in
	// events older than it, which therefore hash as they always did.
	Via    string `json:"via,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Records are the records the event wrote, each with the digest of its
	// new content (see RecordRef). Events before record digests have none,
	// and omitempty keeps their canonical bytes, and so their hashes, as
	// they were.
	Records      []RecordRef `json:"records,omitempty"`
	ClockTrusted bool        `json:"clock_trusted"`
	Prev         string      `json:"prev,omitempty"`
	Hash         string      `json:"hash,omitempty"`
}

// ComputeHash returns the hash event e should carry, given its Prev field:
// the SHA-256 of Prev followed by the event's canonical bytes, which are
// what encoding/json writes for e with Hash empty and Time in UTC (fields in
// declaration order). The definition never changes, or old logs would stop
// verifying: a new field must be omitempty so that events without it keep
// their bytes. appendCanonical writes the same bytes without reflection;
// TestCanonicalMatchesJSON and FuzzCanonical hold it to encoding/json.
func (e Event) ComputeHash() string {
	var buf [512]byte
	b := appendCanonical(buf[:0], &e)
	h := sha256.New()
	h.Write([]byte(e.Prev))
	h.Write(b)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// canonicalJSON is the reference definition of the canonical bytes:
// encoding/json. appendCanonical falls back to it for what it does not
// write itself.
func canonicalJSON(e Event) []byte {
	e.Hash = ""
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("controller: marshal event: %v", err)) // plain data; cannot fail
	}
	return b
}

// ChainError reports the first event whose link in the hash chain is broken.
type ChainError struct {
	Seq    uint64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("hash chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Verifier walks events in sequence order and checks the hash chain.
// Feed it every event from seq 1 with Next; the zero value is ready.
// VerifierAfter starts it after an event already verified.
type Verifier struct {
	n    uint64
	prev string
}

// VerifierAfter returns a Verifier that expects seq+1 next, chained to
// hash: the seq and hash of a checkpoint.
func VerifierAfter(seq uint64, hash string) Verifier { return Verifier{n: seq, prev: hash} }

// Next checks e against the events before it.
func (v *Verifier) Next(e Event) error {
	switch {
	case e.Seq != v.n+1:
		return &ChainError{Seq: v.n + 1, Reason: fmt.Sprintf("missing (next stored event is %d)", e.Seq)}
	case e.Prev != v.prev:
		return &ChainError{Seq: e.Seq, Reason: "prev does not match the hash of the event before"}
	case e.ComputeHash() != e.Hash:
		return &ChainError{Seq: e.Seq, Reason: "hash does not match the event's contents"}
	}
	v.n, v.prev = e.Seq, e.Hash
	return nil
}

// Count is how many events were verified: the seq of the last good one.
func (v *Verifier) Count() uint64 { return v.n }

// Last is the seq and hash of the last good event.
func (v *Verifier) Last() (uint64, string) { return v.n, v.prev }
