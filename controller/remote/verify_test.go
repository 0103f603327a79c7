package remote

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// newVerifier returns a Verifier over testKeys with a fresh in-memory replay
// cache; o's other fields are kept.
func newVerifier(t testing.TB, o VerifierOptions) *Verifier {
	t.Helper()
	if o.Keys == nil {
		o.Keys = testKeys().lookup
	}
	if o.Replay == nil {
		o.Replay = NewMemoryReplayCache(func() time.Time { return t0() })
	}
	v, err := NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// resign replaces a payload's "cmd" members by edit and keeps its signature.
func resign(t testing.TB, payload []byte, edit func(cmd map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	edit(cmdOf(m))
	p, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	coord := testKey()
	officer := otherKey("officer")
	stranger := otherKey("stranger")
	sign := func(edit func(*Command), priv ed25519.PrivateKey) func(testing.TB) []byte {
		return func(t testing.TB) []byte {
			c := baseCommand()
			if edit != nil {
				edit(&c)
			}
			return mustSign(t, c, priv)
		}
	}
	valid := sign(nil, coord)
	for _, tc := range []struct {
		name    string
		payload func(testing.TB) []byte
		now     time.Time // default t0 + 1s
		opts    VerifierOptions
		want    Reason
		person  string
	}{
		{name: "accepted", payload: valid, want: "", person: "p-coord"},
		{name: "accepted lockdown", payload: sign(func(c *Command) { c.Action = ActionLockdown }, coord), person: "p-coord"},
		{name: "accepted at issue", payload: valid, now: t0(), person: "p-coord"},
		{name: "accepted just before expiry", payload: valid, now: t0().Add(DefaultLifetime - 1), person: "p-coord"},
		{name: "accepted issued skew ahead", payload: valid, now: t0().Add(-DefaultSkew), person: "p-coord"},
		{name: "accepted larger skew", payload: valid, now: t0().Add(-4 * time.Second), opts: VerifierOptions{Skew: 4 * time.Second}, person: "p-coord"},
		{name: "too large", payload: func(testing.TB) []byte { return make([]byte, MaxPayload+1) }, want: ReasonTooLarge},
		{name: "malformed", payload: func(testing.TB) []byte { return []byte(`{"cmd":{}}`) }, want: ReasonMalformed},
		{name: "unknown key", payload: sign(nil, stranger), want: ReasonUnknownKey},
		{name: "key table entry is another key", payload: valid, want: ReasonUnknownKey, opts: VerifierOptions{
			Keys: func(string) (ed25519.PublicKey, string, bool, bool) { return pubOf(stranger), "p-coord", true, true },
		}},
		{name: "key table entry is short", payload: valid, want: ReasonUnknownKey, opts: VerifierOptions{
			Keys: func(string) (ed25519.PublicKey, string, bool, bool) { return pubOf(coord)[:31], "p-coord", true, true },
		}},
		{name: "bad signature: door changed", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			return resign(t, valid(t), func(c map[string]any) { c["door"] = "loading-dock" })
		}},
		{name: "bad signature: duration changed", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			return resign(t, valid(t), func(c map[string]any) { c["duration"] = "5m" })
		}},
		{name: "bad signature: expiry extended", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			return resign(t, valid(t), func(c map[string]any) { c["expiry"] = "2026-01-05T02:35:00Z" })
		}},
		{name: "bad signature: signed by another key", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			c := baseCommand().WithDefaults()
			c.KeyID = KeyID(pubOf(coord))
			p, err := marshal(c, ed25519.Sign(stranger, c.Canonical()))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{name: "bad signature: over the JSON", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			c := baseCommand().WithDefaults()
			c.KeyID = KeyID(pubOf(coord))
			body, err := marshal(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := marshal(c, ed25519.Sign(coord, body))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{name: "bad signature: zero", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			var m map[string]any
			if err := json.Unmarshal(valid(t), &m); err != nil {
				t.Fatal(err)
			}
			m["sig"] = base64.StdEncoding.EncodeToString(make([]byte, 64))
			p, _ := json.Marshal(m)
			return p
		}},
		{name: "not coordinator", payload: sign(nil, officer), want: ReasonNotCoordinator, person: "p-officer"},
		{name: "officer with bad signature", want: ReasonBadSignature, payload: func(t testing.TB) []byte {
			return resign(t, sign(nil, officer)(t), func(c map[string]any) { c["reason"] = "changed" })
		}},
		{name: "clock unsynced", payload: valid, want: ReasonClockUnsynced, person: "p-coord",
			opts: VerifierOptions{ClockTrusted: func() bool { return false }}},
		{name: "clock unsynced, bad signature first", want: ReasonBadSignature,
			opts: VerifierOptions{ClockTrusted: func() bool { return false }},
			payload: func(t testing.TB) []byte {
				return resign(t, valid(t), func(c map[string]any) { c["door"] = "x" })
			}},
		{name: "not yet valid", payload: valid, now: t0().Add(-DefaultSkew - 1), want: ReasonNotYetValid, person: "p-coord"},
		{name: "expired at expiry", payload: valid, now: t0().Add(DefaultLifetime), want: ReasonExpired, person: "p-coord"},
		{name: "expired redelivered late", payload: valid, now: t0().Add(time.Hour), want: ReasonExpired, person: "p-coord"},
		{name: "expired long command", now: t0().Add(MaxLifetime), want: ReasonExpired, person: "p-coord",
			payload: sign(func(c *Command) { c.Expiry = c.IssuedAt.Add(MaxLifetime) }, coord)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = t0().Add(time.Second)
			}
			v := newVerifier(t, tc.opts)
			_, got := v.CheckPayload(now, tc.payload(t))
			if got.Reason != tc.want || got.Person != tc.person {
				t.Errorf("CheckPayload = %+v, want reason %q person %q", got, tc.want, tc.person)
			}
			if got.Accepted() != (tc.want == "") {
				t.Errorf("Accepted() = %v for reason %q", got.Accepted(), got.Reason)
			}
			if !got.Accepted() && got.Detail == "" {
				t.Errorf("refusal %q without detail", got.Reason)
			}
		})
	}
}

