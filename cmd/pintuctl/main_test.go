package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the server names Asia/Jakarta; show it wherever the tests run

	"github.com/google/go-cmp/cmp"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/password"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is 09:00 in Jakarta.
var t0 = time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)

// clock is the controller's and pintuctl's wall clock; tests move it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// daemon is pintud in-process: a controller on a memstore behind the API on
// a socket in a temporary directory.
type daemon struct {
	t     *testing.T
	ctrl  *controller.Controller
	store controller.Store
	clock *clock
	sock  string
	// terminal makes pintuctl take its stdout for a terminal.
	terminal bool
	// stop stops the controller, as pintud does on SIGTERM, leaving the
	// API up.
	stop func()
}

func startDaemon(t *testing.T, mods ...func(*daemon, *api.Options)) *daemon {
	t.Helper()
	return startDaemonOn(t, memstore.New(), mods...)
}

// startDaemonOn starts pintud on store, which may hold records already.
func startDaemonOn(t *testing.T, store controller.Store, mods ...func(*daemon, *api.Options)) *daemon {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, clock: &clock{now: t0}, store: store}
	d.ctrl, err = controller.New(controller.DefaultConfig(), d.store, nil, controller.Options{Now: d.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	opts := api.Options{Sim: doorio.NewSim(d.ctrl), SimIdentity: true, Location: loc,
		Hasher: password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)}
	for _, m := range mods {
		m(d, &opts)
	}
	srv := api.New(d.ctrl, opts)
	d.sock = filepath.Join(t.TempDir(), "pintud.sock")
	ln, err := srv.Listen(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ctrlCtx, stopCtrl := context.WithCancel(ctx)
	var wg sync.WaitGroup
	ctrlDone := make(chan struct{})
	wg.Go(func() { d.ctrl.Run(ctrlCtx); close(ctrlDone) })
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	d.stop = func() { stopCtrl(); <-ctrlDone }
	t.Cleanup(func() { cancel(); wg.Wait() })
	return d
}

// result is what one run of pintuctl did.
type result struct {
	stdout, stderr string
	err            error
	code           int // the exit status
}

// run runs pintuctl with args against d, with env as its environment.
func (d *daemon) run(env map[string]string, args ...string) result {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, now: d.clock.Now,
		getenv: func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			if k == "PINTU_SOCKET" {
				return d.sock
			}
			return ""
		}}
	c.isTerminal = func(io.Writer) bool { return d.terminal }
	err := c.run(context.Background(), args)
	code := c.exit(err, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err, code: code}
}

