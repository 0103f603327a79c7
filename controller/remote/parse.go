package remote

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Parse reads a wire payload strictly and returns the command and its
// signature. It does not verify the signature; a Verifier does. Errors wrap
// ErrTooLarge, or ErrMalformed as a *FieldError naming the field.
func Parse(payload []byte) (Command, []byte, error) {
	c, sig, err := parse(payload)
	if err != nil {
		return Command{}, nil, fmt.Errorf("remote: parse: %w", err)
	}
	return c, sig, nil
}

func parse(payload []byte) (Command, []byte, error) {
	if len(payload) > MaxPayload {
		return Command{}, nil, fmt.Errorf("%w: %d bytes, want at most %d", ErrTooLarge, len(payload), MaxPayload)
	}
	if !utf8.Valid(payload) {
		return Command{}, nil, fieldErr("payload", "not valid UTF-8")
	}
	fields, sig64, err := readWire(payload)
	if err != nil {
		return Command{}, nil, err
	}
	c, err := fromFields(fields)
	if err != nil {
		return Command{}, nil, err
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(sig64)
	if err != nil {
		return Command{}, nil, fieldErr("sig", "not standard base64: %v", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return Command{}, nil, fieldErr("sig", "%d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	return c, sig, nil
}

// readWire walks the JSON tokens, so that member names match exactly (not
// case-insensitively, as encoding/json would), duplicates and nulls are
// refused and nothing follows the object.
func readWire(payload []byte) (map[string]string, string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := expectDelim(dec, "payload", '{'); err != nil {
		return nil, "", err
	}
	var fields map[string]string
	var sig string
	var haveCmd, haveSig bool
	for dec.More() {
		name, err := memberName(dec, "payload")
		if err != nil {
			return nil, "", err
		}
		switch name {
		case "cmd":
			if haveCmd {
				return nil, "", fieldErr("cmd", "appears twice")
			}
			haveCmd = true
			if fields, err = readCmd(dec); err != nil {
				return nil, "", err
			}
		case "sig":
			if haveSig {
				return nil, "", fieldErr("sig", "appears twice")
			}
			haveSig = true
			if sig, err = stringValue(dec, "sig"); err != nil {
				return nil, "", err
			}
		default:
			return nil, "", fieldErr("payload", "unknown member %q (want cmd and sig)", name)
		}
	}
	if err := expectDelim(dec, "payload", '}'); err != nil {
		return nil, "", err
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, "", fieldErr("payload", "after the object: %v", err)
		}
		return nil, "", fieldErr("payload", "%s after the object", describe(tok))
	}
	switch {
	case !haveCmd:
		return nil, "", fieldErr("cmd", "required")
	case !haveSig:
		return nil, "", fieldErr("sig", "required")
	}
	return fields, sig, nil
}

func readCmd(dec *json.Decoder) (map[string]string, error) {
	if err := expectDelim(dec, "cmd", '{'); err != nil {
		return nil, err
	}
	fields := make(map[string]string, 9)
	for dec.More() {
		name, err := memberName(dec, "cmd")
		if err != nil {
			return nil, err
		}
		if !isCmdMember(name) {
			return nil, fieldErr("cmd", "unknown member %q", name)
		}
		if _, dup := fields[name]; dup {
			return nil, fieldErr(name, "appears twice")
		}
		if fields[name], err = stringValue(dec, name); err != nil {
			return nil, err
		}
	}
	return fields, expectDelim(dec, "cmd", '}')
}

// isCmdMember reports whether "cmd" may have a member called name.
func isCmdMember(name string) bool {
	switch name {
	case "id", "door", "action", "duration", "visit", "reason", "issued_at", "expiry", "key_id":
		return true
	}
	return false
}

func expectDelim(dec *json.Decoder, field string, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fieldErr(field, "%v", syntaxMsg(err))
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		if d == '{' {
			return fieldErr(field, "want a JSON object, got %s", describe(tok))
		}
		return fieldErr(field, "want %q, got %s", d, describe(tok))
	}
	return nil
}

func memberName(dec *json.Decoder, field string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fieldErr(field, "%v", syntaxMsg(err))
	}
	s, ok := tok.(string)
	if !ok {
		return "", fieldErr(field, "want a member name, got %s", describe(tok))
	}
	return s, nil
}

func stringValue(dec *json.Decoder, field string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fieldErr(field, "%v", syntaxMsg(err))
	}
	s, ok := tok.(string)
	if !ok {
		return "", fieldErr(field, "want a string, got %s", describe(tok))
	}
	return s, nil
}

func syntaxMsg(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON"
	}
	return "invalid JSON: " + err.Error()
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// fromFields builds and validates the command from its wire members.
func fromFields(f map[string]string) (Command, error) {
	for _, name := range [...]string{"id", "door", "action", "reason", "issued_at", "expiry", "key_id"} {
		if _, ok := f[name]; !ok {
			return Command{}, fieldErr(name, "required")
		}
	}
	c := Command{ID: f["id"], Door: f["door"], Action: Action(f["action"]), Visit: f["visit"], Reason: f["reason"], KeyID: f["key_id"]}
	if _, err := ParseAction(f["action"]); err != nil {
		return Command{}, fieldErr("action", "unknown action %q (want unlock, lock, lockdown or release-lockdown)", c.Action)
	}
	if d, ok := f["duration"]; ok {
		if c.Action != ActionUnlock {
			return Command{}, fieldErr("duration", "only an unlock has a duration, not %q", c.Action)
		}
		var err error
		if c.Duration, err = time.ParseDuration(d); err != nil {
			return Command{}, fieldErr("duration", "%q is not a duration such as \"5s\" or \"1m30s\"", d)
		}
	} else if c.Action == ActionUnlock {
		return Command{}, fieldErr("duration", "required for unlock")
	}
	var err error
	if c.IssuedAt, err = parseTime("issued_at", f["issued_at"]); err != nil {
		return Command{}, err
	}
	if c.Expiry, err = parseTime("expiry", f["expiry"]); err != nil {
		return Command{}, err
	}
	if err := c.validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// parseTime reads YYYY-MM-DDTHH:MM:SS[.fraction]Z with 1 to 9 fractional
// digits. The shape is checked first because time.Parse also takes a comma
// before the fraction and drops digits past the ninth.
func parseTime(field, s string) (time.Time, error) {
	if !timeShape(s) {
		return time.Time{}, fieldErr(field, "%q is not an RFC 3339 time in UTC such as \"2026-01-05T02:30:00.5Z\"", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr(field, "%q: %v", s, err)
	}
	return t.UTC(), nil
}

func timeShape(s string) bool {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if d := layout[i] == 'd'; d && !isDigit(s[i]) || !d && s[i] != layout[i] {
			return false
		}
	}
	frac := s[len(layout) : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
