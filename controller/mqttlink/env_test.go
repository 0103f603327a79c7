package mqttlink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/remote"
	"github.com/pintu/pintu/controller/storetest"
	"github.com/pintu/pintu/internal/mosquittotest"
)

// testACL is mosquittotest's default plus what a deployment grants: the
// coordinator reads command results, viewers may ask for gap fills, and a
// Home Assistant user drives the opt-in lock entity.
const testACL = `user coordinator
topic write pintu/+/+/cmd
topic read pintu/+/+/cmd/result

user pintud
topic readwrite pintu/#
topic readwrite homeassistant/#

user viewer
topic read pintu/#
topic read homeassistant/#
topic write pintu/+/bridge/request/events

user ha
topic read pintu/#
topic readwrite homeassistant/#
topic write pintu/+/+/ha/lock/set
`

const (
	prefix = "pintu/pintu" // DefaultPrefix of controller.DefaultConfig's site
	door   = "server-room"
	wait   = 15 * time.Second // bound of every wait on the broker
)

func startBroker(t testing.TB) *mosquittotest.Broker {
	users := mosquittotest.DefaultUsers()
	users["ha"] = "ha-secret"
	return mosquittotest.Start(t, mosquittotest.Options{Users: users, ACL: testACL})
}

func key(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pintu mqttlink test " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// relay is the door's strike. It notes, at every write, the newest event
// in the store, so a test can check the event that explains a release was
// committed before it. It reads only the events stored since its last
// write: a benchmark measures pintud, not this fake.
type relay struct {
	log controller.EventLog

	mu      sync.Mutex
	writes  []bool
	at      []time.Time
	stored  []uint64 // seq of the newest stored event at each write
	last    uint64   // the newest seq seen
	changed chan struct{}
}

func newRelay() *relay { return &relay{changed: make(chan struct{}, 1)} }

func (r *relay) SetStrike(_ string, unlocked bool) error {
	at := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.log != nil {
		r.log.Events(controller.EventQuery{FromSeq: r.last + 1}, func(e controller.Event) error { r.last = e.Seq; return nil })
	}
	r.writes = append(r.writes, unlocked)
	r.at = append(r.at, at)
	r.stored = append(r.stored, r.last)
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// releasedAfter reports whether the strike was released with event seq
// already stored, and when.
func (r *relay) releasedAfter(seq uint64) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range r.writes {
		if w && r.stored[i] >= seq {
			return r.at[i], true
		}
	}
	return time.Time{}, false
}

func (r *relay) state() (unlocked bool, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.writes) == 0 {
		return false, 0
	}
	return r.writes[len(r.writes)-1], len(r.writes)
}

// env is a pintud: a bbolt store with its outbox, a controller and a link.
type env struct {
	t      testing.TB
	b      *mosquittotest.Broker
	path   string
	offset atomic.Int64 // added to the controller's clock
	cfg    Config
	noSync bool // bbolt skips fsync (benchmarks only)

	store *boltstore.Store
	ctrl  *controller.Controller
	act   *relay
	link  *Link

	stopCtrl, stopLink func()
}

