package controller_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

// lastEvent is the newest event in the log.
func (h *harness) lastEvent() controller.Event {
	h.t.Helper()
	evs := h.events()
	if len(evs) == 0 {
		h.t.Fatal("empty log")
	}
	return evs[len(evs)-1]
}

func (h *harness) consoleStore() controller.ConsoleStore {
	if h.bolt != nil {
		return h.bolt
	}
	return h.mem
}

// An event from before Via existed hashes exactly as it did: the field is
// left out of the canonical bytes when empty. The hash was computed by the
// previous release's event.go.
func TestEventWithoutViaHashesAsBefore(t *testing.T) {
	e := controller.Event{Seq: 7, Time: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), Type: controller.EventVisitStep,
		Person: "vina", Visit: "V0001", Actor: "hasan", Detail: "approve", ClockTrusted: true, Prev: "abc"}
	const before = "0ac8c8dc5550354f75278599946f14fce1f23f45cc4014b0a22b96564329bcfb"
	if got := e.ComputeHash(); got != before {
		t.Errorf("hash = %s, want %s as before Via existed", got, before)
	}
	e.Via = controller.ViaConsole
	if e.ComputeHash() == before {
		t.Error("Via is not covered by the hash")
	}
}

func TestRootIsNotAPerson(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		if e := h.lastEvent(); e.Actor != controller.RootActor || e.Via != controller.ViaSocket {
			t.Errorf("root's card assignment recorded actor %q via %q, want root via socket", e.Actor, e.Via)
		}
		v := h.approve(controller.VisitForm{VisitorID: "vina"})
		sub, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "wawan", Purpose: "x"}, as("adi"))
		h.must(err)
		n := len(h.events())
		attempts := []struct {
			what string
			do   func() error
		}{
			{"lockdown", func() error { _, err := h.c.Lockdown(h.ctx(), "", root, true); return err }},
			{"submit", func() error {
				_, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "wawan", Purpose: "x"}, root)
				return err
			}},
			{"check", func() error { _, err := h.c.Step(h.ctx(), sub.ID, controller.ActionCheck, root, ""); return err }},
		}
		for _, a := range attempts {
			err := a.do()
			if !errors.Is(err, controller.ErrUnauthenticated) || !strings.Contains(err.Error(), "root is not a person") {
				t.Errorf("%s by root = %v, want root is not a person", a.what, err)
			}
		}
		evs := h.events()[n:]
		if len(evs) != len(attempts) {
			t.Fatalf("root's refused attempts wrote %d events, want %d refused", len(evs), len(attempts))
		}
		for _, e := range evs {
			if e.Type != controller.EventRefused || e.Actor != controller.RootActor {
				t.Errorf("event %+v, want refused by root", e)
			}
		}
		if e := evs[2]; e.Visit != sub.ID || e.Person != "" {
			t.Errorf("the refused check names visit %q person %q, want the visit %s", e.Visit, e.Person, sub.ID)
		}
		if e := evs[1]; e.Person != "wawan" {
			t.Errorf("the refused submission names person %q, want the visitor wawan", e.Person)
		}
		if h.visit(v).State != controller.StateApproved || h.visit(sub.ID).State != controller.StateSubmitted || h.status().Doors[0].Lockdown {
			t.Error("a refused attempt changed something")
		}
	})
}

func TestUnlinkedAccountTakesNoStep(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		bob := controller.Actor{Via: controller.ViaSocket, Account: "bob"}
		_, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "vina", Purpose: "x"}, bob)
		if !errors.Is(err, controller.ErrUnauthenticated) || !strings.Contains(err.Error(), `Unix user "bob" is linked to no person`) {
			t.Fatalf("submit by an unlinked account = %v, want refused naming the account", err)
		}
		if e := h.lastEvent(); e.Type != controller.EventRefused || !strings.Contains(e.Detail, `Unix user "bob"`) {
			t.Errorf("last event %+v, want refused naming Unix user bob", e)
		}
		err = h.c.AddPerson(h.ctx(), controller.Person{ID: "x", Name: "X", Roles: []controller.Role{controller.RoleVisitor}}, bob)
		if !errors.Is(err, controller.ErrUnauthenticated) {
			t.Errorf("add person by an unlinked account = %v, want refused", err)
		}
	})
}

