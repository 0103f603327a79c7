// Package storetest is the conformance test every [controller.Store] passes,
// and helpers that build valid, hash-chained audit events for store tests and
// benchmarks.
//
// A store's own test calls [Run] with a function that opens a fresh, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) controller.Store { return memstore.New() })
//	}
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pintu/pintu/controller"
)

// Run runs the conformance suite. open is called once per subtest and must
// return a new, empty store; closing it is open's business (t.Cleanup).
//
// Beyond the Store and EventLog doc comments, the suite holds stores to:
//   - Load returns people, cards and visits ordered by ID, and occupants
//     ordered by person ID;
//   - a Change applies Events, People, Cards, Visits, Enter, then Leave, in
//     slice order, so a later record with the same ID wins;
//   - a Change with a record whose ID is empty is refused;
//   - alarms upsert by ID and AlarmsGone drops them, after Alarms; door
//     records upsert by name;
//   - Events visits the events stored when it is called, and calls fn outside
//     any lock or transaction, so fn may itself Commit.
func Run(t *testing.T, open func(t *testing.T) controller.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"EmptyLoad", one(testEmptyLoad)},
		{"CommitLoad", one(testCommitLoad)},
		{"Upsert", one(testUpsert)},
		{"EnterLeave", one(testEnterLeave)},
		{"EventsQuery", one(testEventsQuery)},
		{"CommitRefused", testCommitRefused},
		{"EventsStops", one(testEventsStops)},
		{"Copies", testCopies},
		{"CommitDuringEvents", one(testCommitDuringEvents)},
		{"Concurrent", one(testConcurrent)},
		{"RemoteRecords", one(testRemoteRecords)},
		{"RemoteRefused", testRemoteRefused},
		{"AlarmsAndDoors", one(testAlarmsAndDoors)},
		{"RecordReads", one(testRecordReads)},
		{"Paging", one(testPaging)},
		{"EventByID", one(testEventBySeq)},
		{"Sealed", one(testSealed)},
		{"IntegrityState", one(testIntegrityState)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

type opener = func(t *testing.T) controller.Store

// one adapts a test that needs a single store.
func one(fn func(t *testing.T, s controller.Store)) func(t *testing.T, open opener) {
	return func(t *testing.T, open opener) { fn(t, open(t)) }
}

// chain hands out the events of one log in order.
type chain struct{ last controller.Event }

func (c *chain) next(n int) []controller.Event {
	evs := Chain(c.last, n)
	c.last = evs[n-1]
	return evs
}

var (
	at = epoch // the time records are stamped with

	sari  = controller.Person{ID: "p-sari", Name: "Sari", Roles: []controller.Role{controller.RoleAdmin}}
	budi  = controller.Person{ID: "p-budi", Name: "Budi", Roles: []controller.Role{controller.RoleCoordinator, controller.RoleOfficer}}
	tamu  = controller.Person{ID: "p-tamu", Name: "Tamu", Roles: []controller.Role{controller.RoleVisitor}, Org: "PT Contoh", IDDoc: "KTP 3174"}
	card1 = controller.Card{ID: "c-0001", PersonID: "p-budi", AssignedAt: at}
	card2 = controller.Card{ID: "c-0002", PersonID: "p-tamu", AssignedAt: at.Add(time.Hour)}
	visit = controller.Visit{
		ID: "V0001",
		VisitForm: controller.VisitForm{
			VisitorID: "p-tamu", Purpose: "replace disk", Devices: "laptop",
			From: at, Until: at.Add(4 * time.Hour), EscortID: "p-budi",
		},
		Org: "PT Contoh", IDDoc: "KTP 3174", State: controller.StateChecked, SubmittedBy: "p-sari",
		Steps: []controller.StepRecord{
			{Step: 1, Action: controller.ActionSubmit, State: controller.StateSubmitted, Actor: "p-sari",
				Started: at, At: at.Add(3 * time.Minute), Standard: 5 * time.Minute},
			{Step: 2, Action: controller.ActionCheck, State: controller.StateChecked, Actor: "p-budi",
				Started: at.Add(3 * time.Minute), At: at.Add(7 * time.Minute), Standard: 5 * time.Minute, Note: "lengkap"},
		},
	}
	inBudi = controller.Occupant{Person: "p-budi", Door: "server-room", Since: at.Add(2 * time.Hour)}
	inTamu = controller.Occupant{Person: "p-tamu", Door: "server-room", Since: at.Add(2 * time.Hour), Visit: "V0001", Escort: "p-budi"}
)

func mustCommit(t *testing.T, s controller.Store, c controller.Change) {
	t.Helper()
	if err := s.Commit(c); err != nil {
		t.Fatalf("Commit(%d events from seq %d) = %v, want nil", len(c.Events), firstSeq(c), err)
	}
}

func firstSeq(c controller.Change) uint64 {
	if len(c.Events) == 0 {
		return 0
	}
	return c.Events[0].Seq
}

func mustLoad(t *testing.T, s controller.Store) controller.Snapshot {
	t.Helper()
	snap, err := s.Load()
	if err != nil {
		t.Fatalf("Load() = %v, want nil", err)
	}
	return snap
}

func readEvents(t *testing.T, s controller.EventLog, q controller.EventQuery) []controller.Event {
	t.Helper()
	var got []controller.Event
	if err := s.Events(q, func(e controller.Event) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("Events(%+v) = %v, want nil", q, err)
	}
	return got
}

// verifyChain reports an error unless evs is a whole log from seq 1 whose
// hash chain holds.
func verifyChain(t *testing.T, evs []controller.Event) {
	t.Helper()
	var v controller.Verifier
	for _, e := range evs {
		if err := v.Next(e); err != nil {
			t.Errorf("Verifier.Next(event %d) = %v, want nil", e.Seq, err)
			return
		}
	}
}

// equateEmpty treats nil and empty slices alike: a store need not tell them
// apart.
var equateEmpty = cmpopts.EquateEmpty()

func testEmptyLoad(t *testing.T, s controller.Store) {
	got := mustLoad(t, s)
	if diff := cmp.Diff(controller.Snapshot{}, got, equateEmpty); diff != "" {
		t.Errorf("Load() of a new store mismatch (-want +got):\n%s", diff)
	}
	if evs := readEvents(t, s, controller.EventQuery{}); len(evs) != 0 {
		t.Errorf("Events() of a new store = %d events, want 0", len(evs))
	}
}

func testCommitLoad(t *testing.T, s controller.Store) {
	evs := Chain(controller.Event{}, 3)
	mustCommit(t, s, controller.Change{
		Events: evs,
		People: []controller.Person{tamu, sari, budi},
		Cards:  []controller.Card{card2, card1},
		Visits: []controller.Visit{visit},
		Enter:  []controller.Occupant{inTamu, inBudi},
	})
	want := controller.Snapshot{
		NumPeople: 3,
		LastVisit: 1,
		Inside:    []controller.Occupant{inBudi, inTamu},
		Last:      evs[2],
	}
	if diff := cmp.Diff(want, mustLoad(t, s), equateEmpty); diff != "" {
		t.Errorf("Load() after Commit mismatch (-want +got):\n%s", diff)
	}
	wantRecs := storedRecords{
		People: []controller.Person{budi, sari, tamu},
		Cards:  []controller.Card{card1, card2},
		Visits: []controller.Visit{visit},
	}
	if diff := cmp.Diff(wantRecs, readRecords(t, s), equateEmpty); diff != "" {
		t.Errorf("records after Commit mismatch (-want +got):\n%s", diff)
	}
	got := readEvents(t, s, controller.EventQuery{})
	if diff := cmp.Diff(evs, got); diff != "" {
		t.Errorf("Events() after Commit mismatch (-want +got):\n%s", diff)
	}
	verifyChain(t, got)
}

func testUpsert(t *testing.T, s controller.Store) {
	sari2 := sari
	sari2.Name, sari2.Roles = "Sari Wulandari", []controller.Role{controller.RoleAdmin, controller.RoleHead}
	card1r := card1
	card1r.Revoked, card1r.RevokedAt = true, at.Add(48*time.Hour)
	visit2 := visit
	visit2.State = controller.StateApproved
	visit2.Steps = append(visit.Steps[:2:2], controller.StepRecord{
		Step: 3, Action: controller.ActionApprove, State: controller.StateApproved, Actor: "p-kabid",
		Started: at.Add(7 * time.Minute), At: at.Add(9 * time.Minute), Standard: 5 * time.Minute,
	})
	budiA, budiB := budi, budi
	budiA.Name, budiB.Name = "Budi A", "Budi B"

	var log chain
	mustCommit(t, s, controller.Change{
		Events: log.next(1),
		People: []controller.Person{sari, budi},
		Cards:  []controller.Card{card1, card2},
		Visits: []controller.Visit{visit},
	})
	// Each step commits its change on top of the ones before it.
	steps := []struct {
		name   string
		change controller.Change
		want   storedRecords
	}{
		{
			name:   "person updated",
			change: controller.Change{People: []controller.Person{sari2}},
			want: storedRecords{
				People: []controller.Person{budi, sari2}, Cards: []controller.Card{card1, card2},
				Visits: []controller.Visit{visit},
			},
		},
		{
			name:   "card revoked",
			change: controller.Change{Cards: []controller.Card{card1r}},
			want: storedRecords{
				People: []controller.Person{budi, sari2}, Cards: []controller.Card{card1r, card2},
				Visits: []controller.Visit{visit},
			},
		},
		{
			name:   "visit stepped",
			change: controller.Change{Visits: []controller.Visit{visit2}},
			want: storedRecords{
				People: []controller.Person{budi, sari2}, Cards: []controller.Card{card1r, card2},
				Visits: []controller.Visit{visit2},
			},
		},
		{
			name:   "later record in one change wins",
			change: controller.Change{People: []controller.Person{budiA, budiB}},
			want: storedRecords{
				People: []controller.Person{budiB, sari2}, Cards: []controller.Card{card1r, card2},
				Visits: []controller.Visit{visit2},
			},
		},
	}
	for _, st := range steps {
		c := st.change
		c.Events = log.next(1)
		mustCommit(t, s, c)
		got := mustLoad(t, s)
		if diff := cmp.Diff(st.want, readRecords(t, s), equateEmpty); diff != "" {
			t.Errorf("%s: records mismatch (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(log.last, got.Last); diff != "" {
			t.Errorf("%s: Load().Last mismatch (-want +got):\n%s", st.name, diff)
		}
	}
}

func testEnterLeave(t *testing.T, s controller.Store) {
	budiBack := inBudi
	budiBack.Door, budiBack.Since = "loading-dock", at.Add(5*time.Hour)
	inSari := controller.Occupant{Person: "p-sari", Door: "server-room", Since: at}
	// Each step commits on top of the ones before it.
	steps := []struct {
		name  string
		enter []controller.Occupant
		leave []string
		want  []controller.Occupant
	}{
		{name: "two enter", enter: []controller.Occupant{inTamu, inBudi}, want: []controller.Occupant{inBudi, inTamu}},
		{name: "visitor leaves", leave: []string{"p-tamu"}, want: []controller.Occupant{inBudi}},
		{name: "enter again replaces", enter: []controller.Occupant{budiBack}, want: []controller.Occupant{budiBack}},
		{name: "leave someone outside", leave: []string{"p-nobody"}, want: []controller.Occupant{budiBack}},
		{name: "enter then leave in one change", enter: []controller.Occupant{inSari}, leave: []string{"p-sari"},
			want: []controller.Occupant{budiBack}},
		{name: "last one leaves", leave: []string{"p-budi"}, want: nil},
	}
	var log chain
	for _, st := range steps {
		mustCommit(t, s, controller.Change{Events: log.next(1), Enter: st.enter, Leave: st.leave})
		got := mustLoad(t, s).Inside
		if diff := cmp.Diff(st.want, got, equateEmpty); diff != "" {
			t.Errorf("%s: Load().Inside mismatch (-want +got):\n%s", st.name, diff)
		}
	}
}

func testEventsQuery(t *testing.T, s controller.Store) {
	var log chain
	var all []controller.Event
	for _, n := range []int{1, 4, 5} {
		evs := log.next(n)
		mustCommit(t, s, controller.Change{Events: evs})
		all = append(all, evs...)
	}
	if diff := cmp.Diff(all[9], mustLoad(t, s).Last); diff != "" {
		t.Errorf("Load().Last mismatch (-want +got):\n%s", diff)
	}
	// seqs picks the expected events.
	seqs := func(from, to uint64) []controller.Event { return all[from-1 : to] }

	tests := []struct {
		name string
		q    controller.EventQuery
		want []controller.Event
	}{
		{"all", controller.EventQuery{}, all},
		{"from", controller.EventQuery{FromSeq: 4}, seqs(4, 10)},
		{"to", controller.EventQuery{ToSeq: 3}, seqs(1, 3)},
		{"from to", controller.EventQuery{FromSeq: 3, ToSeq: 5}, seqs(3, 5)},
		{"one", controller.EventQuery{FromSeq: 7, ToSeq: 7}, seqs(7, 7)},
		{"first", controller.EventQuery{FromSeq: 1, ToSeq: 1}, seqs(1, 1)},
		{"to past end", controller.EventQuery{FromSeq: 9, ToSeq: 100}, seqs(9, 10)},
		{"from past end", controller.EventQuery{FromSeq: 11}, nil},
		{"to before from", controller.EventQuery{FromSeq: 6, ToSeq: 5}, nil},
		{"since inclusive", controller.EventQuery{Since: EventTime(6)}, seqs(6, 10)},
		{"since between events", controller.EventQuery{Since: EventTime(3).Add(30 * time.Second)}, seqs(4, 10)},
		{"since in another zone", controller.EventQuery{Since: EventTime(4).In(time.FixedZone("EST", -5*60*60))}, seqs(4, 10)},
		{"until exclusive", controller.EventQuery{Until: EventTime(3)}, seqs(1, 2)},
		{"since until", controller.EventQuery{Since: EventTime(3), Until: EventTime(6)}, seqs(3, 5)},
		{"since after last", controller.EventQuery{Since: EventTime(11)}, nil},
		{"from and since", controller.EventQuery{FromSeq: 2, Since: EventTime(5)}, seqs(5, 10)},
		{"to and until", controller.EventQuery{ToSeq: 8, Until: EventTime(9).Add(time.Second)}, seqs(1, 8)},
		{"all four", controller.EventQuery{FromSeq: 2, ToSeq: 9, Since: EventTime(4), Until: EventTime(7)}, seqs(4, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readEvents(t, s, tt.q)
			if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
				t.Errorf("Events(%+v) mismatch (-want +got):\n%s", tt.q, diff)
			}
		})
	}
	verifyChain(t, readEvents(t, s, controller.EventQuery{}))
}

func testCommitRefused(t *testing.T, open opener) {
	all := Chain(controller.Event{}, 10)
	zero := all[3]
	zero.Seq = 0
	records := controller.Change{
		People: []controller.Person{{ID: "p-new", Name: "New"}},
		Cards:  []controller.Card{{ID: "c-new", PersonID: "p-new", AssignedAt: at}},
		Visits: []controller.Visit{{ID: "v-new", State: controller.StateSubmitted}},
		Enter:  []controller.Occupant{{Person: "p-new", Door: "server-room", Since: at}},
		Leave:  []string{"p-budi"},
	}
	tests := []struct {
		name   string
		pre    int // events committed before
		change func(c *controller.Change)
	}{
		{"first event not seq 1", 0, func(c *controller.Change) { c.Events = all[1:2] }},
		{"gap", 3, func(c *controller.Change) { c.Events = all[4:5] }},
		{"repeat last", 3, func(c *controller.Change) { c.Events = all[2:3] }},
		{"rewrite history", 3, func(c *controller.Change) { c.Events = all[0:2] }},
		{"zero seq", 3, func(c *controller.Change) { c.Events = []controller.Event{zero} }},
		{"gap inside change", 3, func(c *controller.Change) { c.Events = []controller.Event{all[3], all[5]} }},
		{"repeat inside change", 3, func(c *controller.Change) { c.Events = []controller.Event{all[3], all[3]} }},
		{"out of order inside change", 3, func(c *controller.Change) { c.Events = []controller.Event{all[4], all[3]} }},
		{"person without id", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.People = append(c.People, controller.Person{Name: "Anon"})
		}},
		{"card without id", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Cards = append(c.Cards, controller.Card{PersonID: "p-new"})
		}},
		{"visit without id", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Visits = append(c.Visits, controller.Visit{State: controller.StateSubmitted})
		}},
		{"occupant without person", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Enter = append(c.Enter, controller.Occupant{Door: "server-room"})
		}},
		{"leave without person", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Leave = append(c.Leave, "")
		}},
		{"alarm without id", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Alarms = []controller.Alarm{{Kind: controller.AlarmTamper}}
		}},
		{"alarm gone without id", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.AlarmsGone = []string{""}
		}},
		{"door without name", 3, func(c *controller.Change) {
			c.Events = all[3:4]
			c.Doors = []controller.DoorRecord{{Lockdown: true}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			if tt.pre > 0 {
				mustCommit(t, s, controller.Change{
					Events: all[:tt.pre], People: []controller.Person{budi}, Enter: []controller.Occupant{inBudi},
				})
			}
			before := mustLoad(t, s)
			beforeEvents := readEvents(t, s, controller.EventQuery{})

			c := records // the cases append to full slices, which copies them
			tt.change(&c)
			if err := s.Commit(c); err == nil {
				t.Fatalf("Commit(%d events from seq %d) after seq %d = nil, want an error", len(c.Events), firstSeq(c), tt.pre)
			}
			if diff := cmp.Diff(before, mustLoad(t, s), equateEmpty); diff != "" {
				t.Errorf("Load() after a refused commit mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(beforeEvents, readEvents(t, s, controller.EventQuery{}), equateEmpty); diff != "" {
				t.Errorf("Events() after a refused commit mismatch (-want +got):\n%s", diff)
			}
			// The store is not wedged: the right next event still goes in.
			mustCommit(t, s, controller.Change{Events: all[tt.pre : tt.pre+1]})
			verifyChain(t, readEvents(t, s, controller.EventQuery{}))
		})
	}
}

