package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/bundle"
	"github.com/pintu/pintu/controller/report"
)

// siteBundle writes the bundle of the site's day from 09:10 (mid-log) on.
func siteBundle(t *testing.T, s *site, key *bundle.Key) ([]byte, bundle.Manifest) {
	t.Helper()
	visits, err := s.ctrl.AllVisits(context.Background())
	s.must(err)
	var b bytes.Buffer
	m, err := report.WriteBundle(context.Background(), &b, key, report.BundleInput{
		Site: "Diskominfo Rejang Lebong", Log: s.store, Since: t0.Add(10 * time.Minute), Until: t0.Add(3 * time.Hour),
		Location: zone(t, "Asia/Jakarta"), People: s.people(), Visits: visits, Created: s.clock.Now()})
	s.must(err)
	return b.Bytes(), m
}

type entry struct {
	name string
	data []byte
}

func unzip(t *testing.T, z []byte) []entry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{f.Name, b})
	}
	return out
}

func rezip(t *testing.T, es []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBundleContents(t *testing.T) {
	s := newSite(t)
	s.day()
	key, err := bundle.NewKey()
	s.must(err)
	z, m := siteBundle(t, s, key)
	if _, err := bundle.Verify(bytes.NewReader(z), int64(len(z)), key.Public()); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	var first, last, before controller.Event
	var n uint64
	s.must(s.store.Events(controller.EventQuery{}, func(e controller.Event) error {
		switch {
		case e.Time.Before(t0.Add(10 * time.Minute)):
			before = e
		case first.Seq == 0:
			first, last, n = e, e, 1
		default:
			last, n = e, n+1
		}
		return nil
	}))
	if m.FirstSeq != first.Seq || m.FirstPrev != before.Hash || m.LastSeq != last.Seq || m.LastHash != last.Hash || m.Events != n || m.FirstSeq == 1 {
		t.Errorf("manifest seq %d-%d prev %.8s last %.8s events %d; want %d-%d prev %.8s last %.8s events %d",
			m.FirstSeq, m.LastSeq, m.FirstPrev, m.LastHash, m.Events, first.Seq, last.Seq, before.Hash, last.Hash, n)
	}
	var names []string
	for _, e := range unzip(t, z) {
		names = append(names, e.name)
	}
	// V0001 was submitted before the range but acted on in it: its dossier
	// is there, built from the range's events.
	want := []string{"events.jsonl", "events.csv", "visits/V0001.pdf", "visits/V0002.pdf", "visits/V0003.pdf", "README.txt",
		"SHA256SUMS", "SHA256SUMS.minisig", "manifest.json", "manifest.json.minisig"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("bundle holds %v, want %v", names, want)
	}
	for _, e := range unzip(t, z) {
		if e.name == "visits/V0003.pdf" {
			if got := pdfText(t, e.data); !strings.Contains(got, "KONSEP / DRAFT") || !strings.Contains(got, "Hasan Basri (hasan)") {
				t.Errorf("V0003's dossier in the bundle lacks the draft mark or the approver:\n%s", got)
			}
		}
	}
}

// TestBundleTamper edits each file of a bundle, and the archive itself:
// verify-bundle's check fails and names what failed; where a standard tool
// applies (minisign for the signed files, sha256sum for the others), it
// fails too.
func TestBundleTamper(t *testing.T) {
	s := newSite(t)
	s.day()
	key, err := bundle.NewKey()
	s.must(err)
	z, _ := siteBundle(t, s, key)
	orig := unzip(t, z)

	flip := func(b []byte) []byte {
		c := bytes.Clone(b)
		c[len(c)/2] ^= 0x01
		return c
	}
	editEvent := func(b []byte) []byte {
		lines := bytes.SplitAfter(b, []byte("\n"))
		lines[3] = bytes.Replace(lines[3], []byte(`"clock_trusted":true`), []byte(`"clock_trusted":false`), 1)
		return bytes.Join(lines, nil)
	}
	tests := []struct {
		file  string
		edit  func([]byte) []byte
		want  string
		check string // the standard tool that must refuse: "minisign" of the file, or "sha256sum"
	}{
		{"events.jsonl", flip, "events.jsonl: does not match the manifest's SHA-256", "sha256sum"},
		{"events.jsonl", editEvent, "hash does not match the event's contents", "sha256sum"},
		{"events.csv", flip, "events.csv: does not match the manifest's SHA-256", "sha256sum"},
		{"visits/V0001.pdf", flip, "visits/V0001.pdf: does not match the manifest's SHA-256", "sha256sum"},
		{"README.txt", flip, "README.txt: does not match the manifest's SHA-256", "sha256sum"},
		{"manifest.json", flip, "manifest.json.minisig: signature does not verify", "minisign"},
		{"SHA256SUMS", flip, "SHA256SUMS.minisig: signature does not verify", "minisign"},
		{"manifest.json.minisig", flip, "manifest.json.minisig:", "minisign"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			es := make([]entry, len(orig))
			copy(es, orig)
			found := false
			for i := range es {
				if es[i].name == tt.file {
					es[i].data, found = tt.edit(es[i].data), true
				}
			}
			if !found {
				t.Fatalf("no %s in the bundle", tt.file)
			}
			bad := rezip(t, es)
			_, err := bundle.Verify(bytes.NewReader(bad), int64(len(bad)), key.Public())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
			standardToolRefuses(t, es, key, tt.file, tt.check)
		})
	}

	t.Run("archive byte", func(t *testing.T) {
		bad := bytes.Clone(z)
		bad[len(bad)/3] ^= 0x40
		if _, err := bundle.Verify(bytes.NewReader(bad), int64(len(bad)), key.Public()); err == nil {
			t.Fatal("Verify of an archive with a byte changed = nil")
		}
	})
	t.Run("file added", func(t *testing.T) {
		bad := rezip(t, append(orig[:len(orig):len(orig)], entry{"visits/V0099.pdf", []byte("%PDF-1.4")}))
		if _, err := bundle.Verify(bytes.NewReader(bad), int64(len(bad)), key.Public()); err == nil || !strings.Contains(err.Error(), "visits/V0099.pdf: not listed in the manifest") {
			t.Fatalf("Verify with a file added = %v", err)
		}
	})
	t.Run("file removed", func(t *testing.T) {
		var es []entry
		for _, e := range orig {
			if e.name != "visits/V0002.pdf" {
				es = append(es, e)
			}
		}
		bad := rezip(t, es)
		if _, err := bundle.Verify(bytes.NewReader(bad), int64(len(bad)), key.Public()); err == nil || !strings.Contains(err.Error(), "visits/V0002.pdf: listed in the manifest but missing") {
			t.Fatalf("Verify with a file removed = %v", err)
		}
	})
}

