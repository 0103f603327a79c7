package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPackagedFile checks the file the .deb installs as
// /etc/pintu/pintud.yaml: it fails on the site's name alone, so the service
// cannot start before someone named the site, and once named it is a
// working configuration for the service's directories.
func TestPackagedFile(t *testing.T) {
	data, err := os.ReadFile("pintud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("/etc/pintu/pintud.yaml", data)
	var probs Errors
	if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Key != "site.name" {
		t.Fatalf("Parse(packaged pintud.yaml) = %v, want exactly one problem, with site.name", err)
	}

	named := strings.Replace(string(data), "  name:\n", "  name: Ruang Server, Dinas Kominfo\n", 1)
	f, err := Parse("/etc/pintu/pintud.yaml", []byte(named))
	if err != nil {
		t.Fatalf("Parse(packaged pintud.yaml with the site named) = %v, want no problem", err)
	}
	got := struct{ StateDir, Socket string }{f.StateDir, f.API.Socket}
	want := struct{ StateDir, Socket string }{"/var/lib/pintu", "/run/pintu/pintud.sock"}
	if got != want {
		t.Errorf("packaged pintud.yaml: state_dir and api.socket = %+v, want the service's directories %+v", got, want)
	}
	if f.Metrics != nil || f.Backup != nil || f.MQTT != nil {
		t.Errorf("packaged pintud.yaml turns on an optional section (metrics %v, backup %v, mqtt %v); each must be off until uncommented",
			f.Metrics, f.Backup, f.MQTT)
	}
}

func TestApplianceSections(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		metrics *Metrics
		backup  *Backup
	}{
		{"absent", "", nil, nil},
		{"metrics", "metrics: {listen: 127.0.0.1:9464}\n", &Metrics{Listen: "127.0.0.1:9464"}, nil},
		{"metrics ipv6", "metrics: {listen: \"[::1]:9464\"}\n", &Metrics{Listen: "[::1]:9464"}, nil},
		{"backup defaults", "backup: {dir: /var/lib/pintu/backups}\n", nil,
			&Backup{Dir: "/var/lib/pintu/backups", Every: 24 * time.Hour, Keep: 7}},
		{"backup set", "backup: {dir: /mnt/usb/pintu, every: 6h, keep: 28}\n", nil,
			&Backup{Dir: "/mnt/usb/pintu", Every: 6 * time.Hour, Keep: 28}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("pintud.yaml", []byte(minimal+tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.metrics, f.Metrics); diff != "" {
				t.Errorf("Metrics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.backup, f.Backup); diff != "" {
				t.Errorf("Backup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplianceSectionErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"metrics without listen", "metrics: {}\n", "pintud.yaml:8: metrics.listen: missing"},
		{"metrics empty", "metrics:\n", "pintud.yaml:8: metrics.listen: missing"},
		{"metrics no port", "metrics: {listen: 127.0.0.1}\n",
			`pintud.yaml:8: metrics.listen: "127.0.0.1" is not an address (want host:port such as 127.0.0.1:9464)`},
		{"metrics bad port", "metrics: {listen: 127.0.0.1:99999}\n",
			`pintud.yaml:8: metrics.listen: "127.0.0.1:99999" is not an address (want host:port such as 127.0.0.1:9464)`},
		{"metrics every interface", "metrics: {listen: \":9464\"}\n",
			`pintud.yaml:8: metrics.listen: ":9464" names no host; write 127.0.0.1:9464 for this machine only, or 0.0.0.0:9464 for every interface`},
		{"metrics unknown key", "metrics: {listen: 127.0.0.1:9464, path: /m}\n",
			"pintud.yaml:8: metrics.path: unknown key (want listen)"},
		{"backup without dir", "backup: {keep: 3}\n", "pintud.yaml:8: backup.dir: missing"},
		{"backup relative dir", "backup: {dir: backups}\n", `pintud.yaml:8: backup.dir: "backups" is not an absolute path`},
		{"backup too often", "backup: {dir: /b, every: 24s}\n", `pintud.yaml:8: backup.every: "24s" is too often (want at least 10m0s)`},
		{"backup keeps none", "backup: {dir: /b, keep: 0}\n", "pintud.yaml:8: backup.keep: 0 keeps no backup (want 1 or more)"},
		{"backup keep not a number", "backup: {dir: /b, keep: all}\n", `pintud.yaml:8: backup.keep: "all" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pintud.yaml", []byte(minimal+tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse(%q) = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}
