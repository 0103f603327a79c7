// Package mosquittotest runs a real Mosquitto broker for tests: password
// authentication, an ACL, a plain TCP listener and a TLS listener with a CA
// and certificates made for the test, all on loopback ports of its own and
// in files under t.TempDir().
//
// [Start] skips the test when mosquitto is not installed. The broker stops
// when the test ends; its log is printed if the test failed.
//
// # Caveats
//
// Mosquitto started as root drops privileges to the user "mosquitto", which
// then cannot read the test's private temporary directory (2.0 reads the
// password file, ACL and certificates after dropping them, and opens the log
// file then too). So when the test runs as root, as it does in CI containers,
// the config says "user root" and mosquitto stays root, printing a warning.
// The files are written with mode 0600: later 2.0.x releases warn about, and
// future ones refuse, password and ACL files readable by others.
//
// The password file is written by this package in the format mosquitto_passwd
// writes ("$7$", PBKDF2 with SHA-512), so mosquitto_passwd is not needed.
//
// Ports are found by listening on 127.0.0.1:0 and closing again; another
// process can take one before mosquitto binds it. Start tries fresh ports
// when that happens; Restart cannot (the point is to keep the ports) and
// fails the test.
package mosquittotest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The users of the default configuration.
const (
	UserCoordinator = "coordinator" // may only publish commands
	UserPintud      = "pintud"      // the daemon: reads and writes its own tree
	UserViewer      = "viewer"      // may only read
)

// DefaultACL is the ACL used when Options.ACL is empty: the coordinator may
// write commands to pintu/<site>/<door>/cmd and nothing else, pintud owns
// pintu/# and homeassistant/#, and the viewer reads both.
const DefaultACL = `# The coordinator sends signed commands and nothing else.
user coordinator
topic write pintu/+/+/cmd

# The daemon owns its tree and Home Assistant discovery.
user pintud
topic readwrite pintu/#
topic readwrite homeassistant/#

# Viewers watch.
user viewer
topic read pintu/#
topic read homeassistant/#
`

// DefaultUsers returns the users and passwords used when Options.Users is
// nil: UserCoordinator, UserPintud and UserViewer.
func DefaultUsers() map[string]string {
	return map[string]string{
		UserCoordinator: "coordinator-secret",
		UserPintud:      "pintud-secret",
		UserViewer:      "viewer-secret",
	}
}

// Options configure a broker. The zero value is the default configuration.
type Options struct {
	// Users maps user names to passwords; nil means DefaultUsers(). Every
	// client must log in: anonymous access is off.
	Users map[string]string
	// ACL is the text of mosquitto's acl_file; empty means DefaultACL.
	ACL string
	// RequireClientCert makes the TLS listener demand a client certificate
	// signed by the test CA (mutual TLS). Broker.TLSConfig then carries one.
	RequireClientCert bool
}

// Bounds of every wait.
const (
	bindAttempts  = 5                      // fresh ports tried by Start
	readyAttempts = 200                    // connection attempts while mosquitto starts
	readyInterval = 25 * time.Millisecond  // between them
	readyTimeout  = 10 * time.Second       // and all of them together
	dialTimeout   = 250 * time.Millisecond // one attempt
	stopTimeout   = 10 * time.Second       // for SIGTERM, then again for SIGKILL
	logTail       = 64 << 10               // bytes of log printed on failure
)

// errAddrInUse is mosquitto failing to bind a port.
var errAddrInUse = errors.New("address already in use")

// Broker is a running (or stopped) mosquitto.
type Broker struct {
	// Dir holds the config, password file, ACL, certificates and logs.
	Dir string
	// CAFile is the PEM certificate of the CA that signed the server and
	// client certificates.
	CAFile string
	// ClientCertFile and ClientKeyFile are a client certificate and its
	// key (PEM) for mutual TLS.
	ClientCertFile, ClientKeyFile string
	// LogFile is mosquitto's log.
	LogFile string
	// Users are the users and passwords the broker accepts.
	Users map[string]string

	t       testing.TB
	bin     string
	conf    string
	outFile string // mosquitto's stdout and stderr
	opts    Options
	tls     *tls.Config
	port    int
	tlsPort int
	mu      sync.Mutex
	proc    *process // nil when stopped
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
}

