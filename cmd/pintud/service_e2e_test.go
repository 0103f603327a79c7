package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a fake systemd NOTIFY_SOCKET.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{path: path, conn: conn}
}

// next returns the next message, failing the test after timeout.
func (n *notifySocket) next(t *testing.T, timeout time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(timeout))
	k, err := n.conn.Read(buf)
	if err != nil {
		t.Fatalf("no sd_notify message within %v: %v", timeout, err)
	}
	return string(buf[:k])
}

// freePort returns a TCP port on loopback that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestService runs pintud as systemd would (Type=notify, WatchdogSec=)
// with metrics on: READY=1 comes only when the API answers, the watchdog is
// fed, /readyz and /metrics answer, a backup can be taken, and SIGTERM
// ends with STOPPING=1 and exit 0.
func TestService(t *testing.T) {
	pintud, pintuctl := binaries(t)
	dir := t.TempDir()
	port := freePort(t)
	sock := filepath.Join(dir, "pintud.sock")
	cfg := filepath.Join(dir, "pintud.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `site: {name: Lab, require_clock_sync: false}
state_dir: %s
api: {socket: %s}
metrics: {listen: "127.0.0.1:%d"}
doors:
  - name: server-room
    readers:
      - {name: entry, direction: entry, driver: sim}
      - {name: exit, direction: exit, driver: sim}
    relay: {driver: sim}
    contact: {driver: sim}
`, filepath.Join(dir, "data"), sock, port), 0o600)

	ns := newNotifySocket(t)
	cmd := exec.Command(pintud, "-sim", "-config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+ns.path, "WATCHDOG_USEC=900000")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("pintud output:\n%s", &logs)
		}
	})

	msg := ns.next(t, 30*time.Second)
	// At READY=1 the API must already answer.
	out, err := exec.Command(pintuctl, "-socket", sock, "--json", "status").CombinedOutput()
	if !strings.HasPrefix(msg, "READY=1\n") || err != nil {
		t.Fatalf("first sd_notify message %q; pintuctl status right after it: %v %s; want READY=1 and an answer", msg, err, out)
	}
	if !strings.Contains(msg, "STATUS=1 door(s) locked, store open, API on "+sock) {
		t.Errorf("READY message %q lacks the status line", msg)
	}
	for range 2 {
		if m := ns.next(t, 5*time.Second); m != "WATCHDOG=1" {
			t.Errorf("after READY got %q, want WATCHDOG=1 every 300ms", m)
		}
	}

	// One tap, counted in the metrics; readiness and liveness.
	if out, err := exec.Command(pintuctl, "-socket", sock, "sim", "tap", "--door", "server-room", "--reader", "entry", "--card", "C-NOBODY").CombinedOutput(); err != nil {
		t.Fatalf("sim tap: %v %s", err, out)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/livez"); code != 200 {
		t.Errorf("GET /livez = %d %s", code, body)
	}
	var rd struct{ Ready bool }
	code, body := get("/readyz")
	if json.Unmarshal([]byte(body), &rd); code != 200 || !rd.Ready {
		t.Errorf("GET /readyz = %d %s, want 200 and ready", code, body)
	}
	denied := `pintu_decisions_total{event="access",door="server-room",decision="denied",reason="unknown_card"} 1`
	deadline := time.Now().Add(10 * time.Second)
	for _, body = get("/metrics"); !strings.Contains(body, denied); _, body = get("/metrics") {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %q after 10s:\n%s", denied, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The controller reports its timings: the start and the denied tap at
	// least were decided and committed.
	for _, h := range []string{"pintu_decision_duration_seconds_count", "pintu_commit_duration_seconds_count"} {
		n := -1
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, h+" ") {
				n, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, h)))
			}
		}
		if n < 2 {
			t.Errorf("/metrics: %s = %d, want at least 2 (the start and the tap)", h, n)
		}
	}

	backup := filepath.Join(dir, "backup.db")
	if out, err := exec.Command(pintuctl, "-socket", sock, "backup", "-o", backup).CombinedOutput(); err != nil || !strings.Contains(string(out), "hash chain intact") {
		t.Errorf("pintuctl backup: %v\n%s", err, out)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	for {
		m := ns.next(t, 15*time.Second)
		if m == "STOPPING=1" {
			break
		}
		if m != "WATCHDOG=1" {
			t.Fatalf("while stopping got %q, want STOPPING=1", m)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("pintud exited with %v after SIGTERM, want 0", err)
	}
}

// TestInvalidConfigRefusesToStart: a config that fails check-config stops
// pintud with exit status 3, which the unit lists in
// RestartPreventExitStatus=, and the journal gets the line at fault.
func TestInvalidConfigRefusesToStart(t *testing.T) {
	pintud, _ := binaries(t)
	bad := filepath.Join(t.TempDir(), "pintud.yaml")
	os.WriteFile(bad, []byte("site:\n  name:\ndoors:\n  - name: d\n    readers: [{name: e, direction: entry, driver: sim}]\n    relay: {driver: sim}\n"), 0o600)
	var stderr bytes.Buffer
	cmd := exec.Command(pintud, "-config", bad)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(stderr.String(), "pintud.yaml:2: site.name") {
		t.Errorf("pintud -config with no site name: %v, stderr %q; want exit status 3 and the line at fault", err, stderr.String())
	}
	if err := exec.Command(pintud, "-no-such-flag").Run(); !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("pintud -no-such-flag: %v, want exit status 2", err)
	}
}
