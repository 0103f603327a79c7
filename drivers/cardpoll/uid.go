package cardpoll

import (
	"fmt"
	"time"
)

// UID is a card's unique identifier as the card sent it: 4, 7 or 10 bytes,
// cascade tags removed.
type UID []byte

// String returns the UID as uppercase hex without separators, for example
// "04A1B2C3D4E5F6".
func (u UID) String() string {
	return fmt.Sprintf("%X", []byte(u))
}

// holdOff decides which reads Run reports: a UID is fresh when it was not
// seen during the last d.
type holdOff struct {
	d    time.Duration
	seen map[string]time.Time // UID bytes to last time a poll saw it
}

func newHoldOff(d time.Duration) *holdOff {
	return &holdOff{d: d, seen: make(map[string]time.Time)}
}

// see records that uid answered a poll at now and reports whether it had
// been absent for at least the hold-off, so that it should be reported.
func (h *holdOff) see(uid UID, now time.Time) bool {
	k := string(uid)
	last, ok := h.seen[k]
	h.seen[k] = now
	return !ok || now.Sub(last) >= h.d
}

// forget drops UIDs not seen for the hold-off, so the map stays small.
func (h *holdOff) forget(now time.Time) {
	for k, last := range h.seen {
		if now.Sub(last) >= h.d {
			delete(h.seen, k)
		}
	}
}
