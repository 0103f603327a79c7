package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// housekeepEvery bounds how long the controller sleeps without looking at
// the clock.
const housekeepEvery = 30 * time.Second

// Options are the Controller's optional collaborators. Zero means default.
type Options struct {
	// Now reads the wall clock; default time.Now.
	Now func() time.Time
	// ClockSynced reports whether the kernel says the clock is synchronised
	// (NTP). Nil means always. A Raspberry Pi has no RTC, so after a cold boot
	// without network its clock is not to be trusted for visit windows.
	ClockSynced func() bool
	// Logger receives one line per failure the controller cannot return to a
	// caller (a relay that would not move). Default: discard.
	Logger *slog.Logger
}

// Controller owns the domain state. Create it with New, start Run in a
// goroutine, and talk to it through its methods from any goroutine.
type Controller struct {
	cfg   Config
	store Store
	act   Actuator
	opts  Options
	log   *slog.Logger
	reqs  chan request
	done  chan struct{} // closed when Run returns
	st    *state        // owned by the Run goroutine

	watchMu  sync.Mutex
	watchers []chan struct{} // see Watch
}

type request struct {
	fn    func(now time.Time)
	reply chan struct{}
}

// New loads the store and returns a Controller ready to Run.
func New(cfg Config, store Store, act Actuator, opts Options) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClockSynced == nil {
		opts.ClockSynced = func() bool { return true }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	snap, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("controller: load store: %w", err)
	}
	st, err := newState(cfg, snap)
	if err != nil {
		return nil, fmt.Errorf("controller: load store: %w", err)
	}
	return &Controller{
		cfg: cfg, store: store, act: act, opts: opts, log: log, st: st,
		reqs: make(chan request), done: make(chan struct{}),
	}, nil
}

// Run locks every door, records the start, then serves requests and timers
// until ctx is done. On the way out it locks every door before recording the
// stop, and returns nil.
func (c *Controller) Run(ctx context.Context) error {
	defer close(c.done)
	for _, d := range c.cfg.Doors {
		c.drive(d.Name, false)
	}
	c.commitAndApply(c.st.start(c.now()))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.armTimer(timer)
		select {
		case <-ctx.Done():
			for _, d := range c.cfg.Doors {
				c.drive(d.Name, false)
			}
			c.commitAndApply(c.st.stop(c.now()))
			return nil
		case r := <-c.reqs:
			r.fn(c.now())
			close(r.reply)
		case <-timer.C:
			c.commitAndApply(c.st.tick(c.now()))
		}
	}
}

func (c *Controller) armTimer(t *time.Timer) {
	// Wake at least this often so a clock that loses synchronisation raises
	// its alarm even when nobody badges.
	d := housekeepEvery
	if next, ok := c.st.nextDeadline(); ok {
		d = min(max(next.Sub(c.opts.Now()), 0), d)
	}
	t.Reset(d)
}

// now reads the clock and refreshes the controller's view of clock trust.
func (c *Controller) now() time.Time {
	now := c.opts.Now()
	c.st.synced = c.opts.ClockSynced()
	return now
}

// do runs fn on the Run goroutine and waits for it.
func (c *Controller) do(ctx context.Context, fn func(now time.Time)) error {
	r := request{fn: fn, reply: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrStopped
	}
	<-r.reply
	return nil
}

// commitAndApply commits what tx did and, only once it is durable, drives the
// relays it asks for. If the commit fails, the state is rolled back.
func (c *Controller) commitAndApply(tx *txn) error {
	if tx == nil || tx.empty() {
		return nil
	}
	c.st.seal(tx)
	if err := c.store.Commit(tx.change); err != nil {
		c.st.rollback(tx)
		c.log.Error("commit failed; nothing changed", "events", len(tx.change.Events), "err", err)
		// Locking is always safe and egress is never blocked: those moves
		// happen even unlogged, and the door's state follows the relay so
		// an egress release still relocks on time.
		for _, s := range tx.strikes {
			if !s.unlocked || tx.egress {
				c.st.forceStrike(tx.now, s.door, s.unlocked)
				c.drive(s.door, s.unlocked)
			}
		}
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	for _, s := range tx.strikes {
		c.drive(s.door, s.unlocked)
	}
	c.notify()
	return nil
}

func (c *Controller) drive(door string, unlocked bool) {
	if c.act == nil {
		return
	}
	if err := c.act.SetStrike(door, unlocked); err != nil {
		c.log.Error("drive strike", "door", door, "unlocked", unlocked, "err", err)
	}
}

// Log is the audit log, for readers that do not need the controller.
func (c *Controller) Log() EventLog { return c.store }

// Config returns the configuration the controller runs.
func (c *Controller) Config() Config { return c.cfg }

// Tap presents card at the named door's reader. An entry read is granted,
// denied or pending; an exit read is always granted (egress is never
// blocked). If the audit event cannot be committed the door stays locked and
// the read is denied with ReasonStorageFailure.
func (c *Controller) Tap(ctx context.Context, door, reader, card string) (Result, error) {
	var res Result
	var err error
	derr := c.do(ctx, func(now time.Time) {
		var tx *txn
		res, tx, err = c.st.tap(now, door, reader, card)
		if err != nil {
			return
		}
		if cerr := c.commitAndApply(tx); cerr != nil {
			res = Result{Decision: Denied, Reason: ReasonStorageFailure, Person: res.Person, Visit: res.Visit}
			if tx.egress {
				res.Decision = Granted // commitAndApply released the strike anyway
			}
			return
		}
		res.Seq = tx.resultSeq
	})
	return res, errors.Join(derr, err)
}

// SetContact reports the door contact: open or closed.
func (c *Controller) SetContact(ctx context.Context, door string, open bool) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.contact(now, door, open) })
}

