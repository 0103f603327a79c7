//go:build vmtest && linux

// Command powercut is process 1 of the power-cut test's VMs (.ci/powercut).
// It mounts /dev/vda (ext4, made on the host) on /mnt and then, by
// pintu.mode= on the kernel command line:
//
//	run    starts pintud -sim -data /mnt/data, enrols two officers with
//	       cards 2001 and 2002, and taps them at the entry reader for ever
//	       from pintu.tappers= loops (2), printing "ACK <seq> <card>" for
//	       every tap pintud answered granted. The host cuts the power.
//	check  starts pintud on what the cut left, asks it to verify the hash
//	       chain, reads the log since pintu.since= (unix seconds: the run
//	       boot's start) and compares it with the acknowledgements, which
//	       the host passes as the raw disk /dev/vdb (package ackcheck).
//	       It prints one "PCUT RESULT ..." line and powers off.
//
// pintu.damage=truncate (check) truncates pintu.db to half its size before
// pintud starts, to see pintud refuse it from inside the VM.
//
// pintu.nofsync=1 runs pintud under a seccomp filter that makes fsync,
// fdatasync, sync, syncfs, sync_file_range and msync return success without
// doing anything: a daemon whose durability is a lie, one of the test's
// controls. pintu.time= sets the clock (the VM has no RTC).
//
// The guest uses four routes of pintud's API (/v1/status, /v1/people,
// /v1/cards/assign, /v1/sim/tap) in the run boot and two more (/v1/verify,
// /v1/events) in the check boot, and only the fields seq, type, card and
// decision of an event.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/internal/vmtest/powercut/ackcheck"
)

const (
	dataDir = "/mnt/data"
	socket  = dataDir + "/pintud.sock"
	logPath = "/tmp/pintud.log"
)

// cards are tapped in turn; each belongs to its own officer.
var cards = []string{"2001", "2002"}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-nofsync-exec" {
		nofsyncExec(os.Args[2:]) // does not return
	}
	args, err := setup()
	if err != nil {
		fmt.Println("PCUT FATAL", err)
		off()
	}
	switch args["pintu.mode"] {
	case "run":
		run(args)
	case "check":
		check(args)
	default:
		fmt.Println("PCUT FATAL pintu.mode=run|check missing")
	}
	off()
}

// setup mounts the kernel's file systems and /dev/vda, sets the clock and
// returns the pintu.* arguments of the kernel command line.
func setup() (map[string]string, error) {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return nil, err
		}
		if err := unix.Mount(m.src, m.dir, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			return nil, fmt.Errorf("mount %s: %w", m.dir, err)
		}
	}
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, err
	}
	args := map[string]string{}
	for _, f := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(k, "pintu.") {
			args[k] = v
		}
	}
	if v := args["pintu.time"]; v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pintu.time=%q: %w", v, err)
		}
		tv := unix.Timeval{Sec: sec}
		if err := unix.Settimeofday(&tv); err != nil {
			return nil, fmt.Errorf("settimeofday: %w", err)
		}
	}
	if err := os.MkdirAll("/mnt", 0o755); err != nil {
		return nil, err
	}
	if err := unix.Mount("/dev/vda", "/mnt", "ext4", 0, ""); err != nil {
		fmt.Println("PCUT RESULT mount=fail pintud=- verify=- acked=0 lost=0 wrong=0 gaps=0")
		return nil, fmt.Errorf("mount /dev/vda: %w", err)
	}
	wc, _ := os.ReadFile("/sys/block/vda/queue/write_cache")
	up, _ := os.ReadFile("/proc/uptime")
	fmt.Printf("PCUT mount ok %ss after boot, write_cache=%q\n", strings.Fields(string(up) + " ?")[0], strings.TrimSpace(string(wc)))
	return args, nil
}

// off syncs, unmounts and ends the VM (QEMU runs with -no-reboot).
func off() {
	unix.Sync()
	_ = unix.Unmount("/mnt", 0)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {} // process 1 must not exit
}

// pintud is a started pintud and a client of its API.
type pintud struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when it has exited
	hc     *http.Client
}

