package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

// routeCase is one request against a fresh env.
type routeCase struct {
	name       string
	setup      func(*env)
	mods       []func(*env, *api.Options)
	method     string
	path       string
	body       string
	wantStatus int
	wantError  string // for error responses: the exact message
}

func visitAt(s controller.VisitState) func(*env) {
	return func(e *env) { e.seed().visit(s) }
}

func seeded(e *env) { e.seed() }

// forced raises forced_open (alarm A0012 on a seeded env) and closes the
// door again, so that the alarm waits for an acknowledgement.
func forced(e *env) {
	e.seed()
	e.must(e.ctrl.SetContact(context.Background(), "server-room", true))
	e.clock.Add(time.Second)
	e.must(e.ctrl.SetContact(context.Background(), "server-room", false))
}

// TestRoutes runs each route's happy path. The responses are in
// testdata/routes.golden.
func TestRoutes(t *testing.T) {
	tests := []routeCase{
		{name: "status", setup: visitAt(controller.StateInside), method: "GET", path: "/v1/status", wantStatus: 200},
		{name: "people list", setup: seeded, method: "GET", path: "/v1/people", wantStatus: 200},
		{name: "people list empty", method: "GET", path: "/v1/people", wantStatus: 200},
		{name: "people add", method: "POST", path: "/v1/people", wantStatus: 201,
			body: `{"id":"ani","name":"Ani Wijaya","roles":["officer","coordinator"],"org":"Diskominfo","id_doc":"NIP 1985"}`},
		{name: "cards list", setup: seeded, method: "GET", path: "/v1/cards", wantStatus: 200},
		{name: "cards assign", setup: seeded, method: "POST", path: "/v1/cards/assign", wantStatus: 201,
			body: `{"card":"C-ADM","person":"adm"}`},
		{name: "cards revoke", setup: seeded, method: "POST", path: "/v1/cards/revoke", wantStatus: 200,
			body: `{"card":"C-BUDI"}`},
		{name: "visits submit", setup: seeded, method: "POST", path: "/v1/visits", wantStatus: 201,
			body: `{"visitor":"budi","by":"adm","purpose":"replace a disk","devices":"laptop, screwdriver",` +
				`"from":"2026-11-02T10:00:00+07:00","until":"2026-11-02T12:00:00+07:00","escort":"off"}`},
		{name: "visits submit default window", setup: seeded, method: "POST", path: "/v1/visits", wantStatus: 201,
			body: `{"visitor":"budi","by":"adm","purpose":"inspect the UPS"}`},
		{name: "visits list", setup: visitAt(controller.StateChecked), method: "GET", path: "/v1/visits", wantStatus: 200},
		{name: "visits list by state", setup: visitAt(controller.StateChecked), method: "GET", path: "/v1/visits?state=checked", wantStatus: 200},
		{name: "visits list by other state", setup: visitAt(controller.StateChecked), method: "GET", path: "/v1/visits?state=approved", wantStatus: 200},
		{name: "visits get", setup: visitAt(controller.StateReported), method: "GET", path: "/v1/visits/V0001", wantStatus: 200},
		{name: "visit check", setup: visitAt(controller.StateSubmitted), method: "POST", path: "/v1/visits/V0001/check", wantStatus: 200,
			body: `{"by":"koor"}`},
		{name: "visit approve", setup: visitAt(controller.StateChecked), method: "POST", path: "/v1/visits/V0001/approve", wantStatus: 200,
			body: `{"by":"kabid"}`},
		{name: "visit reject", setup: visitAt(controller.StateChecked), method: "POST", path: "/v1/visits/V0001/reject", wantStatus: 200,
			body: `{"by":"kabid","text":"no work order"}`},
		{name: "visit return-id", setup: visitAt(controller.StateInside), method: "POST", path: "/v1/visits/V0001/return-id", wantStatus: 200,
			body: `{"by":"adm"}`},
		{name: "visit report", setup: visitAt(controller.StateExited), method: "POST", path: "/v1/visits/V0001/report", wantStatus: 200,
			body: `{"by":"koor","text":"disk replaced"}`},
		{name: "visit order-archive", setup: visitAt(controller.StateReported), method: "POST", path: "/v1/visits/V0001/order-archive", wantStatus: 200,
			body: `{"by":"kabid"}`},
		{name: "visit archive", setup: visitAt(controller.StateArchiveOrdered), method: "POST", path: "/v1/visits/V0001/archive", wantStatus: 200,
			body: `{"by":"adm"}`},
		{name: "sim tap granted", setup: seeded, method: "POST", path: "/v1/sim/tap", wantStatus: 200,
			body: `{"door":"server-room","reader":"entry","card":"C-OFF"}`},
		{name: "sim tap denied", setup: seeded, method: "POST", path: "/v1/sim/tap", wantStatus: 200,
			body: `{"door":"server-room","reader":"entry","card":"C-NOBODY"}`},
		{name: "sim tap pending", setup: visitAt(controller.StateApproved), method: "POST", path: "/v1/sim/tap", wantStatus: 200,
			body: `{"door":"server-room","reader":"entry","card":"C-BUDI"}`},
		{name: "sim door open", setup: seeded, method: "POST", path: "/v1/sim/door", wantStatus: 200,
			body: `{"door":"server-room","open":true}`},
		{name: "sim door close", setup: seeded, method: "POST", path: "/v1/sim/door", wantStatus: 200,
			body: `{"door":"server-room","open":false}`},
		{name: "sim rex", setup: seeded, method: "POST", path: "/v1/sim/rex", wantStatus: 200,
			body: `{"door":"server-room"}`},
		{name: "sim rex, log failing", setup: func(e *env) { e.seed(); e.store.FailCommits(errors.New("disk full")) },
			method: "POST", path: "/v1/sim/rex", wantStatus: 200, body: `{"door":"server-room"}`},
		{name: "sim tamper open", setup: seeded, method: "POST", path: "/v1/sim/tamper", wantStatus: 200,
			body: `{"door":"server-room","open":true}`},
		{name: "alarms list", setup: forced, method: "GET", path: "/v1/alarms", wantStatus: 200},
		{name: "alarms list empty", method: "GET", path: "/v1/alarms", wantStatus: 200},
		{name: "alarm ack", setup: forced, method: "POST", path: "/v1/alarms/A0012/ack", wantStatus: 200,
			body: `{"by":"koor","note":"cleaner propped the door"}`},
		{name: "lockdown one door", setup: seeded, method: "POST", path: "/v1/doors/lockdown", wantStatus: 200,
			body: `{"door":"server-room","by":"kabid"}`},
		{name: "lockdown every door", setup: seeded, method: "POST", path: "/v1/doors/lockdown", wantStatus: 200,
			body: `{"by":"koor"}`},
		{name: "lockdown release", setup: func(e *env) {
			e.seed()
			_, err := e.ctrl.Lockdown(context.Background(), "", sim("koor"), true)
			e.must(err)
		}, method: "POST", path: "/v1/doors/release", wantStatus: 200, body: `{"door":"server-room","by":"koor"}`},
		{name: "status in lockdown", setup: func(e *env) {
			forced(e)
			_, err := e.ctrl.Lockdown(context.Background(), "", sim("koor"), true)
			e.must(err)
		}, method: "GET", path: "/v1/status", wantStatus: 200},
		{name: "person update", setup: seeded, method: "POST", path: "/v1/people/off", wantStatus: 200,
			body: `{"name":"Joko Santoso","roles":["officer","coordinator"],"org":"Diskominfo"}`},
		{name: "person disable", setup: seeded, method: "POST", path: "/v1/people/off/disable", wantStatus: 200, body: `{}`},
		{name: "person enable", setup: func(e *env) {
			e.seed()
			_, err := e.ctrl.SetDisabled(context.Background(), "off", true, local)
			e.must(err)
		}, method: "POST", path: "/v1/people/off/enable", wantStatus: 200, body: `{}`},
		{name: "events", setup: seeded, method: "GET", path: "/v1/events", wantStatus: 200},
		{name: "events window", setup: visitAt(controller.StateApproved), method: "GET", wantStatus: 200,
			path: "/v1/events?since=2026-11-02T09:01:00%2B07:00&until=2026-11-02T02:02:00Z"},
		{name: "events empty window", setup: seeded, method: "GET", path: "/v1/events?since=2030-01-01T00:00:00Z", wantStatus: 200},
		{name: "verify", setup: visitAt(controller.StateExited), method: "GET", path: "/v1/verify", wantStatus: 200},
	}
	var transcript bytes.Buffer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mods...)
			if tt.setup != nil {
				tt.setup(e)
			}
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.wantStatus)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := r.header.Get("Pintu-Time-Zone"); got != "Asia/Jakarta" {
				t.Errorf("Pintu-Time-Zone = %q, want Asia/Jakarta", got)
			}
			fmt.Fprintf(&transcript, "### %s\n%s %s\n", tt.name, tt.method, tt.path)
			if tt.body != "" {
				fmt.Fprintf(&transcript, "%s\n", tt.body)
			}
			fmt.Fprintf(&transcript, "--> %d\n%s\n\n", r.status, indent(t, r.body))
		})
	}
	if !t.Failed() {
		golden(t, "routes.golden", transcript.Bytes())
	}
}

