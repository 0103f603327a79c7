package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMQTT(t *testing.T) {
	f, err := Parse("pintud.yaml", []byte(minimal+`mqtt:
  broker: tcp://127.0.0.1:1883
  home_assistant: {enabled: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &MQTT{Broker: "tcp://127.0.0.1:1883", KeepAlive: DefaultKeepAlive, DownAfter: DefaultDownAfter,
		HomeAssistant: HomeAssistant{Enabled: true, DiscoveryPrefix: DefaultDiscoveryPrefix}}
	if diff := cmp.Diff(want, f.MQTT); diff != "" {
		t.Errorf("MQTT mismatch (-want +got):\n%s", diff)
	}
	f, err = Parse("pintud.yaml", []byte(minimal+"mqtt:\n  broker: tcp://127.0.0.1:1883\n  down_after: 90s\n"))
	if err != nil || f.MQTT.DownAfter != 90*time.Second {
		t.Errorf("down_after: 90s = %+v, %v; want 1m30s", f.MQTT, err)
	}
	if f, err := Parse("pintud.yaml", []byte(minimal)); err != nil || f.MQTT != nil {
		t.Errorf("Parse without mqtt = %+v, %v; want nil MQTT", f.MQTT, err)
	}
}

func TestMQTTErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"mqtt:\n  username: x\n", "mqtt.broker: missing"},
		{"mqtt:\n  broker: http://x:1\n", "mqtt.broker: \"http://x:1\" is not a broker URL"},
		{"mqtt:\n  broker: tcp://x:1\n  cert_file: c.pem\n", "mqtt.cert_file: needs key_file too"},
		{"mqtt:\n  broker: tcp://x:1\n  ca_file: ca.pem\n", "use ssl://"},
		{"mqtt:\n  broker: tcp://x:1\n  topic_prefix: a/#\n", "mqtt.topic_prefix: \"a/#\" is not a topic prefix"},
		{"mqtt:\n  broker: tcp://x:1\n  home_assistant:\n    lock_entity: {enabled: true}\n", "mqtt.home_assistant.lock_entity.codes_file: missing"},
		{"mqtt:\n  broker: tcp://x:1\n  colour: blue\n", "mqtt.colour: unknown key"},
		{"mqtt:\n  broker: tcp://x:1\n  down_after: 0s\n", "mqtt.down_after: \"0s\" must be positive"},
		{"mqtt:\n  broker: tcp://x:1\n  down_after: soon\n", "mqtt.down_after: \"soon\" is not a duration"},
	}
	for _, tt := range tests {
		_, err := Parse("pintud.yaml", []byte(minimal+tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}
