package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Reason says why a command was refused. The set is closed.
type Reason string

// The reasons, in the order the Verifier checks them (too_large and malformed
// come first, from parsing). An accepted command has no reason.
const (
	ReasonTooLarge       Reason = "too_large"
	ReasonMalformed      Reason = "malformed"
	ReasonUnknownKey     Reason = "unknown_key"
	ReasonBadSignature   Reason = "bad_signature"
	ReasonNotCoordinator Reason = "not_coordinator"
	ReasonClockUnsynced  Reason = "clock_unsynced"
	ReasonNotYetValid    Reason = "not_yet_valid"
	ReasonExpired        Reason = "expired"
	ReasonReplayed       Reason = "replayed"
	ReasonRateLimited    Reason = "rate_limited"
)

// Reasons lists every reason, in check order.
func Reasons() []Reason {
	return []Reason{ReasonTooLarge, ReasonMalformed, ReasonUnknownKey, ReasonBadSignature,
		ReasonNotCoordinator, ReasonClockUnsynced, ReasonNotYetValid, ReasonExpired,
		ReasonReplayed, ReasonRateLimited}
}

// Verdict is the Verifier's answer about one command. A refusal is not an
// error: it is a Verdict with a Reason.
type Verdict struct {
	// Reason is empty when the command is accepted.
	Reason Reason
	// Person is the key owner's person id, set once the signature verified
	// (so on acceptance and on refusals from not_coordinator on); empty when
	// the sender is not authenticated.
	Person string
	// Detail says more, for the log and the audit event.
	Detail string
}

// Accepted reports whether the command may be executed.
func (v Verdict) Accepted() bool { return v.Reason == "" }

// KeyLookup finds the public key a command names by its KeyID, the person
// who owns it and whether that person is a coordinator now. ok is false for
// an unknown (or revoked) key.
type KeyLookup func(keyID string) (pub ed25519.PublicKey, personID string, isCoordinator bool, ok bool)

// ReplayCache remembers the ids of commands already decided on.
//
// It must persist across restarts (see the package Caveats). The Verifier
// calls it with its own lock held, so that checking and remembering an id are
// one step.
type ReplayCache interface {
	// Seen reports whether id was remembered and not yet forgotten.
	Seen(id string) bool
	// Remember records id. It may be forgotten once the time until has
	// passed: by then the command has expired, even allowing for clock skew.
	Remember(id string, until time.Time)
}

// Limiter rations commands per key.
type Limiter interface {
	// Allow reports whether key may have one more command at now, and if so
	// charges it.
	Allow(key string, now time.Time) bool
}

// Defaults of a Verifier.
const (
	// DefaultSkew is how far in the future a command's IssuedAt may be,
	// allowing for the coordinator's clock running ahead.
	DefaultSkew = 2 * time.Second
	// DefaultBurst and DefaultPer are the default token bucket: up to
	// DefaultBurst commands at once, refilled at DefaultBurst per DefaultPer.
	DefaultBurst = 5
	DefaultPer   = 10 * time.Second
)

// VerifierOptions configure a Verifier. Keys and Replay are required; zero
// values of the rest mean their defaults.
type VerifierOptions struct {
	// Keys finds a command's key.
	Keys KeyLookup
	// Replay remembers decided command ids. It must persist across restarts.
	Replay ReplayCache
	// Limiter rations commands per key; default a TokenBucket of
	// DefaultBurst per DefaultPer.
	Limiter Limiter
	// Skew is how far in the future IssuedAt may be; default DefaultSkew.
	Skew time.Duration
	// ClockTrusted reports whether the controller's clock can be trusted;
	// nil means always. While it is not, every command is refused with
	// clock_unsynced: expiry cannot be judged.
	ClockTrusted func() bool
}

// Verifier decides whether a remote command may be executed. It is safe for
// concurrent use; the replay and rate checks of one command are atomic.
type Verifier struct {
	keys    KeyLookup
	replay  ReplayCache
	limiter Limiter
	skew    time.Duration
	trusted func() bool

	mu sync.Mutex // serialises the replay cache and limiter steps
}

// NewVerifier returns a Verifier configured by o.
func NewVerifier(o VerifierOptions) (*Verifier, error) {
	switch {
	case o.Keys == nil:
		return nil, errors.New("remote: new verifier: no key lookup")
	case o.Replay == nil:
		return nil, errors.New("remote: new verifier: no replay cache")
	case o.Skew < 0:
		return nil, fmt.Errorf("remote: new verifier: negative skew %v", o.Skew)
	}
	v := &Verifier{keys: o.Keys, replay: o.Replay, limiter: o.Limiter, skew: o.Skew, trusted: o.ClockTrusted}
	if v.limiter == nil {
		v.limiter = NewTokenBucket(DefaultBurst, DefaultPer)
	}
	if v.skew == 0 {
		v.skew = DefaultSkew
	}
	if v.trusted == nil {
		v.trusted = func() bool { return true }
	}
	return v, nil
}

// CheckPayload parses a wire payload and checks the command in it. The
// returned command is the zero Command when the payload did not parse.
func (v *Verifier) CheckPayload(now time.Time, payload []byte) (Command, Verdict) {
	c, sig, err := Parse(payload)
	switch {
	case errors.Is(err, ErrTooLarge):
		return Command{}, Verdict{Reason: ReasonTooLarge, Detail: err.Error()}
	case err != nil:
		return Command{}, Verdict{Reason: ReasonMalformed, Detail: err.Error()}
	}
	return c, v.Check(now, c, sig)
}

