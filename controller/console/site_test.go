package console_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/console"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/controller/password"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is Monday 2 November 2026, 09:00 in Jakarta.
var t0 = time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)

var jakarta = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		panic(err)
	}
	return loc
}()

// clock is the site's wall clock; tests move it by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fast hashing keeps the tests quick; the cost is measured in controller/password.
var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// site is a controller on a memstore with its console served over TLS by
// an httptest server, and the office's staff registered with passwords.
type site struct {
	t     testing.TB
	ctrl  *controller.Controller
	store *memstore.Store
	clock *clock
	con   *console.Server
	srv   *httptest.Server
}

// The office. dewi is both admin staff and head of division: she may
// submit and approve, but never the same visit.
var staff = []struct {
	id, name string
	roles    []controller.Role
}{
	{"adi", "Adi Saputra", []controller.Role{controller.RoleAdmin}},
	{"dewi", "Dewi Anggraini", []controller.Role{controller.RoleAdmin, controller.RoleHead}},
	{"citra", "Citra Lestari", []controller.Role{controller.RoleCoordinator}},
	{"hasan", "Hasan Basri", []controller.Role{controller.RoleHead}},
	{"oki", "Oki Pratama", []controller.Role{controller.RoleOfficer}},
}

const pw = "kopi tubruk 2026"

var root = controller.Actor{Root: true, Via: controller.ViaSocket}

func newSite(t testing.TB, mods ...func(*console.Options)) *site {
	t.Helper()
	s := &site{t: t, store: memstore.New(), clock: &clock{now: t0}}
	cfg := controller.DefaultConfig()
	cfg.Site = "Diskominfo Rejang Lebong"
	ctrl, err := controller.New(cfg, s.store, nil, controller.Options{Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { ctrl.Run(ctx) })
	hasher := password.New(fast, 2)
	papers := api.New(ctrl, api.Options{Location: jakarta})
	opts := console.Options{Store: s.store, Hasher: hasher, Papers: papers.Handler(), Location: jakarta, Now: s.clock.Now}
	for _, m := range mods {
		m(&opts)
	}
	s.con, err = console.New(ctrl, opts)
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { s.con.Run(ctx) })
	s.srv = httptest.NewTLSServer(s.con.Handler())
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		cancel()
		s.srv.Close()
		wg.Wait()
	})
	for _, p := range staff {
		s.must(ctrl.AddPerson(ctx, controller.Person{ID: p.id, Name: p.name, Roles: p.roles}, root))
		s.must(ctrl.AssignCard(ctx, "C-"+p.id, p.id, root))
		hash, err := hasher.Hash(ctx, pw)
		s.must(err)
		s.must(ctrl.SetPassword(ctx, p.id, controller.Credential{Hash: hash}, root))
	}
	s.must(ctrl.AddPerson(ctx, controller.Person{ID: "vina", Name: "Vina Maharani", Roles: []controller.Role{controller.RoleVisitor},
		Org: "PT Jaringan Nusantara", IDDoc: "KTP 1702010101010001"}, root))
	s.must(ctrl.AssignCard(ctx, "C-vina", "vina", root))
	return s
}

func (s *site) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) events() []controller.Event {
	s.t.Helper()
	var evs []controller.Event
	s.must(s.ctrl.Log().Events(controller.EventQuery{}, func(e controller.Event) error { evs = append(evs, e); return nil }))
	return evs
}

func (s *site) tap(reader, person string) controller.Result {
	s.t.Helper()
	res, err := s.ctrl.Tap(context.Background(), "server-room", reader, "C-"+person)
	s.must(err)
	return res
}

// browser is an HTTP client with its own cookies, as one person's browser.
type browser struct {
	s  *site
	hc *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	hc := s.srv.Client()
	c := *hc
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{s: s, hc: &c}
}

// page is what a request got back.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, hdr ...string) page {
	b.s.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, b.s.srv.URL+path, body)
	b.s.must(err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// What a browser sends with a form of the page's own origin.
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", b.s.srv.URL)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := b.hc.Do(req)
	b.s.must(err)
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{status: resp.StatusCode, header: resp.Header, body: sb.String()}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }
func (b *browser) post(path string, form url.Values, hdr ...string) page {
	return b.do(http.MethodPost, path, form, hdr...)
}

// login signs in and fails the test if it does not.
func (b *browser) login(id string) *browser {
	b.s.t.Helper()
	p := b.post("/login", url.Values{"id": {id}, "password": {pw}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/today" {
		b.s.t.Fatalf("login %s = %d %s", id, p.status, p.body)
	}
	return b
}
