// Package doorio connects door hardware to the controller: it turns the
// controller's strike commands into relay writes, and readings from readers,
// door contacts, REX buttons and tamper switches into controller inputs, and
// decisions and alarms into indicator patterns (Hardware). It is the glue the
// drivers never see; they stay domain-agnostic.
package doorio

import (
	"context"
	"fmt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/drivers/sim"
)

// Strike is a relay as the controller needs it; drivers/relay and
// drivers/sim both provide one.
type Strike interface {
	Set(unlocked bool) error
}

// Strikes drives each door's strike by door name. It is the controller's
// Actuator.
type Strikes map[string]Strike

// SetStrike implements controller.Actuator.
func (s Strikes) SetStrike(door string, unlocked bool) error {
	st, ok := s[door]
	if !ok {
		return fmt.Errorf("doorio: no strike for door %q", door)
	}
	if err := st.Set(unlocked); err != nil {
		return fmt.Errorf("doorio: door %q: set strike unlocked=%v: %w", door, unlocked, err)
	}
	return nil
}

var _ controller.Actuator = Strikes(nil)

// SimDoor is one door's simulated inputs.
type SimDoor struct {
	Contact *sim.Input
	REX     *sim.Input
	Tamper  *sim.Input
}

// Sim is the simulated hardware bench the local API drives: a read on a
// simulated reader, the door contact opening or closing, a REX press, the
// enclosure's tamper switch.
type Sim struct {
	Ctrl  *controller.Controller
	Doors map[string]SimDoor
}

// NewSim builds a bench with a simulated contact and REX for every door.
func NewSim(ctrl *controller.Controller) *Sim {
	s := &Sim{Ctrl: ctrl, Doors: map[string]SimDoor{}}
	for _, d := range ctrl.Config().Doors {
		s.Doors[d.Name] = SimDoor{Contact: sim.NewInput(d.Name + " contact"), REX: sim.NewInput(d.Name + " rex"),
			Tamper: sim.NewInput(d.Name + " tamper")}
	}
	return s
}

// Tap presents a card at a simulated reader.
func (s *Sim) Tap(ctx context.Context, door, reader, card string) (controller.Result, error) {
	return s.Ctrl.Tap(ctx, door, reader, card)
}

// Door opens or closes the simulated door contact.
func (s *Sim) Door(ctx context.Context, door string, open bool) error {
	d, ok := s.Doors[door]
	if !ok {
		return fmt.Errorf("%w: unknown door %q", controller.ErrNotFound, door)
	}
	if err := s.Ctrl.SetContact(ctx, door, open); err != nil {
		return err
	}
	d.Contact.Set(open)
	return nil
}

// Tamper opens (true) or closes the simulated enclosure's tamper switch.
func (s *Sim) Tamper(ctx context.Context, door string, open bool) error {
	d, ok := s.Doors[door]
	if !ok {
		return fmt.Errorf("%w: unknown door %q", controller.ErrNotFound, door)
	}
	if err := s.Ctrl.SetTamper(ctx, door, open); err != nil {
		return err
	}
	d.Tamper.Set(open)
	return nil
}

// REX presses and releases the simulated request-to-exit button. An error
// wrapping controller.ErrStorage means the strike was released but the
// press could not be logged.
func (s *Sim) REX(ctx context.Context, door string) error {
	d, ok := s.Doors[door]
	if !ok {
		return fmt.Errorf("%w: unknown door %q", controller.ErrNotFound, door)
	}
	d.REX.Set(true)
	defer d.REX.Set(false)
	return s.Ctrl.RequestExit(ctx, door)
}
