package mqttlink

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// haEntities are the discovery config topics of the test door, lock entity
// included, under homeassistant/.
var haEntities = []string{
	"binary_sensor/pintu_pintu_server_room/lock", "binary_sensor/pintu_pintu_server_room/door",
	"binary_sensor/pintu_pintu_server_room/tamper", "sensor/pintu_pintu_server_room/people_inside",
	"sensor/pintu_pintu_server_room/last_access", "event/pintu_pintu_server_room/access",
	"lock/pintu_pintu_server_room/remote",
}

// retainedConfigs connects a Home Assistant client after the link has
// announced itself and returns the retained config of every entity, by
// topic under homeassistant/, as the broker keeps them.
func retainedConfigs(t *testing.T, e *env) map[string]map[string]any {
	t.Helper()
	ha := connect(t, e.b, "ha", "homeassistant/#")
	cfgs := map[string]map[string]any{}
	for _, entity := range haEntities {
		m := ha.await(entity, func(m message) bool {
			return m.topic == "homeassistant/"+entity+"/config" && m.retained && len(m.payload) > 0
		})
		var cfg map[string]any
		if err := json.Unmarshal(m.payload, &cfg); err != nil {
			t.Fatalf("%s config %s: %v", entity, m.payload, err)
		}
		cfgs[entity] = cfg
	}
	return cfgs
}

// TestHomeAssistantDiscoveryPayloads checks every retained discovery
// payload against what Home Assistant 2025.10 and later expect:
// default_entity_id (the full entity id, domain included) and never the
// deprecated object_id, which raises a repair issue per entity; the origin
// block; unique_id, device and availability. The whole set is also kept as
// a golden file.
func TestHomeAssistantDiscoveryPayloads(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.HomeAssistant = HomeAssistant{Enabled: true, LockEntity: true, Codes: map[string]string{"4711": "citra"}}
	e.start().ready()
	cfgs := retainedConfigs(t, e)
	for topic, cfg := range cfgs {
		component, _, _ := strings.Cut(topic, "/")
		for _, key := range []string{"name", "unique_id", "default_entity_id", "device", "origin", "availability", "availability_mode"} {
			if _, ok := cfg[key]; !ok {
				t.Errorf("%s: no %s in %v", topic, key, cfg)
			}
		}
		if _, ok := cfg["object_id"]; ok {
			t.Errorf("%s: object_id present (deprecated since Home Assistant 2025.10)", topic)
		}
		if got, want := cfg["default_entity_id"], component+"."+fmt.Sprint(cfg["unique_id"]); got != want {
			t.Errorf("%s: default_entity_id = %v, want %q (domain.object id)", topic, got, want)
		}
		if !regexp.MustCompile(`^[a-z_]+\.[a-z0-9_]+$`).MatchString(fmt.Sprint(cfg["default_entity_id"])) {
			t.Errorf("%s: default_entity_id %v is not a valid entity id", topic, cfg["default_entity_id"])
		}
		if o, ok := cfg["origin"].(map[string]any); !ok || o["name"] != "Pintu" {
			t.Errorf("%s: origin = %v, want a mapping named Pintu", topic, cfg["origin"])
		}
	}
	got, err := json.MarshalIndent(cfgs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "ha_discovery.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), got) {
		t.Errorf("discovery payloads differ from %s (run with -update after checking them):\n%s", golden, got)
	}
}

// render renders the subset of Jinja that command templates here use, the
// way Home Assistant does: {{ name }} inserts the value as it is, and
// {{ name | tojson }} inserts it as JSON, with Jinja's HTML-safe escapes of
// <, >, & and '. Any other expression fails the test.
func render(t *testing.T, tmpl string, vars map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\{\{\s*(\w+)\s*(\|\s*(\w+)\s*)?\}\}`)
	if rest := re.ReplaceAllString(tmpl, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "{%") {
		t.Fatalf("template %q uses more Jinja than render knows", tmpl)
	}
	return re.ReplaceAllStringFunc(tmpl, func(expr string) string {
		m := re.FindStringSubmatch(expr)
		v, ok := vars[m[1]]
		if !ok {
			t.Fatalf("template %q: no variable %s", tmpl, m[1])
		}
		switch m[3] {
		case "":
			return v
		case "tojson":
			b, _ := json.Marshal(v) // escapes <, > and & as \u003c...
			return strings.ReplaceAll(string(b), "'", `\u0027`)
		}
		t.Fatalf("template %q: filter %s unknown to render", tmpl, m[3])
		return ""
	})
}

// TestHomeAssistantLockCodeEscaped: a code holding a quote and a backslash
// (the code format allows any non-space character) still reaches pintud as
// that code, because the command template quotes it with tojson; the
// template it replaced made invalid JSON of it, and the command was
// dropped.
func TestHomeAssistantLockCodeEscaped(t *testing.T) {
	const code = `4"7\1<&'`
	b := startBroker(t)
	e := newEnv(t, b)
	e.cfg.HomeAssistant = HomeAssistant{Enabled: true, LockEntity: true, Codes: map[string]string{code: "citra"}}
	e.start().ready()
	lock := retainedConfigs(t, e)["lock/pintu_pintu_server_room/remote"]
	if !regexp.MustCompile(fmt.Sprint(lock["code_format"])).MatchString(code) {
		t.Fatalf("code_format %v refuses %q; the test needs a code Home Assistant lets through", lock["code_format"], code)
	}
	vars := map[string]string{"value": "OPEN", "code": code}
	if old := render(t, `{"action":"{{ value }}","code":"{{ code }}"}`, vars); json.Valid([]byte(old)) {
		t.Fatalf("the unquoted template makes valid JSON of %q (%s): the test shows nothing", code, old)
	}
	payload := render(t, fmt.Sprint(lock["command_template"]), vars)
	var cmd haLockCommand
	if err := json.Unmarshal([]byte(payload), &cmd); err != nil || cmd.Code != code || cmd.Action != "OPEN" {
		t.Fatalf("command_template renders %s: %+v, %v; want action OPEN and code %q", payload, cmd, err, code)
	}
	ha := connect(t, b, "ha")
	ha.publish(fmt.Sprint(lock["command_topic"]), false, []byte(payload))
	deadline := time.Now().Add(wait)
	for {
		var granted []string
		e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error {
			if ev.Type == controller.EventRemoteCommand && strings.Contains(ev.Detail, "home_assistant") && ev.Decision == controller.Granted {
				granted = append(granted, ev.Person)
			}
			return nil
		})
		if slices.Equal(granted, []string{"citra"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("granted home assistant commands = %v, want one for citra", granted)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
