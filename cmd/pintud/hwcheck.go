package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/doorio"
)

// pulse is how long -hwcheck releases each strike.
const pulse = time.Second

// hwcheck is pintud -hwcheck: it opens the hardware the configuration names
// as pintud would, prints where each GPIO line is and who holds it, pulses
// each relay, then prints every contact, REX and tamper change and every
// card read until ctx is done. It opens no store and decides nothing: card
// reads cycle the indicator through the granted, denied and waiting
// patterns so that they can be checked too.
func hwcheck(ctx context.Context, path string, newRes func() (doorio.Resolver, error), out io.Writer, log *slog.Logger) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	hw, err := doorio.Open(cfg, path, false, newRes, log)
	if err != nil {
		return err
	}
	defer hw.Close()
	p := &checkPrinter{out: out}
	p.printf("pintud hwcheck: %s, %d doors. Stop with Ctrl-C.\n", cfg.Site.Name, len(cfg.Doors))
	// Every line goes through the GPIO character device: the kernel's
	// view of each, as gpioinfo would show it.
	for _, u := range hw.Lines() {
		s, err := hw.Describe(u)
		if err != nil {
			p.printf("line %s (%s): %v\n", u.Use, u.Pin, err)
			continue
		}
		holder := "free"
		if s.Consumer != "" {
			holder = fmt.Sprintf("held by %q", s.Consumer)
		}
		p.printf("line %s (%s): %s offset %d (%s), kernel name %q, %s [%s]\n",
			u.Use, u.Pin, s.Chip, s.Offset, s.Label, s.Name, holder, s.Flags)
	}
	for _, d := range cfg.Doors {
		what := d.Relay.Device.Describe()
		if d.Relay.Driver == config.DriverSim {
			what = "simulated"
		}
		p.printf("door %s: relay (%s): unlocking for %s\n", d.Name, what, pulse)
		if err := hw.Strikes.SetStrike(d.Name, true); err != nil {
			p.printf("door %s: relay: %v\n", d.Name, err)
		}
		t := time.NewTimer(pulse)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if err := hw.Strikes.SetStrike(d.Name, false); err != nil {
			p.printf("door %s: relay: %v\n", d.Name, err)
		} else {
			p.printf("door %s: relay locked\n", d.Name)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if len(hw.Hardware.Doors) == 0 {
		p.printf("nothing else to check: every reader and input is simulated\n")
		return nil
	}
	for _, d := range hw.Hardware.Doors {
		for _, r := range d.Readers {
			p.printf("door %s: reader %s on %s: waiting for cards\n", d.Name, r.Name, r.Dev)
		}
	}
	hw.Hardware.OnTap = p.tap
	return hw.Run(ctx, p)
}

// checkPrinter stands in for the controller during -hwcheck and prints
// what the hardware reports.
type checkPrinter struct {
	mu  sync.Mutex
	out io.Writer
	n   int
}

func (p *checkPrinter) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
}

// Tap answers granted, denied and pending in turn, to show each indicator
// pattern.
func (p *checkPrinter) Tap(ctx context.Context, door, reader, card string) (controller.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res := []controller.Result{
		{Decision: controller.Granted},
		{Decision: controller.Denied, Reason: controller.ReasonUnknownCard},
		{Decision: controller.Pending, Reason: controller.ReasonWaitingForEscort},
	}[p.n%3]
	p.n++
	return res, nil
}

func (p *checkPrinter) tap(r doorio.TapRecord) {
	p.printf("%s door %s: reader %s: card %s (%s); indicator shows %s\n",
		time.Now().Format(time.TimeOnly), r.Door, r.Reader, r.Card.ID, r.Card.Format, r.Result.Decision)
}

func (p *checkPrinter) SetContact(ctx context.Context, door string, open bool) error {
	p.printf("%s door %s: contact %s\n", time.Now().Format(time.TimeOnly), door, map[bool]string{true: "open", false: "closed"}[open])
	return nil
}

func (p *checkPrinter) RequestExit(ctx context.Context, door string) error {
	p.printf("%s door %s: rex pressed\n", time.Now().Format(time.TimeOnly), door)
	return nil
}

func (p *checkPrinter) SetTamper(ctx context.Context, door string, tampered bool) error {
	p.printf("%s door %s: tamper %s\n", time.Now().Format(time.TimeOnly), door, map[bool]string{true: "open (tampered)", false: "closed"}[tampered])
	return nil
}

func (p *checkPrinter) Status(ctx context.Context) (controller.Status, error) {
	return controller.Status{}, nil
}
