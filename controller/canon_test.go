package controller

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var canonCases = []Event{
	{},
	{Seq: 1, Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("WIB", 7*3600)), Type: EventStarted, Detail: "1 doors, 0 people, 0 inside", ClockTrusted: true},
	{Seq: 17, Time: time.Date(2026, 11, 2, 2, 3, 10, 123456789, time.UTC), Type: EventAccess, Door: "server-room", Reader: "entry",
		Card: "C-OFF", Person: "off", Visit: "V0001", Decision: Granted, Reason: "", Actor: "off", Via: "console",
		Detail: "escorted by off (read #15)", Prev: "3945b122b743b8223c268858e920051ea1105dfb6239784653c8349820447e89",
		Hash: "ignored"},
	{Seq: 3, Time: time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC), Type: EventPersonAdded, Person: "<script>&\"\\\n\t\r\b\f\x00\x1f\x7f",
		Detail: "Ñandú \u2028 \u2029 \xff\xfe invalid, ✓ 漢字 \U0001F600", Records: []RecordRef{
			{Kind: RecordPerson, ID: "budi", Digest: "00ff"}, {Kind: RecordCard, ID: "C-1<>", Digest: ""}}},
	{Seq: 1 << 63, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Type: "x", Records: []RecordRef{}},
	{Seq: 2, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Type: "far future"},
}

// TestCanonicalMatchesJSON: the hand-written canonical bytes are byte for
// byte what encoding/json writes, so hashes stay what they always were.
func TestCanonicalMatchesJSON(t *testing.T) {
	for i, e := range canonCases {
		func() {
			defer func() {
				if r := recover(); r != nil && e.Time.Year() <= 9999 {
					t.Errorf("case %d: panic %v", i, r)
				}
			}()
			want := canonicalJSON(e)
			if got := appendCanonical(nil, &e); !bytes.Equal(got, want) {
				t.Errorf("case %d: appendCanonical =\n%s\nwant\n%s", i, got, want)
			}
		}()
	}
}

// TestComputeHashUnchanged pins the hash of an event from a log written
// before the canonical writer: old logs must keep verifying.
func TestComputeHashUnchanged(t *testing.T) {
	// The first event of the API's routes golden file, as that release wrote it.
	e := Event{Seq: 1, Time: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), Type: EventStarted,
		Detail: "1 doors, 0 people, 0 inside", ClockTrusted: true}
	if got, want := e.ComputeHash(), "fab9ae84cfecf908388914c74547c9d727e26839101316d4a1f81fb2a1c67282"; got != want {
		t.Errorf("ComputeHash = %s, want %s", got, want)
	}
}

func FuzzCanonical(f *testing.F) {
	for _, e := range canonCases[:5] {
		var kind, id string
		if len(e.Records) > 0 {
			kind, id = string(e.Records[0].Kind), e.Records[0].ID
		}
		f.Add(e.Seq, e.Time.UnixNano(), string(e.Type), e.Door, e.Person, e.Detail, e.Prev, kind, id, e.ClockTrusted)
	}
	f.Fuzz(func(t *testing.T, seq uint64, nanos int64, typ, door, person, detail, prev, kind, id string, trusted bool) {
		e := Event{Seq: seq, Time: time.Unix(0, nanos), Type: EventType(typ), Door: door, Reader: door + "r",
			Card: id, Person: person, Visit: kind, Decision: Decision(typ), Reason: Reason(detail), Actor: prev, Via: door,
			Detail: detail, ClockTrusted: trusted, Prev: prev}
		if kind != "" {
			e.Records = []RecordRef{{Kind: RecordKind(kind), ID: id, Digest: detail}, {Kind: RecordKind(id)}}
		}
		if got, want := appendCanonical(nil, &e), canonicalJSON(e); !bytes.Equal(got, want) {
			t.Fatalf("appendCanonical =\n%q\nwant\n%q", got, want)
		}
	})
}

func BenchmarkComputeHash(b *testing.B) {
	e := canonCases[2]
	for b.Loop() {
		_ = e.ComputeHash()
	}
}

func BenchmarkComputeHashJSON(b *testing.B) {
	e := canonCases[2]
	for b.Loop() {
		_ = canonicalJSON(e)
	}
}

// FuzzRecordJSON holds the hand-written bytes of people and cards to
// encoding/json's: a record's digest must not depend on which wrote them.
func FuzzRecordJSON(f *testing.F) {
	f.Add("budi", "Budi Santoso", "visitor", "PT <Data> & \u2028", "KTP\x00", true, int64(1_700_000_000_123456789), int32(7*3600), 1)
	f.Add("", "", "", "", "", false, int64(0), int32(0), 0)
	f.Add("x", "\xff", "a,b", "", "", false, int64(-1<<62), int32(-3600+7), 2)
	f.Fuzz(func(t *testing.T, id, name, roles, org, doc string, flag bool, nanos int64, off int32, nilRoles int) {
		at := time.Unix(0, nanos).In(time.FixedZone("", int(off%(26*3600))))
		p := Person{ID: id, Name: name, Org: org, IDDoc: doc, Disabled: flag, UnixUser: org, Seq: 9}
		switch nilRoles % 3 {
		case 1:
			p.Roles = []Role{}
		case 2:
			for _, r := range strings.Split(roles, ",") {
				p.Roles = append(p.Roles, Role(r))
			}
		}
		if flag {
			p.DisabledAt = at
		}
		if got, ok := appendPersonJSON(nil, &p); ok {
			if want, err := json.Marshal(p); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("appendPersonJSON =\n%s\nencoding/json =\n%s (%v)", got, want, err)
			}
		}
		c := Card{ID: id, PersonID: name, Revoked: flag, AssignedAt: at, Seq: 3}
		if flag {
			c.RevokedAt = at.Add(time.Hour)
		}
		if got, ok := appendCardJSON(nil, &c); ok {
			if want, err := json.Marshal(c); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("appendCardJSON =\n%s\nencoding/json =\n%s (%v)", got, want, err)
			}
		}
	})
}
