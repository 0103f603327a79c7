package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runIn runs pintuctl with stdin.
func (d *daemon) runIn(stdin string, env map[string]string, args ...string) result {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(stdin), now: d.clock.Now,
		getenv: func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			if k == "PINTU_SOCKET" {
				return d.sock
			}
			return ""
		}}
	err := c.run(context.Background(), args)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func TestPersonPassword(t *testing.T) {
	d := startDaemon(t).seed()
	r := d.runIn("kopi tubruk 2026\n", nil, "person", "password", "--id", "kabid")
	if r.err != nil || r.stdout != "console password of kabid set; their other console sessions have ended\n" {
		t.Errorf("person password = %q, %v", r.stdout, r.err)
	}
	var evs []struct{ Type, Person, Detail string }
	if err := json.Unmarshal([]byte(d.must(nil, "events", "--json")), &evs); err != nil {
		t.Fatal(err)
	}
	if e := evs[len(evs)-1]; e.Type != "password_set" || e.Person != "kabid" || !strings.HasPrefix(e.Detail, "credential sha256:") ||
		strings.Contains(e.Detail, "kopi") {
		t.Errorf("last event = %+v, want password_set with a digest and no password", e)
	}
	for _, tt := range []struct{ stdin, want string }{
		{"", "no password on standard input"},
		{"short\n", "at least 10"},
		{"kopi tubruk 2026\n", ""},
	} {
		r := d.runIn(tt.stdin, nil, "person", "password", "--id", "budi")
		if tt.want == "" {
			tt.want = "visitors do not sign in"
		}
		if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("person password with %q = %v, want %q", tt.stdin, r.err, tt.want)
		}
	}
	if r := d.runIn("x", nil, "person", "password", "--id", "kabid", "--password", "x"); r.err == nil || !strings.Contains(r.err.Error(), "not defined: -password") {
		t.Errorf("a password flag = %v, want it refused: a command line is visible to every user", r.err)
	}
}

func TestPersonLinkAndWhoami(t *testing.T) {
	d := startDaemon(t).seed()
	if out := d.must(nil, "person", "link", "--id", "adm", "--unix-user", "sari"); out != "Unix account sari now acts as adm (Sari Admin)\n" {
		t.Errorf("person link = %q", out)
	}
	if out := d.must(map[string]string{"PINTU_LANG": "id"}, "person", "link", "--id", "adm", "--unix-user", ""); out != "adm (Sari Admin) tidak ditautkan ke akun Unix mana pun\n" {
		t.Errorf("person unlink (id) = %q", out)
	}
	if out := d.must(nil, "whoami"); !strings.Contains(out, "-sim: nobody is authenticated") {
		t.Errorf("whoami under -sim = %q", out)
	}
	// Under -sim a step still needs --by, and says so.
	r := d.run(nil, "visit", "submit", "--visitor", "budi", "--purpose", "disk")
	if r.err == nil || !strings.Contains(r.err.Error(), "who acts is missing (--by)") {
		t.Errorf("visit submit without --by = %v", r.err)
	}
}

// LANG picks the language when PINTU_LANG does not, and errors name their
// kind in it.
func TestLangFromLocale(t *testing.T) {
	d := startDaemon(t).seed()
	if out := d.must(map[string]string{"LANG": "id_ID.UTF-8"}, "status"); !strings.HasPrefix(out, "Lokasi") {
		t.Errorf("status with LANG=id_ID.UTF-8 starts %q, want Indonesian", out[:min(len(out), 40)])
	}
	if out := d.must(map[string]string{"LANG": "id_ID.UTF-8", "PINTU_LANG": "en"}, "status"); !strings.HasPrefix(out, "Site") {
		t.Errorf("PINTU_LANG=en does not win over LANG: %q", out[:min(len(out), 40)])
	}
	r := d.run(map[string]string{"LANG": "id_ID.UTF-8"}, "visit", "approve", "V0001", "--by", "adm")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "visit approve: status kunjungan tidak sesuai") {
		t.Errorf("error in Indonesian = %v", r.err)
	}
}
