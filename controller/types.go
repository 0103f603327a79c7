package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is a part a person plays in the SOP.
type Role string

// The roles of the SOP. A person may hold several staff roles; the visitor
// role is never combined with a staff role.
const (
	RoleAdmin       Role = "admin"       // Staf Administrasi
	RoleCoordinator Role = "coordinator" // Koordinator Pengelola Ruang Server
	RoleHead        Role = "head"        // Kepala Bidang
	RoleOfficer     Role = "officer"     // Petugas
	RoleVisitor     Role = "visitor"     // Pengunjung
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleHead, RoleOfficer, RoleVisitor}

// ParseRole returns the role named s, or an error naming the valid roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("%w: unknown role %q (want one of admin, coordinator, head, officer, visitor)", ErrInvalid, s)
}

// Person is someone the door knows: staff or a visitor.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Roles []Role `json:"roles"`
	Org   string `json:"org,omitempty"`
	IDDoc string `json:"id_doc,omitempty"` // identity document (KTP, SIM, passport) shown at step 1
	// Disabled people are refused at every reader (revoked), their remote
	// keys stop verifying, and they take no SOP step; their records and
	// visits stay.
	Disabled   bool      `json:"disabled,omitempty"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// UnixUser is the Unix account whose pintuctl acts as this person on
	// the local socket (see Actor); empty when none is linked.
	UnixUser string `json:"unix_user,omitempty"`
	// Seq is the audit event that last wrote the record and carries its
	// digest (see RecordRef). It is not part of the record's content.
	Seq uint64 `json:"-"`
}

// Has reports whether p holds role r.
func (p Person) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// IsVisitor reports whether p is a visitor.
func (p Person) IsVisitor() bool { return p.Has(RoleVisitor) }

// Card is a credential bound to exactly one person.
type Card struct {
	ID         string    `json:"id"`
	PersonID   string    `json:"person"`
	Revoked    bool      `json:"revoked,omitempty"`
	AssignedAt time.Time `json:"assigned_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Seq        uint64    `json:"-"` // the event that last wrote it; see Person.Seq
}

// VisitState is where a visit stands in the SOP.
type VisitState string

// The visit states, in SOP order.
const (
	StateSubmitted      VisitState = "submitted"
	StateChecked        VisitState = "checked"
	StateApproved       VisitState = "approved"
	StateRejected       VisitState = "rejected"
	StateInside         VisitState = "inside"
	StateExited         VisitState = "exited"
	StateReported       VisitState = "reported"
	StateArchiveOrdered VisitState = "archive_ordered"
	StateArchived       VisitState = "archived"
)

// VisitStates lists every visit state in SOP order.
var VisitStates = []VisitState{StateSubmitted, StateChecked, StateApproved, StateRejected,
	StateInside, StateExited, StateReported, StateArchiveOrdered, StateArchived}

// ParseVisitState returns the state named s.
func ParseVisitState(s string) (VisitState, error) {
	v := VisitState(s)
	if slices.Contains(VisitStates, v) {
		return v, nil
	}
	return "", fmt.Errorf("%w: unknown visit state %q", ErrInvalid, s)
}

// VisitForm is what the visitor writes on the form at step 1.
type VisitForm struct {
	VisitorID string    `json:"visitor"`
	Purpose   string    `json:"purpose"`
	Devices   string    `json:"devices,omitempty"` // devices brought in (perangkat yang dibawa)
	From      time.Time `json:"from"`
	Until     time.Time `json:"until"`
	EscortID  string    `json:"escort,omitempty"` // a named escort; empty means any escort-capable staff
}

// StepRecord is one SOP step taken on a visit.
type StepRecord struct {
	Step     int           `json:"step"`
	Action   Action        `json:"action"`
	State    VisitState    `json:"state"` // the visit state after the step
	Actor    string        `json:"actor"`
	Started  time.Time     `json:"started"`
	At       time.Time     `json:"at"`
	Standard time.Duration `json:"standard"` // the SOP's mutu baku for the step
	Note     string        `json:"note,omitempty"`
}

// Took is how long the step took.
func (s StepRecord) Took() time.Duration { return s.At.Sub(s.Started) }

// Visit is one visitor's visit to the server room and its SOP history.
type Visit struct {
	ID string `json:"id"`
	VisitForm
	Org         string       `json:"org,omitempty"`    // copied from the visitor at submission
	IDDoc       string       `json:"id_doc,omitempty"` // copied from the visitor at submission
	State       VisitState   `json:"state"`
	SubmittedBy string       `json:"submitted_by"`
	Steps       []StepRecord `json:"steps"`
	EnteredAt   time.Time    `json:"entered_at,omitzero"`
	EscortedBy  string       `json:"escorted_by,omitempty"`
	Door        string       `json:"door,omitempty"`
	ExitedAt    time.Time    `json:"exited_at,omitzero"`
	IDReturned  bool         `json:"id_returned,omitempty"`
	Seq         uint64       `json:"-"` // the event that last wrote it; see Person.Seq
}

// Step returns the record of SOP step n, if it was taken.
func (v Visit) Step(n int) (StepRecord, bool) {
	for _, s := range v.Steps {
		if s.Step == n {
			return s, true
		}
	}
	return StepRecord{}, false
}

