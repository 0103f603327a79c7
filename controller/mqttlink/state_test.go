package mqttlink

import (
	"testing"
	"time"
)

// TestConnected follows the broker going away and coming back.
func TestConnected(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	if !e.link.Connected() {
		t.Fatal("Connected() = false after the link set up its session")
	}
	b.Stop()
	waitFor(t, "Connected() = false with the broker stopped", func() bool { return !e.link.Connected() })
	b.Restart()
	waitFor(t, "Connected() = true with the broker back", e.link.Connected)
}

// waitFor polls ok, bounded by the package's wait.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
