package controller_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

// strikeLog is a fake Actuator that remembers every write in order.
type strikeLog struct {
	mu     sync.Mutex
	writes []bool
}

func (s *strikeLog) SetStrike(door string, unlocked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, unlocked)
	return nil
}

func (s *strikeLog) get() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// start runs a controller on a memstore inside the synctest bubble and
// stops it on cleanup.
func start(t *testing.T, store *memstore.Store) (*controller.Controller, *strikeLog, func()) {
	t.Helper()
	act := &strikeLog{}
	c, err := controller.New(controller.DefaultConfig(), store, act, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	return c, act, stop
}

func seedStaff(t *testing.T, c *controller.Controller) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []controller.Person{
		{ID: "adi", Name: "Adi", Roles: []controller.Role{controller.RoleAdmin}},
		{ID: "citra", Name: "Citra", Roles: []controller.Role{controller.RoleCoordinator}},
		{ID: "hasan", Name: "Hasan", Roles: []controller.Role{controller.RoleHead}},
		{ID: "oki", Name: "Oki", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "vina", Name: "Vina", Roles: []controller.Role{controller.RoleVisitor}},
	} {
		if err := c.AddPerson(ctx, p, root); err != nil {
			t.Fatal(err)
		}
		if err := c.AssignCard(ctx, "card-"+p.ID, p.ID, root); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunLocksFirstAndLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, act, stop := start(t, memstore.New())
		seedStaff(t, c)
		if got := act.get(); len(got) == 0 || got[0] {
			t.Fatalf("first strike write = %v, want locked", got)
		}
		if res, err := c.Tap(t.Context(), "server-room", "entry", "card-oki"); err != nil || res.Decision != controller.Granted {
			t.Fatalf("tap = %+v %v", res, err)
		}
		stop()
		got := act.get()
		if got[len(got)-1] {
			t.Fatalf("last strike write = %v, want locked", got)
		}
	})
}

func TestTimersRelockWithoutInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, act, stop := start(t, memstore.New())
		defer stop()
		seedStaff(t, c)
		if _, err := c.Tap(t.Context(), "server-room", "entry", "card-oki"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Second) // fake time inside the bubble
		synctest.Wait()
		if st, _ := c.Status(t.Context()); st.Doors[0].Lock != "unlocked" {
			t.Fatalf("after 4s lock = %s, want unlocked", st.Doors[0].Lock)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		st, _ := c.Status(t.Context())
		if st.Doors[0].Lock != "locked" {
			t.Fatalf("after 5s lock = %s, want locked", st.Doors[0].Lock)
		}
		if w := act.get(); w[len(w)-1] {
			t.Fatal("relay not driven locked by the timer")
		}
	})
}

func TestVisitorPendingRunsOutOnTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := memstore.New()
		c, _, stop := start(t, store)
		defer stop()
		seedStaff(t, c)
		ctx := t.Context()
		v, err := c.SubmitVisit(ctx, controller.VisitForm{VisitorID: "vina", Purpose: "x"}, as("adi"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			a  controller.Action
			by string
		}{{controller.ActionCheck, "citra"}, {controller.ActionApprove, "hasan"}} {
			if _, err := c.Step(ctx, v.ID, s.a, as(s.by), ""); err != nil {
				t.Fatal(err)
			}
		}
		res, _ := c.Tap(ctx, "server-room", "entry", "card-vina")
		if res.Decision != controller.Pending {
			t.Fatalf("visitor alone = %+v, want pending", res)
		}
		time.Sleep(31 * time.Second)
		synctest.Wait()
		var last controller.Event
		_ = store.Events(controller.EventQuery{}, func(e controller.Event) error { last = e; return nil })
		if last.Person != "vina" || last.Reason != controller.ReasonEscortRequired {
			t.Fatalf("last event = %+v, want vina denied escort_required", last)
		}
	})
}

func TestStorageFailureKeepsDoorLocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := memstore.New()
		c, act, stop := start(t, store)
		defer stop()
		seedStaff(t, c)
		before := len(act.get())
		var n int
		_ = store.Events(controller.EventQuery{}, func(controller.Event) error { n++; return nil })

		store.FailCommits(errors.New("disk full"))
		res, err := c.Tap(t.Context(), "server-room", "entry", "card-oki")
		if err != nil {
			t.Fatal(err)
		}
		if res.Decision != controller.Denied || res.Reason != controller.ReasonStorageFailure {
			t.Fatalf("tap with failing store = %+v, want denied storage_failure", res)
		}
		if got := act.get(); len(got) != before {
			t.Fatalf("relay written %v after a failed commit", got[before:])
		}
		// Egress still works, and the unlogged release still relocks on time.
		if res, _ := c.Tap(t.Context(), "server-room", "exit", "card-oki"); res.Decision != controller.Granted {
			t.Fatalf("exit with failing store = %+v, want granted", res)
		}
		if w := act.get(); len(w) != before+1 || !w[before] {
			t.Fatalf("relay writes after exit with failing store = %v, want one release", w[before:])
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if w := act.get(); w[len(w)-1] {
			t.Fatalf("strike still released 5s after an unlogged egress: writes %v", w[before:])
		}
		if err := c.RequestExit(t.Context(), "server-room"); !errors.Is(err, controller.ErrStorage) {
			t.Fatalf("REX with failing store = %v, want ErrStorage", err)
		}
		if w := act.get(); !w[len(w)-1] {
			t.Fatal("REX with failing store did not release the strike")
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if w := act.get(); w[len(w)-1] {
			t.Fatal("strike still released 5s after an unlogged REX")
		}
		if err := c.AddPerson(t.Context(), controller.Person{ID: "new", Name: "N", Roles: []controller.Role{controller.RoleOfficer}}, root); !errors.Is(err, controller.ErrStorage) {
			t.Fatalf("AddPerson with failing store = %v, want ErrStorage", err)
		}

		store.FailCommits(nil)
		st, _ := c.Status(t.Context())
		if len(st.Inside) != 0 {
			t.Fatalf("inside after failed commits = %+v, want nobody", st.Inside)
		}
		if _, err := c.Person(t.Context(), "new"); !errors.Is(err, controller.ErrNotFound) {
			t.Fatalf("person from failed commit = %v, want not found", err)
		}
		res, _ = c.Tap(t.Context(), "server-room", "entry", "card-oki")
		if res.Decision != controller.Granted {
			t.Fatalf("tap after recovery = %+v, want granted", res)
		}
		var v controller.Verifier
		if err := store.Events(controller.EventQuery{}, v.Next); err != nil {
			t.Fatalf("chain after failures: %v", err)
		}
	})
}

func TestStoppedControllerRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, stop := start(t, memstore.New())
		stop()
		if _, err := c.Status(t.Context()); !errors.Is(err, controller.ErrStopped) {
			t.Fatalf("Status after stop = %v, want ErrStopped", err)
		}
	})
}

func TestClockAlarmWithoutInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		synced := true
		c, err := controller.New(controller.DefaultConfig(), memstore.New(), &strikeLog{}, controller.Options{
			ClockSynced: func() bool { mu.Lock(); defer mu.Unlock(); return synced },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		defer func() { cancel(); <-done }()

		mu.Lock()
		synced = false
		mu.Unlock()
		time.Sleep(31 * time.Second)
		synctest.Wait()
		st, _ := c.Status(t.Context())
		if len(st.Alarms) != 1 || st.Alarms[0].Kind != controller.AlarmClockUnsynced {
			t.Fatalf("alarms after the clock lost sync = %+v, want clock_unsynced", st.Alarms)
		}
	})
}
