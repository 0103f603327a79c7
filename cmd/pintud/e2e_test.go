package main_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin holds pintud and pintuctl, built once by TestMain.
var bin struct{ dir, err string }

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "pintu-e2e")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bin.dir = dir
		for name, pkg := range map[string]string{"pintud": ".", "pintuctl": "../pintuctl"} {
			if out, err := exec.Command("go", "build", "-race", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
				bin.err = fmt.Sprintf("go build %s: %v\n%s", pkg, err, out)
			}
		}
		code := m.Run()
		os.RemoveAll(dir)
		removeScaleFixtures()
		os.Exit(code)
	}
	code := m.Run()
	removeScaleFixtures()
	os.Exit(code)
}

// binaries returns the paths of the built pintud and pintuctl.
func binaries(t *testing.T) (pintud, pintuctl string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds binaries; skipped with -short")
	}
	if bin.err != "" {
		t.Fatal(bin.err)
	}
	return filepath.Join(bin.dir, "pintud"), filepath.Join(bin.dir, "pintuctl")
}

// daemon is a running pintud.
type daemon struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startDaemon(t *testing.T, pintud, dir string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(pintud, append([]string{"-sim", "-data", filepath.Join(dir, "data")}, args...)...)
	cmd.Dir = dir
	d := &daemon{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("pintud output:\n%s", d.stderr)
		}
	})
	// Wait for the socket to answer: bounded in count and time.
	sock := filepath.Join(dir, "data", "pintud.sock")
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			if out, err := exec.Command(ctlPath(pintud), "-socket", sock, "status").CombinedOutput(); err == nil {
				_ = out
				return d
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("pintud exited early: %v\n%s", err, d.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("pintud did not answer on %s within 10s\n%s", sock, d.stderr)
	return nil
}

func ctlPath(pintud string) string { return filepath.Join(filepath.Dir(pintud), "pintuctl") }

func (d *daemon) signal(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("pintud did not exit on %v", sig)
		return nil
	}
}

// ctl runs pintuctl and returns stdout; it fails the test on a non-zero exit
// unless wantFail.
type ctl struct {
	t    *testing.T
	bin  string
	sock string
}

func (c ctl) run(wantFail bool, args ...string) (string, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"-socket", c.sock}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if failed := err != nil; failed != wantFail {
		c.t.Fatalf("pintuctl %s: err %v (want failure %v)\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, wantFail, &stdout, &stderr)
	}
	return stdout.String(), stderr.String()
}

func (c ctl) json(v any, args ...string) {
	c.t.Helper()
	out, _ := c.run(false, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("pintuctl %s: decode %q: %v", strings.Join(args, " "), out, err)
	}
}

type tapResult struct{ Decision, Reason string }

func (c ctl) tap(reader, card string) tapResult {
	c.t.Helper()
	var r tapResult
	c.json(&r, "sim", "tap", "--door", "server-room", "--reader", reader, "--card", card)
	return r
}

type status struct {
	Doors []struct {
		Name, Lock, Contact string
	}
	Alarms []struct{ Kind, Visit string }
	Inside []struct{ Person, Visit, Escort string }
}

func (c ctl) status() status {
	c.t.Helper()
	var s status
	c.json(&s, "status")
	return s
}

func (c ctl) visitState(id string) string {
	c.t.Helper()
	var v struct{ ID, State string }
	c.json(&v, "visit", "show", id)
	return v.State
}

func hasAlarm(s status, kind string) bool {
	return slices.ContainsFunc(s.Alarms, func(a struct{ Kind, Visit string }) bool { return a.Kind == kind })
}