// must runs pintuctl and fails the test if it fails.
func (d *daemon) must(env map[string]string, args ...string) string {
	d.t.Helper()
	r := d.run(env, args...)
	if r.err != nil {
		d.t.Fatalf("pintuctl %s: %v\nstderr:\n%s", strings.Join(args, " "), r.err, r.stderr)
	}
	if r.stderr != "" {
		d.t.Errorf("pintuctl %s wrote to stderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	return r.stdout
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// session is a day at the server room door, as the operators type it. Each
// step moves the clock by after first.
var session = []struct {
	after time.Duration
	args  string
}{
	{0, "person add --id adm --name 'Sari Admin' --role admin"},
	{0, "person add --id koor --name 'Bayu Koordinator' --role coordinator"},
	{0, "person add --id kabid --name 'Rina Kepala Bidang' --role head"},
	{0, "person add --id off --name 'Joko Petugas' --role officer,coordinator"},
	{0, "person add -id budi -name 'Budi Santoso' -role visitor -org 'PT Data Nusantara' -id-doc 'KTP 1702'"},
	{0, "person list"},
	{0, "card assign --person off --card C-OFF"},
	{0, "card assign --person budi --card=C-BUDI"},
	{0, "status"},
	{0, "visit submit --visitor budi --by adm --purpose 'replace a disk' --devices 'laptop, screwdriver'"},
	{0, "visit list"},
	{4 * time.Minute, "visit check V0001 --by koor"},
	{7 * time.Minute, "visit approve V0001 --by kabid"},
	{0, "visit list --state approved"},
	{time.Minute, "sim tap --door server-room --reader entry --card C-BUDI"},
	{10 * time.Second, "sim tap --door server-room --reader entry --card C-OFF"},
	{time.Second, "sim door --door server-room open"},
	{0, "status"},
	{2 * time.Second, "sim door --door server-room close"},
	{20 * time.Minute, "sim tap --door server-room --reader exit --card C-BUDI"},
	{time.Second, "sim door open --door server-room"},
	{time.Second, "sim door --door server-room close"},
	{3 * time.Minute, "visit return-id V0001 --by adm"},
	{12 * time.Minute, "visit report V0001 --by koor --text 'replaced disk 3 in rack A'"},
	{5 * time.Minute, "visit order-archive V0001 --by kabid"},
	{9 * time.Minute, "visit archive V0001 --by adm"},
	{0, "visit show V0001"},
	{time.Minute, "visit submit --visitor budi --by adm --purpose 'check the UPS' --from 2026-11-03T09:00:00+07:00 --until 2026-11-03T10:00:00+07:00 --escort off"},
	{time.Minute, "visit check V0002 --by koor"},
	{time.Minute, "visit reject V0002 --by kabid --reason 'no work order'"},
	{0, "visit show V0002"},
	{0, "sim tap --door server-room --reader entry --card C-NOBODY"},
	{time.Minute, "sim rex --door server-room"},
	{time.Second, "sim door --door server-room open"},
	{time.Second, "sim door --door server-room close"},
	{time.Minute, "sim tamper --door server-room open"},
	{0, "status"},
	{time.Minute, "sim tamper --door server-room close"},
	{0, "alarm list"},
	{time.Minute, "alarm ack A0039 --by koor --note 'cover screw loose, tightened'"},
	{0, "alarm list"},
	{time.Minute, "door lockdown --by kabid"},
	{time.Second, "sim tap --door server-room --reader entry --card C-OFF"},
	{time.Second, "sim tap --door server-room --reader exit --card C-OFF"},
	{0, "status"},
	{time.Minute, "door release --door server-room --by koor"},
	{time.Minute, "person update --id off --name 'Joko Santoso' --org Diskominfo"},
	{0, "person disable --id off"},
	{time.Second, "sim tap --door server-room --reader entry --card C-OFF"},
	{time.Second, "person enable --id off"},
	{0, "person list"},
	{time.Minute, "card revoke --card C-BUDI"},
	{0, "status"},
	{0, "events --since 2026-11-02T10:00:00+07:00"},
	{0, "verify"},
}

// splitArgs splits a command line on spaces, keeping 'quoted' words whole.
func splitArgs(s string) []string {
	var args []string
	for i, part := range strings.Split(s, "'") {
		if i%2 == 1 {
			args = append(args, part)
			continue
		}
		args = append(args, strings.Fields(part)...)
	}
	return args
}

// TestSession runs the session in English and in Indonesian and compares
// what an operator sees with the golden files.
func TestSession(t *testing.T) {
	for _, lang := range []string{"en", "id"} {
		t.Run(lang, func(t *testing.T) {
			d := startDaemon(t)
			env := map[string]string{"PINTU_LANG": lang}
			var out bytes.Buffer
			for _, s := range session {
				d.clock.Add(s.after)
				fmt.Fprintf(&out, "$ pintuctl %s\n%s\n", s.args, d.must(env, splitArgs(s.args)...))
			}
			golden(t, "session."+lang+".golden", out.Bytes())
		})
	}
}

// seed runs the first steps of the session: people, cards and an approved
// visit V0001.
func (d *daemon) seed() *daemon {
	d.t.Helper()
	for _, s := range session {
		if strings.HasPrefix(s.args, "visit list") {
			break
		}
		d.must(nil, splitArgs(s.args)...)
	}
	d.must(nil, "visit", "check", "V0001", "--by", "koor")
	d.must(nil, "visit", "approve", "V0001", "--by", "kabid")
	return d
}

// TestJSON checks the machine-readable shapes of every command's --json.
func TestJSON(t *testing.T) {
	d := startDaemon(t).seed()
	tests := []struct {
		args string
		want []string // top-level keys; of the first element for arrays
	}{
		{"status --json", []string{"site", "time", "clock_trusted", "doors", "alarms", "inside"}},
		{"--json person list", []string{"id", "name", "roles"}},
		{"person add --id ani --name Ani --role officer --json", []string{"id", "name", "roles"}},
		{"card assign --person ani --card C-ANI --json", []string{"id", "person", "assigned_at"}},
		{"card revoke --card C-ANI --json", []string{"id", "person", "revoked", "assigned_at", "revoked_at"}},
		{"visit submit --visitor budi --by adm --purpose x --json", []string{"id", "state", "visitor", "purpose", "from", "until", "steps"}},
		{"visit check V0002 --by koor --json", []string{"id", "state", "steps"}},
		{"visit show V0001 --json", []string{"id", "state", "visitor", "steps"}},
		{"visit list --json", []string{"id", "state"}},
		{"visit list --state approved --json", []string{"id", "state"}},
		{"sim tap --door server-room --reader entry --card C-NOBODY --json", []string{"decision", "reason"}},
		{"sim door --door server-room open --json", []string{"door", "contact"}},
		{"sim door --door server-room close --json", []string{"door", "contact"}},
		{"sim rex --door server-room --json", []string{"door", "released", "logged"}},
		{"sim tamper --door server-room open --json", []string{"door", "enclosure"}},
		{"status --json", []string{"alarms", "awaiting_ack"}},
		{"alarm list --json", []string{"id", "kind", "door", "since", "active", "needs_ack"}},
		{"door lockdown --by koor --json", []string{"lockdown", "doors"}},
		{"door release --by koor --json", []string{"lockdown", "doors"}},
		{"person update --id off --org X --json", []string{"id", "name", "roles", "org"}},
		{"person disable --id off --json", []string{"id", "disabled", "disabled_at"}},
		{"person enable --id off --json", []string{"id", "name"}},
		{"events --json", []string{"seq", "time", "type", "clock_trusted", "hash"}},
		{"verify --json", []string{"ok", "count"}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			out := d.must(nil, strings.Fields(tt.args)...)
			var v any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if a, ok := v.([]any); ok {
				if len(a) == 0 {
					t.Fatalf("output is an empty array")
				}
				v = a[0]
			}
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("output is %T, want an object", v)
			}
			for _, k := range tt.want {
				if _, ok := obj[k]; !ok {
					t.Errorf("output lacks %q:\n%s", k, out)
				}
			}
		})
	}
}

func TestJSONValues(t *testing.T) {
	d := startDaemon(t).seed()
	var tap struct{ Decision, Reason string }
	if err := json.Unmarshal([]byte(d.must(nil, "sim", "tap", "--door", "server-room", "--reader", "entry", "--card", "C-BUDI", "--json")), &tap); err != nil {
		t.Fatal(err)
	}
	if tap.Decision != "pending" || tap.Reason != "waiting_for_escort" {
		t.Errorf("sim tap --json = %+v, want pending, waiting_for_escort", tap)
	}
	var v struct{ ID, State, From, Until string }
	if err := json.Unmarshal([]byte(d.must(nil, "visit", "submit", "--visitor", "budi", "--by", "adm", "--purpose", "x", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	want := struct{ ID, State, From, Until string }{"V0002", "submitted", "2026-11-02T02:00:00Z", "2026-11-02T04:00:00Z"}
	if v != want {
		t.Errorf("visit submit --json = %+v, want %+v", v, want)
	}
}

// TestUsageErrors checks command-line mistakes fail with exit status 2, a
// message naming the problem and the one usage line that fits on stderr
// (not the whole usage), and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	d := startDaemon(t)
	tests := []struct {
		args      string
		wantErr   string
		wantUsage string // in stderr
	}{
		{"", "no command given", "Usage: pintuctl [-socket PATH]"},
		{"bogus", `unknown command "bogus"`, `Run "pintuctl help" for the commands.`},
		{"visit bogus V0001", `unknown command "visit bogus"`, "pintuctl visit commands: submit, check, approve, reject, return-id, report, order-archive, archive, show, list, dossier"},
		{"visit", `"visit" needs a subcommand`, "pintuctl visit commands: submit, check,"},
		{"--bogus status", "flag provided but not defined: -bogus", "Usage: pintuctl [-socket PATH]"},
		{"person add --id ani --role officer", "person add: missing required flag --name", "Usage: pintuctl person add --id ID --name NAME"},
		{"person add --id ani --name Ani --role officer --nick an", "flag provided but not defined: -nick", "Usage: pintuctl person add"},
		{"person list extra", `unexpected argument "extra"`, "Usage: pintuctl person list"},
		{"card assign --card C-1", "missing required flag --person", "Usage: pintuctl card assign"},
		{"card revoke", "missing required flag --card", "Usage: pintuctl card revoke"},
		{"visit submit --visitor budi --by adm", "missing required flag --purpose", "Usage: pintuctl visit submit"},
		{"visit submit --visitor budi --by adm --purpose x --from tomorrow", `visit submit: --from: bad time "tomorrow": want RFC 3339 such as 2026-01-02T15:04:05+07:00`, "Usage: pintuctl visit submit"},
		{"visit submit --visitor budi --by adm --purpose x --until 17:00", `--until: bad time "17:00"`, "Usage: pintuctl visit submit"},
		{"visit approve --by kabid", "visit approve: missing argument VISIT", "Usage: pintuctl visit approve VISIT [--by ID]"},
		{"visit approve V0001 V0002 --by kabid", `unexpected argument "V0002"`, "Usage: pintuctl visit approve"},
		{"visit reject V0001 --by kabid", "missing required flag --reason", "Usage: pintuctl visit reject VISIT [--by ID] --reason TEXT"},
		{"visit report V0001 --by koor", "missing required flag --text", "Usage: pintuctl visit report VISIT [--by ID] --text TEXT"},
		{"visit show", "missing argument VISIT", "Usage: pintuctl visit show VISIT"},
		{"visit list --state", "flag needs an argument: -state", "Usage: pintuctl visit list"},
		{"sim tap --door server-room --card C-1", "missing required flag --reader", "Usage: pintuctl sim tap"},
		{"sim door --door server-room", "missing argument open|close", "Usage: pintuctl sim door --door DOOR open|close"},
		{"sim door --door server-room ajar", `want open or close, got "ajar"`, "Usage: pintuctl sim door"},
		{"sim rex", "missing required flag --door", "Usage: pintuctl sim rex"},
		{"sim tamper --door server-room", "missing argument open|close", "Usage: pintuctl sim tamper --door DOOR open|close"},
		{"sim tamper --door server-room shut", `want open or close, got "shut"`, "Usage: pintuctl sim tamper"},
		{"alarm ack --by koor", "alarm ack: missing argument ALARM-ID", "Usage: pintuctl alarm ack ALARM-ID [--by ID] [--note TEXT]"},
		{"alarm list extra", `unexpected argument "extra"`, "Usage: pintuctl alarm list"},
		{"alarm", `"alarm" needs a subcommand`, "pintuctl alarm commands: list, ack"},
		{"person update --name X", "missing required flag --id", "Usage: pintuctl person update --id ID"},
		{"person update --id off", "nothing to change: give --name, --role, --org or --id-doc", "Usage: pintuctl person update"},
		{"person disable", "missing required flag --id", "Usage: pintuctl person disable --id ID"},
		{"events --since yesterday", `--since: bad time "yesterday"`, "Usage: pintuctl events"},
		{"export", "missing required flag --format", "Usage: pintuctl export --format csv|jsonl"},
		{"export --format xml", `--format: want csv or jsonl, got "xml"`, "Usage: pintuctl export"},
		{"verify now", `unexpected argument "now"`, "Usage: pintuctl verify"},
		{"--lang fr status", `unknown language "fr" (want en or id)`, "Usage: pintuctl [-socket PATH]"},
		{"status --lang fr", `unknown language "fr" (want en or id)`, "Usage: pintuctl status"},
		{"help bogus", `help: unknown command "bogus"`, `Run "pintuctl help" for the commands.`},
		{"events --limit -1", "--limit: want a number from 0 to 100000, got -1", "Usage: pintuctl events"},
		{"events --tail --until 2026-11-03T00:00:00Z", "--until cannot be used with --tail", "Usage: pintuctl events"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			r := d.run(nil, strings.Fields(tt.args)...)
			if r.err == nil {
				t.Fatalf("pintuctl %s = nil error, want %q", tt.args, tt.wantErr)
			}
			if !strings.Contains(r.err.Error(), tt.wantErr) {
				t.Errorf("pintuctl %s = %q, want it to contain %q", tt.args, r.err, tt.wantErr)
			}
			if r.code != exitUsage {
				t.Errorf("pintuctl %s exit status %d, want %d", tt.args, r.code, exitUsage)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 2 || lines[0] != "pintuctl: "+r.err.Error() || !strings.Contains(lines[1], tt.wantUsage) {
				t.Errorf("stderr =\n%s\nwant the error and one line with %q", r.stderr, tt.wantUsage)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestServerErrors checks what pintud refuses reaches the operator, named.
func TestServerErrors(t *testing.T) {
	d := startDaemon(t).seed()
	noSim := startDaemon(t, func(_ *daemon, o *api.Options) { o.Sim = nil })
	tests := []struct {
		d       *daemon
		args    string
		wantErr string
	}{
		{d, "visit show V0042", `visit show: not found: unknown visit "V0042"`},
		{d, "visit check V0001 --by adm", "visit check: wrong visit state: visit V0001 is approved; check (SOP step 2) needs it submitted"},
		{d, "visit order-archive V0001 --by adm", "visit order-archive: wrong visit state"},
		{d, "person add --id adm --name Again --role admin", `person add: already exists: person "adm"`},
		{d, "person add --id ani --name Ani --role janitor", `person add: field "roles": unknown role "janitor"`},
		{d, "card revoke --card C-0", `card revoke: not found: unknown card "C-0"`},
		{d, "visit list --state gone", `visit list: query parameter "state": unknown visit state "gone"`},
		{d, "sim tap --door kitchen --reader entry --card C-OFF", `sim tap: not found: unknown door "kitchen"`},
		{noSim, "sim rex --door server-room", "sim rex: simulated hardware is not enabled (start pintud with -sim)"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			r := tt.d.run(nil, strings.Fields(tt.args)...)
			if r.err == nil || !strings.HasPrefix(r.err.Error(), tt.wantErr) {
				t.Errorf("pintuctl %s = %v, want an error starting %q", tt.args, r.err, tt.wantErr)
			}
			if r.stdout != "" || r.stderr != "pintuctl: "+r.err.Error()+"\n" || r.code != exitFailure {
				t.Errorf("stdout %q, stderr %q, exit %d; want only the error on stderr and exit 1", r.stdout, r.stderr, r.code)
			}
		})
	}

	// Separation of duties and the wrong role, with a visit of their own.
	d.must(nil, "person", "add", "--id", "dual", "--name", "Dual", "--role", "admin,head")
	d.must(nil, "visit", "submit", "--visitor", "budi", "--by", "dual", "--purpose", "x")
	d.must(nil, "visit", "check", "V0002", "--by", "koor")
	for args, want := range map[string]string{
		"visit approve V0002 --by dual": "visit approve: separation of duties: dual took step 1 (submit) of visit V0002 and may not also approve it: SOP steps 1, 2 and 3 are for different people",
		"visit approve V0002 --by adm":  "visit approve: role may not take this step: adm (admin) may not approve: SOP step 3 is for head",
	} {
		if r := d.run(nil, strings.Fields(args)...); r.err == nil || r.err.Error() != want {
			t.Errorf("pintuctl %s = %v, want %q", args, r.err, want)
		}
	}
}

// TestRefusedControls: the operator controls refuse what they must, with a
// message naming the problem and exit 1, and the audit log unchanged.
func TestRefusedControls(t *testing.T) {
	d := startDaemon(t).seed()
	d.must(nil, "sim", "door", "--door", "server-room", "open")
	d.must(nil, "sim", "door", "--door", "server-room", "close") // forced_open, awaiting ack
	var alarms []controller.Alarm
	if err := json.Unmarshal([]byte(d.must(nil, "alarm", "list", "--json")), &alarms); err != nil || len(alarms) != 1 {
		t.Fatalf("alarm list = %+v, %v; want the forced_open", alarms, err)
	}
	id := alarms[0].ID
	d.must(nil, "person", "disable", "--id", "koor")
	d.must(nil, "door", "lockdown", "--by", "kabid")
	events := func() []controller.Event {
		var evs []controller.Event
		if err := json.Unmarshal([]byte(d.must(nil, "events", "--json")), &evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	before := len(events())
	tests := []struct{ args, wantErr string }{
		{"alarm ack A9999 --by kabid", `alarm ack: not found: unknown alarm "A9999" (pintuctl alarm list shows the listed ones)`},
		{"alarm ack " + id + " --by adm", "alarm ack: role may not take this step: adm (admin) may not acknowledge alarms: that is for a coordinator or the head"},
		{"alarm ack " + id + " --by koor", "alarm ack: role may not take this step: koor is disabled and may take no action"},
		{"door lockdown --by adm", "door lockdown: role may not take this step: adm (admin) may not lock a door down: that is for a coordinator or the head"},
		{"door lockdown --by kabid", "door lockdown: already done: every door is already in lockdown"},
		{"door lockdown --door kitchen --by kabid", `door lockdown: not found: unknown door "kitchen"`},
		{"door release --by ghost", `door release: not found: unknown person "ghost"`},
		{"person update --id ghost --name Ghost", `person update: not found: unknown person "ghost"`},
		{"person update --id budi --role officer", "person update: invalid input: person budi: a visitor cannot become staff, nor staff a visitor; register a new person"},
		{"person update --id off --role janitor", `person update: field "roles": unknown role "janitor"`},
		{"person disable --id koor", "person disable: already done: person koor is already disabled"},
		{"person enable --id adm", "person enable: already done: person adm is already enabled"},
		{"visit check V0001 --by koor", "visit check: wrong visit state"},
		{"visit report V0001 --by koor --text x", "visit report: wrong visit state"},
		{"visit submit --visitor budi --by adm --purpose x --from 2026-11-02T09:00:00+07:00 --until 2026-11-03T09:00:00+07:00",
			"visit submit: invalid input: visit window of 24h0m0s is longer than the 12h0m0s allowed (sop.max_visit_window)"},
		{"visit submit --visitor budi --by adm --purpose x --from 2026-11-01T09:00:00+07:00 --until 2026-11-01T10:00:00+07:00",
			"visit submit: invalid input: visit window ends (2026-11-01T03:00:00Z) in the past"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			r := d.run(nil, splitArgs(tt.args)...)
			if r.err == nil || !strings.HasPrefix(r.err.Error(), tt.wantErr) {
				t.Errorf("pintuctl %s = %v, want an error starting %q", tt.args, r.err, tt.wantErr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
	// What was refused for want of a role is recorded, and nothing else.
	var refusals []string
	for _, e := range events()[before:] {
		if e.Type != controller.EventRefused {
			t.Errorf("refused commands wrote %s", e.Type)
		}
		refusals = append(refusals, e.Actor)
	}
	if want := []string{"adm", "koor", "adm"}; !slices.Equal(refusals, want) {
		t.Errorf("refusals recorded for %v, want %v", refusals, want)
	}
	// A disabled person takes no SOP step.
	d.must(nil, "visit", "submit", "--visitor", "budi", "--by", "adm", "--purpose", "x")
	r := d.run(nil, "visit", "check", "V0002", "--by", "koor")
	if want := "visit check: role may not take this step: koor is disabled and may take no action"; r.err == nil || r.err.Error() != want {
		t.Errorf("step by a disabled coordinator = %v, want %q", r.err, want)
	}
}

func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	d := &daemon{t: t, clock: &clock{now: t0}, sock: filepath.Join(dir, "gone.sock")}
	r := d.run(nil, "status")
	want := "status: cannot reach pintud at " + d.sock + ": is it running?"
	if r.err == nil || !strings.HasPrefix(r.err.Error(), want) {
		t.Errorf("status without pintud = %v, want an error starting %q", r.err, want)
	}
	// The flag wins over the environment.
	r = d.run(map[string]string{"PINTU_SOCKET": "/nonexistent/a.sock"}, "-socket", d.sock, "status")
	if r.err == nil || !strings.Contains(r.err.Error(), d.sock) {
		t.Errorf("-socket %s status = %v, want an error naming the flag's socket", d.sock, r.err)
	}
	r = d.run(map[string]string{"PINTU_SOCKET": "/nonexistent/a.sock"}, "status")
	if r.err == nil || !strings.Contains(r.err.Error(), "/nonexistent/a.sock") {
		t.Errorf("PINTU_SOCKET=/nonexistent/a.sock status = %v, want an error naming it", r.err)
	}
}

func TestDefaultSocket(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	err := c.run(context.Background(), []string{"status"})
	if want := defaultSocketPath(); c.socket != want || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("status with no socket set used %q and returned %v, want %q", c.socket, err, want)
	}
}

func TestHelp(t *testing.T) {
	d := startDaemon(t)
	tests := []struct{ args, want string }{
		{"help", "Usage: pintuctl [-socket PATH]"},
		{"-h", "Usage: pintuctl [-socket PATH]"},
		{"--help", "Usage: pintuctl [-socket PATH]"},
		{"help visit reject", "Usage: pintuctl visit reject VISIT [--by ID] --reason TEXT"},
		{"visit reject -h", "Usage: pintuctl visit reject VISIT [--by ID] --reason TEXT"},
		{"export --help", "-o FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			r := d.run(nil, strings.Fields(tt.args)...)
			if r.err != nil || !strings.Contains(r.stdout, tt.want) || r.stderr != "" {
				t.Errorf("pintuctl %s = %v, stdout:\n%s\nstderr:\n%s\nwant no error and stdout with %q", tt.args, r.err, r.stdout, r.stderr, tt.want)
			}
		})
	}
	r := d.run(nil, "help")
	for _, cmd := range commands {
		if !strings.Contains(r.stdout, "\n  "+cmd.name+" ") {
			t.Errorf("help does not list %q", cmd.name)
		}
	}
}

func TestExport(t *testing.T) {
	d := startDaemon(t).seed()
	csvOut := d.must(nil, "export", "--format", "csv")
	if !strings.HasPrefix(csvOut, "\ufeffseq,time,zone,time_utc,type,door,reader,card,person,person_name,visit,visit_purpose,decision,reason,actor,actor_name,via,detail,clock_trusted,prev,hash,records\n1,2026-11-02 09:00:00,WIB,2026-11-02T02:00:00Z,started,") {
		t.Errorf("export --format csv starts %q", csvOut[:min(len(csvOut), 200)])
	}
	rows := strings.Count(csvOut, "\n") - 1

	dir := t.TempDir()
	file := filepath.Join(dir, "audit.csv")
	if got, want := d.must(nil, "export", "--format", "csv", "-o", file), fmt.Sprintf("exported %d events to %s\n", rows, file); got != want {
		t.Errorf("export -o = %q, want %q", got, want)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != csvOut {
		t.Errorf("export -o wrote %q (%v), want what stdout got", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("export -o left %d files, want 1", len(entries))
	}

	jsonl := filepath.Join(dir, "audit.jsonl")
	var summary struct {
		File, Format string
		Count        int
	}
	if err := json.Unmarshal([]byte(d.must(nil, "export", "--format=jsonl", "--since", "2026-11-02T09:00:00+07:00", "-o", jsonl, "--json")), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.File != jsonl || summary.Format != "jsonl" || summary.Count != rows {
		t.Errorf("export --json = %+v, want file %s, format jsonl, count %d", summary, jsonl, rows)
	}

	if got := d.must(nil, "export", "--format", "jsonl", "--since", "2030-01-01T00:00:00Z"); got != "" {
		t.Errorf("export of an empty window = %q, want nothing", got)
	}
}

// TestVerifyBroken takes an event out of the stored log, as a tampered
// database would, and changes a visitor into an officer behind pintud's
// back: verify names both, and fails.
func TestVerifyBroken(t *testing.T) {
	d := startDaemon(t).seed()
	ms := d.store.(*memstore.Store)
	ms.TamperEvent(1, func(*controller.Event) bool { return false })
	ms.Tamper("budi", func(p controller.Person) controller.Person {
		p.Roles = []controller.Role{controller.RoleOfficer}
		return p
	})
	r := d.run(nil, "verify")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "verify: 2 integrity breaks (") ||
		!strings.HasSuffix(r.err.Error(), "the first: audit log broken at seq 1: missing (next stored event is 2)") {
		t.Errorf("verify = %v\n%s; want the two breaks counted and the first named", r.err, r.stdout)
	}
	if want := "seq 1..2: missing (next stored event is 2)\nperson budi: its content does not match the digest its event #"; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("verify printed %q, want it to start %q", r.stdout, want)
	}
	r = d.run(nil, "verify", "--json")
	var res api.VerifyResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("verify --json output: %v", err)
	}
	if r.err == nil || res.OK || res.BrokenSeq != 1 {
		t.Errorf("verify --json = %v, %+v; want an error and broken_seq 1", r.err, res)
	}
}

// cutLog fails after 600 events.
type cutLog struct{}

func (cutLog) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	prev := ""
	for i := range 600 {
		e := controller.Event{Seq: uint64(i + 1), Time: t0, Type: controller.EventRex, Prev: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		if err := fn(e); err != nil {
			return err
		}
	}
	return errors.New("bad sector")
}

func TestStreamCutShort(t *testing.T) {
	d := startDaemon(t, func(_ *daemon, o *api.Options) { o.Log = cutLog{} })
	dir := t.TempDir()
	for _, args := range []string{"events", "events --json", "export --format csv", "export --format jsonl -o " + filepath.Join(dir, "x.jsonl")} {
		r := d.run(nil, strings.Fields(args)...)
		if r.err == nil || !strings.Contains(r.err.Error(), "pintud: output cut short: read audit log: bad sector") {
			t.Errorf("pintuctl %s = %v, want the cut reported", args, r.err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export -o left %d files, want none", len(entries))
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {45 * time.Second, "45s"}, {5 * time.Minute, "5m"}, {4*time.Minute + 30*time.Second, "4m30s"},
		{65 * time.Minute, "1h5m"}, {2 * time.Hour, "2h"}, {1500 * time.Millisecond, "2s"}, {-90 * time.Second, "-1m30s"},
	}
	for _, tt := range tests {
		if got := duration(tt.d); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