func TestCheckReplayed(t *testing.T) {
	v := newVerifier(t, VerifierOptions{})
	p := mustSign(t, baseCommand(), testKey())
	now := t0().Add(time.Second)
	if _, got := v.CheckPayload(now, p); !got.Accepted() {
		t.Fatalf("first CheckPayload = %+v, want accepted", got)
	}
	// A QoS 1 redelivery, and the same id re-signed with other content.
	c := baseCommand()
	c.Reason = "again"
	for _, p := range [][]byte{p, mustSign(t, c, testKey())} {
		if _, got := v.CheckPayload(now.Add(time.Second), p); got.Reason != ReasonReplayed || got.Person != "p-coord" {
			t.Errorf("repeated CheckPayload = %+v, want replayed by p-coord", got)
		}
	}
}

// countingLimiter counts charges and allows up to n.
type countingLimiter struct {
	mu      sync.Mutex
	charged int
	n       int
}

func (l *countingLimiter) Allow(string, time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.charged++
	return l.charged <= l.n
}

// TestCheckOrder checks that nothing before authentication and timeliness
// reaches the replay cache or the limiter.
func TestCheckOrder(t *testing.T) {
	now := t0().Add(time.Second)
	valid := mustSign(t, baseCommand(), testKey())
	refused := map[string][]byte{
		"malformed": []byte(`{}`),
		"unknown key": func() []byte {
			return mustSign(t, baseCommand(), otherKey("stranger"))
		}(),
		"bad signature":   resign(t, valid, func(c map[string]any) { c["door"] = "x" }),
		"not coordinator": mustSign(t, baseCommand(), otherKey("officer")),
		"expired": func() []byte {
			c := baseCommand()
			c.IssuedAt = t0().Add(-time.Minute)
			return mustSign(t, c, testKey())
		}(),
		"not yet valid": func() []byte {
			c := baseCommand()
			c.IssuedAt = t0().Add(time.Minute)
			return mustSign(t, c, testKey())
		}(),
	}
	for name, p := range refused {
		t.Run(name, func(t *testing.T) {
			cache := NewMemoryReplayCache(func() time.Time { return now })
			lim := &countingLimiter{n: 100}
			v := newVerifier(t, VerifierOptions{Replay: cache, Limiter: lim})
			for range 10 {
				if _, got := v.CheckPayload(now, p); got.Accepted() {
					t.Fatalf("CheckPayload = %+v, want refused", got)
				}
			}
			if cache.Len() != 0 || lim.charged != 0 {
				t.Errorf("after refusals: cache holds %d ids, limiter charged %d times, want 0 and 0", cache.Len(), lim.charged)
			}
			// The command with the same id from the coordinator still goes through.
			if _, got := v.CheckPayload(now, valid); !got.Accepted() {
				t.Errorf("CheckPayload(valid) after refusals = %+v, want accepted", got)
			}
		})
	}
	t.Run("replayed does not charge", func(t *testing.T) {
		lim := &countingLimiter{n: 100}
		v := newVerifier(t, VerifierOptions{Limiter: lim})
		for range 5 {
			v.CheckPayload(now, valid)
		}
		if lim.charged != 1 {
			t.Errorf("limiter charged %d times for one command delivered 5 times, want 1", lim.charged)
		}
	})
	t.Run("rate limited is consumed", func(t *testing.T) {
		v := newVerifier(t, VerifierOptions{Limiter: &countingLimiter{n: 0}})
		if _, got := v.CheckPayload(now, valid); got.Reason != ReasonRateLimited {
			t.Fatalf("CheckPayload = %+v, want rate_limited", got)
		}
		if _, got := v.CheckPayload(now, valid); got.Reason != ReasonReplayed {
			t.Errorf("second CheckPayload = %+v, want replayed", got)
		}
	})
}