// Start runs a broker for the test and stops it when the test ends. It skips
// the test when mosquitto is not installed.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	bin := findMosquitto(exec.LookPath, []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"})
	if bin == "" {
		t.Skip("mosquitto not installed: apt-get install -y mosquitto mosquitto-clients")
	}
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.ACL == "" {
		opts.ACL = DefaultACL
	}
	dir := t.TempDir()
	b := &Broker{
		Dir: dir, t: t, bin: bin, opts: opts,
		conf:    filepath.Join(dir, "mosquitto.conf"),
		LogFile: filepath.Join(dir, "mosquitto.log"),
		outFile: filepath.Join(dir, "mosquitto.out"),
		Users:   make(map[string]string, len(opts.Users)),
	}
	for u, p := range opts.Users {
		b.Users[u] = p
	}
	if err := b.writeFiles(); err != nil {
		t.Fatalf("mosquittotest: %v", err)
	}
	t.Cleanup(b.cleanup)
	for attempt := 1; ; attempt++ {
		var err error
		if b.port, b.tlsPort, err = freePorts(); err != nil {
			t.Fatalf("mosquittotest: %v", err)
		}
		err = b.start()
		if err == nil {
			return b
		}
		if !errors.Is(err, errAddrInUse) || attempt == bindAttempts {
			t.Fatalf("mosquittotest: start: %v", err)
		}
		t.Logf("mosquittotest: ports %d and %d taken, trying others: %v", b.port, b.tlsPort, err)
	}
}

// findMosquitto returns the mosquitto binary on PATH (through look) or the
// first existing candidate, or "" when there is none.
func findMosquitto(look func(string) (string, error), candidates []string) string {
	if p, err := look("mosquitto"); err == nil {
		return p
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	return ""
}

// freePorts returns two distinct loopback ports that were free a moment ago.
func freePorts() (int, int, error) {
	var ports [2]int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
}

// writeFiles writes everything but the config, which names the ports.
func (b *Broker) writeFiles() error {
	if err := writePasswd(filepath.Join(b.Dir, "passwd"), b.opts.Users); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "acl"), []byte(b.opts.ACL), 0o600); err != nil {
		return fmt.Errorf("write acl: %w", err)
	}
	pki, err := writePKI(b.Dir)
	if err != nil {
		return err
	}
	b.CAFile, b.ClientCertFile, b.ClientKeyFile = pki.caFile, pki.clientCertFile, pki.clientKeyFile
	b.tls = &tls.Config{RootCAs: pki.roots, MinVersion: tls.VersionTLS12}
	if b.opts.RequireClientCert {
		b.tls.Certificates = []tls.Certificate{pki.client}
	}
	return nil
}

