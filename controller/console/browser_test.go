package console_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// chrome is one headless Chromium on the site, with the screens it saves.
type chrome struct {
	t   *testing.T
	s   *site
	ctx context.Context
	dir string // screenshots
}

func newChrome(t *testing.T, s *site) *chrome {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no %s (apt-get install chromium): the console's browser test needs it", chromiumPath)
	}
	dir := os.Getenv("PINTU_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // as root; chromedp adds it by itself too
		chromedp.IgnoreCertErrors,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "id-ID"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	c := &chrome{t: t, s: s, ctx: ctx, dir: dir}
	// The first action starts the browser, which lives as long as that
	// action's context: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return c
}

func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v\npage:\n%s", err, c.text())
	}
}

func (c *chrome) open(path string) { c.t.Helper(); c.do(chromedp.Navigate(c.s.srv.URL + path)) }

// text is what a person sees on the page.
func (c *chrome) text() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// until waits for a JavaScript condition on the page.
// A page being replaced answers no question: until asks again.
func (c *chrome) until(cond string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if ok && err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("browser: waited 15s for %s (last error %v); page:\n%s", cond, err, c.text())
}

// click clicks and waits for the next page, whose path starts with next.
// The page before the click is marked, so that a next page at the same
// path is told from it.
func (c *chrome) click(sel, next string) {
	c.t.Helper()
	c.mark()
	c.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	c.until(`!window.pintuOld && location.pathname.startsWith(` + quoteJS(next) + `) && document.readyState === "complete"`)
}

