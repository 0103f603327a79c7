// Package metrics is pintud's observability adapter: Prometheus text at
// /metrics (github.com/VictoriaMetrics/metrics, a fraction of the size of the
// reference client) and the health checks /livez and /readyz, served on the
// optional metrics.listen address.
//
// It only reads. Decisions are counted from committed audit events, followed
// with the controller's Watch and the log, as the MQTT outbox is; door
// states, alarms and clock trust come from one Status call per scrape;
// reader, MQTT and store figures from small accessors pintud hands it.
// Decision and commit latencies need a hook in the controller's run loop:
// [Timings] implements [Observer] for it; it exists before the controller
// does, so it can be handed to controller.New and then to [New].
//
// # Caveats
//
// Counters start at zero when pintud starts (Prometheus handles the reset);
// the audit log keeps the totals. The decision and commit histograms stay
// empty until the controller calls its [Observer]. A scrape asks the controller
// goroutine for its status, bounded by Options.ProbeTimeout; scraping every
// few seconds is fine, every few milliseconds is not.
package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/pintu/pintu/controller"
)

// Controller is what the collector reads from the controller;
// *controller.Controller implements it.
type Controller interface {
	Status(ctx context.Context) (controller.Status, error)
	Watch() (ch <-chan struct{}, stop func())
	Log() controller.EventLog
}

var _ Controller = (*controller.Controller)(nil)

// Observer receives the controller's timings; [Timings] is the one this
// package gives the controller (controller.Options.Observer).
type Observer = controller.Observer

// MQTTState reports the broker link; *mqttlink.Link implements it.
type MQTTState interface {
	Connected() bool
}

// Outbox is the MQTT outbox, read for its backlog.
type Outbox interface {
	Pending(limit int) ([]controller.Event, error)
}

// ReaderCounts is one reader's counts since pintud started.
type ReaderCounts struct {
	Door, Reader string
	Reads        uint64 // cards read
	Faults       uint64 // outages: the reader failed or vanished
	Discarded    uint64 // frames that did not make a card
	Down         bool   // in an outage now
}

// Options are the collector's sources. Nil ones are left out of /metrics.
type Options struct {
	// StorePath is the database file, for pintu_store_size_bytes.
	StorePath string
	// StoreCheck returns nil while the store is open and verified. Nil
	// means always: pintud opened and loaded the store before it started
	// the controller.
	StoreCheck func() error
	// MQTT is the broker link and Outbox its queue; nil without an mqtt
	// section.
	MQTT   MQTTState
	Outbox Outbox
	// Readers returns each reader's counts.
	Readers func() []ReaderCounts
	// Timings are the controller's latencies; nil makes empty histograms.
	Timings *Timings
	// LastBackup returns when the newest scheduled backup was written and
	// verified (zero before one); nil without scheduled backups.
	LastBackup func() time.Time
	// ProbeTimeout bounds the Status call of a scrape or /readyz.
	// Default 1s.
	ProbeTimeout time.Duration
	// Logger receives a line when the log cannot be read. Default: discard.
	Logger *slog.Logger
}

