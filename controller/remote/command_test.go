package remote

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenCommands are the commands of the golden files, before defaults, all
// signed with testKey.
func goldenCommands() map[string]Command {
	unlock := baseCommand()
	visit := baseCommand()
	visit.ID = "Qm9vdGgtMDQyLXZpc2l0LXVubG9jaw"
	visit.Duration = 10 * time.Second
	visit.Visit = "v-2026-0042"
	visit.Reason = "perbaikan AC — ruang server, didampingi petugas"
	visit.IssuedAt = t0().Add(123456789 * time.Nanosecond)
	visit.Expiry = visit.IssuedAt.Add(30 * time.Second)
	lockdown := baseCommand()
	lockdown.ID = "lockdown_0000000000000001"
	lockdown.Action = ActionLockdown
	lockdown.Reason = "fire alarm drill"
	release := lockdown
	release.ID = "lockdown_0000000000000002"
	release.Action = ActionReleaseLockdown
	release.Reason = "drill over"
	lock := baseCommand()
	lock.ID = "lock-00000000000000000000000000000000000000000000000000000000001" // 64 characters
	lock.Action = ActionLock
	lock.Reason = "left open by mistake"
	return map[string]Command{
		"unlock": unlock, "unlock-visit": visit, "lockdown": lockdown,
		"release-lockdown": release, "lock": lock,
	}
}

// TestGolden pins the canonical bytes and the signed payloads. Refresh with
// go test ./controller/remote -run TestGolden -update.
func TestGolden(t *testing.T) {
	priv := testKey()
	for name, c := range goldenCommands() {
		t.Run(name, func(t *testing.T) {
			payload := mustSign(t, c, priv)
			got, _, err := Parse(payload)
			if err != nil {
				t.Fatalf("Parse(Sign(%s)) = %v", name, err)
			}
			canon := got.Canonical()
			if want := specCanonical(got); !bytes.Equal(canon, want) {
				t.Errorf("Canonical() =\n%s\nwant (from the documentation)\n%s", canon, want)
			}
			checkGolden(t, filepath.Join("testdata", name+".canonical"), canon)
			checkGolden(t, filepath.Join("testdata", name+".json"), append(payload, '\n'))
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestGoldenPayloadsVerify checks the stored payloads, not freshly signed
// ones, so that a change to parsing or verification that breaks existing
// senders fails here.
func TestGoldenPayloadsVerify(t *testing.T) {
	for name := range goldenCommands() {
		p, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		v := newVerifier(t, VerifierOptions{})
		if c, got := v.CheckPayload(t0().Add(time.Second), bytes.TrimSpace(p)); !got.Accepted() || got.Person != "p-coord" {
			t.Errorf("%s: CheckPayload = %+v, %+v, want accepted for p-coord", name, c, got)
		}
	}
}

func TestDocExample(t *testing.T) {
	// The example in doc.go.
	c := baseCommand().WithDefaults()
	c.KeyID = KeyID(pubOf(testKey()))
	want := "pintu-cmd-v1\n" +
		"id 20 b7Gq2mX0pLr4sT9vW1yZ\n" +
		"door 11 server-room\n" +
		"action 6 unlock\n" +
		"duration_ns 10 5000000000\n" +
		"visit 0 \n" +
		"reason 18 vendor maintenance\n" +
		"issued_at_ns 19 1767580200000000000\n" +
		"expiry_ns 19 1767580205000000000\n" +
		"key_id 24 " + c.KeyID + "\n"
	if got := string(c.Canonical()); got != want {
		t.Errorf("Canonical() =\n%s\nwant\n%s", got, want)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "key_id 24 "+c.KeyID+"\n") || !strings.Contains(string(doc), `"key_id":"`+c.KeyID+`"`) {
		t.Errorf("doc.go example does not use the test key's id %s", c.KeyID)
	}
}

func TestSignDefaults(t *testing.T) {
	c := baseCommand()
	c.ID = ""
	c.IssuedAt = time.Date(2026, 1, 5, 9, 30, 0, 0, time.FixedZone("WIB", 7*3600)) // = t0
	p := mustSign(t, c, testKey())
	got, sig, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ID) != 26 {
		t.Errorf("default ID = %q, want 26 characters from crypto/rand.Text", got.ID)
	}
	want := Command{
		ID: got.ID, Door: "server-room", Action: ActionUnlock, Duration: DefaultUnlock,
		Reason: "vendor maintenance", IssuedAt: t0(), Expiry: t0().Add(DefaultLifetime),
		KeyID: KeyID(pubOf(testKey())),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(Sign(c)) differs (-want +got):\n%s", diff)
	}
	if len(sig) != 64 {
		t.Errorf("signature is %d bytes, want 64", len(sig))
	}
}

func TestSignRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Command)
		field string
	}{
		{"no issued_at", func(c *Command) { c.IssuedAt = time.Time{} }, "issued_at"},
		{"duration on lock", func(c *Command) { c.Action, c.Duration = ActionLock, time.Second }, "duration"},
		{"long unlock", func(c *Command) { c.Duration = MaxUnlock + 1 }, "duration"},
		{"negative unlock", func(c *Command) { c.Duration = -time.Second }, "duration"},
		{"long life", func(c *Command) { c.Expiry = c.IssuedAt.Add(MaxLifetime + 1) }, "expiry"},
		{"expiry before issue", func(c *Command) { c.Expiry = c.IssuedAt.Add(-time.Second) }, "expiry"},
		{"no reason", func(c *Command) { c.Reason = "" }, "reason"},
		{"newline in reason", func(c *Command) { c.Reason = "a\nb" }, "reason"},
		{"invalid UTF-8 reason", func(c *Command) { c.Reason = "caf\xe9" }, "reason"},
		{"slash in door", func(c *Command) { c.Door = "a/b" }, "door"},
		{"short id", func(c *Command) { c.ID = "abc" }, "id"},
		{"unknown action", func(c *Command) { c.Action = "open" }, "action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCommand()
			tc.edit(&c)
			_, err := Sign(c, testKey())
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrMalformed) {
				t.Errorf("Sign = %v, want a malformed %s", err, tc.field)
			}
		})
	}
	c := baseCommand()
	c.KeyID = KeyID(pubOf(otherKey("officer")))
	if _, err := Sign(c, testKey()); err == nil || !strings.Contains(err.Error(), "does not name the signing key") {
		t.Errorf("Sign with another key's id = %v, want refusal", err)
	}
	if _, err := Sign(baseCommand(), testKey()[:10]); err == nil {
		t.Errorf("Sign with a short key = nil error, want refusal")
	}
}

func TestTimeRange(t *testing.T) {
	if got, want := int64(minUnix), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(); got != want {
		t.Errorf("minUnix = %d, want %d", got, want)
	}
	if got, want := int64(maxUnix), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix(); got != want {
		t.Errorf("maxUnix = %d, want %d", got, want)
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range Actions() {
		if got, err := ParseAction(string(a)); got != a || err != nil {
			t.Errorf("ParseAction(%q) = %q, %v, want %q", a, got, err, a)
		}
	}
	if _, err := ParseAction("Unlock"); err == nil {
		t.Errorf("ParseAction(%q) = nil error, want one", "Unlock")
	}
}
