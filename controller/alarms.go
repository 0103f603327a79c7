package controller

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// AlarmKind names an alarm.
type AlarmKind string

// The alarms.
const (
	AlarmVisitorUnescorted AlarmKind = "visitor_unescorted"
	AlarmOverstay          AlarmKind = "overstay"
	AlarmForcedOpen        AlarmKind = "forced_open"
	AlarmHeldOpen          AlarmKind = "held_open"
	AlarmClockUnsynced     AlarmKind = "clock_unsynced"
	AlarmTamper            AlarmKind = "tamper"
	AlarmStorageFailure    AlarmKind = "storage_failure"
	AlarmMQTTDown          AlarmKind = "mqtt_down"
	// The log or a record failed its integrity check: entry is refused
	// until a head accepts the break (pintuctl integrity accept), which
	// ends and acknowledges it.
	AlarmIntegrity AlarmKind = "integrity"
)

// alarmKinds says, for each alarm, whether a person must acknowledge it
// before it leaves the list. A new alarm is one entry here.
var alarmKinds = map[AlarmKind]struct{ needsAck bool }{
	AlarmVisitorUnescorted: {needsAck: true},
	AlarmOverstay:          {needsAck: true}, // an SOP breach the coordinator must see
	AlarmForcedOpen:        {needsAck: true},
	AlarmTamper:            {needsAck: true},
	AlarmStorageFailure:    {needsAck: true},
	AlarmIntegrity:         {needsAck: true},
	AlarmHeldOpen:          {}, // the door closing ends it
	AlarmClockUnsynced:     {}, // the clock syncing ends it; every event records the clock's trust
	AlarmMQTTDown:          {}, // a warning: the door works without a broker; reconnecting ends it
}

// AlarmKinds lists every alarm kind, ordered by name.
func AlarmKinds() []AlarmKind { return slices.Sorted(maps.Keys(alarmKinds)) }

// NeedsAck reports whether an alarm of kind k stays listed until a person
// acknowledges it.
func (k AlarmKind) NeedsAck() bool { return alarmKinds[k].needsAck }

// ackRoles may acknowledge alarms.
var ackRoles = []Role{RoleCoordinator, RoleHead}

// Alarm is a listed alarm: active (its cause is present), or cleared and
// waiting for a person to acknowledge it. An alarm leaves the list when its
// cause is gone and, if its kind needs one, it was acknowledged. Raising,
// clearing and acknowledging are each an audit event, and listed alarms
// survive a restart.
type Alarm struct {
	// ID is "A" and the seq of the event that raised the alarm: unique, and
	// it names the event.
	ID     string    `json:"id"`
	Kind   AlarmKind `json:"kind"`
	Door   string    `json:"door,omitempty"`
	Person string    `json:"person,omitempty"`
	Visit  string    `json:"visit,omitempty"`
	Since  time.Time `json:"since"`
	Detail string    `json:"detail,omitempty"`
	// Active is true while the cause is present.
	Active    bool      `json:"active"`
	ClearedAt time.Time `json:"cleared_at,omitzero"`
	NeedsAck  bool      `json:"needs_ack"`
	AckedBy   string    `json:"acked_by,omitempty"`
	AckedAt   time.Time `json:"acked_at,omitzero"`
	AckNote   string    `json:"ack_note,omitempty"`
}

// Acked reports whether someone acknowledged the alarm.
func (a Alarm) Acked() bool { return a.AckedBy != "" }

func (a Alarm) key() string { return string(a.Kind) + "|" + a.Door + "|" + a.Person + "|" + a.Visit }

func alarmID(seq uint64) string { return fmt.Sprintf("A%04d", seq) }

// detail is the audit detail of an alarm event: its id and kind.
func (a Alarm) detail() string { return a.ID + " " + string(a.Kind) }

func (st *step) alarmEvent(t EventType, a Alarm, actor, via, more string) {
	d := a.detail()
	if more != "" {
		d += ": " + more
	}
	st.emit(Event{Type: t, Door: a.Door, Person: a.Person, Visit: a.Visit, Actor: actor, Via: via, Detail: d})
}

// raise raises an alarm unless the same one (kind, door, person, visit) is
// active. The same one cleared but not yet acknowledged is raised again
// under its id, so that a door forced open again and again is one alarm.
func (st *step) raise(a Alarm) {
	var again *Alarm
	for _, x := range st.alarmSet() {
		if x.key() != a.key() {
			continue
		}
		if x.Active {
			return
		}
		again = &x
	}
	if again != nil {
		x := *again
		x.Active, x.ClearedAt = true, time.Time{}
		st.setAlarm(x)
		st.alarmEvent(EventAlarmRaised, x, "", "", "again")
		return
	}
	a.ID, a.Since, a.Active, a.NeedsAck = alarmID(st.nextSeq()), st.now.UTC(), true, a.Kind.NeedsAck()
	st.alarmEvent(EventAlarmRaised, a, "", "", a.Detail)
	st.setAlarm(a)
}

