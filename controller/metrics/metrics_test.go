package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/metrics"
)

type fakeMQTT struct{ up atomic.Bool }

func (f *fakeMQTT) Connected() bool { return f.up.Load() }

// rig is a running controller on a memstore with a collector beside it.
type rig struct {
	ctrl   *controller.Controller
	store  *memstore.Store
	col    *metrics.Collector
	mqtt   *fakeMQTT
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startRig starts ctrl on store with a collector created before ctrl's Run.
func startRig(t *testing.T, store *memstore.Store, opts metrics.Options) *rig {
	t.Helper()
	r := &rig{store: store, mqtt: &fakeMQTT{}}
	var err error
	r.ctrl, err = controller.New(controller.DefaultConfig(), store, nil, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts.MQTT, opts.Outbox = r.mqtt, store
	r.col, err = metrics.New(r.ctrl, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Go(func() { r.ctrl.Run(ctx) })
	r.wg.Go(func() { r.col.Run(ctx) })
	return r
}

func (r *rig) stop() { r.cancel(); r.wg.Wait() }

// scrape returns /metrics as series → value.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "pintu.db")
		if err := os.WriteFile(db, make([]byte, 65536), 0o600); err != nil {
			t.Fatal(err)
		}
		readers := []metrics.ReaderCounts{
			{Door: "server-room", Reader: "entry", Reads: 12, Faults: 1, Discarded: 3},
			{Door: "server-room", Reader: "exit", Reads: 4, Down: true},
		}
		backup := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
		timings := metrics.NewTimings()
		r := startRig(t, memstore.New().EnableOutbox(), metrics.Options{
			StorePath: db, Readers: func() []metrics.ReaderCounts { return readers },
			LastBackup: func() time.Time { return backup }, Timings: timings,
		})
		defer r.stop()
		r.mqtt.up.Store(true)
		ctx := context.Background()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(r.ctrl.AddPerson(ctx, controller.Person{ID: "off", Name: "Joko", Roles: []controller.Role{controller.RoleOfficer}}, controller.Actor{Root: true, Via: controller.ViaSocket}))
		must(r.ctrl.AssignCard(ctx, "C-OFF", "off", controller.Actor{Root: true, Via: controller.ViaSocket}))
		// The door opened with no grant, and stands open: forced_open.
		must(r.ctrl.SetContact(ctx, "server-room", true))
		for _, tap := range []struct{ reader, card string }{
			{"entry", "C-OFF"}, {"entry", "C-NOBODY"}, {"entry", "C-NOBODY"}, {"exit", "C-OFF"},
		} {
			if _, err := r.ctrl.Tap(ctx, "server-room", tap.reader, tap.card); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait() // the collector has caught up
		timings.ObserveDecision(300 * time.Microsecond)
		timings.ObserveCommit(4*time.Millisecond, nil)
		timings.ObserveCommit(2*time.Second, errors.New("fsync: input/output error"))

		got := scrape(t, r.col.Handler())
		var last uint64
		must(r.store.Events(controller.EventQuery{}, func(e controller.Event) error { last = e.Seq; return nil }))
		want := map[string]float64{
			`pintu_decisions_total{event="access",door="server-room",decision="granted",reason=""}`:            1,
			`pintu_decisions_total{event="access",door="server-room",decision="denied",reason="unknown_card"}`: 2,
			`pintu_decisions_total{event="exit",door="server-room",decision="granted",reason=""}`:              1,
			`pintu_audit_events_total{type="started"}`:                                                         1,
			`pintu_audit_events_total{type="person_added"}`:                                                    1,
			`pintu_audit_last_seq`:                                                   float64(last),
			`pintu_alarms_active{kind="forced_open"}`:                                1,
			`pintu_alarms_active{kind="tamper"}`:                                     0,
			`pintu_controller_up`:                                                    1,
			`pintu_clock_trusted`:                                                    1,
			`pintu_people_inside`:                                                    0,
			`pintu_door_unlocked{door="server-room"}`:                                1, // the exit read released it
			`pintu_door_open{door="server-room"}`:                                    1,
			`pintu_door_lockdown{door="server-room"}`:                                0,
			`pintu_mqtt_connected`:                                                   1,
			`pintu_mqtt_outbox_backlog_events`:                                       float64(last), // nothing acknowledged
			`pintu_store_size_bytes`:                                                 65536,
			`pintu_reader_reads_total{door="server-room",reader="entry"}`:            12,
			`pintu_reader_faults_total{door="server-room",reader="entry"}`:           1,
			`pintu_reader_discarded_frames_total{door="server-room",reader="entry"}`: 3,
			`pintu_reader_down{door="server-room",reader="exit"}`:                    1,
			`pintu_reader_down{door="server-room",reader="entry"}`:                   0,
			`pintu_decision_duration_seconds_bucket{le="0.00025"}`:                   0,
			`pintu_decision_duration_seconds_bucket{le="0.0005"}`:                    1,
			`pintu_decision_duration_seconds_count`:                                  1,
			`pintu_commit_duration_seconds_bucket{le="0.005"}`:                       1,
			`pintu_commit_duration_seconds_bucket{le="2.5"}`:                         2,
			`pintu_commit_duration_seconds_count`:                                    2,
			`pintu_commit_failures_total`:                                            1,
			`pintu_backup_last_success_timestamp_seconds`:                            float64(backup.Unix()),
		}
		for series, w := range want {
			if g, ok := got[series]; !ok || g != w {
				t.Errorf("%s = %v (present %v), want %v", series, g, ok, w)
			}
		}
		for _, name := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes"} {
			if _, ok := got[name]; !ok {
				t.Errorf("/metrics has no %s (Go runtime and process metrics)", name)
			}
		}

		// Acknowledging the outbox empties the backlog.
		pending, err := r.store.Pending(1000)
		must(err)
		must(r.store.Ack(pending[len(pending)-1].Seq))
		r.mqtt.up.Store(false)
		got = scrape(t, r.col.Handler())
		if got["pintu_mqtt_outbox_backlog_events"] != 0 || got["pintu_mqtt_connected"] != 0 {
			t.Errorf("after acknowledging everything and losing the broker: backlog %v, connected %v; want 0, 0",
				got["pintu_mqtt_outbox_backlog_events"], got["pintu_mqtt_connected"])
		}
	})
}

