package report_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the papers show times in Asia/Jakarta wherever the tests run

	"github.com/google/go-cmp/cmp"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is 09:00 in Jakarta.
var t0 = time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// site is a running controller on an in-memory store with a hand-moved
// clock: the office of the README's walkthrough.
type site struct {
	t     testing.TB
	ctrl  *controller.Controller
	store *memstore.Store
	clock *clock
}

func newSite(t testing.TB) *site {
	t.Helper()
	s := &site{t: t, store: memstore.New(), clock: &clock{now: t0}}
	// Rudi's name carries a right-to-left override and his organisation a
	// formula: a release before the controller refused such text stored
	// them, and the papers must still print them harmlessly.
	rudi := controller.Person{ID: "rudi", Name: "Rudi \u202eHacker", Roles: []controller.Role{controller.RoleVisitor}, Org: "=HYPERLINK(\"http://x\")", IDDoc: "SIM 99"}
	rudi.Seq = 1 // sealed into the chain by the event that stored him
	old := controller.Event{Seq: 1, Time: t0, Type: controller.EventPersonAdded, Person: rudi.ID, Actor: "local", Detail: "visitor", ClockTrusted: true,
		Records: []controller.RecordRef{rudi.Sealed().Ref()}}
	old.Hash = old.ComputeHash()
	s.must(s.store.Commit(controller.Change{Events: []controller.Event{old}, People: []controller.Person{rudi}}))
	ctrl, err := controller.New(controller.DefaultConfig(), s.store, nil, controller.Options{Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ctrl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for _, p := range []controller.Person{
		{ID: "adi", Name: "Adi Saputra", Roles: []controller.Role{controller.RoleAdmin}},
		{ID: "ayu", Name: "Ayu Wulandari", Roles: []controller.Role{controller.RoleAdmin}},
		{ID: "citra", Name: "Citra Lestari", Roles: []controller.Role{controller.RoleCoordinator}},
		{ID: "hasan", Name: "Hasan Basri", Roles: []controller.Role{controller.RoleHead}},
		{ID: "oki", Name: "Oki Pratama", Roles: []controller.Role{controller.RoleOfficer}},
		{ID: "vina", Name: "Vina Maharani", Roles: []controller.Role{controller.RoleVisitor}, Org: "PT Jaringan Nusantara", IDDoc: "KTP 1702010101010001"},
	} {
		s.must(ctrl.AddPerson(context.Background(), p, root))
	}
	for _, p := range []string{"oki", "vina", "rudi", "citra"} {
		s.must(ctrl.AssignCard(context.Background(), "C-"+p, p, root))
	}
	return s
}

func (s *site) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) submit(visitor, purpose string) string {
	s.t.Helper()
	now := s.clock.Now()
	v, err := s.ctrl.SubmitVisit(context.Background(), controller.VisitForm{VisitorID: visitor, Purpose: purpose,
		Devices: "laptop, 1 SSD", From: now, Until: now.Add(4 * time.Hour)}, as("adi"))
	s.must(err)
	return v.ID
}

func (s *site) step(id string, after time.Duration, a controller.Action, by, note string) {
	s.t.Helper()
	s.clock.add(after)
	_, err := s.ctrl.Step(context.Background(), id, a, as(by), note)
	s.must(err)
}

func (s *site) tap(after time.Duration, reader, card string) {
	s.t.Helper()
	s.clock.add(after)
	_, err := s.ctrl.Tap(context.Background(), "server-room", reader, card)
	s.must(err)
}

// walk opens and closes the door so it relocks, leaving no timer running.
func (s *site) walk() {
	s.t.Helper()
	s.clock.add(time.Second)
	s.must(s.ctrl.SetContact(context.Background(), "server-room", true))
	s.clock.add(2 * time.Second)
	s.must(s.ctrl.SetContact(context.Background(), "server-room", false))
}

// day runs the office's day: V0001 archived (the escort leaves first, an
// alarm; two steps over their standard), V0002 rejected, V0003 approved
// and waiting at the door (a draft).
func (s *site) day() {
	s.t.Helper()
	v1 := s.submit("vina", "ganti disk di rak 3 (replace a disk in rack 3)")
	s.step(v1, 3*time.Minute, controller.ActionCheck, "citra", "")
	s.step(v1, 7*time.Minute, controller.ActionApprove, "hasan", "")
	s.tap(2*time.Minute, "entry", "C-vina")
	s.tap(10*time.Second, "entry", "C-oki")
	s.walk()
	s.tap(10*time.Minute, "exit", "C-oki") // the escort leaves first: visitor_unescorted
	s.walk()
	s.tap(2*time.Minute, "exit", "C-vina")
	s.walk()
	s.clock.add(30 * time.Second)
	s.ackAll("citra", "pendamping dipanggil kembali")
	s.step(v1, 4*time.Minute, controller.ActionReturnID, "adi", "")
	s.step(v1, 12*time.Minute, controller.ActionReport, "citra", "Disk di rak 3 diganti, RAID dibangun ulang. Pendamping keluar lebih dulu 2 menit.")
	s.step(v1, 6*time.Minute, controller.ActionOrderArchive, "hasan", "")
	s.step(v1, 3*time.Minute, controller.ActionArchive, "ayu", "")

	s.clock.add(time.Minute)
	v2 := s.submit("rudi", "=cmd|' /C calc'!A0")
	s.step(v2, 2*time.Minute, controller.ActionCheck, "citra", "")
	s.step(v2, 2*time.Minute, controller.ActionReject, "hasan", "tanda pengenal tidak sah")

	s.clock.add(time.Minute)
	v3 := s.submit("vina", "periksa UPS")
	s.step(v3, time.Minute, controller.ActionCheck, "citra", "")
	s.step(v3, 9*time.Minute, controller.ActionApprove, "hasan", "")
	s.clock.add(20 * time.Minute)
}

// ackAll acknowledges every alarm that waits for it, as by.
func (s *site) ackAll(by, note string) {
	s.t.Helper()
	st, err := s.ctrl.Status(context.Background())
	s.must(err)
	if len(st.AwaitingAck) == 0 {
		s.t.Fatal("no alarm awaits an acknowledgement")
	}
	for _, a := range st.AwaitingAck {
		_, err := s.ctrl.AckAlarm(context.Background(), a.ID, as(by), note)
		s.must(err)
	}
}

func (s *site) visit(id string) controller.Visit {
	s.t.Helper()
	v, err := s.ctrl.Visit(context.Background(), id)
	s.must(err)
	return v
}

func (s *site) people() []controller.Person {
	s.t.Helper()
	ps, err := s.ctrl.AllPeople(context.Background())
	s.must(err)
	return ps
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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

// pdfText is the text of pdf as pdftotext lays it out; the test skips
// where poppler-utils is not installed (CI installs it).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool(t, "pdftotext")
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Trailing spaces depend on poppler's version, not on the paper.
	var b strings.Builder
	for line := range strings.SplitSeq(string(out), "\n") {
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// render writes page of pdf as testdata/out/name.png, the artefact a person
// looks at (testdata/out is git-ignored).
func render(t *testing.T, pdf []byte, name string, page int) string {
	t.Helper()
	tool(t, "pdftoppm")
	dir := filepath.Join("testdata", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa(page)
	out := filepath.Join(dir, name)
	if b, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", p, "-l", p, "-singlefile", path, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, b)
	}
	return out + ".png"
}

func tool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed; .ci/run installs poppler-utils", name)
		}
		t.Skipf("%s not installed: apt-get install -y poppler-utils", name)
	}
}

// as is a person acting through the local socket; root is root there.
func as(id string) controller.Actor { return controller.Actor{Person: id, Via: controller.ViaSocket} }

var root = controller.Actor{Root: true, Via: controller.ViaSocket}
