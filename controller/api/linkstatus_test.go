package api_test

import (
	"encoding/json"
	"testing"

	"github.com/pintu/pintu/controller/api"
)

// TestStatusShowsMQTT: with a broker, status carries the link's state under
// "mqtt" beside the controller's; without one it has no "mqtt" at all.
func TestStatusShowsMQTT(t *testing.T) {
	link := map[string]any{"state": "down", "since": "2026-11-02T01:55:00Z", "last_error": "not Authorized", "backlog": 42.0}
	tests := []struct {
		name string
		mqtt func() any
		want any
	}{
		{"no broker", nil, nil},
		{"broker", func() any { return link }, link},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(_ *env, o *api.Options) { o.MQTT = tt.mqtt })
			r := e.do("GET", "/v1/status", "")
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
				t.Fatalf("GET /v1/status = %d %s, %v", r.status, r.body, err)
			}
			if got["site"] == nil || got["doors"] == nil {
				t.Errorf("status = %s, want the controller's fields at the top", r.body)
			}
			m, ok := got["mqtt"]
			if tt.want == nil && ok {
				t.Errorf("status has mqtt %v without a broker", m)
			}
			if tt.want != nil {
				b, _ := json.Marshal(m)
				w, _ := json.Marshal(tt.want)
				if string(b) != string(w) {
					t.Errorf("status mqtt = %s, want %s", b, w)
				}
			}
		})
	}
}
