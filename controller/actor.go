package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Actor is who makes a request, as the adapter that received it established
// it: the console's signed-in person, the person linked to the Unix account
// on the other end of the local socket, root, or (under pintud -sim only) a
// person named by a claim that nobody checked. Adapters build it from what
// they authenticated; the domain never turns a typed name into an Actor.
type Actor struct {
	// Person is the acting person's id; empty for root and for an account
	// linked to nobody.
	Person string
	// Root is the Unix superuser on the local socket. Root is not a person:
	// it may manage people, cards, passwords and links (recorded as "root")
	// but never take an SOP step, acknowledge an alarm or lock a door down.
	Root bool
	// Via is the channel the request came through: ViaConsole or ViaSocket.
	Via string
	// Account names the authenticated account for messages: the Unix user
	// on the socket, the person id signed in to the console.
	Account string
	// Claim is the person the caller said it acts as (pintuctl's --by).
	// When set, it must be Person: a mismatch is refused and recorded.
	Claim string
	// Unauthenticated marks pintud -sim's --by: Person is taken as given.
	// Every event such an actor causes is recorded with Via
	// ViaUnauthenticated, so the log never passes a claim off as a proof.
	Unauthenticated bool
}

// The channels an actor comes through, as Event.Via records them.
const (
	ViaConsole = "console" // signed in to the web console with a password
	ViaSocket  = "socket"  // the local API socket, identified by its peer credentials
	// ViaUnauthenticated is recorded for every event caused through pintud
	// -sim's socket, where --by is honoured as a claim.
	ViaUnauthenticated = "unauthenticated-sim"
)

// The names recorded as Event.Actor for actors that are not a person.
const (
	RootActor  = "root"  // the Unix superuser on the local socket
	LocalActor = "local" // pintud -sim's unauthenticated local operator
)

// reservedIDs cannot be person ids: they would read as root or the sim's
// operator in the log.
var reservedIDs = []string{RootActor, LocalActor}

// Name is what the log records as the actor.
func (a Actor) Name() string {
	switch {
	case a.Root:
		return RootActor
	case a.Person != "":
		return a.Person
	case a.Unauthenticated:
		return LocalActor
	}
	return ""
}

// via is what Event.Via records.
func (a Actor) via() string {
	if a.Unauthenticated {
		return ViaUnauthenticated
	}
	return a.Via
}

// who names the actor in messages.
func (a Actor) who() string {
	switch {
	case a.Root:
		return "root"
	case a.Person != "":
		return a.Person
	case a.Via == ViaSocket && a.Account != "":
		return fmt.Sprintf("Unix user %q", a.Account)
	case a.Unauthenticated:
		return "the local operator"
	}
	return "an unidentified caller"
}

// actor resolves who takes an action that only some staff may take (an SOP
// step, a lockdown, acknowledging an alarm). It is the one place that turns
// an Actor into a person; callers check the roles they need.
func (s *state) actor(a Actor) (Person, error) {
	if a.Root {
		if a.Claim != "" {
			return Person{}, fmt.Errorf("%w: root may not act as %s (--by): root is not a person and takes no SOP step, alarm acknowledgement or lockdown; run pintuctl as %s's own Unix account once root has linked it (pintuctl person link)", ErrUnauthenticated, a.Claim, a.Claim)
		}
		return Person{}, fmt.Errorf("%w: root is not a person and takes no SOP step, alarm acknowledgement or lockdown; act as yourself: sign in to the console, or run pintuctl as your own Unix account once root has linked it (pintuctl person link)", ErrUnauthenticated)
	}
	id := strings.TrimSpace(a.Person)
	if c := strings.TrimSpace(a.Claim); c != "" && c != id {
		return Person{}, fmt.Errorf("%w: --by %s does not match who you are: %s; leave --by out, or run pintuctl as %s's own Unix account", ErrUnauthenticated, c, a.who(), c)
	}
	if id == "" {
		switch {
		case a.Unauthenticated:
			return Person{}, fmt.Errorf("%w: who acts is missing (--by)", ErrInvalid)
		case a.Via == ViaSocket && a.Account != "":
			return Person{}, fmt.Errorf("%w: Unix user %q is linked to no person; root links it with: pintuctl person link --id ID --unix-user %s", ErrUnauthenticated, a.Account, a.Account)
		}
		return Person{}, fmt.Errorf("%w: who acts is not known", ErrUnauthenticated)
	}
	p, ok, err := s.rec.Person(id)
	if err != nil {
		return Person{}, err
	}
	if !ok {
		if a.Unauthenticated {
			return Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
		}
		return Person{}, fmt.Errorf("%w: %s is no longer a registered person", ErrUnauthenticated, id)
	}
	if p.Disabled {
		return Person{}, fmt.Errorf("%w: %s is disabled and may take no action", ErrWrongRole, p.ID)
	}
	return p, nil
}