func (v Visit) clone() Visit {
	v.Steps = slices.Clone(v.Steps)
	return v
}

// Decision is the outcome of a card read.
type Decision string

// The decisions a read can have.
const (
	Granted Decision = "granted"
	Denied  Decision = "denied"
	Pending Decision = "pending" // a visitor waiting for an escort, or staff under the two-person rule
)

// Reason says why a read was denied or is pending. The set is closed.
type Reason string

// The reasons. A granted read has no reason.
const (
	ReasonUnknownCard         Reason = "unknown_card"
	ReasonRevoked             Reason = "revoked"
	ReasonNotApproved         Reason = "not_approved"
	ReasonOutsideWindow       Reason = "outside_window"
	ReasonEscortRequired      Reason = "escort_required"
	ReasonEscortNotAuthorized Reason = "escort_not_authorized"
	ReasonAlreadyInside       Reason = "already_inside"
	ReasonLockdown            Reason = "lockdown"
	ReasonClockUnsynced       Reason = "clock_unsynced"
	ReasonStorageFailure      Reason = "storage_failure"
	ReasonNoRoomAccess        Reason = "no_room_access"
	ReasonTwoPersonRequired   Reason = "two_person_required"
	ReasonWaitingForEscort    Reason = "waiting_for_escort" // pending only
	ReasonWaitingForSecond    Reason = "waiting_for_second" // pending only
	// The log or a record the decision needed failed its integrity check:
	// entry is refused until a head accepts the break.
	ReasonIntegrityFailure Reason = "integrity_failure"
)

// Reasons lists every reason.
var Reasons = []Reason{ReasonUnknownCard, ReasonRevoked, ReasonNotApproved, ReasonOutsideWindow,
	ReasonEscortRequired, ReasonEscortNotAuthorized, ReasonAlreadyInside, ReasonLockdown,
	ReasonClockUnsynced, ReasonStorageFailure, ReasonNoRoomAccess, ReasonTwoPersonRequired,
	ReasonWaitingForEscort, ReasonWaitingForSecond, ReasonIntegrityFailure}

// Result is the answer to a card read.
type Result struct {
	Decision Decision `json:"decision"`
	Reason   Reason   `json:"reason,omitempty"`
	Person   string   `json:"person,omitempty"`
	Visit    string   `json:"visit,omitempty"`
	Seq      uint64   `json:"seq,omitempty"` // the audit event that recorded it
}

// Direction says whether a reader lets people in or out.
type Direction string

// Reader directions.
const (
	Entry Direction = "entry"
	Exit  Direction = "exit"
)

// Occupant is someone recorded as inside the room.
type Occupant struct {
	Person string    `json:"person"`
	Door   string    `json:"door"`
	Since  time.Time `json:"since"`
	Visit  string    `json:"visit,omitempty"`  // set for visitors
	Escort string    `json:"escort,omitempty"` // the escort of a visitor
	// Seq is the audit event of the read that put the person inside: their
	// own granted read, or for an escort let in with a visitor, the escort's
	// read that the visitor's grant names.
	Seq uint64 `json:"seq,omitempty"`
}

// DoorRecord is the durable part of a door's state: what must survive a
// restart. The rest (lock, contact, waiting reads) is rebuilt from the
// hardware.
type DoorRecord struct {
	Name     string    `json:"name"`
	Lockdown bool      `json:"lockdown"`
	Since    time.Time `json:"since,omitzero"` // when lockdown last changed
	By       string    `json:"by,omitempty"`   // who changed it
}

// Errors returned by the Controller's methods. A denial is not an error: it is
// a Result. Callers test with errors.Is.
var (
	// ErrInvalid is bad input: a missing or malformed field.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound is an unknown person, card, visit, door or reader.
	ErrNotFound = errors.New("not found")
	// ErrExists is a person or card that already exists.
	ErrExists = errors.New("already exists")
	// ErrWrongState is a workflow step taken from the wrong visit state.
	ErrWrongState = errors.New("wrong visit state")
	// ErrWrongRole is a workflow step by someone without that step's role.
	ErrWrongRole = errors.New("role may not take this step")
	// ErrUnauthenticated is an action whose actor is not a person the
	// controller knows: root, or a Unix account linked to nobody.
	ErrUnauthenticated = errors.New("not identified as a person")
	// ErrSeparation is one person taking two SOP steps of one visit that
	// the SOP gives to different people.
	ErrSeparation = errors.New("separation of duties")
	// ErrAlready is a request for what is already so: an alarm acknowledged
	// twice, a door already in lockdown, a person already disabled.
	ErrAlready = errors.New("already done")
	// ErrStorage is a failed commit; nothing changed.
	ErrStorage = errors.New("storage failure")
	// ErrStopped is a request to a controller that is not running.
	ErrStopped = errors.New("controller stopped")
	// ErrIntegrity is a record or an event that fails its integrity check
	// (see IntegrityError), or a store read that hit damage.
	ErrIntegrity = errors.New("integrity failure")
	// ErrBusy is a change refused while a bulk import is in progress.
	ErrBusy = errors.New("busy")
)
