package mqttlink

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
)

func (h HomeAssistant) statusTopic() string { return h.DiscoveryPrefix + "/status" }

// discovery publishes the retained Home Assistant discovery configs: one
// device per door.
func (l *Link) discovery(ctx context.Context, c *connection) {
	for _, door := range l.doors {
		for topic, cfg := range l.discoveryConfigs(door) {
			var b []byte
			if cfg != nil {
				b, _ = json.Marshal(cfg)
			}
			// An empty retained config removes an entity (the lock, when
			// it is turned off again).
			l.publish(ctx, c, topic, true, b)
		}
	}
}

// origin is the discovery payloads' origin block, which Home Assistant
// shows as the source of the entities and names in its logs: the
// application, and its version when the binary was built from a tagged
// module.
func origin() map[string]string {
	o := map[string]string{"name": "Pintu", "support_url": "https://github.com/pintu/pintu"}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		o["sw_version"] = bi.Main.Version
	}
	return o
}

// haLockCommandTemplate is the lock entity's command_template. tojson
// quotes the values, so a code holding a quote or a backslash still makes
// valid JSON (Home Assistant renders it with Jinja).
const haLockCommandTemplate = `{"action":{{ value | tojson }},"code":{{ code | tojson }}}`

// discoveryConfigs returns the config topic and payload of each entity of
// door; a nil payload removes the entity.
//
// default_entity_id replaces object_id, deprecated in Home Assistant
// 2025.10: it is the full entity id the entity gets when first added,
// domain included, e.g. binary_sensor.pintu_lab_server_room_door.
func (l *Link) discoveryConfigs(door string) map[string]map[string]any {
	node := "pintu_" + strings.ReplaceAll(Slug(l.site), "-", "_") + "_" + strings.ReplaceAll(Slug(door), "-", "_")
	device := map[string]any{
		"identifiers":  []string{node},
		"name":         l.site + " " + door,
		"manufacturer": "Pintu",
		"model":        "pintud door controller",
	}
	availability := []map[string]string{{"topic": l.t.door(door, "availability")}, {"topic": l.t.bridge("availability")}}
	state := l.t.door(door, "state")
	org := origin()
	entity := func(component, name, id string, extra map[string]any) map[string]any {
		m := map[string]any{
			"name": name, "unique_id": node + "_" + id, "default_entity_id": component + "." + node + "_" + id,
			"device": device, "origin": org, "availability": availability, "availability_mode": "all",
		}
		maps.Copy(m, extra)
		return m
	}
	topic := func(component, id string) string {
		return l.cfg.HomeAssistant.DiscoveryPrefix + "/" + component + "/" + node + "/" + id + "/config"
	}
	out := map[string]map[string]any{
		topic("binary_sensor", "lock"): entity("binary_sensor", "Lock", "lock", map[string]any{
			"device_class": "lock", "state_topic": state,
			"value_template": "{{ 'ON' if value_json.lock == 'unlocked' else 'OFF' }}",
		}),
		topic("binary_sensor", "door"): entity("binary_sensor", "Door", "door", map[string]any{
			"device_class": "door", "state_topic": state,
			"value_template": "{{ 'ON' if value_json.contact == 'open' else 'OFF' }}",
		}),
		topic("binary_sensor", "tamper"): entity("binary_sensor", "Tamper", "tamper", map[string]any{
			"device_class": "tamper", "state_topic": state,
			"value_template": "{{ 'ON' if 'tamper' in value_json.alarms else 'OFF' }}",
		}),
		topic("sensor", "people_inside"): entity("sensor", "People inside", "people_inside", map[string]any{
			"state_topic": state, "state_class": "measurement", "icon": "mdi:account-group",
			"value_template": "{{ value_json.people_inside }}",
		}),
		topic("sensor", "last_access"): entity("sensor", "Last access", "last_access", map[string]any{
			"device_class": "timestamp", "state_topic": l.t.door(door, "last_access"),
			"value_template": "{{ value_json.time }}", "json_attributes_topic": l.t.door(door, "last_access"),
		}),
		topic("event", "access"): entity("event", "Access", "access", map[string]any{
			"state_topic": l.t.door(door, "access"),
			"event_types": []string{"granted", "denied", "pending", "exit"},
		}),
		topic("lock", "remote"): nil,
	}
	if l.cfg.HomeAssistant.LockEntity {
		out[topic("lock", "remote")] = entity("lock", "Remote unlock", "remote", map[string]any{
			"command_topic":    l.t.door(door, "ha/lock/set"),
			"state_topic":      state,
			"value_template":   "{{ 'UNLOCKED' if value_json.lock == 'unlocked' else 'LOCKED' }}",
			"code_format":      `^\S{4,64}$`,
			"command_template": haLockCommandTemplate,
			"payload_open":     "OPEN", "payload_unlock": "UNLOCK", "payload_lock": "LOCK",
		})
	}
	return out
}

