package mqttlink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
)

// Outbox is the port the link drains: the events committed after the
// broker's acknowledged-up-to watermark. boltstore (with Options.Outbox)
// and memstore (EnableOutbox) implement it.
type Outbox interface {
	// Pending returns up to limit events after the watermark, oldest first.
	Pending(limit int) ([]controller.Event, error)
	// Ack moves the watermark to upTo once the broker has every event up
	// to it.
	Ack(upTo uint64) error
}

// Config configures a Link. Broker is required; zero values of the rest
// mean their defaults.
type Config struct {
	// Broker is the broker's URL: tcp://host:1883 or ssl://host:8883.
	Broker string
	// ClientID is the MQTT client id; default "pintud-<site slug>". Commands
	// sent while the link is offline wait in the broker's session for this
	// id unless CleanSession is set (they are refused as expired if they
	// arrive too late).
	ClientID string
	// Username and Password log in to the broker.
	Username, Password string
	// TLS configures an ssl:// connection: the CA and, for mutual TLS, the
	// client certificate.
	TLS *tls.Config
	// KeepAlive is the MQTT keepalive; default 30s.
	KeepAlive time.Duration
	// Prefix is the topic prefix; default DefaultPrefix(site).
	Prefix string
	// CleanSession starts a new broker session on every connect.
	CleanSession bool
	// MaxReconnect is the longest wait between reconnection attempts, which
	// back off from ConnectRetry; default 30s.
	MaxReconnect time.Duration
	// ConnectRetry is the first wait between connection attempts; default 1s.
	ConnectRetry time.Duration
	// PublishTimeout bounds the wait for the broker to acknowledge a
	// publish; default 10s.
	PublishTimeout time.Duration
	// Window is how many events are published before waiting for their
	// acknowledgements; default 32.
	Window int
	// Queue is the depth of each queue between paho's callbacks and the
	// link's goroutines; default 64.
	Queue int
	// HomeAssistant configures MQTT discovery.
	HomeAssistant HomeAssistant
	// DownAfter is how long the link may be without a broker connection
	// before it reports mqtt_down; default DefaultDownAfter.
	DownAfter time.Duration
	// CommandBurst and CommandPer limit the payloads taken from each
	// command topic, before anything is checked: CommandBurst at once and
	// CommandBurst per CommandPer. Those over the limit are dropped,
	// counted, and recorded once a minute per topic (Conditions). Topics of
	// doors that do not exist here share one limit. Default
	// DefaultCommandBurst per DefaultCommandPer.
	CommandBurst int
	CommandPer   time.Duration
	// Conditions receives the link's own faults (mqtt_down, dropped
	// commands); nil logs them only.
	Conditions Conditions
	// Logger receives one line per event worth knowing; default discard.
	Logger *slog.Logger
}

// HomeAssistant configures Home Assistant MQTT discovery.
type HomeAssistant struct {
	Enabled bool
	// DiscoveryPrefix is Home Assistant's discovery prefix; default
	// "homeassistant".
	DiscoveryPrefix string
	// LockEntity adds a lock entity whose open command, with a code from
	// Codes, releases the strike once for the door's unlock time. Off by
	// default: see the README for the trade-off.
	LockEntity bool
	// Codes maps a lock entity code to the person id of a coordinator.
	Codes map[string]string
}

// Defaults.
const (
	DefaultKeepAlive      = 30 * time.Second
	DefaultMaxReconnect   = 30 * time.Second
	DefaultConnectRetry   = time.Second
	DefaultPublishTimeout = 10 * time.Second
	DefaultWindow         = 32
	DefaultQueue          = 64
	DefaultDiscovery      = "homeassistant"
	// MaxGapFill is the most events one gap fill request returns.
	MaxGapFill = 1000
	// maxRequest bounds the payload of a request or HA command.
	maxRequest = 4 << 10
)

// Link is the MQTT side of one controller. Create it with New and run it
// with Run.
type Link struct {
	cfg    Config
	ctrl   *controller.Controller
	outbox Outbox
	log    *slog.Logger
	site   string
	doors  []string
	t      topics
	client mqtt.Client

	cmds     chan inbound // commands, in arrival order
	requests chan inbound // gap fill, Home Assistant status and lock
	results  chan result  // answers to publish on cmd/result

	mu      sync.Mutex
	conn    *connection   // nil while disconnected
	changed chan struct{} // closed and replaced when conn changes

	dropped    atomic.Uint64       // inbound messages dropped with the queue full
	haBucket   *remote.TokenBucket // used by serveRequests only
	ignoredLog lineLimit           // used by serveRequests only

	track     *tracker
	drops     *drops              // command payloads dropped unchecked
	cmdBucket *remote.TokenBucket // per command topic, before the queue
	taken     atomic.Uint64       // command payloads within their limit
	fullMu    sync.Mutex
	fullLog   lineLimit    // the "queue full" line
	retained  retainedSeen // used by commands only

	backlogMu   sync.Mutex
	backlogLast uint64 // the newest seq seen by backlog

	// received, when set by a test, is told when a command left paho.
	received func(time.Time)
	// setups counts finished connection setups, for tests.
	setups atomic.Int64
}

