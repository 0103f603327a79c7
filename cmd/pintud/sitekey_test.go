package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSiteKeyCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	k1, err := siteKey(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "site.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("site.key: mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if !strings.Contains(logs.String(), "key_id="+k1.Public().IDString()) {
		t.Errorf("first start logs %q, want the new key's id", logs.String())
	}
	logs.Reset()
	k2, err := siteKey(dir, log)
	if err != nil || k2.Public().IDString() != k1.Public().IDString() || logs.Len() != 0 {
		t.Errorf("second start: key %s (%v), logs %q; want the same key, quietly", k2.Public().IDString(), err, logs.String())
	}
}
