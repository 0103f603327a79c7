package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/mqttlink"
)

// TestStatusMQTT: status shows the MQTT link, in English and Indonesian,
// from the link's own state type (so a change of its JSON shows here), with
// the broker's error text made safe for the terminal; without a broker it
// shows nothing about MQTT.
func TestStatusMQTT(t *testing.T) {
	st := mqttlink.LinkState{
		Broker: "ssl://mqtt.example.internal:8883", State: mqttlink.StateDown, Since: t0.Add(-7 * time.Minute),
		FailedAttempts: 61, LastError: "network Error : tls: failed to verify certificate\x1b[2J\u202e",
		LastErrorAt: t0.Add(-time.Second), DownAlarm: true, Backlog: 120, CommandsDropped: 9995,
	}
	d := startDaemon(t, func(_ *daemon, o *api.Options) { o.MQTT = func() any { return st } })
	for _, lang := range []string{"en", "id"} {
		out := d.must(nil, "--lang", lang, "status")
		i := strings.Index(out, "\nMQTT:")
		if i < 0 {
			t.Fatalf("status --lang %s shows no MQTT:\n%s", lang, out)
		}
		golden(t, "status-mqtt."+lang+".golden", []byte(out[i+1:]))
	}

	plain := startDaemon(t)
	if out := plain.must(nil, "status"); strings.Contains(out, "MQTT") {
		t.Errorf("status without a broker mentions MQTT:\n%s", out)
	}
}
