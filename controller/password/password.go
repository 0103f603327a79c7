// Package password owns the web console's passwords: hashing them with
// argon2id into PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$salt$key"),
// verifying a password against such a string, and the policy a new
// password must meet. A Hasher bounds how many hashes run at once, so that
// a burst of sign-ins cannot take more than that many times the memory
// cost from a Raspberry Pi.
//
// The cost follows OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a
// Pi Zero has 512 MB, and a sign-in should take well under a second there.
// Hashing never runs on the controller's goroutine: the console and the API
// hash in their request goroutines and hand the controller the result.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams: 19 MiB, 2 passes, 1 lane, a 16-byte salt and a 32-byte key.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// The policy on new passwords.
const (
	MinLen = 10  // characters
	MaxLen = 128 // bytes: argon2 takes any length, but a form field should not
)

// ErrMalformed is a stored hash that is not a PHC argon2id string this
// package can read.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords, at most a few at a time.
type Hasher struct {
	p     Params
	sem   chan struct{}
	dummy string // a hash to verify against when there is none, so that unknown people take as long
}

// New returns a Hasher with the given parameters (zero: DefaultParams)
// running at most concurrent hashes at once (at least 1).
func New(p Params, concurrent int) *Hasher {
	if p == (Params{}) {
		p = DefaultParams
	}
	h := &Hasher{p: p, sem: make(chan struct{}, max(concurrent, 1))}
	h.dummy = h.hash("not a password", make([]byte, p.SaltLen))
	return h
}

// Hash returns the PHC string of pw with a new random salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash(pw, salt), nil
}

func (h *Hasher) hash(pw string, salt []byte) string {
	key := argon2.IDKey([]byte(pw), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.p.Memory, h.p.Time, h.p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether pw matches the PHC string phc, hashed with the
// parameters phc names. An empty phc (no credential) is verified against a
// dummy so that it takes as long, and never matches.
func (h *Hasher) Verify(ctx context.Context, pw, phc string) (bool, error) {
	none := phc == ""
	if none {
		phc = h.dummy
	}
	p, salt, key, err := decode(phc)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1 && !none, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting to hash: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$key". It bounds the
// parameters, so that a damaged or planted hash cannot make a sign-in
// allocate gigabytes.
func decode(phc string) (Params, []byte, []byte, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformed)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", ErrMalformed, parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformed, parts[3])
	}
	if p.Memory < 8 || p.Memory > 256*1024 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 8 {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q out of bounds", ErrMalformed, parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: salt or key", ErrMalformed)
	}
	return p, salt, key, nil
}

// Check reports why pw may not be a new password for person id, or nil.
func Check(pw, id string) error {
	switch n := utf8.RuneCountInString(pw); {
	case !utf8.ValidString(pw):
		return errors.New("the password is not valid UTF-8 text")
	case n < MinLen:
		return fmt.Errorf("the password is %d characters long; it needs at least %d", n, MinLen)
	case len(pw) > MaxLen:
		return fmt.Errorf("the password is %d bytes long; at most %d", len(pw), MaxLen)
	case strings.EqualFold(strings.TrimSpace(pw), id):
		return errors.New("the password may not be the person id")
	case strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errors.New("the password contains a control character")
	}
	return nil
}
