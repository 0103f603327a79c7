package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConsole(t *testing.T) {
	f, err := Parse("pintud.yaml", []byte(minimal+"console:\n  listen: 0.0.0.0:8443\n  idle_timeout: 10m\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Console{Listen: "0.0.0.0:8443", IdleTimeout: 10 * time.Minute, AbsoluteTimeout: DefaultConsoleAbsolute}
	if diff := cmp.Diff(want, f.Console); diff != "" {
		t.Errorf("Console mismatch (-want +got):\n%s", diff)
	}
	if f, err := Parse("pintud.yaml", []byte(minimal)); err != nil || f.Console != nil {
		t.Errorf("Parse without console = %+v, %v; want the console off", f.Console, err)
	}
}

func TestConsoleErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"console:\n  plain_http: true\n", "console.listen: missing"},
		{"console:\n  listen: 8443\n", `console.listen: "8443" is not an address to listen on`},
		{"console:\n  listen: 0.0.0.0:99999\n", "is not an address to listen on"},
		{"console:\n  listen: pintu.local:8443\n", "give an IP address"},
		{"console:\n  listen: :8443\n  cert_file: c.pem\n", "console.cert_file: needs key_file too"},
		{"console:\n  listen: :8443\n  cert_file: c.pem\n  key_file: k.pem\n  plain_http: true\n", "console.plain_http: is true, but cert_file is set"},
		{"console:\n  listen: :8443\n  idle_timeout: 9h\n", "console.idle_timeout: (9h0m0s) is longer than absolute_timeout (8h0m0s)"},
		{"console:\n  listen: :8443\n  port: 1\n", "console.port: unknown key"},
	} {
		_, err := Parse("pintud.yaml", []byte(minimal+tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}