// AccessEvent is what the Home Assistant event entity and the last access
// sensor carry.
type AccessEvent struct {
	EventType string    `json:"event_type"` // granted, denied, pending or exit
	Time      time.Time `json:"time"`
	Seq       uint64    `json:"seq"`
	Reader    string    `json:"reader,omitempty"`
	Person    string    `json:"person,omitempty"`
	Visit     string    `json:"visit,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// accessEvents publishes the access reads among evs, which the broker has
// acknowledged, to the Home Assistant event entity and last access sensor.
func (l *Link) accessEvents(ctx context.Context, c *connection, evs []controller.Event) {
	for _, e := range evs {
		if (e.Type != controller.EventAccess && e.Type != controller.EventExit) || !slices.Contains(l.doors, e.Door) {
			continue
		}
		a := AccessEvent{EventType: string(e.Decision), Time: e.Time.UTC(), Seq: e.Seq, Reader: e.Reader, Person: e.Person, Visit: e.Visit, Reason: string(e.Reason)}
		if e.Type == controller.EventExit {
			a.EventType = "exit"
		}
		b, _ := json.Marshal(a)
		l.client.Publish(l.t.door(e.Door, "access"), 0, false, b) // fire and forget: telemetry
		l.publish(ctx, c, l.t.door(e.Door, "last_access"), true, b)
	}
}

// haLockCommand is what the lock entity's command_template sends.
type haLockCommand struct {
	Action string `json:"action"`
	Code   string `json:"code"`
}

// haLimiter rations the lock entity per door, so codes cannot be guessed
// quickly.
var haBurst, haPer = 3, time.Minute

// haLock executes the lock entity's command: OPEN and UNLOCK release the
// strike once for the door's unlock time, LOCK relocks. The code must map
// to a coordinator. Every attempt within the door's limit is audited; those
// over it are dropped unchecked and recorded once a minute, like commands.
func (l *Link) haLock(ctx context.Context, door string, in inbound) {
	if l.haBucket == nil {
		l.haBucket = remote.NewTokenBucket(haBurst, haPer)
	}
	if limit := l.limitTopic(in.topic, "ha/lock/set"); !l.haBucket.Allow(limit, in.at) {
		l.drops.add(limit)
		return
	}
	var cmd haLockCommand
	dec := json.NewDecoder(bytes.NewReader(in.payload))
	dec.DisallowUnknownFields()
	if len(in.payload) > maxRequest || dec.Decode(&cmd) != nil {
		l.ignored("home assistant lock command ignored: not {action, code}", "door", door)
		return
	}
	ci := controller.CodeInput{Door: door, Via: "home_assistant"}
	switch cmd.Action {
	case "OPEN", "UNLOCK":
		ci.Action = remote.ActionUnlock
	case "LOCK":
		ci.Action = remote.ActionLock
	default:
		l.ignored("home assistant lock command ignored: unknown action", "door", door, "action", cmd.Action)
		return
	}
	ci.Person = l.personForCode(cmd.Code)
	res, err := l.ctrl.CodeCommand(ctx, ci)
	if err != nil {
		return
	}
	l.log.Info("home assistant lock command", "door", door, "action", ci.Action, "person", res.Person, "accepted", res.Accepted, "reason", res.Reason, "seq", res.Seq)
}

// personForCode compares code with every configured code in constant time.
func (l *Link) personForCode(code string) string {
	person := ""
	for c, p := range l.cfg.HomeAssistant.Codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			person = p
		}
	}
	return person
}