func testEventsStops(t *testing.T, s controller.Store) {
	mustCommit(t, s, controller.Change{Events: Chain(controller.Event{}, 5)})
	errStop := errors.New("stop here")
	for _, stopAt := range []uint64{1, 3, 5} {
		t.Run(fmt.Sprint("at ", stopAt), func(t *testing.T) {
			var calls int
			err := s.Events(controller.EventQuery{}, func(e controller.Event) error {
				calls++
				if e.Seq == stopAt {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, errStop) {
				t.Errorf("Events() with fn failing at seq %d = %v, want %v", stopAt, err, errStop)
			}
			if calls != int(stopAt) {
				t.Errorf("Events() with fn failing at seq %d called fn %d times, want %d", stopAt, calls, stopAt)
			}
		})
	}
}

func testCopies(t *testing.T, open opener) {
	tests := []struct {
		name string
		// mutate changes what was committed, or what Load returned, in place.
		mutate func(committed *controller.Change, loaded *controller.Snapshot)
	}{
		{"committed roles", func(c *controller.Change, _ *controller.Snapshot) { c.People[0].Roles[0] = controller.RoleHead }},
		{"committed person", func(c *controller.Change, _ *controller.Snapshot) { c.People[0].Name = "changed" }},
		{"committed steps", func(c *controller.Change, _ *controller.Snapshot) { c.Visits[0].Steps[0].Actor = "changed" }},
		{"committed occupant", func(c *controller.Change, _ *controller.Snapshot) { c.Enter[0].Door = "changed" }},
		{"committed event", func(c *controller.Change, _ *controller.Snapshot) { c.Events[0].Detail = "changed" }},
		{"loaded occupant", func(_ *controller.Change, s *controller.Snapshot) { s.Inside[0].Door = "changed" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			evs := Chain(controller.Event{}, 1)
			c := controller.Change{
				Events: evs,
				People: []controller.Person{{ID: budi.ID, Name: budi.Name, Roles: []controller.Role{controller.RoleCoordinator, controller.RoleOfficer}}},
				Visits: []controller.Visit{{ID: visit.ID, State: visit.State, Steps: append([]controller.StepRecord(nil), visit.Steps...)}},
				Enter:  []controller.Occupant{inBudi},
			}
			want := controller.Snapshot{
				NumPeople: 1,
				LastVisit: 1,
				Inside:    []controller.Occupant{inBudi},
				Last:      Chain(controller.Event{}, 1)[0],
			}
			wantRecs := storedRecords{
				People: []controller.Person{budi},
				Visits: []controller.Visit{{ID: visit.ID, State: visit.State, Steps: visit.Steps}},
			}
			mustCommit(t, s, c)
			loaded := mustLoad(t, s)
			tt.mutate(&c, &loaded)
			if diff := cmp.Diff(want, mustLoad(t, s), equateEmpty); diff != "" {
				t.Errorf("Load() after changing a copy mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantRecs, readRecords(t, s), equateEmpty); diff != "" {
				t.Errorf("records after changing a copy mismatch (-want +got):\n%s", diff)
			}
			// And a record read, then changed by its reader.
			p, _, err := s.Person(budi.ID)
			if err != nil {
				t.Fatal(err)
			}
			p.Roles[0] = controller.RoleHead
			if got, _, _ := s.Person(budi.ID); !cmp.Equal(got, budi) {
				t.Errorf("Person() after changing a read copy = %+v, want %+v", got, budi)
			}
			if diff := cmp.Diff(want.Last, readEvents(t, s, controller.EventQuery{})[0]); diff != "" {
				t.Errorf("Events() after changing a copy mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testCommitDuringEvents(t *testing.T, s controller.Store) {
	var log chain
	mustCommit(t, s, controller.Change{Events: log.next(3)})
	var seen []uint64
	err := s.Events(controller.EventQuery{}, func(e controller.Event) error {
		seen = append(seen, e.Seq)
		if e.Seq == 1 {
			return s.Commit(controller.Change{Events: log.next(1)})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Events() with fn committing = %v, want nil", err)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3}, seen); diff != "" {
		t.Errorf("Events() with fn committing visited (-want +got):\n%s", diff)
	}
	got := readEvents(t, s, controller.EventQuery{})
	if len(got) != 4 {
		t.Errorf("Events() after a commit from fn = %d events, want 4", len(got))
	}
	verifyChain(t, got)
}

// testConcurrent reads the log from two goroutines while a third commits, as
// an audit export does while the controller runs. Run it with -race.
func testConcurrent(t *testing.T, s controller.Store) {
	const commits, reads = 20, 20
	var log chain
	mustCommit(t, s, controller.Change{Events: log.next(1)})
	var wg sync.WaitGroup
	wg.Go(func() {
		for range commits {
			if err := s.Commit(controller.Change{Events: log.next(1), Enter: []controller.Occupant{inBudi}, Leave: []string{"p-budi"}}); err != nil {
				t.Errorf("Commit() = %v, want nil", err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			seen := 0
			for range reads {
				var v controller.Verifier
				err := s.Events(controller.EventQuery{}, v.Next)
				if err != nil {
					t.Errorf("Events() while committing: Verifier.Next = %v, want nil", err)
					return
				}
				if n := int(v.Count()); n < seen {
					t.Errorf("Events() while committing = %d events after %d before, want no fewer", n, seen)
				} else {
					seen = n
				}
				if _, err := s.Load(); err != nil {
					t.Errorf("Load() while committing = %v, want nil", err)
				}
			}
		})
	}
	wg.Wait()
	got := readEvents(t, s, controller.EventQuery{})
	if len(got) != commits+1 {
		t.Errorf("Events() after concurrent commits = %d events, want %d", len(got), commits+1)
	}
	verifyChain(t, got)
}
