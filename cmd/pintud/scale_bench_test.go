package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/boltstore"
)

// The scale benchmarks: a site of a thousand people with cards, and one of
// a million, each with as many events (the import writes one per person).
// The store is built once per size and per run, through the bulk import
// (the same path as pintuctl person import, without the CSV), on a store
// opened with NoSync. Each figure is reported with the load average, as the
// machine is shared.
//
// The card reads (decision, read-to-relay) run b.N times; the
// rest do a fixed amount of work once, whatever -benchtime says: three
// starts with the page cache warm, one with it dropped (as root), one
// export and one verify of the whole log.
//
//	go test ./cmd/pintud -run '^$' -bench BenchmarkScale -benchtime 20000x -timeout 60m

var scales = []int{1000, 1_000_000}

func init() {
	// PINTU_BENCH_SCALES=1000,100000 measures other sizes.
	if v := os.Getenv("PINTU_BENCH_SCALES"); v != "" {
		scales = nil
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(f); err == nil {
				scales = append(scales, n)
			}
		}
	}
}

type scaleFixture struct {
	once  sync.Once
	dir   string
	build time.Duration
	err   error
}

var fixtures sync.Map // size -> *scaleFixture

// scaleStore returns the state directory of a site of n people, building it
// the first time.
func scaleStore(b *testing.B, n int) string {
	b.Helper()
	v, _ := fixtures.LoadOrStore(n, &scaleFixture{})
	f := v.(*scaleFixture)
	f.once.Do(func() {
		start := time.Now()
		f.dir, f.err = buildScale(n)
		f.build = time.Since(start)
		if f.err == nil {
			b.Logf("built the %d-people store in %v", n, f.build.Round(time.Second))
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.dir
}

// removeScaleFixtures removes the stores built and the pintud binary.
func removeScaleFixtures() {
	fixtures.Range(func(_, v any) bool {
		if f := v.(*scaleFixture); f.dir != "" && os.Getenv("PINTU_BENCH_KEEP") == "" {
			os.RemoveAll(f.dir)
		}
		return true
	})
	if pintudBin.path != "" {
		os.RemoveAll(filepath.Dir(pintudBin.path))
	}
}

func buildScale(n int) (string, error) {
	// PINTU_BENCH_KEEP=DIR keeps each size's store in DIR and uses it
	// again in the next run (a million takes minutes to build); the card
	// reads measured add to its log.
	if keep := os.Getenv("PINTU_BENCH_KEEP"); keep != "" {
		dir := filepath.Join(keep, fmt.Sprintf("pintu-scale-%d", n))
		if _, err := os.Stat(filepath.Join(dir, "pintu.db")); err == nil {
			return dir, nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		return dir, fill(dir, n)
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("pintu-scale-%d-", n))
	if err != nil {
		return "", err
	}
	return dir, fill(dir, n)
}

// fill registers n people with their cards in a new store in dir.
func fill(dir string, n int) error {
	s, err := boltstore.Open(filepath.Join(dir, "pintu.db"), &boltstore.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := controller.New(controller.DefaultConfig(), s, nil, controller.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rows := make([]controller.ImportRow, n)
	for i := range rows {
		rows[i] = controller.ImportRow{Line: i + 2, ID: fmt.Sprintf("staff%07d", i), Name: fmt.Sprintf("Pegawai Diskominfo %d", i),
			Roles: []controller.Role{controller.RoleOfficer}, Org: "Diskominfo", Card: fmt.Sprintf("%010d", i)}
	}
	_, err = c.Import(ctx, rows, controller.Actor{Root: true, Via: controller.ViaSocket}, nil)
	return err
}

func loadAvg(b *testing.B) {
	b.Helper()
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			if l, err := strconv.ParseFloat(f[0], 64); err == nil {
				b.ReportMetric(l, "load1")
			}
		}
	}
}

// percentiles reports p50, p99 and p99.9 of durs in microseconds.
func percentiles(b *testing.B, durs []time.Duration) {
	b.Helper()
	slices.Sort(durs)
	b.ReportMetric(quantile(durs, 0.50), "p50-µs")
	b.ReportMetric(quantile(durs, 0.99), "p99-µs")
	b.ReportMetric(quantile(durs, 0.999), "p99.9-µs")
	b.ReportMetric(0, "ns/op")
}

// quantile is the p-quantile of sorted durs (nearest rank), in
// microseconds.
func quantile(durs []time.Duration, p float64) float64 {
	i := int(p*float64(len(durs))+0.999999) - 1
	return float64(durs[min(max(i, 0), len(durs)-1)]) / 1e3
}

// heapInUse is the heap still reachable after two collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// gcPause reports the longest GC pause since the last call.
type gcWatch struct{ before runtime.MemStats }

func newGCWatch() *gcWatch {
	w := &gcWatch{}
	runtime.ReadMemStats(&w.before)
	return w
}

func (w *gcWatch) report(b *testing.B) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	var worst uint64
	for i := w.before.NumGC; i < after.NumGC && i < w.before.NumGC+256; i++ {
		worst = max(worst, after.PauseNs[i%256])
	}
	b.ReportMetric(float64(after.NumGC-w.before.NumGC), "gcs")
	b.ReportMetric(float64(worst)/1e3, "max-gc-pause-µs")
}

// discard is a store whose commits do not reach the disk: the decision
// alone. Until the card reads begin (drop), it keeps the few events it is
// given (the start, the first integrity pass's checkpoint) in memory, so
// that the background check reads a whole log; from then on it keeps
// nothing: a tail kept in memory would grow by every tap and be the
// benchmark's own heap, marked by the collector along with the
// controller's. Nothing in a run of card reads asks for those events back
// (the check looks for new events once a minute); if anything does, the
// read is an error, which raises the integrity alarm and fails the run
// rather than measuring something else.
type discard struct {
	*boltstore.Store
	mu       sync.Mutex
	kept     []controller.Event // before drop
	dropping bool
	dropped  int
}

func (d *discard) Commit(c controller.Change) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropping {
		d.dropped += len(c.Events)
	} else {
		d.kept = append(d.kept, c.Events...)
	}
	return nil
}

// drop begins dropping events.
func (d *discard) drop() { d.mu.Lock(); d.dropping = true; d.mu.Unlock() }

// tail is what is kept past the file, and an error when a read up to seq
// (0: the end) wants an event that was dropped.
func (d *discard) tail(seq uint64) ([]controller.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropped == 0 {
		return d.kept, nil
	}
	last := uint64(0)
	if len(d.kept) > 0 {
		last = d.kept[len(d.kept)-1].Seq
	} else if l, _, err := d.Store.Last(); err == nil {
		last = l
	}
	if seq == 0 || seq > last {
		return nil, fmt.Errorf("discard: the %d events after seq %d were not kept", d.dropped, last)
	}
	return d.kept, nil
}

func (d *discard) Events(q controller.EventQuery, fn func(controller.Event) error) error {
	tail, err := d.tail(q.ToSeq)
	if err != nil {
		return err
	}
	if err := d.Store.Events(q, fn); err != nil {
		return err
	}
	for _, e := range tail {
		if q.Match(e) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *discard) Event(seq uint64) (controller.Event, bool, error) {
	tail, err := d.tail(seq)
	if err != nil {
		return controller.Event{}, false, err
	}
	if len(tail) > 0 && seq >= tail[0].Seq && seq-tail[0].Seq < uint64(len(tail)) {
		return tail[seq-tail[0].Seq], true, nil
	}
	return d.Store.Event(seq)
}

type nopStrike struct{}

func (nopStrike) SetStrike(string, bool) error { return nil }

// running is a controller running on a store.
type running struct {
	c       *controller.Controller
	stop    func()
	started time.Time
}

// run starts a controller on store and waits for the background integrity
// check's first pass to end: the figures are of a controller in its
// steady state (the pass is measured on its own, background-pass).
func run(b *testing.B, store controller.Store, obs ...controller.Observer) running {
	b.Helper()
	start := time.Now()
	opts := controller.Options{}
	if len(obs) > 0 {
		opts.Observer = obs[0]
	}
	c, err := controller.New(controller.DefaultConfig(), store, nopStrike{}, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	r := running{c: c, stop: func() { cancel(); <-done }, started: start}
	for i := 0; ; i++ {
		st, err := c.Integrity(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !st.LastPass.IsZero() {
			break
		}
		if i == 60000 {
			b.Fatal("the background integrity check's first pass did not end within 10 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

func BenchmarkScale(b *testing.B) {
	// As pintud's main does (tuneGC), unless the environment says.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	}
	for _, n := range scales {
		b.Run(fmt.Sprintf("people=%d", n), func(b *testing.B) {
			dir := scaleStore(b, n)
			db := filepath.Join(dir, "pintu.db")
			b.Run("file", func(b *testing.B) {
				once(b)
				st, err := os.Stat(db)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
				b.ReportMetric(0, "ns/op")
			})
			b.Run("heap-after-start", func(b *testing.B) { benchHeap(b, db) })
			b.Run("background-pass", func(b *testing.B) { benchPass(b, db) })
			b.Run("decision", func(b *testing.B) { benchTaps(b, db, n, false) })
			b.Run("read-to-relay", func(b *testing.B) { benchTaps(b, db, n, true) })
			b.Run("export", func(b *testing.B) { benchExport(b, db) })
			b.Run("verify", func(b *testing.B) { benchVerify(b, db) })
			b.Run("start-warm", func(b *testing.B) { benchStart(b, dir, false) })
			b.Run("start-cold", func(b *testing.B) { benchStart(b, dir, true) })
		})
	}
}

// benchHeap reports the live heap a started controller holds on the store.
func benchHeap(b *testing.B, db string) {
	var live uint64
	{
		before := heapInUse()
		s, err := boltstore.Open(db, nil)
		if err != nil {
			b.Fatal(err)
		}
		r := run(b, s)
		if _, err := r.c.Status(context.Background()); err != nil {
			b.Fatal(err)
		}
		after := heapInUse()
		live = after - min(after, before)
		r.stop()
		s.Close()
	}
	once(b)
	b.ReportMetric(float64(live)/(1<<20), "live-heap-MiB")
	b.ReportMetric(0, "ns/op")
	loadAvg(b)
}

// benchTaps reads random cards of the n at the entry reader, the door
// opening and closing after each grant. durable: with the fsynced commit
// (read to relay); else the decision alone, commits discarded.
func benchTaps(b *testing.B, db string, n int, durable bool) {
	before := heapInUse()
	s, err := boltstore.Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var store controller.Store = s
	if !durable {
		store = &discard{Store: s}
	}
	// The controller's own timings split a read into its decision and
	// its commit (the store's, fsync included), as pintud's metrics do.
	obs := &stepTimes{}
	r := run(b, store, obs)
	defer r.stop()
	if d, ok := store.(*discard); ok {
		d.drop()
	}
	var bare *bareCommits
	if durable {
		bare = openBare(b, filepath.Dir(db))
		defer bare.close()
	}
	ctx := context.Background()
	obs.on.Store(true)
	var durs []time.Duration
	gc := newGCWatch()
	i := 0
	for b.Loop() {
		card := fmt.Sprintf("%010d", (i*7919+13)%n)
		i++
		start := time.Now()
		res, err := r.c.Tap(ctx, "server-room", "entry", card)
		durs = append(durs, time.Since(start))
		if err != nil || res.Decision != controller.Granted {
			b.Fatalf("tap %s = %+v, %v", card, res, err)
		}
		// Out again, untimed: the room does not fill with everyone.
		b.StopTimer()
		obs.on.Store(false)
		if _, err := r.c.Tap(ctx, "server-room", "exit", card); err != nil {
			b.Fatal(err)
		}
		if bare != nil {
			bare.commit(b)
		}
		obs.on.Store(true)
		b.StartTimer()
	}
	gc.report(b)
	if bare != nil {
		bare.report(b, durs)
		bare.durs = nil
	}
	percentiles(b, durs)
	if durable {
		obs.report(b)
	}
	// The heap the running controller holds once its record caches have
	// filled (at a million, every read puts a card, a person and their
	// sealing event in them), without the benchmark's own timings (durs
	// is no longer live).
	obs.mu.Lock()
	obs.decided, obs.commits = nil, nil
	obs.mu.Unlock()
	after := heapInUse()
	b.ReportMetric(float64(after-min(after, before))/(1<<20), "heap-after-MiB")
	loadAvg(b)
}

// bareCommits is bbolt's own floor, measured in the same run as the card
// reads: after each read, one key put in one fsynced transaction of a file
// of its own beside the store. Taking turns with the reads, rather than
// running after them, puts both under the same disk and the same load:
// on this shared machine a commit's p99 moves by half a millisecond from
// one minute to the next.
type bareCommits struct {
	db    *bolt.DB
	path  string
	value []byte
	seq   uint64
	durs  []time.Duration
}

func openBare(b *testing.B, dir string) *bareCommits {
	b.Helper()
	path := filepath.Join(dir, "bare.db")
	os.Remove(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	return &bareCommits{db: db, path: path, value: make([]byte, 80)} // one encoded card read
}

func (c *bareCommits) commit(b *testing.B) {
	c.seq++
	start := time.Now()
	err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("b")).Put([]byte(strconv.FormatUint(c.seq, 36)), c.value)
	})
	c.durs = append(c.durs, time.Since(start))
	if err != nil {
		b.Fatal(err)
	}
}

// report gives the bare commit's p50 and p99, and how far the reads' p99
// is above the bare commit's (the goal: at most 250 µs).
func (c *bareCommits) report(b *testing.B, reads []time.Duration) {
	reads = slices.Sorted(slices.Values(reads))
	slices.Sort(c.durs)
	b.ReportMetric(quantile(c.durs, 0.50), "bare-p50-µs")
	b.ReportMetric(quantile(c.durs, 0.99), "bare-p99-µs")
	b.ReportMetric(quantile(reads, 0.99)-quantile(c.durs, 0.99), "over-bare-p99-µs")
}

func (c *bareCommits) close() {
	c.db.Close()
	os.Remove(c.path)
}

// stepTimes collects the controller's timings of the reads measured.
type stepTimes struct {
	on               atomic.Bool
	mu               sync.Mutex
	decided, commits []time.Duration
}

func (o *stepTimes) ObserveDecision(d time.Duration) {
	if o.on.Load() {
		o.mu.Lock()
		o.decided = append(o.decided, d)
		o.mu.Unlock()
	}
}

func (o *stepTimes) ObserveCommit(d time.Duration, _ error) {
	if o.on.Load() {
		o.mu.Lock()
		o.commits = append(o.commits, d)
		o.mu.Unlock()
	}
}

// report gives the p50 and p99 of the store's commit, which the read to
// relay includes, beside the bare commit's.
func (o *stepTimes) report(b *testing.B) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"commit", o.commits}, {"decide", o.decided}} {
		if len(x.d) == 0 {
			continue
		}
		slices.Sort(x.d)
		b.ReportMetric(float64(x.d[len(x.d)/2].Nanoseconds())/1e3, x.name+"-p50-µs")
		b.ReportMetric(float64(x.d[len(x.d)*99/100].Nanoseconds())/1e3, x.name+"-p99-µs")
	}
}

// benchExport streams the whole log as JSON Lines through the API on its
// socket, and reports the rate and the heap it takes beyond the running
// controller's.
func benchExport(b *testing.B, db string) {
	s, err := boltstore.Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := run(b, s)
	defer r.stop()
	sock := filepath.Join(b.TempDir(), "api.sock")
	srv := api.New(r.c, api.Options{})
	ln, err := srv.Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	runtime.GC()
	base := heapObjects()
	peak := startPeak()
	var events int
	start := time.Now()
	{
		resp, err := hc.Get("http://pintud/v1/export?format=jsonl")
		if err != nil {
			b.Fatal(err)
		}
		events = 0
		br := bufio.NewReaderSize(resp.Body, 1<<16)
		for {
			_, err := br.ReadSlice('\n')
			if err == io.EOF {
				break
			}
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
			if err == nil {
				events++
			}
		}
		resp.Body.Close()
		if msg := resp.Trailer.Get("Pintu-Error"); msg != "" {
			b.Fatal(msg)
		}
	}
	took := time.Since(start)
	extra := peak.stop() - min(peak.max, base)
	once(b)
	b.ReportMetric(float64(events)/took.Seconds(), "events/s")
	b.ReportMetric(float64(extra)/(1<<20), "extra-heap-MiB")
	b.ReportMetric(0, "ns/op")
	loadAvg(b)
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

type peakHeap struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

func startPeak() *peakHeap {
	p := &peakHeap{done: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			p.max = max(p.max, heapObjects())
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	})
	return p
}

func (p *peakHeap) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}

// benchVerify checks the whole log and every record, as pintuctl verify
// does.
func benchVerify(b *testing.B, db string) {
	s, err := boltstore.Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := run(b, s)
	defer r.stop()
	start := time.Now()
	rep, err := r.c.Verify(context.Background(), nil)
	if err != nil || len(rep.Breaks) != 0 {
		b.Fatalf("Verify() = %+v, %v", rep.Breaks, err)
	}
	secs := time.Since(start).Seconds()
	once(b)
	b.ReportMetric(float64(rep.Events)/secs, "events/s")
	b.ReportMetric(float64(rep.Records)/secs, "records/s")
	b.ReportMetric(0, "ns/op")
	loadAvg(b)
}

var pintudBin struct {
	once sync.Once
	path string
	err  error
}

// benchStart starts pintud (built without the race detector) on a copy of
// the state directory and measures the time to its first answered status;
// cold drops the page cache first (as root), so the file is read from disk.
func benchStart(b *testing.B, dir string, cold bool) {
	pintudBin.once.Do(func() {
		d, err := os.MkdirTemp("", "pintud-bench")
		if err != nil {
			pintudBin.err = err
			return
		}
		pintudBin.path = filepath.Join(d, "pintud")
		if out, err := exec.Command("go", "build", "-o", pintudBin.path, ".").CombinedOutput(); err != nil {
			pintudBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if pintudBin.err != nil {
		b.Fatal(pintudBin.err)
	}
	if cold && os.Geteuid() != 0 {
		b.Skip("dropping the page cache needs root")
	}
	var durs []time.Duration
	runs := 3
	if cold {
		runs = 1 // the machine is shared: the page cache is dropped once
	}
	for range runs {
		if cold {
			exec.Command("sync").Run()
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
				b.Fatal(err)
			}
		}
		sock := filepath.Join(dir, "pintud.sock")
		os.Remove(sock)
		cmd := exec.Command(pintudBin.path, "-sim", "-data", dir)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		c := &apiClient{sock: sock}
		var up time.Duration
		for i := 0; ; i++ {
			if _, err := c.call("GET", "/v1/status", nil); err == nil {
				up = time.Since(start)
				break
			}
			if i == 60000 {
				cmd.Process.Kill()
				b.Fatalf("pintud did not answer within a minute\n%s", out.String())
			}
			time.Sleep(100 * time.Microsecond)
		}
		durs = append(durs, up)
		if err := stopPintud(cmd); err != nil {
			b.Fatalf("%v\n%s", err, out.String())
		}
	}
	once(b)
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1e3, "ms-to-status")
	b.ReportMetric(0, "ns/op")
	loadAvg(b)
}

// once ends a benchmark that did its fixed work outside the timed loop: a
// function using b.Loop runs once, and the empty loop takes no time.
func once(b *testing.B) {
	for b.Loop() {
	}
}

// benchPass reports how long the background integrity check's first pass
// over the whole log, every record and every page takes at its default
// share of a CPU, from the controller's start.
func benchPass(b *testing.B, db string) {
	s, err := boltstore.Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := run(b, s)
	took := time.Since(r.started)
	r.stop()
	once(b)
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(0, "ns/op")
	loadAvg(b)
}
