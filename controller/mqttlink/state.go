package mqttlink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Link states, as LinkState.State names them.
const (
	// StateConnecting: the link has started and its first connection
	// attempt has not been answered yet.
	StateConnecting = "connecting"
	// StateConnected: the session is up; events and commands flow.
	StateConnected = "connected"
	// StateDown: the connection was lost or an attempt failed; the link
	// keeps retrying, and LastError says why.
	StateDown = "down"
)

// DefaultDownAfter is how long the link may be without a connection before
// it reports mqtt_down.
const DefaultDownAfter = 5 * time.Minute

// logEvery is how often a problem that keeps repeating is logged again.
const logEvery = time.Minute

// Conditions is where the link reports its own faults, the ones that are not
// a command it passes on: they belong in the controller's alarm list and
// audit log. The controller implements it; Config.Conditions nil means they
// are only logged.
type Conditions interface {
	// SetMQTTDown raises (down) or clears the mqtt_down alarm: the link has
	// had no broker connection for longer than Config.DownAfter, or has one
	// again. detail says since when and why, for the alarm and its event.
	// It must be idempotent: the link clears once after its first connect
	// (the alarm may be left from before a restart) and repeats a report
	// whose call failed.
	SetMQTTDown(ctx context.Context, down bool, detail string) error
	// RecordDroppedCommands records, as one audit event, that n payloads
	// on topic were dropped unchecked during the window ending now, because
	// they came faster than the topic's limit (Config.CommandBurst per
	// Config.CommandPer). topic is a command topic such as
	// pintu/site/server-room/cmd, or pintu/site/+/cmd for every topic whose
	// door does not exist here.
	RecordDroppedCommands(ctx context.Context, topic string, n int, window time.Duration) error
}

// LinkState is the link's connection as status shows it.
type LinkState struct {
	Broker string `json:"broker"`
	// State is StateConnecting, StateConnected or StateDown.
	State string `json:"state"`
	// Since is when the link connected, or, while it is not connected,
	// since when it has not been: its start or the loss of its connection.
	Since time.Time `json:"since"`
	// FailedAttempts counts the connection attempts that failed since
	// Since.
	FailedAttempts int `json:"failed_attempts"`
	// LastError is why the last attempt failed or the connection was lost,
	// and LastErrorAt when; both are kept after the link reconnects.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// DownAlarm is whether the link has reported mqtt_down and not yet
	// cleared it.
	DownAlarm bool `json:"down_alarm"`
	// Backlog is how many audit events wait in the outbox for the broker,
	// from the oldest unacknowledged to the newest; -1 when the outbox
	// could not be read.
	Backlog int `json:"backlog"`
	// CommandsDropped counts command payloads dropped unchecked since the
	// link started: over their topic's limit, or with the queue full.
	CommandsDropped uint64 `json:"commands_dropped"`
}

// tracker follows the connection through paho's callbacks, which must not
// block: it only updates state under a short lock, and logs.
type tracker struct {
	log    *slog.Logger
	broker string

	mu       sync.Mutex
	st       LinkState
	changed  chan struct{} // closed and replaced on every change
	problems lineLimit     // failures and losses
	// Whether a problem was logged since the last "connected" line, and
	// when that line was.
	told        bool
	connectedAt time.Time
}

func newTracker(log *slog.Logger, broker string, now time.Time) *tracker {
	return &tracker{
		log: log, broker: broker, changed: make(chan struct{}),
		st: LinkState{Broker: broker, State: StateConnecting, Since: now},
	}
}

// snapshot returns the state (without backlog and drop counts) and a
// channel closed at the next change.
func (t *tracker) snapshot() (LinkState, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st, t.changed
}

