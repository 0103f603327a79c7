package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/bundle"
)

// withSiteKey gives the daemon a site key, as pintud's first start does.
func withSiteKey(t *testing.T) func(*daemon, *api.Options) {
	t.Helper()
	k, err := bundle.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return func(_ *daemon, o *api.Options) { o.SiteKey = k }
}

// noFile fails the test if path exists: a failed command writes nothing.
func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s was written by a command that failed", path)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) > 0 {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}
}

// pdfText is the text of the PDF at path; the test skips without
// poppler-utils (CI installs it).
func pdfText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not installed; .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext not installed: apt-get install -y poppler-utils")
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

func TestVisitDossier(t *testing.T) {
	d := startDaemon(t).seed()
	dir := t.TempDir()
	file := filepath.Join(dir, "v1.pdf")
	out := d.must(nil, "visit", "dossier", "V0001", "-o", file)
	if want := "wrote the dossier of V0001 to " + file + "\nKONSEP/DRAFT: visit V0001 is not archived\n"; out != want {
		t.Errorf("visit dossier = %q, want %q", out, want)
	}
	// Papers are in Indonesian unless asked otherwise, whatever the CLI's own language.
	if got := pdfText(t, file); !strings.Contains(got, "BERKAS KUNJUNGAN RUANG SERVER") || !strings.Contains(got, "KONSEP / DRAFT") {
		t.Errorf("dossier text:\n%s", got)
	}
	for _, args := range [][]string{
		{"visit", "dossier", "V0001", "-o", file, "--lang", "en"},
		{"--lang", "en", "visit", "dossier", "V0001", "-o", file},
	} {
		d.must(nil, args...)
		if got := pdfText(t, file); !strings.Contains(got, "SERVER ROOM VISIT FILE") {
			t.Errorf("pintuctl %v wrote a dossier not in English", args)
		}
	}
	d.must(map[string]string{"PINTU_LANG": "en"}, "visit", "dossier", "V0001", "-o", file)
	if got := pdfText(t, file); !strings.Contains(got, "SERVER ROOM VISIT FILE") {
		t.Error("PINTU_LANG=en did not make an English dossier")
	}
	var js struct {
		File, Visit string
		Draft       bool
	}
	if err := json.Unmarshal([]byte(d.must(nil, "visit", "dossier", "V0001", "-o", file, "--json")), &js); err != nil || !js.Draft || js.Visit != "V0001" || js.File != file {
		t.Errorf("visit dossier --json = %+v (%v)", js, err)
	}

	empty := t.TempDir()
	missing := filepath.Join(empty, "v404.pdf")
	r := d.run(nil, "visit", "dossier", "V0404", "-o", missing)
	if r.err == nil || r.err.Error() != `visit dossier: not found: unknown visit "V0404"` {
		t.Errorf("dossier of an unknown visit = %v", r.err)
	}
	noFile(t, missing)
}

func TestReportSOP(t *testing.T) {
	d := startDaemon(t).seed()
	dir := t.TempDir()
	file := filepath.Join(dir, "sop.xlsx")
	if out := d.must(nil, "report", "sop", "--from", "2026-11-01", "--until", "2026-11-02", "--format", "xlsx", "-o", file); out != "wrote the SOP compliance report to "+file+"\n" {
		t.Errorf("report sop = %q", out)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("report sop wrote %.10q (%v), want an xlsx", b, err)
	}

	empty := t.TempDir()
	out := filepath.Join(empty, "sop.pdf")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2026-10-01", "--until", "2026-10-31"}, "report sop: no visit was submitted from 2026-10-01 to 2026-10-31 (the until date included)"},
		{[]string{"--from", "2027-01-01", "--until", "2027-01-31"}, "report sop: the period starts in the future (2027-01-01; today is 2026-11-02)"},
		{[]string{"--from", "2026-11-02", "--until", "2026-11-01"}, "report sop: the period ends (2026-11-01) before it starts (2026-11-02)"},
		{[]string{"--from", "1/11/2026", "--until", "2026-11-01"}, `report sop: --from: bad date "1/11/2026": want YYYY-MM-DD such as 2026-11-01`},
		{[]string{"--from", "2026-11-01", "--until", "2026-11-02", "--format", "csv"}, `report sop: --format: want pdf or xlsx, got "csv"`},
		{[]string{"--until", "2026-11-02"}, "report sop: missing required flag --from"},
	} {
		r := d.run(nil, append(append([]string{"report", "sop"}, tt.args...), "-o", out)...)
		if r.err == nil || r.err.Error() != tt.want {
			t.Errorf("report sop %v = %v, want %q", tt.args, r.err, tt.want)
		}
		noFile(t, out)
	}
}

