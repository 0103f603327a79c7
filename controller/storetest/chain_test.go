package storetest

import (
	"testing"

	"github.com/pintu/pintu/controller"
)

func TestChain(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int // Chain calls, each continuing the one before
	}{
		{"one", []int{1}},
		{"one call", []int{10}},
		{"continued", []int{3, 1, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v controller.Verifier
			var last controller.Event
			for _, n := range tt.sizes {
				evs := Chain(last, n)
				if len(evs) != n {
					t.Fatalf("Chain(seq %d, %d) = %d events, want %d", last.Seq, n, len(evs), n)
				}
				for _, e := range evs {
					if err := v.Next(e); err != nil {
						t.Fatalf("Verifier.Next(event %d) = %v, want nil", e.Seq, err)
					}
					if !e.Time.Equal(EventTime(e.Seq)) {
						t.Errorf("Chain event %d Time = %v, want %v", e.Seq, e.Time, EventTime(e.Seq))
					}
				}
				last = evs[n-1]
			}
		})
	}
	if !EventTime(2).After(EventTime(1)) {
		t.Errorf("EventTime(2) = %v, want after EventTime(1) = %v", EventTime(2), EventTime(1))
	}
}