// The staff who may manage records: visitors by the roles that meet them
// (admin staff take the form at step 1), staff only by the head, who
// answers for who holds room access.
var (
	visitorManagers = []Role{RoleAdmin, RoleCoordinator, RoleHead}
	staffManagers   = []Role{RoleHead}
)

// mayManage checks that a may register or change the records of target (a
// person as they are, or will be, and their cards). Root and pintud -sim's
// local operator may manage anyone; a person may manage visitors if they
// are admin staff, a coordinator or the head, and staff if they are the
// head, but never their own record: nobody grants themselves a role or a
// card.
func (s *state) mayManage(a Actor, target Person) error {
	if a.Root || (a.Unauthenticated && strings.TrimSpace(a.Person) == "") {
		return nil
	}
	p, err := s.actor(a)
	if err != nil {
		return err
	}
	if p.ID == target.ID {
		return fmt.Errorf("%w: %s may not change their own record or cards; ask the head (Kepala Bidang) or root", ErrWrongRole, p.ID)
	}
	need, whom := staffManagers, "staff: that is for the head (Kepala Bidang) or root"
	if target.IsVisitor() {
		need, whom = visitorManagers, "visitors: that is for admin staff, a coordinator or the head"
	}
	if !slices.ContainsFunc(need, p.Has) {
		return fmt.Errorf("%w: %s (%s) may not register or change %s", ErrWrongRole, p.ID, rolesText(p.Roles), whom)
	}
	return nil
}

// mayAdminister checks that a may do what only root (or pintud -sim's
// local operator) does: link Unix accounts to people and manage remote
// command keys, which stand in for a person's identity.
func (s *state) mayAdminister(a Actor, what string) error {
	if a.Root || (a.Unauthenticated && strings.TrimSpace(a.Person) == "") {
		return nil
	}
	return fmt.Errorf("%w: %s may not %s: that is for root (run pintuctl as root on the door's computer)", ErrWrongRole, a.who(), what)
}

// refusal reports whether err refuses an action for want of authority
// (identity, role, separation of duties): such attempts are recorded.
func refusal(err error) bool {
	return errors.Is(err, ErrWrongRole) || errors.Is(err, ErrSeparation) || errors.Is(err, ErrUnauthenticated)
}

func rolesText(rs []Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

// refused is the step that records an action refused for want of
// authority: who tried (as far as they are known), what, and why.
func (s *state) refused(now time.Time, by Actor, what string, on Event, why error) *step {
	st := s.begin(now)
	msg := why.Error()
	if len(msg) > MaxNoteLen {
		msg = strings.ToValidUTF8(msg[:MaxNoteLen], "")
	}
	detail := what + ": " + msg
	if by.Person == "" && by.Account != "" && !by.Root {
		detail = fmt.Sprintf("Unix user %q: %s", by.Account, detail)
	}
	e := Event{Type: EventRefused, Actor: by.Name(), Via: by.via(), Detail: detail}
	// Only names of records that exist: a refused request's text is the
	// requester's, and an unknown id stays in the detail alone.
	if _, ok, _ := s.rec.Person(on.Person); ok {
		e.Person = on.Person
	}
	if _, ok, _ := s.rec.Visit(on.Visit); ok {
		e.Visit = on.Visit
	}
	if _, ok := s.doors[on.Door]; ok {
		e.Door = on.Door
	}
	if _, ok, _ := s.rec.Card(on.Card); ok {
		e.Card = on.Card
	}
	st.emit(e)
	return st
}