func TestCheckRateLimited(t *testing.T) {
	v := newVerifier(t, VerifierOptions{})
	now := t0()
	send := func(i int) Verdict {
		c := baseCommand()
		c.ID = fmt.Sprintf("rate-limit-test-%04d", i)
		c.IssuedAt = now
		_, got := v.CheckPayload(now, mustSign(t, c, testKey()))
		return got
	}
	for i := range DefaultBurst {
		if got := send(i); !got.Accepted() {
			t.Fatalf("command %d = %+v, want accepted", i, got)
		}
	}
	if got := send(DefaultBurst); got.Reason != ReasonRateLimited || got.Person != "p-coord" {
		t.Fatalf("command %d = %+v, want rate_limited", DefaultBurst, got)
	}
	// One token comes back every DefaultPer/DefaultBurst.
	now = now.Add(DefaultPer/DefaultBurst - time.Nanosecond)
	if got := send(100); got.Reason != ReasonRateLimited {
		t.Errorf("just before a token: %+v, want rate_limited", got)
	}
	now = now.Add(time.Nanosecond)
	if got := send(101); !got.Accepted() {
		t.Errorf("after a token: %+v, want accepted", got)
	}
	// Another key has its own bucket: the officer is refused for its role,
	// and a second coordinator key is not limited.
	second := otherKey("second coordinator")
	keys := testKeys()
	keys[KeyID(pubOf(second))] = keyEntry{pubOf(second), "p-coord2", true}
	v2 := newVerifier(t, VerifierOptions{Keys: keys.lookup, Limiter: NewTokenBucket(1, time.Hour)})
	for i, priv := range []ed25519.PrivateKey{testKey(), second} {
		c := baseCommand()
		c.ID = fmt.Sprintf("second-key-test-%04d", i)
		if _, got := v2.CheckPayload(t0(), mustSign(t, c, priv)); !got.Accepted() {
			t.Errorf("key %d: %+v, want accepted", i, got)
		}
	}
}

func TestTokenBucket(t *testing.T) {
	tb := NewTokenBucket(5, 10*time.Second)
	now := t0()
	allowed := func() int {
		n := 0
		for tb.Allow("k", now) {
			n++
		}
		return n
	}
	if got := allowed(); got != 5 {
		t.Errorf("fresh bucket allowed %d, want 5", got)
	}
	now = now.Add(3 * time.Second)
	if got := allowed(); got != 1 {
		t.Errorf("after 3s allowed %d, want 1", got)
	}
	now = now.Add(time.Second) // credit carried: 1s + 1s = one token
	if got := allowed(); got != 1 {
		t.Errorf("after 1s more allowed %d, want 1", got)
	}
	now = now.Add(-time.Hour) // clock backwards: nothing added
	if got := allowed(); got != 0 {
		t.Errorf("clock backwards allowed %d, want 0", got)
	}
	now = now.Add(100 * 365 * 24 * time.Hour) // a huge gap refills, no overflow
	if got := allowed(); got != 5 {
		t.Errorf("after a long gap allowed %d, want 5", got)
	}
	if !tb.Allow("other", now) {
		t.Errorf("another key was limited")
	}
	if d := NewTokenBucket(0, 0); d.cost != DefaultPer/DefaultBurst || d.max != DefaultPer {
		t.Errorf("NewTokenBucket(0, 0) = cost %v max %v, want defaults", d.cost, d.max)
	}
}