func TestSimClaimIsMarked(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		local := controller.Actor{Via: controller.ViaSocket, Unauthenticated: true}
		h.must(h.c.AddPerson(h.ctx(), controller.Person{ID: "adi", Name: "Adi", Roles: []controller.Role{controller.RoleAdmin}}, local))
		h.must(h.c.AddPerson(h.ctx(), controller.Person{ID: "vina", Name: "Vina", Roles: []controller.Role{controller.RoleVisitor}}, local))
		if e := h.lastEvent(); e.Actor != controller.LocalActor || e.Via != controller.ViaUnauthenticated {
			t.Errorf("sim management recorded actor %q via %q, want local via %s", e.Actor, e.Via, controller.ViaUnauthenticated)
		}
		claim := controller.Actor{Person: "adi", Via: controller.ViaSocket, Unauthenticated: true}
		if _, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "vina", Purpose: "x"}, claim); err != nil {
			t.Fatal(err)
		}
		if e := h.lastEvent(); e.Actor != "adi" || e.Via != controller.ViaUnauthenticated {
			t.Errorf("sim --by step recorded actor %q via %q, want adi via %s", e.Actor, e.Via, controller.ViaUnauthenticated)
		}
		if _, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "vina", Purpose: "x"},
			controller.Actor{Via: controller.ViaSocket, Unauthenticated: true}); !errors.Is(err, controller.ErrInvalid) || !strings.Contains(err.Error(), "--by") {
			t.Errorf("sim step without --by = %v, want who acts is missing (--by)", err)
		}
	})
}

// Who may register and change whom: visitors by the staff who meet them,
// staff only by the head, nobody themselves.
func TestManagePeople(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		h.must(h.c.AddPerson(h.ctx(), controller.Person{ID: "dian", Name: "Dian", Roles: []controller.Role{controller.RoleHead}}, root))
		visitor := func(id string) controller.Person {
			return controller.Person{ID: id, Name: "V " + id, Roles: []controller.Role{controller.RoleVisitor}}
		}
		officer := func(id string) controller.Person {
			return controller.Person{ID: id, Name: "O " + id, Roles: []controller.Role{controller.RoleOfficer}}
		}
		name := "New Name"
		head := []controller.Role{controller.RoleHead, controller.RoleAdmin}
		tests := []struct {
			name string
			do   func() error
			want error
		}{
			{"admin registers a visitor", func() error { return h.c.AddPerson(h.ctx(), visitor("v1"), as("adi")) }, nil},
			{"coordinator registers a visitor", func() error { return h.c.AddPerson(h.ctx(), visitor("v2"), as("citra")) }, nil},
			{"officer registers a visitor", func() error { return h.c.AddPerson(h.ctx(), visitor("v3"), as("oki")) }, controller.ErrWrongRole},
			{"admin registers staff", func() error { return h.c.AddPerson(h.ctx(), officer("o1"), as("adi")) }, controller.ErrWrongRole},
			{"coordinator registers staff", func() error { return h.c.AddPerson(h.ctx(), officer("o2"), as("citra")) }, controller.ErrWrongRole},
			{"head registers staff", func() error { return h.c.AddPerson(h.ctx(), officer("o3"), as("hasan")) }, nil},
			{"head grants themself a role", func() error {
				_, err := h.c.UpdatePerson(h.ctx(), "hasan", controller.PersonUpdate{Roles: head}, as("hasan"))
				return err
			}, controller.ErrWrongRole},
			{"another head changes a head", func() error {
				_, err := h.c.UpdatePerson(h.ctx(), "hasan", controller.PersonUpdate{Name: &name}, as("dian"))
				return err
			}, nil},
			{"admin gives an officer a card", func() error { return h.c.AssignCard(h.ctx(), "card-x", "o3", as("adi")) }, controller.ErrWrongRole},
			{"admin gives a visitor a card", func() error { return h.c.AssignCard(h.ctx(), "card-v1", "v1", as("adi")) }, nil},
			{"admin revokes a staff card", func() error { return h.c.RevokeCard(h.ctx(), "card-oki", as("adi")) }, controller.ErrWrongRole},
			{"admin disables a visitor", func() error { _, err := h.c.SetDisabled(h.ctx(), "v2", true, as("adi")); return err }, nil},
			{"admin disables the head", func() error { _, err := h.c.SetDisabled(h.ctx(), "hasan", true, as("adi")); return err }, controller.ErrWrongRole},
			{"a visitor registers a visitor", func() error { return h.c.AddPerson(h.ctx(), visitor("v4"), as("vina")) }, controller.ErrWrongRole},
			{"a reserved id", func() error { return h.c.AddPerson(h.ctx(), visitor("root"), root) }, controller.ErrInvalid},
		}
		for _, tt := range tests {
			n := len(h.events())
			err := tt.do()
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
				continue
			}
			evs := h.events()[n:]
			if tt.want == controller.ErrWrongRole && (len(evs) != 1 || evs[0].Type != controller.EventRefused) {
				t.Errorf("%s wrote %v, want one refused event", tt.name, eventTypes(evs))
			}
		}
		// A disabled head manages nobody.
		_, err := h.c.SetDisabled(h.ctx(), "dian", true, root)
		h.must(err)
		if err := h.c.AddPerson(h.ctx(), officer("o9"), as("dian")); !errors.Is(err, controller.ErrWrongRole) {
			t.Errorf("disabled head registers staff = %v, want refused", err)
		}
	})
}

