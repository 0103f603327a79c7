package catalog

import (
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Lang{
		"id": ID, "en": EN, "ID": ID, "id_ID.UTF-8": ID, "in_ID": ID, "en_US.UTF-8": EN, "en-GB": EN, "id_ID@latin": ID,
		"C": "", "POSIX": "", "fr_FR.UTF-8": "", "": "", "C.UTF-8": "",
	} {
		got, ok := Parse(in)
		if got != want || ok != (want != "") {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{"LANG": "id_ID.UTF-8"}, ID},
		{map[string]string{"LANG": "id_ID.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, EN},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "id_ID.UTF-8"}, ID},
		{map[string]string{"LANG": "C.UTF-8"}, ""},
		{map[string]string{}, ""},
	} {
		got, _ := FromEnv(func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("FromEnv(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// Every token of the domain's closed sets reads as words in both
// languages, and no message is entered twice.
func TestCoverage(t *testing.T) {
	id, en := New(ID), New(EN)
	check := func(what, gotID, gotEN, raw string) {
		t.Helper()
		if gotID == raw || gotEN == raw || gotID == "" || gotEN == "" {
			t.Errorf("%s %q: id %q, en %q; want words in both", what, raw, gotID, gotEN)
		}
	}
	for _, r := range controller.Roles {
		check("role", id.Role(r), en.Role(r), string(r))
	}
	for _, s := range controller.VisitStates {
		check("state", id.State(s), en.State(s), string(s))
	}
	for _, r := range controller.Reasons {
		check("reason", id.Reason(r), en.Reason(r), string(r))
	}
	for _, k := range controller.AlarmKinds() {
		check("alarm", id.Alarm(k), en.Alarm(k), string(k))
	}
	for _, d := range []controller.Decision{controller.Granted, controller.Denied, controller.Pending} {
		check("decision", id.Decision(d), en.Decision(d), string(d))
	}
	for _, e := range []controller.EventType{controller.EventStarted, controller.EventAccess, controller.EventLogin,
		controller.EventLoginFailed, controller.EventLockout, controller.EventLogout, controller.EventPasswordSet,
		controller.EventPersonLinked, controller.EventRefused, controller.EventVisitStep, controller.EventAlarmAcked,
		controller.EventIntegrityBreak, controller.EventIntegrityAccepted, controller.EventCheckpoint, controller.EventRecordSealed,
		controller.EventPersonImported, controller.EventImportStarted, controller.EventImportFinished,
		controller.EventLogInitialised, controller.EventAnchorRecreated, controller.EventLogRestored} {
		check("event", id.Event(e), en.Event(e), string(e))
	}
	for n := 1; n <= 8; n++ {
		check("step", id.Step(n), en.Step(n), "")
	}
	seen := map[string]bool{}
	for _, m := range messages {
		if seen[m[0]] {
			t.Errorf("message %q entered twice", m[0])
		}
		seen[m[0]] = true
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %q and its Indonesian %q differ in their verbs", m[0], m[1])
		}
	}
	for _, tk := range tokens {
		if seen[tk[0]] {
			t.Errorf("token %q entered twice", tk[0])
		}
		seen[tk[0]] = true
	}
}

func TestSOPTerms(t *testing.T) {
	id := New(ID)
	for got, want := range map[string]string{
		id.Role(controller.RoleAdmin):       "Staf Administrasi",
		id.Role(controller.RoleCoordinator): "Koordinator Pengelola Ruang Server",
		id.Role(controller.RoleHead):        "Kepala Bidang",
		id.State(controller.StateSubmitted): "Diajukan",
		id.State(controller.StateChecked):   "Diperiksa",
		id.State(controller.StateApproved):  "Disetujui",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// Numbers print as each language writes them.
func TestNumbers(t *testing.T) {
	if got := New(ID).T("ok: %d events, hash chain intact", 1234567); got != "ok: 1.234.567 peristiwa, rantai hash utuh" {
		t.Errorf("id: %q", got)
	}
	if got := New(EN).T("ok: %d events, hash chain intact", 1234567); got != "ok: 1,234,567 events, hash chain intact" {
		t.Errorf("en: %q", got)
	}
	if got := New(EN).T("a message without an entry: %s", "x"); got != "a message without an entry: x" {
		t.Errorf("fallback: %q", got)
	}
}