func TestMemoryReplayCache(t *testing.T) {
	clk := &clock{now: t0()}
	m := NewMemoryReplayCache(clk.Now)
	m.Remember("a", t0().Add(5*time.Second))
	m.Remember("b", t0().Add(10*time.Second))
	m.Remember("a", t0().Add(time.Second)) // an earlier time does not shorten
	if !m.Seen("a") || !m.Seen("b") || m.Seen("c") || m.Len() != 2 {
		t.Fatalf("Seen a, b, c = %v %v %v, Len %d; want true true false, 2", m.Seen("a"), m.Seen("b"), m.Seen("c"), m.Len())
	}
	clk.now = t0().Add(5 * time.Second) // forgotten only after the time
	if !m.Seen("a") {
		t.Errorf("a forgotten at its time, want kept until after")
	}
	clk.now = t0().Add(5*time.Second + 1)
	if m.Seen("a") || !m.Seen("b") || m.Len() != 1 {
		t.Errorf("after 5s: Seen a %v, b %v, Len %d; want false true 1", m.Seen("a"), m.Seen("b"), m.Len())
	}
	m.Remember("c", t0().Add(7*time.Second))
	clk.now = t0().Add(time.Minute)
	if m.Len() != 0 {
		t.Errorf("after a minute Len = %d, want 0", m.Len())
	}
}

// TestVerifierRemembersPastExpiry checks that the Verifier keeps an id until
// expiry plus skew, so a clock stepped back a little cannot replay it.
func TestVerifierRemembersPastExpiry(t *testing.T) {
	clk := &clock{now: t0()}
	v := newVerifier(t, VerifierOptions{Replay: NewMemoryReplayCache(clk.Now)})
	p := mustSign(t, baseCommand(), testKey())
	if _, got := v.CheckPayload(t0().Add(4*time.Second), p); !got.Accepted() {
		t.Fatalf("CheckPayload = %+v, want accepted", got)
	}
	clk.now = t0().Add(DefaultLifetime + DefaultSkew) // the cache's clock moved on
	if _, got := v.CheckPayload(t0().Add(time.Second), p); got.Reason != ReasonReplayed {
		t.Errorf("replay with the clock stepped back = %+v, want replayed", got)
	}
}

func TestVerifierConcurrentReplay(t *testing.T) {
	v := newVerifier(t, VerifierOptions{})
	p := mustSign(t, baseCommand(), testKey())
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 8 {
		wg.Go(func() {
			if _, got := v.CheckPayload(t0().Add(time.Second), p); got.Accepted() {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("%d concurrent deliveries accepted, want 1", accepted)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	keys := testKeys().lookup
	cache := NewMemoryReplayCache(nil)
	for _, o := range []VerifierOptions{
		{Replay: cache},
		{Keys: keys},
		{Keys: keys, Replay: cache, Skew: -time.Second},
	} {
		if _, err := NewVerifier(o); err == nil || !strings.HasPrefix(err.Error(), "remote: new verifier: ") {
			t.Errorf("NewVerifier(%+v) = %v, want an error", o, err)
		}
	}
}

func TestReasonsClosed(t *testing.T) {
	want := "too_large malformed unknown_key bad_signature not_coordinator clock_unsynced not_yet_valid expired replayed rate_limited"
	var got []string
	for _, r := range Reasons() {
		got = append(got, string(r))
	}
	if strings.Join(got, " ") != want {
		t.Errorf("Reasons() = %v, want %s", got, want)
	}
}

// nopCache and nopLimiter let the benchmark take the accepting path every
// time.
type nopCache struct{}

func (nopCache) Seen(string) bool             { return false }
func (nopCache) Remember(string, time.Time)   {}
func (nopCache) Allow(string, time.Time) bool { return true }

func BenchmarkParseCheck(b *testing.B) {
	v := newVerifier(b, VerifierOptions{Replay: nopCache{}, Limiter: nopCache{}})
	p := mustSign(b, baseCommand(), testKey())
	now := t0().Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if _, got := v.CheckPayload(now, p); !got.Accepted() {
			b.Fatalf("CheckPayload = %+v", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/verify")
}
