package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
)

// bodies are the request bodies by route, for the decoder tests and the
// fuzz target.
var bodies = map[string]func() body{
	"person": func() body { return &personBody{} },
	"assign": func() body { return &assignBody{} },
	"revoke": func() body { return &revokeBody{} },
	"visit":  func() body { return &visitBody{} },
	"check":  func() body { return &stepBody{action: controller.ActionCheck} },
	"reject": func() body { return &stepBody{action: controller.ActionReject} },
	"report": func() body { return &stepBody{action: controller.ActionReport} },
	"tap":    func() body { return &tapBody{} },
	"door":   func() body { return &doorBody{} },
	"rex":    func() body { return &rexBody{} },
	"update": func() body { return &personUpdateBody{} },
	"empty":  func() body { return &emptyBody{} },
	"ack":    func() body { return &ackBody{} },
	"lock":   func() body { return &lockdownBody{} },
	"tamper": func() body { return &doorBody{} },
}

var decodeTests = []struct {
	kind, in, wantErr string
}{
	{"person", `{"id":"ani","name":"Ani","roles":["officer","coordinator"],"org":"Diskominfo","id_doc":"NIP 1"}`, ""},
	{"person", `{"id":"ani","name":"Ani","roles":["Officer"]}`, ""},
	{"person", `{"id":"ani","name":"Ani","roles":[]}`, `missing field "roles"`},
	{"person", `{"id":"ani","name":"  ","roles":["officer"]}`, `missing field "name"`},
	{"person", `{"id":"ani","name":"Ani","roles":"officer"}`, `decode request body: field "roles": want array, got string`},
	{"person", `{"id":"ani","name":"Ani","roles":[1]}`, `decode request body: field "roles": want string, got number`},
	{"person", `{"id":"ani","name":"Ani","roles":["officer"],"id_doc":{}}`, `decode request body: field "id_doc": want string, got object`},
	{"person", `null`, `missing field "id"`},
	{"person", `"ani"`, `decode request body: want a JSON object, got string`},
	{"person", `{"id":"ani"}{"id":"budi"}`, `decode request body: data after the JSON object`},
	{"person", `{"id":"ani"} `, `missing field "name"`},
	{"person", `{"ID":"ani","name":"Ani","roles":["officer"]}`, ""}, // encoding/json matches names without case
	{"person", "", `decode request body: empty body, want a JSON object`},
	{"person", `{`, `decode request body: unexpected EOF`},
	{"person", `{"id":"ani",}`, `decode request body: invalid character '}' looking for beginning of object key string (at byte 13)`},
	{"assign", `{"card":"C-1","person":"ani"}`, ""},
	{"assign", `{"card":"C-1"}`, `missing field "person"`},
	{"assign", `{"card":"C-1","person":"ani","holder":"x"}`, `decode request body: unknown field "holder"`},
	{"revoke", `{"card":"C-1"}`, ""},
	{"revoke", `{}`, `missing field "card"`},
	{"visit", `{"visitor":"budi","by":"adm","purpose":"disk","from":"2026-11-02T10:00:00+07:00","until":"2026-11-02T12:00:00+07:00"}`, ""},
	{"visit", `{"visitor":"budi","by":"adm","purpose":"disk"}`, ""},
	{"visit", `{"visitor":"budi","by":"adm","purpose":"disk","until":"2026-11-02 12:00"}`, `field "until": bad time "2026-11-02 12:00": want RFC 3339 such as 2026-01-02T15:04:05+07:00`},
	{"visit", `{"visitor":"budi","by":"adm","purpose":"disk","from":"2026-11-02T12:00:00Z","until":"2026-11-02T12:00:00Z"}`, `field "until" (2026-11-02T12:00:00Z) must be after "from" (2026-11-02T12:00:00Z)`},
	{"visit", `{"visitor":"budi","purpose":"disk"}`, ""}, // who acts comes from the socket; --by is optional
	{"check", `{"by":"koor"}`, ""},
	{"check", `{"by":"koor","text":"looks complete"}`, ""},
	{"check", `{"text":"x"}`, ""}, // who acts comes from the socket; --by is optional
	{"reject", `{"by":"kabid","text":"no work order"}`, ""},
	{"reject", `{"by":"kabid"}`, `missing field "text": reject needs it (the reason for rejecting)`},
	{"report", `{"by":"koor","text":""}`, `missing field "text": report needs it (the report of the work done)`},
	{"tap", `{"door":"server-room","reader":"entry","card":"C-1"}`, ""},
	{"tap", `{"door":"server-room","reader":"entry"}`, `missing field "card"`},
	{"door", `{"door":"server-room","open":false}`, ""},
	{"door", `{"door":"server-room","open":"yes"}`, `decode request body: field "open": want true or false, got string`},
	{"door", `{"door":"server-room"}`, `missing field "open"`},
	{"rex", `{"door":"server-room"}`, ""},
	{"rex", `{"door":""}`, `missing field "door"`},
	{"update", `{"name":"Joko","roles":["officer","coordinator"],"org":"","id_doc":"NIP 2"}`, ""},
	{"update", `{"org":""}`, ""},
	{"update", `{}`, "nothing to change: give name, roles, org or id_doc"},
	{"update", `{"name":null}`, "nothing to change: give name, roles, org or id_doc"},
	{"update", `{"name":" "}`, `field "name" is empty`},
	{"update", `{"roles":[]}`, `field "roles" is empty (a person holds at least one role)`},
	{"update", `{"roles":"officer"}`, `decode request body: field "roles": want array, got string`},
	{"update", `{"roles":["boss"]}`, `field "roles": unknown role "boss" (want one of admin, coordinator, head, officer, visitor)`},
	{"update", `{"id":"x","name":"y"}`, `decode request body: unknown field "id"`},
	{"empty", `{}`, ""},
	{"empty", `{"by":"x"}`, `decode request body: unknown field "by"`},
	{"empty", ``, `decode request body: empty body, want a JSON object`},
	{"ack", `{"by":"koor","note":"checked, cleaner"}`, ""},
	{"ack", `{"by":"koor"}`, ""},
	{"ack", `{"note":"x"}`, ""}, // who acts comes from the socket; --by is optional
	{"ack", `{"by":"koor","note":7}`, `decode request body: field "note": want string, got number`},
	{"lock", `{"door":"server-room","by":"koor"}`, ""},
	{"lock", `{"by":"koor"}`, ""},
	{"lock", `{"door":"server-room"}`, ""}, // who acts comes from the socket; --by is optional
	{"lock", `{"by":"koor","all":true}`, `decode request body: unknown field "all"`},
	{"tamper", `{"door":"server-room","open":true}`, ""},
	{"tamper", `{"door":"server-room","open":1}`, `decode request body: field "open": want true or false, got number`},
}