// TestBundleRoundTrip is the auditor's path: the site key, a bundle, and
// verify-bundle offline; then the tampered and the foreign bundles.
func TestBundleRoundTrip(t *testing.T) {
	d := startDaemon(t, withSiteKey(t)).seed()
	dir := t.TempDir()
	pub, zip := filepath.Join(dir, "site.pub"), filepath.Join(dir, "b.zip")

	stdoutKey := d.must(nil, "site", "key")
	if !strings.HasPrefix(stdoutKey, "untrusted comment: minisign public key ") {
		t.Errorf("site key = %q", stdoutKey)
	}
	d.must(nil, "site", "key", "-o", pub)
	if b, _ := os.ReadFile(pub); string(b) != stdoutKey {
		t.Errorf("site key -o wrote %q, want %q", b, stdoutKey)
	}
	out := d.must(nil, "export", "bundle", "--since", "2026-11-02T08:00:00+07:00", "--until", "2026-11-02T10:00:00+07:00", "-o", zip)
	if !strings.HasPrefix(out, "wrote a bundle of ") || !strings.HasSuffix(out, " events to "+zip+"\n") {
		t.Errorf("export bundle = %q", out)
	}
	// verify-bundle needs no pintud.
	offline := &daemon{t: t, clock: d.clock, sock: filepath.Join(dir, "no.sock")}
	got := offline.must(nil, "verify-bundle", zip, "--pub", pub)
	if !strings.HasPrefix(got, "ok: bundle of Pintu, signed by key ") || !strings.Contains(got, "events seq 1 to ") || !strings.Contains(got, "every SHA-256 matches") {
		t.Errorf("verify-bundle = %q", got)
	}
	if got := offline.must(nil, "--lang", "id", "verify-bundle", zip, "--pub", pub); !strings.Contains(got, "rantai hash utuh") {
		t.Errorf("verify-bundle in Indonesian = %q", got)
	}

	b, err := os.ReadFile(zip)
	if err != nil {
		t.Fatal(err)
	}
	tampered, truncated, foreign := filepath.Join(dir, "t.zip"), filepath.Join(dir, "cut.zip"), filepath.Join(dir, "other.pub")
	bad := bytes.Clone(b)
	bad[len(bad)/4] ^= 0x20
	os.WriteFile(tampered, bad, 0o644)
	os.WriteFile(truncated, b[:len(b)*2/3], 0o644)
	other, _ := bundle.NewKey()
	os.WriteFile(foreign, other.Public().Minisign(), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{tampered, "--pub", pub}, "verify-bundle: " + tampered + ": "},
		{[]string{truncated, "--pub", pub}, "verify-bundle: " + truncated + ": bundle: not a complete zip archive (truncated, or not a Pintu bundle)"},
		{[]string{zip, "--pub", foreign}, "verify-bundle: " + zip + ": manifest.json.minisig: signed by another key: key "},
		{[]string{zip, "--pub", filepath.Join(dir, "missing.pub")}, "verify-bundle: --pub: open "},
		{[]string{zip, "--pub", zip}, "verify-bundle: --pub " + zip + ": bundle: not a minisign Ed25519 public key"},
		{[]string{zip}, "verify-bundle: missing required flag --pub"},
	} {
		r := offline.run(nil, append([]string{"verify-bundle"}, tt.args...)...)
		if r.err == nil || !strings.HasPrefix(r.err.Error(), tt.want) {
			t.Errorf("verify-bundle %v = %v, want an error starting %q", tt.args, r.err, tt.want)
		}
	}

	empty := t.TempDir()
	none := filepath.Join(empty, "none.zip")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "2026-10-01T00:00:00Z", "--until", "2026-10-02T00:00:00Z"}, "export bundle: no audit events from 2026-10-01T00:00:00Z to 2026-10-02T00:00:00Z"},
		{[]string{"--since", "2027-01-01T00:00:00Z", "--until", "2027-01-02T00:00:00Z"}, "export bundle: the range starts in the future (2027-01-01T00:00:00Z; now is "},
		{[]string{"--since", "yesterday", "--until", "2027-01-02T00:00:00Z"}, `export bundle: --since: bad time "yesterday"`},
	} {
		r := d.run(nil, append(append([]string{"export", "bundle"}, tt.args...), "-o", none)...)
		if r.err == nil || !strings.HasPrefix(r.err.Error(), tt.want) {
			t.Errorf("export bundle %v = %v, want an error starting %q", tt.args, r.err, tt.want)
		}
		noFile(t, none)
	}
	if r := d.run(nil, "export", "bundle", "--since", "2026-11-02T08:00:00+07:00", "--until", "2026-11-02T10:00:00+07:00"); r.err == nil || r.err.Error() != "export bundle: missing required flag --o" {
		t.Errorf("export bundle without -o = %v", r.err)
	}

	noKey := startDaemon(t)
	if r := noKey.run(nil, "site", "key"); r.err == nil || r.err.Error() != "site key: this pintud has no site key" {
		t.Errorf("site key without a key = %v", r.err)
	}
}
