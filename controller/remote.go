package controller

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"maps"
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

// remoteState is the part of the state that remote commands use.
type remoteState struct {
	keys     map[string]Key
	seen     map[string]time.Time // replay cache: command id -> until
	verifier *remote.Verifier
	tx       *txn // the txn of the command being verified; nil otherwise
}

func (s *state) loadRemote(snap Snapshot) error {
	s.remote.keys = make(map[string]Key, len(snap.Keys))
	for _, k := range snap.Keys {
		s.remote.keys[k.ID] = k
	}
	s.remote.seen = make(map[string]time.Time, len(snap.Commands))
	for _, c := range snap.Commands {
		s.remote.seen[c.ID] = c.Until
	}
	v, err := remote.NewVerifier(remote.VerifierOptions{
		Keys:   s.lookupKey,
		Replay: txReplay{s},
		ClockTrusted: func() bool {
			return s.remote.tx != nil && s.remote.tx.trusted
		},
	})
	if err != nil {
		return fmt.Errorf("remote commands: %w", err)
	}
	s.remote.verifier = v
	return nil
}

// lookupKey answers the verifier: the role is checked now, not only when the
// key was added, so a coordinator who loses the role loses remote unlock.
func (s *state) lookupKey(id string) (ed25519.PublicKey, string, bool, bool) {
	k, ok := s.remote.keys[id]
	if !ok || k.Revoked {
		return nil, "", false, false
	}
	p, ok := s.people[k.PersonID]
	return ed25519.PublicKey(slices.Clone(k.Public)), k.PersonID, ok && !p.IsVisitor() && p.Has(RoleCoordinator), true
}

// txReplay is the verifier's replay cache: the state's, written through the
// current txn so that it is committed with the audit event (and rolled back
// with it).
type txReplay struct{ s *state }

func (r txReplay) Seen(id string) bool {
	until, ok := r.s.remote.seen[id]
	return ok && (r.s.remote.tx == nil || !r.s.remote.tx.now.After(until))
}

func (r txReplay) Remember(id string, until time.Time) {
	tx := r.s.remote.tx
	if tx == nil {
		return // only called from Check, inside a txn
	}
	seen := r.s.remote.seen
	old, had := seen[id]
	if had && old.After(until) {
		until = old
	}
	seen[id] = until.UTC()
	tx.change.Commands = append(tx.change.Commands, CommandRecord{ID: id, Until: until.UTC()})
	tx.undo = append(tx.undo, func() {
		if had {
			seen[id] = old
		} else {
			delete(seen, id)
		}
	})
}

// forgetCommands drops replay records whose time has passed.
func (s *state) forgetCommands(tx *txn) {
	seen := s.remote.seen
	var gone []string
	for id, until := range seen {
		if tx.now.After(until) {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	slices.Sort(gone)
	old := make(map[string]time.Time, len(gone))
	for _, id := range gone {
		old[id] = seen[id]
		delete(seen, id)
	}
	tx.change.Forget = append(tx.change.Forget, gone...)
	tx.undo = append(tx.undo, func() { maps.Copy(seen, old) })
}

func (s *state) putKey(tx *txn, k Key) {
	old, had := s.remote.keys[k.ID]
	s.remote.keys[k.ID] = k
	tx.change.Keys = append(tx.change.Keys, k)
	tx.undo = append(tx.undo, func() {
		if had {
			s.remote.keys[k.ID] = old
		} else {
			delete(s.remote.keys, k.ID)
		}
	})
}

func (s *state) addKey(now time.Time, person string, pub []byte, actor string) (*txn, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalid, len(pub), ed25519.PublicKeySize)
	}
	p, err := s.person(person)
	if err != nil {
		return nil, err
	}
	if !p.Has(RoleCoordinator) {
		return nil, fmt.Errorf("%w: %q is not a coordinator; only coordinators sign remote commands", ErrWrongRole, person)
	}
	id := remote.KeyID(ed25519.PublicKey(pub))
	if k, ok := s.remote.keys[id]; ok {
		if k.Revoked {
			return nil, fmt.Errorf("%w: key %s was revoked; generate a new one", ErrExists, id)
		}
		return nil, fmt.Errorf("%w: key %s belongs to %q", ErrExists, id, k.PersonID)
	}
	tx := s.begin(now)
	s.putKey(tx, Key{ID: id, PersonID: person, Public: slices.Clone(pub), AddedAt: now.UTC()})
	s.emit(tx, Event{Type: EventKeyAdded, Person: person, Actor: actor, Detail: id})
	return tx, nil
}

