package remote

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// validWire returns the members of a valid signed unlock as a generic map,
// for cases to edit.
func validWire(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustSign(t, baseCommand(), testKey()), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func cmdOf(m map[string]any) map[string]any { return m["cmd"].(map[string]any) }

type parseCase struct {
	name  string
	raw   string                 // used when set
	edit  func(m map[string]any) // else: edits a valid payload
	field string                 // the FieldError's field; "" means ErrTooLarge
}

// parseCases are payloads Parse must refuse, and the field it must name.
func parseCases() []parseCase {
	set := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { cmdOf(m)[k] = v }
	}
	del := func(k string) func(map[string]any) {
		return func(m map[string]any) { delete(cmdOf(m), k) }
	}
	return []parseCase{
		{name: "too large", raw: `{"cmd":{},"sig":"` + strings.Repeat("A", MaxPayload) + `"}`},
		{name: "empty", raw: ``, field: "payload"},
		{name: "not JSON", raw: `unlock please`, field: "payload"},
		{name: "array", raw: `[]`, field: "payload"},
		{name: "truncated", raw: `{"cmd":{"id":"x"`, field: "cmd"},
		{name: "truncated after cmd", raw: `{"cmd":{},`, field: "payload"},
		{name: "invalid UTF-8", raw: "{\"cmd\":{\"reason\":\"caf\xe9\"}}", field: "payload"},
		{name: "trailing data", raw: `{"cmd":{},"sig":""} {}`, field: "payload"},
		{name: "trailing garbage", raw: `{"cmd":{},"sig":""}x`, field: "payload"},
		{name: "unknown member", edit: func(m map[string]any) { m["note"] = "hi" }, field: "payload"},
		{name: "no cmd", edit: func(m map[string]any) { delete(m, "cmd") }, field: "cmd"},
		{name: "no sig", edit: func(m map[string]any) { delete(m, "sig") }, field: "sig"},
		{name: "cmd not object", edit: func(m map[string]any) { m["cmd"] = "unlock" }, field: "cmd"},
		{name: "cmd null", edit: func(m map[string]any) { m["cmd"] = nil }, field: "cmd"},
		{name: "duplicate sig", raw: `{"cmd":{},"sig":"","sig":""}`, field: "sig"},
		{name: "duplicate cmd", raw: `{"cmd":{},"cmd":{}}`, field: "cmd"},
		{name: "duplicate door", raw: `{"cmd":{"door":"a","door":"b"}}`, field: "door"},
		{name: "member case", edit: func(m map[string]any) { c := cmdOf(m); c["ID"] = c["id"]; delete(c, "id") }, field: "cmd"},
		{name: "unknown cmd member", edit: set("site", "hq"), field: "cmd"},
		{name: "id number", edit: set("id", 12345678901234567), field: "id"},
		{name: "id null", edit: set("id", nil), field: "id"},
		{name: "id missing", edit: del("id"), field: "id"},
		{name: "id short", edit: set("id", "abcdefghijklmno"), field: "id"},
		{name: "id long", edit: set("id", strings.Repeat("a", 65)), field: "id"},
		{name: "id dot", edit: set("id", "abcdefghijklmno.p"), field: "id"},
		{name: "door empty", edit: set("door", ""), field: "door"},
		{name: "door missing", edit: del("door"), field: "door"},
		{name: "door wildcard", edit: set("door", "server-room/#"), field: "door"},
		{name: "door space", edit: set("door", "server room"), field: "door"},
		{name: "action unknown", edit: set("action", "open"), field: "action"},
		{name: "action missing", edit: del("action"), field: "action"},
		{name: "duration missing on unlock", edit: del("duration"), field: "duration"},
		{name: "duration on lock", edit: set("action", "lock"), field: "duration"},
		{name: "duration not a duration", edit: set("duration", "5 seconds"), field: "duration"},
		{name: "duration number", edit: set("duration", 5), field: "duration"},
		{name: "duration zero", edit: set("duration", "0s"), field: "duration"},
		{name: "duration negative", edit: set("duration", "-5s"), field: "duration"},
		{name: "duration too long", edit: set("duration", "5m0.000000001s"), field: "duration"},
		{name: "visit slash", edit: set("visit", "v/1"), field: "visit"},
		{name: "reason missing", edit: del("reason"), field: "reason"},
		{name: "reason blank", edit: set("reason", "   "), field: "reason"},
		{name: "reason long", edit: set("reason", strings.Repeat("é", MaxReasonLen+1)), field: "reason"},
		{name: "reason newline", edit: set("reason", "a\nb"), field: "reason"},
		{name: "reason bidi override", edit: set("reason", "a\u202eb"), field: "reason"},
		{name: "issued_at missing", edit: del("issued_at"), field: "issued_at"},
		{name: "issued_at offset", edit: set("issued_at", "2026-01-05T09:30:00+07:00"), field: "issued_at"},
		{name: "issued_at not a time", edit: set("issued_at", "yesterday Z"), field: "issued_at"},
		{name: "issued_at unix", edit: set("issued_at", 1767580200), field: "issued_at"},
		{name: "issued_at 1999", edit: set("issued_at", "1999-12-31T23:59:59Z"), field: "issued_at"},
		{name: "issued_at comma fraction", edit: set("issued_at", "2026-01-05T02:30:00,5Z"), field: "issued_at"},
		{name: "issued_at ten digits", edit: set("issued_at", "2026-01-05T02:30:00.1234567891Z"), field: "issued_at"},
		{name: "issued_at empty fraction", edit: set("issued_at", "2026-01-05T02:30:00.Z"), field: "issued_at"},
		{name: "issued_at lower t", edit: set("issued_at", "2026-01-05t02:30:00Z"), field: "issued_at"},
		{name: "issued_at lower z", edit: set("issued_at", "2026-01-05T02:30:00z"), field: "issued_at"},
		{name: "issued_at no seconds", edit: set("issued_at", "2026-01-05T02:30Z"), field: "issued_at"},
		{name: "issued_at hour 24", edit: set("issued_at", "2026-01-05T24:00:00Z"), field: "issued_at"},
		{name: "issued_at February 30", edit: set("issued_at", "2026-02-30T00:00:00Z"), field: "issued_at"},
		{name: "expiry missing", edit: del("expiry"), field: "expiry"},
		{name: "expiry equal", edit: set("expiry", "2026-01-05T02:30:00Z"), field: "expiry"},
		{name: "expiry before", edit: set("expiry", "2026-01-05T02:29:59Z"), field: "expiry"},
		{name: "expiry too far", edit: set("expiry", "2026-01-05T02:35:00.000000001Z"), field: "expiry"},
		{name: "key_id missing", edit: del("key_id"), field: "key_id"},
		{name: "key_id upper", edit: set("key_id", "ed25519:56475AA75463474C"), field: "key_id"},
		{name: "key_id short", edit: set("key_id", "ed25519:56475aa7"), field: "key_id"},
		{name: "key_id scheme", edit: set("key_id", "rsa:56475aa75463474c"), field: "key_id"},
		{name: "sig not base64", edit: func(m map[string]any) { m["sig"] = "not base64!" }, field: "sig"},
		{name: "sig url base64", edit: func(m map[string]any) {
			m["sig"] = strings.ReplaceAll(strings.ReplaceAll(m["sig"].(string), "+", "-"), "/", "_") + "-_"
		}, field: "sig"},
		{name: "sig unpadded", edit: func(m map[string]any) { m["sig"] = strings.TrimRight(m["sig"].(string), "=") }, field: "sig"},
		{name: "sig short", edit: func(m map[string]any) { m["sig"] = "AAAA" }, field: "sig"},
		{name: "sig number", edit: func(m map[string]any) { m["sig"] = 1 }, field: "sig"},
	}
}

