package boltstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

// verifyFixture writes a closed state file with people, a card and n
// chained events, and returns its path and events.
func verifyFixture(t *testing.T, n int) (string, []controller.Event) {
	t.Helper()
	path := tempPath(t)
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Chain(controller.Event{}, n)
	mustCommit(t, s, controller.Change{
		Events: evs,
		People: []controller.Person{{ID: "budi", Name: "Budi"}, {ID: "sari", Name: "Sari"}},
		Cards:  []controller.Card{{ID: "C-1", PersonID: "budi"}},
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, evs
}

func TestVerifyFile(t *testing.T) {
	path, evs := verifyFixture(t, 300)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := VerifyFile(path, 0)
	if err != nil {
		t.Fatalf("VerifyFile() = %v, want nil", err)
	}
	if info.Events != 300 || info.People != 2 || info.Cards != 1 || info.First.Hash != evs[0].Hash ||
		info.Last.Hash != evs[299].Hash || info.Size != int64(len(before)) || info.Schema != schemaVersion() {
		t.Errorf("VerifyFile() = %+v, want 300 events from %s to %s, 2 people, 1 card, %d bytes, schema %d",
			info, evs[0].Hash, evs[299].Hash, len(before), schemaVersion())
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("VerifyFile() changed the file")
	}

	empty := tempPath(t)
	s := openTest(t, empty, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := VerifyFile(empty, 0); err != nil || info.Events != 0 || info.First.Seq != 0 {
		t.Errorf("VerifyFile(new empty store) = %+v, %v; want 0 events, nil", info, err)
	}
}

// TestVerifyFileDamaged damages a state file the ways a disk, a bad copy or
// a tamperer would, and checks VerifyFile names the damage without
// panicking and without changing the file.
func TestVerifyFileDamaged(t *testing.T) {
	page := os.Getpagesize()
	overwrite := func(off int64, b []byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(b, off); err != nil {
				t.Fatal(err)
			}
		}
	}
	// truncate cuts the file to frac of the pages in use (bbolt grows the
	// file ahead of them).
	truncate := func(frac float64) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var used int64
			db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
			db.Close()
			if err := os.Truncate(path, int64(float64(used)*frac)); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw := func(fn func(tx *bolt.Tx) error) func(t *testing.T, path string) {
		return func(t *testing.T, path string) { rawUpdate(t, path, fn) }
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		is     error
		want   string
	}{
		{"empty", truncate(0), ErrDamaged, "the file is empty"},
		{"truncated to half", truncate(0.5), ErrDamaged, "truncated"},
		{"both meta pages zeroed", overwrite(0, make([]byte, 2*page)), ErrDamaged, "invalid"},
		{"leaf page header damaged", func(t *testing.T, path string) {
			// Scribble over the header of every data page: whichever holds
			// events, its page type and count are now nonsense.
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			for off := int64(3 * page); off < fi.Size(); off += int64(page) {
				overwrite(off+8, bytes.Repeat([]byte{0xa5}, 8))(t, path)
			}
		}, ErrDamaged, ""},
		{"event edited", raw(func(tx *bolt.Tx) error {
			prev, err := eventHash(tx.Bucket(bucketEvents).Get(seqKey(149)))
			if err != nil {
				return err
			}
			e, err := decodeEvent(150, tx.Bucket(bucketEvents).Get(seqKey(150)), prev)
			if err != nil {
				return err
			}
			e.Person = "someone-else"
			return tx.Bucket(bucketEvents).Put(seqKey(150), encodeEvent(e, prev))
		}), ErrDamaged, "hash chain broken at seq 150"},
		{"event removed", raw(func(tx *bolt.Tx) error { return tx.Bucket(bucketEvents).Delete(seqKey(150)) }),
			ErrDamaged, "hash chain broken at seq 150: missing"},
		{"record garbage", raw(func(tx *bolt.Tx) error { return tx.Bucket(bucketPeople).Put([]byte("budi"), []byte("{")) }),
			ErrDamaged, `person "budi": decode`},
		{"newer schema", raw(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 99})
		}), ErrNewerSchema, "schema version 99"},
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("site:\n  name: x\n", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ErrDamaged, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := verifyFixture(t, 300)
			tt.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			info, err := VerifyFile(path, 0)
			if err == nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("VerifyFile(%s) = %+v, %v; want an error naming the file, wrapping %v, containing %q", tt.name, info, err, tt.is, tt.want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("VerifyFile() changed the damaged file")
			}
		})
	}
}

func TestVerifyFileLocked(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, nil)
	_, err := VerifyFile(path, 50*time.Millisecond)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("VerifyFile(file a running store holds) = %v, want ErrLocked", err)
	}
	s.Close()
	if _, err := VerifyFile(filepath.Dir(path), 0); !errors.Is(err, ErrDamaged) {
		t.Errorf("VerifyFile(a directory) = %v, want ErrDamaged", err)
	}
	if _, err := VerifyFile(filepath.Join(t.TempDir(), "none.db"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("VerifyFile(missing file) = %v, want ErrNotExist", err)
	}
}