// TestEndToEnd builds both binaries, runs pintud -sim and walks one escorted
// visit through the whole SOP with pintuctl, then kills pintud with SIGKILL,
// restarts it and checks nothing was lost.
func TestEndToEnd(t *testing.T) {
	pintud, pintuctl := binaries(t)
	dir := t.TempDir()
	d := startDaemon(t, pintud, dir)
	c := ctl{t: t, bin: pintuctl, sock: filepath.Join(dir, "data", "pintud.sock")}

	for _, p := range [][]string{
		{"adi", "Adi", "admin"}, {"citra", "Citra", "coordinator"}, {"hasan", "Hasan", "head"},
		{"oki", "Oki", "officer"}, {"vina", "Vina", "visitor"},
	} {
		c.run(false, "person", "add", "--id", p[0], "--name", p[1], "--role", p[2])
		c.run(false, "card", "assign", "--person", p[0], "--card", "C-"+p[0])
	}

	var v struct{ ID string }
	c.json(&v, "visit", "submit", "--visitor", "vina", "--by", "adi", "--purpose", "replace disk", "--devices", "laptop")
	if v.ID == "" {
		t.Fatal("visit submit printed no id")
	}
	// Bad input: a wrong step and a wrong role are refused and change
	// nothing; the wrong role is recorded as a refusal.
	type event struct{ Type, Actor, Via string }
	eventsAfter := func(n int) []event {
		var es []event
		c.json(&es, "events")
		return es[n:]
	}
	events := func() int { return len(eventsAfter(0)) }
	n := events()
	if _, stderr := c.run(true, "visit", "approve", v.ID, "--by", "hasan"); !strings.Contains(stderr, "submitted") {
		t.Errorf("approve before check: stderr %q, want it to name the state", stderr)
	}
	if _, stderr := c.run(true, "visit", "check", v.ID, "--by", "oki"); !strings.Contains(stderr, "coordinator") {
		t.Errorf("check by officer: stderr %q, want it to name the role", stderr)
	}
	c.run(true, "visit", "check", "V9999", "--by", "citra")
	c.run(true, "visit", "check", v.ID)
	c.run(true, "card", "assign", "--person", "ghost", "--card", "C-ghost")
	if got := eventsAfter(n); len(got) != 1 || got[0] != (event{"refused", "oki", "unauthenticated-sim"}) {
		t.Fatalf("refused commands wrote %+v, want one refusal by oki, unauthenticated", got)
	}

	c.run(false, "visit", "check", v.ID, "--by", "citra")
	c.run(false, "visit", "approve", v.ID, "--by", "hasan")

	// The visitor alone is not let in.
	if r := c.tap("entry", "C-vina"); r.Decision != "pending" {
		t.Fatalf("visitor alone: %+v, want pending", r)
	}
	if s := c.status(); s.Doors[0].Lock != "locked" {
		t.Fatalf("door after visitor alone: %+v, want locked", s.Doors[0])
	}
	// The escort arrives: both in.
	if r := c.tap("entry", "C-oki"); r.Decision != "granted" {
		t.Fatalf("escort: %+v, want granted", r)
	}
	s := c.status()
	if s.Doors[0].Lock != "unlocked" || len(s.Inside) != 2 || c.visitState(v.ID) != "inside" {
		t.Fatalf("after escorted entry: %+v, visit %s; want unlocked, two inside, inside", s, c.visitState(v.ID))
	}
	c.run(false, "sim", "door", "--door", "server-room", "open")
	c.run(false, "sim", "door", "--door", "server-room", "close")

	// The escort leaves first: visitor_unescorted.
	c.tap("exit", "C-oki")
	if s := c.status(); !hasAlarm(s, "visitor_unescorted") {
		t.Fatalf("alarms after escort left: %+v, want visitor_unescorted", s.Alarms)
	}
	c.tap("exit", "C-vina")
	if s := c.status(); hasAlarm(s, "visitor_unescorted") || len(s.Inside) != 0 {
		t.Fatalf("after visitor exit: %+v, want no alarm and nobody inside", s)
	}
	c.run(false, "visit", "return-id", v.ID, "--by", "adi")
	c.run(false, "visit", "report", v.ID, "--by", "citra", "--text", "disk replaced")
	c.run(false, "visit", "order-archive", v.ID, "--by", "hasan")
	c.run(false, "visit", "archive", v.ID, "--by", "adi")
	if st := c.visitState(v.ID); st != "archived" {
		t.Fatalf("visit state = %s, want archived", st)
	}

	// The export has the visit's entry and exit.
	exportPath := filepath.Join(dir, "export.csv")
	c.run(false, "export", "--format", "csv", "-o", exportPath)
	entry, exit := exportTimes(t, exportPath, v.ID)
	if entry == "" || exit == "" {
		t.Fatalf("export has entry %q exit %q for %s, want both", entry, exit, v.ID)
	}
	before, _ := c.run(false, "export", "--format", "jsonl")

	// SIGKILL, restart: nothing lost, chain intact.
	if err := d.signal(t, syscall.SIGKILL); err == nil {
		t.Fatal("pintud exited cleanly on SIGKILL?")
	}
	d = startDaemon(t, pintud, dir)
	after, _ := c.run(false, "export", "--format", "jsonl")
	if !strings.HasPrefix(after, before) {
		t.Fatalf("events lost across SIGKILL:\nbefore %d bytes\nafter %d bytes", len(before), len(after))
	}
	if st := c.visitState(v.ID); st != "archived" {
		t.Fatalf("visit after restart = %s, want archived", st)
	}
	var people []struct{ ID string }
	c.json(&people, "person", "list")
	if len(people) != 5 {
		t.Fatalf("people after restart = %d, want 5", len(people))
	}
	c.run(false, "verify")

	// SIGTERM: relock, finish writing, exit 0.
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("pintud on SIGTERM: %v", err)
	}
	if !strings.Contains(d.stderr.String(), "state=locked") {
		t.Errorf("pintud did not log a relock on stop:\n%s", d.stderr)
	}
}

// exportTimes finds the visitor's granted entry and exit rows in a CSV
// export.
func exportTimes(t *testing.T, path, visit string) (entry, exit string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, k := range []string{"time", "type", "person", "visit", "decision"} {
		if _, ok := col[k]; !ok {
			t.Fatalf("export header %v has no %q", rows[0], k)
		}
	}
	for _, r := range rows[1:] {
		if r[col["visit"]] != visit || r[col["person"]] != "vina" {
			continue
		}
		switch {
		case r[col["type"]] == "access" && r[col["decision"]] == "granted":
			entry = r[col["time"]]
		case r[col["type"]] == "exit":
			exit = r[col["time"]]
		}
	}
	return entry, exit
}

// TestSecondDaemonFailsFast: a second pintud on the same state directory
// stops at once and says why.
func TestSecondDaemonFailsFast(t *testing.T) {
	pintud, _ := binaries(t)
	dir := t.TempDir()
	startDaemon(t, pintud, dir)
	cmd := exec.Command(pintud, "-sim", "-data", filepath.Join(dir, "data"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("second pintud: %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "another pintud") {
		t.Fatalf("second pintud said %q, want it to say another pintud holds the state directory", out)
	}
	t.Logf("second pintud failed after %v", time.Since(start).Round(time.Millisecond))
}

func TestCheckConfig(t *testing.T) {
	pintud, _ := binaries(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("site:\n  name: x\n  colour: blue\ndoors: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pintud, "-check-config", "-config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.yaml:3") || !strings.Contains(string(out), "colour") {
		t.Fatalf("check-config on a bad file: err %v output %q; want exit 1 naming line 3 and the key", err, out)
	}
	out, err = exec.Command(pintud, "-check-config", "-config", "../../config/example.yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("check-config on the example: %v\n%s", err, out)
	}
}