func (c *chrome) mark() {
	c.t.Helper()
	c.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.pintuOld = true`)(ctx, t)
		return err
	}))
}

func (c *chrome) fill(fields map[string]string) {
	c.t.Helper()
	for name, v := range fields {
		c.do(chromedp.SendKeys(chromedp.CSS(`[name="`+name+`"]`), v, chromedp.NodeVisible))
	}
}

func (c *chrome) login(id string) {
	c.t.Helper()
	c.open("/login")
	c.fill(map[string]string{"id": id, "password": pw})
	c.click("form[action='/login'] button", "/today")
}

func (c *chrome) logout() {
	c.t.Helper()
	c.click("form[action='/logout'] button", "/login")
}

// screen saves a screenshot of the page and checks its visible text
// against testdata/screens/NAME.txt.
func (c *chrome) screen(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	// The first screenful too: what a person sees before scrolling.
	if top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(c.dir, name+"-top.png"), top, 0o644)
	}
	golden(c.t, filepath.Join("screens", name+".txt"), normalize(c.text()))
}

// normalize drops what changes from run to run: the test server's port,
// and the digests of password credentials (their salts are random).
func normalize(s string) string {
	s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "127.0.0.1:PORT")
	return regexp.MustCompile(`sha256:[0-9a-f]{64}`).ReplaceAllString(s, "sha256:DIGEST")
}

func quoteJS(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestBrowser is the SOP through the console in a real browser, as the
// issue tells it: the admin submits; the coordinator checks; the same
// admin cannot approve (no button, and a forged post is refused); the head
// approves; the visitor and escort tap and the today screen shows them
// inside without a reload; the escort leaves, visitor_unescorted appears
// and is acknowledged; the coordinator locks the door down; Indonesian and
// English. Each screen is saved and its text checked.
func TestBrowser(t *testing.T) {
	s := newSite(t)
	c := newChrome(t, s)
	ctx := context.Background()

	// dewi (Staf Administrasi and Kepala Bidang) records the visitor's form.
	c.open("/login")
	c.screen("01-login")
	c.login("dewi")
	c.open("/visits/new")
	c.fill(map[string]string{"visitor": "vina", "purpose": "Ganti disk di rak 3", "devices": "laptop, 1 SSD"})
	c.screen("02-visit-form")
	c.click("form[action='/visits'] button.primary", "/visits/V0001")
	c.screen("03-visit-submitted")
	c.logout()

	// citra (the coordinator) checks it, three minutes later.
	s.clock.Add(3 * time.Minute)
	c.login("citra")
	c.open("/visits/V0001")
	c.click("form[action='/visits/V0001/check'] button", "/visits/V0001")
	c.screen("04-visit-checked")
	c.logout()

	// dewi may not approve her own visit: no button, and the page says why.
	s.clock.Add(time.Minute)
	c.login("dewi")
	c.open("/visits/V0001")
	if strings.Contains(c.text(), "Setujui") {
		t.Error("dewi is offered the approval of the visit she submitted")
	}
	c.screen("05-visit-separation")
	// A forged post of the approval from her own browser is refused.
	n := len(s.events())
	c.mark()
	c.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { const f = document.createElement("form"); f.method = "post";
			f.action = "/visits/V0001/approve"; document.body.appendChild(f); f.submit(); return true })()`)(ctx, t)
		return err
	}))
	c.until(`!window.pintuOld && location.pathname.endsWith("/approve") && document.readyState === "complete"`)
	c.screen("06-forged-approval-refused")
	if evs := s.events()[n:]; len(evs) != 1 || evs[0].Type != controller.EventRefused || evs[0].Actor != "dewi" {
		t.Errorf("the forged approval recorded %+v, want one refusal", evs)
	}
	if v, _ := s.ctrl.Visit(ctx, "V0001"); v.State != controller.StateChecked {
		t.Fatalf("visit after the forged approval is %s", v.State)
	}
	c.logout()

	// hasan (the head) approves.
	s.clock.Add(2 * time.Minute)
	c.login("hasan")
	c.open("/visits/V0001")
	c.click("form[action='/visits/V0001/approve'] button", "/visits/V0001")
	c.screen("07-visit-approved")
	c.logout()

	// citra watches today; the visitor and oki tap at the door.
	s.clock.Add(5 * time.Minute)
	c.login("citra")
	c.until(`document.body.innerText.includes("Tidak ada orang di dalam")`)
	c.screen("08-today-empty")
	s.tap("entry", "vina")
	s.tap("entry", "oki")
	s.must(s.ctrl.SetContact(ctx, "server-room", true))
	s.must(s.ctrl.SetContact(ctx, "server-room", false))
	c.until(`document.body.innerText.includes("didampingi oleh Oki Pratama") && document.body.innerText.includes("Terkunci")`)
	if !strings.HasSuffix(c.text(), "") || c.text() == "" {
		t.Fatal("empty page")
	}
	c.screen("09-today-inside")

	// oki leaves without the visitor: the alarm appears, live.
	s.clock.Add(10 * time.Minute)
	s.tap("exit", "oki")
	s.must(s.ctrl.SetContact(ctx, "server-room", true))
	s.must(s.ctrl.SetContact(ctx, "server-room", false))
	c.until(`document.body.innerText.includes("Pengunjung tanpa pendamping")`)
	c.screen("10-today-unescorted")
	c.click("ul.alarms a.button", "/alarms/")
	c.fill(map[string]string{"note": "Oki dipanggil ke ruang rapat; Citra mendampingi."})
	c.screen("11-alarm-acknowledge")
	c.click("main form button.primary", "/today")
	c.until(`document.body.innerText.includes("Dikonfirmasi oleh")`)
	c.screen("12-today-acknowledged")

	// citra locks the door down.
	c.click("form[action='/doors/lockdown'] button", "/today")
	c.until(`document.body.innerText.includes("Dikunci total oleh Citra Lestari")`)
	c.screen("13-today-lockdown")
	st, _ := s.ctrl.Status(ctx)
	if !st.Doors[0].Lockdown {
		t.Error("the door is not in lockdown")
	}

	// The audit log, the people, the downloads and the visit, in Indonesian.
	c.open("/events")
	c.screen("14-events")
	c.open("/visits/V0001")
	c.screen("15-visit-inside")
	c.logout()
	c.login("hasan")
	c.open("/people")
	c.screen("16-people")
	c.open("/people/vina")
	c.screen("17-person")
	c.open("/exports")
	c.screen("18-downloads")

	// One click to English, remembered.
	c.open("/today")
	c.click("form[action='/lang'] button", "/today")
	c.screen("19-today-en")
	c.open("/visits/V0001")
	c.screen("20-visit-en")
	c.open("/events?type=refused")
	c.screen("21-events-refused-en")

	// 360 px wide: a phone.
	c.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	for _, p := range []struct{ path, name string }{{"/today", "22-today-360"}, {"/visits/V0001", "23-visit-360"}, {"/events", "24-events-360"}} {
		c.open(p.path)
		c.screen(p.name)
		if w, _ := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
			t.Errorf("%s is %d px wide at 360 px: it scrolls sideways", p.path, w)
		}
	}
	c.logout()
	c.screen("25-login-360")
}