// connection is one connected session; down is closed when it is lost.
type connection struct {
	down chan struct{}
}

type inbound struct {
	topic    string
	payload  []byte
	retained bool
	at       time.Time
}

type result struct {
	door string
	res  controller.RemoteResult
}

// New returns a link for ctrl, draining outbox. It does not connect: Run
// does.
func New(cfg Config, ctrl *controller.Controller, outbox Outbox) (*Link, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl") || u.Host == "" {
		return nil, fmt.Errorf("mqttlink: broker %q: want tcp://host:port or ssl://host:port", cfg.Broker)
	}
	site := ctrl.Config().Site
	if cfg.ClientID == "" {
		cfg.ClientID = "pintud-" + Slug(site)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix(site)
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("mqttlink: %w", err)
	}
	cfg.KeepAlive = orDefault(cfg.KeepAlive, DefaultKeepAlive)
	cfg.MaxReconnect = orDefault(cfg.MaxReconnect, DefaultMaxReconnect)
	cfg.ConnectRetry = orDefault(cfg.ConnectRetry, DefaultConnectRetry)
	cfg.PublishTimeout = orDefault(cfg.PublishTimeout, DefaultPublishTimeout)
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.HomeAssistant.DiscoveryPrefix == "" {
		cfg.HomeAssistant.DiscoveryPrefix = DefaultDiscovery
	}
	cfg.DownAfter = orDefault(cfg.DownAfter, DefaultDownAfter)
	if cfg.CommandBurst <= 0 {
		cfg.CommandBurst = DefaultCommandBurst
	}
	cfg.CommandPer = orDefault(cfg.CommandPer, DefaultCommandPer)
	if cfg.HomeAssistant.LockEntity && len(cfg.HomeAssistant.Codes) == 0 {
		return nil, errors.New("mqttlink: the Home Assistant lock entity needs at least one code")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Link{
		cfg: cfg, ctrl: ctrl, outbox: outbox, log: log, site: site,
		t:        topics{prefix: cfg.Prefix},
		cmds:     make(chan inbound, cfg.Queue),
		requests: make(chan inbound, cfg.Queue),
		results:  make(chan result, cfg.Queue),
		changed:  make(chan struct{}),
	}
	now := time.Now()
	l.track = newTracker(log, cfg.Broker, now)
	l.drops = newDrops(cfg.Conditions, log, now)
	l.cmdBucket = remote.NewTokenBucket(cfg.CommandBurst, cfg.CommandPer)
	for _, d := range ctrl.Config().Doors {
		if d.Name == "bridge" {
			return nil, errors.New(`mqttlink: a door called "bridge" would clash with the bridge topics; rename it`)
		}
		l.doors = append(l.doors, d.Name)
	}
	l.client = mqtt.NewClient(l.options())
	return l, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (l *Link) options() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(l.cfg.Broker).
		SetClientID(l.cfg.ClientID).
		SetUsername(l.cfg.Username).
		SetPassword(l.cfg.Password).
		SetKeepAlive(l.cfg.KeepAlive).
		SetCleanSession(l.cfg.CleanSession).
		SetStore(noStore{}).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(l.cfg.ConnectRetry).
		SetMaxReconnectInterval(l.cfg.MaxReconnect).
		SetConnectTimeout(5*time.Second).
		SetWriteTimeout(l.cfg.PublishTimeout).
		SetOrderMatters(true).
		SetWill(l.willTopic(), "offline", 1, true).
		SetOnConnectHandler(func(mqtt.Client) {
			l.setConnected(true)
			l.track.connected(time.Now())
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			l.setConnected(false)
			l.track.lost(time.Now(), err)
		}).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
			// Every failed attempt, first connect and reconnects alike;
			// paho otherwise keeps the cause to itself.
			if f, ok := n.(mqtt.ConnectionNotificationFailed); ok {
				l.track.failed(time.Now(), f.Reason)
			}
		})
	if l.cfg.TLS != nil {
		o.SetTLSConfig(l.cfg.TLS)
	}
	return o
}