// newEnv seeds a state file: citra (coordinator) with a key, oki (officer)
// with a key put in the table behind the controller's back, vina (visitor).
func newEnv(t testing.TB, b *mosquittotest.Broker) *env {
	t.Helper()
	e := &env{t: t, b: b, path: filepath.Join(t.TempDir(), "pintu.db")}
	e.cfg = Config{Broker: b.URL(), Username: mosquittotest.UserPintud, Password: b.Users[mosquittotest.UserPintud],
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ConnectRetry: 100 * time.Millisecond, MaxReconnect: 500 * time.Millisecond, PublishTimeout: 5 * time.Second,
		// Tests of what the controller decides send more commands than a
		// coordinator would; the limit's own tests set it back.
		CommandBurst: 1000}
	s, err := boltstore.Open(e.path, &boltstore.Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	people := []controller.Person{
		{ID: "citra", Name: "Citra", Roles: []controller.Role{controller.RoleCoordinator}},
		{ID: "oki", Name: "Oki", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "vina", Name: "Vina", Roles: []controller.Role{controller.RoleVisitor}},
	}
	var cards []controller.Card
	for _, p := range people {
		cards = append(cards, controller.Card{ID: "card-" + p.ID, PersonID: p.ID, AssignedAt: now})
	}
	keys := []controller.Key{
		{ID: remote.KeyID(pub(key("citra"))), PersonID: "citra", Public: pub(key("citra")), AddedAt: now},
		{ID: remote.KeyID(pub(key("oki"))), PersonID: "oki", Public: pub(key("oki")), AddedAt: now},
	}
	if err := s.Commit(storetest.Seal(controller.Event{}, controller.Change{People: people, Cards: cards, Keys: keys})); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return e
}

// startCtrl opens the store and runs the controller.
func (e *env) startCtrl() {
	e.t.Helper()
	s, err := boltstore.Open(e.path, &boltstore.Options{Outbox: true, NoSync: e.noSync})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store, e.act = s, newRelay()
	e.act.log = s
	c, err := controller.New(controller.DefaultConfig(), s, e.act, controller.Options{
		Now: func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.ctrl = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	e.stopCtrl = func() {
		once.Do(func() {
			if e.stopLink != nil {
				e.stopLink()
			}
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("controller Run = %v", err)
			}
			// Closed without acking what is left in the outbox, as a
			// killed pintud would leave it.
			if err := s.Close(); err != nil {
				e.t.Errorf("store Close = %v", err)
			}
		})
	}
	e.t.Cleanup(e.stopCtrl)
}

// startLink runs a link for the running controller.
func (e *env) startLink() {
	e.t.Helper()
	l, err := New(e.cfg, e.ctrl, e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	e.link = l
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var once sync.Once
	e.stopLink = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("link Run = %v", err)
				}
			case <-time.After(wait):
				e.t.Errorf("link Run did not return within %v of cancel", wait)
			}
		})
	}
	e.t.Cleanup(e.stopLink)
}

func (e *env) start() *env {
	e.startCtrl()
	e.startLink()
	return e
}

// ready waits until the link has subscribed and announced itself.
func (e *env) ready() *env {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for e.link.setups.Load() == 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("link not connected within %v", wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// restart stops link, controller and store, and starts them again on the
// same file.
func (e *env) restart() {
	e.stopCtrl()
	e.stopLink = nil
	e.start().ready()
}

// client is an MQTT client of the test broker.
type client struct {
	t  testing.TB
	c  mqtt.Client
	mu sync.Mutex
	ms []message
	ch chan struct{}
}

type message struct {
	topic    string
	payload  []byte
	retained bool
}

// connect logs user in and subscribes to filters on every (re)connect.
func connect(t testing.TB, b *mosquittotest.Broker, user string, filters ...string) *client {
	t.Helper()
	cl := &client{t: t, ch: make(chan struct{}, 1)}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		cl.mu.Lock()
		cl.ms = append(cl.ms, message{m.Topic(), append([]byte(nil), m.Payload()...), m.Retained()})
		cl.mu.Unlock()
		select {
		case cl.ch <- struct{}{}:
		default:
		}
	}
	subscribed := make(chan struct{}, 1)
	o := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(fmt.Sprintf("%s-%d", user, time.Now().UnixNano())).
		SetUsername(user).SetPassword(b.Users[user]).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(50 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(c mqtt.Client) {
			go func() { // not in the callback: waiting on a token there would block paho
				for _, f := range filters {
					if tok := c.Subscribe(f, 1, handler); !tok.WaitTimeout(wait) || tok.Error() != nil {
						t.Errorf("subscribe %s: %v", f, tok.Error())
					}
				}
				select {
				case subscribed <- struct{}{}:
				default:
				}
			}()
		})
	cl.c = mqtt.NewClient(o)
	if tok := cl.c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", user, tok.Error())
	}
	if len(filters) > 0 {
		select {
		case <-subscribed:
		case <-time.After(wait):
			t.Fatalf("%s: not subscribed within %v", user, wait)
		}
	}
	t.Cleanup(func() { cl.c.Disconnect(100) })
	return cl
}