// RequestExit reports a press of the door's request-to-exit button. It always
// releases the strike: egress is never blocked.
func (c *Controller) RequestExit(ctx context.Context, door string) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.rex(now, door) })
}

// SetLockdown puts a door in lockdown (only egress works) or releases it.
func (c *Controller) SetLockdown(ctx context.Context, door, actor string, on bool) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.lockdown(now, door, actor, on) })
}

// AddPerson registers a person.
func (c *Controller) AddPerson(ctx context.Context, p Person, actor string) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.addPerson(now, p, actor) })
}

// AssignCard binds a card to a person.
func (c *Controller) AssignCard(ctx context.Context, card, person, actor string) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.assignCard(now, card, person, actor) })
}

// RevokeCard revokes a card; it is denied from then on.
func (c *Controller) RevokeCard(ctx context.Context, card, actor string) error {
	return c.run(ctx, func(now time.Time) (*txn, error) { return c.st.revokeCard(now, card, actor) })
}

// SubmitVisit is SOP step 1: admin staff enter the visitor's form.
func (c *Controller) SubmitVisit(ctx context.Context, f VisitForm, by string) (Visit, error) {
	var v Visit
	err := c.run(ctx, func(now time.Time) (*txn, error) {
		tx, err := c.st.submit(now, f, by)
		if err == nil {
			v = tx.change.Visits[0]
		}
		return tx, err
	})
	return v.clone(), err
}

// Step takes a workflow step on a visit: check, approve, reject, return-id,
// report, order-archive or archive. note is the rejection reason or the work
// report.
func (c *Controller) Step(ctx context.Context, visit string, a Action, by, note string) (Visit, error) {
	var v Visit
	err := c.run(ctx, func(now time.Time) (*txn, error) {
		tx, err := c.st.step(now, visit, a, by, note)
		if err == nil {
			v = tx.change.Visits[0]
		}
		return tx, err
	})
	return v.clone(), err
}

// run executes a state method on the Run goroutine and commits what it
// returns.
func (c *Controller) run(ctx context.Context, fn func(now time.Time) (*txn, error)) error {
	var err error
	derr := c.do(ctx, func(now time.Time) {
		var tx *txn
		if tx, err = fn(now); err == nil {
			err = c.commitAndApply(tx)
		}
	})
	return errors.Join(derr, err)
}

// Person returns the person with the given id.
func (c *Controller) Person(ctx context.Context, id string) (Person, error) {
	var p Person
	var err error
	derr := c.do(ctx, func(time.Time) { p, err = c.st.person(id) })
	return p, errors.Join(derr, err)
}

// People lists everyone, ordered by id.
func (c *Controller) People(ctx context.Context) ([]Person, error) {
	var ps []Person
	err := c.do(ctx, func(time.Time) { ps = c.st.personList() })
	return ps, err
}

// Cards lists every card, ordered by id.
func (c *Controller) Cards(ctx context.Context) ([]Card, error) {
	var cs []Card
	err := c.do(ctx, func(time.Time) { cs = c.st.cardList() })
	return cs, err
}

// Visit returns one visit.
func (c *Controller) Visit(ctx context.Context, id string) (Visit, error) {
	var v Visit
	var err error
	derr := c.do(ctx, func(time.Time) { v, err = c.st.visit(id) })
	return v, errors.Join(derr, err)
}

// Visits lists visits, ordered by id; a non-empty state filters.
func (c *Controller) Visits(ctx context.Context, state VisitState) ([]Visit, error) {
	var vs []Visit
	err := c.do(ctx, func(time.Time) { vs = c.st.visitList(state) })
	return vs, err
}

// Status is a snapshot of the doors, alarms and occupancy.
func (c *Controller) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, func(now time.Time) { s = c.st.status(now) })
	return s, err
}

// Status is what `pintuctl status` shows.
type Status struct {
	Site         string       `json:"site"`
	Time         time.Time    `json:"time"`
	ClockTrusted bool         `json:"clock_trusted"`
	Doors        []DoorStatus `json:"doors"`
	Alarms       []Alarm      `json:"alarms"`
	Inside       []Occupant   `json:"inside"`
}

// DoorStatus is one door's state.
type DoorStatus struct {
	Name     string `json:"name"`
	Lock     string `json:"lock"`    // locked or unlocked
	Contact  string `json:"contact"` // open or closed
	Lockdown bool   `json:"lockdown,omitempty"`
}
