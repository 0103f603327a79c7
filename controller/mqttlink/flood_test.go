package mqttlink

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
	"github.com/pintu/pintu/internal/mosquittotest"
)

// hostile returns payloads an attacker would send: garbage, a command with
// a forged signature, one signed by an unknown key, an oversized one.
func hostile(t *testing.T) [][]byte {
	forged, _ := sign(t, "citra", remote.Command{Reason: "honest"})
	stranger, _ := sign(t, "stranger", remote.Command{})
	return [][]byte{
		[]byte(`{"cmd":{"id":"junk"}}`),
		[]byte(strings.Replace(string(forged), `"honest"`, `"forged"`, 1)),
		stranger,
		[]byte(strings.Repeat("x", remote.MaxPayload+1)),
	}
}

// flood publishes n hostile payloads on topic(i), in batches, waiting for
// the link to have taken or dropped each batch so that the broker never
// has to drop any for a slow subscriber. It returns how long it took.
func flood(t *testing.T, e *env, c *client, n int, topic func(i int) string) time.Duration {
	t.Helper()
	const batch = 200
	start := time.Now()
	seen := e.link.taken.Load() + e.link.drops.total.Load()
	payloads := hostile(t)
	for i := 0; i < n; i += batch {
		k := min(batch, n-i)
		for j := range k {
			if tok := c.c.Publish(topic(i+j), 0, false, payloads[(i+j)%len(payloads)]); j == k-1 && (!tok.WaitTimeout(wait) || tok.Error() != nil) {
				t.Fatalf("publish: %v", tok.Error())
			}
		}
		seen += uint64(k)
		eventually(t, fmt.Sprintf("the link took or dropped %d payloads", seen), func() bool {
			return e.link.taken.Load()+e.link.drops.total.Load() >= seen
		})
	}
	return time.Since(start)
}

// commandEvents counts the remote_command events in the log.
func (e *env) commandEvents() int {
	n := 0
	e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error {
		if ev.Type == controller.EventRemoteCommand {
			n++
		}
		return nil
	})
	return n
}

// allowed is how many payloads the default limit lets through a topic in d.
func allowed(d time.Duration) int {
	return DefaultCommandBurst + int(d/(DefaultCommandPer/DefaultCommandBurst)) + 1
}

// TestFloodOnDoorTopic: 10,000 hostile payloads on a door's command topic
// write a handful of audit events, not 10,000; the rest are recorded as one
// report when the link stops (and once a minute while it runs). A
// coordinator's command sent during the flood, on the same topic, is not
// executed: it is answered rate_limited and counted with the flood.
func TestFloodOnDoorTopic(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	cond := &conditions{}
	e.cfg.Conditions, e.cfg.CommandBurst = cond, 0 // the default limit
	e.start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	topic := prefix + "/" + door + "/cmd"
	before := e.commandEvents()

	const n = 10000
	took := flood(t, e, coord, n/2, func(int) string { return topic })
	p, id := sign(t, "citra", remote.Command{})
	coord.publish(topic, false, p)
	if res := coord.result(id); res.Reason != string(remote.ReasonRateLimited) || res.Seq != 0 || res.Accepted {
		t.Errorf("coordinator's command in the flood = %+v, want rate_limited and not audited", res)
	}
	took += flood(t, e, coord, n/2, func(int) string { return topic })
	// Let what was taken be decided before counting.
	eventually(t, "the taken payloads decided", func() bool { return e.commandEvents()-before >= int(e.link.taken.Load()) })

	written := e.commandEvents() - before
	if limit := allowed(took); written > limit {
		t.Errorf("%d payloads in %v wrote %d remote_command events, want at most %d", n, took.Round(time.Millisecond), written, limit)
	}
	if _, ok := e.auditFor(id); ok {
		t.Error("the dropped coordinator command was audited one by one")
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released")
	}
	dropped := e.link.drops.total.Load()
	if st := e.link.State(); st.CommandsDropped != dropped || dropped < uint64(n+1-written) {
		t.Errorf("state counts %d dropped, link %d; want at least %d", st.CommandsDropped, dropped, n+1-written)
	}

	e.stopLink()
	_, reports := cond.reports()
	if len(reports) != 1+int(took/time.Minute) {
		t.Fatalf("drop reports = %v, want one a minute and one at stop", reports)
	}
	sum := 0
	for _, r := range reports {
		if r.topic != topic {
			t.Errorf("report %+v, want topic %s", r, topic)
		}
		sum += r.n
	}
	if uint64(sum) != dropped {
		t.Errorf("reports count %d dropped payloads, the link %d", sum, dropped)
	}
	t.Logf("%d payloads (and one command) in %v: %d audited, %d dropped in %d reports", n, took.Round(time.Millisecond), written, dropped, len(reports))
}

