package boltstore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

var (
	wibZone = time.FixedZone("WIB", 7*3600)
	hashA   = strings.Repeat("ab", 32)
	hashB   = strings.Repeat("0f", 32)
)

// sameTime compares times by instant and offset: what JSON, and so a
// record's digest, shows.
var sameTime = cmp.Comparer(func(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
})

func TestEventRoundTrip(t *testing.T) {
	events := []struct {
		e    controller.Event
		prev string // the hash stored before it
	}{
		{controller.Event{Seq: 1, Time: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), Type: controller.EventStarted, Detail: "1 doors", ClockTrusted: true, Hash: hashA}, ""},
		{controller.Event{Seq: 7, Time: time.Date(2026, 11, 2, 2, 0, 0, 123456789, time.UTC), Type: controller.EventAccess, Door: "server-room",
			Reader: "entry", Card: "C-1", Person: "budi", Visit: "V0001", Decision: controller.Denied, Reason: controller.ReasonIntegrityFailure,
			Actor: "oki", Via: "console", Detail: "Ñandú ✓ \x00", Prev: hashB, Hash: hashA,
			Records: []controller.RecordRef{{Kind: controller.RecordPerson, ID: "budi", Digest: hashB}, {Kind: "credential", ID: "x", Digest: "not hex"}}}, hashB},
		// A log broken before it was migrated: its prev is not the hash
		// before it, and a hash that is not hex, both kept as they were.
		{controller.Event{Seq: 9, Type: "some_future_type", Decision: "maybe", Reason: "why_not", Prev: hashA, Hash: "tampered"}, hashB},
		{controller.Event{Seq: 10, Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Type: controller.EventStopped, Hash: strings.ToUpper(hashA)}, ""},
	}
	for _, tt := range events {
		b := encodeEvent(tt.e, tt.prev)
		got, err := decodeEvent(tt.e.Seq, b, tt.prev)
		if err != nil {
			t.Fatalf("decode(encode(event %d)) = %v", tt.e.Seq, err)
		}
		if diff := cmp.Diff(tt.e, got); diff != "" {
			t.Errorf("event %d round trip (-want +got):\n%s", tt.e.Seq, diff)
		}
		if h, err := eventHash(b); err != nil || h != tt.e.Hash {
			t.Errorf("eventHash(event %d) = %q, %v; want %q", tt.e.Seq, h, err, tt.e.Hash)
		}
		if tt.e.Prev == tt.prev && strings.Contains(string(b), tt.prev) && tt.prev != "" {
			t.Errorf("event %d stores the previous hash it could leave out", tt.e.Seq)
		}
	}
	// Hashes are raw and the previous one is left out: a card read's event
	// is small.
	read := controller.Event{Seq: 7, Time: time.Now(), Type: controller.EventAccess, Door: "server-room", Reader: "entry",
		Card: "C-0001", Person: "budi", Decision: controller.Granted, ClockTrusted: true, Prev: hashB, Hash: hashA}
	if n := len(encodeEvent(read, hashB)); n > 80 {
		t.Errorf("a card read's event encodes to %d bytes, want at most 80", n)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 5, wibZone)
	people := []controller.Person{
		{ID: "budi", Name: "Budi", Roles: []controller.Role{controller.RoleVisitor}, Org: "PT", IDDoc: "KTP", Seq: 42},
		{ID: "a", Name: "A", Roles: []controller.Role{"head", "admin", "cleaner"}, Disabled: true, DisabledAt: at.UTC(), UnixUser: "adi", Seq: 1},
		{ID: "nil-roles", Name: "N"},
		{ID: "empty-roles", Name: "E", Roles: []controller.Role{}},
	}
	for _, p := range people {
		got, err := decodePerson(p.ID, encodePerson(p))
		if err != nil || !cmp.Equal(p, got, sameTime) || got.Sealed() != p.Sealed() {
			t.Errorf("person %s round trip = %+v, %v; want %+v and the same digest", p.ID, got, err, p)
		}
	}
	cards := []controller.Card{
		{ID: "C-1", PersonID: "budi", AssignedAt: at, Seq: 3},
		{ID: "C-2", PersonID: "a", Revoked: true, AssignedAt: at.UTC(), RevokedAt: at.Add(time.Hour).In(time.Local), Seq: 9},
	}
	for _, c := range cards {
		got, err := decodeCard(c.ID, encodeCard(c))
		if err != nil || !cmp.Equal(c, got, sameTime) || got.Sealed() != c.Sealed() {
			t.Errorf("card %s round trip = %+v, %v; want %+v and the same digest", c.ID, got, err, c)
		}
	}
	visits := []controller.Visit{
		{ID: "V0001", VisitForm: controller.VisitForm{VisitorID: "budi", Purpose: "disk", Devices: "laptop", From: at, Until: at.Add(time.Hour), EscortID: "oki"},
			Org: "PT", IDDoc: "KTP", State: controller.StateInside, SubmittedBy: "adm", Seq: 77,
			Steps: []controller.StepRecord{{Step: 1, Action: controller.ActionSubmit, State: controller.StateSubmitted, Actor: "adm",
				Started: at, At: at.Add(time.Minute), Standard: 5 * time.Minute, Note: "n"}},
			EnteredAt: at.UTC(), EscortedBy: "oki", Door: "server-room", ExitedAt: at.Add(time.Hour), IDReturned: true},
		{ID: "V0002", Steps: []controller.StepRecord{}},
		{ID: "odd-id"},
	}
	for _, v := range visits {
		got, err := decodeVisit(encodeVisit(v))
		if err != nil || !cmp.Equal(v, got, sameTime) || got.Sealed() != v.Sealed() {
			t.Errorf("visit %s round trip = %+v, %v; want %+v and the same digest", v.ID, got, err, v)
		}
	}
	keys := []controller.Key{
		{ID: "ed25519:0011", PersonID: "koor", Public: make([]byte, 32), AddedAt: at, Revoked: true, RevokedAt: at, Seq: 5},
		{ID: "k2", PersonID: "koor"},
	}
	for _, k := range keys {
		got, err := decodeKey(k.ID, encodeKey(k))
		if err != nil || !cmp.Equal(k, got, sameTime) || got.Sealed() != k.Sealed() {
			t.Errorf("key %s round trip = %+v, %v; want %+v and the same digest", k.ID, got, err, k)
		}
	}
}