func TestLinkUnixUser(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		if _, err := h.c.LinkPerson(h.ctx(), "hasan", "hasan", as("hasan")); !errors.Is(err, controller.ErrWrongRole) {
			t.Errorf("head links themself = %v, want only root", err)
		}
		p, err := h.c.LinkPerson(h.ctx(), "hasan", "hsn", root)
		h.must(err)
		if p.UnixUser != "hsn" {
			t.Errorf("linked person = %+v", p)
		}
		if e := h.lastEvent(); e.Type != controller.EventPersonLinked || e.Detail != `unix_user "" -> "hsn"` || e.Actor != "root" {
			t.Errorf("link event = %+v", e)
		}
		for _, bad := range []struct {
			id, user string
			want     error
		}{
			{"citra", "hsn", controller.ErrExists},
			{"vina", "vina", controller.ErrInvalid},
			{"citra", "root", controller.ErrInvalid},
			{"citra", "bad name", controller.ErrInvalid},
			{"citra", "-x", controller.ErrInvalid},
			{"hasan", "hsn", controller.ErrAlready},
			{"ghost", "g", controller.ErrNotFound},
		} {
			if _, err := h.c.LinkPerson(h.ctx(), bad.id, bad.user, root); !errors.Is(err, bad.want) {
				t.Errorf("link %s to %q = %v, want %v", bad.id, bad.user, err, bad.want)
			}
		}
		h.restart()
		got, ok, err := h.c.PersonByUnixUser(h.ctx(), "hsn")
		if err != nil || !ok || got.ID != "hasan" {
			t.Errorf("after restart, hsn is %+v %v %v, want hasan", got, ok, err)
		}
		// Moving the link: unlink, then link another person.
		_, err = h.c.LinkPerson(h.ctx(), "hasan", "", root)
		h.must(err)
		_, err = h.c.LinkPerson(h.ctx(), "citra", "hsn", root)
		h.must(err)
		if got, ok, _ := h.c.PersonByUnixUser(h.ctx(), "hsn"); !ok || got.ID != "citra" {
			t.Errorf("hsn is %+v %v after relinking, want citra", got, ok)
		}

		// The index edited behind pintud's back: an account pointed at the
		// head. The head's own sealed record names no such account, so the
		// account acts as nobody.
		h.must(h.store.Commit(controller.Change{Links: []controller.Link{{User: "eve", Person: "hasan"}}}))
		h.restart()
		if got, ok, err := h.c.PersonByUnixUser(h.ctx(), "eve"); ok || err != nil {
			t.Errorf("an account the index alone links to hasan acts as %+v (%v, %v); want nobody", got, ok, err)
		}
	})
}

// hash is a stand-in credential hash: the domain stores what the console's
// password package makes without looking inside it.
const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"

func TestSetPassword(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		for _, bad := range []struct {
			id   string
			by   controller.Actor
			hash string
			want error
		}{
			{"hasan", as("citra"), hash, controller.ErrWrongRole},
			{"vina", root, hash, controller.ErrInvalid},
			{"hasan", root, "plain text", controller.ErrInvalid},
			{"ghost", root, hash, controller.ErrNotFound},
		} {
			if err := h.c.SetPassword(h.ctx(), bad.id, controller.Credential{Hash: bad.hash}, bad.by); !errors.Is(err, bad.want) {
				t.Errorf("set password of %s by %s = %v, want %v", bad.id, bad.by.Name(), err, bad.want)
			}
		}
		h.must(h.c.SetPassword(h.ctx(), "hasan", controller.Credential{Hash: hash}, root))
		e := h.lastEvent()
		stored, ok, err := h.consoleStore().Credential("hasan")
		if err != nil || !ok {
			t.Fatalf("stored credential: %v %v", ok, err)
		}
		if e.Type != controller.EventPasswordSet || e.Detail != "credential sha256:"+stored.Digest() || e.Actor != "root" {
			t.Errorf("password_set event = %+v, want the stored credential's digest %s", e, stored.Digest())
		}
		if strings.Contains(e.Detail, "argon2") {
			t.Error("the event carries the hash")
		}
		// A person changes their own.
		h.must(h.c.SetPassword(h.ctx(), "hasan", controller.Credential{Hash: hash}, as("hasan")))
		if a, _ := h.c.Account(h.ctx(), "hasan"); !a.HasPassword() {
			t.Error("account has no password after setting one")
		}
	})
}