func (s *state) revokeKey(now time.Time, id, actor string) (*txn, error) {
	k, ok := s.remote.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key %q", ErrNotFound, id)
	}
	if k.Revoked {
		return nil, fmt.Errorf("%w: key %s is already revoked", ErrInvalid, id)
	}
	tx := s.begin(now)
	k.Public = slices.Clone(k.Public)
	k.Revoked, k.RevokedAt = true, now.UTC()
	s.putKey(tx, k)
	s.emit(tx, Event{Type: EventKeyRevoked, Person: k.PersonID, Actor: actor, Detail: id})
	return tx, nil
}

func (s *state) keyList() []Key {
	ks := slices.SortedFunc(maps.Values(s.remote.keys), func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ks {
		ks[i].Public = slices.Clone(ks[i].Public)
	}
	return ks
}

// maxDetail bounds the audit detail of a remote command: parse errors quote
// what an unauthenticated sender wrote.
const maxDetail = 400

// remoteCommand decides on a signed command and, if it is accepted, executes
// it. Every call, whatever the payload, yields exactly one remote_command
// event, before the events of what the command does.
func (s *state) remoteCommand(now time.Time, in RemoteInput) (RemoteResult, *txn) {
	tx := s.begin(now)
	s.housekeep(tx)
	s.forgetCommands(tx)
	cmd, res := s.checkRemote(tx, in)
	var d *door
	var v Visit
	if res.Accepted {
		d, v, res = s.preconditions(cmd, res, tx.now)
	}
	s.recordRemote(tx, cmd, &res, in.Via)
	if res.Accepted {
		s.execRemote(tx, d, cmd, v, res.Person)
	}
	return res, tx
}

// checkRemote parses and verifies in. A command for another door, or
// retained, is refused before verification, so that it does not consume the
// command id.
func (s *state) checkRemote(tx *txn, in RemoteInput) (remote.Command, RemoteResult) {
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
		if _, ok := s.doors[c.Door]; !ok {
			res.Reason, res.Detail = string(ReasonUnknownDoor), fmt.Sprintf("no door %q here", c.Door)
			return c, res
		}
	} else if in.Retained {
		return remote.Command{}, RemoteResult{Door: in.Door, Reason: string(ReasonRetained), Detail: "retained commands are never executed"}
	}
	s.remote.tx = tx
	c, v := s.remote.verifier.CheckPayload(tx.now, in.Payload)
	s.remote.tx = nil
	res := RemoteResult{ID: c.ID, Door: c.Door, Action: string(c.Action), Person: v.Person, Detail: v.Detail, Reason: string(v.Reason), Accepted: v.Accepted()}
	if res.Door == "" {
		res.Door = in.Door
	}
	return c, res
}

// preconditions are what the door's state must allow for an authentic
// command to be executed.
func (s *state) preconditions(cmd remote.Command, res RemoteResult, now time.Time) (*door, Visit, RemoteResult) {
	deny := func(r Reason, format string, args ...any) (*door, Visit, RemoteResult) {
		res.Accepted, res.Reason, res.Detail = false, string(r), fmt.Sprintf(format, args...)
		return nil, Visit{}, res
	}
	d, ok := s.doors[cmd.Door]
	if !ok {
		return deny(ReasonUnknownDoor, "no door %q here", cmd.Door)
	}
	if cmd.Action != remote.ActionUnlock {
		return d, Visit{}, res
	}
	if d.lockdown {
		return deny(ReasonLockdown, "door %s is locked down; release the lockdown first", d.cfg.Name)
	}
	if cmd.Visit == "" {
		return d, Visit{}, res
	}
	v, ok := s.visits[cmd.Visit]
	switch {
	case !ok:
		return deny(ReasonUnknownVisit, "no visit %q", cmd.Visit)
	case v.State != StateApproved:
		return deny(ReasonNotApproved, "visit %s is %s, not approved", v.ID, v.State)
	case now.Before(v.From) || !now.Before(v.Until):
		return deny(ReasonOutsideWindow, "visit %s is from %s until %s", v.ID, v.From.UTC().Format(time.RFC3339), v.Until.UTC().Format(time.RFC3339))
	}
	if _, in := s.inside[v.VisitorID]; in {
		return deny(ReasonAlreadyInside, "visitor %s is already inside", v.VisitorID)
	}
	return d, v, res
}

