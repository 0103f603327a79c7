package controller

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendCanonical appends the canonical bytes of e (see ComputeHash): what
// encoding/json writes for e with Hash empty and Time in UTC. Hashing is on
// every path that writes or checks the log (each event emitted, verify, the
// checks at start), and reflection made encoding/json most of its cost.
func appendCanonical(b []byte, e *Event) []byte {
	t := e.Time.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		// encoding/json refuses such a time; keep its behaviour.
		return append(b, canonicalJSON(*e)...)
	}
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = appendJSONString(b, string(e.Type))
	b = appendField(b, `,"door":`, e.Door)
	b = appendField(b, `,"reader":`, e.Reader)
	b = appendField(b, `,"card":`, e.Card)
	b = appendField(b, `,"person":`, e.Person)
	b = appendField(b, `,"visit":`, e.Visit)
	b = appendField(b, `,"decision":`, string(e.Decision))
	b = appendField(b, `,"reason":`, string(e.Reason))
	b = appendField(b, `,"actor":`, e.Actor)
	b = appendField(b, `,"via":`, e.Via)
	b = appendField(b, `,"detail":`, e.Detail)
	if len(e.Records) > 0 {
		b = append(b, `,"records":[`...)
		for i, r := range e.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"kind":`...)
			b = appendJSONString(b, string(r.Kind))
			b = append(b, `,"id":`...)
			b = appendJSONString(b, r.ID)
			b = append(b, `,"digest":`...)
			b = appendJSONString(b, r.Digest)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if e.ClockTrusted {
		b = append(b, `,"clock_trusted":true`...)
	} else {
		b = append(b, `,"clock_trusted":false`...)
	}
	b = appendField(b, `,"prev":`, e.Prev)
	return append(b, '}')
}

// appendField appends an omitempty string field.
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(append(b, name...), v)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, exactly as encoding/json
// writes it (see appendJSONString): for adapters that write JSON by hand
// where reflection costs too much (the audit export).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping on (json.Marshal's default): <, > and & as \u003c, \u003e and
// \u0026, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTimeJSON appends t as encoding/json writes it (RFC 3339 with
// nanoseconds, in t's own offset); false for a year it refuses.
func appendTimeJSON(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	_, off := t.Zone()
	if off%60 != 0 {
		return b, false // encoding/json drops the seconds of such an offset; leave it to it
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendPersonJSON appends what encoding/json writes for p (Seq is not
// part of it); false when only encoding/json can say.
func appendPersonJSON(b []byte, p *Person) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"roles":`...)
	if p.Roles == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range p.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, string(r))
		}
		b = append(b, ']')
	}
	b = appendField(b, `,"org":`, p.Org)
	b = appendField(b, `,"id_doc":`, p.IDDoc)
	if p.Disabled {
		b = append(b, `,"disabled":true`...)
	}
	if !p.DisabledAt.IsZero() {
		var ok bool
		if b, ok = appendTimeJSON(append(b, `,"disabled_at":`...), p.DisabledAt); !ok {
			return b, false
		}
	}
	b = appendField(b, `,"unix_user":`, p.UnixUser)
	return append(b, '}'), true
}

// appendCardJSON appends what encoding/json writes for c (Seq is not part
// of it); false when only encoding/json can say.
func appendCardJSON(b []byte, c *Card) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"person":`...)
	b = appendJSONString(b, c.PersonID)
	if c.Revoked {
		b = append(b, `,"revoked":true`...)
	}
	var ok bool
	if b, ok = appendTimeJSON(append(b, `,"assigned_at":`...), c.AssignedAt); !ok {
		return b, false
	}
	if !c.RevokedAt.IsZero() {
		if b, ok = appendTimeJSON(append(b, `,"revoked_at":`...), c.RevokedAt); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}