func TestLoginLockout(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		h.must(h.c.SetPassword(h.ctx(), "hasan", controller.Credential{Hash: hash}, root))
		login := func(ok bool) error {
			_, err := h.c.Login(h.ctx(), controller.LoginAttempt{Person: "hasan", OK: ok, From: "192.0.2.7"})
			return err
		}
		if p, err := h.c.Login(h.ctx(), controller.LoginAttempt{Person: "hasan", OK: true}); err != nil || p.ID != "hasan" {
			t.Fatalf("login = %+v, %v", p, err)
		}
		if e := h.lastEvent(); e.Type != controller.EventLogin || e.Actor != "hasan" || e.Via != controller.ViaConsole {
			t.Errorf("login event = %+v", e)
		}
		lockFor := func(n int, d time.Duration) {
			t.Helper()
			for i := 1; i < controller.MaxLoginFailures; i++ {
				if err := login(false); !errors.Is(err, controller.ErrLoginFailed) {
					t.Fatalf("failure %d = %v, want wrong id or password", i, err)
				}
			}
			start := time.Now()
			err := login(false)
			le, ok := errors.AsType[*controller.LockoutError](err)
			if !ok || !errors.Is(err, controller.ErrLockedOut) || !le.Until.Equal(start.Add(d).UTC()) {
				t.Fatalf("failure %d in lockout %d = %v, want locked for %s", controller.MaxLoginFailures, n, err, d)
			}
			if e := h.lastEvent(); e.Type != controller.EventLockout || !strings.Contains(e.Detail, "locked for "+d.String()) {
				t.Errorf("lockout event = %+v", e)
			}
		}
		lockFor(1, time.Minute)
		// The right password changes nothing while locked, and the lock
		// survives a restart.
		h.restart()
		n := len(h.events())
		if err := login(true); !errors.Is(err, controller.ErrLockedOut) {
			t.Errorf("right password while locked = %v, want locked", err)
		}
		if e := h.events()[n:]; len(e) != 1 || e[0].Type != controller.EventLoginFailed || !strings.Contains(e[0].Detail, "account locked until") ||
			!strings.Contains(e[0].Detail, "from 192.0.2.7") {
			t.Errorf("attempt while locked wrote %+v", e)
		}
		h.advance(time.Minute)
		lockFor(2, 2*time.Minute)
		h.advance(2 * time.Minute)
		lockFor(3, 4*time.Minute)
		h.advance(4 * time.Minute)
		if err := login(true); err != nil {
			t.Fatalf("login after the lockout = %v", err)
		}
		lockFor(1, time.Minute) // a success starts the count again
	})
}

func TestLoginRefusals(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		h.must(h.c.SetPassword(h.ctx(), "citra", controller.Credential{Hash: hash}, root))
		_, err := h.c.SetDisabled(h.ctx(), "citra", true, root)
		h.must(err)
		for _, tt := range []struct {
			a      controller.LoginAttempt
			detail string
		}{
			{controller.LoginAttempt{Person: "ghost", OK: false}, `unknown person "ghost"`},
			{controller.LoginAttempt{Person: "vina", OK: true}, `unknown person "vina"`},
			{controller.LoginAttempt{Person: "hasan", NoPassword: true}, "no password set"},
			{controller.LoginAttempt{Person: "citra", OK: true}, "person disabled"},
			{controller.LoginAttempt{Person: "x\u202egnp.exe", OK: false}, `unknown person "(unprintable)"`},
		} {
			if _, err := h.c.Login(h.ctx(), tt.a); !errors.Is(err, controller.ErrLoginFailed) {
				t.Errorf("login %q = %v, want wrong id or password", tt.a.Person, err)
			}
			if e := h.lastEvent(); e.Type != controller.EventLoginFailed || e.Detail != tt.detail {
				t.Errorf("login %q recorded %+v, want login_failed %q", tt.a.Person, e, tt.detail)
			}
		}
	})
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		s         string
		multiline bool
		want      string // "" accepts
	}{
		{"Ni Luh Putu Ayu Widyastuti", false, ""},
		{"Dinas Komunikasi dan Informatika — Bidang Persandian", false, ""},
		{"Çağrı Ñandú", false, ""},
		{"laporan\nbaris dua", true, ""},
		{"laporan\nbaris dua", false, "control character"},
		{"tab\there", false, "control character"},
		{"bell\x07", false, "control character"},
		{"evil\u202eexe.pdf", false, "bidirectional formatting character"},
		{"\u2066isolate\u2069", false, "bidirectional formatting character"},
		{"zero\u200bwidth", false, "invisible character"},
		{"bom\ufeff", false, "invisible character"},
		{"c1\u0085", false, "control character"},
		{"bad \xff utf8", false, "not valid UTF-8"},
		{strings.Repeat("a", 201), false, "201 characters long"},
	}
	for _, tt := range tests {
		err := controller.CheckText("name", tt.s, controller.MaxNameLen, tt.multiline)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckText(%q) = %v, want accepted", tt.s, err)
		case tt.want != "" && (!errors.Is(err, controller.ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckText(%q) = %v, want %q", tt.s, err, tt.want)
		}
	}
}

