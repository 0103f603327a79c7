package sim

import (
	"slices"
	"testing"
)

func TestRelayStartsLockedAndKeepsWrites(t *testing.T) {
	var seen []bool
	r := NewRelay("door", func(u bool) { seen = append(seen, u) })
	if r.Unlocked() {
		t.Fatal("new relay is unlocked")
	}
	_ = r.Set(true)
	if !r.Unlocked() {
		t.Fatal("Set(true) did not release")
	}
	_ = r.Halt()
	want := []bool{false, true, false}
	if got := r.Writes(); !slices.Equal(got, want) {
		t.Fatalf("Writes() = %v, want %v", got, want)
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("onSet saw %v, want %v", seen, want)
	}
}

func TestInputReportsChanges(t *testing.T) {
	i := NewInput("contact")
	for _, tt := range []struct{ set, changed bool }{{true, true}, {true, false}, {false, true}} {
		if got := i.Set(tt.set); got != tt.changed || i.Active() != tt.set {
			t.Fatalf("Set(%v) = %v active %v, want %v %v", tt.set, got, i.Active(), tt.changed, tt.set)
		}
	}
}