// clear ends the cause of every active alarm of kind that match reports
// true for. An alarm that needs no acknowledgement, or was acknowledged,
// leaves the list.
func (st *step) clear(kind AlarmKind, match func(Alarm) bool) {
	set := st.alarmSet()
	var hit []string
	for id, a := range set {
		if a.Kind == kind && a.Active && match(a) {
			hit = append(hit, id)
		}
	}
	slices.Sort(hit)
	for _, id := range hit {
		a := st.alarmSet()[id]
		a.Active, a.ClearedAt = false, st.now.UTC()
		st.alarmEvent(EventAlarmCleared, a, "", "", "")
		if !a.NeedsAck || a.Acked() {
			st.dropAlarm(id)
		} else {
			st.setAlarm(a)
		}
	}
}

// ack is a person acknowledging an alarm.
func (s *state) ack(now time.Time, id string, by Actor, note string) (*step, Alarm, error) {
	p, err := s.actor(by)
	if err != nil {
		return nil, Alarm{}, err
	}
	if !slices.ContainsFunc(ackRoles, p.Has) {
		return nil, Alarm{}, fmt.Errorf("%w: %s (%s) may not acknowledge alarms: that is for a coordinator or the head", ErrWrongRole, p.ID, rolesText(p.Roles))
	}
	id = strings.TrimSpace(id)
	a, ok := s.alarms[id]
	if !ok {
		if s.storage != nil && s.storage.alarm.ID == id {
			return nil, Alarm{}, fmt.Errorf("%w: alarm %s: the audit log cannot be written now; acknowledge it once it can", ErrStorage, id)
		}
		return nil, Alarm{}, fmt.Errorf("%w: unknown alarm %q (pintuctl alarm list shows the listed ones)", ErrNotFound, id)
	}
	if a.Acked() {
		return nil, Alarm{}, fmt.Errorf("%w: alarm %s was already acknowledged by %s at %s", ErrAlready, id, a.AckedBy, a.AckedAt.UTC().Format(time.RFC3339))
	}
	note = strings.TrimSpace(note)
	st := s.begin(now)
	a.AckedBy, a.AckedAt, a.AckNote = p.ID, now.UTC(), note
	st.alarmEvent(EventAlarmAcked, a, p.ID, by.via(), note)
	if a.Active {
		st.setAlarm(a)
	} else {
		st.dropAlarm(id)
	}
	return st, a, nil
}

// listAlarms returns the listed alarms, the storage failure's included,
// oldest first.
func (s *state) listAlarms() []Alarm {
	out := make([]Alarm, 0, len(s.alarms)+1)
	for _, a := range s.alarms {
		out = append(out, a)
	}
	if s.storage != nil {
		out = append(out, s.storage.alarm)
	}
	slices.SortFunc(out, func(a, b Alarm) int { return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.ID, b.ID)) })
	return out
}

// storageFailure is the storage_failure alarm while commits fail.
type storageFailure struct {
	alarm  Alarm
	failed int // commits that failed
	err    error
}

// storageFailed records a failed commit: the first raises the
// storage_failure alarm, in memory only, under the id its raise event will
// have once a commit succeeds (nothing is committed meanwhile, so the log's
// next seq stays the same). It reports whether this failure raised it.
func (s *state) storageFailed(now time.Time, err error) bool {
	if s.storage != nil {
		s.storage.failed++
		s.storage.err = err
		return false
	}
	s.storage = &storageFailure{failed: 1, err: err, alarm: Alarm{
		ID: alarmID(s.lastSeq + 1), Kind: AlarmStorageFailure, Since: now.UTC(), Active: true, NeedsAck: true,
	}}
	return true
}

// recordStorageFailure writes the storage failure that ends with this
// step's commit: raised when it began, cleared now.
func (st *step) recordStorageFailure(f *storageFailure) {
	a := f.alarm
	a.ID = alarmID(st.nextSeq())
	a.Detail = fmt.Sprintf("%d commits failed since %s: %v", f.failed, a.Since.Format(time.RFC3339), f.err)
	st.alarmEvent(EventAlarmRaised, a, "", "", a.Detail)
	a.Active, a.ClearedAt = false, st.now.UTC()
	st.alarmEvent(EventAlarmCleared, a, "", "", "the audit log is written again")
	st.setAlarm(a)
}
