package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

// storedRecords are every record of a store, read through its RecordStore.
type storedRecords struct {
	People []controller.Person
	Cards  []controller.Card
	Visits []controller.Visit
}

func readRecords(t *testing.T, s controller.RecordStore) storedRecords {
	t.Helper()
	var r storedRecords
	var err error
	if r.People, err = s.People("", 1000); err != nil {
		t.Fatalf("People() = %v", err)
	}
	if r.Cards, err = s.Cards("", 1000); err != nil {
		t.Fatalf("Cards() = %v", err)
	}
	if r.Visits, err = s.Visits("", 1000); err != nil {
		t.Fatalf("Visits() = %v", err)
	}
	return r
}

func testRecordReads(t *testing.T, s controller.Store) {
	var log chain
	wib := time.FixedZone("WIB", 7*3600)
	v := visit
	// A window given in local time keeps its zone: the record's digest is
	// over what it holds.
	v.From, v.Until = at.In(wib), at.Add(time.Hour).In(wib)
	v.Seq = 1
	b := budi
	b.Seq = 1
	mustCommit(t, s, controller.Change{Events: log.next(1), People: []controller.Person{b, sari}, Cards: []controller.Card{card1}, Visits: []controller.Visit{v}})
	p, ok, err := s.Person(budi.ID)
	if err != nil || !ok || !cmp.Equal(p, b) {
		t.Errorf("Person(%q) = %+v, %v, %v; want %+v, true, nil", budi.ID, p, ok, err, b)
	}
	if _, ok, err := s.Person("p-nobody"); ok || err != nil {
		t.Errorf("Person(p-nobody) = %v, %v; want false, nil", ok, err)
	}
	c, ok, err := s.Card(card1.ID)
	if err != nil || !ok || !cmp.Equal(c, card1) {
		t.Errorf("Card(%q) = %+v, %v, %v; want %+v", card1.ID, c, ok, err, card1)
	}
	if _, ok, err := s.Card("c-none"); ok || err != nil {
		t.Errorf("Card(c-none) = %v, %v; want false, nil", ok, err)
	}
	got, ok, err := s.Visit(v.ID)
	if err != nil || !ok || !cmp.Equal(got, v) {
		t.Errorf("Visit(%q) = %+v, %v, %v; want %+v", v.ID, got, ok, err, v)
	}
	if got.Sealed().Digest != v.Sealed().Digest {
		t.Errorf("Visit(%q) digest changed through the store: %s, want %s", v.ID, got.Sealed().Digest, v.Sealed().Digest)
	}
	if _, ok, err := s.Visit("V0099"); ok || err != nil {
		t.Errorf("Visit(V0099) = %v, %v; want false, nil", ok, err)
	}
}

