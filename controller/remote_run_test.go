package controller_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/remote"
)

func coordKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pintu run test citra"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func signNow(t *testing.T, c remote.Command) []byte {
	t.Helper()
	c.Door, c.Reason, c.IssuedAt = "server-room", "test", time.Now()
	if c.Action == "" {
		c.Action = remote.ActionUnlock
	}
	p, err := remote.Sign(c, coordKey())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRemoteReplayAfterRestart: the replay cache is in the store, so a
// command accepted before a restart is refused after it.
func TestRemoteReplayAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := memstore.New()
		c, act, stop := start(t, store)
		seedStaff(t, c)
		if _, err := c.AddKey(ctx, "citra", coordKey().Public().(ed25519.PublicKey), root); err != nil {
			t.Fatal(err)
		}
		p := signNow(t, remote.Command{})
		res, err := c.Remote(ctx, controller.RemoteInput{Payload: p})
		if err != nil || !res.Accepted {
			t.Fatalf("Remote = %+v, %v; want accepted", res, err)
		}
		if w := act.get(); len(w) == 0 || !w[len(w)-1] {
			t.Fatalf("strike writes %v, want the last to release", w)
		}
		stop()

		c, _, stop = start(t, store)
		defer stop()
		res, err = c.Remote(ctx, controller.RemoteInput{Payload: p})
		if err != nil || res.Reason != string(remote.ReasonReplayed) {
			t.Fatalf("Remote(replay after restart) = %+v, %v; want replayed", res, err)
		}
		ks, err := c.Keys(ctx)
		if err != nil || len(ks) != 1 || ks[0].PersonID != "citra" {
			t.Errorf("Keys() after restart = %+v, %v; want citra's key", ks, err)
		}
	})
}

// TestRemoteStorageFailure: a command whose audit event cannot be written
// does nothing, and the answer says so.
func TestRemoteStorageFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := memstore.New()
		c, act, stop := start(t, store)
		defer stop()
		seedStaff(t, c)
		if _, err := c.AddKey(ctx, "citra", coordKey().Public().(ed25519.PublicKey), root); err != nil {
			t.Fatal(err)
		}
		before := len(act.get())
		store.FailCommits(errors.New("disk full"))
		p := signNow(t, remote.Command{})
		res, err := c.Remote(ctx, controller.RemoteInput{Payload: p})
		if err != nil || res.Accepted || res.Reason != string(controller.ReasonStorageFailure) {
			t.Fatalf("Remote with a failing store = %+v, %v; want storage_failure", res, err)
		}
		if got := act.get(); len(got) != before {
			t.Errorf("strike writes %v after a failed commit, want none new", got[before:])
		}
		// Nothing was remembered: once the store works the command is new.
		store.FailCommits(nil)
		if res, _ := c.Remote(ctx, controller.RemoteInput{Payload: p}); !res.Accepted {
			t.Errorf("Remote after the store recovered = %+v, want accepted", res)
		}
	})
}

// TestWatch: a watcher learns of commits without blocking the controller.
func TestWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, stop := start(t, memstore.New())
		defer stop()
		ch, unwatch := c.Watch()
		defer unwatch()
		seedStaff(t, c) // many commits; nobody reads ch meanwhile
		select {
		case <-ch:
		default:
			t.Fatal("no signal after commits")
		}
		select {
		case <-ch:
			t.Fatal("second signal without a new commit")
		default:
		}
	})
}
