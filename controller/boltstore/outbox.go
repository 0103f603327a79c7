package boltstore

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
)

// commitRemote writes a change's keys and replay records.
func commitRemote(b buckets, c controller.Change) error {
	for _, k := range c.Keys {
		if err := putID(b.keys, "key", k.ID, k); err != nil {
			return err
		}
	}
	for _, r := range c.Commands {
		if err := putID(b.commands, "command", r.ID, r); err != nil {
			return err
		}
	}
	for _, id := range c.Forget {
		if id == "" {
			return errors.New("forget without a command id")
		}
		if err := b.commands.Delete([]byte(id)); err != nil {
			return fmt.Errorf("forget %q: %w", id, err)
		}
	}
	return nil
}

// Pending returns up to limit events of the outbox, oldest first: those
// committed while Options.Outbox was on and not yet acknowledged with Ack.
func (s *Store) Pending(limit int) ([]controller.Event, error) {
	var evs []controller.Event
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		c := b.outbox.Cursor()
		for k, _ := c.First(); k != nil && len(evs) < limit; k, _ = c.Next() {
			v := b.events.Get(k)
			if v == nil {
				seq, _ := decodeSeq(k)
				return fmt.Errorf("outbox holds event %d, which the log does not", seq)
			}
			e, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: pending: %w", err)
	}
	return evs, nil
}

// Ack removes events from the outbox once the broker has them. Acking an
// event that is not in the outbox does nothing.
func (s *Store) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx).outbox
		for _, seq := range seqs {
			if err := b.Delete(seqKey(seq)); err != nil {
				return fmt.Errorf("event %d: %w", seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: ack: %w", err)
	}
	return nil
}