func (tc parseCase) payload(t testing.TB) []byte {
	t.Helper()
	if tc.edit == nil {
		return []byte(tc.raw)
	}
	m := validWire(t)
	tc.edit(m)
	p, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payload(t)
			_, _, err := Parse(p)
			if tc.field == "" {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Parse(%q...) = %v, want ErrTooLarge", p[:min(len(p), 40)], err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%s) = %v, want a *FieldError for %s", p, err, tc.field)
			}
			if fe.Field != tc.field {
				t.Errorf("Parse(%s) = %v, field %q, want %q", p, err, fe.Field, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not name the field %s", err, tc.field)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	sig := validWire(t)["sig"].(string)
	for _, tc := range []struct {
		name string
		cmd  string
		want Command
	}{
		{
			name: "members in any order, escapes, fractional seconds",
			cmd: `{"key_id":"ed25519:56475aa75463474c","expiry":"2026-01-05T02:35:00.500Z","issued_at":"2026-01-05T02:30:00.5Z",` +
				`"reason":"perbaikan \u0041C \u2014 rak 3","visit":"","duration":"1m30.25s","action":"unlock","door":"d.1","id":"abcdefghijklmnop"}`,
			want: Command{
				ID: "abcdefghijklmnop", Door: "d.1", Action: ActionUnlock, Duration: 90*time.Second + 250*time.Millisecond,
				Reason: "perbaikan AC — rak 3", IssuedAt: t0().Add(500 * time.Millisecond), Expiry: t0().Add(5*time.Minute + 500*time.Millisecond),
				KeyID: "ed25519:56475aa75463474c",
			},
		},
		{
			name: "longest reason and lifetime, release-lockdown",
			cmd: `{"id":"` + strings.Repeat("Z", 64) + `","door":"x","action":"release-lockdown","reason":"` + strings.Repeat("é", MaxReasonLen) +
				`","issued_at":"2026-01-05T02:30:00Z","expiry":"2026-01-05T02:35:00Z","key_id":"ed25519:0000000000000000"}`,
			want: Command{
				ID: strings.Repeat("Z", 64), Door: "x", Action: ActionReleaseLockdown, Reason: strings.Repeat("é", MaxReasonLen),
				IssuedAt: t0(), Expiry: t0().Add(MaxLifetime), KeyID: "ed25519:0000000000000000",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := []byte(" {\n \"sig\": \"" + sig + "\", \"cmd\": " + tc.cmd + "}\n")
			got, gotSig, err := Parse(p)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", p, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%s) differs (-want +got):\n%s", p, diff)
			}
			if len(gotSig) != 64 {
				t.Errorf("signature is %d bytes, want 64", len(gotSig))
			}
		})
	}
}
