package memstore_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) controller.Store { return memstore.New() })
}

func TestFailCommits(t *testing.T) {
	s := memstore.New()
	evs := storetest.Chain(controller.Event{}, 2)
	if err := s.Commit(controller.Change{Events: evs[:1]}); err != nil {
		t.Fatalf("Commit(seq 1) = %v, want nil", err)
	}
	before, err := s.Load()
	if err != nil {
		t.Fatalf("Load() = %v, want nil", err)
	}

	errDisk := errors.New("disk full")
	s.FailCommits(errDisk)
	change := controller.Change{
		Events: evs[1:],
		People: []controller.Person{{ID: "p-1", Name: "Sari"}},
		Enter:  []controller.Occupant{{Person: "p-1", Door: "server-room"}},
	}
	if err := s.Commit(change); !errors.Is(err, errDisk) {
		t.Fatalf("Commit() after FailCommits(%v) = %v, want an error wrapping it", errDisk, err)
	}
	after, err := s.Load()
	if err != nil {
		t.Fatalf("Load() = %v, want nil", err)
	}
	if diff := cmp.Diff(before, after, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Load() after a failed commit mismatch (-want +got):\n%s", diff)
	}

	s.FailCommits(nil)
	if err := s.Commit(change); err != nil {
		t.Fatalf("Commit() after FailCommits(nil) = %v, want nil", err)
	}
	var v controller.Verifier
	if err := s.Events(controller.EventQuery{}, v.Next); err != nil || v.Count() != 2 {
		t.Errorf("Events() verified %d events, err %v; want 2, nil", v.Count(), err)
	}
}

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.Outbox { return memstore.New().EnableOutbox() })
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore { return memstore.New() })
}
