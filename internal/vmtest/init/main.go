//go:build vmtest && linux

// Command init is process 1 of the VM that .ci/vmtest boots. It mounts the
// kernel's filesystems, sets the clock from the kernel command line,
// creates the gpio-sim lines of package vmtest, runs every test binary
// under /tests one after the other, prints a verdict line and reboots,
// which ends QEMU (-no-reboot).
//
// The kernel command line may narrow the run: pintu.tests=a.test,b.test
// runs only those binaries, pintu.run=RE and pintu.skip=RE are passed as
// -test.run and -test.skip (pintu.run overrides /run-pattern).
//
// The verdict is "PINTU-VMTEST: PASS" only if every binary exited 0, ran
// at least one test, and skipped none: inside the VM nothing may skip.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/internal/vmtest"
)

// perBinary bounds each test binary, beyond its own -test.timeout.
const perBinary = 2 * time.Minute

func main() {
	ok := run()
	if ok {
		fmt.Println("PINTU-VMTEST: PASS")
	} else {
		fmt.Println("PINTU-VMTEST: FAIL")
	}
	unix.Sync()
	// With -no-reboot, QEMU exits instead of rebooting.
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		fmt.Println("vmtest: reboot:", err)
	}
	select {} // process 1 must not exit
}

func run() bool {
	if err := mounts(); err != nil {
		fmt.Println("vmtest:", err)
		return false
	}
	if err := setClock(); err != nil {
		fmt.Println("vmtest:", err)
		return false
	}
	if err := vmtest.Setup(); err != nil {
		fmt.Println("vmtest:", err)
		return false
	}
	pattern := "^TestVM"
	if b, err := os.ReadFile("/run-pattern"); err == nil && strings.TrimSpace(string(b)) != "" {
		pattern = strings.TrimSpace(string(b))
	}
	args := cmdline()
	if v := args["pintu.run"]; v != "" {
		pattern = v
	}
	skip := args["pintu.skip"]
	bins, err := filepath.Glob("/tests/*.test")
	if err != nil || len(bins) == 0 {
		fmt.Println("vmtest: no test binaries under /tests")
		return false
	}
	if v := args["pintu.tests"]; v != "" {
		want := strings.Split(v, ",")
		bins = slices.DeleteFunc(bins, func(b string) bool { return !slices.Contains(want, filepath.Base(b)) })
		if len(bins) != len(want) {
			fmt.Printf("vmtest: pintu.tests=%s: found only %v\n", v, bins)
			return false
		}
	}
	fmt.Printf("vmtest: %d CPUs\n", runtime.NumCPU())
	ok := true
	var summary []string
	for _, bin := range bins {
		start := time.Now()
		res := runTest(bin, pattern, skip)
		line := fmt.Sprintf("vmtest: %-16s %s (%v)", filepath.Base(bin), res, time.Since(start).Round(100*time.Millisecond))
		fmt.Println(line)
		summary = append(summary, line)
		if res != "ok" {
			ok = false
		}
	}
	fmt.Println("\nvmtest: summary")
	for _, l := range summary {
		fmt.Println(l)
	}
	return ok
}

func mounts() error {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"configfs", "/sys/kernel/config", "configfs"},
		{"tracefs", "/sys/kernel/tracing", "tracefs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dir, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s on %s: %w", m.fs, m.dir, err)
		}
	}
	return nil
}

// cmdline returns the kernel command line's key=value words.
func cmdline() map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return m
	}
	for _, f := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// setClock sets the wall clock from pintu.time=<unix seconds> on the
// kernel command line: the VM has no RTC driver, and pintud's audit log
// wants a plausible date.
func setClock() error {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "pintu.time="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("pintu.time=%q: %w", v, err)
			}
			tv := unix.Timeval{Sec: sec}
			return unix.Settimeofday(&tv)
		}
	}
	return nil
}

var (
	passRE = regexp.MustCompile(`(?m)^\s*--- PASS: `)
	skipRE = regexp.MustCompile(`(?m)^\s*--- SKIP: `)
)

// runTest runs one test binary with its output on the console, and returns
// "ok" or why it failed.
func runTest(bin, pattern, skip string) string {
	fmt.Printf("\n=== vmtest: %s -test.run %s -test.skip %q\n", bin, pattern, skip)
	ctx, cancel := context.WithTimeout(context.Background(), perBinary)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.v", "-test.short", "-test.count=1",
		"-test.run", pattern, "-test.skip", skip, "-test.timeout", (perBinary - 30*time.Second).String())
	cmd.Dir = "/tmp"
	cmd.Env = []string{
		vmtest.Env + "=1",
		vmtest.BinEnv + "=/bin",
		"PATH=/bin",
		"HOME=/tmp",
		"TMPDIR=/tmp",
	}
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("FAIL: killed after %v", perBinary)
	case err != nil:
		return "FAIL: " + err.Error()
	case skipRE.Match(out.Bytes()):
		return "FAIL: a test skipped inside the VM"
	case !passRE.Match(out.Bytes()):
		return "FAIL: no test ran"
	}
	return "ok"
}
