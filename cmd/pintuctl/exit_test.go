package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

// TestExitStatus: each kind of failure has its documented exit status, and
// with --json its error is one JSON object on stderr with a code, nothing
// on stdout.
func TestExitStatus(t *testing.T) {
	d := startDaemon(t).seed()
	gone := &daemon{t: t, clock: &clock{now: t0}, sock: filepath.Join(t.TempDir(), "gone.sock")}
	broken := startDaemon(t).seed()
	broken.store.(*memstore.Store).TamperEvent(1, func(*controller.Event) bool { return false })
	keyed := startDaemon(t, withSiteKey(t)).seed()
	dir := t.TempDir()
	pub, bogus := filepath.Join(dir, "site.pub"), filepath.Join(dir, "bogus.zip")
	keyed.must(nil, "site", "key", "-o", pub)
	if err := os.WriteFile(bogus, []byte("PK\x03\x04 not a bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		d        *daemon
		args     string
		code     int
		jsonCode string
	}{
		{d, "status", exitOK, ""},
		{d, "bogus", exitUsage, "usage"},
		{d, "visit approve", exitUsage, "usage"},
		{d, "--bogus status", exitUsage, "usage"},
		{d, "person add --id ani --role officer", exitUsage, "usage"},
		{d, "visit show V0042", exitFailure, "not_found"},
		{d, "person add --id adm --name Again --role admin", exitFailure, "exists"},
		{d, "person add --id Ani --name Ani --role officer", exitFailure, "invalid"},
		{d, "visit check V0001 --by koor", exitFailure, "wrong_state"},
		{d, "door lockdown --by adm", exitFailure, "wrong_role"},
		{d, "export --format csv -o /nonexistent/dir/audit.csv", exitFailure, "failed"},
		{gone, "status", exitUnreachable, "unreachable"},
		{gone, "events --tail", exitUnreachable, "unreachable"},
		{broken, "verify", exitBroken, "log_broken"},
		{keyed, "verify-bundle --pub " + pub + " " + bogus, exitBroken, "bundle_invalid"},
		{keyed, "verify-bundle --pub " + bogus + ".missing " + bogus, exitFailure, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			r := tt.d.run(nil, strings.Fields(tt.args)...)
			if r.code != tt.code {
				t.Errorf("pintuctl %s: exit status %d, want %d (%v)", tt.args, r.code, tt.code, r.err)
			}
			if tt.code == exitOK {
				return
			}
			if !strings.HasPrefix(r.stderr, "pintuctl: ") {
				t.Errorf("pintuctl %s: stderr %q, want the error", tt.args, r.stderr)
			}
			r = tt.d.run(nil, append(strings.Fields(tt.args), "--json")...)
			if r.code != tt.code {
				t.Errorf("pintuctl %s --json: exit status %d, want %d", tt.args, r.code, tt.code)
			}
			var e map[string]any
			if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("pintuctl %s --json: stderr %q is not one JSON line: %v", tt.args, r.stderr, err)
			}
			msg, _ := e["error"].(string)
			if len(e) != 2 || e["code"] != tt.jsonCode || msg != r.err.Error() {
				t.Errorf("pintuctl %s --json: stderr %s, want {\"error\": %q, \"code\": %q}", tt.args, r.stderr, r.err, tt.jsonCode)
			}
			if tt.code != exitBroken && r.stdout != "" {
				t.Errorf("pintuctl %s --json: stdout %q, want nothing", tt.args, r.stdout)
			}
		})
	}
}

// TestUsageIsShort: a usage error prints two lines, however many commands
// and flags there are; the whole usage is for -h and help.
func TestUsageIsShort(t *testing.T) {
	d := startDaemon(t)
	for _, args := range []string{"", "bogus", "visit", "visit submit --visitor budi", "export --format xml", "--lang fr status"} {
		r := d.run(nil, strings.Fields(args)...)
		if n := strings.Count(r.stderr, "\n"); n != 2 {
			t.Errorf("pintuctl %s: %d lines on stderr, want 2:\n%s", args, n, r.stderr)
		}
	}
	for _, args := range []string{"-h", "--help", "help", "visit submit -h", "help events"} {
		r := d.run(nil, strings.Fields(args)...)
		if r.code != exitOK || r.stderr != "" || !strings.Contains(r.stdout, "Usage: pintuctl") {
			t.Errorf("pintuctl %s: exit %d, stderr %q; want exit 0 and the usage on stdout", args, r.code, r.stderr)
		}
	}
	r := d.run(nil, "help")
	if !strings.Contains(r.stdout, "Exit status: 0 done; 1 pintud refused") {
		t.Errorf("help does not list the exit statuses:\n%s", r.stdout)
	}
}

// TestKeyListZone: key list shows when keys were added and revoked in the
// site's zone, as every time pintuctl prints for people.
func TestKeyListZone(t *testing.T) {
	d := startDaemon(t).seed()
	dir := t.TempDir()
	r := d.run(nil, "keygen", "--out", filepath.Join(dir, "koor.key"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	pub := filepath.Join(dir, "koor.pub")
	if err := os.WriteFile(pub, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	d.must(nil, "key", "add", "--person", "koor", "--pub", pub)
	for _, lang := range []string{"en", "id"} {
		out := d.must(map[string]string{"PINTU_LANG": lang}, "key", "list")
		if !strings.Contains(out, "2026-11-02 09:00:00 WIB") {
			t.Errorf("key list (%s) =\n%s\nwant the time in WIB", lang, out)
		}
		if strings.Contains(out, "T02:00:00Z") {
			t.Errorf("key list (%s) shows UTC:\n%s", lang, out)
		}
	}
}
