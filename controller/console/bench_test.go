package console_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/console"
	"github.com/pintu/pintu/controller/password"
)

// reportLatency reports the median and 99th percentile of durs (nearest
// rank) as p50-ns and p99-ns.
func reportLatency(b *testing.B, durs []time.Duration) {
	b.Helper()
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(durs))+0.999999) - 1
		return durs[min(max(i, 0), len(durs)-1)]
	}
	b.ReportMetric(float64(rank(0.50)), "p50-ns")
	b.ReportMetric(float64(rank(0.99)), "p99-ns")
}

// bigSite is a console over a bbolt file holding n events: a day's card
// reads, door and SOP events by 200 staff and visitors, filled with NoSync.
type bigSite struct {
	ctrl   *controller.Controller
	store  *boltstore.Store
	con    *console.Server
	cookie *http.Cookie
}

func newBigSite(b *testing.B, n int) *bigSite {
	b.Helper()
	store, err := boltstore.Open(filepath.Join(b.TempDir(), "pintu.db"), &boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	var last controller.Event
	start := t0.Add(-time.Duration(n) * time.Second)
	const batch = 20_000
	for seq := 1; seq <= n; {
		evs := make([]controller.Event, 0, batch)
		for ; seq <= n && len(evs) < batch; seq++ {
			e := controller.Event{Seq: uint64(seq), Time: start.Add(time.Duration(seq) * time.Second), ClockTrusted: true,
				Door: "server-room", Person: fmt.Sprintf("p%03d", seq%200), Prev: last.Hash}
			switch seq % 5 {
			case 0, 1:
				e.Type, e.Reader, e.Card, e.Decision = controller.EventAccess, "entry", "C-"+e.Person, controller.Granted
			case 2:
				e.Type, e.Reader, e.Card, e.Decision, e.Reason = controller.EventAccess, "entry", "C-"+e.Person, controller.Denied, controller.ReasonNoRoomAccess
			case 3:
				e.Type = controller.EventDoorOpen
			default:
				e.Type = controller.EventDoorClose
			}
			e.Hash = e.ComputeHash()
			evs = append(evs, e)
			last = e
		}
		if err := store.Commit(controller.Change{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	clk := &clock{now: t0}
	ctrl, err := controller.New(controller.DefaultConfig(), store, nil, controller.Options{Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { ctrl.Run(ctx) })
	con, err := console.New(ctrl, console.Options{Store: store, Hasher: password.New(fast, 1), Location: jakarta, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	wg.Go(func() { con.Run(ctx) })
	b.Cleanup(func() { cancel(); wg.Wait() })
	for _, p := range staff {
		if err := ctrl.AddPerson(ctx, controller.Person{ID: p.id, Name: p.name, Roles: p.roles}, root); err != nil {
			b.Fatal(err)
		}
	}
	// A signed-in coordinator: a session put straight into the store.
	if err := store.PutSession(controller.Session{Key: sessionKeyOf("bench-session"), Person: "citra", Created: t0, Seen: t0}); err != nil {
		b.Fatal(err)
	}
	return &bigSite{ctrl: ctrl, store: store, con: con, cookie: &http.Cookie{Name: "__Host-pintu_session", Value: "bench-session"}}
}

// page measures the server time of GET path.
func (s *bigSite) page(b *testing.B, path, want string) {
	b.Helper()
	h := s.con.Handler()
	var durs []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(s.cookie)
		w := httptest.NewRecorder()
		t := time.Now()
		h.ServeHTTP(w, req)
		durs = append(durs, time.Since(t))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			b.Fatalf("GET %s = %d, want %q in:\n%.2000s", path, w.Code, want, w.Body.String())
		}
	}
	reportLatency(b, durs)
}

// BenchmarkTodayPage is the today screen with a million events in the log.
func BenchmarkTodayPage(b *testing.B) {
	s := newBigSite(b, 1_000_000)
	s.page(b, "/today", "server-room")
}

// BenchmarkEventsPage is the audit log's pages with a million events: the
// newest page, a page filtered by one person (a fiftieth of the events), a
// day's range found by binary search, and a rare type that reads the
// page's whole budget.
func BenchmarkEventsPage(b *testing.B) {
	s := newBigSite(b, 1_000_000)
	for _, c := range []struct{ name, path, want string }{
		{"newest", "/events", "Kartu di pintu masuk"},
		{"person", "/events?person=p042", "p042"},
		{"range", "/events?from=2026-10-25T09:00&until=2026-10-25T10:00", "Pintu tertutup"},
		{"rare", "/events?type=lockdown", "Tidak ada peristiwa yang cocok"},
	} {
		b.Run(c.name, func(b *testing.B) { s.page(b, c.path, c.want) })
	}
}

// BenchmarkLiveFanout is one change reaching 20 open live screens: from the
// commit of a card read to the last screen's receipt of the re-rendered
// fragment, over real connections.
func BenchmarkLiveFanout(b *testing.B) {
	const clients = 20
	s := newBigSite(b, 1000)
	srv := httptest.NewServer(s.con.Handler())
	b.Cleanup(srv.Close)
	type got struct{ at time.Time }
	arrivals := make(chan got, clients*4)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ready := make(chan struct{}, clients)
	for range clients {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/today/live", nil)
		req.AddCookie(s.cookie)
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("live = %d", resp.StatusCode)
		}
		wg.Go(func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			first := true
			for sc.Scan() {
				if sc.Text() == "" { // the end of an event
					if first {
						first = false
						ready <- struct{}{}
						continue
					}
					arrivals <- got{time.Now()}
				}
			}
		})
	}
	for range clients {
		<-ready
	}
	var durs []time.Duration
	open := true
	for b.Loop() {
		t := time.Now()
		if err := s.ctrl.SetContact(ctx, "server-room", open); err != nil {
			b.Fatal(err)
		}
		open = !open
		var last time.Time
		for range clients {
			last = (<-arrivals).at
		}
		durs = append(durs, last.Sub(t))
	}
	reportLatency(b, durs)
	b.ReportMetric(clients, "clients")
	cancel()
	wg.Wait()
}

// sessionKeyOf is the store's key of a session id, as the console makes it.
func sessionKeyOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
