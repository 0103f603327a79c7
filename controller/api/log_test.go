package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/report"
)

// busyDay runs a visit through the whole SOP and some door traffic.
func busyDay(e *env) {
	e.seed().visit(controller.StateArchiveOrdered)
	ctx := context.Background()
	e.clock.Add(time.Minute)
	_, err := e.ctrl.Step(ctx, "V0001", controller.ActionArchive, sim("adm"), "")
	e.must(err)
	e.clock.Add(time.Minute)
	_, err = e.ctrl.Tap(ctx, "server-room", "entry", "C-STOLEN")
	e.must(err)
	e.clock.Add(time.Minute)
	e.must(e.ctrl.RequestExit(ctx, "server-room"))
	e.clock.Add(time.Second)
	e.must(e.ctrl.SetContact(ctx, "server-room", true))
	e.clock.Add(2 * time.Second)
	e.must(e.ctrl.SetContact(ctx, "server-room", false))
	e.clock.Add(time.Minute)
	e.must(e.ctrl.RevokeCard(ctx, "C-BUDI", local))
}

func TestExportGolden(t *testing.T) {
	tests := []struct {
		name, query, file, contentType string
	}{
		{"csv", "format=csv", "export.csv", "text/csv; charset=utf-8"},
		{"jsonl", "format=jsonl", "export.jsonl", "application/jsonl"},
		{"csv window", "format=csv&since=2026-11-02T09:03:00%2B07:00&until=2026-11-02T09:25:00%2B07:00", "export-window.csv", "text/csv; charset=utf-8"},
		{"jsonl empty", "format=jsonl&since=2030-01-01T00:00:00Z", "export-empty.jsonl", "application/jsonl"},
	}
	e := newEnv(t)
	busyDay(e)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/v1/export?"+tt.query, "")
			if r.status != 200 {
				t.Fatalf("export = %d %s, want 200", r.status, r.body)
			}
			if got := r.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := r.trailer.Get("Pintu-Error"); got != "" {
				t.Errorf("Pintu-Error trailer = %q, want none", got)
			}
			rows := bytes.Count(r.body, []byte("\n"))
			if strings.HasSuffix(tt.file, ".csv") {
				rows-- // the header
			}
			if got := r.trailer.Get("Pintu-Count"); got != strconv.Itoa(rows) {
				t.Errorf("Pintu-Count trailer = %q, want %d", got, rows)
			}
			golden(t, tt.file, r.body)
		})
	}
}

// TestExportRecomputesChain checks that an export carries what an auditor
// needs to check the hash chain without pintud.
func TestExportRecomputesChain(t *testing.T) {
	e := newEnv(t)
	busyDay(e)
	r := e.do("GET", "/v1/export?format=csv&delimiter=%3B", "")
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte(report.BOM))))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	var v controller.Verifier
	for _, row := range rows[1:] {
		for i := range row {
			row[i] = report.Unneutralise(row[i]) // the README's rule, reversed
		}
		seq, _ := strconv.ParseUint(row[col["seq"]], 10, 64)
		tm, err := time.Parse(time.RFC3339Nano, row[col["time_utc"]])
		if err != nil {
			t.Fatal(err)
		}
		ev := controller.Event{Seq: seq, Time: tm, Type: controller.EventType(row[col["type"]]), Door: row[col["door"]],
			Reader: row[col["reader"]], Card: row[col["card"]], Person: row[col["person"]], Visit: row[col["visit"]],
			Decision: controller.Decision(row[col["decision"]]), Reason: controller.Reason(row[col["reason"]]),
			Actor: row[col["actor"]], Via: row[col["via"]], Detail: row[col["detail"]], ClockTrusted: row[col["clock_trusted"]] == "true",
			Prev: row[col["prev"]], Hash: row[col["hash"]]}
		if s := row[col["records"]]; s != "" {
			if err := json.Unmarshal([]byte(s), &ev.Records); err != nil {
				t.Fatalf("row %v: records: %v", row, err)
			}
		}
		if err := v.Next(ev); err != nil {
			t.Fatalf("row %v: %v", row, err)
		}
	}
	if v.Count() == 0 {
		t.Fatal("export is empty")
	}

	// The JSON Lines export: each row with the hash of the row before is
	// the event as hashed, via and records included.
	r = e.do("GET", "/v1/export?format=jsonl", "")
	var vj controller.Verifier
	prev, vias := "", 0
	for _, line := range bytes.Split(bytes.TrimSpace(r.body), []byte("\n")) {
		var ev controller.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("jsonl row %s: %v", line, err)
		}
		if len(ev.Records) == 0 {
			ev.Records = nil // [] in the export; absent in the hashed bytes
		}
		ev.Prev = prev
		if err := vj.Next(ev); err != nil {
			t.Fatalf("jsonl row %s: %v", line, err)
		}
		prev = ev.Hash
		if ev.Via != "" {
			vias++
		}
	}
	if vj.Count() != v.Count() || vias == 0 {
		t.Errorf("jsonl export verified %d events (%d with via), csv %d; want the same, some with via", vj.Count(), vias, v.Count())
	}
}

