package config

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pintu/pintu/controller"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// cmpFile compares Files: locations by name, the unexported bookkeeping not
// at all (TestSetStateDir covers it).
var cmpFile = cmp.Options{
	cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
	cmpopts.IgnoreUnexported(File{}),
	cmpopts.IgnoreFields(Device{}, "Line"), // hardware_test.go checks lines
}

// minimal is the smallest valid file: everything else is a default.
const minimal = `site:
  name: Lab
doors:
  - name: d1
    readers:
      - {name: in, direction: entry, driver: sim}
    relay: {driver: sim}
`

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseDefaults(t *testing.T) {
	got, err := Parse("pintud.yaml", []byte(minimal))
	if err != nil {
		t.Fatalf("Parse(minimal) error: %v", err)
	}
	want := &File{
		Site:     Site{Name: "Lab", Timezone: "Asia/Jakarta", RequireClockSync: true},
		Location: mustLocation(t, "Asia/Jakarta"),
		StateDir: "./pintu-data",
		API:      API{Socket: filepath.Join("pintu-data", "pintud.sock")},
		Roles: Roles{
			RoomAccess: []controller.Role{controller.RoleCoordinator, controller.RoleOfficer},
			Escort:     []controller.Role{controller.RoleCoordinator, controller.RoleOfficer},
		},
		SOP: SOP{StepStandards: controller.DefaultStepStandards, MaxVisitWindow: 12 * time.Hour},
		Doors: []Door{{
			Name: "d1", Unlock: 5 * time.Second, HeldOpen: 30 * time.Second, EscortWindow: 30 * time.Second,
			RelockOnClose: true,
			Readers:       []Reader{{Name: "in", Direction: controller.Entry, Device: Device{Driver: "sim"}}},
			Relay:         Relay{Device: Device{Driver: "sim"}},
		}},
	}
	if diff := cmp.Diff(want, got, cmpFile); diff != "" {
		t.Errorf("Parse(minimal) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseValues(t *testing.T) {
	const in = `site:
  name: Kantor Pusat
  timezone: Asia/Makassar
  require_clock_sync: false
state_dir: /var/lib/pintu
roles:
  room_access: [coordinator]
  escort: []
sop:
  step_standards:
    4: 20m
    8: 1h
  max_visit_window: 8h
doors:
  - name: a
    unlock: 1m30s
    held_open: 45s
    escort_window: 10s
    relock_on_close: false
    two_person: true
    readers:
      - name: in
        direction: entry
        driver: sim
      - {name: out, direction: exit, driver: sim}
    relay: {driver: sim, active_low: true, fail_safe: True}
    contact: {driver: sim}
  - name: b
    readers: [{name: in, direction: entry, driver: sim}]
    relay: {driver: sim}
    rex: {driver: sim}
    contact: ~
`
	got, err := Parse("pintud.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	steps := controller.DefaultStepStandards
	steps[3], steps[7] = 20*time.Minute, time.Hour
	sim := Device{Driver: "sim"}
	want := &File{
		Site:     Site{Name: "Kantor Pusat", Timezone: "Asia/Makassar"},
		Location: mustLocation(t, "Asia/Makassar"),
		StateDir: "/var/lib/pintu",
		API:      API{Socket: "/var/lib/pintu/pintud.sock"},
		Roles:    Roles{RoomAccess: []controller.Role{controller.RoleCoordinator}, Escort: []controller.Role{}},
		SOP:      SOP{StepStandards: steps, MaxVisitWindow: 8 * time.Hour},
		Doors: []Door{{
			Name: "a", Unlock: 90 * time.Second, HeldOpen: 45 * time.Second, EscortWindow: 10 * time.Second,
			TwoPerson: true,
			Readers: []Reader{
				{Name: "in", Direction: controller.Entry, Device: sim},
				{Name: "out", Direction: controller.Exit, Device: sim},
			},
			Relay:   Relay{Device: sim, ActiveLow: true, FailSafe: true},
			Contact: &sim,
		}, {
			Name: "b", Unlock: 5 * time.Second, HeldOpen: 30 * time.Second, EscortWindow: 30 * time.Second,
			RelockOnClose: true,
			Readers:       []Reader{{Name: "in", Direction: controller.Entry, Device: sim}},
			Relay:         Relay{Device: sim},
			REX:           &sim,
		}},
	}
	if diff := cmp.Diff(want, got, cmpFile); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseAliases(t *testing.T) {
	const in = `site: {name: Lab}
doors:
  - name: a
    readers: &readers
      - {name: in, direction: entry, driver: sim}
      - {name: out, direction: exit, driver: sim}
    relay: &sim {driver: sim}
  - name: b
    readers: *readers
    relay: *sim
`
	f, err := Parse("pintud.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	if got := len(f.Doors[1].Readers); got != 2 {
		t.Errorf("len(Doors[1].Readers) = %d, want 2", got)
	}
}

// TestShippedFiles parses the embedded default and the example an installer
// copies, and checks the example names every key the schema knows.
func TestShippedFiles(t *testing.T) {
	for _, name := range []string{"default.yaml", "example.yaml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			known := map[string]bool{}
			index := regexp.MustCompile(`\[\d+\]`)
			f, err := parse(name, data, func(path string, present bool) {
				path = index.ReplaceAllString(path, "[]")
				known[path] = known[path] || present
			})
			if err != nil {
				t.Fatalf("Parse(%s) error:\n%v", name, err)
			}
			if err := f.Controller().Validate(); err != nil {
				t.Errorf("Parse(%s).Controller().Validate() = %v, want nil", name, err)
			}
			if name != "example.yaml" {
				return
			}
			for path, present := range known {
				if !present {
					t.Errorf("example.yaml does not document %s", path)
				}
			}
			if len(known) < 30 {
				t.Errorf("the schema traced %d keys, want at least 30: is the trace hook wired?", len(known))
			}
		})
	}
}

func TestDefault(t *testing.T) {
	f := Default()
	if diff := cmp.Diff(controller.DefaultConfig(), f.Controller()); diff != "" {
		t.Errorf("Default().Controller() mismatch with controller.DefaultConfig() (-want +got):\n%s", diff)
	}
	sim := Device{Driver: DriverSim}
	d := f.Doors[0]
	if d.Relay.Driver != sim.Driver || d.Contact == nil || d.Contact.Driver != sim.Driver || d.REX == nil || d.REX.Driver != sim.Driver {
		t.Errorf("Default() door hardware = %+v, %v, %v; want all sim", d.Relay, d.Contact, d.REX)
	}
	if f.StateDir != DefaultStateDir || f.Location.String() != DefaultTimezone {
		t.Errorf("Default() StateDir, Location = %q, %v; want %q, %s", f.StateDir, f.Location, DefaultStateDir, DefaultTimezone)
	}
}

// TestSetStateDir: -data DIR puts the state and the API socket in DIR,
// whether the socket was derived from state_dir or set in api.socket.
func TestSetStateDir(t *testing.T) {
	f := Default()
	if err := f.SetStateDir("/tmp/x"); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("/tmp/x", SocketName); f.StateDir != "/tmp/x" || f.API.Socket != want {
		t.Errorf("after SetStateDir: StateDir, Socket = %q, %q; want %q, %q", f.StateDir, f.API.Socket, "/tmp/x", want)
	}

	f, err := Parse("pintud.yaml", []byte(minimal+"api: {socket: /run/pintu/pintud.sock}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetStateDir("/tmp/x"); err != nil {
		t.Fatal(err)
	}
	if want := "/tmp/x/pintud.sock"; f.API.Socket != want {
		t.Errorf("after SetStateDir with api.socket set: Socket = %q, want %q", f.API.Socket, want)
	}

	long := "/tmp/" + strings.Repeat("d", 100)
	if err := f.SetStateDir(long); err == nil || !strings.Contains(err.Error(), "at most 107") || f.StateDir != "/tmp/x" {
		t.Errorf("SetStateDir(%d bytes) = %v, StateDir %q; want an error and nothing changed", len(long), err, f.StateDir)
	}
}

// TestSocketStory: the API socket is api.socket, by default pintud.sock in
// state_dir; the package's configuration and example.yaml put it in
// /run/pintu, where the unit's RuntimeDirectory is.
func TestSocketStory(t *testing.T) {
	if f := Default(); f.API.Socket != filepath.Join(DefaultStateDir, SocketName) {
		t.Errorf("Default() socket = %q, want pintud.sock in %s", f.API.Socket, DefaultStateDir)
	}
	f, err := Parse("pintud.yaml", []byte(minimal+"state_dir: /srv/pintu\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.API.Socket != "/srv/pintu/pintud.sock" {
		t.Errorf("socket with state_dir /srv/pintu = %q, want /srv/pintu/pintud.sock", f.API.Socket)
	}
	unit, err := os.ReadFile("../systemd/pintud.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"example.yaml", "pintud.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("\n  socket: /run/pintu/pintud.sock\n")) {
			t.Errorf("%s does not set api.socket to /run/pintu/pintud.sock", name)
		}
	}
	if !bytes.Contains(unit, []byte("\nRuntimeDirectory=pintu\n")) {
		t.Error("pintud.service does not create /run/pintu (RuntimeDirectory=pintu)")
	}
}

func TestControllerCopies(t *testing.T) {
	f := Default()
	c := f.Controller()
	c.RoomAccess[0] = controller.RoleHead
	c.Doors[0].Readers[0].Name = "changed"
	if f.Roles.RoomAccess[0] != controller.RoleCoordinator || f.Doors[0].Readers[0].Name != "entry" {
		t.Errorf("changing Controller()'s result changed the File: %+v", f)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := Load(good); err != nil || f.Site.Name != "Lab" {
		t.Errorf("Load(good) = %v, %v; want site Lab, nil", f, err)
	}

	missing := filepath.Join(dir, "missing.yaml")
	_, err := Load(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) error = %v, want fs.ErrNotExist naming %s", err, missing)
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("Load(big) error = %v, want one about the size", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("site: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 || errs[0].File != bad {
		t.Errorf("Load(bad) error = %v, want Errors naming %s", err, bad)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Key: "site.name", Msg: "missing"}, "a.yaml:3: site.name: missing"},
		{Problem{File: "a.yaml", Line: 1, Msg: "file is empty"}, "a.yaml:1: file is empty"},
		{Problem{File: "a.yaml", Msg: "no line"}, "a.yaml: no line"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
	errs := Errors{tests[0].p, tests[1].p}
	if got, want := errs.Error(), "a.yaml:3: site.name: missing\na.yaml:1: file is empty"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
}

// TestGolden checks the whole report for a file with many problems, so a
// change in wording or order shows up in review.
func TestGolden(t *testing.T) {
	const in, golden = "testdata/broken.yaml", "testdata/broken.golden"
	_, err := Load(in)
	if err == nil {
		t.Fatalf("Load(%s) succeeded, want problems", in)
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Load(%s) error mismatch with %s (-want +got):\n%s", in, golden, diff)
	}
}