// Histogram buckets, in seconds. A decision is a pure step in memory; a
// commit is an fsync, milliseconds on a good SD card, seconds on a dying one.
var (
	decisionBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	commitBuckets   = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// knownAlarms are listed at zero while inactive, so a dashboard's series
// exist before the first alarm.
var knownAlarms = []controller.AlarmKind{
	controller.AlarmVisitorUnescorted, controller.AlarmOverstay, controller.AlarmForcedOpen,
	controller.AlarmHeldOpen, controller.AlarmClockUnsynced, controller.AlarmTamper,
}

// Collector gathers pintud's metrics. Create it with New before the
// controller's Run starts, run Run beside it, and serve Handler.
type Collector struct {
	ctrl Controller
	opts Options
	log  *slog.Logger
	set  *vm.Set

	watch     <-chan struct{}
	stopWatch func()
	next      uint64 // the next seq to count; owned by Run
	lastSeq   atomic.Uint64
	readErr   string // the last log read error, to log each once; owned by Run

	timings *Timings
}

// Timings records the controller's decision and commit latencies. Create
// it before the controller, give it to the controller as its observer and
// to New in Options.Timings.
type Timings struct {
	set           *vm.Set
	decision      *vm.PrometheusHistogram
	commit        *vm.PrometheusHistogram
	commitFailure *vm.Counter
}

var _ Observer = (*Timings)(nil)

// NewTimings returns empty latency histograms.
func NewTimings() *Timings {
	t := &Timings{set: vm.NewSet()}
	t.decision = t.set.NewPrometheusHistogramExt("pintu_decision_duration_seconds", decisionBuckets)
	t.commit = t.set.NewPrometheusHistogramExt("pintu_commit_duration_seconds", commitBuckets)
	t.commitFailure = t.set.NewCounter("pintu_commit_failures_total")
	return t
}

// ObserveDecision records how long a step took to decide.
func (t *Timings) ObserveDecision(d time.Duration) { t.decision.Update(d.Seconds()) }

// ObserveCommit records how long a commit took, and whether it failed.
func (t *Timings) ObserveCommit(d time.Duration, err error) {
	t.commit.Update(d.Seconds())
	if err != nil {
		t.commitFailure.Inc()
	}
}

// New returns a collector for ctrl that counts the events committed from
// now on. Call it before ctrl's Run so that the start is counted.
func New(ctrl Controller, opts Options) (*Collector, error) {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// HELP and TYPE lines: Prometheus then knows counters and histograms.
	// A process-wide switch in the library; pintud wants it on everywhere.
	vm.ExposeMetadata(true)
	c := &Collector{ctrl: ctrl, opts: opts, log: opts.Logger, set: vm.NewSet()}
	// Watch first: a commit after this wakes Run, which reads from the
	// newest seq found below.
	c.watch, c.stopWatch = ctrl.Watch()
	last, err := newestSeq(ctrl.Log())
	if err != nil {
		c.stopWatch()
		return nil, fmt.Errorf("metrics: find the newest event: %w", err)
	}
	c.next = last + 1
	c.lastSeq.Store(last)

	c.timings = opts.Timings
	if c.timings == nil {
		c.timings = NewTimings()
	}
	c.set.RegisterMetricsWriter(c.timings.set.WritePrometheus)
	c.set.NewGauge("pintu_audit_last_seq", func() float64 { return float64(c.lastSeq.Load()) })
	if opts.StorePath != "" {
		c.set.NewGauge("pintu_store_size_bytes", func() float64 {
			fi, err := os.Stat(opts.StorePath)
			if err != nil {
				return 0
			}
			return float64(fi.Size())
		})
	}
	if opts.MQTT != nil {
		c.set.NewGauge("pintu_mqtt_connected", func() float64 { return bool01(opts.MQTT.Connected()) })
	}
	if opts.Outbox != nil {
		c.set.NewGauge("pintu_mqtt_outbox_backlog_events", c.backlog)
	}
	if opts.LastBackup != nil {
		c.set.NewGauge("pintu_backup_last_success_timestamp_seconds", func() float64 {
			if t := opts.LastBackup(); !t.IsZero() {
				return float64(t.Unix())
			}
			return 0
		})
	}
	c.set.RegisterMetricsWriter(c.writeStatus)
	if opts.Readers != nil {
		c.set.RegisterMetricsWriter(c.writeReaders)
	}
	return c, nil
}

// Run counts committed events until ctx is done, then returns nil.
func (c *Collector) Run(ctx context.Context) error {
	defer c.stopWatch()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.watch:
		}
		c.catchUp()
	}
}

// catchUp counts the events committed since the last call.
func (c *Collector) catchUp() {
	err := c.ctrl.Log().Events(controller.EventQuery{FromSeq: c.next}, func(e controller.Event) error {
		c.count(e)
		c.next = e.Seq + 1
		c.lastSeq.Store(e.Seq)
		return nil
	})
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg != c.readErr {
		// Once per distinct error: a damaged range would repeat on every
		// commit.
		if err != nil {
			c.log.Error("metrics: read the audit log", "from_seq", c.next, "err", err)
		}
		c.readErr = msg
	}
}

func (c *Collector) count(e controller.Event) {
	c.set.GetOrCreateCounter("pintu_audit_events_total" + labels("type", string(e.Type))).Inc()
	if e.Decision != "" {
		c.set.GetOrCreateCounter("pintu_decisions_total" + labels("event", string(e.Type), "door", e.Door,
			"decision", string(e.Decision), "reason", string(e.Reason))).Inc()
	}
}

