package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Action is what a remote command asks a door to do.
type Action string

// The actions.
const (
	ActionUnlock          Action = "unlock"           // release the strike for Duration
	ActionLock            Action = "lock"             // lock the strike now
	ActionLockdown        Action = "lockdown"         // only egress works until released
	ActionReleaseLockdown Action = "release-lockdown" // end a lockdown
)

// Actions lists every action.
func Actions() []Action {
	return []Action{ActionUnlock, ActionLock, ActionLockdown, ActionReleaseLockdown}
}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionUnlock, ActionLock, ActionLockdown, ActionReleaseLockdown:
		return a, nil
	}
	return "", fmt.Errorf("remote: unknown action %q (want unlock, lock, lockdown or release-lockdown)", s)
}

// Limits and defaults of a command.
const (
	// MaxPayload is the largest wire payload Parse reads, in bytes.
	MaxPayload = 4 << 10
	// DefaultUnlock is how long an unlock releases the strike when the
	// command does not say.
	DefaultUnlock = 5 * time.Second
	// MaxUnlock is the longest unlock a command may ask for.
	MaxUnlock = 5 * time.Minute
	// DefaultLifetime is how long after IssuedAt a command expires when it
	// does not say.
	DefaultLifetime = 5 * time.Second
	// MaxLifetime is the longest a command may stay valid.
	MaxLifetime = 5 * time.Minute
	// MaxReasonLen is the longest reason, in Unicode code points.
	MaxReasonLen = 200
	// MinIDLen and MaxIDLen bound a command id's length.
	MinIDLen, MaxIDLen = 16, 64
	// MaxNameLen bounds a door or visit name's length.
	MaxNameLen = 64
)

// The range of times a command may carry, in Unix seconds: from
// 2000-01-01T00:00:00Z inclusive to 2200-01-01T00:00:00Z exclusive. UnixNano
// is exact inside it.
const minUnix, maxUnix = 946684800, 7258118400

// Command is one remote command, as signed by a coordinator.
type Command struct {
	ID       string        // unique per command; 16–64 of [A-Za-z0-9_-]
	Door     string        // the door's name; 1–64 of [A-Za-z0-9._-]
	Action   Action        // what to do
	Duration time.Duration // unlock only: how long to release the strike
	Visit    string        // optional: the visit the unlock is for
	Reason   string        // why, for the audit log; required
	IssuedAt time.Time     // when the coordinator signed it
	Expiry   time.Time     // not acted on at or after this time
	KeyID    string        // the signing key, as KeyID names it
}

// Errors of this package. Callers test with errors.Is.
var (
	// ErrTooLarge is a payload longer than MaxPayload.
	ErrTooLarge = errors.New("payload too large")
	// ErrMalformed is a payload or command that breaks the format; the
	// error is a *FieldError naming the field.
	ErrMalformed = errors.New("malformed command")
)

// FieldError is a malformed command: Field is the wire name of the offending
// member ("reason", "issued_at", "sig"; "cmd" for the command object as a
// whole), or "payload" for the JSON as a whole.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	return ErrMalformed.Error() + ": " + e.Field + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *FieldError) Unwrap() error { return ErrMalformed }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks every field of c as Parse would, without filling defaults.
// The error is a *FieldError.
func (c Command) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	return nil
}