// TestVerify damages the stored log the ways an attacker with the file
// would, and checks what verify says: where the first break is and why, a
// break for every damaged part, and the integrity alarm raised.
func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		seq      uint64
		edit     func(*controller.Event) bool
		want     api.VerifyResult // Count, Records and Breaks are checked apart
		from, to uint64           // the first break
	}{
		{"good log", 0, nil, api.VerifyResult{OK: true}, 0, 0},
		{"edited event", 13, func(e *controller.Event) bool {
			e.Actor = "kabid2"
			return true
		}, api.VerifyResult{BrokenSeq: 13, Reason: "hash does not match the event's contents"}, 13, 13},
		{"edited event with its hash recomputed", 13, func(e *controller.Event) bool {
			e.Actor = "kabid2"
			e.Hash = e.ComputeHash()
			return true
		}, api.VerifyResult{BrokenSeq: 14, Reason: "prev does not match the hash of the event before"}, 14, 14},
		{"removed event", 7, func(e *controller.Event) bool { return false },
			api.VerifyResult{BrokenSeq: 7, Reason: "missing (next stored event is 8)"}, 7, 8},
		{"first event removed", 1, func(e *controller.Event) bool { return false },
			api.VerifyResult{BrokenSeq: 1, Reason: "missing (next stored event is 2)"}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			busyDay(e)
			e.waitPass()
			total := len(e.log())
			if tt.edit != nil {
				e.store.TamperEvent(tt.seq, tt.edit)
			}
			r := e.do("GET", "/v1/verify", "")
			if r.status != 200 {
				t.Fatalf("verify = %d %s, want 200", r.status, r.body)
			}
			var got api.VerifyResult
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(api.VerifyResult{}, "Count", "Records", "Breaks")); diff != "" {
				t.Errorf("verify (-want +got):\n%s", diff)
			}
			checked := total
			if tt.edit != nil && !tt.edit(&controller.Event{}) {
				checked--
			}
			if int(got.Count) != checked || got.Records == 0 {
				t.Errorf("verify checked %d events and %d records, want %d and every record", got.Count, got.Records, checked)
			}
			if tt.from == 0 {
				if len(got.Breaks) != 0 || e.hasAlarm(controller.AlarmIntegrity) {
					t.Errorf("verify of a good log: breaks %v, alarm %v; want none", got.Breaks, e.hasAlarm(controller.AlarmIntegrity))
				}
				return
			}
			if b := got.Breaks[0]; b.From != tt.from || b.To != tt.to {
				t.Errorf("first break = %+v, want seq %d..%d", b, tt.from, tt.to)
			}
			if !e.hasAlarm(controller.AlarmIntegrity) {
				t.Error("verify found a break and raised no integrity alarm")
			}
		})
	}
}

// TestVerifyNewLog: a new controller's log is its start event.
func TestVerifyNewLog(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/verify", "")
	if got, want := string(r.body), `{"ok":true,"count":1,"records":0}`+"\n"; r.status != 200 || got != want {
		t.Errorf("verify = %d %s, want 200 %s", r.status, got, want)
	}
}

// sliceLog is an audit log held in a slice. After failAfter events (if
// non-zero) it fails, as a disk going bad in the middle of a read would.
type sliceLog struct {
	events    []controller.Event
	failAfter int
}

// chain returns n events with a good hash chain.
func chain(n int) []controller.Event {
	evs := make([]controller.Event, n)
	prev := ""
	for i := range evs {
		e := controller.Event{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Second),
			Type: controller.EventAccess, Door: "server-room", Reader: "entry", Card: fmt.Sprintf("C-%d", i),
			Decision: controller.Denied, Reason: controller.ReasonUnknownCard, ClockTrusted: true, Prev: prev}
		e.Hash = e.ComputeHash()
		evs[i], prev = e, e.Hash
	}
	return evs
}

func (l *sliceLog) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	for _, e := range l.events {
		if l.failAfter > 0 && e.Seq > uint64(l.failAfter) {
			return errors.New("bad sector")
		}
		if !q.Match(e) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// TestLongLog reads a log longer than one batch in every format.
func TestLongLog(t *testing.T) {
	const n = 1300
	e := newEnv(t, func(_ *env, o *api.Options) { o.Log = &sliceLog{events: chain(n)} })

	r := e.do("GET", "/v1/events", "")
	var evs []controller.Event
	if err := json.Unmarshal(r.body, &evs); err != nil {
		t.Fatalf("events: %v", err)
	}
	if len(evs) != n || evs[0].Seq != 1 || evs[n-1].Seq != n {
		t.Errorf("events: got %d events, want %d in order", len(evs), n)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("events[%d].Seq = %d, want %d", i, ev.Seq, i+1)
		}
	}

	r = e.do("GET", "/v1/export?format=jsonl", "")
	if got := bytes.Count(r.body, []byte("\n")); got != n {
		t.Errorf("export jsonl: %d lines, want %d", got, n)
	}
	r = e.do("GET", "/v1/export?format=csv&since=2026-11-02T02:10:00Z", "")
	if got, want := bytes.Count(r.body, []byte("\n")), 1+n-600; got != want {
		t.Errorf("export csv since 10 min: %d lines, want %d", got, want)
	}
}

// TestStreamCutShort checks that a log failing after the stream started is
// reported in the trailer, and that the body is visibly incomplete.
func TestStreamCutShort(t *testing.T) {
	tests := []struct{ path string }{
		{"/v1/events"}, {"/v1/export?format=csv"}, {"/v1/export?format=jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e := newEnv(t, func(_ *env, o *api.Options) { o.Log = &sliceLog{events: chain(1000), failAfter: 700} })
			r := e.do("GET", tt.path, "")
			if r.status != 200 {
				t.Fatalf("status = %d, want 200 (the error comes after the first events)", r.status)
			}
			if got, want := r.trailer.Get("Pintu-Error"), "read audit log: bad sector"; got != want {
				t.Errorf("Pintu-Error trailer = %q, want %q", got, want)
			}
			// Every event read before the failure was sent.
			if got, want := r.trailer.Get("Pintu-Count"), "700"; got != want {
				t.Errorf("Pintu-Count trailer = %q, want %q", got, want)
			}
			if strings.HasPrefix(tt.path, "/v1/events") && json.Valid(r.body) {
				t.Error("events body is valid JSON; a cut-short array must not look complete")
			}
		})
	}
}
