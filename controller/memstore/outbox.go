package memstore

import (
	"errors"
	"slices"

	"github.com/pintu/pintu/controller"
)

// EnableOutbox makes later commits queue their events in the outbox until
// Ack removes them, as boltstore does with Options.Outbox. It returns s.
func (s *Store) EnableOutbox() *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outboxOn = true
	return s
}

// Pending returns up to limit unacknowledged events of the outbox, oldest
// first.
func (s *Store) Pending(limit int) ([]controller.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.outbox))
	evs := make([]controller.Event, 0, n)
	for _, seq := range s.outbox[:n] {
		evs = append(evs, s.events[seq-1])
	}
	return evs, nil
}

// Ack removes events from the outbox.
func (s *Store) Ack(seqs ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = slices.DeleteFunc(s.outbox, func(q uint64) bool { return slices.Contains(seqs, q) })
	return nil
}

// commitRemote applies the remote command records of a checked change and
// queues its events; the caller holds the lock.
func (s *Store) commitRemote(c controller.Change) {
	for _, k := range c.Keys {
		s.keys[k.ID] = cloneKey(k)
	}
	for _, r := range c.Commands {
		s.commands[r.ID] = r
	}
	for _, id := range c.Forget {
		delete(s.commands, id)
	}
	if s.outboxOn {
		for _, e := range c.Events {
			s.outbox = append(s.outbox, e.Seq)
		}
	}
}

func checkRemote(c controller.Change) error {
	for _, k := range c.Keys {
		if k.ID == "" {
			return errors.New("key without an id")
		}
	}
	for _, r := range c.Commands {
		if r.ID == "" {
			return errors.New("command without an id")
		}
	}
	for _, id := range c.Forget {
		if id == "" {
			return errors.New("forget without a command id")
		}
	}
	return nil
}

func cloneKey(k controller.Key) controller.Key {
	k.Public = slices.Clone(k.Public)
	return k
}
