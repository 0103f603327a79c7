package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/mqttlink"
	"github.com/pintu/pintu/internal/mosquittotest"
)

// TestRemoteWorkflow: keygen, key add, key list, remote unlock against a
// real broker, key revoke, and the refusal after it.
func TestRemoteWorkflow(t *testing.T) {
	b := mosquittotest.Start(t, mosquittotest.Options{ACL: mosquittotest.DefaultACL + "\nuser coordinator\ntopic read pintu/+/+/cmd/result\n"})
	d := startDaemon(t)
	d.must(nil, "person add", "--id", "citra", "--name", "Citra", "--role", "coordinator")

	dir := t.TempDir()
	keyFile, pubFile := filepath.Join(dir, "citra.key"), filepath.Join(dir, "citra.pub")
	r := d.run(nil, "keygen", "--out", keyFile)
	if r.err != nil || !strings.Contains(r.stdout, "BEGIN PUBLIC KEY") {
		t.Fatalf("keygen = %v, stdout %q", r.err, r.stdout)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if r := d.run(nil, "keygen", "--out", keyFile); r.err == nil {
		t.Error("keygen over an existing file succeeded, want an error")
	}
	if err := os.WriteFile(pubFile, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	out := d.must(nil, "key add", "--person", "citra", "--pub", pubFile)
	id := strings.Fields(out)[1]
	if !strings.HasPrefix(id, "ed25519:") || !strings.Contains(d.must(nil, "key list"), id) {
		t.Fatalf("key add printed %q; key list does not show it", out)
	}

	link, err := mqttlink.New(mqttlink.Config{Broker: b.URL(), Username: mosquittotest.UserPintud,
		Password: b.Users[mosquittotest.UserPintud], ConnectRetry: 50 * time.Millisecond}, d.ctrl, memstore.New().EnableOutbox())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- link.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitOnline(t, b, link.Prefix()+"/server-room/availability")

	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte(b.Users[mosquittotest.UserCoordinator]+"\n"), 0o600)
	args := []string{"remote unlock", "--broker", b.URL(), "--door", "server-room", "--key", keyFile,
		"--reason", "vendor maintenance", "--username", mosquittotest.UserCoordinator, "--password-file", pass,
		"--prefix", link.Prefix(), "--timeout", "10s"}
	if out := d.must(nil, args...); !strings.Contains(out, "unlock accepted") {
		t.Errorf("remote unlock printed %q, want accepted", out)
	}
	d.must(nil, "key revoke", "--key", id)
	r = d.run(nil, args...)
	if !errors.Is(r.err, errRefused) || !strings.Contains(r.err.Error(), "unknown_key") {
		t.Errorf("remote unlock with a revoked key = %v, want refused unknown_key", r.err)
	}
}

// waitOnline waits for the retained "online" on topic.
func waitOnline(t *testing.T, b *mosquittotest.Broker, topic string) {
	t.Helper()
	got := make(chan struct{}, 1)
	for range 200 {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("wait-online").
			SetUsername(mosquittotest.UserViewer).SetPassword(b.Users[mosquittotest.UserViewer]))
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
				if string(m.Payload()) == "online" {
					select {
					case got <- struct{}{}:
					default:
					}
				}
			}).WaitTimeout(5 * time.Second)
			select {
			case <-got:
				c.Disconnect(50)
				return
			case <-time.After(50 * time.Millisecond):
			}
			c.Disconnect(50)
		}
	}
	t.Fatalf("%s never online", topic)
}
