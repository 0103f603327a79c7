package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file is console accounts: passwords, sign-in and lockout, sign-out,
// and the links from Unix accounts to people. Hashing and verifying a
// password is the console's work, off the Run goroutine (an argon2id
// verification takes tens of milliseconds that no door decision should wait
// for); the controller records the outcome, keeps the failure counts and
// decides lockouts.

// Lockout: MaxLoginFailures failed sign-ins in a row lock the account for
// LockoutBase, doubling with each lockout in a row up to LockoutMax. A
// successful sign-in starts the count again.
const (
	MaxLoginFailures = 5
	LockoutBase      = time.Minute
	LockoutMax       = time.Hour
)

// Credential is a person's console password as stored: a PHC-format
// argon2id hash (controller/password makes and checks it). It lives in a
// store bucket of its own, never in the exported Person, and is written in
// the same commit as the password_set event, which carries its Digest.
type Credential struct {
	Person string    `json:"person"`
	Hash   string    `json:"hash"`
	SetAt  time.Time `json:"set_at"`
	SetBy  string    `json:"set_by"`
}

// Digest is the SHA-256 of the credential's canonical bytes (its JSON with
// the time in UTC), as the password_set event records it.
func (c Credential) Digest() string {
	c.SetAt = c.SetAt.UTC()
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("controller: marshal credential: %v", err)) // plain data; cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Account is a person's console sign-in state, durable so that a restart
// does not lift a lockout.
type Account struct {
	Person string `json:"person"`
	// Failures are the failed sign-ins since the last success or lockout.
	Failures int `json:"failures,omitempty"`
	// Lockouts are the lockouts in a row, for the growing delay.
	Lockouts    int       `json:"lockouts,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// PasswordSetAt is when the password was last set: sessions begun
	// before it are over.
	PasswordSetAt time.Time `json:"password_set_at,omitzero"`
}

// Link is one change to the index of Unix accounts linked to people:
// User now acts as Person, or, with Person empty, as nobody.
type Link struct {
	User   string `json:"user"`
	Person string `json:"person,omitempty"`
}

// HasPassword reports whether the person can sign in to the console.
func (a Account) HasPassword() bool { return !a.PasswordSetAt.IsZero() }

// LockoutDelay is how long the n-th lockout in a row lasts.
func LockoutDelay(n int) time.Duration {
	d := LockoutBase
	for i := 1; i < n && d < LockoutMax; i++ {
		d *= 2
	}
	return min(d, LockoutMax)
}

// LoginAttempt is the outcome of checking a password, for the controller to
// record.
type LoginAttempt struct {
	Person string // the person id typed
	// OK is whether the password matched the stored credential; false too
	// when there is none.
	OK bool
	// NoPassword says the person has no credential.
	NoPassword bool
	From       string // the client's address, for the record
}

// LockoutError refuses a sign-in to a locked account.
type LockoutError struct {
	Person string
	Until  time.Time
}

func (e *LockoutError) Error() string {
	return fmt.Sprintf("account %s is locked after %d failed sign-ins until %s", e.Person, MaxLoginFailures, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLockedOut) true.
func (e *LockoutError) Is(target error) bool { return target == ErrLockedOut }

var (
	// ErrLoginFailed is a wrong person id or password. It does not say which.
	ErrLoginFailed = errors.New("wrong person id or password")
	// ErrLockedOut is a sign-in to a locked account; the error is a
	// *LockoutError with the time the lock ends.
	ErrLockedOut = errors.New("account locked")
)

// setPassword stores a new credential for a staff member. Root sets and
// resets passwords; a person may change their own.
func (s *state) setPassword(now time.Time, id string, c Credential, by Actor) (*step, error) {
	p, ok, err := s.rec.Person(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	if !by.Root && !(by.Unauthenticated && by.Person == "") && by.Person != id {
		return nil, fmt.Errorf("%w: %s may not set %s's password: root sets and resets passwords (pintuctl person password), and each person may change their own", ErrWrongRole, by.who(), id)
	}
	if p.IsVisitor() {
		return nil, fmt.Errorf("%w: %s is a visitor; visitors do not sign in to the console", ErrInvalid, id)
	}
	if !strings.HasPrefix(c.Hash, "$argon2id$") {
		return nil, fmt.Errorf("%w: credential for %s is not an argon2id hash", ErrInvalid, id)
	}
	c.Person, c.SetAt, c.SetBy = id, now.UTC(), by.Name()
	st := s.begin(now)
	acct := st.account(id)
	acct.PasswordSetAt = c.SetAt
	acct.Failures, acct.Lockouts, acct.LockedUntil = 0, 0, time.Time{}
	st.putAccount(acct)
	st.creds = append(st.creds, c)
	st.emit(Event{Type: EventPasswordSet, Person: id, Actor: by.Name(), Via: by.via(), Detail: "credential sha256:" + c.Digest()})
	return st, nil
}

// login records a sign-in attempt and decides on it. A wrong password
// counts towards the lockout; a locked account is refused without
// counting. Every attempt is an event.
func (s *state) login(now time.Time, a LoginAttempt) (*step, Person, error) {
	id := strings.TrimSpace(a.Person)
	from := ""
	if a.From != "" {
		from = "; from " + a.From
	}
	st := s.begin(now)
	p, ok := st.person(id)
	if st.faulted() {
		return st, Person{}, st.faults[0]
	}
	if !ok || p.IsVisitor() {
		what := id
		if CheckText("id", id, 64, false) != nil {
			what = "(unprintable)"
		}
		st.emit(Event{Type: EventLoginFailed, Via: ViaConsole, Detail: fmt.Sprintf("unknown person %q%s", what, from)})
		return st, Person{}, ErrLoginFailed
	}
	fail := func(why string) {
		st.emit(Event{Type: EventLoginFailed, Person: id, Via: ViaConsole, Detail: why + from})
	}
	acct := st.account(id)
	if now.Before(acct.LockedUntil) {
		fail("account locked until " + acct.LockedUntil.UTC().Format(time.RFC3339))
		return st, Person{}, &LockoutError{Person: id, Until: acct.LockedUntil}
	}
	switch {
	case p.Disabled:
		fail("person disabled")
		return st, Person{}, ErrLoginFailed
	case a.NoPassword || !acct.HasPassword():
		fail("no password set")
		return st, Person{}, ErrLoginFailed
	case !a.OK:
		acct.Failures++
		fail(fmt.Sprintf("wrong password (%d of %d)", acct.Failures, MaxLoginFailures))
		if acct.Failures < MaxLoginFailures {
			st.putAccount(acct)
			return st, Person{}, ErrLoginFailed
		}
		acct.Lockouts++
		d := LockoutDelay(acct.Lockouts)
		acct.Failures, acct.LockedUntil = 0, now.UTC().Add(d)
		st.putAccount(acct)
		st.emit(Event{Type: EventLockout, Person: id, Via: ViaConsole,
			Detail: fmt.Sprintf("locked for %s until %s after %d failed sign-ins", d, acct.LockedUntil.Format(time.RFC3339), MaxLoginFailures)})
		return st, Person{}, &LockoutError{Person: id, Until: acct.LockedUntil}
	}
	if acct.Failures != 0 || acct.Lockouts != 0 || !acct.LockedUntil.IsZero() {
		acct.Failures, acct.Lockouts, acct.LockedUntil = 0, 0, time.Time{}
		st.putAccount(acct)
	}
	st.emit(Event{Type: EventLogin, Person: id, Actor: id, Via: ViaConsole, Detail: strings.TrimPrefix(from, "; ")})
	return st, p, nil
}

// logout records the end of a console session: why is "signed out" or
// what ended it.
func (s *state) logout(now time.Time, id, why string) (*step, error) {
	if _, ok, err := s.rec.Person(id); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	st := s.begin(now)
	st.emit(Event{Type: EventLogout, Person: id, Actor: id, Via: ViaConsole, Detail: why})
	return st, nil
}

// linkPerson links a Unix account to a person, or (user "") unlinks it:
// pintuctl run by that account acts as the person.
func (s *state) linkPerson(now time.Time, id, user string, by Actor) (*step, Person, error) {
	p, ok, err := s.rec.Person(id)
	if err != nil {
		return nil, Person{}, err
	}
	if !ok {
		return nil, Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, id)
	}
	if err := s.mayAdminister(by, "link Unix accounts to people"); err != nil {
		return nil, Person{}, err
	}
	user = strings.TrimSpace(user)
	if user != "" {
		if err := validUnixUser(user); err != nil {
			return nil, Person{}, err
		}
		if p.IsVisitor() {
			return nil, Person{}, fmt.Errorf("%w: %s is a visitor; only staff act through pintuctl", ErrInvalid, id)
		}
		if user == "root" {
			return nil, Person{}, fmt.Errorf("%w: root is not a person and cannot be linked to one; link each person's own account", ErrInvalid)
		}
		if other, ok := s.links[user]; ok && other != id {
			return nil, Person{}, fmt.Errorf("%w: Unix user %q is linked to %s; unlink it first (pintuctl person link --id %s --unix-user '')", ErrExists, user, other, other)
		}
	}
	if p.UnixUser == user {
		if user == "" {
			return nil, Person{}, fmt.Errorf("%w: %s is linked to no Unix user", ErrAlready, id)
		}
		return nil, Person{}, fmt.Errorf("%w: %s is already linked to Unix user %q", ErrAlready, id, user)
	}
	old := p.UnixUser
	p.Roles = append([]Role(nil), p.Roles...)
	p.UnixUser = user
	st := s.begin(now)
	if old != "" {
		st.links = append(st.links, Link{User: old})
	}
	if user != "" {
		st.links = append(st.links, Link{User: user, Person: id})
	}
	st.emit(Event{Type: EventPersonLinked, Person: id, Actor: by.Name(), Via: by.via(), Detail: fmt.Sprintf("unix_user %q -> %q", old, user)}, st.sealPerson(p))
	return st, p, nil
}

// validUnixUser accepts the names Debian's adduser does by default, plus
// capitals.
func validUnixUser(u string) error {
	if len(u) > 32 {
		return fmt.Errorf("%w: Unix user name %q is longer than 32 characters", ErrInvalid, u)
	}
	for i, c := range []byte(u) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '.')
		if !ok {
			return fmt.Errorf("%w: %q is not a Unix user name (letters, digits, '_', '-' and '.', starting with a letter or '_')", ErrInvalid, u)
		}
	}
	return nil
}

// account is a person's account as this step sees it.
func (st *step) account(id string) Account {
	if a, ok := st.accounts[id]; ok {
		return a
	}
	if a, ok := st.s.accounts[id]; ok {
		return a
	}
	return Account{Person: id}
}

func (st *step) putAccount(a Account) { st.accounts = put(st.accounts, a.Person, a) }
