//go:build vmtest && linux

package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pintu/pintu/drivers/gpiocdev"
	"github.com/pintu/pintu/internal/vmtest"
)

// startConfig names every kind of GPIO line by its Pi name: the relay
// active low (locked is High, the level an opto relay board's input
// rests at, and the one the kernel's default low would release), an
// input with each pull, the indicator, and a Wiegand reader.
const startConfig = `site:
  name: VM start-up
  timezone: UTC
  require_clock_sync: false
state_dir: %[1]s/data
doors:
  - name: server-room
    readers:
      - {name: entry, direction: entry, driver: wiegand, d0: GPIO26, d1: GPIO14, lengths: [26]}
    relay: {driver: gpio, pin: %[2]s, active_low: true}
    contact: {driver: gpio, pin: GPIO19, pull: up}
    rex: {driver: gpio, pin: GPIO20, pull: down}
    tamper: {driver: gpio, pin: GPIO21, pull: none}
    indicator: {driver: gpio, led: GPIO24, buzzer: GPIO25}
`

// startVMDaemon starts pintud with the config and returns its output and a
// channel that receives its exit.
func startVMDaemon(t *testing.T, cfg string, args ...string) (*exec.Cmd, *vmBuffer, chan error) {
	t.Helper()
	bin := os.Getenv(vmtest.BinEnv)
	var logs vmBuffer
	cmd := exec.Command(filepath.Join(bin, "pintud"), append([]string{"-config", cfg}, args...)...)
	cmd.Dir = filepath.Dir(cfg)
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
	return cmd, &logs, exited
}

// TestVMStartup starts pintud on lines named like a Pi's and checks what
// the kernel did with them: gpiolib's trace holds every level the kernel
// set on a line, so it shows whether the relay was ever driven to the
// released level during start (sampling the simulator's value could miss
// a pulse of microseconds; the trace cannot). Then the pulls the
// simulator holds, the flags and consumers the kernel reports, and what
// -hwcheck prints of them.
func TestVMStartup(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pintud.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, startConfig, dir, "GPIO16"), 0o600); err != nil {
		t.Fatal(err)
	}
	line := map[string]*vmtest.Line{}
	for _, n := range []string{"GPIO16", "GPIO19", "GPIO20", "GPIO21", "GPIO24", "GPIO25", "GPIO26", "GPIO14"} {
		line[n] = vmtest.FindLine(t, n)
	}
	// Before start: the relay board holds its input at the locked level
	// (High); each input's outside level is against the pull pintud will
	// ask for, so that the pull after start is pintud's doing; the tamper
	// input (pull: none) is held high and must stay so; the reader idles
	// high.
	for n, high := range map[string]bool{
		"GPIO16": true, "GPIO19": false, "GPIO20": true, "GPIO21": true,
		"GPIO24": false, "GPIO25": false, "GPIO26": true, "GPIO14": true,
	} {
		if err := line[n].SetPull(high); err != nil {
			t.Fatal(err)
		}
	}
	trace := vmtest.StartTrace(t)
	cmd, logs, exited := startVMDaemon(t, cfg)
	sock := filepath.Join(dir, "data", "pintud.sock")
	if !vmPoll(20*time.Second, func() bool {
		_, err := os.Stat(sock)
		return err == nil || len(exited) > 0
	}) || len(exited) > 0 {
		t.Fatalf("pintud did not start within 20s: %s", logs.String())
	}

	// The relay: one driver call made it an output at the locked level;
	// the kernel set no other level on it, and the simulator reads High.
	evs := trace.Events(line["GPIO16"])
	if want := []vmtest.TraceEvent{{Kind: "set", Value: 1}, {Kind: "out"}}; len(evs) < 2 || !slices.Equal(evs[:2], want) {
		t.Errorf("kernel events of the relay line during start = %v, want %v first: requested at the locked level, nothing before", evs, want)
	}
	if levels := trace.Levels(line["GPIO16"]); slices.Contains(levels, 0) {
		t.Errorf("levels the kernel set on the relay line during start = %v: low is released", levels)
	}
	if v, err := line["GPIO16"].Value(); err != nil || !v {
		t.Errorf("relay line after start = high %v (%v), want high: locked", v, err)
	}
	// The indicator: off, in the request.
	for _, n := range []string{"GPIO24", "GPIO25"} {
		evs := trace.Events(line[n])
		if want := []vmtest.TraceEvent{{Kind: "set", Value: 0}, {Kind: "out"}}; len(evs) < 2 || !slices.Equal(evs[:2], want) {
			t.Errorf("kernel events of %s (indicator) during start = %v, want %v first: off in the request", n, evs, want)
		}
	}

	// The pulls asked for are the ones the simulator holds; none leaves
	// the outside's level and is recorded as the bias disabled.
	const (
		biases = gpiocdev.FlagBiasPullUp | gpiocdev.FlagBiasPullDown | gpiocdev.FlagBiasDisabled
		both   = gpiocdev.FlagInput | gpiocdev.FlagEdgeRising | gpiocdev.FlagEdgeFalling
	)
	for _, tc := range []struct {
		line     string
		consumer string
		flags    gpiocdev.Flags // the bias and direction
		up       bool           // the simulator's pull
	}{
		{"GPIO16", "pintud:server-room:relay", gpiocdev.FlagOutput, true},
		{"GPIO19", "pintud:server-room:contact", both | gpiocdev.FlagBiasPullUp, true},
		{"GPIO20", "pintud:server-room:rex", both | gpiocdev.FlagBiasPullDown, false},
		{"GPIO21", "pintud:server-room:tamper", both | gpiocdev.FlagBiasDisabled, true},
		{"GPIO24", "pintud:server-room:led", gpiocdev.FlagOutput, false},
		{"GPIO26", "pintud:server-room:entry", gpiocdev.FlagInput | gpiocdev.FlagEdgeFalling, true},
		{"GPIO14", "pintud:server-room:entry", gpiocdev.FlagInput | gpiocdev.FlagEdgeFalling, true},
	} {
		l := line[tc.line]
		info, err := l.Info()
		if err != nil {
			t.Fatal(err)
		}
		mask := biases | both | gpiocdev.FlagOutput
		if info.Consumer != tc.consumer || info.Flags&mask != tc.flags {
			t.Errorf("%s: held by %q with %v, want %q with %v", tc.line, info.Consumer, info.Flags, tc.consumer, tc.flags)
		}
		if up, err := l.Pull(); err != nil || up != tc.up {
			t.Errorf("%s: simulator pull-up %v (%v), want %v", tc.line, up, err, tc.up)
		}
	}

	// Stop pintud; -hwcheck then prints each line as the kernel reports
	// it, held by itself.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("pintud on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("pintud did not exit within 15s of SIGTERM")
	}
	check, out, checkExited := startVMDaemon(t, cfg, "-hwcheck")
	want := []string{
		fmt.Sprintf(`line door server-room relay (GPIO16): %s offset 16 (pinctrl-bcm2711), kernel name "GPIO16", held by "pintud:server-room:relay" [used,output]`, line["GPIO16"].Chip),
		fmt.Sprintf(`line door server-room tamper (GPIO21): %s offset 21 (pinctrl-bcm2711), kernel name "GPIO21", held by "pintud:server-room:tamper" [used,input,edge-rising,edge-falling,bias-disabled]`, line["GPIO21"].Chip),
		fmt.Sprintf(`line door server-room reader entry d0 (GPIO26): %s offset 26 (pinctrl-bcm2711), kernel name "GPIO26", held by "pintud:server-room:entry" [used,input,edge-falling]`, line["GPIO26"].Chip),
		"door server-room: relay locked",
	}
	if !vmPoll(20*time.Second, func() bool { return strings.Contains(out.String(), want[len(want)-1]) || len(checkExited) > 0 }) {
		t.Fatalf("-hwcheck did not pulse the relay within 20s:\n%s", out.String())
	}
	if err := check.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-checkExited:
		if err != nil {
			t.Errorf("-hwcheck on SIGINT: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("-hwcheck did not exit within 15s of SIGINT")
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("-hwcheck output lacks %q:\n%s", w, out.String())
		}
	}
}

