package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

var (
	key1 = controller.Key{ID: "ed25519:0123456789abcdef", PersonID: "p-budi", Public: make([]byte, 32), AddedAt: at}
	key2 = controller.Key{ID: "ed25519:fedcba9876543210", PersonID: "p-budi", Public: []byte("0123456789abcdef0123456789abcdef"), AddedAt: at.Add(time.Minute)}
	cmd1 = controller.CommandRecord{ID: "cmd-aaaaaaaaaaaaaaaa", Until: at.Add(7 * time.Second)}
	cmd2 = controller.CommandRecord{ID: "cmd-bbbbbbbbbbbbbbbb", Until: at.Add(time.Hour)}
)

// testRemoteRecords: keys upsert, the replay cache keeps what Commands adds
// and drops what Forget names, in that order.
func testRemoteRecords(t *testing.T, s controller.Store) {
	var c chain
	mustCommit(t, s, controller.Change{Events: c.next(1), Keys: []controller.Key{key2, key1}, Commands: []controller.CommandRecord{cmd2, cmd1}})
	key1r := key1
	key1r.Revoked, key1r.RevokedAt = true, at.Add(time.Hour)
	cmd3 := controller.CommandRecord{ID: "cmd-cccccccccccccccc", Until: at.Add(2 * time.Hour)}
	mustCommit(t, s, controller.Change{Events: c.next(1), Keys: []controller.Key{key1r},
		Commands: []controller.CommandRecord{cmd3}, Forget: []string{cmd1.ID, "cmd-never-remembered"}})
	snap := mustLoad(t, s)
	if diff := cmp.Diff([]controller.Key{key1r, key2}, snap.Keys, equateEmpty); diff != "" {
		t.Errorf("Load().Keys mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]controller.CommandRecord{cmd2, cmd3}, snap.Commands, equateEmpty); diff != "" {
		t.Errorf("Load().Commands mismatch (-want +got):\n%s", diff)
	}
	// A change that remembers and forgets the same id forgets it.
	mustCommit(t, s, controller.Change{Events: c.next(1), Commands: []controller.CommandRecord{cmd1}, Forget: []string{cmd1.ID}})
	if got := mustLoad(t, s).Commands; len(got) != 2 {
		t.Errorf("Load().Commands after remember+forget = %v, want 2 records", got)
	}
	// Keys are copied in and out.
	snap.Keys[0].Public[0] = 0xff
	if got := mustLoad(t, s).Keys[0].Public[0]; got != 0 {
		t.Errorf("Load().Keys shares memory with an earlier Load: Public[0] = %#x, want 0", got)
	}
}

func testRemoteRefused(t *testing.T, open opener) {
	for name, bad := range map[string]controller.Change{
		"key without id":     {Keys: []controller.Key{{PersonID: "p-budi"}}},
		"command without id": {Commands: []controller.CommandRecord{{Until: at}}},
		"forget empty id":    {Forget: []string{""}},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			bad.Events = Chain(controller.Event{}, 1)
			bad.People = []controller.Person{sari}
			if err := s.Commit(bad); err == nil {
				t.Fatalf("Commit(%s) = nil, want an error", name)
			}
			if diff := cmp.Diff(controller.Snapshot{}, mustLoad(t, s), equateEmpty); diff != "" {
				t.Errorf("Load() after a refused Commit mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Outbox is what the MQTT link needs of a store beyond controller.Store: the
// events committed since the outbox was enabled and not yet acknowledged.
type Outbox interface {
	controller.Store
	Pending(limit int) ([]controller.Event, error)
	Ack(upTo uint64) error
}

// RunOutbox is the conformance test of stores with an outbox. open returns a
// new, empty store with its outbox enabled.
func RunOutbox(t *testing.T, open func(t *testing.T) Outbox) {
	t.Helper()
	t.Run("Order", func(t *testing.T) {
		s := open(t)
		if got := pending(t, s, 10); len(got) != 0 {
			t.Fatalf("Pending(10) of a new store = %d events, want 0", len(got))
		}
		var c chain
		evs := c.next(5)
		mustCommit(t, s, controller.Change{Events: evs[:2]})
		mustCommit(t, s, controller.Change{Events: evs[2:]})
		if diff := cmp.Diff(evs[:3], pending(t, s, 3)); diff != "" {
			t.Errorf("Pending(3) mismatch (-want +got):\n%s", diff)
		}
		if err := s.Ack(2); err != nil {
			t.Fatalf("Ack(2) = %v", err)
		}
		if diff := cmp.Diff(evs[2:], pending(t, s, 10)); diff != "" {
			t.Errorf("Pending(10) after Ack(2) mismatch (-want +got):\n%s", diff)
		}
		// The watermark never moves back, nor past the log.
		if err := s.Ack(1); err != nil {
			t.Fatalf("Ack(1) after Ack(2) = %v, want nil", err)
		}
		if diff := cmp.Diff(evs[2:], pending(t, s, 10)); diff != "" {
			t.Errorf("Pending(10) after Ack(1) mismatch (-want +got):\n%s", diff)
		}
		if err := s.Ack(99); err != nil {
			t.Fatalf("Ack(99) = %v, want nil", err)
		}
		if got := pending(t, s, 10); len(got) != 0 {
			t.Errorf("Pending(10) after Ack(99) = %d events, want 0", len(got))
		}
		more := c.next(1)
		mustCommit(t, s, controller.Change{Events: more})
		if diff := cmp.Diff(more, pending(t, s, 10)); diff != "" {
			t.Errorf("Pending(10) after a commit past Ack(99) mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("RefusedCommitQueuesNothing", func(t *testing.T) {
		s := open(t)
		bad := controller.Change{Events: Chain(controller.Event{Seq: 5}, 1)}
		if err := s.Commit(bad); err == nil {
			t.Fatal("Commit(seq 6 on an empty log) = nil, want an error")
		}
		if got := pending(t, s, 10); len(got) != 0 {
			t.Errorf("Pending after a refused commit = %d events, want 0", len(got))
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		const n = 200
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Go(func() {
			defer close(done)
			var c chain
			for range n {
				if err := s.Commit(controller.Change{Events: c.next(1)}); err != nil {
					t.Errorf("Commit = %v", err)
					return
				}
			}
		})
		// Drain while the commits go on; once they are done, one more look
		// ends the loop, so it is bounded by the committer's n commits.
		var acked uint64
		for finished := false; acked < n; {
			evs, err := s.Pending(16)
			if err != nil {
				t.Fatalf("Pending = %v", err)
			}
			if len(evs) == 0 {
				if finished {
					break
				}
				select {
				case <-done:
					finished = true
				case <-time.After(time.Millisecond):
				}
				continue
			}
			for _, e := range evs {
				if e.Seq != acked+1 {
					t.Fatalf("Pending gave seq %d after %d acked, want %d", e.Seq, acked, acked+1)
				}
				if err := s.Ack(e.Seq); err != nil {
					t.Fatal(err)
				}
				acked = e.Seq
			}
		}
		wg.Wait()
		if acked != n {
			t.Errorf("acked %d events, want %d", acked, n)
		}
	})
}

func pending(t *testing.T, s Outbox, limit int) []controller.Event {
	t.Helper()
	evs, err := s.Pending(limit)
	if err != nil {
		t.Fatalf("Pending(%d) = %v", limit, err)
	}
	return evs
}

// testAlarmsAndDoors: listed alarms upsert by ID and leave with AlarmsGone;
// door records (lockdown) upsert by name; both survive in Load.
func testAlarmsAndDoors(t *testing.T, s controller.Store) {
	var c chain
	forced := controller.Alarm{ID: "A0002", Kind: controller.AlarmForcedOpen, Door: "server-room", Since: at, Active: true, NeedsAck: true}
	tamper := controller.Alarm{ID: "A0001", Kind: controller.AlarmTamper, Door: "server-room", Since: at, Active: true, NeedsAck: true}
	down := controller.DoorRecord{Name: "server-room", Lockdown: true, Since: at, By: "p-budi"}
	mustCommit(t, s, controller.Change{Events: c.next(1), Alarms: []controller.Alarm{forced, tamper}, Doors: []controller.DoorRecord{down}})
	cleared := forced
	cleared.Active, cleared.ClearedAt = false, at.Add(time.Minute)
	up := down
	up.Lockdown, up.Since = false, at.Add(time.Hour)
	mustCommit(t, s, controller.Change{Events: c.next(1), Alarms: []controller.Alarm{cleared}, AlarmsGone: []string{tamper.ID, "A9999"},
		Doors: []controller.DoorRecord{up}})
	snap := mustLoad(t, s)
	if diff := cmp.Diff([]controller.Alarm{cleared}, snap.Alarms, equateEmpty); diff != "" {
		t.Errorf("Load().Alarms mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]controller.DoorRecord{up}, snap.Doors, equateEmpty); diff != "" {
		t.Errorf("Load().Doors mismatch (-want +got):\n%s", diff)
	}
	// An alarm raised and gone in one change is gone.
	again := controller.Alarm{ID: "A0003", Kind: controller.AlarmHeldOpen, Door: "server-room", Since: at}
	mustCommit(t, s, controller.Change{Events: c.next(1), Alarms: []controller.Alarm{again}, AlarmsGone: []string{again.ID}})
	if got := mustLoad(t, s).Alarms; len(got) != 1 {
		t.Errorf("Load().Alarms after an alarm raised and gone at once = %+v, want only %s", got, cleared.ID)
	}
}