// FuzzDecodeEvent: any stored value decodes to an error or an event, never
// a panic, and what decodes encodes back to the same event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(encodeEvent(controller.Event{Seq: 7, Type: controller.EventAccess, Door: "d", Hash: hashA,
		Records: []controller.RecordRef{{Kind: controller.RecordCard, ID: "c", Digest: hashB}}}, hashB), hashB)
	f.Add(encodeEvent(controller.Event{Seq: 7, Type: "x", Hash: "h", Prev: "p"}, ""), "")
	f.Add([]byte(`{"seq":7,"type":"started"}`), "")
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, "")
	f.Fuzz(func(t *testing.T, v []byte, prev string) {
		e, err := decodeEvent(7, v, prev)
		if err != nil || (len(v) > 0 && v[0] == formatJS) {
			return
		}
		again, err := decodeEvent(7, encodeEvent(e, prev), prev)
		if err != nil || !cmp.Equal(e, again) {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", e, again, err)
		}
	})
}

// FuzzDecodeRecords: any stored record value decodes to an error or a
// record, never a panic.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(encodePerson(controller.Person{Name: "n", Roles: []controller.Role{"officer"}, DisabledAt: time.Now()}))
	f.Add(encodeVisit(controller.Visit{ID: "V1", Steps: []controller.StepRecord{{Step: 1}}}))
	f.Add(encodeCard(controller.Card{PersonID: "p"}))
	f.Add(encodeKey(controller.Key{Public: []byte{1, 2}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		if p, err := decodePerson("p", v); err == nil && v[0] != formatJS {
			if q, err := decodePerson("p", encodePerson(p)); err != nil || !cmp.Equal(p, q, sameTime) {
				t.Fatalf("person round trip: %+v, %+v, %v", p, q, err)
			}
		}
		decodeCard("c", v)
		decodeVisit(v)
		decodeKey("k", v)
	})
}