func (c Command) validate() error {
	if err := checkToken("id", c.ID, MinIDLen, MaxIDLen, false); err != nil {
		return err
	}
	if err := checkToken("door", c.Door, 1, MaxNameLen, true); err != nil {
		return err
	}
	if _, err := ParseAction(string(c.Action)); err != nil {
		return fieldErr("action", "unknown action %q (want unlock, lock, lockdown or release-lockdown)", c.Action)
	}
	if c.Action == ActionUnlock {
		if c.Duration <= 0 || c.Duration > MaxUnlock {
			return fieldErr("duration", "%v out of range (0, %v]", c.Duration, MaxUnlock)
		}
	} else if c.Duration != 0 {
		return fieldErr("duration", "only an unlock has a duration, not %s", c.Action)
	}
	if err := checkToken("visit", c.Visit, 0, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkReason(c.Reason); err != nil {
		return err
	}
	if err := checkTime("issued_at", c.IssuedAt); err != nil {
		return err
	}
	if err := checkTime("expiry", c.Expiry); err != nil {
		return err
	}
	if !c.Expiry.After(c.IssuedAt) {
		return fieldErr("expiry", "not after issued_at")
	}
	if c.Expiry.Sub(c.IssuedAt) > MaxLifetime {
		return fieldErr("expiry", "more than %v after issued_at", MaxLifetime)
	}
	return checkKeyID(c.KeyID)
}

func checkToken(field, s string, minLen, maxLen int, dot bool) error {
	if len(s) < minLen || len(s) > maxLen {
		if minLen == 0 {
			return fieldErr(field, "%d characters, want at most %d", len(s), maxLen)
		}
		return fieldErr(field, "%d characters, want %d to %d", len(s), minLen, maxLen)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-' || dot && b == '.'
		if !ok {
			if dot {
				return fieldErr(field, "byte %d is %q, want [A-Za-z0-9._-]", i, b)
			}
			return fieldErr(field, "byte %d is %q, want [A-Za-z0-9_-]", i, b)
		}
	}
	return nil
}

func checkReason(s string) error {
	if !utf8.ValidString(s) {
		return fieldErr("reason", "not valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return fieldErr("reason", "required")
	}
	n := 0
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fieldErr("reason", "character %U is not printable", r)
		}
		n++
	}
	if n > MaxReasonLen {
		return fieldErr("reason", "%d characters, want at most %d", n, MaxReasonLen)
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return fieldErr(field, "required")
	}
	if u := t.Unix(); u < minUnix || u >= maxUnix {
		return fieldErr(field, "%s outside the years 2000 to 2199", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func checkKeyID(s string) error {
	hexPart, ok := strings.CutPrefix(s, keyIDPrefix)
	if !ok || len(hexPart) != keyIDHexLen {
		return fieldErr("key_id", "%q, want %q and %d lower-case hex digits", s, keyIDPrefix, keyIDHexLen)
	}
	for i := 0; i < len(hexPart); i++ {
		if b := hexPart[i]; !('0' <= b && b <= '9' || 'a' <= b && b <= 'f') {
			return fieldErr("key_id", "%q, want %q and %d lower-case hex digits", s, keyIDPrefix, keyIDHexLen)
		}
	}
	return nil
}

// canonicalPrefix is the version and domain separation of the signed bytes.
const canonicalPrefix = "pintu-cmd-v1\n"

// Canonical returns the bytes the signature covers, as the package
// documentation defines them. It does not validate c.
func (c Command) Canonical() []byte {
	b := make([]byte, 0, 256+len(c.Reason))
	b = append(b, canonicalPrefix...)
	field := func(name, value string) {
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(value)), 10)
		b = append(b, ' ')
		b = append(b, value...)
		b = append(b, '\n')
	}
	field("id", c.ID)
	field("door", c.Door)
	field("action", string(c.Action))
	field("duration_ns", strconv.FormatInt(int64(c.Duration), 10))
	field("visit", c.Visit)
	field("reason", c.Reason)
	field("issued_at_ns", strconv.FormatInt(c.IssuedAt.UnixNano(), 10))
	field("expiry_ns", strconv.FormatInt(c.Expiry.UnixNano(), 10))
	field("key_id", c.KeyID)
	return b
}

// wireCmd is the "cmd" member, in the order Sign writes it.
type wireCmd struct {
	ID       string `json:"id"`
	Door     string `json:"door"`
	Action   string `json:"action"`
	Duration string `json:"duration,omitempty"`
	Visit    string `json:"visit,omitempty"`
	Reason   string `json:"reason"`
	IssuedAt string `json:"issued_at"`
	Expiry   string `json:"expiry"`
	KeyID    string `json:"key_id"`
}

type wire struct {
	Cmd wireCmd `json:"cmd"`
	Sig string  `json:"sig"`
}

// WithDefaults returns c with its defaults filled in: a random ID when there
// is none, DefaultUnlock for an unlock without a duration, Expiry
// DefaultLifetime after IssuedAt, and times in UTC without a monotonic
// reading. It does not validate.
func (c Command) WithDefaults() Command {
	if c.ID == "" {
		c.ID = rand.Text()
	}
	if c.Action == ActionUnlock && c.Duration == 0 {
		c.Duration = DefaultUnlock
	}
	c.IssuedAt = c.IssuedAt.Round(0).UTC()
	if c.Expiry.IsZero() && !c.IssuedAt.IsZero() {
		c.Expiry = c.IssuedAt.Add(DefaultLifetime)
	}
	c.Expiry = c.Expiry.Round(0).UTC()
	return c
}

// Sign fills c's defaults (see WithDefaults; KeyID from priv when empty),
// validates it and returns the signed wire payload. IssuedAt is required: the
// caller reads the clock.
func Sign(c Command, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("remote: sign: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	own := KeyID(priv.Public().(ed25519.PublicKey))
	if c.KeyID == "" {
		c.KeyID = own
	} else if c.KeyID != own {
		return nil, fmt.Errorf("remote: sign: key_id %q does not name the signing key %q", c.KeyID, own)
	}
	c = c.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("remote: sign: %w", err)
	}
	sig := ed25519.Sign(priv, c.Canonical())
	p, err := marshal(c, sig)
	if err != nil {
		return nil, fmt.Errorf("remote: sign: %w", err)
	}
	if len(p) > MaxPayload {
		return nil, fmt.Errorf("remote: sign: %w: %d bytes", ErrTooLarge, len(p))
	}
	return p, nil
}

// marshal writes the wire form of c and sig.
func marshal(c Command, sig []byte) ([]byte, error) {
	w := wire{
		Cmd: wireCmd{
			ID: c.ID, Door: c.Door, Action: string(c.Action), Visit: c.Visit, Reason: c.Reason,
			IssuedAt: c.IssuedAt.UTC().Format(time.RFC3339Nano),
			Expiry:   c.Expiry.UTC().Format(time.RFC3339Nano),
			KeyID:    c.KeyID,
		},
		Sig: base64.StdEncoding.EncodeToString(sig),
	}
	if c.Action == ActionUnlock {
		w.Cmd.Duration = c.Duration.String()
	}
	return json.Marshal(w)
}
