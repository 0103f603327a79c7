package doorio

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/drivers/indicator"
)

// Card is one card read by a reader.
type Card struct {
	// ID is what the controller matches against the cards it knows:
	// wiegand.Card.String() for Wiegand, the UID in upper-case hex for RC522
	// and PN532, the digits typed for a keyboard wedge.
	ID string
	// Format says how the card was read, for people: "H10301 26-bit",
	// "ISO 14443A 7-byte UID", "keyboard".
	Format string
}

// Health receives a reader's trouble. Its methods may be called from any
// goroutine and do not block.
type Health interface {
	// Fault reports that the reader failed (err) or works again (nil).
	// Readers call it on every failure; Hardware logs and counts an outage
	// once.
	Fault(err error)
	// Discarded reports n frames the reader received but could not turn
	// into a card (bad parity, unexpected length, lost edges).
	Discarded(n uint64, why string)
}

// CardReader is a reader's run loop, over one of the drivers.
type CardReader interface {
	// ReadCards sends each card read on out until ctx is done, and then
	// returns nil. It survives the reader failing: it reports the failure
	// to h, waits, reopens the device and goes on. It returns an error
	// only when it can never read again.
	ReadCards(ctx context.Context, out chan<- Card, h Health) error
	String() string
}

// Switch is a debounced input: a door contact (active: open), a REX button
// (active: pressed) or a tamper switch (active: tampered). drivers/input's
// Dev is one.
type Switch interface {
	// Run sends the current level, then every change, until ctx is done.
	Run(ctx context.Context, out chan<- bool) error
}

// Indicator is a door's LED and buzzer; drivers/indicator's Dev is one.
type Indicator interface {
	Play(p indicator.Pattern) error
	Halt() error
}

// Inputs is what the hardware tells the controller; *controller.Controller
// implements it.
type Inputs interface {
	Tap(ctx context.Context, door, reader, card string) (controller.Result, error)
	SetContact(ctx context.Context, door string, open bool) error
	RequestExit(ctx context.Context, door string) error
	SetTamper(ctx context.Context, door string, tampered bool) error
	Status(ctx context.Context) (controller.Status, error)
}

var _ Inputs = (*controller.Controller)(nil)

// Reader is a named reader of a door.
type Reader struct {
	Name string // as the controller knows it
	Dev  CardReader
}

// Door is one door's inputs and feedback. Nil fields are not fitted.
type Door struct {
	Name      string
	Readers   []Reader
	Contact   Switch
	REX       Switch
	Tamper    Switch
	Indicator Indicator
	// EscortWindow bounds the waiting pattern shown to a visitor.
	EscortWindow time.Duration
}

// TapRecord is one card read and what the controller made of it.
type TapRecord struct {
	Door, Reader string
	Card         Card
	Result       controller.Result
	Err          error
}

// ReaderStats counts one reader's reads and trouble.
type ReaderStats struct {
	Door, Reader string
	Reads        uint64 // cards read
	Faults       uint64 // outages: the reader failed or vanished
	Discarded    uint64 // frames that did not make a card
	Down         bool   // in an outage now
}

// Hardware runs the doors' readers, switches and indicators, and turns what
// they read into controller inputs. Build it, then call Run.
type Hardware struct {
	Ctrl  Inputs
	Doors []Door
	// Log receives one line per reader outage and recovery, and per input
	// the controller refused. Default: discard.
	Log *slog.Logger
	// OnTap, if set, is called after each card read has been decided, on
	// the door's goroutine.
	OnTap func(TapRecord)
	// AlarmPoll is how often a door's indicator checks for alarms.
	// Default 1s.
	AlarmPoll time.Duration

	mu    sync.Mutex
	stats map[[2]string]*ReaderStats
}

// Stats returns the readers' counts, in door and reader order.
func (h *Hardware) Stats() []ReaderStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ReaderStats
	for _, d := range h.Doors {
		for _, r := range d.Readers {
			if s, ok := h.stats[[2]string{d.Name, r.Name}]; ok {
				out = append(out, *s)
			}
		}
	}
	return out
}

