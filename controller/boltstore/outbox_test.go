package boltstore

import (
	"encoding/binary"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.Outbox {
		return openTest(t, tempPath(t), &Options{Outbox: true, NoSync: true})
	})
}

// TestOutboxSurvivesReopen: what was not acknowledged is still pending after
// the file is closed without acking, as after a crash.
func TestOutboxSurvivesReopen(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, &Options{Outbox: true})
	evs := storetest.Chain(controller.Event{}, 4)
	mustCommit(t, s, controller.Change{Events: evs})
	if err := s.Ack(1); err != nil { // in memory; Close writes it
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, &Options{Outbox: true})
	got, err := s.Pending(10)
	if err != nil || len(got) != 3 || got[0].Seq != 2 || got[2].Seq != 4 {
		t.Fatalf("Pending(10) after reopen = %d events from %v, %v; want seqs 2..4", len(got), got, err)
	}
	// Without Options.Outbox the watermark follows the log: nothing waits,
	// and events written while the link was off are not published later.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, nil)
	mustCommit(t, s, controller.Change{Events: storetest.Chain(evs[3], 1)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, &Options{Outbox: true})
	if got, _ := s.Pending(10); len(got) != 0 {
		t.Errorf("Pending(10) after a commit without Outbox = %d events, want 0", len(got))
	}
}

// TestMigrateSchema1: a file from before remote commands gains their buckets
// and keeps its log.
func TestMigrateSchema1(t *testing.T) {
	path := tempPath(t)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketPeople, bucketCards, bucketVisitsOld, bucketInside, bucketEvents} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		e := storetest.Chain(controller.Event{}, 1)[0]
		return put(tx.Bucket(bucketEvents), seqKey(1), e)
	})
	s := openTest(t, path, &Options{Outbox: true})
	snap, err := s.Load()
	if err != nil || snap.Last.Seq != 2 || snap.Last.Type != controller.EventCheckpoint {
		t.Fatalf("Load() after migration = last event %+v, %v; want the migration's checkpoint, 2", snap.Last, err)
	}
	mustCommit(t, s, controller.Change{Events: storetest.Chain(snap.Last, 1),
		Keys: []controller.Key{{ID: "ed25519:0123456789abcdef", PersonID: "p", Public: make([]byte, 32)}}})
	// The migration's own events (its checkpoint) are pending too.
	if got, _ := s.Pending(10); len(got) != 2 || got[0].Seq != 2 || got[1].Seq != snap.Last.Seq+1 {
		t.Errorf("Pending after migration = %v, want the migration's checkpoint and the event committed after it", got)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)); v != schemaVersion() {
			return fmt.Errorf("schema version %d, want %d", v, schemaVersion())
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
