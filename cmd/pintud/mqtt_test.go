package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pintu/pintu/internal/mosquittotest"
)

// TestMQTTRefused: pintud with a broker that refuses its password says why
// in its log, once rather than on every attempt, shows the link down in
// status (in words and in JSON), and raises mqtt_down after down_after.
func TestMQTTRefused(t *testing.T) {
	pintud, pintuctl := binaries(t)
	b := mosquittotest.Start(t, mosquittotest.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mqtt-password"), []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile("../../config/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(def) + "mqtt:\n  broker: " + b.URL() + "\n  username: pintud\n  password_file: " +
		filepath.Join(dir, "mqtt-password") + "\n  down_after: 1s\n"
	if err := os.WriteFile(filepath.Join(dir, "pintud.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, pintud, dir, "-config", filepath.Join(dir, "pintud.yaml"), "-log-format", "json")
	c := ctl{t: t, bin: pintuctl, sock: filepath.Join(dir, "data", "pintud.sock")}

	var st struct {
		MQTT struct {
			State          string `json:"state"`
			FailedAttempts int    `json:"failed_attempts"`
			LastError      string `json:"last_error"`
			DownAlarm      bool   `json:"down_alarm"`
		} `json:"mqtt"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for st.MQTT.FailedAttempts < 3 || !st.MQTT.DownAlarm {
		if time.Now().After(deadline) {
			t.Fatalf("status after 15s: %+v, want 3 failed attempts and mqtt_down", st.MQTT)
		}
		time.Sleep(100 * time.Millisecond)
		c.json(&st, "status")
	}
	if st.MQTT.State != "down" || st.MQTT.LastError != "not Authorized" {
		t.Errorf("status mqtt = %+v, want down, not Authorized", st.MQTT)
	}
	out, _ := c.run(false, "--lang", "id", "status")
	if !strings.Contains(out, "MQTT: terputus sejak") || !strings.Contains(out, "kesalahan terakhir: not Authorized") {
		t.Errorf("status --lang id does not show the link down and why:\n%s", out)
	}

	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("pintud exit: %v", err)
	}
	failed := 0
	var raised bool
	for line := range strings.Lines(d.stderr.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		switch m["msg"] {
		case "mqtt connection failed":
			failed++
			if m["err"] != "not Authorized" || !strings.Contains(m["hint"].(string), "password_file") {
				t.Errorf("failure line %s, want the cause and a hint about password_file", line)
			}
		case "mqtt_down raised: no broker connection for longer than down_after":
			raised = true
		}
	}
	if failed != 1 || !raised {
		t.Errorf("log has %d failure lines (want 1 for %d+ attempts) and mqtt_down raised %v:\n%s", failed, st.MQTT.FailedAttempts, raised, d.stderr)
	}
}
