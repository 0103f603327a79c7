//go:build vmtest && linux

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pintu/pintu/internal/vmtest"
)

// vmConfig is pintud's configuration for the VM: gpio-sim lines named
// like a Raspberry Pi's, as an installer names them, and a uinput keyboard
// as the entry reader. The inputs have no bias (pull: none), so the
// simulator side plays the external wiring; the active levels are the
// defaults.
const vmConfig = `site:
  name: VM test
  timezone: UTC
  require_clock_sync: false
state_dir: %[1]s/data
doors:
  - name: server-room
    unlock: 2s
    readers:
      - name: entry
        direction: entry
        driver: hid
        device: %[2]s
        holdoff: 100ms
    relay:
      driver: gpio
      pin: GPIO17
    contact:
      driver: gpio
      pin: GPIO27
      pull: none
    rex:
      driver: gpio
      pin: GPIO22
      pull: none
    tamper:
      driver: gpio
      pin: GPIO23
      pull: none
`

// vmBuffer is a bytes.Buffer safe for the writes of a child process and
// the reads of a failing test.
type vmBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *vmBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *vmBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// vmPoll calls f every 20ms until it reports true, for at most d, and
// reports whether it did.
func vmPoll(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// TestVMHardware runs the static pintud on the VM's gpio-sim lines and a
// uinput keyboard-wedge reader: a staff card typed on the keyboard
// releases the strike (the relay line goes high on the simulator side) and
// is in the audit log; the strike relocks; the door contact opening with
// no grant raises forced_open; REX releases the strike; SIGTERM stops
// pintud cleanly.
func TestVMHardware(t *testing.T) {
	vmtest.Require(t)
	bin := os.Getenv(vmtest.BinEnv)
	pintud, pintuctl := filepath.Join(bin, "pintud"), filepath.Join(bin, "pintuctl")
	dir := t.TempDir()

	relay := vmtest.FindLine(t, "GPIO17")
	contact := vmtest.FindLine(t, "GPIO27")
	rex := vmtest.FindLine(t, "GPIO22")
	tamper := vmtest.FindLine(t, "GPIO23")
	set := func(l *vmtest.Line, high bool) {
		t.Helper()
		if err := l.SetPull(high); err != nil {
			t.Fatal(err)
		}
	}
	// The door shut, REX released, the box closed. The relay line reads
	// high (unlocked) until pintud drives it.
	set(contact, false)
	set(rex, true)
	set(tamper, false)
	set(relay, true)

	kb := vmtest.NewKeyboard(t, "pintu-vm-entry")
	cfg := filepath.Join(dir, "pintud.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, vmConfig, dir, kb.Node), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs vmBuffer
	cmd := exec.Command(pintud, "-config", cfg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("pintud output:\n%s", logs.String())
		}
	})

	sock := filepath.Join(dir, "data", "pintud.sock")
	ctl := func(args ...string) (string, error) {
		c := exec.Command(pintuctl, append([]string{"-socket", sock}, args...)...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil {
			return out.String(), fmt.Errorf("pintuctl %s: %w: %s", strings.Join(args, " "), err, errb.String())
		}
		return out.String(), nil
	}
	ctlJSON := func(v any, args ...string) {
		t.Helper()
		out, err := ctl(append([]string{"--json"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("pintuctl %s: decode %q: %v", strings.Join(args, " "), out, err)
		}
	}
	type status struct {
		Doors  []struct{ Name, Lock, Contact string }
		Alarms []struct{ Kind, Door string }
	}
	getStatus := func() status {
		t.Helper()
		var s status
		ctlJSON(&s, "status")
		return s
	}
	hasAlarm := func(s status, kind string) bool {
		return slices.ContainsFunc(s.Alarms, func(a struct{ Kind, Door string }) bool { return a.Kind == kind })
	}
	type event struct{ Type, Door, Reader, Card, Person, Decision, Reason, Detail string }
	events := func() []event {
		t.Helper()
		var es []event
		ctlJSON(&es, "events")
		return es
	}

	// Wait for pintud to answer, bounded; it must not exit.
	up := vmPoll(20*time.Second, func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true
		default:
		}
		_, err := ctl("status")
		return err == nil
	})
	select {
	case err := <-exited:
		t.Fatalf("pintud exited at start: %v", err)
	default:
	}
	if !up {
		t.Fatal("pintud did not answer on its socket within 20s")
	}

	// The relay was driven to locked (low) before anything else.
	if v, err := relay.Value(); err != nil || v {
		t.Fatalf("relay line after start = high %v (%v), want low: locked", v, err)
	}
	if !vmPoll(5*time.Second, func() bool {
		s := getStatus()
		return len(s.Doors) == 1 && s.Doors[0].Contact == "closed" && len(s.Alarms) == 0
	}) {
		t.Fatalf("status after start: %+v, want the door closed and no alarms", getStatus())
	}

	for _, args := range [][]string{
		{"person", "add", "--id", "oki", "--name", "Oki", "--role", "officer"},
		{"card", "assign", "--person", "oki", "--card", "0012345678"},
	} {
		if _, err := ctl(args...); err != nil {
			t.Fatal(err)
		}
	}

	// A staff card typed on the reader releases the strike.
	typed := time.Now()
	if err := kb.Type("0012345678"); err != nil {
		t.Fatal(err)
	}
	if !relay.WaitValue(true, 5*time.Second) {
		t.Fatalf("relay line did not go high within 5s of the card; events %+v", events())
	}
	t.Logf("relay line high %v after the card was typed (polled every 10ms)", time.Since(typed).Round(time.Millisecond))
	granted := func(e event) bool {
		return e.Type == "access" && e.Person == "oki" && e.Decision == "granted" &&
			e.Door == "server-room" && e.Reader == "entry" && e.Card == "0012345678"
	}
	if !vmPoll(5*time.Second, func() bool { return slices.ContainsFunc(events(), granted) }) {
		t.Fatalf("no granted access for oki in the audit log: %+v", events())
	}
	// Nobody opens the door: the strike relocks after unlock (2s).
	if !relay.WaitValue(false, 6*time.Second) {
		t.Fatal("relay line still high 6s after a 2s unlock")
	}

	// The door opens with no grant: forced_open.
	forced := time.Now()
	set(contact, true)
	if !vmPoll(5*time.Second, func() bool { return hasAlarm(getStatus(), "forced_open") }) {
		t.Fatalf("status after the door was forced: %+v, want forced_open", getStatus())
	}
	t.Logf("forced_open in the status %v after the contact opened", time.Since(forced).Round(time.Millisecond))
	if v, _ := relay.Value(); v {
		t.Error("relay line high after a forced opening")
	}
	set(contact, false)
	if !vmPoll(5*time.Second, func() bool { return !hasAlarm(getStatus(), "forced_open") }) {
		t.Fatalf("status after the door closed: %+v, want forced_open cleared", getStatus())
	}

	// The REX button releases the strike.
	set(rex, false)
	if !relay.WaitValue(true, 5*time.Second) {
		t.Fatalf("relay line did not go high within 5s of REX; events %+v", events())
	}
	set(rex, true)
	if !relay.WaitValue(false, 6*time.Second) {
		t.Fatal("relay line still high 6s after REX with a 2s unlock")
	}

	// The tamper switch opens: the tamper alarm.
	set(tamper, true)
	if !vmPoll(5*time.Second, func() bool { return hasAlarm(getStatus(), "tamper") }) {
		t.Fatalf("status after the box was opened: %+v, want tamper", getStatus())
	}
	set(tamper, false)

	if _, err := ctl("verify"); err != nil {
		t.Error(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("pintud on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("pintud did not exit within 15s of SIGTERM")
	}
}
