package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

// discardCommits is a Store whose commits go nowhere: with it the read path
// measures the decision alone (channel round trip, access rule, hash chain,
// relay write) without the disk.
type discardCommits struct{ *Store }

func (discardCommits) Commit(controller.Change) error { return nil }

type nopStrike struct{}

func (nopStrike) SetStrike(string, bool) error { return nil }

// BenchmarkReadToRelay measures a card read at the entry reader through the
// controller to the relay write, with 100,000 people and cards and 1,000,000
// stored events: once for the decision alone and once including the durable
// commit. BenchmarkBareCommit beside it is the disk's own floor.
func BenchmarkReadToRelay(b *testing.B) {
	const people, events = 100_000, 1_000_000
	path := filepath.Join(b.TempDir(), "pintu.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	populate(b, s, events)
	var c controller.Change
	for i := range people {
		id := fmt.Sprintf("p%06d", i)
		c.People = append(c.People, controller.Person{ID: id, Name: "Staff " + id, Roles: []controller.Role{controller.RoleOfficer}})
		c.Cards = append(c.Cards, controller.Card{ID: fmt.Sprintf("%08d", i), PersonID: id})
	}
	if err := s.Commit(c); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}

	for _, bc := range []struct {
		name    string
		discard bool
	}{{"decision", true}, {"durable", false}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(path, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var store controller.Store = s
			if bc.discard {
				store = discardCommits{s}
			}
			ctrl, err := controller.New(controller.DefaultConfig(), store, nopStrike{}, controller.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- ctrl.Run(ctx) }()
			defer func() { cancel(); <-done }()

			var durs []time.Duration
			i := 0
			for b.Loop() {
				card := fmt.Sprintf("%08d", (i*7919)%people)
				i++
				start := time.Now()
				res, err := ctrl.Tap(ctx, "server-room", "entry", card)
				durs = append(durs, time.Since(start))
				if err != nil || res.Decision != controller.Granted {
					b.Fatalf("tap %s = %+v %v", card, res, err)
				}
			}
			reportLatency(b, durs)
		})
	}
}
