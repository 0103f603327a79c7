package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/config"
)

// The console's own certificate: made once, kept across restarts (so a
// browser that trusted it keeps trusting it), renewed near its end, and its
// fingerprint logged every start.
func TestConsoleCert(t *testing.T) {
	dir := t.TempDir()
	cc := &config.Console{Listen: "127.0.0.1:8443"}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	now := time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)
	first, err := consoleCert(cc, dir, now, log)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate does not name the listen address: %v", err)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Errorf("certificate does not name localhost: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, consoleKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	sum := sha256.Sum256(first.Certificate[0])
	if !strings.Contains(logs.String(), "sha256="+fingerprint(sum[:])) {
		t.Errorf("log lacks the fingerprint %s:\n%s", fingerprint(sum[:]), logs.String())
	}
	if fp := fingerprint(sum[:]); len(fp) != 95 || strings.Count(fp, ":") != 31 {
		t.Errorf("fingerprint %q is not 32 hex pairs", fp)
	}
	again, err := consoleCert(cc, dir, now.Add(24*time.Hour), log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], first.Certificate[0]) {
		t.Error("a restart made a new certificate")
	}
	renewed, err := consoleCert(cc, dir, leaf.NotAfter.Add(-24*time.Hour), log)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(renewed.Certificate[0], first.Certificate[0]) {
		t.Error("a certificate a day from its end was not renewed")
	}
	// A configured certificate is used as it is.
	cfgDir := t.TempDir()
	if err := makeCert(filepath.Join(cfgDir, "c.pem"), filepath.Join(cfgDir, "k.pem"), "127.0.0.1:1", now); err != nil {
		t.Fatal(err)
	}
	mine, err := consoleCert(&config.Console{Listen: ":8443", CertFile: filepath.Join(cfgDir, "c.pem"), KeyFile: filepath.Join(cfgDir, "k.pem")}, t.TempDir(), now, log)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(filepath.Join(cfgDir, "c.pem"))
	if !bytes.Contains(c, []byte("BEGIN CERTIFICATE")) || len(mine.Certificate) == 0 {
		t.Error("the configured certificate was not loaded")
	}
	// A damaged certificate file is an error naming it, not a silent new one.
	os.WriteFile(filepath.Join(dir, consoleCertFile), []byte("junk"), 0o644)
	if _, err := consoleCert(cc, dir, now, log); err == nil || !strings.Contains(err.Error(), consoleCertFile) {
		t.Errorf("damaged certificate = %v, want an error naming it", err)
	}
}