type eventKind int

const (
	evCard eventKind = iota
	evContact
	evREX
	evTamper
)

type event struct {
	kind   eventKind
	reader string
	card   Card
	level  bool
}

// Run starts every reader, switch and indicator and returns nil once ctx
// is done and all of them have stopped. A failing device is logged and
// retried by its reader; it never stops Run or the other devices.
func (h *Hardware) Run(ctx context.Context) error {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.AlarmPoll <= 0 {
		h.AlarmPoll = time.Second
	}
	h.mu.Lock()
	h.stats = map[[2]string]*ReaderStats{}
	for _, d := range h.Doors {
		for _, r := range d.Readers {
			h.stats[[2]string{d.Name, r.Name}] = &ReaderStats{Door: d.Name, Reader: r.Name}
		}
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, d := range h.Doors {
		events := make(chan event)
		wg.Go(func() { h.doorLoop(ctx, d, events) })
		for _, r := range d.Readers {
			wg.Go(func() { h.runReader(ctx, d.Name, r, events) })
		}
		for _, sw := range []struct {
			kind eventKind
			s    Switch
			name string
		}{{evContact, d.Contact, "contact"}, {evREX, d.REX, "rex"}, {evTamper, d.Tamper, "tamper"}} {
			if sw.s != nil {
				wg.Go(func() { h.runSwitch(ctx, d.Name, sw.name, sw.kind, sw.s, events) })
			}
		}
	}
	wg.Wait()
	return nil
}

// health is a reader's Health: it turns a reader's repeated fault reports
// into one log line and one count per outage.
type health struct {
	h      *Hardware
	door   string
	reader Reader
}

func (x health) Fault(err error) {
	x.h.mu.Lock()
	s := x.h.stats[[2]string{x.door, x.reader.Name}]
	changed := s.Down != (err != nil)
	if changed && err != nil {
		s.Faults++
	}
	s.Down = err != nil
	x.h.mu.Unlock()
	switch {
	case !changed:
	case err != nil:
		x.h.Log.Warn("reader failed; retrying", "door", x.door, "reader", x.reader.Name, "device", x.reader.Dev.String(), "err", err)
	default:
		x.h.Log.Info("reader working again", "door", x.door, "reader", x.reader.Name, "device", x.reader.Dev.String())
	}
}

func (x health) Discarded(n uint64, why string) {
	x.h.mu.Lock()
	s := x.h.stats[[2]string{x.door, x.reader.Name}]
	first := s.Discarded == 0
	s.Discarded += n
	x.h.mu.Unlock()
	if first {
		// Later ones are only counted: a noisy cable must not flood the log.
		x.h.Log.Warn("reader frame discarded; further ones are only counted", "door", x.door, "reader", x.reader.Name,
			"device", x.reader.Dev.String(), "why", why)
	}
}

func (h *Hardware) runReader(ctx context.Context, door string, r Reader, events chan<- event) {
	cards := make(chan Card)
	done := make(chan error, 1)
	go func() { done <- r.Dev.ReadCards(ctx, cards, health{h, door, r}) }()
	for {
		select {
		case c := <-cards:
			h.mu.Lock()
			h.stats[[2]string{door, r.Name}].Reads++
			h.mu.Unlock()
			select {
			case events <- event{kind: evCard, reader: r.Name, card: c}:
			case <-ctx.Done():
			}
		case err := <-done:
			if err != nil {
				h.Log.Error("reader stopped for good", "door", door, "reader", r.Name, "device", r.Dev.String(), "err", err)
			}
			return
		}
	}
}

func (h *Hardware) runSwitch(ctx context.Context, door, name string, kind eventKind, s Switch, events chan<- event) {
	levels := make(chan bool)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, levels) }()
	for {
		select {
		case l := <-levels:
			select {
			case events <- event{kind: kind, level: l}:
			case <-ctx.Done():
			}
		case err := <-done:
			if err != nil {
				h.Log.Error("input stopped", "door", door, "input", name, "err", err)
			}
			return
		}
	}
}

