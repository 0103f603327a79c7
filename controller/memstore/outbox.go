package memstore

import (
	"errors"
	"slices"

	"github.com/pintu/pintu/controller"
)

// EnableOutbox makes the outbox hold the events committed from now on
// until Ack passes them, as boltstore does with Options.Outbox. It returns
// s.
func (s *Store) EnableOutbox() *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outboxOn = true
	s.acked = uint64(len(s.events))
	return s
}

// Pending returns up to limit events after the outbox's watermark, oldest
// first.
func (s *Store) Pending(limit int) ([]controller.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.outboxOn {
		return nil, nil
	}
	evs := s.events[min(s.acked, uint64(len(s.events))):]
	return slices.Clone(evs[:min(limit, len(evs))]), nil
}

// Ack moves the outbox's watermark to upTo: every event up to it is
// acknowledged. A watermark never moves back.
func (s *Store) Ack(upTo uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked = max(s.acked, min(upTo, uint64(len(s.events))))
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
	if !s.outboxOn {
		s.acked = uint64(len(s.events))
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