// failingLog is an audit log that cannot be read.
type failingLog struct{}

func (failingLog) Events(controller.EventQuery, func(controller.Event) error) error {
	return errors.New("disk on fire")
}

// failingSim is simulated hardware whose every input fails.
type failingSim struct{ err error }

func (s failingSim) Tap(context.Context, string, string, string) (controller.Result, error) {
	return controller.Result{}, s.err
}
func (s failingSim) Door(context.Context, string, bool) error   { return s.err }
func (s failingSim) REX(context.Context, string) error          { return s.err }
func (s failingSim) Tamper(context.Context, string, bool) error { return s.err }

// TestErrors checks that each kind of failure has its status and says what
// is wrong.
func TestErrors(t *testing.T) {
	person := func(extra string) string {
		return `{"id":"ani","name":"Ani","roles":["officer"]` + extra + `}`
	}
	tests := []routeCase{
		// The request itself.
		{name: "malformed JSON", method: "POST", path: "/v1/people", body: `{"id":"ani",`,
			wantStatus: 400, wantError: "decode request body: unexpected EOF"},
		{name: "bad JSON syntax", method: "POST", path: "/v1/people", body: `{"id" "ani"}`,
			wantStatus: 400, wantError: "decode request body: invalid character '\"' after object key (at byte 7)"},
		{name: "empty body", method: "POST", path: "/v1/people",
			wantStatus: 400, wantError: "decode request body: empty body, want a JSON object"},
		{name: "not an object", method: "POST", path: "/v1/people", body: `["ani"]`,
			wantStatus: 400, wantError: "decode request body: want a JSON object, got array"},
		{name: "wrong type", method: "POST", path: "/v1/people", body: `{"id":7,"name":"Ani","roles":["officer"]}`,
			wantStatus: 400, wantError: `decode request body: field "id": want string, got number`},
		{name: "unknown field", method: "POST", path: "/v1/people", body: person(`,"nick":"an"`),
			wantStatus: 400, wantError: `decode request body: unknown field "nick"`},
		{name: "trailing data", method: "POST", path: "/v1/people", body: person(``) + `{}`,
			wantStatus: 400, wantError: "decode request body: data after the JSON object"},
		{name: "oversized body", method: "POST", path: "/v1/people", body: person(`,"org":"` + strings.Repeat("x", 70<<10) + `"`),
			wantStatus: 400, wantError: "request body larger than 65536 bytes"},
		{name: "oversized body, small limit", mods: []func(*env, *api.Options){func(_ *env, o *api.Options) { o.MaxBody = 16 }},
			method: "POST", path: "/v1/people", body: person(``),
			wantStatus: 400, wantError: "request body larger than 16 bytes"},
		{name: "missing field", method: "POST", path: "/v1/people", body: `{"id":"ani","roles":["officer"]}`,
			wantStatus: 400, wantError: `missing field "name"`},
		{name: "missing roles", method: "POST", path: "/v1/people", body: `{"id":"ani","name":"Ani"}`,
			wantStatus: 400, wantError: `missing field "roles"`},
		{name: "unknown role", method: "POST", path: "/v1/people", body: `{"id":"ani","name":"Ani","roles":["janitor"]}`,
			wantStatus: 400, wantError: `field "roles": unknown role "janitor" (want one of admin, coordinator, head, officer, visitor)`},
		{name: "bad time", setup: seeded, method: "POST", path: "/v1/visits",
			body:       `{"visitor":"budi","by":"adm","purpose":"x","from":"tomorrow"}`,
			wantStatus: 400, wantError: `field "from": bad time "tomorrow": want RFC 3339 such as 2026-01-02T15:04:05+07:00`},
		{name: "window backwards", setup: seeded, method: "POST", path: "/v1/visits",
			body:       `{"visitor":"budi","by":"adm","purpose":"x","from":"2026-11-02T10:00:00Z","until":"2026-11-02T09:00:00Z"}`,
			wantStatus: 400, wantError: `field "until" (2026-11-02T09:00:00Z) must be after "from" (2026-11-02T10:00:00Z)`},
		{name: "reject without reason", setup: visitAt(controller.StateChecked), method: "POST", path: "/v1/visits/V0001/reject",
			body: `{"by":"kabid"}`, wantStatus: 400, wantError: `missing field "text": reject needs it (the reason for rejecting)`},
		{name: "report without text", setup: visitAt(controller.StateExited), method: "POST", path: "/v1/visits/V0001/report",
			body: `{"by":"koor","text":"  "}`, wantStatus: 400, wantError: `missing field "text": report needs it (the report of the work done)`},
		{name: "sim door without open", method: "POST", path: "/v1/sim/door", body: `{"door":"server-room"}`,
			wantStatus: 400, wantError: `missing field "open"`},
		{name: "bad state", method: "GET", path: "/v1/visits?state=gone",
			wantStatus: 400, wantError: `query parameter "state": unknown visit state "gone" (want one of submitted, checked, approved, rejected, inside, exited, reported, archive_ordered, archived)`},
		{name: "bad since", method: "GET", path: "/v1/events?since=yesterday",
			wantStatus: 400, wantError: `query parameter "since": bad time "yesterday": want RFC 3339 such as 2026-01-02T15:04:05+07:00`},
		{name: "until before since", method: "GET", path: "/v1/export?format=csv&since=2026-11-02T10:00:00Z&until=2026-11-02T09:00:00Z",
			wantStatus: 400, wantError: `query parameter "until" must be after "since"`},
		{name: "export without format", method: "GET", path: "/v1/export",
			wantStatus: 400, wantError: `missing query parameter "format" (want csv or jsonl)`},
		{name: "export bad format", method: "GET", path: "/v1/export?format=xlsx",
			wantStatus: 400, wantError: `query parameter "format": unknown format "xlsx" (want csv or jsonl)`},
		{name: "wrong method", method: "DELETE", path: "/v1/people",
			wantStatus: 405, wantError: "method DELETE not allowed on /v1/people (allowed: GET, HEAD, POST)"},
		{name: "wrong method on a step", method: "GET", path: "/v1/visits/V0001/approve",
			wantStatus: 405, wantError: "method GET not allowed on /v1/visits/V0001/approve (allowed: POST)"},
		{name: "unknown route", method: "GET", path: "/v1/doors",
			wantStatus: 404, wantError: "no route for GET /v1/doors"},

		{name: "ack without by", method: "POST", path: "/v1/alarms/A0001/ack", body: `{"note":"x"}`,
			wantStatus: 400, wantError: "invalid input: who acts is missing (--by)"},
		{name: "lockdown without by", method: "POST", path: "/v1/doors/lockdown", body: `{"door":"server-room"}`,
			wantStatus: 400, wantError: "invalid input: who acts is missing (--by)"},
		{name: "update nothing", setup: seeded, method: "POST", path: "/v1/people/off", body: `{}`,
			wantStatus: 400, wantError: "nothing to change: give name, roles, org or id_doc"},
		{name: "update empty roles", setup: seeded, method: "POST", path: "/v1/people/off", body: `{"roles":[]}`,
			wantStatus: 400, wantError: `field "roles" is empty (a person holds at least one role)`},
		{name: "update unknown role", setup: seeded, method: "POST", path: "/v1/people/off", body: `{"roles":["janitor"]}`,
			wantStatus: 400, wantError: `field "roles": unknown role "janitor" (want one of admin, coordinator, head, officer, visitor)`},
		{name: "sim tamper without open", method: "POST", path: "/v1/sim/tamper", body: `{"door":"server-room"}`,
			wantStatus: 400, wantError: `missing field "open"`},

		// The controller's errors.
		{name: "unknown alarm", setup: seeded, method: "POST", path: "/v1/alarms/A0999/ack", body: `{"by":"koor"}`,
			wantStatus: 404, wantError: `not found: unknown alarm "A0999" (pintuctl alarm list shows the listed ones)`},
		{name: "ack twice", setup: func(e *env) {
			forced(e)
			e.must(e.ctrl.SetContact(context.Background(), "server-room", true)) // forced again: still listed
			_, err := e.ctrl.AckAlarm(context.Background(), "A0012", sim("koor"), "")
			e.must(err)
		}, method: "POST", path: "/v1/alarms/A0012/ack", body: `{"by":"kabid"}`,
			wantStatus: 409, wantError: "already done: alarm A0012 was already acknowledged by koor at 2026-11-02T02:00:01Z"},
		{name: "ack by an officer", setup: forced, method: "POST", path: "/v1/alarms/A0012/ack", body: `{"by":"off"}`,
			wantStatus: 403, wantError: "role may not take this step: off (officer) may not acknowledge alarms: that is for a coordinator or the head"},
		{name: "lockdown by an admin", setup: seeded, method: "POST", path: "/v1/doors/lockdown", body: `{"by":"adm"}`,
			wantStatus: 403, wantError: "role may not take this step: adm (admin) may not lock a door down: that is for a coordinator or the head"},
		{name: "lockdown by nobody known", setup: seeded, method: "POST", path: "/v1/doors/lockdown", body: `{"by":"ghost"}`,
			wantStatus: 404, wantError: `not found: unknown person "ghost"`},
		{name: "lockdown unknown door", setup: seeded, method: "POST", path: "/v1/doors/lockdown", body: `{"door":"kitchen","by":"koor"}`,
			wantStatus: 404, wantError: `not found: unknown door "kitchen"`},
		{name: "lockdown twice", setup: func(e *env) {
			e.seed()
			_, err := e.ctrl.Lockdown(context.Background(), "server-room", sim("koor"), true)
			e.must(err)
		}, method: "POST", path: "/v1/doors/lockdown", body: `{"door":"server-room","by":"kabid"}`,
			wantStatus: 409, wantError: "already done: door server-room is already in lockdown"},
		{name: "release when not locked down", setup: seeded, method: "POST", path: "/v1/doors/release", body: `{"by":"kabid"}`,
			wantStatus: 409, wantError: "already done: no door is in lockdown"},
		{name: "update unknown person", setup: seeded, method: "POST", path: "/v1/people/ghost", body: `{"name":"Ghost"}`,
			wantStatus: 404, wantError: `not found: unknown person "ghost"`},
		{name: "visitor made staff", setup: seeded, method: "POST", path: "/v1/people/budi", body: `{"roles":["officer"]}`,
			wantStatus: 400, wantError: "invalid input: person budi: a visitor cannot become staff, nor staff a visitor; register a new person"},
		{name: "disable twice", setup: func(e *env) {
			e.seed()
			_, err := e.ctrl.SetDisabled(context.Background(), "off", true, local)
			e.must(err)
		}, method: "POST", path: "/v1/people/off/disable", body: `{}`,
			wantStatus: 409, wantError: "already done: person off is already disabled"},
		{name: "disable unknown person", method: "POST", path: "/v1/people/ghost/disable", body: `{}`,
			wantStatus: 404, wantError: `not found: unknown person "ghost"`},
		{name: "step by a disabled person", setup: func(e *env) {
			e.seed().visit(controller.StateSubmitted)
			_, err := e.ctrl.SetDisabled(context.Background(), "koor", true, local)
			e.must(err)
		}, method: "POST", path: "/v1/visits/V0001/check", body: `{"by":"koor"}`,
			wantStatus: 403, wantError: "role may not take this step: koor is disabled and may take no action"},
		{name: "window too long", setup: seeded, method: "POST", path: "/v1/visits",
			body:       `{"visitor":"budi","by":"adm","purpose":"x","from":"2026-11-02T09:00:00+07:00","until":"2026-11-03T09:00:00+07:00"}`,
			wantStatus: 400, wantError: "invalid input: visit window of 24h0m0s is longer than the 12h0m0s allowed (sop.max_visit_window)"},
		{name: "window in the past", setup: seeded, method: "POST", path: "/v1/visits",
			body:       `{"visitor":"budi","by":"adm","purpose":"x","from":"2026-11-01T09:00:00+07:00","until":"2026-11-01T10:00:00+07:00"}`,
			wantStatus: 400, wantError: "invalid input: visit window ends (2026-11-01T03:00:00Z) in the past"},
		{name: "ErrInvalid", method: "POST", path: "/v1/people", body: `{"id":"a b","name":"Ani","roles":["officer"]}`,
			wantStatus: 400, wantError: `invalid input: person id "a b" may hold only a-z, 0-9, '.', '_' and '-'; it has ' ' (U+0020) at byte 1`},
		{name: "ErrNotFound visit", method: "GET", path: "/v1/visits/V0042",
			wantStatus: 404, wantError: `not found: unknown visit "V0042"`},
		{name: "ErrNotFound card", method: "POST", path: "/v1/cards/revoke", body: `{"card":"C-0"}`,
			wantStatus: 404, wantError: `not found: unknown card "C-0"`},
		{name: "ErrNotFound door", setup: seeded, method: "POST", path: "/v1/sim/tap", body: `{"door":"kitchen","reader":"entry","card":"C-OFF"}`,
			wantStatus: 404, wantError: `not found: unknown door "kitchen"`},
		{name: "unknown action", method: "POST", path: "/v1/visits/V0001/teleport", body: `{"by":"koor"}`,
			wantStatus: 404, wantError: `unknown visit action "teleport" (want one of check, approve, reject, return-id, report, order-archive, archive)`},
		{name: "no sim", mods: []func(*env, *api.Options){func(_ *env, o *api.Options) { o.Sim = nil }},
			method: "POST", path: "/v1/sim/tap", body: `{"door":"server-room","reader":"entry","card":"C-OFF"}`,
			wantStatus: 404, wantError: "simulated hardware is not enabled (start pintud with -sim)"},
		{name: "ErrExists", setup: seeded, method: "POST", path: "/v1/people", body: `{"id":"adm","name":"Again","roles":["admin"]}`,
			wantStatus: 409, wantError: `already exists: person "adm"`},
		{name: "ErrWrongState", setup: visitAt(controller.StateSubmitted), method: "POST", path: "/v1/visits/V0001/approve",
			body: `{"by":"kabid"}`, wantStatus: 409, wantError: "wrong visit state: visit V0001 is submitted; approve (SOP step 3) needs it checked"},
		{name: "ErrSeparation", setup: func(e *env) {
			e.seed()
			_, err := e.ctrl.SubmitVisit(context.Background(), controller.VisitForm{VisitorID: "budi", Purpose: "x"}, sim("kabid2"))
			e.must(err)
			_, err = e.ctrl.Step(context.Background(), "V0001", controller.ActionCheck, sim("koor"), "")
			e.must(err)
		}, method: "POST", path: "/v1/visits/V0001/approve", body: `{"by":"kabid2"}`,
			wantStatus: 409, wantError: "separation of duties: kabid2 took step 1 (submit) of visit V0001 and may not also approve it: SOP steps 1, 2 and 3 are for different people"},
		{name: "ErrWrongRole", setup: visitAt(controller.StateSubmitted), method: "POST", path: "/v1/visits/V0001/check",
			body: `{"by":"adm"}`, wantStatus: 403, wantError: "role may not take this step: adm (admin) may not check: SOP step 2 is for coordinator"},
		{name: "ErrStorage", setup: func(e *env) { e.store.FailCommits(errors.New("disk full")) },
			method: "POST", path: "/v1/people", body: person(``),
			wantStatus: 503, wantError: "storage failure: memstore: commit: disk full"},
		{name: "ErrStopped", setup: func(e *env) { e.stopCtrl() }, method: "GET", path: "/v1/status",
			wantStatus: 503, wantError: "controller stopped"},
		{name: "unreadable log", mods: []func(*env, *api.Options){func(_ *env, o *api.Options) { o.Log = failingLog{} }},
			method: "GET", path: "/v1/events", wantStatus: 500, wantError: "read audit log: disk on fire"},
		{name: "unreadable log on export", mods: []func(*env, *api.Options){func(_ *env, o *api.Options) { o.Log = failingLog{} }},
			method: "GET", path: "/v1/export?format=csv", wantStatus: 500, wantError: "read audit log: disk on fire"},
		{name: "other error", mods: []func(*env, *api.Options){func(_ *env, o *api.Options) { o.Sim = failingSim{errors.New("reader unplugged")} }},
			method: "POST", path: "/v1/sim/rex", body: `{"door":"server-room"}`, wantStatus: 500, wantError: "reader unplugged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mods...)
			if tt.setup != nil {
				tt.setup(e)
			}
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != tt.wantStatus {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.wantStatus)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := errorOf(t, r); got != tt.wantError {
				t.Errorf("error = %q\nwant    %q", got, tt.wantError)
			}
		})
	}
}

// TestMethodNotAllowedHeader checks the 405 names the allowed methods.
func TestMethodNotAllowedHeader(t *testing.T) {
	e := newEnv(t)
	r := e.do("PUT", "/v1/verify", "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("PUT /v1/verify = %d, Allow %q; want 405, Allow \"GET, HEAD\"", r.status, r.header.Get("Allow"))
	}
}