// testPaging: lists come in pages in id order, visits by number (V0010
// after V0009), and VisitsOf lists a visitor's visits oldest first.
func testPaging(t *testing.T, s controller.Store) {
	var c controller.Change
	var log chain
	c.Events = log.next(1)
	for i := range 25 {
		c.People = append(c.People, controller.Person{ID: fmt.Sprintf("p%02d", i), Name: "P", Roles: []controller.Role{controller.RoleOfficer}})
	}
	for _, n := range []int{10, 2, 100, 9, 1} {
		c.Visits = append(c.Visits, controller.Visit{ID: fmt.Sprintf("V%04d", n), VisitForm: controller.VisitForm{VisitorID: fmt.Sprintf("p%02d", n%2)}})
	}
	mustCommit(t, s, c)
	var ids []string
	after := ""
	for range 10 {
		ps, err := s.People(after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		if len(ps) < 10 {
			break
		}
		after = ps[len(ps)-1].ID
	}
	if len(ids) != 25 || ids[0] != "p00" || ids[24] != "p24" {
		t.Errorf("People() in pages of 10 = %v, want p00..p24", ids)
	}
	vs, err := s.Visits("", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := visitIDs(vs); !cmp.Equal(got, []string{"V0001", "V0002", "V0009"}) {
		t.Errorf("Visits(\"\", 3) = %v, want [V0001 V0002 V0009]", got)
	}
	vs, err = s.Visits("V0009", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := visitIDs(vs); !cmp.Equal(got, []string{"V0010", "V0100"}) {
		t.Errorf("Visits(V0009, 10) = %v, want [V0010 V0100]", got)
	}
	of, err := s.VisitsOf("p00")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(of, []string{"V0002", "V0010", "V0100"}) {
		t.Errorf("VisitsOf(p00) = %v, want [V0002 V0010 V0100]", of)
	}
	if of, err := s.VisitsOf("p-nobody"); err != nil || len(of) != 0 {
		t.Errorf("VisitsOf(p-nobody) = %v, %v; want none", of, err)
	}
	if snap := mustLoad(t, s); snap.LastVisit != 100 || snap.NumPeople != 25 {
		t.Errorf("Load() = LastVisit %d, NumPeople %d; want 100, 25", snap.LastVisit, snap.NumPeople)
	}
}

func visitIDs(vs []controller.Visit) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}

// testEventBySeq: one event read by seq carries its Prev.
func testEventBySeq(t *testing.T, s controller.Store) {
	var log chain
	evs := log.next(5)
	mustCommit(t, s, controller.Change{Events: evs})
	for _, want := range []controller.Event{evs[0], evs[3], evs[4]} {
		got, ok, err := s.Event(want.Seq)
		if err != nil || !ok {
			t.Fatalf("Event(%d) = %v, %v", want.Seq, ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Event(%d) mismatch (-want +got):\n%s", want.Seq, diff)
		}
	}
	for _, seq := range []uint64{0, 6, 1 << 40} {
		if _, ok, err := s.Event(seq); ok || err != nil {
			t.Errorf("Event(%d) = %v, %v; want false, nil", seq, ok, err)
		}
	}
}

// testSealed: the store lists every record with the seq it was stored with
// and the digest the domain computes for it.
func testSealed(t *testing.T, s controller.Store) {
	var log chain
	b, cd, v := budi, card1, visit
	b.Seq, cd.Seq, v.Seq = 1, 1, 2
	k := controller.Key{ID: "k1", PersonID: "p-budi", Public: make([]byte, 32), AddedAt: at, Seq: 2}
	mustCommit(t, s, controller.Change{Events: log.next(2), People: []controller.Person{b}, Cards: []controller.Card{cd},
		Visits: []controller.Visit{v}, Keys: []controller.Key{k}})
	kinds := s.SealedKinds()
	want := map[controller.RecordKind]controller.SealedRecord{
		controller.RecordPerson: b.Sealed(), controller.RecordCard: cd.Sealed(),
		controller.RecordVisit: v.Sealed(), controller.RecordKey: k.Sealed(),
	}
	for kind, w := range want {
		if !contains(kinds, kind) {
			t.Errorf("SealedKinds() = %v, want %s among them", kinds, kind)
			continue
		}
		rs, err := s.Sealed(kind, "", 10)
		if err != nil || len(rs) != 1 || rs[0] != w {
			t.Errorf("Sealed(%s) = %+v, %v; want [%+v]", kind, rs, err, w)
		}
		if rs, err := s.Sealed(kind, w.ID, 10); err != nil || len(rs) != 0 {
			t.Errorf("Sealed(%s, after %s) = %+v, %v; want none", kind, w.ID, rs, err)
		}
		one, ok, err := s.SealedOne(kind, w.ID)
		if err != nil || !ok || one != w {
			t.Errorf("SealedOne(%s, %s) = %+v, %v, %v; want %+v", kind, w.ID, one, ok, err, w)
		}
		if _, ok, err := s.SealedOne(kind, "nobody"); ok || err != nil {
			t.Errorf("SealedOne(%s, nobody) = %v, %v; want false, nil", kind, ok, err)
		}
	}
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func testIntegrityState(t *testing.T, s controller.Store) {
	var log chain
	in := controller.IntegrityState{
		Checkpoint: controller.Checkpoint{Seq: 1, Hash: "ab"},
		Breaks:     []controller.Break{{From: 3, To: 4, Reason: "hash", Found: at}},
		Accepted:   []controller.Break{{Kind: controller.RecordPerson, ID: "p-budi", Seq: 2, Reason: "digest", AcceptedBy: "p-kabid", AcceptedAt: at, Note: "ok"}},
	}
	mustCommit(t, s, controller.Change{Events: log.next(1), Integrity: &in})
	if diff := cmp.Diff(in, mustLoad(t, s).Integrity, equateEmpty); diff != "" {
		t.Errorf("Load().Integrity mismatch (-want +got):\n%s", diff)
	}
	mustCommit(t, s, controller.Change{Events: log.next(1)})
	if diff := cmp.Diff(in, mustLoad(t, s).Integrity, equateEmpty); diff != "" {
		t.Errorf("Load().Integrity after a change without it mismatch (-want +got):\n%s", diff)
	}
}
