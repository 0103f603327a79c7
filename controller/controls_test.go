package controller_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
)

// The operator controls a real door needs, each with the memstore and with
// bbolt.

// TestLockdownControl: a coordinator or the head locks a door down and
// releases it; the lockdown survives a restart and is the same state a
// signed remote command sets.
func TestLockdownControl(t *testing.T) {
	eachStore(t, twoDoors(), func(t *testing.T, h *harness) {
		h.cast()
		if _, err := h.c.Lockdown(h.ctx(), "", as("oki"), true); !errors.Is(err, controller.ErrWrongRole) {
			t.Fatalf("lockdown by an officer = %v, want ErrWrongRole", err)
		}
		doors, err := h.c.Lockdown(h.ctx(), "server-room", as("hasan"), true)
		if err != nil || !slices.Equal(doors, []string{"server-room"}) {
			t.Fatalf("lockdown = %v, %v", doors, err)
		}
		if r := h.in("citra"); r.Reason != controller.ReasonLockdown {
			t.Errorf("entry in lockdown = %+v, want lockdown", r)
		}
		if r := h.tap("ups-room", "entry", "oki"); r.Decision != controller.Granted {
			t.Errorf("the other door = %+v, want granted", r)
		}
		h.restart()
		st := h.status()
		if !st.Doors[0].Lockdown || st.Doors[0].LockdownBy != "hasan" || st.Doors[1].Lockdown {
			t.Fatalf("doors after restart = %+v, want server-room still locked down by hasan", st.Doors)
		}
		if r := h.in("citra"); r.Reason != controller.ReasonLockdown {
			t.Errorf("entry in lockdown after restart = %+v, want lockdown", r)
		}
		if r := h.out("citra"); r.Decision != controller.Granted || !h.released("server-room") {
			t.Errorf("exit in lockdown = %+v, want granted and released", r)
		}
		h.advance(10 * time.Second)
		// The signed remote release ends a local lockdown: one state.
		key := ed25519.NewKeyFromSeed(sha256.New().Sum(nil)[:32])
		if _, err := h.c.AddKey(h.ctx(), "citra", key.Public().(ed25519.PublicKey), root); err != nil {
			t.Fatal(err)
		}
		p, err := remote.Sign(remote.Command{Door: "server-room", Action: remote.ActionReleaseLockdown, Reason: "test", IssuedAt: time.Now()}, key)
		h.must(err)
		if res, err := h.c.Remote(h.ctx(), controller.RemoteInput{Payload: p}); err != nil || !res.Accepted {
			t.Fatalf("remote release = %+v, %v", res, err)
		}
		if _, err := h.c.Lockdown(h.ctx(), "server-room", as("citra"), false); !errors.Is(err, controller.ErrAlready) {
			t.Errorf("local release after the remote one = %v, want ErrAlready", err)
		}
		if r := h.in("citra"); r.Decision != controller.Granted {
			t.Errorf("entry after release = %+v, want granted", r)
		}
		doors, err = h.c.Lockdown(h.ctx(), "", as("citra"), true)
		if err != nil || len(doors) != 2 {
			t.Errorf("lockdown of every door = %v, %v; want both", doors, err)
		}
		h.check()
	})
}

