package main_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/storetest"
)

// exitRefused is the exit status pintud's package comment documents for a
// state file a person must deal with.
const exitRefused = 3

// TestDamagedStateFile: on a damaged pintu.db, or one from a newer pintud,
// pintud does not panic and does not start: it prints one line naming the
// file and what to do, exits 3 (which systemd is told not to restart on),
// and leaves the file as it was.
func TestDamagedStateFile(t *testing.T) {
	pintud, _ := binaries(t)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"leaf page header zeroed", func(t *testing.T, path string) {
			id := eventLeafPage(t, path)
			patch(t, path, int64(id*os.Getpagesize()), make([]byte, 16))
		}, "restore a backup of pintu.db"},
		{"truncated to half", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "restore a backup of pintu.db"},
		{"both meta pages zeroed", func(t *testing.T, path string) {
			patch(t, path, 0, make([]byte, 2*os.Getpagesize()))
		}, "restore a backup of pintu.db"},
		{"written by a newer pintud", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 1<<20))
			}); err != nil {
				t.Fatal(err)
			}
		}, "run the newer pintud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			path := filepath.Join(data, "pintu.db")
			writeStateFile(t, path)
			tt.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			var stdout, stderr bytes.Buffer
			cmd := exec.Command(pintud, "-sim", "-data", data)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitRefused {
				t.Fatalf("pintud on a damaged state file: %v, want exit status %d\n%s", err, exitRefused, stderr.String())
			}
			out := strings.TrimSuffix(stderr.String(), "\n")
			if strings.Contains(out, "\n") || stdout.Len() > 0 || !strings.HasPrefix(out, "pintud: ") ||
				!strings.Contains(out, path) || !strings.Contains(out, tt.want) || strings.Contains(out, "panic") {
				t.Errorf("pintud said %q on stderr and %q on stdout; want one line on stderr naming %s and saying %q",
					out, stdout.String(), path, tt.want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("pintud changed the damaged state file")
			}
		})
	}
}

// writeStateFile writes a state file with a person, a card and 600 events.
func writeStateFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Chain(controller.Event{}, 600)
	if err := s.Commit(controller.Change{
		Events: evs,
		People: []controller.Person{{ID: "ofc", Name: "Officer", Roles: []controller.Role{controller.RoleOfficer}}},
		Cards:  []controller.Card{{ID: "2001", PersonID: "ofc", AssignedAt: storetest.EventTime(1)}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// eventLeafPage returns the id of a leaf page of the events bucket: a leaf
// whose first key is a seq and whose first value is an event.
func eventLeafPage(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	le := binary.LittleEndian
	for id := 2; (id+1)*ps <= len(raw); id++ {
		p := raw[id*ps : (id+1)*ps]
		if le.Uint64(p) != uint64(id) || le.Uint16(p[8:]) != 0x02 || le.Uint16(p[10:]) == 0 {
			continue
		}
		pos, ksize := le.Uint32(p[20:]), le.Uint32(p[24:])
		if ksize == 8 && bytes.HasPrefix(p[16+pos+ksize:], []byte(`{"seq":`)) {
			return id
		}
	}
	t.Fatal("no leaf page of the events bucket in the state file")
	return 0
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
