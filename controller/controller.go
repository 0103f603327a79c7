package controller

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	// Logger receives a line per failure the controller cannot return to a
	// caller (a relay that would not move, the store failing and
	// recovering). Default: discard.
	Logger *slog.Logger
	// Observer, when set, is told how long each step took to decide and
	// to commit (pintud's metrics). Nil: nobody is told.
	Observer Observer
	// RecordCache is how many people, cards and visits of each kind the
	// controller keeps checked in memory, per cache generation; zero means
	// DefaultRecordCache.
	RecordCache int
	// VerifyDuty is the share of a CPU the background integrity check
	// takes (1: as fast as it can); zero means DefaultVerifyDuty.
	// VerifyEvery is how often it checks everything again; zero means
	// DefaultVerifyEvery.
	VerifyDuty  float64
	VerifyEvery time.Duration
	// StartNotes are events the start step writes before its started
	// event: what pintud found beside the log when it started (see
	// StartNote).
	StartNotes []StartNote
	// StartBreaks are integrity breaks pintud found before the controller
	// started (the log's event at its anchor's seq is not the one the
	// anchor names): they are recorded like the controller's own.
	StartBreaks []Break
}

// Observer receives the controller's timings. It is called on the Run
// goroutine, so it must not block.
type Observer interface {
	// ObserveDecision is the time from an input reaching the Run goroutine
	// to its step being decided, before the commit.
	ObserveDecision(d time.Duration)
	// ObserveCommit is the time the store's Commit took, and its error.
	ObserveCommit(d time.Duration, err error)
}

// StartNote is an event pintud asks the start step to write: a new log
// started deliberately (EventLogInitialised, which must be the log's first
// event), an anchor made again (EventAnchorRecreated) or a restore
// (EventLogRestored). Detail says what was found.
type StartNote struct {
	Type   EventType
	Detail string
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
	fail  failing       // owned by the Run goroutine
	began time.Time     // when the Run goroutine took the input it works on, for Observer

	// driveMu serialises relay writes: the Run goroutine's and the early
	// egress releases callers make (see releaseEarly).
	driveMu sync.Mutex
	stopped bool           // Run has locked every door for the last time
	early   map[string]int // per door, egress releases made ahead of their step

	watchMu  sync.Mutex
	watchers []chan struct{} // see Watch

	progressState // the background integrity check's position
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
	for _, n := range opts.StartNotes {
		switch n.Type {
		case EventLogInitialised, EventAnchorRecreated, EventLogRestored:
		default:
			return nil, fmt.Errorf("controller: start note of type %q: not a start note", n.Type)
		}
	}
	snap, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("controller: load store: %w", err)
	}
	if slices.ContainsFunc(opts.StartNotes, func(n StartNote) bool { return n.Type == EventLogInitialised }) && snap.Last.Seq != 0 {
		return nil, fmt.Errorf("controller: a new log is started on an empty store; this one ends at seq %d", snap.Last.Seq)
	}
	st, err := newState(cfg, snap, store, opts.RecordCache)
	if err != nil {
		return nil, fmt.Errorf("controller: load store: %w", err)
	}
	// The tail of the log is checked before anyone is answered; the rest,
	// and every record, in the background once Run starts.
	breaks, cp, err := checkTail(store, snap.Integrity, snap.Last, opts.Now())
	if err != nil {
		return nil, fmt.Errorf("controller: check the log: %w", err)
	}
	st.startFaults = append(st.startFaults, breaks...)
	st.startFaults = append(st.startFaults, opts.StartBreaks...)
	if cp.Seq >= snap.Integrity.Checkpoint.Seq+checkpointEvery {
		st.startCheckpoint = cp
	}
	for _, b := range st.startFaults {
		log.Error("integrity check at start: break found; entry is refused until a head accepts it", "break", b.String())
	}
	return &Controller{
		cfg: cfg, store: store, act: act, opts: opts, log: log, st: st,
		reqs: make(chan request), done: make(chan struct{}), early: map[string]int{},
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
	c.began = time.Now()
	c.process(c.st.start(c.now(), c.opts.StartNotes))
	vctx, stopVerify := context.WithCancel(ctx)
	var verifying sync.WaitGroup
	verifying.Go(func() { c.verifyLoop(vctx) })
	defer verifying.Wait()
	defer stopVerify()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.armTimer(timer)
		select {
		case <-ctx.Done():
			c.driveMu.Lock()
			c.stopped = true
			for _, d := range c.cfg.Doors {
				c.driveLocked(d.Name, false)
			}
			c.driveMu.Unlock()
			c.process(c.st.stop(c.now()))
			return nil
		case r := <-c.reqs:
			c.began = time.Now()
			r.fn(c.now())
			close(r.reply)
		case <-timer.C:
			c.began = time.Now()
			c.process(c.st.tick(c.now()))
		}
	}
}

