package storetest

import (
	"fmt"
	"time"

	"github.com/pintu/pintu/controller"
)

// epoch is the time of the event with seq 1 built by Chain.
var epoch = time.Date(2025, time.March, 3, 8, 0, 0, 0, time.UTC)

// wib is Western Indonesia Time. Some events carry it so that stores are seen
// to keep an event's instant through their encoding, whatever its zone.
var wib = time.FixedZone("WIB", 7*60*60)

// EventTime is the time Chain gives the event with sequence number seq: one
// minute per event from 2025-03-03 08:00 UTC.
func EventTime(seq uint64) time.Time {
	t := epoch.Add(time.Duration(seq-1) * time.Minute)
	if seq%2 == 0 {
		t = t.In(wib)
	}
	return t
}

// eventTypes cycles the content of the events Chain builds.
var eventTypes = []controller.EventType{
	controller.EventAccess, controller.EventUnlock, controller.EventDoorOpen,
	controller.EventDoorClose, controller.EventRelock, controller.EventExit,
}

// Chain returns n events that follow after in the hash chain: their Seq
// continues from after.Seq, the first one's Prev is after.Hash, and every Hash
// is the event's ComputeHash. Pass the zero Event to start a log at seq 1.
// The events' times are EventTime(seq); their content is deterministic.
func Chain(after controller.Event, n int) []controller.Event {
	evs := make([]controller.Event, n)
	prev := after
	for i := range evs {
		seq := prev.Seq + 1
		e := controller.Event{
			Seq:          seq,
			Time:         EventTime(seq),
			Type:         eventTypes[int(seq%uint64(len(eventTypes)))],
			Door:         "server-room",
			Reader:       "entry",
			Card:         fmt.Sprintf("card-%03d", seq%13),
			Person:       fmt.Sprintf("p%03d", seq%11),
			ClockTrusted: seq%5 != 0,
			Prev:         prev.Hash,
		}
		if e.Type == controller.EventAccess {
			e.Decision = controller.Granted
			if seq%3 == 0 {
				e.Decision, e.Reason = controller.Denied, controller.ReasonEscortRequired
			}
		}
		e.Hash = e.ComputeHash()
		evs[i] = e
		prev = e
	}
	return evs
}

// Seal returns c with one record_sealed event, chained after after, for
// each person, card, visit and key it writes, and the records carrying
// their event's seq, as the controller would have written them: a store
// filled with it starts a controller without integrity breaks. Events c
// already has come first.
func Seal(after controller.Event, c controller.Change) controller.Change {
	if n := len(c.Events); n > 0 {
		after = c.Events[n-1]
	}
	c.Events = append([]controller.Event(nil), c.Events...)
	seal := func(r controller.SealedRecord) {
		e := controller.Event{Seq: after.Seq + 1, Time: EventTime(after.Seq + 1).UTC(), Type: controller.EventRecordSealed,
			Detail: "test fixture", ClockTrusted: true, Prev: after.Hash, Records: []controller.RecordRef{r.Ref()}}
		e.Hash = e.ComputeHash()
		c.Events = append(c.Events, e)
		after = e
	}
	c.People = append([]controller.Person(nil), c.People...)
	for i := range c.People {
		c.People[i].Seq = after.Seq + 1
		seal(c.People[i].Sealed())
	}
	c.Cards = append([]controller.Card(nil), c.Cards...)
	for i := range c.Cards {
		c.Cards[i].Seq = after.Seq + 1
		seal(c.Cards[i].Sealed())
	}
	c.Visits = append([]controller.Visit(nil), c.Visits...)
	for i := range c.Visits {
		c.Visits[i].Seq = after.Seq + 1
		seal(c.Visits[i].Sealed())
	}
	c.Keys = append([]controller.Key(nil), c.Keys...)
	for i := range c.Keys {
		c.Keys[i].Seq = after.Seq + 1
		seal(c.Keys[i].Sealed())
	}
	return c
}