// backlog is how many events wait in the MQTT outbox: from the oldest not
// yet acknowledged to the newest committed.
func (c *Collector) backlog() float64 {
	evs, err := c.opts.Outbox.Pending(1)
	if err != nil || len(evs) == 0 {
		return 0
	}
	last := c.lastSeq.Load()
	if evs[0].Seq > last {
		return 1 // committed after the newest this collector counted
	}
	return float64(last - evs[0].Seq + 1)
}

// status asks the controller for its status, bounded by ProbeTimeout.
func (c *Collector) status(ctx context.Context) (controller.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ProbeTimeout)
	defer cancel()
	return c.ctrl.Status(ctx)
}

// writeStatus writes the metrics read from one Status call.
func (c *Collector) writeStatus(w io.Writer) {
	st, err := c.status(context.Background())
	gauge(w, "pintu_controller_up", "", bool01(err == nil))
	if err != nil {
		return
	}
	gauge(w, "pintu_clock_trusted", "", bool01(st.ClockTrusted))
	gauge(w, "pintu_people_inside", "", float64(len(st.Inside)))
	active := map[controller.AlarmKind]int{}
	for _, k := range knownAlarms {
		active[k] = 0
	}
	for _, a := range st.Alarms {
		active[a.Kind]++
	}
	vm.WriteMetadataIfNeeded(w, "pintu_alarms_active", "gauge")
	for _, k := range slices.Sorted(maps.Keys(active)) {
		fmt.Fprintf(w, "pintu_alarms_active%s %d\n", labels("kind", string(k)), active[k])
	}
	for _, f := range []struct {
		name string
		on   func(controller.DoorStatus) bool
	}{
		{"pintu_door_unlocked", func(d controller.DoorStatus) bool { return d.Lock == "unlocked" }},
		{"pintu_door_open", func(d controller.DoorStatus) bool { return d.Contact == "open" }},
		{"pintu_door_lockdown", func(d controller.DoorStatus) bool { return d.Lockdown }},
	} {
		vm.WriteMetadataIfNeeded(w, f.name, "gauge")
		for _, d := range st.Doors {
			fmt.Fprintf(w, "%s%s %g\n", f.name, labels("door", d.Name), bool01(f.on(d)))
		}
	}
}

// writeReaders writes each reader's counts.
func (c *Collector) writeReaders(w io.Writer) {
	rs := c.opts.Readers()
	if len(rs) == 0 {
		return
	}
	for _, f := range []struct {
		name, typ string
		v         func(ReaderCounts) float64
	}{
		{"pintu_reader_reads_total", "counter", func(r ReaderCounts) float64 { return float64(r.Reads) }},
		{"pintu_reader_faults_total", "counter", func(r ReaderCounts) float64 { return float64(r.Faults) }},
		{"pintu_reader_discarded_frames_total", "counter", func(r ReaderCounts) float64 { return float64(r.Discarded) }},
		{"pintu_reader_down", "gauge", func(r ReaderCounts) float64 { return bool01(r.Down) }},
	} {
		vm.WriteMetadataIfNeeded(w, f.name, f.typ)
		for _, r := range rs {
			fmt.Fprintf(w, "%s%s %g\n", f.name, labels("door", r.Door, "reader", r.Reader), f.v(r))
		}
	}
}

func gauge(w io.Writer, name, lbls string, v float64) {
	vm.WriteMetadataIfNeeded(w, name, "gauge")
	fmt.Fprintf(w, "%s%s %g\n", name, lbls, v)
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labels formats label pairs k1, v1, k2, v2... as {k1="v1",k2="v2"},
// escaping values as the exposition format wants.
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// newestSeq finds the newest event's seq by probing the log (seqs start at
// 1 and have no gaps): a few dozen one-event reads instead of a walk over
// a million.
func newestSeq(log controller.EventLog) (uint64, error) {
	has := func(seq uint64) (bool, error) {
		found := false
		err := log.Events(controller.EventQuery{FromSeq: seq, ToSeq: seq}, func(controller.Event) error {
			found = true
			return nil
		})
		return found, err
	}
	// Find hi with seq hi absent, doubling, then bisect (lo present).
	lo, hi := uint64(0), uint64(1)
	for {
		ok, err := has(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := has(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
