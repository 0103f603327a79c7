package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/pintu/pintu/controller"
)

// supervisor speaks systemd's notify protocol for pintud.service
// (Type=notify, WatchdogSec=). It says READY=1 once the controller goroutine
// answers, which it does only after Run has driven every strike locked and
// recorded the start, and run calls it only after the store is open and
// loaded and the API socket listens. Then it feeds the watchdog only while
// the controller goroutine keeps answering, so a wedged controller (a commit
// stuck on a dying SD card, a deadlock) is killed and restarted by systemd
// rather than left holding the door's last state.
type supervisor struct {
	// notify sends one sd_notify message; a no-op outside systemd.
	notify func(state string) error
	// probe returns nil only if the controller goroutine answered before
	// ctx ended.
	probe func(ctx context.Context) error
	// watchdog is WatchdogSec (WATCHDOG_USEC); zero when systemd set none.
	watchdog time.Duration
	// status is the text systemctl status shows once ready.
	status string
	log    *slog.Logger
}

// readyProbeTimeout bounds one readiness probe; a probe before the
// controller's Run starts waits this long and is retried.
const readyProbeTimeout = time.Second

// sdNotify sends state to NOTIFY_SOCKET, if systemd set one.
func sdNotify(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// controllerProbe answers from the controller goroutine: Status runs there.
func controllerProbe(ctrl *controller.Controller) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := ctrl.Status(ctx)
		return err
	}
}

// Run reports readiness, feeds the watchdog until ctx is done, then says
// STOPPING=1. It returns nil; a controller that stops is reported by the
// controller's own Run.
func (s *supervisor) Run(ctx context.Context) error {
	if !s.waitReady(ctx) {
		return nil
	}
	s.send("READY=1\nSTATUS=" + s.status)
	s.log.Info("ready", "watchdog", s.watchdog)
	defer s.send("STOPPING=1")
	if s.watchdog <= 0 {
		<-ctx.Done()
		return nil
	}
	// Three chances per watchdog period: a commit that takes a few seconds
	// on a slow SD card delays one probe, not the door's restart.
	every := s.watchdog / 3
	t := time.NewTicker(every)
	defer t.Stop()
	wedged := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err := s.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !wedged {
				s.log.Error("controller does not answer; not feeding the systemd watchdog, which restarts pintud after WatchdogSec",
					"watchdog", s.watchdog, "err", err)
				wedged = true
			}
			continue
		}
		if wedged {
			s.log.Warn("controller answers again; feeding the watchdog")
			wedged = false
		}
		s.send("WATCHDOG=1")
	}
}

// waitReady probes until the controller answers; false if ctx ended first
// or the controller stopped.
func (s *supervisor) waitReady(ctx context.Context) bool {
	for {
		pctx, cancel := context.WithTimeout(ctx, readyProbeTimeout)
		err := s.probe(pctx)
		cancel()
		switch {
		case ctx.Err() != nil, errors.Is(err, controller.ErrStopped):
			return false
		case err == nil:
			return true
		case !errors.Is(err, context.DeadlineExceeded):
			// Not a slow start: wait before asking again.
			select {
			case <-ctx.Done():
				return false
			case <-time.After(readyProbeTimeout):
			}
		}
	}
}

func (s *supervisor) send(state string) {
	if err := s.notify(state); err != nil {
		s.log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// watchdogPeriod reads WatchdogSec from the environment systemd set.
func watchdogPeriod(log *slog.Logger) time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("ignoring a bad watchdog setting from systemd", "err", err)
		return 0
	}
	return d
}

func readyStatus(socket string, doors int) string {
	return fmt.Sprintf("%d door(s) locked, store open, API on %s", doors, socket)
}
