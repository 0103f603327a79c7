package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

func lastEvent(s *site) controller.Event {
	evs := s.events()
	return evs[len(evs)-1]
}

func cookieOf(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cookie %s in %v", name, p.header["Set-Cookie"])
	return nil
}

func TestSignIn(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	p := b.post("/login", url.Values{"id": {"citra"}, "password": {"wrong password"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "ID atau kata sandi salah.") {
		t.Errorf("wrong password = %d, want 401 saying so in Indonesian:\n%s", p.status, p.body)
	}
	if e := lastEvent(s); e.Type != controller.EventLoginFailed || e.Person != "citra" || !strings.Contains(e.Detail, "wrong password (1 of 5)") {
		t.Errorf("wrong password recorded %+v", e)
	}
	p = b.post("/login", url.Values{"id": {"nobody"}, "password": {pw}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "ID atau kata sandi salah.") {
		t.Errorf("unknown person = %d, want the same answer as a wrong password", p.status)
	}
	p = b.post("/login", url.Values{"id": {"citra"}, "password": {pw}, "next": {"/visits"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/visits" {
		t.Fatalf("sign-in = %d %s, want 303 to /visits", p.status, p.header.Get("Location"))
	}
	c := cookieOf(t, p, "__Host-pintu_session")
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || len(c.Value) < 43 {
		t.Errorf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict, host-only, 256 bits", c)
	}
	if e := lastEvent(s); e.Type != controller.EventLogin || e.Actor != "citra" || e.Via != controller.ViaConsole {
		t.Errorf("sign-in recorded %+v", e)
	}
	if p := b.get("/today"); p.status != http.StatusOK || !strings.Contains(p.body, "Hari ini") {
		t.Errorf("today after sign-in = %d", p.status)
	}
	// A next that leads elsewhere is ignored.
	b2 := s.browser()
	p = b2.post("/login", url.Values{"id": {"adi"}, "password": {pw}, "next": {"//evil.example/x"}})
	if p.header.Get("Location") != "/today" {
		t.Errorf("sign-in with an outside next went to %q", p.header.Get("Location"))
	}
}

// Signing in always makes a new session id: one planted before it (in a
// browser the attacker used first) opens nothing.
func TestSessionFixation(t *testing.T) {
	s := newSite(t)
	attacker := s.browser().login("adi")
	u, _ := url.Parse(s.srv.URL)
	planted := attacker.hc.Jar.Cookies(u)[0]
	victim := s.browser()
	victim.hc.Jar.SetCookies(u, []*http.Cookie{planted})
	victim.login("citra")
	if got := victim.hc.Jar.Cookies(u)[0].Value; got == planted.Value {
		t.Fatal("the session id did not change at sign-in")
	}
	// The planted id no longer opens anything.
	if p := attacker.get("/today"); p.status != http.StatusSeeOther {
		t.Errorf("the planted session after the victim's sign-in = %d, want sent to sign in", p.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	s := newSite(t)
	b := s.browser().login("citra")
	s.clock.Add(14 * time.Minute)
	if p := b.get("/today"); p.status != http.StatusOK {
		t.Fatalf("after 14 idle minutes = %d, want still signed in", p.status)
	}
	s.clock.Add(15*time.Minute + time.Second)
	p := b.get("/today")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?expired=1" {
		t.Fatalf("after 15 idle minutes = %d %s, want sent to sign in", p.status, p.header.Get("Location"))
	}
	if e := lastEvent(s); e.Type != controller.EventLogout || e.Person != "citra" || !strings.Contains(e.Detail, "idle for 15m0s") {
		t.Errorf("expiry recorded %+v", e)
	}
	if p := b.get("/login?expired=1"); !strings.Contains(p.body, "Sesi Anda telah berakhir") {
		t.Error("the sign-in page does not say the session ended")
	}
	// Absolute: busy all day, still over after 8 hours.
	b = s.browser().login("citra")
	for range 8 * 6 {
		s.clock.Add(10 * time.Minute)
		if p := b.get("/today"); p.status != http.StatusOK {
			break
		}
	}
	s.clock.Add(time.Minute)
	if p := b.get("/today"); p.status != http.StatusSeeOther {
		t.Errorf("after 8 hours of use = %d, want sent to sign in", p.status)
	}
	if e := lastEvent(s); e.Type != controller.EventLogout || !strings.Contains(e.Detail, "signed in 8h0m0s ago") {
		t.Errorf("absolute expiry recorded %+v", e)
	}
	// A post with an expired session changes nothing.
	n := len(s.events())
	if p := b.post("/doors/lockdown", url.Values{}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("lockdown with an expired session = %d %s", p.status, p.header.Get("Location"))
	}
	if len(s.events()) != n {
		t.Error("a post with an expired session wrote events")
	}
}

func TestLogout(t *testing.T) {
	s := newSite(t)
	b := s.browser().login("hasan")
	u, _ := url.Parse(s.srv.URL)
	old := b.hc.Jar.Cookies(u)[0]
	p := b.post("/logout", url.Values{})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Fatalf("logout = %d", p.status)
	}
	if e := lastEvent(s); e.Type != controller.EventLogout || e.Detail != "signed out" {
		t.Errorf("logout recorded %+v", e)
	}
	again := s.browser()
	again.hc.Jar.SetCookies(u, []*http.Cookie{old})
	if p := again.get("/today"); p.status != http.StatusSeeOther {
		t.Error("the session's id still works after sign-out")
	}
}

// A changed password ends the sessions begun before it, and so does
// disabling the person.
func TestPasswordChangeEndsSessions(t *testing.T) {
	s := newSite(t)
	desk, phone := s.browser().login("citra"), s.browser().login("citra")
	s.clock.Add(time.Second)
	p := desk.post("/account/password", url.Values{"current": {pw}, "new": {"teh manis hangat"}, "again": {"teh manis hangat"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("change password = %d %s", p.status, p.body)
	}
	if p := desk.get("/account?done=password"); p.status != http.StatusOK || !strings.Contains(p.body, "Kata sandi Anda telah diganti") {
		t.Errorf("the changing browser after the change = %d", p.status)
	}
	if p := phone.get("/today"); p.status != http.StatusSeeOther {
		t.Errorf("another session after the change = %d, want ended", p.status)
	}
	for _, tt := range []struct{ current, next, again, want string }{
		{"wrong", "teh manis panas", "teh manis panas", "the current password is wrong"},
		{"teh manis hangat", "teh manis panas", "teh manis dingin", "the two new passwords differ"},
		{"teh manis hangat", "pendek", "pendek", "at least 10"},
	} {
		p := desk.post("/account/password", url.Values{"current": {tt.current}, "new": {tt.next}, "again": {tt.again}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.want) {
			t.Errorf("change with %+v = %d, want %q", tt, p.status, tt.want)
		}
	}
	_, err := s.ctrl.SetDisabled(t.Context(), "citra", true, root)
	s.must(err)
	if p := desk.get("/today"); p.status != http.StatusSeeOther {
		t.Errorf("a disabled person's session = %d, want ended", p.status)
	}
}

func TestLockoutThroughConsole(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for i := range 5 {
		p := b.post("/login", url.Values{"id": {"hasan"}, "password": {"not it"}})
		if i == 4 && !strings.Contains(p.body, "akun ini dikunci sampai 09:01:00 WIB") {
			t.Errorf("fifth failure says:\n%s", p.body)
		}
	}
	if p := b.post("/login", url.Values{"id": {"hasan"}, "password": {pw}}); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "dikunci") {
		t.Errorf("right password while locked = %d", p.status)
	}
	s.clock.Add(time.Minute)
	b.login("hasan")
}

// Another site's page posting to the console (a forged form) is refused
// before it reaches a handler, and changes nothing.
func TestCrossOriginRefused(t *testing.T) {
	s := newSite(t)
	b := s.browser().login("citra")
	n := len(s.events())
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
	} {
		p := b.post("/doors/lockdown", url.Values{"door": {"server-room"}}, hdr...)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "datang dari situs web lain dan ditolak") {
			t.Errorf("cross-origin lockdown (%v) = %d:\n%s", hdr, p.status, p.body)
		}
	}
	if len(s.events()) != n {
		t.Error("a cross-origin post changed the log")
	}
	st, _ := s.ctrl.Status(t.Context())
	if st.Doors[0].Lockdown {
		t.Error("a cross-origin post locked the door down")
	}
}

func TestHeaders(t *testing.T) {
	s := newSite(t)
	p := s.browser().get("/login")
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, "style=") || strings.Contains(p.body, " on") && strings.Contains(p.body, "onclick") {
		t.Error("the page has inline script or style")
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("page Cache-Control = %q", p.header.Get("Cache-Control"))
	}
	i := strings.Index(p.body, "/static/")
	path := p.body[i : i+strings.Index(p.body[i:], `"`)]
	a := s.browser().get(path)
	if a.status != 200 || a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s = %d, Cache-Control %q", path, a.status, a.header.Get("Cache-Control"))
	}
	if p := s.browser().get("/static/000000000000/htmx.min.js"); p.status != http.StatusNotFound {
		t.Errorf("a stale asset path = %d, want 404", p.status)
	}
}

// Guessing at ids from one address is throttled after ten failures a
// minute: the eleventh is turned away unchecked and unrecorded, so one
// machine cannot fill the audit log.
func TestSignInThrottled(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for i := range 10 {
		b.post("/login", url.Values{"id": {"guess" + string(rune('a'+i))}, "password": {"x"}})
	}
	n := len(s.events())
	p := b.post("/login", url.Values{"id": {"citra"}, "password": {pw}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Terlalu banyak percobaan masuk yang gagal dari komputer ini") {
		t.Errorf("eleventh attempt = %d:\n%s", p.status, p.body)
	}
	if len(s.events()) != n {
		t.Error("a throttled attempt was recorded")
	}
	s.clock.Add(time.Minute)
	b.login("citra")
}