// Check decides whether c, signed with sig, may be executed at now, in the
// order the package documentation gives. Only an accepted command, or one
// refused as rate_limited, is remembered in the replay cache; only a command
// that passed every earlier check charges the limiter.
func (v *Verifier) Check(now time.Time, c Command, sig []byte) Verdict {
	if err := c.Validate(); err != nil {
		return Verdict{Reason: ReasonMalformed, Detail: err.Error()}
	}
	pub, person, coordinator, ok := v.keys(c.KeyID)
	if !ok {
		return Verdict{Reason: ReasonUnknownKey, Detail: fmt.Sprintf("no key %s", c.KeyID)}
	}
	// A key table entry of the wrong size or filed under another key's id is
	// a misconfiguration; refuse rather than trust it (ed25519.Verify would
	// panic on the former).
	if len(pub) != ed25519.PublicKeySize || KeyID(pub) != c.KeyID {
		return Verdict{Reason: ReasonUnknownKey, Detail: fmt.Sprintf("key table entry for %s is not that key", c.KeyID)}
	}
	if !ed25519.Verify(pub, c.Canonical(), sig) {
		return Verdict{Reason: ReasonBadSignature, Detail: fmt.Sprintf("signature does not verify with %s", c.KeyID)}
	}
	// Authenticated from here on.
	if !coordinator {
		return Verdict{Reason: ReasonNotCoordinator, Person: person, Detail: fmt.Sprintf("%s is not a coordinator", person)}
	}
	if !v.trusted() {
		return Verdict{Reason: ReasonClockUnsynced, Person: person, Detail: "controller clock not trusted"}
	}
	if c.IssuedAt.After(now.Add(v.skew)) {
		return Verdict{Reason: ReasonNotYetValid, Person: person,
			Detail: fmt.Sprintf("issued %v in the future, allowed skew %v", c.IssuedAt.Sub(now), v.skew)}
	}
	if !now.Before(c.Expiry) {
		return Verdict{Reason: ReasonExpired, Person: person, Detail: fmt.Sprintf("expired %v ago", now.Sub(c.Expiry))}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.replay.Seen(c.ID) {
		return Verdict{Reason: ReasonReplayed, Person: person, Detail: fmt.Sprintf("command %s already decided", c.ID)}
	}
	// Consumed by this decision, whatever the limiter says.
	v.replay.Remember(c.ID, c.Expiry.Add(v.skew))
	if !v.limiter.Allow(c.KeyID, now) {
		return Verdict{Reason: ReasonRateLimited, Person: person, Detail: fmt.Sprintf("too many commands from %s", c.KeyID)}
	}
	return Verdict{Person: person}
}

// MemoryReplayCache is a ReplayCache in memory. It does not persist: seed it
// on start (see the package Caveats). It is safe for concurrent use.
type MemoryReplayCache struct {
	now func() time.Time

	mu     sync.Mutex
	until  map[string]time.Time
	oldest time.Time // no entry is due to be forgotten before this
}

// NewMemoryReplayCache returns an empty cache that reads the time from now
// (time.Now when nil) to forget expired ids.
func NewMemoryReplayCache(now func() time.Time) *MemoryReplayCache {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{now: now, until: make(map[string]time.Time)}
}

// Seen reports whether id is remembered.
func (m *MemoryReplayCache) Seen(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget()
	_, ok := m.until[id]
	return ok
}

// Remember records id until the time until has passed.
func (m *MemoryReplayCache) Remember(id string, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget()
	if old, ok := m.until[id]; ok && old.After(until) {
		until = old
	}
	m.until[id] = until
	if len(m.until) == 1 || until.Before(m.oldest) {
		m.oldest = until
	}
}

// Len returns how many ids are remembered.
func (m *MemoryReplayCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget()
	return len(m.until)
}

// forget drops the ids whose time has passed. It scans only when one is due.
func (m *MemoryReplayCache) forget() {
	now := m.now()
	if len(m.until) == 0 || !now.After(m.oldest) {
		return
	}
	var oldest time.Time
	for id, until := range m.until {
		switch {
		case now.After(until):
			delete(m.until, id)
		case oldest.IsZero() || until.Before(oldest):
			oldest = until
		}
	}
	m.oldest = oldest
}

// TokenBucket is a Limiter with one token bucket per key: a key may have up
// to burst commands at once, and regains burst tokens per period, one every
// per/burst. The time comes from Allow's caller. It is safe for concurrent
// use. It keeps one small record per key it was asked about; the Verifier
// asks only about keys that signed a command.
type TokenBucket struct {
	cost time.Duration // one token's worth of credit
	max  time.Duration // a full bucket's credit

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	credit time.Duration
	last   time.Time
}

// NewTokenBucket returns a limiter of burst commands per period per key.
// Values below 1 mean DefaultBurst and DefaultPer.
func NewTokenBucket(burst int, per time.Duration) *TokenBucket {
	if burst < 1 {
		burst = DefaultBurst
	}
	if per <= 0 {
		per = DefaultPer
	}
	cost := max(per/time.Duration(burst), 1)
	return &TokenBucket{cost: cost, max: cost * time.Duration(burst), buckets: make(map[string]*bucket)}
}

// Allow takes a token from key's bucket at now, if it has one. A clock that
// goes backwards adds no tokens.
func (tb *TokenBucket) Allow(key string, now time.Time) bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	b, ok := tb.buckets[key]
	if !ok {
		b = &bucket{credit: tb.max, last: now}
		tb.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.credit = min(b.credit, tb.max-elapsed) + elapsed // min(credit+elapsed, max), without overflow
		b.last = now
	}
	if b.credit < tb.cost {
		return false
	}
	b.credit -= tb.cost
	return true
}