func TestDecodeBody(t *testing.T) {
	for _, tt := range decodeTests {
		t.Run(tt.kind+" "+tt.in, func(t *testing.T) {
			err := decodeBody(strings.NewReader(tt.in), bodies[tt.kind]())
			got := ""
			if err != nil {
				got = err.Error()
				if statusFor(err) != 400 {
					t.Errorf("status of %q = %d, want 400", err, statusFor(err))
				}
			}
			if got != tt.wantErr {
				t.Errorf("decodeBody(%s) = %q, want %q", tt.in, got, tt.wantErr)
			}
		})
	}
}

// FuzzDecodeBody checks the decoders never panic, fail only with a 400, and
// accept again what they accepted once.
func FuzzDecodeBody(f *testing.F) {
	kinds := slices.Sorted(maps.Keys(bodies))
	for _, tt := range decodeTests {
		f.Add(tt.kind, []byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, kind string, in []byte) {
		mk, ok := bodies[kind]
		if !ok {
			mk = bodies[kinds[len(kind)%len(kinds)]]
		}
		b := mk()
		err := decodeBody(bytes.NewReader(in), b)
		if err != nil {
			if statusFor(err) != 400 || err.Error() == "" {
				t.Fatalf("decodeBody(%q) = %v (status %d), want a 400 with a message", in, err, statusFor(err))
			}
			return
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal accepted body: %v", err)
		}
		if err := decodeBody(bytes.NewReader(again), mk()); err != nil {
			t.Fatalf("decodeBody accepted %q but refuses its re-encoding %q: %v", in, again, err)
		}
	})
}
