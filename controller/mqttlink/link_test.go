package mqttlink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
	"github.com/pintu/pintu/internal/mosquittotest"
)

func TestRemoteUnlockAccepted(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/+/events", prefix+"/+/state", prefix+"/+/availability")
	viewer.await("availability online", func(m message) bool {
		return m.topic == prefix+"/"+door+"/availability" && string(m.payload) == "online"
	})

	p, id := sign(t, "citra", remote.Command{Duration: 7 * time.Second, Reason: "vendor maintenance"})
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	res := coord.result(id)
	if !res.Accepted || res.Person != "citra" || res.Seq == 0 {
		t.Fatalf("result = %+v, want accepted for citra with a seq", res)
	}
	if _, ok := e.act.releasedAfter(res.Seq); !ok {
		t.Errorf("strike not released after remote_command event %d was stored", res.Seq)
	}
	ev, ok := e.auditFor(id)
	if !ok || ev.Person != "citra" || ev.Decision != controller.Granted || !strings.Contains(ev.Detail, "unlock") {
		t.Errorf("audit event for %s = %+v, %v; want granted, naming citra and unlock", id, ev, ok)
	}
	// The event and the new state reach the broker.
	viewer.await("remote_command event", func(m message) bool {
		var ev controller.Event
		return strings.HasSuffix(m.topic, "/events") && json.Unmarshal(m.payload, &ev) == nil && ev.Seq == res.Seq
	})
	viewer.await("unlocked state", func(m message) bool {
		var st DoorState
		return m.topic == prefix+"/"+door+"/state" && json.Unmarshal(m.payload, &st) == nil && st.Lock == "unlocked"
	})
}

func TestRemoteRejected(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")

	replayed, replayedID := sign(t, "citra", remote.Command{})
	coord.publish(prefix+"/"+door+"/cmd", false, replayed)
	if res := coord.result(replayedID); !res.Accepted {
		t.Fatalf("first send = %+v, want accepted", res)
	}
	coord.mu.Lock()
	coord.ms = nil
	coord.mu.Unlock()

	forged := func() ([]byte, string) {
		p, id := sign(t, "citra", remote.Command{Reason: "honest"})
		return []byte(strings.Replace(string(p), `"honest"`, `"forged"`, 1)), id
	}
	tests := []struct {
		name    string
		payload func() ([]byte, string)
		want    string
	}{
		{"forged signature", forged, "bad_signature"},
		{"unknown key", func() ([]byte, string) { return sign(t, "stranger", remote.Command{}) }, "unknown_key"},
		{"not a coordinator", func() ([]byte, string) { return sign(t, "oki", remote.Command{}) }, "not_coordinator"},
		{"expired", func() ([]byte, string) {
			return sign(t, "citra", remote.Command{IssuedAt: time.Now().Add(-time.Minute)})
		}, "expired"},
		{"future", func() ([]byte, string) {
			return sign(t, "citra", remote.Command{IssuedAt: time.Now().Add(time.Minute)})
		}, "not_yet_valid"},
		{"replayed", func() ([]byte, string) { return replayed, replayedID }, "replayed"},
		{"wrong door", func() ([]byte, string) { return sign(t, "citra", remote.Command{Door: "other-door"}) }, "wrong_door"},
		{"malformed", func() ([]byte, string) { return []byte(`{"cmd":{"id":"x"}}`), "" }, "malformed"},
		{"oversized", func() ([]byte, string) { return []byte(strings.Repeat("x", remote.MaxPayload+1)), "" }, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, before := e.act.state()
			p, id := tt.payload()
			coord.publish(prefix+"/"+door+"/cmd", false, p)
			var res controller.RemoteResult
			coord.await(tt.want+" result", func(m message) bool {
				var r controller.RemoteResult
				if json.Unmarshal(m.payload, &r) != nil || r.Reason != tt.want || (id != "" && r.ID != id) {
					return false
				}
				res = r
				return true
			})
			if res.Accepted || res.Seq == 0 {
				t.Errorf("result = %+v, want refused with an audit seq", res)
			}
			var ev controller.Event
			e.ctrl.Log().Events(controller.EventQuery{FromSeq: res.Seq, ToSeq: res.Seq}, func(x controller.Event) error { ev = x; return nil })
			if ev.Type != controller.EventRemoteCommand || string(ev.Reason) != tt.want || ev.Decision != controller.Denied {
				t.Errorf("audit event %d = %+v, want a denied remote_command with reason %s", res.Seq, ev, tt.want)
			}
			if (tt.want == "not_coordinator" || tt.want == "replayed" || tt.want == "expired") && ev.Person == "" {
				t.Errorf("audit event %d names no coordinator, want the key's owner", res.Seq)
			}
			if _, after := e.act.state(); after != before {
				t.Errorf("strike written by a refused command")
			}
		})
	}
}