// TestAlarmAcknowledgement: an alarm that needs an acknowledgement stays
// listed, across a restart, until its cause is gone and a coordinator or
// the head acknowledged it; both moments are events. One that needs none
// leaves with its cause.
func TestAlarmAcknowledgement(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		h.must(h.c.SetContact(h.ctx(), "server-room", true))
		forced, ok := h.listed(controller.AlarmForcedOpen)
		if !ok || !forced.Active || !forced.NeedsAck {
			t.Fatalf("forced_open = %+v, %v", forced, ok)
		}
		h.advance(31 * time.Second)
		if !h.active(controller.AlarmHeldOpen) {
			t.Fatal("no held_open after 31s open")
		}
		// Acknowledged while active: stays until the cause goes.
		a, err := h.c.AckAlarm(h.ctx(), forced.ID, as("citra"), "checked the door")
		if err != nil || a.AckedBy != "citra" || !a.Active {
			t.Fatalf("ack = %+v, %v", a, err)
		}
		if _, err := h.c.AckAlarm(h.ctx(), forced.ID, as("hasan"), ""); !errors.Is(err, controller.ErrAlready) {
			t.Errorf("second ack = %v, want ErrAlready", err)
		}
		h.must(h.c.SetContact(h.ctx(), "server-room", false))
		if as, _ := h.c.Alarms(h.ctx()); len(as) != 0 {
			t.Errorf("alarms after the door closed = %+v, want none (forced_open acknowledged, held_open needs none)", as)
		}
		// Not acknowledged: listed, across a restart, until it is.
		h.must(h.c.SetTamper(h.ctx(), "server-room", true))
		h.must(h.c.SetTamper(h.ctx(), "server-room", false))
		tamper, ok := h.listed(controller.AlarmTamper)
		if !ok || tamper.Active {
			t.Fatalf("tamper after the enclosure closed = %+v, %v; want listed, not active", tamper, ok)
		}
		h.restart()
		if again, ok := h.listed(controller.AlarmTamper); !ok || again.ID != tamper.ID {
			t.Fatalf("tamper after restart = %+v, %v; want %s still listed", again, ok, tamper.ID)
		}
		n := len(h.events())
		for _, bad := range []struct {
			id, by string
			want   error
		}{{"A9999", "citra", controller.ErrNotFound}, {tamper.ID, "oki", controller.ErrWrongRole}, {tamper.ID, "", controller.ErrUnauthenticated}} {
			if _, err := h.c.AckAlarm(h.ctx(), bad.id, as(bad.by), ""); !errors.Is(err, bad.want) {
				t.Errorf("ack %s by %q = %v, want %v", bad.id, bad.by, err, bad.want)
			}
		}
		// The unknown alarm changes nothing; the refusals for want of a
		// role or an identity are recorded, and only they.
		if got := eventTypes(h.events()[n:]); !slices.Equal(got, []controller.EventType{controller.EventRefused, controller.EventRefused}) {
			t.Errorf("refused acknowledgements wrote %v, want two refused events", got)
		}
		if _, err := h.c.AckAlarm(h.ctx(), tamper.ID, as("hasan"), ""); err != nil {
			t.Fatal(err)
		}
		if _, ok := h.listed(controller.AlarmTamper); ok {
			t.Error("tamper listed after its acknowledgement")
		}
		n = len(h.events())
		_, err = h.c.AckAlarm(h.ctx(), tamper.ID, as("citra"), "")
		if want := "already done: alarm " + tamper.ID + " (tamper) is no longer listed: its cause ended and it was acknowledged"; !errors.Is(err, controller.ErrAlready) || err.Error() != want {
			t.Errorf("ack of an alarm already gone = %v, want %q", err, want)
		}
		if len(h.events()) != n {
			t.Error("a refused acknowledgement wrote events")
		}
		var kinds []controller.EventType
		for _, e := range h.events() {
			if e.Detail == tamper.ID+" tamper" || (e.Type == controller.EventAlarmAcked && e.Actor == "hasan") {
				kinds = append(kinds, e.Type)
			}
		}
		if want := []controller.EventType{controller.EventAlarmRaised, controller.EventAlarmCleared, controller.EventAlarmAcked}; !slices.Equal(kinds, want) {
			t.Errorf("tamper's events = %v, want %v", kinds, want)
		}
		h.check()
	})
}

// TestVisitorUnescortedNeedsAck: the escort leaving raises
// visitor_unescorted, which stays listed after the visitor leaves until a
// coordinator acknowledges it; a restart keeps it.
func TestVisitorUnescortedNeedsAck(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		h.approve(controller.VisitForm{VisitorID: "vina"})
		h.in("oki")
		h.in("vina")
		h.advance(time.Minute)
		h.out("oki")
		if !h.active(controller.AlarmVisitorUnescorted) {
			t.Fatal("no visitor_unescorted after the escort left")
		}
		h.restart()
		if !h.active(controller.AlarmVisitorUnescorted) {
			t.Fatal("visitor_unescorted gone after a restart")
		}
		h.advance(time.Minute)
		h.out("vina")
		a, ok := h.listed(controller.AlarmVisitorUnescorted)
		if !ok || a.Active {
			t.Fatalf("visitor_unescorted after the visitor left = %+v, %v; want listed, cleared", a, ok)
		}
		if _, err := h.c.AckAlarm(h.ctx(), a.ID, as("citra"), "officer called away"); err != nil {
			t.Fatal(err)
		}
		if as, _ := h.c.Alarms(h.ctx()); len(as) != 0 {
			t.Errorf("alarms = %+v, want none", as)
		}
		h.check()
	})
}