// recordRemote emits the remote_command event that explains what follows.
func (s *state) recordRemote(tx *txn, cmd remote.Command, res *RemoteResult, via string) {
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
	if len(detail) > maxDetail {
		detail = strings.ToValidUTF8(detail[:maxDetail], "") + "..."
	}
	dec := Granted
	if !res.Accepted {
		dec = Denied
	}
	tx.result = s.emit(tx, Event{Type: EventRemoteCommand, Door: res.Door, Person: res.Person, Actor: res.Person,
		Visit: cmd.Visit, Decision: dec, Reason: Reason(res.Reason), Detail: detail})
}

// execRemote does what an accepted command asks.
func (s *state) execRemote(tx *txn, d *door, cmd remote.Command, v Visit, person string) {
	why := "remote " + string(cmd.Action) + " by " + person
	switch cmd.Action {
	case remote.ActionUnlock:
		s.unlock(tx, d, cmd.Duration)
		if v.ID != "" {
			s.remoteVisitor(tx, d, v)
		}
	case remote.ActionLock:
		s.relock(tx, d, why)
	case remote.ActionLockdown:
		if !d.lockdown {
			d.lockdown = true
			s.emit(tx, Event{Type: EventLockdown, Door: d.cfg.Name, Actor: person, Detail: why})
			s.relock(tx, d, "lockdown")
			d.waiting = nil
		}
	case remote.ActionReleaseLockdown:
		if d.lockdown {
			d.lockdown = false
			s.emit(tx, Event{Type: EventLockdownClear, Door: d.cfg.Name, Actor: person, Detail: why})
		}
	}
}

// remoteVisitor treats a remote unlock for a visit like the visitor's own
// read: the visitor is recorded inside only when an escort badges within the
// escort window, before or after.
func (s *state) remoteVisitor(tx *txn, d *door, v Visit) {
	keep := tx.result // the remote_command event stays the result
	defer func() { tx.result = keep }()
	ve := Event{Door: d.cfg.Name, Reader: "remote", Person: v.VisitorID, Visit: v.ID}
	for j := len(d.recent) - 1; j >= 0; j-- {
		t := d.recent[j]
		if s.escortFor(v, t.person, t.canEscort) {
			d.recent = slices.Delete(d.recent, j, j+1)
			s.grantVisitor(tx, d, ve, v, t.person, true)
			return
		}
	}
	d.waiting = slices.DeleteFunc(d.waiting, func(w waiter) bool { return w.person == v.VisitorID })
	d.waiting = append(d.waiting, waiter{kind: waitEscort, person: v.VisitorID, reader: "remote", visit: v.ID, at: tx.now})
	s.decide(tx, ve, Pending, ReasonWaitingForEscort)
}

// codeCommand executes a command from an integration that mapped a code to
// a person; it is audited like a signed command.
func (s *state) codeCommand(now time.Time, in CodeInput) (RemoteResult, *txn) {
	tx := s.begin(now)
	s.housekeep(tx)
	cmd := remote.Command{Door: in.Door, Action: in.Action}
	res := RemoteResult{Door: in.Door, Action: string(in.Action), Person: in.Person}
	if in.Action == remote.ActionUnlock {
		if d, ok := s.doors[in.Door]; ok {
			cmd.Duration = d.cfg.Unlock
		}
	}
	p, known := s.people[in.Person]
	switch {
	case in.RateLimited:
		res.Reason, res.Detail = string(remote.ReasonRateLimited), "too many attempts; wait a minute"
	case in.Person == "" || !known:
		res.Person, res.Reason, res.Detail = "", string(ReasonBadCode), "the code matches no coordinator"
	case p.IsVisitor() || !p.Has(RoleCoordinator):
		res.Reason, res.Detail = string(remote.ReasonNotCoordinator), fmt.Sprintf("%s is not a coordinator", in.Person)
	case in.Action != remote.ActionUnlock && in.Action != remote.ActionLock:
		res.Reason, res.Detail = string(remote.ReasonMalformed), fmt.Sprintf("action %q not allowed here", in.Action)
	default:
		res.Accepted = true
	}
	var d *door
	if res.Accepted {
		d, _, res = s.preconditions(cmd, res, tx.now)
	}
	s.recordRemote(tx, cmd, &res, in.Via)
	if res.Accepted {
		s.execRemote(tx, d, cmd, Visit{}, res.Person)
	}
	return res, tx
}