// startPintud starts pintud and waits for its API to answer. When pintud
// exits instead, it returns how it ended (ackcheck.Classify) and its output.
func startPintud(nofsync bool) (*pintud, string, error) {
	_ = os.Remove(socket) // left by the cut
	argv := []string{"/bin/pintud", "-sim", "-data", dataDir}
	if nofsync {
		argv = append([]string{"/init", "-nofsync-exec"}, argv...)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp"}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	p := &pintud{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	p.hc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
	for time.Since(start) < 60*time.Second {
		select {
		case <-p.exited:
			out, _ := os.ReadFile(logPath)
			how := ackcheck.Classify(cmd.ProcessState.ExitCode(), string(out))
			printLog()
			return nil, how, fmt.Errorf("pintud exited with status %d", cmd.ProcessState.ExitCode())
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := p.call("GET", "/v1/status", nil); err == nil {
			fmt.Printf("PCUT pintud up after %v\n", time.Since(start).Round(time.Millisecond))
			return p, "up", nil
		}
	}
	printLog()
	return nil, ackcheck.Failed, errors.New("pintud did not answer within 60s")
}

// stop ends pintud with SIGTERM and says how it went: "up" when it stopped
// cleanly and never panicked (net/http survives a panic in a handler, so
// the log is read for one), "panic", or "unclean-stop".
func (p *pintud) stop() string {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		fmt.Println("PCUT pintud did not stop within 15s of SIGTERM")
		return "unclean-stop"
	}
	code := p.cmd.ProcessState.ExitCode()
	out, _ := os.ReadFile(logPath)
	if ackcheck.Classify(code, string(out)) == ackcheck.Panic {
		fmt.Printf("PCUT pintud panicked (status %d)\n", code)
		printLog()
		return ackcheck.Panic
	}
	if code != 0 {
		fmt.Printf("PCUT pintud stopped with status %d\n", code)
		printLog()
		return "unclean-stop"
	}
	return "up"
}

// printLog prints pintud's output: a panic's message comes first, its stack
// after, so the first and last lines.
func printLog() {
	b, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = append(lines[:10:10], lines[len(lines)-20:]...)
	}
	for _, l := range lines {
		fmt.Println("PINTUD", l)
	}
}

type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.body) }

// call sends a request to pintud and returns the body of a 2xx answer. A
// streamed body cut short carries its error in the Pintu-Error trailer.
func (p *pintud) call(method, path string, in any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://pintud"+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &apiError{resp.StatusCode, strings.TrimSpace(string(b))}
	}
	if e := resp.Trailer.Get("Pintu-Error"); e != "" {
		return nil, fmt.Errorf("%s cut short: %s", path, e)
	}
	return b, nil
}

func run(args map[string]string) {
	p, how, err := startPintud(args["pintu.nofsync"] == "1")
	if err != nil {
		fmt.Printf("PCUT pintud %s: %v\n", how, err)
		return
	}
	// Later boots on the same disk find the officers and cards there.
	for i, card := range cards {
		id := fmt.Sprintf("ofc%d", i+1)
		for _, c := range []struct {
			path string
			body any
		}{
			{"/v1/people", map[string]any{"id": id, "name": "Officer " + card, "roles": []string{"officer"}}},
			{"/v1/cards/assign", map[string]string{"person": id, "card": card}},
		} {
			if _, err := p.call("POST", c.path, c.body); err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.status == http.StatusConflict {
					continue
				}
				fmt.Println("PCUT setup failed:", c.path, err)
				return
			}
		}
	}
	n := 2
	if v, err := strconv.Atoi(args["pintu.tappers"]); err == nil && v > 0 {
		n = v
	}
	fmt.Println("PCUT ready")
	var mu sync.Mutex // one ACK line at a time
	for i := range n {
		card := cards[i%len(cards)]
		go func() {
			for {
				b, err := p.call("POST", "/v1/sim/tap", map[string]string{"door": "server-room", "reader": "entry", "card": card})
				var r struct {
					Decision string `json:"decision"`
					Seq      uint64 `json:"seq"`
				}
				switch {
				case err != nil:
					fmt.Println("PCUT tap error:", err)
					time.Sleep(100 * time.Millisecond)
					continue
				case json.Unmarshal(b, &r) != nil || r.Seq == 0 || r.Decision != "granted":
					fmt.Println("PCUT tap answer unexpected:", strings.TrimSpace(string(b)))
					time.Sleep(100 * time.Millisecond)
					continue
				}
				mu.Lock()
				fmt.Printf("ACK %d %s\n", r.Seq, card)
				mu.Unlock()
			}
		}()
	}
	select {} // until the power is cut
}