// standardToolRefuses extracts es and runs the standard check that covers
// file: it must fail.
func standardToolRefuses(t *testing.T, es []entry, key *bundle.Key, file, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed; .ci/run installs it", tool)
		}
		t.Logf("%s not installed; skipping the standard tool's check", tool)
		return
	}
	dir := t.TempDir()
	for _, e := range es {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		s := errors.Join(os.MkdirAll(filepath.Dir(p), 0o755), os.WriteFile(p, e.data, 0o644))
		if s != nil {
			t.Fatal(s)
		}
	}
	pub := filepath.Join(t.TempDir(), "site.pub")
	if err := os.WriteFile(pub, key.Public().Minisign(), 0o644); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch tool {
	case "minisign":
		signed := strings.TrimSuffix(file, bundle.SigExt)
		cmd = exec.Command("minisign", "-Vm", signed, "-p", pub)
	case "sha256sum":
		cmd = exec.Command("sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS")
	}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("%v accepted the bundle with %s edited:\n%s", cmd.Args, file, out)
	}
	if tool == "sha256sum" && !strings.Contains(string(out), file+": FAILED") {
		t.Errorf("sha256sum does not name %s:\n%s", file, out)
	}
}

func TestBundleEmptyRange(t *testing.T) {
	s := newSite(t)
	s.day()
	key, err := bundle.NewKey()
	s.must(err)
	var b bytes.Buffer
	_, err = report.WriteBundle(context.Background(), &b, key, report.BundleInput{Site: "X", Log: s.store,
		Since: t0.Add(-48 * time.Hour), Until: t0.Add(-24 * time.Hour)})
	if !errors.Is(err, report.ErrEmptyRange) || b.Len() != 0 {
		t.Fatalf("WriteBundle of an empty range = %v, wrote %d bytes; want ErrEmptyRange and nothing", err, b.Len())
	}
}