// TestCheckID: ids are a-z, 0-9, '.', '_' and '-', 1 to 64 of them; card
// numbers also take A-Z and ':' as readers write them. A look-alike or an
// invisible character never makes a second id that reads the same.
func TestCheckID(t *testing.T) {
	tests := []struct {
		id       string
		wantID   string // "" accepts as a person id
		wantCard string // "" accepts as a card number
	}{
		{"adi", "", ""},
		{"nip.1987_03-2", "", ""},
		{strings.Repeat("a", 64), "", ""},
		{"04A1B2C3D4E5F6", `"04A1B2C3D4E5F6" may hold only a-z`, ""},
		{"H10301:123:45678", "may hold only", ""},
		{"", "is empty", "is empty"},
		{strings.Repeat("a", 65), "65 bytes long; at most 64", "65 bytes long; at most 64"},
		{"Adi", "'A' (U+0041) at byte 0", ""},
		{"\u0430di", "U+0430", "U+0430"},  // Cyrillic а
		{"a\u200bdi", "U+200B", "U+200B"}, // zero-width space
		{"adi\u202e", "U+202E", "U+202E"}, // right-to-left override
		{"a di", "U+0020", "U+0020"},
		{"a\tdi", "U+0009", "U+0009"},
		{"adi\x1b[2J", "U+001B", "U+001B"},
		{"adi\n", "U+000A", "U+000A"},
		{"ad\xffi", "U+FFFD", "U+FFFD"},
		{"\uff41di", "U+FF41", "U+FF41"}, // fullwidth a
	}
	for _, tt := range tests {
		for _, c := range []struct {
			check func(string, string) error
			want  string
		}{{controller.CheckID, tt.wantID}, {controller.CheckCard, tt.wantCard}} {
			err := c.check("person id", tt.id)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("check(%q) = %v, want accepted", tt.id, err)
			case c.want != "" && (!errors.Is(err, controller.ErrInvalid) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("check(%q) = %v, want %q", tt.id, err, c.want)
			}
		}
	}
}

// Text with control or bidirectional characters is refused at every input
// that stores text, and nothing changes.
func TestInputsRefuseBadText(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		v := h.approve(controller.VisitForm{VisitorID: "vina"})
		rlo := "Budi\u202eitsoc"
		n := len(h.events())
		errs := []error{
			h.c.AddPerson(h.ctx(), controller.Person{ID: "budi", Name: rlo, Roles: []controller.Role{controller.RoleVisitor}}, root),
			h.c.AddPerson(h.ctx(), controller.Person{ID: "budi", Name: "Budi", Org: "PT\x00", Roles: []controller.Role{controller.RoleVisitor}}, root),
			func() error {
				_, err := h.c.UpdatePerson(h.ctx(), "vina", controller.PersonUpdate{Name: &rlo}, root)
				return err
			}(),
			func() error {
				_, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "wawan", Purpose: rlo}, as("adi"))
				return err
			}(),
			func() error {
				_, err := h.c.Step(h.ctx(), v, controller.ActionReject, as("hasan"), "no\x1b[2J")
				return err
			}(),
		}
		for i, err := range errs {
			if !errors.Is(err, controller.ErrInvalid) {
				t.Errorf("input %d = %v, want invalid input", i, err)
			}
		}
		if len(h.events()) != n {
			t.Error("refused text changed the log")
		}
	})
}