// TestReplayAfterRestart: pintud restarted on the same state file still
// refuses a command it accepted before.
func TestReplayAfterRestart(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	p, id := sign(t, "citra", remote.Command{Expiry: time.Now().Add(time.Minute)})
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	if res := coord.result(id); !res.Accepted {
		t.Fatalf("first send = %+v, want accepted", res)
	}
	e.restart()
	coord.mu.Lock()
	coord.ms = nil
	coord.mu.Unlock()
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	if res := coord.result(id); res.Reason != string(remote.ReasonReplayed) {
		t.Fatalf("after restart = %+v, want replayed", res)
	}
}

// TestNoACLNoCommand: a user the ACL does not let write command topics
// cannot get a command to pintud at all; mosquitto drops it silently. A
// coordinator's command sent after it proves pintud was listening.
func TestNoACLNoCommand(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	viewer := connect(t, b, mosquittotest.UserViewer)
	sneaky, sneakyID := sign(t, "citra", remote.Command{})
	viewer.publish(prefix+"/"+door+"/cmd", false, sneaky)
	marker, markerID := sign(t, "citra", remote.Command{Action: remote.ActionLock})
	coord.publish(prefix+"/"+door+"/cmd", false, marker)
	if res := coord.result(markerID); !res.Accepted {
		t.Fatalf("marker = %+v, want accepted", res)
	}
	if _, ok := e.auditFor(sneakyID); ok {
		t.Error("a command from a user without the ACL reached pintud")
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released")
	}
}

// TestRetainedCommandIgnored: a retained command found on subscribe is
// refused and audited, never executed.
func TestRetainedCommandIgnored(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.CleanSession = true
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	p, id := sign(t, "citra", remote.Command{Expiry: time.Now().Add(time.Minute)})
	coord.publish(prefix+"/"+door+"/cmd", true, p)
	t.Cleanup(func() { coord.publish(prefix+"/"+door+"/cmd", true, nil) })
	e.start().ready()
	if res := coord.result(id); res.Reason != string(controller.ReasonRetained) {
		t.Fatalf("result = %+v, want retained", res)
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released by a retained command")
	}
}

// TestLateCommandNotExecuted: a command queued in the broker session while
// pintud's link was down, delivered (QoS 1) after its expiry, is refused.
// The controller's clock is moved past the expiry while the link is down,
// so the test does not depend on how fast anything runs.
func TestLateCommandNotExecuted(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.ClientID = "pintud-late-test"
	e.start().ready() // subscribes with a persistent session (CleanSession false)
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	e.stopLink()

	p, id := sign(t, "citra", remote.Command{}) // expires 5s after now
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	e.offset.Store(int64(time.Minute))
	e.startLink()
	e.ready()
	if res := coord.result(id); res.Reason != string(remote.ReasonExpired) {
		t.Fatalf("late command = %+v, want expired", res)
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released by a late command")
	}
}

// TestDoorWorksWithoutBroker: with the broker down the controller grants as
// ever and the outbox keeps the events for later.
func TestDoorWorksWithoutBroker(t *testing.T) {
	b := startBroker(t)
	b.Stop()
	e := newEnv(t, b).start()
	ctx := context.Background()
	res, err := e.ctrl.Tap(ctx, door, "entry", "card-citra")
	if err != nil || res.Decision != controller.Granted {
		t.Fatalf("Tap = %+v, %v; want granted", res, err)
	}
	if unlocked, _ := e.act.state(); !unlocked {
		t.Error("strike not released with the broker down")
	}
	evs, err := e.store.Pending(1000)
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Seq != res.Seq+1 && evs[len(evs)-1].Seq != res.Seq {
		t.Errorf("outbox = %d events, %v; want it to hold the grant", len(evs), err)
	}
}

// stream taps staff in and out n times: several events each.
func stream(t *testing.T, e *env, n int, mid func(i int)) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if mid != nil {
			mid(i)
		}
		reader := "entry"
		if i%2 == 1 {
			reader = "exit"
		}
		if _, err := e.ctrl.Tap(ctx, door, reader, "card-citra"); err != nil {
			t.Fatal(err)
		}
	}
}