// TestCountsFromStart checks a collector on a log that already holds
// events counts only those committed after it started, and finds the newest
// seq without reading the whole log.
func TestCountsFromStart(t *testing.T) {
	for _, old := range []int{0, 1, 2, 7, 64, 1000} {
		synctest.Test(t, func(t *testing.T) {
			store := memstore.New()
			r := startRig(t, store, metrics.Options{})
			for i := range old {
				if _, err := r.ctrl.Tap(context.Background(), "server-room", "entry", "C-"+strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			r.stop()
			var before uint64
			store.Events(controller.EventQuery{}, func(e controller.Event) error { before = e.Seq; return nil })

			r = startRig(t, store, metrics.Options{})
			defer r.stop()
			if _, err := r.ctrl.Tap(context.Background(), "server-room", "entry", "C-NEW"); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			got := scrape(t, r.col.Handler())
			denied := `pintu_decisions_total{event="access",door="server-room",decision="denied",reason="unknown_card"}`
			// The second run logged started and one tap.
			if got[denied] != 1 || got[`pintu_audit_events_total{type="started"}`] != 1 || got["pintu_audit_last_seq"] != float64(before+2) {
				t.Errorf("after %d old taps: denied = %v, started = %v, want 1, 1; last seq %v, want %v", old, got[denied],
					got[`pintu_audit_events_total{type="started"}`], got["pintu_audit_last_seq"], before+2)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	get := func(t *testing.T, h http.Handler, path string) (int, metrics.Readiness) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var r metrics.Readiness
		if path == "/readyz" {
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("GET %s body %q: %v", path, rec.Body, err)
			}
		}
		return rec.Code, r
	}
	synctest.Test(t, func(t *testing.T) {
		var storeErr atomic.Pointer[error]
		r := startRig(t, memstore.New(), metrics.Options{StoreCheck: func() error {
			if p := storeErr.Load(); p != nil {
				return *p
			}
			return nil
		}})
		h := r.col.Handler()
		if code, rd := get(t, h, "/readyz"); code != 200 || rd != (metrics.Readiness{Ready: true, Store: "ok", Controller: "ok", MQTT: "disconnected"}) {
			t.Errorf("GET /readyz = %d %+v, want 200, ready, MQTT reported but not required", code, rd)
		}
		e := errors.New("integrity: hash chain broken at seq 12")
		storeErr.Store(&e)
		if code, rd := get(t, h, "/readyz"); code != 503 || rd.Ready || rd.Store != e.Error() {
			t.Errorf("GET /readyz with a broken store = %d %+v, want 503 naming the store's problem", code, rd)
		}
		storeErr.Store(nil)

		// A controller that does not answer: stopped here, wedged in life.
		r.stop()
		if code, rd := get(t, h, "/readyz"); code != 503 || rd.Ready || !strings.Contains(rd.Controller, "no answer within 1s") {
			t.Errorf("GET /readyz with the controller stopped = %d %+v, want 503 saying it did not answer", code, rd)
		}
		if got := scrape(t, h); got["pintu_controller_up"] != 0 {
			t.Errorf("pintu_controller_up = %v with the controller stopped, want 0", got["pintu_controller_up"])
		}
		if code, _ := get(t, h, "/livez"); code != 200 {
			t.Errorf("GET /livez = %d, want 200 while the process runs", code)
		}
	})
}

func TestServe(t *testing.T) {
	r := startRig(t, memstore.New(), metrics.Options{})
	defer r.stop()
	ln, err := metrics.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.col.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/livez")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /livez over TCP = %v, %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve() = %v after cancel, want nil", err)
	}
	if _, err := metrics.Listen(ln.Addr().String() + "0"); err == nil {
		t.Error("Listen(bad port) = nil error")
	}
}

// TestREADMEListsMetrics checks the README's "Metrics and health" names
// every metric family /metrics serves.
func TestREADMEListsMetrics(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Metrics and health\n")
	if !ok {
		t.Fatal("README has no section \"Metrics and health\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var families []string
	synctest.Test(t, func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "pintu.db")
		os.WriteFile(db, nil, 0o600)
		r := startRig(t, memstore.New().EnableOutbox(), metrics.Options{StorePath: db,
			Readers:    func() []metrics.ReaderCounts { return []metrics.ReaderCounts{{Door: "d", Reader: "r"}} },
			LastBackup: func() time.Time { return time.Time{} }})
		defer r.stop()
		if _, err := r.ctrl.Tap(context.Background(), "server-room", "entry", "C-X"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		rec := httptest.NewRecorder()
		r.col.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if f := strings.Fields(line); len(f) == 4 && f[1] == "TYPE" {
				families = append(families, f[2])
			}
		}
	})
	if len(families) < 40 {
		t.Fatalf("/metrics has %d families with a TYPE line, want the pintu_, go_ and process_ ones", len(families))
	}
	for _, name := range families {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(section) {
			t.Errorf("README \"Metrics and health\" does not list %s", name)
		}
	}
}
