// Package sim is simulated door hardware: a strike relay whose every write is
// kept for inspection, and two-state inputs standing for a door contact, a
// request-to-exit button or a tamper switch. pintud uses it with -sim, and
// tests use it wherever real pins are not the point.
//
// The devices follow the driver conventions of the real ones (String, Halt),
// so the wiring treats both alike; they know nothing of doors or people.
package sim

import (
	"fmt"
	"slices"
	"sync"

	"periph.io/x/conn/v3"
)

// Relay is a simulated strike relay. It starts locked.
type Relay struct {
	name string

	mu       sync.Mutex
	unlocked bool
	writes   []bool
	onSet    func(unlocked bool)
}

// NewRelay returns a locked relay. onSet, if not nil, is called after every
// write (pintud logs it, so the simulated strike is visible).
func NewRelay(name string, onSet func(unlocked bool)) *Relay {
	r := &Relay{name: name, onSet: onSet}
	_ = r.Set(false)
	return r
}

// Set releases (true) or locks (false) the strike.
func (r *Relay) Set(unlocked bool) error {
	r.mu.Lock()
	r.unlocked = unlocked
	r.writes = append(r.writes, unlocked)
	on := r.onSet
	r.mu.Unlock()
	if on != nil {
		on(unlocked)
	}
	return nil
}

// Unlocked reports the strike's current state.
func (r *Relay) Unlocked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unlocked
}

// Writes returns every write so far, oldest first: true = released.
func (r *Relay) Writes() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.writes)
}

func (r *Relay) String() string { return fmt.Sprintf("sim relay %s", r.name) }

// Halt locks the strike.
func (r *Relay) Halt() error { return r.Set(false) }

// Input is a simulated two-state input: a door contact (active = open), a
// REX button (active = pressed) or a tamper switch (active = tampered).
type Input struct {
	name string

	mu     sync.Mutex
	active bool
}

// NewInput returns an inactive input.
func NewInput(name string) *Input { return &Input{name: name} }

// Set changes the input and reports whether that was a change.
func (i *Input) Set(active bool) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	changed := i.active != active
	i.active = active
	return changed
}

// Active reports the input's state.
func (i *Input) Active() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.active
}

func (i *Input) String() string { return fmt.Sprintf("sim input %s", i.name) }

// Halt does nothing: a simulated input holds no resources.
func (i *Input) Halt() error { return nil }

var (
	_ conn.Resource = (*Relay)(nil)
	_ conn.Resource = (*Input)(nil)
)