func (c *Controller) armTimer(t *time.Timer) {
	// Wake at least this often so a clock that loses synchronisation raises
	// its alarm even when nobody badges.
	d := housekeepEvery
	now := c.opts.Now()
	if next, ok := c.st.nextDeadline(); ok {
		d = min(max(next.Sub(now), 0), d)
	}
	if c.st.storage != nil {
		// While commits fail, time-driven steps wait out the back-off:
		// they cannot be written and would only fail again.
		d = max(d, c.fail.retryAt.Sub(now))
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

// drive moves a strike from the Run goroutine. A lock is skipped while a
// caller's egress release for the door waits for its step: that step
// decides the door's state next.
func (c *Controller) drive(door string, unlocked bool) {
	c.driveMu.Lock()
	defer c.driveMu.Unlock()
	if !unlocked && c.early[door] > 0 {
		return
	}
	c.driveLocked(door, unlocked)
}

// driveEgress releases a strike for egress unless the caller already did
// (releaseEarly).
func (c *Controller) driveEgress(door string) {
	c.driveMu.Lock()
	defer c.driveMu.Unlock()
	if c.early[door] == 0 {
		c.driveLocked(door, true)
	}
}

func (c *Controller) driveLocked(door string, unlocked bool) {
	if c.act == nil {
		return
	}
	if err := c.act.SetStrike(door, unlocked); err != nil {
		c.log.Error("drive strike", "door", door, "unlocked", unlocked, "err", err)
	}
}

// releaseEarly releases a door's strike for egress from the caller's
// goroutine, before the egress input reaches the Run goroutine, so that
// egress never waits behind a commit in progress (a stalled SD card). The
// input's own step follows and logs it; endEarly marks it handled. It
// reports false once Run has stopped: then nothing would relock the door.
func (c *Controller) releaseEarly(door string) bool {
	c.driveMu.Lock()
	defer c.driveMu.Unlock()
	if c.stopped {
		return false
	}
	c.early[door]++
	c.driveLocked(door, true)
	return true
}

// endEarly marks an early release handled, on the Run goroutine once the
// input's step is done. If the input made no step (it was refused as bad
// input) the door's state is still locked: the relay follows it.
func (c *Controller) endEarly(door string) {
	c.driveMu.Lock()
	defer c.driveMu.Unlock()
	if c.early[door]--; c.early[door] > 0 {
		return
	}
	delete(c.early, door)
	if d, ok := c.st.doors[door]; ok && !d.rt.unlocked {
		c.driveLocked(door, false)
	}
}

// doEgress runs an egress input: the release first, then fn on the Run
// goroutine. Once released, the input is delivered whatever ctx says, so
// that its step logs the release and relocks on time.
func (c *Controller) doEgress(ctx context.Context, door string, fn func(now time.Time)) error {
	if !c.releaseEarly(door) {
		return ErrStopped
	}
	r := request{fn: func(now time.Time) { defer c.endEarly(door); fn(now) }, reply: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.done:
		return ErrStopped // Run locked every door on its way out
	}
	select {
	case <-r.reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Log is the audit log, for readers that do not need the controller. A
// read that hits damage raises the integrity alarm (and returns its error).
func (c *Controller) Log() EventLog { return checkedLog{c} }

// Config returns the configuration the controller runs.
func (c *Controller) Config() Config { return c.cfg }

// exitReader reports whether reader at door faces out.
func (c *Controller) exitReader(door, reader string) bool {
	for _, d := range c.cfg.Doors {
		if d.Name == door {
			return slices.ContainsFunc(d.Readers, func(r ReaderConfig) bool { return r.Name == reader && r.Direction == Exit })
		}
	}
	return false
}

// Watch returns a channel that receives a value after commits: at least one
// after any number of commits since the last receive, never blocking the
// controller. Adapters use it to learn of new events (the MQTT outbox)
// without polling. stop releases the channel.
func (c *Controller) Watch() (ch <-chan struct{}, stop func()) {
	w := make(chan struct{}, 1)
	c.watchMu.Lock()
	c.watchers = append(c.watchers, w)
	c.watchMu.Unlock()
	return w, func() {
		c.watchMu.Lock()
		defer c.watchMu.Unlock()
		c.watchers = slices.DeleteFunc(c.watchers, func(x chan struct{}) bool { return x == w })
	}
}

// notify wakes the watchers after a commit.
func (c *Controller) notify() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	for _, w := range c.watchers {
		select {
		case w <- struct{}{}:
		default: // already signalled
		}
	}
}
