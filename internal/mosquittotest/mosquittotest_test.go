package mosquittotest

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Bounds of the tests' waits.
const (
	waitToken   = 5 * time.Second
	waitMessage = 5 * time.Second
	quiesceMS   = 100
)

type message struct {
	topic   string
	payload string
}

// dial connects a paho client and disconnects it when the test ends.
func dial(t *testing.T, url, user, password string, tlsCfg *tls.Config) (mqtt.Client, error) {
	t.Helper()
	o := mqtt.NewClientOptions().
		AddBroker(url).
		SetClientID(user + "-" + rand.Text()[:8]).
		SetUsername(user).
		SetPassword(password).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(waitToken)
	if tlsCfg != nil {
		o.SetTLSConfig(tlsCfg)
	}
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(waitToken) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(quiesceMS) })
	return c, nil
}

func mustDial(t *testing.T, url, user, password string, tlsCfg *tls.Config) mqtt.Client {
	t.Helper()
	c, err := dial(t, url, user, password, tlsCfg)
	if err != nil {
		t.Fatalf("connect to %s as %s: %v", url, user, err)
	}
	return c
}

// subscribe subscribes c to filter at QoS 1 and returns the messages. The
// callback never blocks; the tests send far fewer messages than the channel
// holds, so none is dropped (and it may run after the test, so it does not
// touch t).
func subscribe(t *testing.T, c mqtt.Client, filter string) <-chan message {
	t.Helper()
	ch := make(chan message, 64)
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case ch <- message{m.Topic(), string(m.Payload())}:
		default:
		}
	})
	waitFor(t, tok, "subscribe to "+filter)
	return ch
}

func publish(t *testing.T, c mqtt.Client, topic, payload string) {
	t.Helper()
	waitFor(t, c.Publish(topic, 1, false, payload), "publish to "+topic)
}

func waitFor(t *testing.T, tok mqtt.Token, what string) {
	t.Helper()
	if !tok.WaitTimeout(waitToken) {
		t.Fatalf("%s: timed out after %v", what, waitToken)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func receive(t *testing.T, ch <-chan message) message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitMessage):
		t.Fatalf("no message within %v", waitMessage)
		return message{}
	}
}

func TestCoordinatorCommandReachesPintud(t *testing.T) {
	b := Start(t, Options{})
	pintud := mustDial(t, b.URL(), UserPintud, b.Users[UserPintud], nil)
	msgs := subscribe(t, pintud, "pintu/#")
	coord := mustDial(t, b.URL(), UserCoordinator, b.Users[UserCoordinator], nil)
	publish(t, coord, "pintu/hq/server-room/cmd", `{"cmd":{}}`)
	if got, want := receive(t, msgs), (message{"pintu/hq/server-room/cmd", `{"cmd":{}}`}); got != want {
		t.Errorf("pintud received %+v, want %+v", got, want)
	}
}

// TestACLDropsPublish checks that a publish the ACL forbids never arrives.
// Mosquitto drops it silently (and still acknowledges it under MQTT 3.1.1),
// so the test publishes an allowed marker afterwards: the broker queues
// messages to a subscriber in the order it handles them, so the marker
// arriving first, alone, shows the forbidden message was not delivered.
func TestACLDropsPublish(t *testing.T) {
	b := Start(t, Options{})
	pintud := mustDial(t, b.URL(), UserPintud, b.Users[UserPintud], nil)
	msgs := subscribe(t, pintud, "#")
	for _, tc := range []struct{ user, topic string }{
		{UserViewer, "pintu/hq/server-room/cmd"},
		{UserViewer, "pintu/hq/server-room/state"},
		{UserCoordinator, "pintu/hq/server-room/state"},
		{UserCoordinator, "pintu/hq/server-room/cmd/extra"},
		{UserCoordinator, "homeassistant/lock/pintu/config"},
	} {
		t.Run(tc.user+" "+tc.topic, func(t *testing.T) {
			c := mustDial(t, b.URL(), tc.user, b.Users[tc.user], nil)
			publish(t, c, tc.topic, "forbidden")
			marker := "pintu/test/marker/" + rand.Text()
			publish(t, pintud, marker, "marker")
			// Read up to this case's marker, so that a failure here does
			// not spill into the next case. Every read is bounded.
			for got := receive(t, msgs); got.topic != marker; got = receive(t, msgs) {
				t.Errorf("received %+v before the marker, want the forbidden publish dropped", got)
			}
		})
	}
}

