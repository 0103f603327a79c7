package gpiocdev

import (
	"encoding/binary"
	"time"
)

// EventSize is sizeof(struct gpio_v2_line_event): a request's descriptor
// reads as a sequence of these.
const EventSize = 48

// Event kinds, gpio_v2_line_event_id.
const (
	RisingEdge  = 1
	FallingEdge = 2
)

// Event is one edge, struct gpio_v2_line_event.
type Event struct {
	// Time is when the kernel saw the edge, in its interrupt handler, on
	// the request's event clock (CLOCK_MONOTONIC unless
	// FlagEventClockRealtime).
	Time   time.Duration
	ID     uint32 // RisingEdge or FallingEdge
	Offset uint32 // the line's offset on its chip
	// Seqno numbers the request's events from 1 in the order they
	// happened, across its lines; LineSeqno numbers each line's.
	Seqno, LineSeqno uint32
}

// ParseEvent decodes one struct gpio_v2_line_event from b, which holds at
// least EventSize bytes in the machine's byte order.
func ParseEvent(b []byte) Event {
	ne := binary.NativeEndian
	return Event{
		Time:      time.Duration(ne.Uint64(b[0:])),
		ID:        ne.Uint32(b[8:]),
		Offset:    ne.Uint32(b[12:]),
		Seqno:     ne.Uint32(b[16:]),
		LineSeqno: ne.Uint32(b[20:]),
	}
}

// AppendEvent appends e to b as the kernel writes it: for tests and
// simulators of a request's descriptor.
func AppendEvent(b []byte, e Event) []byte {
	ne := binary.NativeEndian
	var raw [EventSize]byte
	ne.PutUint64(raw[0:], uint64(e.Time))
	ne.PutUint32(raw[8:], e.ID)
	ne.PutUint32(raw[12:], e.Offset)
	ne.PutUint32(raw[16:], e.Seqno)
	ne.PutUint32(raw[20:], e.LineSeqno)
	return append(b, raw[:]...)
}
