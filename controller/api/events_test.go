package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

// seqs is the seq of each event of a JSON array of events.
func seqs(t *testing.T, body []byte) []uint64 {
	t.Helper()
	var evs []controller.Event
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatalf("events %q: %v", body, err)
	}
	out := []uint64{}
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// TestEventsLimit: limit returns the newest events of the window, oldest
// first, however far back the window reaches.
func TestEventsLimit(t *testing.T) {
	e := newEnv(t).seed() // events 1 (started) to 10
	for range 200 {       // 11 to 210, an hour apart
		e.clock.Add(time.Hour)
		_, err := e.ctrl.Tap(context.Background(), "server-room", "entry", "C-NOBODY")
		e.must(err)
	}
	tests := []struct {
		query string
		want  []uint64
	}{
		{"limit=3", []uint64{208, 209, 210}},
		{"limit=1", []uint64{210}},
		{"limit=500", seqRange(1, 210)},
		// The window ends before the head: the newest of the window.
		{"limit=2&until=2026-11-02T12:00:00%2B07:00", []uint64{11, 12}}, // taps at 03:00 and 04:00 UTC, before 05:00
		{"limit=3&since=2026-11-10T00:00:00Z", []uint64{208, 209, 210}},
		{"limit=100&after=205", []uint64{206, 207, 208, 209, 210}},
		{"after=208", []uint64{209, 210}},
		{"limit=5&since=2030-01-01T00:00:00Z", []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do("GET", "/v1/events?"+tt.query, "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := seqs(t, r.body); !slices.Equal(got, tt.want) {
				t.Errorf("GET /v1/events?%s = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=x", "limit=100001", "after=-1", "follow=maybe", "follow=true&until=2026-11-03T00:00:00Z"} {
		r := e.do("GET", "/v1/events?"+q, "")
		if r.status != http.StatusBadRequest || codeOf(t, r) != "invalid" {
			t.Errorf("GET /v1/events?%s = %d %s, want 400 with code invalid", q, r.status, r.body)
		}
	}
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// TestEventsFollow: follow sends the newest events, then each one as it is
// committed, and ends after the log records that pintud stopped.
func TestEventsFollow(t *testing.T) {
	e := newEnv(t).seed() // events 1 to 10
	req, err := http.NewRequest("GET", "http://pintud/v1/events?follow=true&limit=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/x-ndjson" {
		t.Fatalf("follow = %d, %s", resp.StatusCode, ct)
	}
	lines := make(chan controller.Event)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev controller.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("line %q: %v", sc.Bytes(), err)
				return
			}
			lines <- ev
		}
	}()
	next := func() (controller.Event, bool) {
		t.Helper()
		select {
		case ev, ok := <-lines:
			return ev, ok
		case <-time.After(10 * time.Second): // a guard: each event is committed before it is awaited
			t.Fatal("no event within 10s")
			return controller.Event{}, false
		}
	}
	for _, want := range []uint64{9, 10} {
		if ev, _ := next(); ev.Seq != want {
			t.Fatalf("history: event %d, want %d", ev.Seq, want)
		}
	}
	ctx := context.Background()
	for i, card := range []string{"C-X", "C-Y", "C-Z"} {
		_, err := e.ctrl.Tap(ctx, "server-room", "entry", card)
		e.must(err)
		if ev, _ := next(); ev.Seq != uint64(11+i) || ev.Card != card {
			t.Fatalf("new event = %d %s, want %d %s", ev.Seq, ev.Card, 11+i, card)
		}
	}
	e.stopCtrl()
	if ev, _ := next(); ev.Type != controller.EventStopped {
		t.Fatalf("after the stop: %s, want stopped", ev.Type)
	}
	if ev, ok := next(); ok {
		t.Fatalf("after stopped: %+v, want the end of the stream", ev)
	}
}

// TestVisitDurations: a visit's steps carry their standard and time taken
// as duration strings, and step 1 says it is not timed.
func TestVisitDurations(t *testing.T) {
	e := newEnv(t).seed().visit(controller.StateExited)
	r := e.do("GET", "/v1/visits/V0001", "")
	var v struct {
		Steps []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	type step struct {
		standard, took any
		timed          any
	}
	want := []step{
		{"5m0s", "0s", false},
		{"5m0s", "1m0s", true},
		{"5m0s", "1m0s", true},
		{"15m0s", "20m3s", true}, // in at 09:03:10, out at 09:23:13
		{"5m0s", "1m3s", true},
	}
	var got []step
	for _, s := range v.Steps {
		got = append(got, step{s["standard"], s["took"], s["timed"]})
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps' standard, took, timed = %v, want %v\n%s", got, want, r.body)
	}
}

// codeOf is an error response's code.
func codeOf(t *testing.T, r response) string {
	t.Helper()
	var eb struct{ Code string }
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return eb.Code
}

// TestErrorCodes: every error response names its kind for programs.
func TestErrorCodes(t *testing.T) {
	e := newEnv(t).seed().visit(controller.StateSubmitted)
	tests := []struct{ method, path, body, code string }{
		{"POST", "/v1/people", `{"id":"Adi","name":"Adi","roles":["officer"]}`, "invalid"},
		{"GET", "/v1/visits/V0042", "", "not_found"},
		{"POST", "/v1/people", `{"id":"adm","name":"Again","roles":["admin"]}`, "exists"},
		{"POST", "/v1/visits/V0001/approve", `{"by":"kabid"}`, "wrong_state"},
		{"POST", "/v1/visits/V0001/check", `{"by":"adm"}`, "wrong_role"},
		{"GET", "/v1/nowhere", "", "not_found"},
		{"PUT", "/v1/verify", "", "method_not_allowed"},
	}
	for _, tt := range tests {
		if r := e.do(tt.method, tt.path, tt.body); codeOf(t, r) != tt.code {
			t.Errorf("%s %s = %d %s, want code %s", tt.method, tt.path, r.status, r.body, tt.code)
		}
	}
}
