package mqttlink

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/internal/mosquittotest"
)

// TestConnectionRefused: a broker that refuses the link, for a TLS
// certificate it cannot verify or a wrong password. Each cause is logged
// once (the attempts repeat it every 100ms), status says down and why with
// the backlog, and mqtt_down is raised after DownAfter naming the cause.
func TestConnectionRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, b *mosquittotest.Broker, e *env)
		cause []string // one of them is in the error
		hint  string   // in the log line's hint
	}{
		{"CA of another broker", func(t *testing.T, b *mosquittotest.Broker, e *env) {
			ca, _ := writeCert(t, t.TempDir())
			e.cfg.Broker, e.cfg.TLS = b.TLSURL(), tlsConfig(t, ca)
		}, []string{"certificate signed by unknown authority"}, "mqtt.ca_file"},
		{"system CAs only", func(t *testing.T, b *mosquittotest.Broker, e *env) {
			e.cfg.Broker, e.cfg.TLS = b.TLSURL(), tlsConfig(t, "")
		}, []string{"certificate signed by unknown authority"}, "mqtt.ca_file"},
		{"wrong password", func(t *testing.T, b *mosquittotest.Broker, e *env) {
			e.cfg.Password = "not-the-password"
		}, []string{"not Authorized", "bad user name or password"}, "mqtt.password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBroker(t)
			e := newEnv(t, b)
			log, lines := capture(t)
			cond := &conditions{}
			e.cfg.Logger, e.cfg.Conditions, e.cfg.DownAfter = log, cond, time.Second
			tt.setup(t, b, e)
			e.startCtrl()
			if _, err := e.ctrl.Tap(context.Background(), door, "entry", "card-citra"); err != nil {
				t.Fatal(err)
			}
			e.startLink()

			eventually(t, "5 failed attempts and mqtt_down raised", func() bool {
				downs, _ := cond.reports()
				return e.link.State().FailedAttempts >= 5 && len(downs) > 0
			})
			hasCause := func(s string) bool {
				for _, c := range tt.cause {
					if strings.Contains(s, c) {
						return true
					}
				}
				return false
			}
			failed := lines.with("mqtt connection failed")
			if len(failed) != 1 || !hasCause(failed[0]["err"].(string)) || failed[0]["broker"] != e.cfg.Broker ||
				!strings.Contains(fmt.Sprint(failed[0]["hint"]), tt.hint) {
				t.Errorf("failure lines = %v, want one naming the broker and %q, with a hint about %s", failed, tt.cause, tt.hint)
			}
			pending, err := e.store.Pending(1000)
			if err != nil || len(pending) == 0 {
				t.Fatalf("outbox = %d events, %v; want the tap's", len(pending), err)
			}
			st := e.link.State()
			if st.State != StateDown || !hasCause(st.LastError) || st.Backlog != len(pending) || !st.DownAlarm || st.Broker != e.cfg.Broker {
				t.Errorf("state = %+v, want down because %q, backlog %d, the alarm raised", st, tt.cause, len(pending))
			}
			downs, _ := cond.reports()
			if len(downs) != 1 || !downs[0].down || !hasCause(downs[0].detail) || !strings.Contains(downs[0].detail, "audit events wait") {
				t.Errorf("mqtt_down reports = %v, want one raise naming %q and the backlog", downs, tt.cause)
			}
			if e.link.setups.Load() != 0 {
				t.Error("the link set up a session")
			}
		})
	}
}

func tlsConfig(t *testing.T, ca string) *tls.Config {
	t.Helper()
	tc, err := TLSConfig(ca, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// TestDownClearsOnReconnect: with the broker down, mqtt_down is raised
// after DownAfter; when the broker is back the link connects, clears it,
// and the backlog drains.
func TestDownClearsOnReconnect(t *testing.T) {
	b := startBroker(t)
	b.Stop()
	e := newEnv(t, b)
	log, lines := capture(t)
	cond := &conditions{}
	e.cfg.Logger, e.cfg.Conditions, e.cfg.DownAfter = log, cond, 300*time.Millisecond
	e.startCtrl()
	if _, err := e.ctrl.Tap(context.Background(), door, "entry", "card-citra"); err != nil {
		t.Fatal(err)
	}
	e.startLink()
	if st := e.link.State(); st.State == StateConnected {
		t.Fatalf("state = %+v with the broker down", st)
	}
	eventually(t, "mqtt_down raised", func() bool { return e.link.State().DownAlarm })
	if st := e.link.State(); st.State != StateDown || !strings.Contains(st.LastError, "connection refused") || st.Backlog == 0 {
		t.Errorf("state = %+v, want down, connection refused, a backlog", st)
	}

	b.Restart()
	e.ready()
	eventually(t, "mqtt_down cleared", func() bool { return !e.link.State().DownAlarm })
	e.waitOutboxEmpty()
	st := e.link.State()
	if st.State != StateConnected || st.Backlog != 0 || st.FailedAttempts != 0 || time.Since(st.Since) > wait {
		t.Errorf("state = %+v, want connected just now with nothing waiting", st)
	}
	downs, _ := cond.reports()
	if len(downs) != 2 || !downs[0].down || downs[1].down {
		t.Errorf("reports = %v, want raised then cleared", downs)
	}
	if len(lines.with("mqtt_down cleared: connected again")) != 1 || len(lines.with("mqtt connected")) != 1 {
		t.Error("clearing or connecting not logged once")
	}
}

// TestStateWhileConnected: a healthy link says so, with its backlog
// following the outbox.
func TestStateWhileConnected(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	cond := &conditions{}
	e.cfg.Conditions = cond
	e.start().ready()
	e.waitOutboxEmpty()
	st := e.link.State()
	if st.State != StateConnected || st.Backlog != 0 || st.LastError != "" || st.DownAlarm {
		t.Errorf("state = %+v, want connected, no backlog, no error", st)
	}
	// The first connect clears an alarm a previous run may have left.
	eventually(t, "clear after the first connect", func() bool { downs, _ := cond.reports(); return len(downs) == 1 })
	if downs, _ := cond.reports(); downs[0].down {
		t.Errorf("reports = %v, want one clear", downs)
	}
}
