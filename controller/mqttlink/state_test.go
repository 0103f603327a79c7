package mqttlink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const testBroker = "ssl://broker.example:8883"

// TestProblemLinesRateLimited: a broker that refuses the link every second
// for three minutes gives one line a minute, each saying how many attempts
// it stands for; a new cause is logged at once; so is the reconnection.
func TestProblemLinesRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, lines := capture(t)
		start := time.Now()
		tr := newTracker(log, testBroker, start)
		refused := errors.New("not Authorized")
		for range 180 {
			time.Sleep(time.Second)
			tr.failed(time.Now(), refused)
		}
		got := lines.with("mqtt connection failed")
		if len(got) != 3 {
			t.Fatalf("%d lines for 180 refusals in 3 minutes, want 3 (one a minute)", len(got))
		}
		for i, want := range []float64{0, 59, 59} {
			if got[i]["err"] != "not Authorized" || got[i]["unlogged_repeats"] != want {
				t.Errorf("line %d = %v, want err %q and unlogged_repeats %v", i, got[i], "not Authorized", want)
			}
		}
		if got[2]["failed_attempts"] != float64(121) || got[2]["not_connected_for"] != "2m1s" {
			t.Errorf("third line = %v, want failed_attempts 121 after 2m1s", got[2])
		}

		tr.failed(time.Now(), errors.New("network Error : tls: failed to verify certificate"))
		if got := lines.with("mqtt connection failed"); len(got) != 4 || !strings.Contains(got[3]["err"].(string), "certificate") {
			t.Errorf("a new cause was not logged at once: %v", got)
		}
		st, _ := tr.snapshot()
		want := LinkState{Broker: testBroker, State: StateDown, Since: start, FailedAttempts: 181,
			LastError: "network Error : tls: failed to verify certificate", LastErrorAt: time.Now()}
		if st != want {
			t.Errorf("state = %+v, want %+v", st, want)
		}

		tr.connected(time.Now())
		if got := lines.with("mqtt connected"); len(got) != 1 || got[0]["failed_attempts"] != float64(181) {
			t.Errorf("connected lines = %v, want one naming 181 failed attempts", got)
		}
		st, _ = tr.snapshot()
		if st.State != StateConnected || !st.Since.Equal(time.Now()) || st.FailedAttempts != 0 || st.LastError == "" {
			t.Errorf("state after connecting = %+v, want connected now, the last error kept", st)
		}
	})
}

// TestFlappingConnectionRateLimited: a connection lost every second (say,
// two pintuds with the same client id kicking each other off) does not
// flood the log.
func TestFlappingConnectionRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, lines := capture(t)
		tr := newTracker(log, testBroker, time.Now())
		for range 120 {
			tr.connected(time.Now())
			time.Sleep(time.Second)
			tr.lost(time.Now(), errors.New("EOF"))
		}
		lost, conn := len(lines.with("mqtt connection lost")), len(lines.with("mqtt connected"))
		if lost > 3 || conn > 3 {
			t.Errorf("120 losses in 2 minutes logged %d losses and %d connections, want at most 3 of each", lost, conn)
		}
		if lost == 0 {
			t.Error("losses not logged at all")
		}
	})
}

// TestDownWatch: mqtt_down is raised once the link has had no connection
// for DownAfter, not before, says why, and is cleared when it connects.
func TestDownWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, lines := capture(t)
		start := time.Now()
		tr := newTracker(log, testBroker, start)
		cond := &conditions{}
		w := &downWatch{track: tr, cond: cond, after: 5 * time.Minute, log: log,
			detail: func(LinkState) string { return "; 42 audit events wait in the outbox" }}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { w.run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		for range 299 {
			time.Sleep(time.Second)
			tr.failed(time.Now(), errors.New("bad user name or password"))
		}
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 0 {
			t.Fatalf("reports after 4m59s = %v, want none yet", downs)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		downs, _ := cond.reports()
		if len(downs) != 1 || !downs[0].down {
			t.Fatalf("reports after 5m = %v, want mqtt_down raised once", downs)
		}
		for _, want := range []string{testBroker, start.UTC().Format(time.RFC3339), "299 failed attempts", "bad user name or password", "42 audit events"} {
			if !strings.Contains(downs[0].detail, want) {
				t.Errorf("detail %q does not say %q", downs[0].detail, want)
			}
		}
		if st, _ := tr.snapshot(); !st.DownAlarm {
			t.Error("state does not show the alarm")
		}
		if len(lines.with("mqtt_down raised: no broker connection for longer than down_after")) != 1 {
			t.Error("raising mqtt_down not logged")
		}
		// Still down an hour later: nothing more.
		time.Sleep(time.Hour)
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 1 {
			t.Errorf("reports after an hour = %v, want still the one", downs)
		}

		tr.connected(time.Now())
		synctest.Wait()
		downs, _ = cond.reports()
		if len(downs) != 2 || downs[1].down {
			t.Fatalf("reports after connecting = %v, want mqtt_down cleared", downs)
		}
		if st, _ := tr.snapshot(); st.DownAlarm {
			t.Error("state still shows the alarm")
		}

		// Lost again: the clock starts from the loss, not from the start.
		tr.lost(time.Now(), errors.New("EOF"))
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 2 {
			t.Errorf("raised again 4 minutes after the loss: %v", downs)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 3 || !downs[2].down || !strings.Contains(downs[2].detail, "EOF") {
			t.Errorf("reports 5 minutes after the loss = %v, want raised again naming EOF", downs)
		}
	})
}

// TestDownWatchClearsOnFirstConnect: a link that connects at once clears
// the alarm once, in case a previous run left it raised; a failed report is
// repeated.
func TestDownWatchClearsOnFirstConnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, _ := capture(t)
		tr := newTracker(log, testBroker, time.Now())
		cond := &conditions{err: errors.New("controller stopped")}
		w := &downWatch{track: tr, cond: cond, after: time.Minute, log: log}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { w.run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		tr.connected(time.Now())
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 1 || downs[0].down {
			t.Fatalf("reports = %v, want one clear", downs)
		}
		cond.fail(nil)
		time.Sleep(retryReport)
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 2 || downs[1].down {
			t.Fatalf("reports after a failed clear = %v, want it repeated", downs)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if downs, _ := cond.reports(); len(downs) != 2 {
			t.Errorf("reports an hour later = %v, want no more", downs)
		}
	})
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"longer text", 6, "longer…"},
		{"héllo", 2, "h…"}, // é is two bytes: not cut in half
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestConnected follows the broker going away and coming back.
func TestConnected(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	if !e.link.Connected() {
		t.Fatal("Connected() = false after the link set up its session")
	}
	b.Stop()
	waitFor(t, "Connected() = false with the broker stopped", func() bool { return !e.link.Connected() })
	b.Restart()
	waitFor(t, "Connected() = true with the broker back", e.link.Connected)
}

// waitFor polls ok, bounded by the package's wait.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
