package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/anchor"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/storetest"
)

// writeLog writes a closed state file at path holding evs.
func writeLog(t *testing.T, path string, evs []controller.Event) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) > 0 {
		if err := s.Commit(controller.Change{Events: evs, People: []controller.Person{{ID: "budi", Name: "Budi"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// dirState is every file in dir with its SHA-256, to show nothing changed.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:])
	}
	return out
}

func TestRestore(t *testing.T) {
	logA := storetest.Chain(controller.Event{}, 80)
	// Another site's log: a different first event, so a different chain.
	first := storetest.Chain(controller.Event{}, 1)[0]
	first.Door, first.Hash = "gudang", ""
	first.Hash = first.ComputeHash()
	logB := append([]controller.Event{first}, storetest.Chain(first, 40)...)

	src := t.TempDir()
	backup50 := filepath.Join(src, "a-50.db")
	writeLog(t, backup50, logA[:50])
	backupOther := filepath.Join(src, "b.db")
	writeLog(t, backupOther, logB)
	truncated := filepath.Join(src, "truncated.db")
	writeLog(t, truncated, logA)
	fi, _ := os.Stat(truncated)
	os.Truncate(truncated, fi.Size()/4)
	notDB := filepath.Join(src, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 500)), 0o600)
	empty := filepath.Join(src, "empty.db")
	os.WriteFile(empty, nil, 0o600)

	tests := []struct {
		name    string
		dir     func(t *testing.T, dir string) // what the state directory holds before
		file    string
		force   bool
		wantErr string // empty: restored
		kept    bool   // the replaced file is kept beside the new one
		// replaced is the seq of the anchor before, when the restore must
		// keep it in the new anchor for pintud to record (0: none).
		replaced uint64
	}{
		{name: "into an empty directory", file: backup50},
		{name: "over the same log, shorter", dir: func(t *testing.T, dir string) {
			writeLog(t, filepath.Join(dir, dbName), logA[:30])
			writeAnchor(t, dir, logA[0].Hash, logA[29])
		}, file: backup50, kept: true},
		{name: "over a damaged file", dir: func(t *testing.T, dir string) {
			writeLog(t, filepath.Join(dir, dbName), logA)
			p := filepath.Join(dir, dbName)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/3)
		}, file: backup50, kept: true},
		{name: "over the same log, longer", dir: func(t *testing.T, dir string) { writeLog(t, filepath.Join(dir, dbName), logA) },
			file: backup50, wantErr: "is intact and holds 80 events, the backup only 50"},
		{name: "over the same log, longer, forced", dir: func(t *testing.T, dir string) {
			writeLog(t, filepath.Join(dir, dbName), logA)
			writeAnchor(t, dir, logA[0].Hash, logA[79])
		}, file: backup50, force: true, kept: true, replaced: 80},
		{name: "another site", dir: func(t *testing.T, dir string) { writeLog(t, filepath.Join(dir, dbName), logA[:10]) },
			file: backupOther, wantErr: "holds another log than"},
		{name: "another site, forced", dir: func(t *testing.T, dir string) {
			writeLog(t, filepath.Join(dir, dbName), logA[:10])
			writeAnchor(t, dir, logA[0].Hash, logA[9])
		}, file: backupOther, force: true, kept: true, replaced: 10},
		{name: "truncated backup", file: truncated, wantErr: "truncated.db cannot be restored, nothing was changed"},
		{name: "truncated backup over a good file", dir: func(t *testing.T, dir string) { writeLog(t, filepath.Join(dir, dbName), logA[:10]) },
			file: truncated, force: true, wantErr: "cannot be restored, nothing was changed"},
		{name: "not a database", file: notDB, wantErr: "notes.txt cannot be restored"},
		{name: "empty file", file: empty, wantErr: "the file is empty"},
		{name: "missing file", file: filepath.Join(src, "nope.db"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if tt.dir != nil {
				tt.dir(t, dir)
			}
			before := dirState(t, dir)
			args := []string{"-restore", tt.file, "-data", dir}
			if tt.force {
				args = append(args, "-force")
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != exitFailure {
					t.Fatalf("pintud %s = %v (exit %d), want an error containing %q, exit 1", strings.Join(args, " "), err, exitCode(err), tt.wantErr)
				}
				if after := dirState(t, dir); !mapsEqual(before, after) {
					t.Errorf("refused, but the state directory changed:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("pintud %s = %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			want, err := boltstore.VerifyFile(tt.file, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := boltstore.VerifyFile(filepath.Join(dir, dbName), 0)
			if err != nil || got.Events != want.Events || got.Last.Hash != want.Last.Hash {
				t.Errorf("restored file: %d events to %s (%v), want the backup's %d to %s", got.Events, got.Last.Hash, err, want.Events, want.Last.Hash)
			}
			if fi, err := os.Stat(filepath.Join(dir, dbName)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("restored file mode %v (%v), want 0600", fi.Mode(), err)
			}
			var names []string
			for n := range dirState(t, dir) {
				names = append(names, n)
			}
			slices.Sort(names)
			keptNames := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !strings.HasPrefix(n, dbName+".before-restore-") })
			if (len(keptNames) == 1) != tt.kept || len(names) != 2+len(keptNames) || !slices.Contains(names, anchorName) {
				t.Errorf("state directory holds %q; want %s, %s and %v file kept from before", names, dbName, anchorName, tt.kept)
			}
			// The anchor names the restored log, and the one it replaced
			// when the restore left part of that out.
			a, err := anchor.Read(filepath.Join(dir, anchorName))
			if err != nil || a.Log != want.First.Hash || a.Seq != want.Last.Seq || a.Hash != want.Last.Hash {
				t.Errorf("anchor after the restore = %+v, %v; want log %.8s at seq %d", a, err, want.First.Hash, want.Last.Seq)
			}
			switch {
			case tt.replaced == 0 && a.Replaced != nil:
				t.Errorf("anchor keeps %v as replaced; want none", a.Replaced)
			case tt.replaced != 0 && (a.Replaced == nil || a.Replaced.Seq != tt.replaced):
				t.Errorf("anchor keeps %v as replaced; want the anchor at seq %d", a.Replaced, tt.replaced)
			}
			if tt.kept && len(keptNames) == 1 {
				if before[dbName] != dirState(t, dir)[keptNames[0]] {
					t.Errorf("%s is not the file that was there before", keptNames[0])
				}
			}
			if !strings.Contains(stdout.String(), "restored "+tt.file) {
				t.Errorf("stdout = %q, want it to say what was restored", stdout.String())
			}
		})
	}
}

// writeAnchor writes the anchor of a log whose first event has hash id,
// at its event last.
func writeAnchor(t *testing.T, dir, id string, last controller.Event) {
	t.Helper()
	if err := anchor.Write(filepath.Join(dir, anchorName), anchor.Anchor{Log: id, Site: "Diskominfo", Seq: last.Seq, Hash: last.Hash, Time: last.Time}); err != nil {
		t.Fatal(err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRestoreWhileRunning: a state directory a pintud holds is refused.
func TestRestoreWhileRunning(t *testing.T) {
	src := filepath.Join(t.TempDir(), "b.db")
	writeLog(t, src, storetest.Chain(controller.Event{}, 5))
	dir := t.TempDir()
	s, err := boltstore.Open(filepath.Join(dir, dbName), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := dirState(t, dir)
	err = run(context.Background(), []string{"-restore", src, "-data", dir}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "a running pintud holds") || !strings.Contains(err.Error(), "systemctl stop pintud") {
		t.Errorf("restore into a running pintud's directory = %v, want a refusal saying to stop it", err)
	}
	if after := dirState(t, dir); !mapsEqual(before, after) {
		t.Error("refused, but the state directory changed")
	}
}

func TestRestoreUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-restore", "b.db"},
		{"-force", "-data", "x"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if exitCode(err) != exitUsage {
			t.Errorf("pintud %q = %v (exit %d), want a usage error (exit %d)", args, err, exitCode(err), exitUsage)
		}
	}
}
