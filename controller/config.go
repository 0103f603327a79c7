package controller

import (
	"fmt"
	"slices"
	"time"
)

// Config is what the domain needs to know about the site. The YAML schema in
// package config builds it; tests build it by hand.
type Config struct {
	Site  string
	Doors []DoorConfig
	// RoomAccess lists the staff roles that may enter alone.
	RoomAccess []Role
	// Escort lists the staff roles that may escort a visitor.
	Escort []Role
	// StepStandards are the SOP's standard times (mutu baku) for steps 1..8,
	// at index 0..7.
	StepStandards [8]time.Duration
	// MaxVisitWindow is the longest visit window a visit may be submitted
	// with; zero means DefaultMaxVisitWindow.
	MaxVisitWindow time.Duration
}

// DoorConfig describes one door.
type DoorConfig struct {
	Name          string
	Unlock        time.Duration // how long a grant releases the strike
	HeldOpen      time.Duration // how long the door may stand open before held_open
	EscortWindow  time.Duration // how far apart visitor and escort taps may be, either order
	RelockOnClose bool          // lock as soon as the door closes after opening
	TwoPerson     bool          // staff need a second staff member with room access
	Readers       []ReaderConfig
}

// ReaderConfig names a reader and the way it faces.
type ReaderConfig struct {
	Name      string
	Direction Direction
}

// Defaults from DESIGN.md and the SOP table.
const (
	DefaultUnlock       = 5 * time.Second
	DefaultHeldOpen     = 30 * time.Second
	DefaultEscortWindow = 30 * time.Second
	// DefaultMaxVisitWindow bounds a visit's window: a working day.
	DefaultMaxVisitWindow = 12 * time.Hour
)

// DefaultStepStandards are the SOP's standard step times.
var DefaultStepStandards = [8]time.Duration{
	5 * time.Minute, 5 * time.Minute, 5 * time.Minute, 15 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 10 * time.Minute, 11 * time.Minute,
}

// DefaultConfig is one door, server-room, with an entry and an exit reader.
func DefaultConfig() Config {
	return Config{
		Site: "Pintu",
		Doors: []DoorConfig{{
			Name: "server-room", Unlock: DefaultUnlock, HeldOpen: DefaultHeldOpen,
			EscortWindow: DefaultEscortWindow, RelockOnClose: true,
			Readers: []ReaderConfig{{Name: "entry", Direction: Entry}, {Name: "exit", Direction: Exit}},
		}},
		RoomAccess:     []Role{RoleCoordinator, RoleOfficer},
		Escort:         []Role{RoleCoordinator, RoleOfficer},
		StepStandards:  DefaultStepStandards,
		MaxVisitWindow: DefaultMaxVisitWindow,
	}
}

// Validate checks what the domain relies on.
func (c Config) Validate() error {
	if len(c.Doors) == 0 {
		return fmt.Errorf("%w: config: no doors", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, d := range c.Doors {
		if d.Name == "" {
			return fmt.Errorf("%w: config: door without a name", ErrInvalid)
		}
		if seen["door:"+d.Name] {
			return fmt.Errorf("%w: config: door %q twice", ErrInvalid, d.Name)
		}
		seen["door:"+d.Name] = true
		if d.Unlock <= 0 || d.HeldOpen <= 0 || d.EscortWindow <= 0 {
			return fmt.Errorf("%w: config: door %q: unlock, held-open and escort window must be positive", ErrInvalid, d.Name)
		}
		for _, r := range d.Readers {
			if r.Name == "" || (r.Direction != Entry && r.Direction != Exit) {
				return fmt.Errorf("%w: config: door %q: reader %q needs a name and direction entry or exit", ErrInvalid, d.Name, r.Name)
			}
			if seen["reader:"+d.Name+"/"+r.Name] {
				return fmt.Errorf("%w: config: door %q: reader %q twice", ErrInvalid, d.Name, r.Name)
			}
			seen["reader:"+d.Name+"/"+r.Name] = true
		}
	}
	if c.MaxVisitWindow < 0 {
		return fmt.Errorf("%w: config: max visit window %v is negative", ErrInvalid, c.MaxVisitWindow)
	}
	for _, r := range slices.Concat(c.RoomAccess, c.Escort) {
		if r == RoleVisitor || !slices.Contains(Roles, r) {
			return fmt.Errorf("%w: config: role %q cannot carry room access or escort rights", ErrInvalid, r)
		}
	}
	return nil
}