// TestPeopleOverTime: a person's details change, each change an event; a
// disabled person's cards are refused, keys unknown, SOP steps refused, and
// a visit they are inside stays visible; enabling them undoes it.
func TestPeopleOverTime(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		name, org := "Citra Dewi", "Diskominfo"
		p, err := h.c.UpdatePerson(h.ctx(), "citra", controller.PersonUpdate{Name: &name, Org: &org,
			Roles: []controller.Role{controller.RoleCoordinator, controller.RoleOfficer}}, root)
		if err != nil || p.Name != name || !p.Has(controller.RoleOfficer) {
			t.Fatalf("update = %+v, %v", p, err)
		}
		last := h.events()[len(h.events())-1]
		if last.Type != controller.EventPersonUpdated || last.Detail != `name "Citra" -> "Citra Dewi"; roles "coordinator" -> "coordinator,officer"; org "" -> "Diskominfo"` {
			t.Errorf("update event = %+v", last)
		}
		if _, err := h.c.UpdatePerson(h.ctx(), "ghost", controller.PersonUpdate{Name: &name}, root); !errors.Is(err, controller.ErrNotFound) {
			t.Errorf("update of an unknown person = %v, want ErrNotFound", err)
		}
		key := ed25519.NewKeyFromSeed(make([]byte, 32))
		if _, err := h.c.AddKey(h.ctx(), "citra", key.Public().(ed25519.PublicKey), root); err != nil {
			t.Fatal(err)
		}
		v := h.approve(controller.VisitForm{VisitorID: "vina"})
		h.in("oki")
		h.in("vina")
		for _, id := range []string{"citra", "vina"} {
			if _, err := h.c.SetDisabled(h.ctx(), id, true, root); err != nil {
				t.Fatal(err)
			}
		}
		if r := h.in("citra"); r.Decision != controller.Denied || r.Reason != controller.ReasonRevoked {
			t.Errorf("disabled person's card = %+v, want denied revoked", r)
		}
		payload, err := remote.Sign(remote.Command{Door: "server-room", Action: remote.ActionUnlock, Reason: "t", IssuedAt: time.Now()}, key)
		h.must(err)
		if res, _ := h.c.Remote(h.ctx(), controller.RemoteInput{Payload: payload}); res.Reason != string(remote.ReasonUnknownKey) {
			t.Errorf("disabled coordinator's remote command = %+v, want unknown_key", res)
		}
		if _, err := h.c.Step(h.ctx(), v, controller.ActionReturnID, as("adi"), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.c.Step(h.ctx(), v, controller.ActionReport, as("citra"), "x"); !errors.Is(err, controller.ErrWrongRole) {
			t.Errorf("SOP step by a disabled person = %v, want ErrWrongRole", err)
		}
		if got := h.visit(v); got.State != controller.StateExited || got.EscortedBy != "oki" {
			t.Errorf("the disabled visitor's visit = %+v, want it kept", got)
		}
		if _, err := h.c.SetDisabled(h.ctx(), "citra", true, root); !errors.Is(err, controller.ErrAlready) {
			t.Errorf("disable twice = %v, want ErrAlready", err)
		}
		h.restart()
		if p, _ := h.c.Person(h.ctx(), "citra"); !p.Disabled {
			t.Fatal("disabled person enabled by a restart")
		}
		if _, err := h.c.SetDisabled(h.ctx(), "citra", false, root); err != nil {
			t.Fatal(err)
		}
		if r := h.in("citra"); r.Decision != controller.Granted {
			t.Errorf("enabled person's card = %+v, want granted", r)
		}
		var types []controller.EventType
		for _, e := range h.events() {
			if e.Person == "citra" && (e.Type == controller.EventPersonOff || e.Type == controller.EventPersonOn) {
				types = append(types, e.Type)
			}
		}
		if !slices.Equal(types, []controller.EventType{controller.EventPersonOff, controller.EventPersonOn}) {
			t.Errorf("citra's disable/enable events = %v", types)
		}
		h.check()
	})
}

// TestRexAnswerWhenLogFails: a REX releases the strike when the store fails;
// the caller learns the press could not be logged.
func TestRexAnswerWhenLogFails(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.store.setFail(errors.New("disk gone"))
		if err := h.c.RequestExit(h.ctx(), "server-room"); !errors.Is(err, controller.ErrStorage) {
			t.Errorf("REX with a failing store = %v, want ErrStorage", err)
		}
		if !h.released("server-room") {
			t.Error("REX with a failing store did not release the strike")
		}
		h.advance(6 * time.Second)
		if h.released("server-room") {
			t.Error("unlogged REX did not relock on time")
		}
	})
}