func (t *tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// failed notes a connection attempt that failed.
func (t *tracker) failed(now time.Time, err error) {
	t.problemLine(now, err, func(st *LinkState) {
		st.State = StateDown
		st.FailedAttempts++
	}, "mqtt connection failed")
}

// lost notes the loss of the connection.
func (t *tracker) lost(now time.Time, err error) {
	t.problemLine(now, err, func(st *LinkState) {
		st.State, st.Since, st.FailedAttempts = StateDown, now, 0
	}, "mqtt connection lost")
}

// problemLine applies change and logs the problem: the first time, when its
// cause differs from the last one logged, and at least once a minute while
// it repeats, with how many times it repeated unlogged.
func (t *tracker) problemLine(now time.Time, err error, change func(*LinkState), msg string) {
	cause := "unknown"
	if err != nil {
		cause = err.Error()
	}
	t.mu.Lock()
	change(&t.st)
	t.st.LastError, t.st.LastErrorAt = cause, now
	st := t.st
	logIt, repeats := t.problems.allow(now, msg+": "+cause)
	t.told = t.told || logIt
	t.notify()
	t.mu.Unlock()
	if logIt {
		args := []any{"broker", t.broker, "err", cause, "failed_attempts", st.FailedAttempts,
			"not_connected_for", now.Sub(st.Since).Round(time.Second).String(), "unlogged_repeats", repeats}
		if h := hint(cause); h != "" {
			args = append(args, "hint", h)
		}
		t.log.Warn(msg, args...)
	}
}

// hint says what to check for the causes an installer meets first.
func hint(cause string) string {
	switch {
	case strings.Contains(cause, "x509:") || strings.Contains(cause, "tls:"):
		return "mqtt.ca_file must be the CA that signed the broker's certificate, and the broker URL's host must be in that certificate"
	case strings.Contains(cause, "not Authorized") || strings.Contains(cause, "bad user name or password"):
		return "the broker refused mqtt.username with the password in mqtt.password_file; check both against the broker's password file"
	case strings.Contains(cause, "connection refused"):
		return "nothing listens at the broker's address: is the broker running, and is the port right?"
	}
	return ""
}

// connected notes a new session. It is logged unless the connection keeps
// flapping without a problem line since the last "connected" line of the
// past minute.
func (t *tracker) connected(now time.Time) {
	t.mu.Lock()
	prev := t.st
	t.st.State, t.st.Since, t.st.FailedAttempts = StateConnected, now, 0
	logIt := t.told || t.connectedAt.IsZero() || now.Sub(t.connectedAt) >= logEvery
	if logIt {
		t.told, t.connectedAt = false, now
	}
	t.notify()
	t.mu.Unlock()
	if logIt {
		t.log.Info("mqtt connected", "broker", t.broker, "failed_attempts", prev.FailedAttempts,
			"not_connected_for", now.Sub(prev.Since).Round(time.Second).String())
	}
}

// lineLimit rate-limits a log line that may repeat quickly: it allows the
// first, one whose key differs from the last allowed, and one a minute
// while the same key repeats. Its zero value is ready; it is not safe for
// concurrent use.
type lineLimit struct {
	key        string
	at         time.Time
	suppressed int
}

// allow reports whether to log key now, and how many lines were held back
// since the last one allowed.
func (l *lineLimit) allow(now time.Time, key string) (bool, int) {
	if l.key == key && now.Sub(l.at) < logEvery {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.key, l.at, l.suppressed = key, now, 0
	return true, n
}

// setDownAlarm records that mqtt_down was reported raised or cleared.
func (t *tracker) setDownAlarm(down bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st.DownAlarm != down {
		t.st.DownAlarm = down
		t.notify()
	}
}

// downWatch raises mqtt_down once the link has been without a connection
// for longer than after, and clears it when the link connects again.
type downWatch struct {
	track *tracker
	cond  Conditions // nil: log only
	after time.Duration
	log   *slog.Logger
	// detail adds to the alarm's detail what the tracker does not know
	// (the outbox backlog).
	detail func(LinkState) string
}

// retryReport is how long downWatch waits before repeating a report whose
// call failed.
const retryReport = 10 * time.Second

// run reports until ctx is done. It does not clear the alarm when ctx ends:
// a stopped link is not connected.
func (w *downWatch) run(ctx context.Context) {
	cleared := false // cleared since start: the alarm may be left from a previous run
	for {
		st, changed := w.track.snapshot()
		now := time.Now()
		wait := time.Duration(-1) // no timer
		switch {
		case st.State == StateConnected && (st.DownAlarm || !cleared):
			if w.report(ctx, false, st, now) {
				cleared = true
				continue
			}
			wait = retryReport
		case st.State != StateConnected && !st.DownAlarm:
			due := st.Since.Add(w.after)
			if now.Before(due) {
				wait = due.Sub(now)
				break
			}
			if w.report(ctx, true, st, now) {
				continue
			}
			wait = retryReport
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// report tells Conditions and the log; false when the call failed (it is
// repeated later).
func (w *downWatch) report(ctx context.Context, down bool, st LinkState, now time.Time) bool {
	detail := ""
	if down {
		detail = fmt.Sprintf("no connection to the MQTT broker %s since %s (for more than %v): %d failed attempts since, last error: %s",
			st.Broker, st.Since.UTC().Format(time.RFC3339), w.after, st.FailedAttempts, clip(st.LastError, 200))
		if w.detail != nil {
			detail += w.detail(st)
		}
	}
	if w.cond != nil {
		if err := w.cond.SetMQTTDown(ctx, down, detail); err != nil {
			if ctx.Err() == nil {
				w.log.Error("mqtt: report mqtt_down", "down", down, "err", err)
			}
			return false
		}
	}
	if down {
		w.log.Error("mqtt_down raised: no broker connection for longer than down_after", "broker", st.Broker,
			"down_after", w.after.String(), "not_connected_for", now.Sub(st.Since).Round(time.Second).String(),
			"failed_attempts", st.FailedAttempts, "last_error", st.LastError)
	} else if st.DownAlarm {
		w.log.Info("mqtt_down cleared: connected again", "broker", st.Broker)
	}
	w.track.setDownAlarm(down)
	return true
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Connected reports whether the link has a broker session now. It is safe
// from any goroutine; pintud's metrics and /readyz report it.
func (l *Link) Connected() bool {
	c, _ := l.current()
	return c != nil
}
