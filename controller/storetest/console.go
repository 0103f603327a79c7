package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

// ConsoleStore is a store with the web console's part.
type ConsoleStore interface {
	controller.Store
	controller.ConsoleStore
}

// RunConsole runs the conformance tests of the console's part of a store:
// credentials and sign-in states committed with the log, sessions and
// preferences beside it.
func RunConsole(t *testing.T, open func(t *testing.T) ConsoleStore) {
	t.Run("CredentialsAndAccounts", func(t *testing.T) { testCredentials(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("Language", func(t *testing.T) { testLanguage(t, open(t)) })
}

// testCredentials: a commit writes credentials and accounts with its
// events; Load returns the accounts and never the credentials, which
// Credential reads one at a time.
func testCredentials(t *testing.T, s ConsoleStore) {
	if _, ok, err := s.Credential("p-budi"); ok || err != nil {
		t.Fatalf("Credential of nobody = %v, %v; want none", ok, err)
	}
	var c chain
	cred := controller.Credential{Person: "p-budi", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", SetAt: at, SetBy: "root"}
	acct := controller.Account{Person: "p-budi", PasswordSetAt: at}
	mustCommit(t, s, controller.Change{Events: c.next(1), Credentials: []controller.Credential{cred}, Accounts: []controller.Account{acct}})
	locked := controller.Account{Person: "p-budi", Lockouts: 2, LockedUntil: at.Add(2 * time.Minute), PasswordSetAt: at}
	mustCommit(t, s, controller.Change{Events: c.next(1), Accounts: []controller.Account{locked}})
	got, ok, err := s.Credential("p-budi")
	if err != nil || !ok {
		t.Fatalf("Credential = %v, %v", ok, err)
	}
	if diff := cmp.Diff(cred, got); diff != "" {
		t.Errorf("Credential mismatch (-want +got):\n%s", diff)
	}
	if got.Digest() != cred.Digest() {
		t.Error("the stored credential's digest differs from the committed one's")
	}
	if diff := cmp.Diff([]controller.Account{locked}, mustLoad(t, s).Accounts, equateEmpty); diff != "" {
		t.Errorf("Load().Accounts mismatch (-want +got):\n%s", diff)
	}
	// A change the store refuses writes no credential.
	bad := controller.Change{Events: c.next(1), Credentials: []controller.Credential{{Person: "p-ani", Hash: "x"}, {Hash: "no person"}}}
	if err := s.Commit(bad); err == nil {
		t.Fatal("Commit of a credential without a person = nil, want an error")
	}
	if _, ok, _ := s.Credential("p-ani"); ok {
		t.Error("a refused commit wrote a credential")
	}
}

func testSessions(t *testing.T, s ConsoleStore) {
	a := controller.Session{Key: "aa", Person: "p-budi", Created: at, Seen: at.Add(10 * time.Minute)}
	b := controller.Session{Key: "bb", Person: "p-ani", Created: at.Add(time.Hour), Seen: at.Add(time.Hour)}
	old := controller.Session{Key: "cc", Person: "p-ani", Created: at.Add(-9 * time.Hour), Seen: at.Add(20 * time.Minute)}
	for _, se := range []controller.Session{a, b, old} {
		if err := s.PutSession(se); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := s.Session("aa"); err != nil || !ok || !cmp.Equal(got, a) {
		t.Errorf("Session(aa) = %+v, %v, %v; want %+v", got, ok, err, a)
	}
	a.Seen = at.Add(30 * time.Minute)
	if err := s.PutSession(a); err != nil {
		t.Fatal(err)
	}
	// Idle since before at+20m, or begun before at-8h: only b survives...
	// except a, seen at +30m.
	n, err := s.ExpireSessions(at.Add(20*time.Minute), at.Add(-8*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("ExpireSessions = %d, %v; want 1 (the one begun too long ago)", n, err)
	}
	for key, want := range map[string]bool{"aa": true, "bb": true, "cc": false} {
		if _, ok, _ := s.Session(key); ok != want {
			t.Errorf("session %s present = %v, want %v", key, ok, want)
		}
	}
	if err := s.DeleteSession("aa"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession("never"); err != nil {
		t.Errorf("DeleteSession of a missing session = %v, want nil", err)
	}
	if _, ok, _ := s.Session("aa"); ok {
		t.Error("session present after DeleteSession")
	}
	if n, err := s.ExpireSessions(at.Add(24*time.Hour), at); err != nil || n != 1 {
		t.Errorf("ExpireSessions of all = %d, %v; want 1", n, err)
	}
}

func testLanguage(t *testing.T, s ConsoleStore) {
	if lang, err := s.Language("p-budi"); err != nil || lang != "" {
		t.Errorf("Language before any = %q, %v; want none", lang, err)
	}
	for _, l := range []string{"en", "id"} {
		if err := s.SetLanguage("p-budi", l); err != nil {
			t.Fatal(err)
		}
		if lang, err := s.Language("p-budi"); err != nil || lang != l {
			t.Errorf("Language = %q, %v; want %q", lang, err, l)
		}
	}
}