func TestRefusesBadLogins(t *testing.T) {
	b := Start(t, Options{})
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", UserCoordinator, "not-the-password"},
		{"another user's password", UserCoordinator, b.Users[UserPintud]},
		{"unknown user", "mallory", "secret"},
		{"anonymous", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dial(t, b.URL(), tc.user, tc.password, nil)
			if err == nil {
				c.Disconnect(quiesceMS)
				t.Fatalf("connect as %q succeeded, want refused", tc.user)
			}
			if !errors.Is(err, packets.ErrorRefusedNotAuthorised) && !errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) {
				t.Errorf("connect as %q: %v, want not authorised", tc.user, err)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	b := Start(t, Options{})
	if !strings.HasPrefix(b.TLSURL(), "ssl://127.0.0.1:") || b.TLSURL() == "ssl://"+b.Addr() {
		t.Fatalf("TLSURL() = %q, URL() = %q", b.TLSURL(), b.URL())
	}
	if _, err := os.Stat(b.CAFile); err != nil {
		t.Fatalf("CAFile: %v", err)
	}
	pintud := mustDial(t, b.TLSURL(), UserPintud, b.Users[UserPintud], b.TLSConfig())
	msgs := subscribe(t, pintud, "pintu/#")
	coord := mustDial(t, b.TLSURL(), UserCoordinator, b.Users[UserCoordinator], b.TLSConfig())
	publish(t, coord, "pintu/hq/server-room/cmd", "over tls")
	if got := receive(t, msgs); got.payload != "over tls" {
		t.Errorf("received %+v, want the TLS publish", got)
	}
	// Without the test CA the server certificate is not trusted.
	if c, err := dial(t, b.TLSURL(), UserPintud, b.Users[UserPintud], &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		c.Disconnect(quiesceMS)
		t.Errorf("TLS connect without the test CA succeeded, want a certificate error")
	}
	// The password is still required over TLS.
	if c, err := dial(t, b.TLSURL(), UserPintud, "wrong", b.TLSConfig()); err == nil {
		c.Disconnect(quiesceMS)
		t.Errorf("TLS connect with a wrong password succeeded")
	}
}

func TestMutualTLS(t *testing.T) {
	b := Start(t, Options{RequireClientCert: true})
	cfg := b.TLSConfig()
	if len(cfg.Certificates) != 1 {
		t.Fatalf("TLSConfig() has %d client certificates, want 1", len(cfg.Certificates))
	}
	mustDial(t, b.TLSURL(), UserPintud, b.Users[UserPintud], cfg)

	// The files are usable by other clients too.
	pair, err := tls.LoadX509KeyPair(b.ClientCertFile, b.ClientKeyFile)
	if err != nil {
		t.Fatalf("client certificate files: %v", err)
	}
	fromFiles := b.TLSConfig()
	fromFiles.Certificates = []tls.Certificate{pair}
	mustDial(t, b.TLSURL(), UserViewer, b.Users[UserViewer], fromFiles)

	cfg.Certificates = nil
	if c, err := dial(t, b.TLSURL(), UserPintud, b.Users[UserPintud], cfg); err == nil {
		c.Disconnect(quiesceMS)
		t.Errorf("TLS connect without a client certificate succeeded, want refused")
	}
	// The plain listener is unaffected.
	mustDial(t, b.URL(), UserPintud, b.Users[UserPintud], nil)
}

func TestRestartKeepsPorts(t *testing.T) {
	b := Start(t, Options{})
	url, tlsURL := b.URL(), b.TLSURL()
	// Connected clients leave sockets behind that must not stop the rebind.
	mustDial(t, url, UserPintud, b.Users[UserPintud], nil)
	mustDial(t, tlsURL, UserPintud, b.Users[UserPintud], b.TLSConfig())

	b.Stop()
	if b.Running() {
		t.Fatalf("Running() after Stop = true")
	}
	if c, err := dial(t, url, UserPintud, b.Users[UserPintud], nil); err == nil {
		c.Disconnect(quiesceMS)
		t.Fatalf("connect to a stopped broker succeeded")
	}
	b.Restart()
	if b.URL() != url || b.TLSURL() != tlsURL {
		t.Errorf("after Restart URLs are %s and %s, want %s and %s", b.URL(), b.TLSURL(), url, tlsURL)
	}
	mustDial(t, url, UserPintud, b.Users[UserPintud], nil)
	mustDial(t, tlsURL, UserPintud, b.Users[UserPintud], b.TLSConfig())

	b.Kill()
	if b.Running() {
		t.Fatalf("Running() after Kill = true")
	}
	b.Restart()
	pintud := mustDial(t, url, UserPintud, b.Users[UserPintud], nil)
	msgs := subscribe(t, pintud, "pintu/#")
	coord := mustDial(t, url, UserCoordinator, b.Users[UserCoordinator], nil)
	publish(t, coord, "pintu/hq/server-room/cmd", "after restart")
	if got := receive(t, msgs); got.payload != "after restart" {
		t.Errorf("received %+v after Restart", got)
	}
	b.Restart() // while running: stops first
	mustDial(t, url, UserPintud, b.Users[UserPintud], nil)
}

func TestCustomUsersAndACL(t *testing.T) {
	b := Start(t, Options{
		Users: map[string]string{"alice": "pw with spaces:and colon"},
		ACL:   "user alice\ntopic readwrite test/#\n",
	})
	c := mustDial(t, b.URL(), "alice", "pw with spaces:and colon", nil)
	msgs := subscribe(t, c, "#")
	publish(t, c, "other/x", "dropped")
	publish(t, c, "test/x", "kept")
	if got := receive(t, msgs); got != (message{"test/x", "kept"}) {
		t.Errorf("received %+v, want test/x kept", got)
	}
	if _, err := dial(t, b.URL(), UserPintud, DefaultUsers()[UserPintud], nil); err == nil {
		t.Errorf("default user accepted with custom Users")
	}
}

func TestFiles(t *testing.T) {
	b := Start(t, Options{})
	conf, err := os.ReadFile(filepath.Join(b.Dir, "mosquitto.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"per_listener_settings false\n", "allow_anonymous false\n", "persistence false\n", "require_certificate false\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("mosquitto.conf lacks %q:\n%s", want, conf)
		}
	}
	if got := strings.Contains(string(conf), "user root\n"); got != (os.Geteuid() == 0) {
		t.Errorf("mosquitto.conf has user root: %v, running as root: %v", got, os.Geteuid() == 0)
	}
	for _, name := range []string{"passwd", "acl", "server-key.pem", "client-key.pem", "mosquitto.conf"} {
		fi, err := os.Stat(filepath.Join(b.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", name, fi.Mode().Perm())
		}
	}
	log, err := os.ReadFile(b.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{b.Addr(), b.TLSAddr()} {
		_, port, _ := strings.Cut(addr, ":")
		if want := "Opening ipv4 listen socket on port " + port + "."; !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestPasswdFormat checks the hash against mosquitto_passwd's own: the line
// it wrote for a password is reproduced from its salt.
func TestPasswdFormat(t *testing.T) {
	tool, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not installed: apt-get install -y mosquitto")
	}
	f := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(tool, "-b", "-c", f, "alice", "s3cret: yes").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(data))
	parts := strings.Split(line, "$") // alice:, 7, iterations, salt, hash
	if len(parts) != 5 || parts[0] != "alice:" || parts[1] != "7" {
		t.Fatalf("mosquitto_passwd wrote %q, want alice:$7$...", line)
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		t.Fatal(err)
	}
	iterations, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	got, err := passwdLine("alice", "s3cret: yes", salt, iterations)
	if err != nil {
		t.Fatal(err)
	}
	if got != line {
		t.Errorf("passwdLine = %q, mosquitto_passwd wrote %q", got, line)
	}
}

func TestFindMosquitto(t *testing.T) {
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	if got := findMosquitto(missing, []string{filepath.Join(t.TempDir(), "nope")}); got != "" {
		t.Errorf("findMosquitto with nothing installed = %q, want \"\"", got)
	}
	exe := filepath.Join(t.TempDir(), "mosquitto")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := findMosquitto(missing, []string{exe}); got != exe {
		t.Errorf("findMosquitto = %q, want the candidate %q", got, exe)
	}
	onPath := func(string) (string, error) { return "/opt/bin/mosquitto", nil }
	if got := findMosquitto(onPath, []string{exe}); got != "/opt/bin/mosquitto" {
		t.Errorf("findMosquitto = %q, want the one on PATH", got)
	}
}
