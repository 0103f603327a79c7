package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
)

// commitRemote writes a change's replay records.
func commitRemote(b *buckets, c controller.Change) error {
	for _, r := range c.Commands {
		if err := putID(b.commands(), "command", r.ID, r); err != nil {
			return err
		}
	}
	for _, id := range c.Forget {
		if id == "" {
			return errors.New("forget without a command id")
		}
		if err := b.commands().Delete([]byte(id)); err != nil {
			return fmt.Errorf("forget %q: %w", id, err)
		}
	}
	return nil
}

// The outbox is the events after the MQTT broker's acknowledged-up-to
// watermark. Ack moves the watermark in memory only; the next Commit
// writes it in its own transaction, and Close writes it at the end. So
// draining a backlog costs no write transaction of its own, and no fsync
// queues ahead of a card read's commit. After a crash the watermark may be
// behind what the broker had: those events are published again, which
// MQTT's at-least-once delivery allows for (an event's seq tells them
// apart). With Options.Outbox off, the watermark follows the log: it is
// set to the log's end when the file is opened and when it is closed (not
// at every commit: a page less to write and fsync on a card read's path),
// so events written while the link was off are not published when it is
// turned on, but for those of a run that ended in a crash.

// commitAcked writes the watermark in a commit's transaction when Ack
// moved it.
func (s *Store) commitAcked(b *buckets, last uint64) error {
	w := s.acked.Load()
	if !s.outbox {
		s.acked.Store(last)
		return nil
	}
	if w <= s.stored.Load() {
		return nil
	}
	if err := b.meta().Put(keyAcked, binary.BigEndian.AppendUint64(nil, w)); err != nil {
		return fmt.Errorf("outbox watermark: %w", err)
	}
	s.stored.Store(w)
	return nil
}

// writeAcked writes the watermark in a transaction of its own.
func (s *Store) writeAcked() error {
	w := s.acked.Load()
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyAcked, binary.BigEndian.AppendUint64(nil, w))
	})
	if err == nil {
		s.stored.Store(w)
	}
	return err
}

// Pending returns up to limit events after the outbox's watermark, oldest
// first.
func (s *Store) Pending(limit int) ([]controller.Event, error) {
	if !s.outbox {
		return nil, nil
	}
	evs := make([]controller.Event, 0, min(limit, s.batch))
	errFull := errors.New("full")
	err := s.Events(controller.EventQuery{FromSeq: s.acked.Load() + 1}, func(e controller.Event) error {
		evs = append(evs, e)
		if len(evs) == limit {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, fmt.Errorf("boltstore: pending: %w", err)
	}
	return evs, nil
}

// Ack moves the outbox's watermark to upTo: the broker has every event up
// to it. The watermark never moves back, nor past the log's end.
func (s *Store) Ack(upTo uint64) error {
	var last uint64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		last, _, err = lastEventSeq(bucketsOf(tx).events())
		return err
	})
	if err != nil {
		return fmt.Errorf("boltstore: ack: %w", err)
	}
	upTo = min(upTo, last)
	for {
		w := s.acked.Load()
		if upTo <= w || s.acked.CompareAndSwap(w, upTo) {
			return nil
		}
	}
}

func lastEventSeq(events *bolt.Bucket) (uint64, string, error) {
	k, _ := events.Cursor().Last()
	if k == nil {
		return 0, "", nil
	}
	seq, err := decodeSeq(k)
	return seq, "", err
}
