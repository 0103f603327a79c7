package boltstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

// oldFile is what a schema 3 file held, read raw from its JSON.
type oldFile struct {
	events  []controller.Event
	people  map[string]controller.Person
	cards   map[string]controller.Card
	visits  map[string]controller.Visit
	keys    map[string]controller.Key
	inside  []controller.Occupant
	alarms  []controller.Alarm
	doors   []controller.DoorRecord
	pending uint64 // the oldest event not acknowledged; 0 for none
}

func readOld(t *testing.T, path string) oldFile {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o := oldFile{people: map[string]controller.Person{}, cards: map[string]controller.Card{},
		visits: map[string]controller.Visit{}, keys: map[string]controller.Key{}}
	err = db.View(func(tx *bolt.Tx) error {
		dec := func(bucket string, fn func(k, v []byte) error) error {
			return tx.Bucket([]byte(bucket)).ForEach(fn)
		}
		if err := dec("events", func(_, v []byte) error {
			var e controller.Event
			o.events = append(o.events, e)
			return json.Unmarshal(v, &o.events[len(o.events)-1])
		}); err != nil {
			return err
		}
		for bucket, fn := range map[string]func(k, v []byte) error{
			"people": func(k, v []byte) error {
				var x controller.Person
				err := json.Unmarshal(v, &x)
				o.people[string(k)] = x
				return err
			},
			"cards": func(k, v []byte) error {
				var x controller.Card
				err := json.Unmarshal(v, &x)
				o.cards[string(k)] = x
				return err
			},
			"visits": func(k, v []byte) error {
				var x controller.Visit
				err := json.Unmarshal(v, &x)
				o.visits[string(k)] = x
				return err
			},
			"keys": func(k, v []byte) error {
				var x controller.Key
				err := json.Unmarshal(v, &x)
				o.keys[string(k)] = x
				return err
			},
			"inside": func(_, v []byte) error {
				var x controller.Occupant
				err := json.Unmarshal(v, &x)
				o.inside = append(o.inside, x)
				return err
			},
			"alarms": func(_, v []byte) error {
				var x controller.Alarm
				err := json.Unmarshal(v, &x)
				o.alarms = append(o.alarms, x)
				return err
			},
			"doors": func(_, v []byte) error {
				var x controller.DoorRecord
				err := json.Unmarshal(v, &x)
				o.doors = append(o.doors, x)
				return err
			},
		} {
			if err := dec(bucket, fn); err != nil {
				return fmt.Errorf("%s: %w", bucket, err)
			}
		}
		if k, _ := tx.Bucket([]byte("outbox")).Cursor().First(); k != nil {
			o.pending, _ = decodeSeq(k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// schema3File copies the schema 3 file the release before this one wrote.
func schema3File(t *testing.T) string {
	t.Helper()
	f, err := os.Open("testdata/schema3.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := tempPath(t)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkMigrated checks a migrated file against what it held before: every
// event as it was (its hash unchanged) and the chain whole, every record
// with the same content, sealed by an event of its own that names its
// digest, the small state as it was, and the outbox's watermark just
// before the oldest event the broker had not acknowledged.
func checkMigrated(t *testing.T, s *Store, old oldFile) {
	t.Helper()
	evs := readAll(t, s)
	if len(evs) < len(old.events) {
		t.Fatalf("%d events after migration, want the %d before and more", len(evs), len(old.events))
	}
	if diff := cmp.Diff(old.events, evs[:len(old.events)]); diff != "" {
		t.Errorf("events after migration mismatch (-want +got):\n%s", diff)
	}
	var v controller.Verifier
	for _, e := range evs {
		if err := v.Next(e); err != nil {
			t.Fatalf("chain after migration: %v", err)
		}
	}
	sealedBy := map[controller.RecordRef]uint64{}
	for _, e := range evs[len(old.events):] {
		for _, r := range e.Records {
			if e.Type != controller.EventRecordSealed || len(e.Records) != 1 {
				t.Errorf("event %d (%s) seals %v; want only record_sealed events, one record each", e.Seq, e.Type, e.Records)
			}
			if _, twice := sealedBy[r]; twice {
				t.Errorf("record %s %s sealed twice", r.Kind, r.ID)
			}
			sealedBy[r] = e.Seq
		}
	}
	if last := evs[len(evs)-1]; last.Type != controller.EventCheckpoint {
		t.Errorf("last event after migration = %s, want the migration's checkpoint", last.Type)
	}
	sealed := func(r controller.SealedRecord) {
		t.Helper()
		if seq, ok := sealedBy[r.Ref()]; !ok || seq != r.Seq {
			t.Errorf("%s %s carries seq %d; the event sealing its digest is %d (found %v)", r.Kind, r.ID, r.Seq, seq, ok)
		}
	}
	ignoreSeq := cmpopts.IgnoreFields(controller.Person{}, "Seq")
	for id, want := range old.people {
		got, ok, err := s.Person(id)
		if err != nil || !ok || !cmp.Equal(want, got, ignoreSeq) {
			t.Errorf("person %s after migration = %+v, %v, %v; want %+v", id, got, ok, err, want)
		}
		sealed(got.Sealed())
	}
	for id, want := range old.cards {
		got, ok, err := s.Card(id)
		if err != nil || !ok || !cmp.Equal(want, got, cmpopts.IgnoreFields(controller.Card{}, "Seq")) {
			t.Errorf("card %s after migration = %+v, %v, %v; want %+v", id, got, ok, err, want)
		}
		sealed(got.Sealed())
	}
	for id, want := range old.visits {
		got, ok, err := s.Visit(id)
		if err != nil || !ok || !cmp.Equal(want, got, cmpopts.IgnoreFields(controller.Visit{}, "Seq")) {
			t.Errorf("visit %s after migration = %+v, %v, %v; want %+v", id, got, ok, err, want)
		}
		// A window given in +07:00 keeps its zone, so its digest is the
		// digest of what was there.
		if want.Seq = got.Seq; want.Sealed().Digest != got.Sealed().Digest {
			t.Errorf("visit %s: digest changed by the migration", id)
		}
		sealed(got.Sealed())
	}
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Keys) != len(old.keys) {
		t.Errorf("%d keys after migration, want %d", len(snap.Keys), len(old.keys))
	}
	for _, k := range snap.Keys {
		if !cmp.Equal(old.keys[k.ID], k, cmpopts.IgnoreFields(controller.Key{}, "Seq")) {
			t.Errorf("key %s after migration = %+v, want %+v", k.ID, k, old.keys[k.ID])
		}
		sealed(k.Sealed())
	}
	if snap.NumPeople != len(old.people) {
		t.Errorf("Load().NumPeople = %d, want %d", snap.NumPeople, len(old.people))
	}
	if diff := cmp.Diff(old.inside, snap.Inside, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("inside after migration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(old.alarms, snap.Alarms, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("alarms after migration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(old.doors, snap.Doors, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("doors after migration (-want +got):\n%s", diff)
	}
	cp := snap.Integrity.Checkpoint
	if len(snap.Integrity.Breaks) != 0 || cp.Seq != uint64(len(evs)-1) || cp.Hash != evs[len(evs)-2].Hash {
		t.Errorf("integrity state after migration = %+v, want no break and verified to seq %d", snap.Integrity, len(evs)-1)
	}
	if old.pending != 0 && s.acked.Load() != old.pending-1 {
		t.Errorf("outbox watermark after migration = %d, want %d", s.acked.Load(), old.pending-1)
	}
}

// TestMigrateRelease: the file the release before this one wrote (made by
// that release, kept in testdata) migrates with nothing lost, and a
// controller on it decides as before and finds nothing to complain of.
func TestMigrateRelease(t *testing.T) {
	path := schema3File(t)
	old := readOld(t, path)
	if len(old.events) < 600 || len(old.people) < 40 || len(old.visits) != 3 || old.pending == 0 {
		t.Fatalf("the fixture holds %d events, %d people, %d visits, outbox from %d; want what its README says",
			len(old.events), len(old.people), len(old.visits), old.pending)
	}
	s := openTest(t, path, &Options{Outbox: true})
	checkMigrated(t, s, old)

	ctrl, err := controller.New(controller.DefaultConfig(), s, nil, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rep, err := ctrl.Verify(ctx, nil)
	if err != nil || len(rep.Breaks) != 0 || rep.Records != len(old.people)+len(old.cards)+len(old.visits)+len(old.keys) {
		t.Errorf("Verify() after migration = %+v, %v; want no break and every record checked", rep, err)
	}
	// The door is in lockdown, as it was: a staff read is refused for it;
	// staff01's card is revoked-free and known.
	if r, err := ctrl.Tap(ctx, "server-room", "entry", "C-01"); err != nil || r.Decision != controller.Denied || r.Reason != controller.ReasonLockdown {
		t.Errorf("a staff read after migration = %+v, %v; want denied lockdown (the door was locked down)", r, err)
	}
	if _, err := ctrl.Lockdown(ctx, "", controller.Actor{Person: "koor", Via: controller.ViaSocket}, false); err != nil {
		t.Fatal(err)
	}
	for card, want := range map[string]controller.Reason{"C-01": "", "C-05": controller.ReasonRevoked, "C-NOBODY": controller.ReasonUnknownCard} {
		r, err := ctrl.Tap(ctx, "server-room", "entry", card)
		if err != nil || r.Reason != want {
			t.Errorf("read of %s after migration = %+v, %v; want reason %q", card, r, err, want)
		}
	}
}

// oldEvents writes n events and the records of people people, in the JSON
// of schema 3, with an outbox of its last 100 events: a large file of the
// release before this one, written as it wrote it.
func writeOld(t testing.TB, path string, n, people int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		for _, b := range []string{"people", "cards", "visits", "inside", "events", "keys", "commands", "outbox", "alarms", "doors"} {
			if _, err := tx.CreateBucket([]byte(b)); err != nil {
				return err
			}
		}
		if err := putCounter(meta, keySchema, 3); err != nil {
			return err
		}
		for i := range people {
			p := controller.Person{ID: fmt.Sprintf("p%05d", i), Name: fmt.Sprintf("Pegawai %d", i), Roles: []controller.Role{controller.RoleOfficer}, Org: "Diskominfo"}
			c := controller.Card{ID: fmt.Sprintf("%08d", i), PersonID: p.ID, AssignedAt: storetest.EventTime(1)}
			if err := put(tx.Bucket([]byte("people")), []byte(p.ID), p); err != nil {
				return err
			}
			if err := put(tx.Bucket([]byte("cards")), []byte(c.ID), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var last controller.Event
	for done := 0; done < n; {
		k := min(20000, n-done)
		evs := storetest.Chain(last, k)
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("events"))
			b.FillPercent = 1
			for _, e := range evs {
				if err := put(b, seqKey(e.Seq), e); err != nil {
					return err
				}
				if e.Seq > uint64(n-100) {
					if err := tx.Bucket([]byte("outbox")).Put(seqKey(e.Seq), nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		done += k
		last = evs[k-1]
	}
}

// TestMigrationChild is the process TestMigrateKillLoop kills: it opens the
// file it is given, which migrates it.
func TestMigrationChild(t *testing.T) {
	path := os.Getenv("PINTU_MIGRATE_FILE")
	if path == "" {
		t.Skip("run by TestMigrateKillLoop")
	}
	s, err := Open(path, &Options{Outbox: true}) // a site with MQTT: the outbox is kept
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestMigrateKillLoop kills the migration of a large schema 3 file with
// SIGKILL at random points, again and again, then lets it finish: nothing
// is lost, nothing is sealed twice, the chain holds.
func TestMigrateKillLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("migrates a large file many times")
	}
	const events, people, kills = 60000, 3000, 8
	path := tempPath(t)
	writeOld(t, path, events, people)
	old := readOld(t, path)

	// How long a whole migration takes here, on a copy, and how long the
	// child takes to open a file with nothing to migrate: the kills land
	// between the two, a third of the work apart, so most land in the
	// middle of a migration that earlier kills left part done.
	probe := filepath.Join(t.TempDir(), "probe.db")
	copyPath(t, path, probe)
	start := time.Now()
	runChild(t, probe, 0)
	full := time.Since(start)
	start = time.Now()
	runChild(t, probe, 0)
	idle := time.Since(start)

	seed := rand.Uint64()
	t.Logf("a whole migration takes %v, opening a migrated file %v; seed %d", full.Round(time.Millisecond), idle.Round(time.Millisecond), seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	killed := 0
	for range kills {
		after := idle + time.Duration(rng.Int64N(int64(max(full-idle, time.Millisecond)/3)))
		if !runChild(t, path, after) {
			break // it finished
		}
		killed++
	}
	t.Logf("%d runs killed before they finished", killed)
	if killed < 3 {
		t.Fatalf("only %d kills landed before the migration finished (seed %d)", killed, seed)
	}
	s := openTest(t, path, &Options{Outbox: true})
	checkMigrated(t, s, old)
}

// runChild migrates path in a child process, killed with SIGKILL after
// kill if that is not zero. It reports whether the child was killed.
func runChild(t *testing.T, path string, kill time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrationChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PINTU_MIGRATE_FILE="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if kill > 0 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("migration child: %v\n%s", err, &out)
			}
			return false
		case <-time.After(kill):
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	err := <-done
	if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
		return true
	}
	if err != nil || !strings.Contains(out.String(), "ok") && !strings.Contains(out.String(), "PASS") {
		t.Fatalf("migration child: %v\n%s", err, &out)
	}
	return false
}

func copyPath(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