// seqs returns the seqs of the events viewer got, in arrival order.
func seqs(c *client) []uint64 {
	var out []uint64
	for _, m := range c.messages() {
		if !strings.HasSuffix(m.topic, "/events") {
			continue
		}
		var ev controller.Event
		if json.Unmarshal(m.payload, &ev) == nil {
			out = append(out, ev.Seq)
		}
	}
	return out
}

// checkOrder fails unless the first sighting of each seq is in increasing
// order (redeliveries of seen seqs are allowed), and returns the seqs seen.
func checkOrder(t *testing.T, got []uint64) map[uint64]bool {
	t.Helper()
	seen := map[uint64]bool{}
	var maxSeen uint64
	for _, s := range got {
		if seen[s] {
			continue
		}
		if s < maxSeen {
			t.Errorf("event %d first delivered after event %d: out of order", s, maxSeen)
		}
		seen[s], maxSeen = true, max(maxSeen, s)
	}
	return seen
}

// gapFill asks for the seqs in 1..last missing from seen and adds them.
func gapFill(t *testing.T, c *client, seen map[uint64]bool, last uint64) {
	t.Helper()
	for from := uint64(1); from <= last; {
		if seen[from] {
			from++
			continue
		}
		to := from
		for to+1 <= last && !seen[to+1] {
			to++
		}
		txid := fmt.Sprintf("t%d", from)
		req, _ := json.Marshal(GapRequest{From: from, To: to, TxID: txid})
		c.publish(prefix+"/bridge/request/events", false, req)
		m := c.await("gap fill "+txid, func(m message) bool { return m.topic == prefix+"/bridge/response/events/"+txid })
		var resp GapResponse
		if err := json.Unmarshal(m.payload, &resp); err != nil || resp.Error != "" {
			t.Fatalf("gap fill %d..%d = %s, %v", from, to, m.payload, err)
		}
		for _, ev := range resp.Events {
			seen[ev.Seq] = true
		}
		from = resp.To + 1
	}
}

// TestBrokerOutage: the broker dies in the middle of a stream of events and
// comes back: every event reaches it, in order, and a consumer recovers the
// ones published while it was not yet subscribed again through gap fill.
func TestBrokerOutage(t *testing.T) {
	b := startBroker(t)
	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/+/events", prefix+"/bridge/response/events/+")
	e := newEnv(t, b).start().ready()
	const n = 60
	stream(t, e, n, func(i int) {
		switch i {
		case n / 3:
			b.Kill()
		case 2 * n / 3:
			b.Restart()
		}
	})
	e.waitOutboxEmpty()
	last := e.lastSeq()
	// Events after the outbox emptied (none expected) would race the check.
	seen := checkOrder(t, seqs(viewer))
	gapFill(t, viewer, seen, last)
	for s := uint64(1); s <= last; s++ {
		if !seen[s] {
			t.Errorf("event %d lost", s)
		}
	}
	if t.Failed() {
		t.Logf("viewer got %v", seqs(viewer))
	}
}

// TestOutboxSurvivesRestart: pintud stops with a full outbox (the broker was
// down) and starts again: everything is delivered, in order.
func TestOutboxSurvivesRestart(t *testing.T) {
	b := startBroker(t)
	b.Stop()
	e := newEnv(t, b).start()
	stream(t, e, 20, nil)
	e.stopCtrl() // store closed without acking anything
	b.Restart()
	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/+/events")
	e.stopLink = nil
	e.start()
	e.waitOutboxEmpty()
	last := e.lastSeq()
	viewer.await("last event", func(m message) bool {
		var ev controller.Event
		return json.Unmarshal(m.payload, &ev) == nil && ev.Seq == last
	})
	seen := checkOrder(t, seqs(viewer))
	for s := uint64(1); s <= last; s++ {
		if !seen[s] {
			t.Errorf("event %d not delivered after restart", s)
		}
	}
}

func TestGapFillBounds(t *testing.T) {
	b := startBroker(t)
	newEnv(t, b).start().ready()
	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/bridge/response/events/+")
	for _, tt := range []struct {
		req     string
		txid    string
		wantErr bool
		wantTo  func(uint64) bool
	}{
		{req: `{"from":1,"to":5000,"txid":"big"}`, txid: "big", wantTo: func(to uint64) bool { return to >= 1 && to <= MaxGapFill }},
		{req: `{"from":3,"to":2,"txid":"backwards"}`, txid: "backwards", wantErr: true},
	} {
		viewer.publish(prefix+"/bridge/request/events", false, []byte(tt.req))
		m := viewer.await("response "+tt.txid, func(m message) bool { return strings.HasSuffix(m.topic, "/"+tt.txid) })
		var resp GapResponse
		if err := json.Unmarshal(m.payload, &resp); err != nil {
			t.Fatal(err)
		}
		if (resp.Error != "") != tt.wantErr || (!tt.wantErr && !tt.wantTo(resp.To)) {
			t.Errorf("request %s = to %d, error %q", tt.req, resp.To, resp.Error)
		}
		if !tt.wantErr && len(resp.Events) == 0 {
			t.Errorf("request %s returned no events", tt.req)
		}
	}
}

