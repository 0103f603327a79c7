package controller

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pintu/pintu/controller/remote"
)

// Key is a coordinator's Ed25519 public key for signed remote commands (see
// package remote). Only a key whose owner holds the coordinator role when a
// command arrives can have the command executed.
type Key struct {
	ID        string    `json:"id"` // remote.KeyID of Public
	PersonID  string    `json:"person"`
	Public    []byte    `json:"public"` // the 32-byte Ed25519 public key
	AddedAt   time.Time `json:"added_at"`
	Revoked   bool      `json:"revoked,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Seq       uint64    `json:"-"` // the event that last wrote it; see Person.Seq
}

// CommandRecord is one entry of the persistent replay cache: a remote
// command id that was decided on, remembered until Until (its expiry plus
// the allowed clock skew), after which it could not be accepted anyway.
type CommandRecord struct {
	ID    string    `json:"id"`
	Until time.Time `json:"until"`
}

// Event types of remote command keys.
const (
	EventKeyAdded   EventType = "key_added"
	EventKeyRevoked EventType = "key_revoked"
)

// Reasons a remote command is refused beyond the verifier's (every
// remote.Reason may appear too) and the access rule's (lockdown,
// not_approved, outside_window, already_inside, storage_failure).
const (
	ReasonRetained     Reason = "retained"      // delivered as a retained MQTT message
	ReasonWrongDoor    Reason = "wrong_door"    // the topic's door is not the command's
	ReasonUnknownDoor  Reason = "unknown_door"  // no such door here
	ReasonUnknownVisit Reason = "unknown_visit" // the command names a visit that does not exist
	ReasonBadCode      Reason = "bad_code"      // a Home Assistant code that maps to nobody
)

// RemoteInput is a signed remote command as it arrived.
type RemoteInput struct {
	// Payload is the wire form package remote parses.
	Payload []byte
	// Door is the door the transport addressed (the MQTT topic's); when it
	// is not empty it must equal the command's door, which the signature
	// covers and the topic does not.
	Door string
	// Retained marks a command the broker kept and replayed on subscribe:
	// it is never executed.
	Retained bool
	// Via names the transport, for the audit event: "mqtt".
	Via string
}

// CodeInput is a command from a trusted integration that cannot sign, such
// as the Home Assistant lock entity: the integration has mapped a code to a
// person (empty when the code matched nobody).
type CodeInput struct {
	Door   string
	Person string
	Action remote.Action // unlock or lock
	Via    string        // "home_assistant"
	// RateLimited is set by the integration when the sender has used up its
	// attempts: the command is refused rate_limited (and audited).
	RateLimited bool
}

// RemoteResult is the outcome of a remote command: what is published on the
// result topic.
type RemoteResult struct {
	ID       string `json:"id"` // the command id; empty when the payload did not parse
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Person   string `json:"person,omitempty"` // the coordinator, once authenticated
	Door     string `json:"door,omitempty"`
	Action   string `json:"action,omitempty"`
	Seq      uint64 `json:"seq,omitempty"` // the remote_command audit event
}

// stepReplay is the verifier's replay cache during one step: it reads the
// state's cache through the step and records what it remembers in the
// step, so that it is committed with the audit event, or dropped with it.
type stepReplay struct{ st *step }

func (r stepReplay) Seen(id string) bool {
	until, ok := r.st.seenUntil(id)
	return ok && !r.st.now.After(until)
}

func (r stepReplay) Remember(id string, until time.Time) {
	if old, ok := r.st.seenUntil(id); ok && old.After(until) {
		until = old
	}
	if r.st.remember == nil {
		r.st.remember = map[string]time.Time{}
	}
	r.st.remember[id] = until.UTC()
	delete(r.st.forget, id)
}

// lookupKey answers the verifier: the role is checked now, not only when the
// key was added, so a coordinator who loses the role loses remote unlock; a
// disabled person's keys are unknown.
func (st *step) lookupKey(id string) (ed25519.PublicKey, string, bool, bool) {
	k, ok := st.key(id)
	if !ok || k.Revoked {
		return nil, "", false, false
	}
	p, ok := st.person(k.PersonID)
	if ok && p.Disabled {
		return nil, "", false, false
	}
	return ed25519.PublicKey(slices.Clone(k.Public)), k.PersonID, ok && !p.IsVisitor() && p.Has(RoleCoordinator), true
}

// verifier is a remote command verifier that reads and writes through st.
func (st *step) verifier() *remote.Verifier {
	v, err := remote.NewVerifier(remote.VerifierOptions{
		Keys:         st.lookupKey,
		Replay:       stepReplay{st},
		Limiter:      st.s.limiter,
		ClockTrusted: func() bool { return st.trusted },
	})
	if err != nil {
		panic(fmt.Sprintf("controller: remote verifier: %v", err)) // every option is set
	}
	return v
}

// forgetCommands drops replay records whose time has passed.
func (st *step) forgetCommands() {
	for id, until := range st.s.seen {
		if st.now.After(until) {
			if st.forget == nil {
				st.forget = map[string]bool{}
			}
			st.forget[id] = true
		}
	}
}

// maxDetail bounds the audit detail of a remote command: parse errors quote
// what an unauthenticated sender wrote.
const maxDetail = 400

// remoteCommand decides on a signed command and, if it is accepted, executes
// it. Every call, whatever the payload, yields exactly one remote_command
// event, before the events of what the command does.
func (s *state) remoteCommand(now time.Time, in RemoteInput) (RemoteResult, *step) {
	st := s.begin(now)
	st.housekeep()
	st.forgetCommands()
	cmd, res := st.checkRemote(in)
	var v Visit
	if res.Accepted {
		v, res = st.preconditions(cmd, res)
	}
	st.recordRemote(cmd, &res, in.Via)
	if res.Accepted {
		st.execRemote(cmd, v, res.Person)
	}
	return res, st
}

// checkRemote parses and verifies in. A command for another door, or
// retained, is refused before verification, so that it does not consume the
// command id.
func (st *step) checkRemote(in RemoteInput) (remote.Command, RemoteResult) {
	if c, _, err := remote.Parse(in.Payload); err == nil {
		res := RemoteResult{ID: c.ID, Door: c.Door, Action: string(c.Action)}
		switch {
		case in.Retained:
			res.Reason, res.Detail = string(ReasonRetained), "retained commands are never executed"
			return c, res
		case in.Door != "" && in.Door != c.Door:
			res.Reason, res.Detail = string(ReasonWrongDoor), fmt.Sprintf("sent to door %q for door %q", in.Door, c.Door)
			return c, res
		}
		if _, ok := st.s.doors[c.Door]; !ok {
			res.Reason, res.Detail = string(ReasonUnknownDoor), fmt.Sprintf("no door %q here", c.Door)
			return c, res
		}
	} else if in.Retained {
		return remote.Command{}, RemoteResult{Door: in.Door, Reason: string(ReasonRetained), Detail: "retained commands are never executed"}
	}
	c, v := st.verifier().CheckPayload(st.now, in.Payload)
	res := RemoteResult{ID: c.ID, Door: c.Door, Action: string(c.Action), Person: v.Person, Detail: v.Detail, Reason: string(v.Reason), Accepted: v.Accepted()}
	if res.Door == "" {
		res.Door = in.Door
	}
	return c, res
}

// preconditions are what the door's state must allow for an authentic
// command to be executed.
func (st *step) preconditions(cmd remote.Command, res RemoteResult) (Visit, RemoteResult) {
	deny := func(r Reason, format string, args ...any) (Visit, RemoteResult) {
		res.Accepted, res.Reason, res.Detail = false, string(r), fmt.Sprintf(format, args...)
		return Visit{}, res
	}
	now := st.now
	if _, ok := st.s.doors[cmd.Door]; !ok {
		return deny(ReasonUnknownDoor, "no door %q here", cmd.Door)
	}
	if cmd.Action != remote.ActionUnlock {
		return Visit{}, res
	}
	if st.peek(cmd.Door).lockdown {
		return deny(ReasonLockdown, "door %s is locked down; release the lockdown first", cmd.Door)
	}
	if st.broken() {
		return deny(ReasonIntegrityFailure, "integrity check failed; entry is refused until the head accepts the break")
	}
	if cmd.Visit == "" {
		return Visit{}, res
	}
	v, ok := st.visit(cmd.Visit)
	if st.faulted() {
		return deny(ReasonIntegrityFailure, "visit %s: its record failed its integrity check", cmd.Visit)
	}
	switch {
	case !ok:
		return deny(ReasonUnknownVisit, "no visit %q", cmd.Visit)
	case v.State != StateApproved:
		return deny(ReasonNotApproved, "visit %s is %s, not approved", v.ID, v.State)
	case now.Before(v.From) || !now.Before(v.Until):
		return deny(ReasonOutsideWindow, "visit %s is from %s until %s", v.ID, v.From.UTC().Format(time.RFC3339), v.Until.UTC().Format(time.RFC3339))
	}
	if p, ok := st.person(v.VisitorID); ok && p.Disabled {
		return deny(ReasonRevoked, "visitor %s is disabled", v.VisitorID)
	}
	if _, in := st.occupant(v.VisitorID); in {
		return deny(ReasonAlreadyInside, "visitor %s is already inside", v.VisitorID)
	}
	if st.faulted() {
		return deny(ReasonIntegrityFailure, "a record failed its integrity check")
	}
	return v, res
}

// recordRemote emits the remote_command event that explains what follows.
func (st *step) recordRemote(cmd remote.Command, res *RemoteResult, via string) {
	var b strings.Builder
	if res.ID != "" {
		fmt.Fprintf(&b, "command %s", res.ID)
	} else {
		b.WriteString("command")
	}
	if res.Action != "" {
		fmt.Fprintf(&b, " %s", res.Action)
	}
	if cmd.Duration > 0 {
		fmt.Fprintf(&b, " %s", cmd.Duration)
	}
	if cmd.KeyID != "" {
		fmt.Fprintf(&b, " key %s", cmd.KeyID)
	}
	if via != "" {
		fmt.Fprintf(&b, " via %s", via)
	}
	if cmd.Reason != "" {
		fmt.Fprintf(&b, ": %q", cmd.Reason)
	}
	if res.Detail != "" {
		fmt.Fprintf(&b, "; %s", res.Detail)
	}
	detail := b.String()
	detail = clipDetail(detail)
	dec := Granted
	if !res.Accepted {
		dec = Denied
	}
	st.emit(Event{Type: EventRemoteCommand, Door: res.Door, Person: res.Person, Actor: res.Person,
		Visit: cmd.Visit, Decision: dec, Reason: Reason(res.Reason), Detail: detail})
	st.result = len(st.change.Events) - 1
}

// execRemote does what an accepted command asks.
func (st *step) execRemote(cmd remote.Command, v Visit, person string) {
	why := "remote " + string(cmd.Action) + " by " + person
	switch cmd.Action {
	case remote.ActionUnlock:
		st.unlock(cmd.Door, cmd.Duration)
		if v.ID != "" {
			st.remoteVisitor(cmd.Door, v)
		}
	case remote.ActionLock:
		st.relock(cmd.Door, why)
	case remote.ActionLockdown:
		st.setLockdown(cmd.Door, true, person, "", why)
	case remote.ActionReleaseLockdown:
		st.setLockdown(cmd.Door, false, person, "", why)
	}
}

// remoteVisitor treats a remote unlock for a visit like the visitor's own
// read: the visitor is recorded inside only with an escort (and a second,
// on a two-person door) reading within the escort window, before or after.
func (st *step) remoteVisitor(name string, v Visit) {
	w := waiter{person: v.VisitorID, reader: "remote", visit: v.ID, at: st.now,
		ref: fmt.Sprintf("remote command #%d", st.change.Events[st.result].Seq)}
	if g, ok, _ := st.groupFor(name, v); ok {
		st.grantVisitor(name, w, v, g, w.ref+"; ", false)
		st.consume(name, g.esc.seq)
		return
	}
	st.dropReadsOf(v.VisitorID, "", "superseded by a remote unlock")
	d := st.door(name)
	d.waiting = append(d.waiting, w)
	st.emit(Event{Type: EventAccess, Door: name, Reader: "remote", Person: v.VisitorID, Visit: v.ID,
		Decision: Pending, Reason: ReasonWaitingForEscort, Detail: w.ref})
}

// codeCommand executes a command from an integration that mapped a code to
// a person; it is audited like a signed command.
func (s *state) codeCommand(now time.Time, in CodeInput) (RemoteResult, *step) {
	st := s.begin(now)
	st.housekeep()
	cmd := remote.Command{Door: in.Door, Action: in.Action}
	res := RemoteResult{Door: in.Door, Action: string(in.Action), Person: in.Person}
	if in.Action == remote.ActionUnlock {
		if d, ok := s.doors[in.Door]; ok {
			cmd.Duration = d.cfg.Unlock
		}
	}
	p, known := st.person(in.Person)
	switch {
	case in.RateLimited:
		res.Reason, res.Detail = string(remote.ReasonRateLimited), "too many attempts; wait a minute"
	case in.Person == "" || !known:
		res.Person, res.Reason, res.Detail = "", string(ReasonBadCode), "the code matches no coordinator"
	case p.IsVisitor() || !p.Has(RoleCoordinator) || p.Disabled:
		res.Reason, res.Detail = string(remote.ReasonNotCoordinator), fmt.Sprintf("%s is not a coordinator", in.Person)
	case in.Action != remote.ActionUnlock && in.Action != remote.ActionLock:
		res.Reason, res.Detail = string(remote.ReasonMalformed), fmt.Sprintf("action %q not allowed here", in.Action)
	default:
		res.Accepted = true
	}
	if res.Accepted {
		_, res = st.preconditions(cmd, res)
	}
	st.recordRemote(cmd, &res, in.Via)
	if res.Accepted {
		st.execRemote(cmd, Visit{}, res.Person)
	}
	return res, st
}
