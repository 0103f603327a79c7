package mqttlink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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

	dropped  atomic.Uint64
	haBucket *remote.TokenBucket // used by serveRequests only

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
		SetOnConnectHandler(func(mqtt.Client) { l.setConnected(true) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			l.setConnected(false)
			l.log.Warn("mqtt connection lost", "broker", l.cfg.Broker, "err", err)
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

	var wg sync.WaitGroup
	for _, fn := range []func(context.Context){l.session, l.pump, l.states, l.commands, l.serveRequests, l.publishResults} {
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
	l.log.Info("mqtt connected", "broker", l.cfg.Broker)
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
		l.t.door("+", "cmd"):         l.handler(l.cmds, true),
		l.t.bridge("request/events"): l.handler(l.requests, false),
	}
	if l.cfg.HomeAssistant.Enabled {
		subs[l.cfg.HomeAssistant.statusTopic()] = l.handler(l.requests, false)
		if l.cfg.HomeAssistant.LockEntity {
			subs[l.t.door("+", "ha/lock/set")] = l.handler(l.requests, false)
		}
	}
	return subs
}

// handler returns a paho callback that copies the message onto q without
// blocking. A command that does not fit is answered busy.
func (l *Link) handler(q chan inbound, command bool) mqtt.MessageHandler {
	return func(_ mqtt.Client, m mqtt.Message) {
		in := inbound{topic: m.Topic(), payload: append([]byte(nil), m.Payload()...), retained: m.Retained(), at: time.Now()}
		select {
		case q <- in:
			return
		default:
		}
		l.dropped.Add(1)
		l.log.Warn("mqtt queue full; message dropped", "topic", in.topic)
		if command {
			res := controller.RemoteResult{ID: peekID(in.payload), Reason: "busy", Detail: "pintud is busy; send a new command"}
			select {
			case l.results <- result{door: l.t.doorOf(in.topic, "cmd"), res: res}:
			default:
			}
		}
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
