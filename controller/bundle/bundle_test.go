package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/bundle"
	"github.com/pintu/pintu/controller/storetest"
)

var created = time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)

// build writes a bundle of evs (which follow prev) and one more file.
func build(t *testing.T, key *bundle.Key, evs []controller.Event, prev string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := bundle.NewWriter(&b, key, created)
	f, err := w.Create(bundle.EventsName)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		e.Time = e.Time.UTC()
		line, _ := json.Marshal(e)
		f.Write(append(line, '\n'))
	}
	f, err = w.Create("notes/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("halo\n"))
	_, err = w.Close(bundle.Manifest{Site: "Kantor \"Pusat\"", Created: created, Since: evs[0].Time, Until: evs[len(evs)-1].Time.Add(time.Second),
		TimeZone: "Asia/Jakarta", FirstSeq: evs[0].Seq, LastSeq: evs[len(evs)-1].Seq, Events: uint64(len(evs)),
		FirstPrev: prev, LastHash: evs[len(evs)-1].Hash})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustKey(t *testing.T) *bundle.Key {
	t.Helper()
	k, err := bundle.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// chain is events 11..30 of a log: the bundle starts mid-log.
func chain() ([]controller.Event, string) {
	all := storetest.Chain(controller.Event{}, 30)
	return all[10:], all[9].Hash
}

func TestVerifyMidLog(t *testing.T) {
	key := mustKey(t)
	evs, prev := chain()
	z := build(t, key, evs, prev)
	m, err := bundle.Verify(bytes.NewReader(z), int64(len(z)), key.Public())
	if err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
	if m.FirstSeq != 11 || m.LastSeq != 30 || m.Events != 20 || m.FirstPrev != prev || m.KeyID != key.Public().IDString() {
		t.Errorf("manifest = %+v", m)
	}
	if len(m.Files) != 2 || m.Files[0].Name != bundle.EventsName || m.Files[1].Name != "notes/hello.txt" {
		t.Errorf("manifest files = %+v", m.Files)
	}
}

// TestMinisignVerifies checks the signature with Debian's minisign and the
// sums with coreutils, as the README tells an auditor to.
func TestMinisignVerifies(t *testing.T) {
	for _, tool := range []string{"minisign", "sha256sum", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed; .ci/run installs it", tool)
			}
			t.Skipf("%s not installed: apt-get install -y minisign unzip", tool)
		}
	}
	key := mustKey(t)
	evs, prev := chain()
	dir := t.TempDir()
	zip := filepath.Join(dir, "bundle.zip")
	pub := filepath.Join(dir, "site.pub")
	write(t, zip, build(t, key, evs, prev))
	write(t, pub, key.Public().Minisign())
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = filepath.Join(dir, "x")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if err := os.Mkdir(filepath.Join(dir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run("unzip", "-q", zip); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	out, err := run("minisign", "-Vm", "manifest.json", "-p", pub)
	if err != nil {
		t.Fatalf("minisign -Vm manifest.json: %v\n%s", err, out)
	}
	if want := `Trusted comment: pintu bundle site="Kantor \"Pusat\"" seq=11-30 events=20 last_hash=` + evs[19].Hash; !strings.Contains(out, want) {
		t.Errorf("minisign says %q, want it to contain %q", out, want)
	}
	if out, err := run("minisign", "-Vm", "SHA256SUMS", "-p", pub); err != nil {
		t.Fatalf("minisign -Vm SHA256SUMS: %v\n%s", err, out)
	}
	if out, err := run("sha256sum", "-c", "--strict", "SHA256SUMS"); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	// And the standard tools refuse what they should.
	write(t, filepath.Join(dir, "x", "manifest.json"), bytes.Replace(read(t, filepath.Join(dir, "x", "manifest.json")), []byte(`"events": 20`), []byte(`"events": 21`), 1))
	if out, err := run("minisign", "-Vm", "manifest.json", "-p", pub); err == nil {
		t.Errorf("minisign accepted an edited manifest:\n%s", out)
	}
	write(t, filepath.Join(dir, "x", "notes", "hello.txt"), []byte("hallo\n"))
	if out, err := run("sha256sum", "-c", "--strict", "SHA256SUMS"); err == nil || !strings.Contains(out, "notes/hello.txt: FAILED") {
		t.Errorf("sha256sum -c on an edited file: %v\n%s", err, out)
	}
	other := filepath.Join(dir, "other.pub")
	write(t, other, mustKey(t).Public().Minisign())
	if out, err := run("minisign", "-Vm", "SHA256SUMS", "-p", other); err == nil {
		t.Errorf("minisign accepted another site's key:\n%s", out)
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyChainProblems(t *testing.T) {
	key := mustKey(t)
	tests := []struct {
		name string
		edit func(evs []controller.Event, prev string) ([]controller.Event, string)
		want string
	}{
		{"wrong first prev", func(evs []controller.Event, prev string) ([]controller.Event, string) {
			return evs, strings.Repeat("0", 64)
		}, "events.jsonl: event seq 11: prev does not match"},
		{"event missing", func(evs []controller.Event, prev string) ([]controller.Event, string) {
			return append(evs[:4:4], evs[5:]...), prev
		}, "event seq 16, want 15"},
		{"event changed and rehashed", func(evs []controller.Event, prev string) ([]controller.Event, string) {
			evs[5].Detail = "edited"
			evs[5].Hash = evs[5].ComputeHash()
			return evs, prev
		}, "events.jsonl: event seq 17: prev does not match"},
		{"event changed", func(evs []controller.Event, prev string) ([]controller.Event, string) {
			evs[5].Detail = "edited"
			return evs, prev
		}, "events.jsonl: event seq 16: hash does not match the event's contents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, prev := chain()
			evs, prev = tt.edit(evs, prev)
			// Signed by the site itself: the chain check is what catches it.
			z := build(t, key, evs, prev)
			_, err := bundle.Verify(bytes.NewReader(z), int64(len(z)), key.Public())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestVerifyOtherSite(t *testing.T) {
	evs, prev := chain()
	z := build(t, mustKey(t), evs, prev)
	mine := mustKey(t).Public()
	_, err := bundle.Verify(bytes.NewReader(z), int64(len(z)), mine)
	if !errors.Is(err, bundle.ErrOtherKey) || !strings.Contains(err.Error(), "manifest.json.minisig") || !strings.Contains(err.Error(), mine.IDString()) {
		t.Fatalf("Verify with another site's key = %v, want ErrOtherKey naming the signature and the key", err)
	}
}

func TestVerifyTruncated(t *testing.T) {
	key := mustKey(t)
	evs, prev := chain()
	z := build(t, key, evs, prev)
	for _, n := range []int{0, 10, len(z) / 2, len(z) - 1} {
		_, err := bundle.Verify(bytes.NewReader(z[:n]), int64(n), key.Public())
		if err == nil || !strings.Contains(err.Error(), "not a complete zip archive") {
			t.Errorf("Verify of the first %d of %d bytes = %v, want \"not a complete zip archive\"", n, len(z), err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, bundle.KeyFile)
	k1, created, err := bundle.LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey (new) = %v, created %v", err, created)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	k2, created, err := bundle.LoadOrCreateKey(path)
	if err != nil || created {
		t.Fatalf("LoadOrCreateKey (again) = %v, created %v", err, created)
	}
	if !k1.Public().Key.Equal(k2.Public().Key) || k1.Public().ID != k2.Public().ID {
		t.Error("the key changed between starts")
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bundle.LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadOrCreateKey of a group-readable key = %v, want a refusal", err)
	}
	write(t, path, []byte("not a key"))
	os.Chmod(path, 0o600)
	if _, _, err := bundle.LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("LoadOrCreateKey of garbage = %v, want an error", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state directory holds %d files, want only the key", len(entries))
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := mustKey(t).Public()
	file := pub.Minisign()
	line := strings.Split(string(file), "\n")[1]
	for _, in := range []string{string(file), line, line + "\n", "\n" + string(file)} {
		got, err := bundle.ParsePublicKey([]byte(in))
		if err != nil || !got.Key.Equal(pub.Key) || got.ID != pub.ID {
			t.Errorf("ParsePublicKey(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "untrusted comment: x\n", "RWQ=", "-----BEGIN PUBLIC KEY-----", strings.Replace(line, "R", "S", 1)} {
		if _, err := bundle.ParsePublicKey([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKey(%q) = nil error, want one", bad)
		}
	}
}

func TestWriterRefusesBadNames(t *testing.T) {
	w := bundle.NewWriter(new(bytes.Buffer), mustKey(t), created)
	for _, name := range []string{"", "/etc/passwd", "../x", "a/../../x", bundle.ManifestName, bundle.SumsName + bundle.SigExt} {
		if _, err := w.Create(name); err == nil {
			t.Errorf("Create(%q) = nil error, want one", name)
		}
	}
	if _, err := w.Create("a.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create("a.txt"); err == nil {
		t.Error("Create of the same name twice = nil error, want one")
	}
}
