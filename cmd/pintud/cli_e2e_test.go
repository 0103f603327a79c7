package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestHelpBinaries: pintud -h and pintuctl -h, as built, exit 0 with the
// usage on stdout.
func TestHelpBinaries(t *testing.T) {
	pintud, pintuctl := binaries(t)
	for _, bin := range []string{pintud, pintuctl} {
		for _, h := range []string{"-h", "--help"} {
			out, err := exec.Command(bin, h).Output()
			if err != nil || !bytes.Contains(out, []byte("sage")) {
				t.Errorf("%s %s = %v, stdout %q; want exit 0 and the usage", filepath.Base(bin), h, err, out)
			}
		}
	}
}

// TestDataMovesSocket: -data DIR puts the API socket in DIR even when the
// configuration sets api.socket, so a second pintud never takes the
// service's socket.
func TestDataMovesSocket(t *testing.T) {
	pintud, _ := binaries(t)
	dir := t.TempDir()
	service := filepath.Join(dir, "service.sock")
	cfg := filepath.Join(dir, "pintud.yaml")
	yaml := "site: {name: Test, require_clock_sync: false}\napi: {socket: " + service + "}\n" +
		"doors:\n  - name: server-room\n    readers:\n      - {name: entry, direction: entry, driver: sim}\n" +
		"      - {name: exit, direction: exit, driver: sim}\n    relay: {driver: sim}\n    contact: {driver: sim}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, pintud, dir, "-config", cfg) // waits for dir/data/pintud.sock
	if _, err := os.Stat(service); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the configuration's socket %s: %v, want none", service, err)
	}
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Errorf("pintud on SIGTERM: %v", err)
	}
}

// lockedBuffer is a process's output, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoOwnDirectory: pintud -sim -demo keeps its state in a directory
// of its own, says where, tells how to reach it, and removes it on exit;
// nothing is left in ./pintu-data for the walkthrough to trip over.
func TestDemoOwnDirectory(t *testing.T) {
	pintud, pintuctl := binaries(t)
	cwd := t.TempDir()
	for run := range 2 { // the same every time
		cmd := exec.Command(pintud, "-sim", "-demo")
		cmd.Dir = cwd
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		re := regexp.MustCompile(`export PINTU_SOCKET=(\S+)`)
		var sock string
		for i := 0; i < 200 && sock == ""; i++ { // bounded: 10s
			if m := re.FindStringSubmatch(out.String()); m != nil {
				sock = m[1]
				break
			}
			select {
			case err := <-done:
				t.Fatalf("pintud -demo exited: %v\n%s", err, out.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
		if sock == "" {
			cmd.Process.Kill()
			<-done
			t.Fatalf("pintud -demo did not say where its socket is:\n%s", out.String())
		}
		status := exec.Command(pintuctl, "visit", "list")
		status.Env = append(os.Environ(), "PINTU_SOCKET="+sock)
		if b, err := status.CombinedOutput(); err != nil || !bytes.Contains(b, []byte("approved")) {
			t.Errorf("run %d: pintuctl visit list with the printed socket: %v\n%s", run, err, b)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run %d: pintud -demo on SIGTERM: %v\n%s", run, err, out.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatal("pintud -demo did not stop within 15s")
		}
		if _, err := os.Stat(filepath.Dir(sock)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run %d: the demo's directory %s is still there: %v", run, filepath.Dir(sock), err)
		}
		if !strings.Contains(out.String(), "pintud -demo keeps its state in "+filepath.Dir(sock)) {
			t.Errorf("run %d: pintud -demo did not say where its state is:\n%s", run, out.String())
		}
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("pintud -demo left %v in its working directory", entries)
	}
}
