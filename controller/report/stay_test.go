package report

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

// TestStayLineOf is the table of which events belong to a visit's papers
// and what the dossier says of each, in both languages.
func TestStayLineOf(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 2, 2, m, 0, 0, time.UTC) }
	v := controller.Visit{ID: "V0007", VisitForm: controller.VisitForm{VisitorID: "vina"},
		Door: "server-room", EscortedBy: "oki", EnteredAt: at(10), ExitedAt: at(40)}
	open := v
	open.ExitedAt = time.Time{}
	who := newPeople([]controller.Person{{ID: "vina", Name: "Vina Maharani"}, {ID: "oki", Name: "Oki Pratama"}, {ID: "citra", Name: "Citra Lestari"}})
	tests := []struct {
		name   string
		v      controller.Visit
		e      controller.Event
		want   bool
		kind   stayKind
		id, en string
	}{
		{"SOP step", v, controller.Event{Type: controller.EventVisitStep, Visit: "V0007", Detail: "check", Time: at(2)},
			true, stayStep, "langkah SOP", "SOP step"},
		{"visitor waits", v, controller.Event{Type: controller.EventAccess, Visit: "V0007", Person: "vina", Door: "server-room", Decision: controller.Pending, Reason: controller.ReasonWaitingForEscort, Time: at(9)},
			true, stayVisitorWaiting, "Vina Maharani (vina) menempelkan kartu di pintu server-room, menunggu pendamping", "Vina Maharani (vina) tapped at door server-room, waiting for an escort"},
		{"visitor refused", v, controller.Event{Type: controller.EventAccess, Visit: "V0007", Person: "vina", Door: "server-room", Decision: controller.Denied, Reason: controller.ReasonOutsideWindow, Time: at(1)},
			true, stayVisitorDenied, "Vina Maharani (vina) ditolak di pintu server-room: di luar jadwal kunjungan", "Vina Maharani (vina) refused at door server-room: outside the visit window"},
		{"visitor enters with escort", v, controller.Event{Type: controller.EventAccess, Visit: "V0007", Person: "vina", Door: "server-room", Decision: controller.Granted, Actor: "oki", Time: at(10)},
			true, stayVisitorEntered, "Vina Maharani (vina) masuk melalui pintu server-room didampingi Oki Pratama (oki)", "Vina Maharani (vina) entered through door server-room escorted by Oki Pratama (oki)"},
		{"escort's read logged with the visit", v, controller.Event{Type: controller.EventAccess, Visit: "V0007", Person: "oki", Door: "server-room", Decision: controller.Granted, Time: at(10)},
			true, stayEscortEntered, "pendamping Oki Pratama (oki) masuk melalui pintu server-room", "escort Oki Pratama (oki) entered through door server-room"},
		{"visitor leaves", v, controller.Event{Type: controller.EventExit, Visit: "V0007", Person: "vina", Door: "server-room", Time: at(40)},
			true, stayVisitorExit, "Vina Maharani (vina) keluar melalui pintu server-room", "Vina Maharani (vina) left through door server-room"},
		{"visit alarm", v, controller.Event{Type: controller.EventAlarmRaised, Visit: "V0007", Person: "vina", Detail: "overstay", Time: at(30)},
			true, stayAlarmRaised, "ALARM: melewati batas waktu kunjungan", "ALARM: overstay"},
		{"visit alarm with its id", v, controller.Event{Type: controller.EventAlarmRaised, Visit: "V0007", Person: "vina", Detail: "A0031 overstay", Time: at(30)},
			true, stayAlarmRaised, "ALARM: A0031 melewati batas waktu kunjungan", "ALARM: A0031 overstay"},
		{"visit alarm acknowledged with a note", v, controller.Event{Type: controller.EventAlarmAcked, Visit: "V0007", Actor: "citra", Detail: "A0031 overstay: extended: vendor", Time: at(50)},
			true, stayAlarmAcked, "alarm A0031 melewati batas waktu kunjungan diakui oleh Citra Lestari (citra)", "alarm A0031 overstay acknowledged by Citra Lestari (citra)"},
		{"door alarm acknowledged after the stay", v, controller.Event{Type: controller.EventAlarmAcked, Door: "server-room", Actor: "citra", Detail: "A0020 forced_open", Time: at(90)},
			true, stayAlarmAcked, "alarm A0020 pintu dibuka paksa diakui oleh Citra Lestari (citra)", "alarm A0020 door forced open acknowledged by Citra Lestari (citra)"},
		{"acknowledgement at another door", v, controller.Event{Type: controller.EventAlarmAcked, Door: "lab", Actor: "citra", Detail: "A0020 forced_open", Time: at(20)}, false, 0, "", ""},
		{"acknowledgement before the stay", v, controller.Event{Type: controller.EventAlarmAcked, Door: "server-room", Actor: "citra", Detail: "A0002 forced_open", Time: at(5)}, false, 0, "", ""},
		{"visit alarm cleared after the stay", v, controller.Event{Type: controller.EventAlarmCleared, Visit: "V0007", Detail: "visitor_unescorted", Time: at(41)},
			true, stayAlarmCleared, "alarm selesai: pengunjung tanpa pendamping", "alarm cleared: visitor unescorted"},
		{"unknown event type naming the visit", v, controller.Event{Type: "visitor_photo", Visit: "V0007", Detail: "taken at the desk", Time: at(42)},
			true, stayOther, "visitor_photo: taken at the desk", "visitor_photo: taken at the desk"},
		{"escort leaves during the stay", v, controller.Event{Type: controller.EventExit, Person: "oki", Door: "server-room", Time: at(20)},
			true, stayEscortExit, "pendamping Oki Pratama (oki) keluar melalui pintu server-room", "escort Oki Pratama (oki) left through door server-room"},
		{"escort leaves after the stay", v, controller.Event{Type: controller.EventExit, Person: "oki", Door: "server-room", Time: at(45)}, false, 0, "", ""},
		{"escort left before the stay", v, controller.Event{Type: controller.EventExit, Person: "oki", Door: "server-room", Time: at(5)}, false, 0, "", ""},
		{"another person's exit", v, controller.Event{Type: controller.EventExit, Person: "citra", Door: "server-room", Time: at(20)}, false, 0, "", ""},
		{"exit button during the stay", v, controller.Event{Type: controller.EventRex, Door: "server-room", Time: at(20)},
			true, stayExitButton, "tombol keluar ditekan di pintu server-room", "exit button pressed at door server-room"},
		{"exit button at another door", v, controller.Event{Type: controller.EventRex, Door: "lab", Time: at(20)}, false, 0, "", ""},
		{"door forced open during the stay", v, controller.Event{Type: controller.EventAlarmRaised, Door: "server-room", Detail: "forced_open", Time: at(20)},
			true, stayAlarmRaised, "ALARM: pintu dibuka paksa", "ALARM: door forced open"},
		{"door alarm while still inside", open, controller.Event{Type: controller.EventAlarmRaised, Door: "server-room", Detail: "tamper", Time: at(90)},
			true, stayAlarmRaised, "ALARM: gangguan fisik pada perangkat", "ALARM: tamper"},
		{"door alarm before entry", v, controller.Event{Type: controller.EventAlarmRaised, Door: "server-room", Detail: "held_open", Time: at(9)}, false, 0, "", ""},
		{"another visit's alarm", v, controller.Event{Type: controller.EventAlarmRaised, Door: "server-room", Visit: "V0008", Detail: "overstay", Time: at(20)}, false, 0, "", ""},
		{"lockdown of all doors", v, controller.Event{Type: controller.EventLockdown, Actor: "citra", Time: at(20)},
			true, stayLockdown, "penguncian pintu * oleh Citra Lestari (citra)", "lockdown of door * by Citra Lestari (citra)"},
		{"lockdown released at the door", v, controller.Event{Type: controller.EventLockdownClear, Door: "server-room", Actor: "citra", Time: at(21)},
			true, stayLockdownReleased, "penguncian pintu server-room dicabut oleh Citra Lestari (citra)", "lockdown of door server-room released by Citra Lestari (citra)"},
		{"door opening during the stay", v, controller.Event{Type: controller.EventDoorOpen, Door: "server-room", Time: at(20)}, false, 0, "", ""},
		{"a visit never entered", controller.Visit{ID: "V0009", Door: "server-room"}, controller.Event{Type: controller.EventRex, Door: "server-room", Time: at(20)}, false, 0, "", ""},
		{"an event without a visit does not match a visit without an id", controller.Visit{}, controller.Event{Type: controller.EventStarted, Time: at(20)}, false, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok := stayLineOf(tt.v, tt.e)
			if ok != tt.want {
				t.Fatalf("stayLineOf(%s) ok = %v, want %v", tt.e.Type, ok, tt.want)
			}
			if !ok {
				return
			}
			if l.Kind != tt.kind {
				t.Errorf("stayLineOf(%s) kind = %d, want %d", tt.e.Type, l.Kind, tt.kind)
			}
			if got := l.describe(Indonesian, who); got != tt.id {
				t.Errorf("describe(id) = %q, want %q", got, tt.id)
			}
			if got := l.describe(English, who); got != tt.en {
				t.Errorf("describe(en) = %q, want %q", got, tt.en)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Rudi \u202eHacker": "Rudi \uFFFDHacker",
		"a\tb":              "a b",
		"bell\a":            "bell\uFFFD",
		"two\nlines":        "two\nlines",
		"Müller 漢":          "Müller 漢",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAlarmRowsPairByID(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 2, 2, m, 0, 0, time.UTC) }
	lines := keepAcks([]stayLine{
		{Seq: 10, Kind: stayAlarmRaised, AlarmID: "A0010", Alarm: "forced_open", Door: "server-room", Time: at(10)},
		{Seq: 11, Kind: stayAlarmCleared, AlarmID: "A0010", Alarm: "forced_open", Door: "server-room", Time: at(11)},
		{Seq: 12, Kind: stayAlarmRaised, AlarmID: "A0010", Alarm: "forced_open", Door: "server-room", Time: at(12)}, // again, same alarm
		{Seq: 13, Kind: stayAlarmCleared, AlarmID: "A0010", Alarm: "forced_open", Door: "server-room", Time: at(13)},
		{Seq: 14, Kind: stayAlarmAcked, AlarmID: "A0002", Alarm: "forced_open", Door: "server-room", Actor: "citra", Time: at(14)}, // raised before the stay
		{Seq: 15, Kind: stayAlarmAcked, AlarmID: "A0010", Alarm: "forced_open", Door: "server-room", Actor: "citra", Time: at(15)},
	})
	if slices.ContainsFunc(lines, func(l stayLine) bool { return l.AlarmID == "A0002" }) {
		t.Errorf("keepAcks kept the acknowledgement of an alarm not raised during the stay")
	}
	rows := alarmRows(lines, English, clock{time.UTC}, newPeople([]controller.Person{{ID: "citra", Name: "Citra Lestari"}}))
	if len(rows) != 1 {
		t.Fatalf("alarmRows made %d rows for one alarm raised twice, want 1", len(rows))
	}
	got := []string{rows[0][0].s, rows[0][1].s, rows[0][2].s, rows[0][3].s}
	want := []string{"A0010 door forced open", "2026-11-02 02:10:00 UTC", "2026-11-02 02:13:00 UTC", "Citra Lestari (citra)\n2026-11-02 02:15:00 UTC"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alarmRows row (-want +got):\n%s", diff)
	}
}
