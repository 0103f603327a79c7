package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

// notes records sd_notify messages with the (fake) time they were sent.
type notes struct {
	mu   sync.Mutex
	msgs []note
}

type note struct {
	at    time.Time
	state string
}

func (n *notes) send(state string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, note{time.Now(), state})
	return nil
}

// count returns how many messages starting with prefix were sent in
// [from, to).
func (n *notes) count(prefix string, from, to time.Time) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.HasPrefix(m.state, prefix) && !m.at.Before(from) && m.at.Before(to) {
			c++
		}
	}
	return c
}

func (n *notes) states() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, m := range n.msgs {
		out = append(out, strings.SplitN(m.state, "\n", 2)[0])
	}
	return out
}

// TestReadyOnlyWhenControllerAnswers: systemd hears READY=1 only after the
// probe (the controller goroutine) answers, however long that takes.
func TestReadyOnlyWhenControllerAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var answering atomic.Bool
		n := &notes{}
		s := &supervisor{notify: n.send, log: slog.New(slog.DiscardHandler), status: "1 door(s) locked",
			probe: func(ctx context.Context) error {
				if answering.Load() {
					return nil
				}
				<-ctx.Done() // a controller whose Run has not started
				return ctx.Err()
			}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(time.Minute)
		if got := n.states(); len(got) != 0 {
			t.Fatalf("before the controller answered, systemd heard %q; want nothing", got)
		}
		answering.Store(true)
		time.Sleep(2 * readyProbeTimeout)
		if got := n.states(); len(got) != 1 || got[0] != "READY=1" {
			t.Fatalf("after the controller answered, systemd heard %q; want READY=1", got)
		}
		if !strings.Contains(n.msgs[0].state, "STATUS=1 door(s) locked") {
			t.Errorf("READY message %q has no STATUS line", n.msgs[0].state)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v after cancel, want nil", err)
		}
		if got := n.states(); len(got) != 2 || got[1] != "STOPPING=1" {
			t.Errorf("on stop systemd heard %q; want READY=1 then STOPPING=1", got)
		}
	})
}

// gatedStore is a memstore whose commits can be made to hang, as a dying SD
// card makes fsync hang: the controller goroutine is then wedged.
type gatedStore struct {
	*memstore.Store
	mu   sync.Mutex
	gate chan struct{} // nil: commits pass
}

func (s *gatedStore) Commit(c controller.Change) error {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		<-g
	}
	return s.Store.Commit(c)
}

func (s *gatedStore) wedge() func() {
	g := make(chan struct{})
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.gate = nil
		s.mu.Unlock()
		close(g)
	}
}

// TestWatchdogStopsWhenControllerWedged runs the real controller: while a
// commit hangs on its goroutine, systemd's watchdog gets no ping, so
// systemd kills and restarts pintud after WatchdogSec; pings resume when the
// controller answers again.
func TestWatchdogStopsWhenControllerWedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &gatedStore{Store: memstore.New()}
		ctrl, err := controller.New(controller.DefaultConfig(), store, nil, controller.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := &notes{}
		const wd = 3 * time.Second
		s := &supervisor{notify: n.send, probe: controllerProbe(ctrl), watchdog: wd, log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { ctrl.Run(ctx) })
		wg.Go(func() { s.Run(ctx) })

		t0 := time.Now()
		time.Sleep(10 * wd)
		t1 := time.Now()
		if got := n.count("WATCHDOG=1", t0, t1); got < 25 {
			t.Errorf("healthy controller: %d pings in %v, want one every %v", got, t1.Sub(t0), wd/3)
		}

		release := store.wedge()
		wg.Go(func() { ctrl.Tap(context.Background(), "server-room", "entry", "C-1") }) // hangs in Commit
		time.Sleep(wd)                                                                  // a ping already on its way may land
		t2 := time.Now()
		time.Sleep(10 * wd)
		t3 := time.Now()
		if got := n.count("WATCHDOG=1", t2, t3); got != 0 {
			t.Errorf("wedged controller: %d pings in %v, want none so that systemd restarts pintud", got, t3.Sub(t2))
		}

		release()
		time.Sleep(2 * wd)
		if got := n.count("WATCHDOG=1", t3, time.Now()); got == 0 {
			t.Error("controller answers again but the watchdog is not fed")
		}
		cancel()
		wg.Wait()
	})
}