func (c *client) publish(topic string, retained bool, payload []byte) {
	c.t.Helper()
	if tok := c.c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(wait) || tok.Error() != nil {
		c.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// await waits for a message that ok accepts and returns it.
func (c *client) await(what string, ok func(message) bool) message {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		ms := c.messages() // ok runs without the lock: it may look at c
		if i := slices.IndexFunc(ms, ok); i >= 0 {
			return ms[i]
		}
		select {
		case <-c.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("no %s within %v", what, wait)
		}
	}
}

func (c *client) messages() []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ms)
}

// result waits for the answer to command id.
func (c *client) result(id string) controller.RemoteResult {
	c.t.Helper()
	var res controller.RemoteResult
	c.await("result for "+id, func(m message) bool {
		if !strings.HasSuffix(m.topic, "/cmd/result") {
			return false
		}
		var r controller.RemoteResult
		if json.Unmarshal(m.payload, &r) != nil || r.ID != id {
			return false
		}
		res = r
		return true
	})
	return res
}

func sign(t testing.TB, label string, c remote.Command) ([]byte, string) {
	t.Helper()
	if c.Door == "" {
		c.Door = door
	}
	if c.Action == "" {
		c.Action = remote.ActionUnlock
	}
	if c.Reason == "" {
		c.Reason = "test"
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	c = c.WithDefaults()
	p, err := remote.Sign(c, key(label))
	if err != nil {
		t.Fatal(err)
	}
	return p, c.ID
}

// auditFor returns the remote_command event naming command id, if any.
func (e *env) auditFor(id string) (controller.Event, bool) {
	var found controller.Event
	err := e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error {
		if ev.Type == controller.EventRemoteCommand && strings.Contains(ev.Detail, "command "+id) {
			found = ev
			return errFound
		}
		return nil
	})
	return found, errors.Is(err, errFound)
}

var errFound = errors.New("found")

// testWriter sends log lines to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimSpace(p))
	return len(p), nil
}

// waitOutboxEmpty waits until the broker acknowledged every event.
func (e *env) waitOutboxEmpty() {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if evs, err := e.store.Pending(1); err == nil && len(evs) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	evs, _ := e.store.Pending(1000)
	e.t.Fatalf("outbox still holds %d events after %v", len(evs), wait)
}

func (e *env) lastSeq() uint64 {
	var last uint64
	e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error { last = ev.Seq; return nil })
	return last
}

// conditions is a Conditions that remembers every report. err, when set,
// fails the calls (they are still remembered).
type conditions struct {
	mu      sync.Mutex
	downs   []downReport
	dropped []dropReport
	err     error
}

type downReport struct {
	down   bool
	detail string
}

type dropReport struct {
	topic  string
	n      int
	window time.Duration
}

func (c *conditions) SetMQTTDown(_ context.Context, down bool, detail string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.downs = append(c.downs, downReport{down, detail})
	return c.err
}

func (c *conditions) RecordDroppedCommands(_ context.Context, topic string, n int, window time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped = append(c.dropped, dropReport{topic, n, window})
	return c.err
}

func (c *conditions) reports() ([]downReport, []dropReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.downs), slices.Clone(c.dropped)
}

func (c *conditions) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// logLines keeps the structured log lines of a test, and passes them on to
// the test's log.
type logLines struct {
	t     testing.TB
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		l.t.Errorf("log line %q: %v", p, err)
	}
	l.mu.Lock()
	l.lines = append(l.lines, m)
	l.mu.Unlock()
	l.t.Logf("%s", bytes.TrimSpace(p))
	return len(p), nil
}

// capture makes a logger that writes to a new logLines.
func capture(t testing.TB) (*slog.Logger, *logLines) {
	l := &logLines{t: t}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// with returns the lines whose msg is msg.
func (l *logLines) with(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// eventually polls cond until it holds or wait passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
