package report

import (
	"slices"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
)

// stayKind is what a line of a dossier's door record says.
type stayKind int

const (
	stayStep           stayKind = iota + 1 // an SOP step: shown in the step table, not the door record
	stayVisitorWaiting                     // the visitor tapped and waits for an escort
	stayVisitorDenied                      // the visitor was refused at the door
	stayVisitorEntered                     // the visitor went in with an escort
	stayEscortEntered                      // the escort's own read, logged with the visit
	stayVisitorExit                        // the visitor left
	stayEscortExit                         // the escort left while the visitor was inside
	stayExitButton                         // someone pressed the exit button during the stay
	stayAlarmRaised
	stayAlarmCleared
	stayAlarmAcked // someone acknowledged an alarm (once the log records it)
	stayLockdown
	stayLockdownReleased
	stayOther // an event of the visit of a type this paper does not know yet
)

// stayLine is one event of a visit, as its dossier shows it.
type stayLine struct {
	Seq     uint64
	Time    time.Time
	Kind    stayKind
	Person  string // who, by id
	Escort  string // for stayVisitorEntered
	Alarm   string // the alarm kind, for the alarm lines
	AlarmID string // the alarm's id (A0025), empty in logs older than alarm ids
	Reason  controller.Reason
	Door    string
	Detail  string // for stayOther
	Actor   string // who acknowledged or locked down
}

// stayLineOf says whether event e belongs to visit v's dossier and what it
// records. This is the one place that decides which events a visit's
// papers cover: every event that names the visit, and, while the visitor
// was inside, the door's alarms, lockdowns, exit-button presses and the
// escort leaving. An acknowledgement may come after the stay: it is taken
// here if it concerns the visit or its door, and the dossier keeps it only
// when the alarm it acknowledges was raised during the stay.
func stayLineOf(v controller.Visit, e controller.Event) (stayLine, bool) {
	l := stayLine{Seq: e.Seq, Time: e.Time, Person: e.Person, Door: e.Door, Reason: e.Reason, Actor: e.Actor}
	switch e.Type {
	case controller.EventAlarmRaised, controller.EventAlarmCleared, controller.EventAlarmAcked:
		l.AlarmID, l.Alarm = alarmOf(e.Detail)
	}
	if e.Type == controller.EventAlarmAcked {
		mine := e.Visit == v.ID && v.ID != ""
		atDoorSince := e.Visit == "" && e.Door == v.Door && !v.EnteredAt.IsZero() && !e.Time.Before(v.EnteredAt)
		if !mine && !atDoorSince {
			return stayLine{}, false
		}
		l.Kind = stayAlarmAcked
		return l, true
	}
	if e.Visit == v.ID && v.ID != "" {
		switch {
		case e.Type == controller.EventVisitStep:
			l.Kind = stayStep
		case e.Type == controller.EventAccess && e.Person != v.VisitorID:
			l.Kind = stayEscortEntered
		case e.Type == controller.EventAccess && e.Decision == controller.Granted:
			l.Kind, l.Escort = stayVisitorEntered, e.Actor
		case e.Type == controller.EventAccess && e.Decision == controller.Pending:
			l.Kind = stayVisitorWaiting
		case e.Type == controller.EventAccess:
			l.Kind = stayVisitorDenied
		case e.Type == controller.EventExit:
			l.Kind = stayVisitorExit
		case e.Type == controller.EventAlarmRaised:
			l.Kind = stayAlarmRaised
		case e.Type == controller.EventAlarmCleared:
			l.Kind = stayAlarmCleared
		default:
			l.Kind, l.Detail = stayOther, string(e.Type)+": "+e.Detail
		}
		return l, true
	}
	// Events that do not name the visit belong to it only while the visitor
	// was inside, at the visit's door.
	if v.EnteredAt.IsZero() || e.Time.Before(v.EnteredAt) || (!v.ExitedAt.IsZero() && e.Time.After(v.ExitedAt)) {
		return stayLine{}, false
	}
	atDoor := e.Door == v.Door
	switch {
	case e.Type == controller.EventExit && atDoor && e.Person != "" && e.Person == v.EscortedBy:
		l.Kind = stayEscortExit
	case e.Type == controller.EventRex && atDoor:
		l.Kind = stayExitButton
	case e.Type == controller.EventAlarmRaised && atDoor && e.Visit == "":
		l.Kind = stayAlarmRaised
	case e.Type == controller.EventAlarmCleared && atDoor && e.Visit == "":
		l.Kind = stayAlarmCleared
	case e.Type == controller.EventLockdown && (atDoor || e.Door == ""):
		l.Kind = stayLockdown
	case e.Type == controller.EventLockdownClear && (atDoor || e.Door == ""):
		l.Kind = stayLockdownReleased
	default:
		return stayLine{}, false
	}
	return l, true
}