// doorLoop feeds one door's events to the controller in arrival order and
// drives the door's indicator.
func (h *Hardware) doorLoop(ctx context.Context, d Door, events <-chan event) {
	ind := doorIndicator{h: h, door: d}
	tick := time.NewTicker(h.AlarmPoll)
	defer tick.Stop()
	rexDown, rexSeen := false, false
	for {
		select {
		case <-ctx.Done():
			ind.halt()
			return
		case <-tick.C:
			ind.checkAlarm(ctx)
		case ev := <-events:
			var err error
			switch ev.kind {
			case evCard:
				res, terr := h.Ctrl.Tap(ctx, d.Name, ev.reader, ev.card.ID)
				if terr == nil {
					ind.decision(res)
				}
				if h.OnTap != nil {
					h.OnTap(TapRecord{Door: d.Name, Reader: ev.reader, Card: ev.card, Result: res, Err: terr})
				}
				err = terr
			case evContact:
				err = h.Ctrl.SetContact(ctx, d.Name, ev.level)
			case evREX:
				// The first level is the button's state at start: a button
				// held or stuck then is not a press.
				if ev.level && !rexDown && rexSeen {
					err = h.Ctrl.RequestExit(ctx, d.Name)
				}
				rexDown, rexSeen = ev.level, true
			case evTamper:
				err = h.Ctrl.SetTamper(ctx, d.Name, ev.level)
			}
			if err != nil && ctx.Err() == nil {
				h.Log.Error("door input refused", "door", d.Name, "input", ev.describe(), "err", err)
			}
			ind.checkAlarm(ctx)
		}
	}
}

func (ev event) describe() string {
	switch ev.kind {
	case evCard:
		return "card on " + ev.reader
	case evContact:
		return "contact"
	case evREX:
		return "rex"
	}
	return "tamper"
}

// doorIndicator shows decisions, and the alarm pattern while the door has
// an alarm and no decision is showing.
type doorIndicator struct {
	h            *Hardware
	door         Door
	showingAlarm bool
	feedbackEnds time.Time
}

func (x *doorIndicator) play(p indicator.Pattern) {
	if err := x.door.Indicator.Play(p); err != nil {
		x.h.Log.Warn("indicator", "door", x.door.Name, "pattern", p.Name, "err", err)
	}
}

func (x *doorIndicator) decision(res controller.Result) {
	if x.door.Indicator == nil {
		return
	}
	var p indicator.Pattern
	switch res.Decision {
	case controller.Granted:
		p = indicator.Granted()
	case controller.Pending:
		p = indicator.Waiting(x.door.EscortWindow)
	default:
		p = indicator.Denied()
	}
	x.play(p)
	d := p.Duration()
	if p.Limit > 0 {
		d = p.Limit
	}
	x.feedbackEnds = time.Now().Add(d)
	x.showingAlarm = false
}

func (x *doorIndicator) checkAlarm(ctx context.Context) {
	if x.door.Indicator == nil {
		return
	}
	st, err := x.h.Ctrl.Status(ctx)
	if err != nil {
		return
	}
	active := slices.ContainsFunc(st.Alarms, func(a controller.Alarm) bool { return a.Door == x.door.Name })
	switch {
	case active && !x.showingAlarm && !time.Now().Before(x.feedbackEnds):
		x.play(indicator.Alarm())
		x.showingAlarm = true
	case !active && x.showingAlarm:
		x.halt()
	}
}

func (x *doorIndicator) halt() {
	if x.door.Indicator == nil {
		return
	}
	x.showingAlarm = false
	if err := x.door.Indicator.Halt(); err != nil && !errors.Is(err, context.Canceled) {
		x.h.Log.Warn("indicator", "door", x.door.Name, "err", err)
	}
}