func TestHomeAssistant(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.HomeAssistant = HomeAssistant{Enabled: true, LockEntity: true, Codes: map[string]string{"4711": "citra", "1234": "oki"}}
	e.start().ready()
	ha := connect(t, b, "ha", "homeassistant/#", prefix+"/+/access", prefix+"/+/last_access", prefix+"/+/state")
	node := "pintu_pintu_server_room"
	for _, entity := range []string{"binary_sensor/" + node + "/lock", "binary_sensor/" + node + "/door", "binary_sensor/" + node + "/tamper",
		"sensor/" + node + "/people_inside", "sensor/" + node + "/last_access", "event/" + node + "/access", "lock/" + node + "/remote"} {
		m := ha.await(entity, func(m message) bool { return m.topic == "homeassistant/"+entity+"/config" && m.retained })
		var cfg map[string]any
		if err := json.Unmarshal(m.payload, &cfg); err != nil || cfg["unique_id"] == nil || cfg["availability"] == nil {
			t.Errorf("%s config = %s, %v; want unique_id and availability", entity, m.payload, err)
		}
	}
	// Home Assistant restarting asks for the configs again.
	n := len(ha.messages())
	ha.publish("homeassistant/status", false, []byte("online"))
	ha.await("republished config", func(m message) bool {
		return m.topic == "homeassistant/binary_sensor/"+node+"/lock/config" && len(ha.messages()) > n+1
	})
	// A card read shows up as an access event and as the last access.
	if _, err := e.ctrl.Tap(context.Background(), door, "entry", "card-oki"); err != nil {
		t.Fatal(err)
	}
	ha.await("access event", func(m message) bool {
		var a AccessEvent
		return m.topic == prefix+"/"+door+"/access" && json.Unmarshal(m.payload, &a) == nil && a.EventType == "granted" && a.Person == "oki"
	})
	ha.await("last access", func(m message) bool { return m.topic == prefix+"/"+door+"/last_access" })
	// The lock entity: an officer's code and a wrong code are refused, a
	// coordinator's opens; every attempt is audited.
	set := prefix + "/" + door + "/ha/lock/set"
	ha.publish(set, false, []byte(`{"action":"OPEN","code":"0000"}`))
	ha.publish(set, false, []byte(`{"action":"OPEN","code":"1234"}`))
	ha.publish(set, false, []byte(`{"action":"OPEN","code":"4711"}`))
	var reasons []string
	deadline := time.Now().Add(wait)
	for len(reasons) < 3 && time.Now().Before(deadline) {
		reasons = reasons[:0]
		e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error {
			if ev.Type == controller.EventRemoteCommand && strings.Contains(ev.Detail, "home_assistant") {
				reasons = append(reasons, string(ev.Reason)+"/"+strconv.FormatBool(ev.Decision == controller.Granted))
			}
			return nil
		})
		time.Sleep(20 * time.Millisecond)
	}
	if want := []string{"bad_code/false", "not_coordinator/false", "/true"}; !slices.Equal(reasons, want) {
		t.Errorf("audited lock entity commands = %v, want %v", reasons, want)
	}
}

// TestAvailabilityOfflineOnStop: a clean stop says offline, retained.
func TestAvailabilityOfflineOnStop(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/+/availability")
	viewer.await("online", func(m message) bool { return string(m.payload) == "online" })
	e.stopLink()
	viewer.await("offline", func(m message) bool {
		return m.topic == prefix+"/"+door+"/availability" && string(m.payload) == "offline"
	})
}

// TestTLS: the link connects over the broker's TLS listener.
func TestTLS(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.Broker, e.cfg.TLS = b.TLSURL(), b.TLSConfig()
	e.start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	p, id := sign(t, "citra", remote.Command{})
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	if res := coord.result(id); !res.Accepted {
		t.Fatalf("result over TLS = %+v, want accepted", res)
	}
}