// Remote decides on a signed remote command and executes it if it is
// accepted. Every command, accepted or refused, however malformed, is
// recorded in one remote_command audit event before any relay moves. A
// refusal is not an error; an error means the controller is not running.
func (c *Controller) Remote(ctx context.Context, in RemoteInput) (RemoteResult, error) {
	return c.remoteRun(ctx, func(now time.Time) (RemoteResult, *txn) { return c.st.remoteCommand(now, in) })
}

// CodeCommand executes an unlock or lock from an integration that cannot
// sign (the Home Assistant lock entity), for the person its code maps to.
// It is audited like a signed command.
func (c *Controller) CodeCommand(ctx context.Context, in CodeInput) (RemoteResult, error) {
	return c.remoteRun(ctx, func(now time.Time) (RemoteResult, *txn) { return c.st.codeCommand(now, in) })
}

func (c *Controller) remoteRun(ctx context.Context, fn func(now time.Time) (RemoteResult, *txn)) (RemoteResult, error) {
	var res RemoteResult
	err := c.do(ctx, func(now time.Time) {
		var tx *txn
		res, tx = fn(now)
		if err := c.commitAndApply(tx); err != nil {
			res.Accepted, res.Reason, res.Detail, res.Seq = false, string(ReasonStorageFailure), "the audit log could not be written; nothing done", 0
			return
		}
		res.Seq = tx.resultSeq
	})
	return res, err
}

// AddKey registers a coordinator's public key for remote commands.
func (c *Controller) AddKey(ctx context.Context, person string, pub []byte, actor string) (Key, error) {
	var k Key
	err := c.run(ctx, func(now time.Time) (*txn, error) {
		tx, err := c.st.addKey(now, person, pub, actor)
		if err == nil {
			k = tx.change.Keys[0]
		}
		return tx, err
	})
	return k, err
}

// RevokeKey revokes a remote command key; commands it signs are refused
// unknown_key from then on.
func (c *Controller) RevokeKey(ctx context.Context, id, actor string) (Key, error) {
	var k Key
	err := c.run(ctx, func(now time.Time) (*txn, error) {
		tx, err := c.st.revokeKey(now, id, actor)
		if err == nil {
			k = tx.change.Keys[0]
		}
		return tx, err
	})
	return k, err
}

// Keys lists the remote command keys, revoked ones too, ordered by id.
func (c *Controller) Keys(ctx context.Context) ([]Key, error) {
	var ks []Key
	err := c.do(ctx, func(time.Time) { ks = c.st.keyList() })
	return ks, err
}

// Watch returns a channel that receives a value after commits: at least one
// after any number of commits since the last receive, never blocking the
// controller. Adapters use it to learn of new events (the MQTT outbox)
// without polling. stop releases the channel.
func (c *Controller) Watch() (ch <-chan struct{}, stop func()) {
	w := make(chan struct{}, 1)
	c.watchMu.Lock()
	c.watchers = append(c.watchers, w)
	c.watchMu.Unlock()
	return w, func() {
		c.watchMu.Lock()
		defer c.watchMu.Unlock()
		c.watchers = slices.DeleteFunc(c.watchers, func(x chan struct{}) bool { return x == w })
	}
}

// notify wakes the watchers after a commit.
func (c *Controller) notify() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	for _, w := range c.watchers {
		select {
		case w <- struct{}{}:
		default: // already signalled
		}
	}
}