// alarmOf reads an alarm event's detail, "A0025 visitor_unescorted" with
// an optional ": note", as the alarm's id and kind. Logs written before
// alarms had ids hold the kind alone.
func alarmOf(detail string) (id, kind string) {
	head, _, _ := strings.Cut(detail, ": ")
	f := strings.Fields(head)
	switch {
	case len(f) == 2 && strings.HasPrefix(f[0], "A"):
		return f[0], f[1]
	case len(f) == 1:
		return "", f[0]
	}
	return "", head
}

// sameAlarm reports whether two alarm lines are about the same alarm.
func sameAlarm(a, b stayLine) bool {
	if a.AlarmID != "" || b.AlarmID != "" {
		return a.AlarmID == b.AlarmID
	}
	return a.Alarm == b.Alarm && a.Door == b.Door
}

// keepAcks drops acknowledgements of alarms that were not raised during
// the stay: stayLineOf cannot tell on its own, an alarm's acknowledgement
// may come long after it was raised.
func keepAcks(lines []stayLine) []stayLine {
	return slices.DeleteFunc(lines, func(l stayLine) bool {
		if l.Kind != stayAlarmAcked {
			return false
		}
		return !slices.ContainsFunc(lines, func(r stayLine) bool {
			return r.Kind == stayAlarmRaised && r.Seq < l.Seq && sameAlarm(r, l)
		})
	})
}

// alarmLabel is an alarm in words with its id, which pintuctl alarm ack
// and the console use.
func (l stayLine) alarmLabel(lang Lang) string {
	if l.AlarmID == "" {
		return lang.alarmName(l.Alarm)
	}
	return l.AlarmID + " " + lang.alarmName(l.Alarm)
}

// describe is the line in words.
func (l stayLine) describe(lang Lang, who people) string {
	switch l.Kind {
	case stayStep:
		return lang.t(text{"langkah SOP", "SOP step"})
	case stayVisitorWaiting:
		return lang.f(text{"%s menempelkan kartu di pintu %s, menunggu pendamping", "%s tapped at door %s, waiting for an escort"}, who.name(l.Person), l.Door)
	case stayVisitorDenied:
		return lang.f(text{"%s ditolak di pintu %s: %s", "%s refused at door %s: %s"}, who.name(l.Person), l.Door, lang.reasonName(l.Reason))
	case stayVisitorEntered:
		return lang.f(text{"%s masuk melalui pintu %s didampingi %s", "%s entered through door %s escorted by %s"}, who.name(l.Person), l.Door, who.name(l.Escort))
	case stayEscortEntered:
		return lang.f(text{"pendamping %s masuk melalui pintu %s", "escort %s entered through door %s"}, who.name(l.Person), l.Door)
	case stayVisitorExit:
		return lang.f(text{"%s keluar melalui pintu %s", "%s left through door %s"}, who.name(l.Person), l.Door)
	case stayEscortExit:
		return lang.f(text{"pendamping %s keluar melalui pintu %s", "escort %s left through door %s"}, who.name(l.Person), l.Door)
	case stayExitButton:
		return lang.f(text{"tombol keluar ditekan di pintu %s", "exit button pressed at door %s"}, l.Door)
	case stayAlarmRaised:
		return lang.f(text{"ALARM: %s", "ALARM: %s"}, l.alarmLabel(lang))
	case stayAlarmCleared:
		return lang.f(text{"alarm selesai: %s", "alarm cleared: %s"}, l.alarmLabel(lang))
	case stayAlarmAcked:
		return lang.f(text{"alarm %s diakui oleh %s", "alarm %s acknowledged by %s"}, l.alarmLabel(lang), who.name(l.Actor))
	case stayLockdown:
		return lang.f(text{"penguncian pintu %s oleh %s", "lockdown of door %s by %s"}, dashed(l.Door), who.name(l.Actor))
	case stayLockdownReleased:
		return lang.f(text{"penguncian pintu %s dicabut oleh %s", "lockdown of door %s released by %s"}, dashed(l.Door), who.name(l.Actor))
	}
	return strings.TrimSpace(l.Detail)
}

func dashed(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