// check prints, last, one line the host reads:
//
//	PCUT RESULT mount=ok pintud=up|refused|panic|failed|unclean-stop verify=ok|broken|error|- acked=N lost=N wrong=N gaps=N
//
// pintud=up: it came up, never panicked, and stopped cleanly on SIGTERM.
func check(args map[string]string) {
	verify := "-"
	acks, err := readAcks("/dev/vdb")
	if err != nil {
		fmt.Println("PCUT acks:", err)
		fmt.Println("PCUT RESULT mount=ok pintud=- verify=- acked=0 lost=0 wrong=0 gaps=0")
		return
	}
	res := ackcheck.Result{Acked: len(acks)}
	if args["pintu.damage"] == "truncate" {
		if err := truncateHalf(dataDir + "/pintu.db"); err != nil {
			fmt.Println("PCUT damage:", err)
			fmt.Println("PCUT RESULT mount=ok pintud=- verify=- acked=0 lost=0 wrong=0 gaps=0")
			return
		}
	}
	p, how, err := startPintud(false)
	defer func() {
		fmt.Printf("PCUT RESULT mount=ok pintud=%s verify=%s %v\n", how, verify, res)
	}()
	if err != nil {
		fmt.Printf("PCUT pintud %s: %v\n", how, err)
		return
	}
	defer func() { how = p.stop() }()

	start := time.Now()
	b, err := p.call("GET", "/v1/verify", nil)
	var vr struct {
		OK        bool   `json:"ok"`
		Count     uint64 `json:"count"`
		BrokenSeq uint64 `json:"broken_seq"`
		Reason    string `json:"reason"`
	}
	switch {
	case err != nil:
		verify = "error"
		fmt.Println("PCUT verify:", err)
	case json.Unmarshal(b, &vr) != nil:
		verify = "error"
		fmt.Println("PCUT verify: undecodable", string(b))
	case vr.OK:
		verify = "ok"
		fmt.Printf("PCUT verify ok: %d events in %v\n", vr.Count, time.Since(start).Round(time.Millisecond))
	default:
		verify = "broken"
		fmt.Printf("PCUT verify broken at seq %d of %d: %s\n", vr.BrokenSeq, vr.Count, vr.Reason)
	}

	path := "/v1/events"
	if v := args["pintu.since"]; v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fmt.Printf("PCUT pintu.since=%q: %v\n", v, err)
			how = ackcheck.Failed
			return
		}
		path += "?since=" + url.QueryEscape(time.Unix(sec, 0).UTC().Format(time.RFC3339))
	}
	b, err = p.call("GET", path, nil)
	var events []ackcheck.Event
	if err == nil {
		err = json.Unmarshal(b, &events)
	}
	if err != nil {
		fmt.Println("PCUT events:", err)
		res = ackcheck.Result{Acked: len(acks), Lost: len(acks)} // unreadable: count all as lost
		return
	}
	res = ackcheck.Compare(acks, events)
	fmt.Printf("PCUT events: %d since the run boot\n", len(events))
	for _, pr := range res.Problems {
		fmt.Println("PCUT", pr)
	}
}

// truncateHalf cuts the file at path to half its size, as a careless copy
// or a file system repair might.
func truncateHalf(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		return err
	}
	unix.Sync()
	fmt.Printf("PCUT damage: %s truncated from %d to %d bytes\n", path, st.Size(), st.Size()/2)
	return nil
}

// readAcks reads the host's list of acknowledgements from the raw disk dev;
// no disk means no list.
func readAcks(dev string) ([]ackcheck.Ack, error) {
	f, err := os.Open(dev)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ackcheck.ParseAcks(f)
}

// nofsyncExec installs a seccomp filter under which the sync family of system
// calls returns 0 without doing anything, then execs argv.
func nofsyncExec(argv []string) {
	runtime.LockOSThread()
	fail := func(what string, err error) {
		fmt.Printf("PCUT nofsync: %s: %v\n", what, err)
		os.Exit(1)
	}
	nrs := []uint32{unix.SYS_FSYNC, unix.SYS_FDATASYNC, unix.SYS_SYNC, unix.SYS_SYNCFS,
		unix.SYS_SYNC_FILE_RANGE, unix.SYS_MSYNC}
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
	)
	// struct seccomp_data: nr at 0, arch at 4.
	prog := []unix.SockFilter{
		{Code: ld, K: 4},
		{Code: jeq, Jt: 1, K: unix.AUDIT_ARCH_X86_64},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ld, K: 0},
	}
	for i, nr := range nrs {
		prog = append(prog, unix.SockFilter{Code: jeq, Jt: uint8(len(nrs) - i), K: nr})
	}
	prog = append(prog,
		unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ERRNO}, // with errno 0: "success"
	)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("prctl", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		fail("seccomp", e)
	}
	fail("exec", unix.Exec(argv[0], argv, os.Environ()))
}
