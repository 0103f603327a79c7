package controller

import (
	"context"
	"time"
)

// SetTamper reports the door's enclosure tamper switch: tampered raises the
// tamper alarm, a closed enclosure clears it. Reporting the same state again
// changes nothing.
func (c *Controller) SetTamper(ctx context.Context, door string, tampered bool) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.tamper(now, door, tampered) })
}

func (s *state) tamper(now time.Time, name string, tampered bool) (*txn, error) {
	if _, err := s.door(name); err != nil {
		return nil, err
	}
	tx := s.begin(now)
	s.housekeep(tx)
	if tampered {
		s.raise(tx, Alarm{Kind: AlarmTamper, Door: name})
	} else {
		s.clear(tx, AlarmTamper, func(a Alarm) bool { return a.Door == name })
	}
	return tx, nil
}