// TestFloodOnOtherTopics: a flood spread over a thousand invented door
// topics shares one limit, and a coordinator's command on the real door's
// topic, sent during it, is executed.
func TestFloodOnOtherTopics(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	cond := &conditions{}
	e.cfg.Conditions, e.cfg.CommandBurst = cond, 0
	e.start().ready()
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	invented := func(i int) string { return fmt.Sprintf("%s/door-%d/cmd", prefix, i%1000) }
	before := e.commandEvents()

	took := flood(t, e, coord, 5000, invented)
	p, id := sign(t, "citra", remote.Command{Reason: "vendor maintenance"})
	coord.publish(prefix+"/"+door+"/cmd", false, p)
	took += flood(t, e, coord, 5000, invented)
	if res := coord.result(id); !res.Accepted || res.Seq == 0 {
		t.Fatalf("coordinator's command = %+v, want accepted", res)
	}
	if _, ok := e.act.releasedAfter(e.lastSeqOf(id)); !ok {
		t.Error("strike not released for the coordinator's command")
	}
	eventually(t, "the taken payloads decided", func() bool { return e.commandEvents()-before >= int(e.link.taken.Load()) })
	if written, limit := e.commandEvents()-before, allowed(took)+1; written > limit {
		t.Errorf("10,000 payloads on 1,000 topics in %v wrote %d events, want at most %d", took.Round(time.Millisecond), written, limit)
	}
	e.stopLink()
	_, reports := cond.reports()
	for _, r := range reports {
		if r.topic != prefix+"/+/cmd" {
			t.Errorf("report %+v, want them all under %s/+/cmd", r, prefix)
		}
	}
	if len(reports) == 0 || len(reports) > 1+int(took/time.Minute) {
		t.Errorf("drop reports = %v, want one a minute and one at stop", reports)
	}
}

// lastSeqOf is the seq of command id's audit event.
func (e *env) lastSeqOf(id string) uint64 {
	ev, _ := e.auditFor(id)
	return ev.Seq
}