// willTopic is where the broker says "offline" if the link dies: the door's
// availability when there is one door, the bridge's otherwise (a client has
// one will). Home Assistant entities require both to be online.
func (l *Link) willTopic() string {
	if len(l.doors) == 1 {
		return l.t.door(l.doors[0], "availability")
	}
	return l.t.bridge("availability")
}

// setConnected runs in paho's goroutines: it only swaps state under a short
// lock and never blocks.
func (l *Link) setConnected(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		close(l.conn.down)
		l.conn = nil
	}
	if up {
		l.conn = &connection{down: make(chan struct{})}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// current returns the connection (nil while down) and a channel closed at
// the next change.
func (l *Link) current() (*connection, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn, l.changed
}

// waitConnected waits for a connection; nil when ctx ends first.
func (l *Link) waitConnected(ctx context.Context) *connection {
	for {
		c, changed := l.current()
		if c != nil {
			return c
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// Dropped is how many inbound messages were dropped because a queue was
// full.
func (l *Link) Dropped() uint64 { return l.dropped.Load() }

// State returns the link's connection state, its outbox backlog and the
// command payloads it dropped: what status shows. It is safe to call from
// any goroutine; it reads the outbox and the newest events of the log.
func (l *Link) State() LinkState {
	st, _ := l.track.snapshot()
	st.Since, st.LastErrorAt = st.Since.UTC(), st.LastErrorAt.UTC()
	n, err := l.backlog()
	if err != nil {
		l.log.Warn("mqtt backlog", "err", err)
	}
	st.Backlog = n
	st.CommandsDropped = l.drops.total.Load()
	return st
}

// backlog counts the outbox's events: from the oldest unacknowledged to the
// newest in the log (the link acknowledges in order, so that is all of
// them). It reads only the events committed since its last call.
func (l *Link) backlog() (int, error) {
	evs, err := l.outbox.Pending(1)
	if err != nil {
		return -1, fmt.Errorf("read the outbox: %w", err)
	}
	if len(evs) == 0 {
		return 0, nil
	}
	first := evs[0].Seq
	l.backlogMu.Lock()
	defer l.backlogMu.Unlock()
	err = l.ctrl.Log().Events(controller.EventQuery{FromSeq: max(first, l.backlogLast+1)}, func(e controller.Event) error {
		l.backlogLast = e.Seq
		return nil
	})
	if err != nil {
		return -1, fmt.Errorf("read the audit log: %w", err)
	}
	return int(max(l.backlogLast, first) - first + 1), nil
}

// backlogDetail is the outbox backlog, for the mqtt_down alarm.
func (l *Link) backlogDetail(LinkState) string {
	n, err := l.backlog()
	if err != nil {
		return "; outbox unreadable: " + err.Error()
	}
	return fmt.Sprintf("; %d audit events wait in the outbox", n)
}

// Prefix is the topic prefix in use.
func (l *Link) Prefix() string { return l.cfg.Prefix }

// Run connects (retrying with backoff until the broker answers), serves
// until ctx is done, then says offline, disconnects, waits for every
// goroutine it started and returns nil. The door never waits for it.
func (l *Link) Run(ctx context.Context) error {
	l.log.Info("mqtt connecting", "broker", l.cfg.Broker, "client_id", l.cfg.ClientID, "prefix", l.cfg.Prefix)
	// Routes exist before the first connect: a persistent session delivers
	// queued commands right after CONNACK, before any SUBSCRIBE.
	for topic, h := range l.subscriptions() {
		l.client.AddRoute(topic, h)
	}
	l.client.Connect() // completes in the background; ConnectRetry keeps trying

	watch := &downWatch{track: l.track, cond: l.cfg.Conditions, after: l.cfg.DownAfter, log: l.log, detail: l.backlogDetail}
	var wg sync.WaitGroup
	for _, fn := range []func(context.Context){l.session, l.pump, l.states, l.commands, l.serveRequests, l.publishResults,
		watch.run, l.drops.run} {
		wg.Go(func() { fn(ctx) })
	}
	<-ctx.Done()
	wg.Wait()

	if c, _ := l.current(); c != nil {
		// Say goodbye: a clean disconnect does not trigger the will.
		var toks []mqtt.Token
		for _, d := range l.doors {
			toks = append(toks, l.client.Publish(l.t.door(d, "availability"), 1, true, "offline"))
		}
		toks = append(toks, l.client.Publish(l.t.bridge("availability"), 1, true, "offline"))
		for _, t := range toks {
			t.WaitTimeout(time.Second)
		}
	}
	l.client.Disconnect(250)
	l.log.Info("mqtt disconnected", "dropped", l.Dropped())
	return nil
}

// session sets each new connection up: availability, subscriptions and
// Home Assistant discovery.
func (l *Link) session(ctx context.Context) {
	var last *connection
	for {
		c, changed := l.current()
		if c != nil && c != last {
			last = c
			l.setup(ctx, c)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

func (l *Link) setup(ctx context.Context, c *connection) {
	for topic := range l.subscriptions() {
		// The route added in Run handles what arrives.
		if err := l.wait(ctx, c, l.client.Subscribe(topic, 1, nil)); err != nil {
			l.log.Error("mqtt subscribe", "topic", topic, "err", err)
		}
	}
	for _, d := range l.doors {
		l.publish(ctx, c, l.t.door(d, "availability"), true, []byte("online"))
	}
	l.publish(ctx, c, l.t.bridge("availability"), true, []byte("online"))
	if l.cfg.HomeAssistant.Enabled {
		l.discovery(ctx, c)
	}
	l.setups.Add(1)
}

// subscriptions are the topics the link listens to, with their handlers.
func (l *Link) subscriptions() map[string]mqtt.MessageHandler {
	subs := map[string]mqtt.MessageHandler{
		l.t.door("+", "cmd"):         l.commandHandler(),
		l.t.bridge("request/events"): l.handler(l.requests),
	}
	if l.cfg.HomeAssistant.Enabled {
		subs[l.cfg.HomeAssistant.statusTopic()] = l.handler(l.requests)
		if l.cfg.HomeAssistant.LockEntity {
			subs[l.t.door("+", "ha/lock/set")] = l.handler(l.requests)
		}
	}
	return subs
}

// handler returns a paho callback that copies a request onto q without
// blocking.
func (l *Link) handler(q chan inbound) mqtt.MessageHandler {
	return func(_ mqtt.Client, m mqtt.Message) {
		l.enqueue(q, inbound{topic: m.Topic(), payload: append([]byte(nil), m.Payload()...), retained: m.Retained(), at: time.Now()}, false)
	}
}

// enqueue puts in on q without blocking. A command that does not fit is
// answered busy and counted with the topic's drops.
func (l *Link) enqueue(q chan inbound, in inbound, command bool) {
	select {
	case q <- in:
		return
	default:
	}
	l.dropped.Add(1)
	l.fullMu.Lock()
	logIt, repeats := l.fullLog.allow(in.at, "full")
	l.fullMu.Unlock()
	if logIt {
		l.log.Warn("mqtt queue full; message dropped", "topic", in.topic, "unlogged_repeats", repeats)
	}
	if command {
		l.drops.add(l.limitTopic(in.topic, "cmd"))
		l.answer(in, "busy", "pintud is busy; send a new command")
	}
}

// answer tells the sender of a command that was not decided on why,
// without blocking; a payload that is not a command gets no answer.
func (l *Link) answer(in inbound, reason, detail string) {
	id := peekID(in.payload)
	if id == "" {
		return
	}
	res := controller.RemoteResult{ID: id, Reason: reason, Detail: detail}
	select {
	case l.results <- result{door: l.t.doorOf(in.topic, "cmd"), res: res}:
	default:
	}
}

// limitTopic is the topic whose limit a message on topic P/<door>/<leaf>
// counts against: its own when the door is one of ours, P/+/<leaf> for all
// others. There are as many limits as doors, and one more, whatever topics
// a sender invents.
func (l *Link) limitTopic(topic, leaf string) string {
	if door := l.t.doorOf(topic, leaf); slices.Contains(l.doors, door) {
		return topic
	}
	return l.t.door("+", leaf)
}

// commandHandler takes command payloads, at most CommandBurst per
// CommandPer per topic, before anything about them is checked: every
// payload the controller sees costs an audit event and its fsync. The rest
// are dropped, counted and recorded once a minute per topic. Topics of
// doors that do not exist share one limit, so inventing topics buys nothing.
func (l *Link) commandHandler() mqtt.MessageHandler {
	return func(_ mqtt.Client, m mqtt.Message) {
		in := inbound{topic: m.Topic(), retained: m.Retained(), at: time.Now()}
		limit := l.limitTopic(in.topic, "cmd")
		if !l.cmdBucket.Allow(limit, in.at) {
			l.drops.add(limit)
			in.payload = m.Payload() // read only, before the callback returns
			l.answer(in, string(remote.ReasonRateLimited),
				"too many commands on this topic: dropped unchecked and counted, not executed; wait a minute and send a new command")
			return
		}
		l.taken.Add(1)
		in.payload = append([]byte(nil), m.Payload()...)
		l.enqueue(l.cmds, in, true)
	}
}

// commands decides on each command in arrival order and queues its answer.
func (l *Link) commands(ctx context.Context) {
	for {
		var in inbound
		select {
		case <-ctx.Done():
			return
		case in = <-l.cmds:
		}
		if l.received != nil {
			l.received(in.at)
		}
		door := l.t.doorOf(in.topic, "cmd")
		if in.retained {
			// The broker hands a retained command over on every subscribe,
			// so on every reconnect: it is never executed, and audited once.
			if !l.retained.first(retainedKey(in.topic, in.payload)) {
				l.log.Debug("retained command seen again; not audited again", "topic", in.topic)
				continue
			}
			l.log.Warn("retained command on a command topic; refused, and ignored from now on. Clear it on the broker",
				"topic", in.topic, "clear_with", "mosquitto_pub -r -n -t '"+in.topic+"'")
		}
		res, err := l.ctrl.Remote(ctx, controller.RemoteInput{Payload: in.payload, Door: door, Retained: in.retained, Via: "mqtt"})
		if err != nil {
			if ctx.Err() == nil {
				l.log.Error("mqtt command not decided", "door", door, "err", err)
			}
			continue
		}
		lvl := slog.LevelInfo
		if !res.Accepted {
			lvl = slog.LevelWarn
		}
		l.log.Log(ctx, lvl, "remote command", "door", door, "id", res.ID, "action", res.Action,
			"person", res.Person, "accepted", res.Accepted, "reason", res.Reason, "seq", res.Seq)
		select {
		case l.results <- result{door: door, res: res}:
		case <-ctx.Done():
			return
		}
	}
}

// publishResults publishes command answers; one that cannot be delivered
// now is dropped (the sender times out and the audit log has it).
func (l *Link) publishResults(ctx context.Context) {
	for {
		var r result
		select {
		case <-ctx.Done():
			return
		case r = <-l.results:
		}
		c, _ := l.current()
		if c == nil {
			l.log.Warn("mqtt command result not published: disconnected", "id", r.res.ID)
			continue
		}
		if r.door == "" {
			r.door = r.res.Door
		}
		l.publishJSON(ctx, c, l.t.door(r.door, "cmd/result"), false, r.res)
	}
}

// wait waits for a token, the connection's loss, ctx or the publish timeout.
func (l *Link) wait(ctx context.Context, c *connection, t mqtt.Token) error {
	timer := time.NewTimer(l.cfg.PublishTimeout)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-c.down:
		return errors.New("connection lost")
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("no acknowledgement within %v", l.cfg.PublishTimeout)
	}
}

// publish sends one QoS 1 message and waits for the broker's ack.
func (l *Link) publish(ctx context.Context, c *connection, topic string, retained bool, payload []byte) bool {
	if err := l.wait(ctx, c, l.client.Publish(topic, 1, retained, payload)); err != nil {
		if ctx.Err() == nil {
			l.log.Warn("mqtt publish", "topic", topic, "err", err)
		}
		return false
	}
	return true
}

// topics builds topic names under the prefix.
type topics struct{ prefix string }

func (t topics) door(door, leaf string) string { return t.prefix + "/" + door + "/" + leaf }
func (t topics) bridge(leaf string) string     { return t.prefix + "/bridge/" + leaf }

// doorOf returns the door of a topic P/<door>/<leaf>, or "".
func (t topics) doorOf(topic, leaf string) string {
	rest, ok := strings.CutPrefix(topic, t.prefix+"/")
	if !ok {
		return ""
	}
	door, ok := strings.CutSuffix(rest, "/"+leaf)
	if !ok || strings.Contains(door, "/") {
		return ""
	}
	return door
}

// Slug turns a site name into a topic segment: lower-case letters, digits
// and single dashes.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "pintu"
	}
	return b.String()
}

// DefaultPrefix is the topic prefix of a site: pintu/<slug>.
func DefaultPrefix(site string) string { return "pintu/" + Slug(site) }

func checkPrefix(p string) error {
	switch {
	case p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return fmt.Errorf("topic prefix %q: must not be empty or start or end with /", p)
	case strings.ContainsAny(p, "+#\x00"):
		return fmt.Errorf("topic prefix %q: must not contain + # or NUL", p)
	}
	return nil
}

// noStore is a paho message store that keeps nothing. The outbox is what
// redelivers events, so paho need not resend its in-flight messages on
// reconnect; its resume would also race with new publishes (paho v1.5.1
// sets the DUP flag on a packet the writer may be sending, and sends it
// twice).
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}

var _ mqtt.Store = noStore{}