// TestVMLineHeld: a line another program holds stops pintud at start, with
// an error naming the configuration line, the GPIO line, its chip and the
// holder; the other lines it had opened are released.
func TestVMLineHeld(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pintud.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, startConfig, dir, "GPIO18"), 0o600); err != nil {
		t.Fatal(err)
	}
	held := vmtest.FindLine(t, "GPIO18")
	holder, err := gpiocdev.RequestLines("/dev/"+held.Chip, []int{held.Offset}, gpiocdev.Config{Consumer: "other-program", Flags: gpiocdev.FlagInput})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	_, logs, exited := startVMDaemon(t, cfg)
	select {
	case err := <-exited:
		if err == nil {
			t.Fatal("pintud started on a line another program holds")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("pintud still running 20s after start on a held line")
	}
	want := fmt.Sprintf(`pintud.yaml:10: door server-room relay: gpiocdev: GPIO line in use: GPIO18 (%s:18) is held by "other-program"`, held.Chip)
	if !strings.Contains(logs.String(), want) {
		t.Errorf("pintud output lacks %q:\n%s", want, logs.String())
	}
	if info, err := held.Info(); err != nil || info.Consumer != "other-program" {
		t.Errorf("held line after pintud = %+v, %v; want still other-program's", info, err)
	}
	// Nothing else stays held: pintud failed on its first line, the relay,
	// and the contact line is free.
	if info, err := vmtest.FindLine(t, "GPIO19").Info(); err != nil || info.Flags&gpiocdev.FlagUsed != 0 {
		t.Errorf("contact line after the failed start = %+v, %v; want free", info, err)
	}
}