// TestRetainedCommandAuditedOnce: a retained command is handed over again
// on every reconnect; it is audited and logged the first time only.
func TestRetainedCommandAuditedOnce(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	log, lines := capture(t)
	e.cfg.Logger, e.cfg.ClientID = log, "pintud-retained"
	coord := connect(t, b, mosquittotest.UserCoordinator, prefix+"/+/cmd/result")
	p, id := sign(t, "citra", remote.Command{Expiry: time.Now().Add(time.Minute)})
	topic := prefix + "/" + door + "/cmd"
	coord.publish(topic, true, p)
	t.Cleanup(func() { coord.publish(topic, true, nil) })
	e.start().ready()
	if res := coord.result(id); res.Reason != string(controller.ReasonRetained) {
		t.Fatalf("result = %+v, want retained", res)
	}
	// Another client with pintud's id takes the session over; the link
	// reconnects and subscribes again, and the broker hands the retained
	// command over again. Twice.
	for i := 2; i <= 3; i++ {
		takeOver(t, b, e.cfg.ClientID)
		eventually(t, fmt.Sprintf("session %d set up", i), func() bool { return e.link.setups.Load() >= int64(i) })
	}
	// A marker command after the last subscribe: once it is decided, the
	// retained one has been handled too (the queue is in order).
	m, mid := sign(t, "citra", remote.Command{Action: remote.ActionLock})
	coord.publish(topic, false, m)
	if res := coord.result(mid); !res.Accepted {
		t.Fatalf("marker = %+v, want accepted", res)
	}
	n := 0
	e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error {
		if ev.Type == controller.EventRemoteCommand && ev.Reason == controller.ReasonRetained {
			n++
		}
		return nil
	})
	if n != 1 {
		t.Errorf("%d retained events after 3 subscribes, want 1", n)
	}
	warned := lines.with("retained command on a command topic; refused, and ignored from now on. Clear it on the broker")
	if len(warned) != 1 || warned[0]["clear_with"] != "mosquitto_pub -r -n -t '"+topic+"'" {
		t.Errorf("warnings = %v, want one saying how to clear it", warned)
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released by a retained command")
	}
	var results int
	for _, msg := range coord.messages() {
		var r controller.RemoteResult
		if json.Unmarshal(msg.payload, &r) == nil && r.ID == id {
			results++
		}
	}
	if results != 1 {
		t.Errorf("%d answers to the retained command, want 1", results)
	}
}

// takeOver connects as pintud with client id, which makes the broker close
// the link's connection, and disconnects again.
func takeOver(t *testing.T, b *mosquittotest.Broker, id string) {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(id).
		SetUsername(mosquittotest.UserPintud).SetPassword(b.Users[mosquittotest.UserPintud])
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("take over %s: %v", id, tok.Error())
	}
	c.Disconnect(100)
}

// TestHomeAssistantLockFlood: guessing lock entity codes on the door's topic
// and on invented doors' topics audits 3 attempts a minute on each limit, and
// counts the rest.
func TestHomeAssistantLockFlood(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	cond := &conditions{}
	e.cfg.Conditions = cond
	e.cfg.HomeAssistant = HomeAssistant{Enabled: true, LockEntity: true, Codes: map[string]string{"4711": "citra"}}
	e.start().ready()
	ha := connect(t, b, "ha")
	before := e.commandEvents()
	const n = 100
	for i := range n {
		topic := prefix + "/" + door + "/ha/lock/set"
		if i%2 == 1 {
			topic = fmt.Sprintf("%s/door-%d/ha/lock/set", prefix, i)
		}
		ha.publish(topic, false, fmt.Appendf(nil, `{"action":"OPEN","code":"%04d"}`, i))
	}
	// Each attempt is audited, dropped over its limit, or (the queue to
	// the controller being full) dropped before that.
	eventually(t, "every attempt audited or dropped", func() bool {
		return e.commandEvents()-before+int(e.link.drops.total.Load()+e.link.Dropped()) >= n
	})
	e.stopLink()
	if written := e.commandEvents() - before; written > 2*(haBurst+1) {
		t.Errorf("%d guesses wrote %d events, want at most %d", n, written, 2*(haBurst+1))
	}
	_, reports := cond.reports()
	got := map[string]int{}
	for _, r := range reports {
		got[r.topic] += r.n
	}
	if got[prefix+"/"+door+"/ha/lock/set"] == 0 || got[prefix+"/+/ha/lock/set"] == 0 || len(got) != 2 ||
		got[prefix+"/"+door+"/ha/lock/set"]+got[prefix+"/+/ha/lock/set"] != int(e.link.drops.total.Load()) {
		t.Errorf("reports = %v, want all %d drops under the door's and the shared limit", reports, e.link.drops.total.Load())
	}
	if unlocked, _ := e.act.state(); unlocked {
		t.Error("strike released by a guess")
	}
}