func (b *Broker) writeConfig() error {
	var c strings.Builder
	fmt.Fprintf(&c, "# Written by mosquittotest for %s.\n", b.t.Name())
	c.WriteString("per_listener_settings false\nallow_anonymous false\n")
	fmt.Fprintf(&c, "password_file %s\nacl_file %s\n", filepath.Join(b.Dir, "passwd"), filepath.Join(b.Dir, "acl"))
	c.WriteString("persistence false\n")
	fmt.Fprintf(&c, "log_dest file %s\nlog_type all\nlog_timestamp_format %%Y-%%m-%%dT%%H:%%M:%%S\n", b.LogFile)
	if os.Geteuid() == 0 {
		// As root, mosquitto would drop to user "mosquitto", which cannot
		// read this test's private directory.
		c.WriteString("user root\n")
	}
	fmt.Fprintf(&c, "\nlistener %d 127.0.0.1\nset_tcp_nodelay true\n", b.port)
	fmt.Fprintf(&c, "\nlistener %d 127.0.0.1\nset_tcp_nodelay true\n", b.tlsPort)
	fmt.Fprintf(&c, "cafile %s\ncertfile %s\nkeyfile %s\n",
		b.CAFile, filepath.Join(b.Dir, "server.pem"), filepath.Join(b.Dir, "server-key.pem"))
	fmt.Fprintf(&c, "require_certificate %t\n", b.opts.RequireClientCert)
	if err := os.WriteFile(b.conf, []byte(c.String()), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// start writes the config for the current ports, runs mosquitto and waits
// until both listeners accept connections.
func (b *Broker) start() error {
	if err := b.writeConfig(); err != nil {
		return err
	}
	out, err := os.OpenFile(b.outFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open output file: %w", err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", b.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait() // the exit status says nothing the log does not
		close(p.done)
	}()
	if err := b.waitReady(p); err != nil {
		if kerr := signalAndWait(p, os.Kill); kerr != nil {
			err = errors.Join(err, kerr)
		}
		if strings.Contains(b.readLogs(), "Address already in use") {
			return fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return err
	}
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	return nil
}

// waitReady polls both listeners until they accept a connection, mosquitto
// exits, or the attempts or time run out.
func (b *Broker) waitReady(p *process) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	for range readyAttempts {
		if dialable(b.port) && dialable(b.tlsPort) {
			select {
			case <-p.done: // someone else answered on our ports
				return fmt.Errorf("mosquitto exited (log in %s)", b.LogFile)
			default:
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("mosquitto exited while starting (log in %s)", b.LogFile)
		case <-deadline.C:
			return fmt.Errorf("mosquitto not accepting connections on ports %d and %d after %v", b.port, b.tlsPort, readyTimeout)
		case <-time.After(readyInterval):
		}
	}
	return fmt.Errorf("mosquitto not accepting connections on ports %d and %d after %d attempts", b.port, b.tlsPort, readyAttempts)
}

func dialable(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dialTimeout)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// signalAndWait sends sig to p and waits, bounded, for it to exit; after
// stopTimeout it escalates to SIGKILL.
func signalAndWait(p *process, sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal mosquitto: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("mosquitto ignored %v for %v; killed", sig, stopTimeout)
	case <-time.After(stopTimeout):
		return fmt.Errorf("mosquitto (pid %d) still running %v after SIGKILL", p.cmd.Process.Pid, stopTimeout)
	}
}

// stop ends the running mosquitto, if any, with sig.
func (b *Broker) stop(sig os.Signal) error {
	b.mu.Lock()
	p := b.proc
	b.proc = nil
	b.mu.Unlock()
	if p == nil {
		return nil
	}
	return signalAndWait(p, sig)
}

// Stop sends mosquitto SIGTERM and waits for it to exit. Stopping a stopped
// broker does nothing.
func (b *Broker) Stop() {
	b.t.Helper()
	if err := b.stop(syscall.SIGTERM); err != nil {
		b.t.Errorf("mosquittotest: stop: %v", err)
	}
}

// Kill sends mosquitto SIGKILL and waits for it to exit: an outage without
// a goodbye to the clients.
func (b *Broker) Kill() {
	b.t.Helper()
	if err := b.stop(os.Kill); err != nil {
		b.t.Errorf("mosquittotest: kill: %v", err)
	}
}

// Restart stops mosquitto if it runs and starts it again on the same ports,
// with the same users and certificates. Clients see an outage and can
// reconnect to the same URLs.
func (b *Broker) Restart() {
	b.t.Helper()
	if err := b.stop(syscall.SIGTERM); err != nil {
		b.t.Fatalf("mosquittotest: restart: %v", err)
	}
	if err := b.start(); err != nil {
		b.t.Fatalf("mosquittotest: restart on ports %d and %d: %v", b.port, b.tlsPort, err)
	}
}

// Running reports whether mosquitto is running.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return false
	}
	select {
	case <-b.proc.done:
		return false
	default:
		return true
	}
}

// URL is the plain MQTT listener, as paho wants it: tcp://127.0.0.1:port.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// TLSURL is the TLS listener: ssl://127.0.0.1:port.
func (b *Broker) TLSURL() string { return "ssl://" + b.TLSAddr() }

// Addr is the plain listener's host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// TLSAddr is the TLS listener's host:port.
func (b *Broker) TLSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.tlsPort)) }

// TLSConfig returns a client configuration that trusts the test CA and, when
// Options.RequireClientCert is set, presents the client certificate.
func (b *Broker) TLSConfig() *tls.Config { return b.tls.Clone() }

func (b *Broker) cleanup() {
	if err := b.stop(syscall.SIGTERM); err != nil {
		b.t.Errorf("mosquittotest: stop: %v", err)
	}
	if b.t.Failed() {
		b.t.Logf("mosquittotest: broker files in %s\n%s", b.Dir, b.readLogs())
	}
}

// readLogs returns the tail of mosquitto's log and of its output.
func (b *Broker) readLogs() string {
	var s strings.Builder
	for _, f := range []string{b.LogFile, b.outFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(&s, "--- %s: %v\n", filepath.Base(f), err)
			continue
		}
		if len(data) > logTail {
			data = data[len(data)-logTail:]
		}
		fmt.Fprintf(&s, "--- %s\n%s\n", filepath.Base(f), data)
	}
	return s.String()
}
