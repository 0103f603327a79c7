package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests show times in Asia/Jakarta wherever they run

	"github.com/google/go-cmp/cmp"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is 09:00 in Jakarta.
var t0 = time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)

var jakarta = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		panic(err)
	}
	return loc
}()

// clock is the controller's wall clock; tests move it by hand.
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

// env is a controller on a memstore, served by an api.Server on a unix
// socket in a temporary directory.
type env struct {
	t        *testing.T
	ctrl     *controller.Controller
	store    *memstore.Store
	clock    *clock
	sock     string
	hc       *http.Client
	stopCtrl func()
}

// newEnv starts an env. Each mod may change the server's options; it sees
// the env with its controller already built.
func newEnv(t *testing.T, mods ...func(*env, *api.Options)) *env {
	t.Helper()
	e := &env{t: t, store: memstore.New(), clock: &clock{now: t0}}
	ctrl, err := controller.New(controller.DefaultConfig(), e.store, nil, controller.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.ctrl = ctrl
	opts := api.Options{Sim: doorio.NewSim(ctrl), SimIdentity: true, Location: jakarta}
	for _, m := range mods {
		m(e, &opts)
	}
	srv := api.New(ctrl, opts)
	e.sock = filepath.Join(t.TempDir(), "api.sock")
	ln, err := srv.Listen(e.sock)
	if err != nil {
		t.Fatal(err)
	}

	ctrlCtx, cancelCtrl := context.WithCancel(context.Background())
	ctrlDone := make(chan struct{})
	go func() {
		defer close(ctrlDone)
		ctrl.Run(ctrlCtx)
	}()
	var once sync.Once
	e.stopCtrl = func() { once.Do(func() { cancelCtrl(); <-ctrlDone }) }

	srvCtx, cancelSrv := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx, ln) }()
	t.Cleanup(func() {
		cancelSrv()
		if err := <-srvDone; err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
		e.stopCtrl()
	})

	e.hc = newEnvClient(e.sock)
	t.Cleanup(e.hc.CloseIdleConnections)
	return e
}

// newEnvClient returns an HTTP client that reaches the socket at path.
func newEnvClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// response is what a request got back.
type response struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
}

// do sends a request with body (none if empty) and reads the whole answer.
func (e *env) do(method, path, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://pintud"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, trailer: resp.Trailer, body: b}
}

// must fails the test if err is not nil.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// seed registers the staff of the SOP, a visitor and their cards.
func (e *env) seed() *env {
	e.t.Helper()
	ctx := context.Background()
	for _, p := range []controller.Person{
		{ID: "adm", Name: "Sari Admin", Roles: []controller.Role{controller.RoleAdmin}},
		{ID: "koor", Name: "Bayu Koordinator", Roles: []controller.Role{controller.RoleCoordinator}},
		{ID: "kabid", Name: "Rina Kepala Bidang", Roles: []controller.Role{controller.RoleHead}},
		{ID: "kabid2", Name: "Dedi Admin Kabid", Roles: []controller.Role{controller.RoleAdmin, controller.RoleHead}},
		{ID: "off", Name: "Joko Petugas", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "budi", Name: "Budi Santoso", Roles: []controller.Role{controller.RoleVisitor}, Org: "PT Data Nusantara", IDDoc: "KTP 1702"},
	} {
		e.must(e.ctrl.AddPerson(ctx, p, local))
	}
	for _, c := range [][2]string{{"C-OFF", "off"}, {"C-KOOR", "koor"}, {"C-BUDI", "budi"}} {
		e.must(e.ctrl.AssignCard(ctx, c[0], c[1], local))
	}
	return e
}

// visit takes visit V0001 to state, one SOP step a minute.
func (e *env) visit(state controller.VisitState) *env {
	e.t.Helper()
	ctx := context.Background()
	f := controller.VisitForm{VisitorID: "budi", Purpose: "replace a disk", Devices: "laptop",
		From: t0, Until: t0.Add(4 * time.Hour)}
	_, err := e.ctrl.SubmitVisit(ctx, f, sim("adm"))
	e.must(err)
	step := func(a controller.Action, by, note string) {
		e.t.Helper()
		e.clock.Add(time.Minute)
		_, err := e.ctrl.Step(ctx, "V0001", a, sim(by), note)
		e.must(err)
	}
	tap := func(reader, card string, after time.Duration) {
		e.t.Helper()
		e.clock.Add(after)
		res, err := e.ctrl.Tap(ctx, "server-room", reader, card)
		e.must(err)
		if res.Decision == controller.Denied {
			e.t.Fatalf("tap %s %s: %+v", reader, card, res)
		}
	}
	// Walk through the door so that it relocks on closing: nothing is left
	// for the controller's timer, whose firing would race with the test.
	walk := func() {
		e.t.Helper()
		e.clock.Add(time.Second)
		e.must(e.ctrl.SetContact(ctx, "server-room", true))
		e.clock.Add(2 * time.Second)
		e.must(e.ctrl.SetContact(ctx, "server-room", false))
	}
	for _, s := range []struct {
		to controller.VisitState
		do func()
	}{
		{controller.StateChecked, func() { step(controller.ActionCheck, "koor", "") }},
		{controller.StateApproved, func() { step(controller.ActionApprove, "kabid", "") }},
		{controller.StateInside, func() { tap("entry", "C-BUDI", time.Minute); tap("entry", "C-OFF", 10*time.Second); walk() }},
		{controller.StateExited, func() { tap("exit", "C-BUDI", 20*time.Minute); walk(); step(controller.ActionReturnID, "adm", "") }},
		{controller.StateReported, func() { step(controller.ActionReport, "koor", "disk replaced") }},
		{controller.StateArchiveOrdered, func() { step(controller.ActionOrderArchive, "kabid", "") }},
	} {
		if state == controller.StateSubmitted {
			break
		}
		s.do()
		if s.to == state {
			break
		}
	}
	return e
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// errorOf returns the message of an error response.
func errorOf(t *testing.T, r response) string {
	t.Helper()
	var eb struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return eb.Error
}

// indent pretty-prints JSON for golden files.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return out.Bytes()
}

// sim is a person named by pintud -sim's --by; local is its operator.
func sim(id string) controller.Actor {
	return controller.Actor{Person: id, Via: controller.ViaSocket, Unauthenticated: true}
}

var local = controller.Actor{Via: controller.ViaSocket, Unauthenticated: true}

// log is every stored event.
func (e *env) log() []controller.Event {
	e.t.Helper()
	var evs []controller.Event
	if err := e.store.Events(controller.EventQuery{}, func(ev controller.Event) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// hasAlarm reports whether an alarm of kind k is listed.
func (e *env) hasAlarm(k controller.AlarmKind) bool {
	e.t.Helper()
	as, err := e.ctrl.Alarms(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		if a.Kind == k {
			return true
		}
	}
	return false
}

// waitPass waits, bounded, for the controller's first background integrity
// pass to end, so that it does not race a test that tampers with the store.
func (e *env) waitPass() {
	e.t.Helper()
	for range 5000 {
		st, err := e.ctrl.Integrity(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if !st.LastPass.IsZero() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	e.t.Fatal("no background integrity pass within 5s")
}
