package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
)

// submit has admin staff member by submit a visit for vina and returns
// its id.
func (s *site) submit(by string) string {
	s.t.Helper()
	b := s.browser().login(by)
	p := b.post("/visits", url.Values{"visitor": {"vina"}, "purpose": {"Ganti disk rak 3"}, "devices": {"laptop, 1 SSD"}})
	if p.status != http.StatusSeeOther {
		s.t.Fatalf("submit = %d:\n%s", p.status, p.body)
	}
	loc := p.header.Get("Location")
	return strings.TrimPrefix(loc[:strings.Index(loc, "?")], "/visits/")
}

// The SOP's separation of duties, through the console: dewi (admin and
// head) submits, so she sees no approve button and is told why; a forged
// post of the approval is refused, recorded, and changes nothing.
func TestSeparationOfDuties(t *testing.T) {
	s := newSite(t)
	v := s.submit("dewi")
	s.browser().login("citra").post("/visits/"+v+"/check", url.Values{})
	dewi := s.browser().login("dewi")
	p := dewi.get("/visits/" + v)
	if strings.Contains(p.body, "/visits/"+v+"/approve") || strings.Contains(p.body, "/visits/"+v+"/reject") {
		t.Error("dewi is offered the approval of her own visit")
	}
	if !strings.Contains(p.body, "Anda sudah mengambil langkah 1 (Pengisian formulir dan penyerahan tanda pengenal) pada kunjungan "+v) || !strings.Contains(p.body, "langkah 1, 2 dan 3 dilakukan oleh orang yang berbeda") {
		t.Errorf("the page does not explain the separation of duties:\n%s", p.body)
	}
	n := len(s.events())
	p = dewi.post("/visits/"+v+"/approve", url.Values{})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Menurut SOP, langkah 1, 2 dan 3") {
		t.Errorf("forged approval = %d:\n%s", p.status, p.body)
	}
	evs := s.events()[n:]
	if len(evs) != 1 || evs[0].Type != controller.EventRefused || evs[0].Actor != "dewi" || evs[0].Via != controller.ViaConsole {
		t.Errorf("forged approval recorded %+v, want one refusal by dewi via the console", evs)
	}
	if got, _ := s.ctrl.Visit(t.Context(), v); got.State != controller.StateChecked {
		t.Errorf("visit after the forged approval is %s", got.State)
	}
	// hasan approves.
	if p := s.browser().login("hasan").post("/visits/"+v+"/approve", url.Values{}); p.status != http.StatusSeeOther {
		t.Errorf("approval by the head = %d:\n%s", p.status, p.body)
	}
}

// Bad input: each refused with a clear message, nothing changed, and the
// attempts that concern access recorded.
func TestBadInput(t *testing.T) {
	s := newSite(t)
	v := s.submit("adi")
	oki, adi, citra := s.browser().login("oki"), s.browser().login("adi"), s.browser().login("citra")
	tests := []struct {
		name    string
		b       *browser
		path    string
		form    url.Values
		status  int
		want    string
		refused bool // recorded as a refused event
	}{
		{"officer checks a visit", oki, "/visits/" + v + "/check", url.Values{}, 403, "Peran Anda tidak boleh melakukan ini", true},
		{"a visit in another state", citra, "/visits/" + v + "/approve", url.Values{}, 409, "tidak lagi pada langkah itu", false},
		{"an unknown action", citra, "/visits/" + v + "/delete", url.Values{}, 400, "unknown visit action", false},
		{"admin makes an officer of a visitor", adi, "/people/vina", url.Values{"name": {"Vina Maharani"}, "role": {"officer"}}, 400, "a visitor cannot become staff", false},
		{"coordinator renames the head", citra, "/people/hasan", url.Values{"name": {"Bukan Hasan"}}, 403, "Peran Anda tidak boleh", true},
		{"admin revokes a staff card", adi, "/cards/revoke", url.Values{"card": {"C-oki"}, "person": {"oki"}}, 403, "Peran Anda tidak boleh", true},
		{"admin registers staff", adi, "/people", url.Values{"id": {"x1"}, "name": {"X"}, "role": {"officer"}}, 403, "Peran Anda tidak boleh", true},
		{"officer locks down", oki, "/doors/lockdown", url.Values{}, 403, "Peran Anda tidak boleh", true},
		{"a right-to-left override in a name", adi, "/people", url.Values{"id": {"rudi"}, "name": {"Rudi \u202eHacker"}, "role": {"visitor"}}, 400,
			"Nama berisi karakter tersembunyi yang membalik arah tulisan (U+202E)", false},
		{"a control character in a purpose", adi, "/visits", url.Values{"visitor": {"vina"}, "purpose": {"disk\x1b[2J"}}, 400,
			"Keperluan berisi karakter kontrol (U+001B)", false},
		{"an oversized purpose", adi, "/visits", url.Values{"visitor": {"vina"}, "purpose": {strings.Repeat("a", 300)}}, 400,
			"Keperluan terlalu panjang: 300 karakter, paling banyak 200", false},
		{"an oversized body", adi, "/visits", url.Values{"visitor": {"vina"}, "purpose": {strings.Repeat("a", 70<<10)}}, 413,
			"Isian yang dikirim terlalu besar", false},
		{"an unknown visitor without a name", adi, "/visits", url.Values{"visitor": {"ghost"}, "purpose": {"x"}}, 404, "Tidak ditemukan", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.events()
			p := tt.b.post(tt.path, tt.form)
			if p.status != tt.status || !strings.Contains(p.body, tt.want) {
				t.Errorf("%s = %d, want %d with %q:\n%s", tt.path, p.status, tt.status, tt.want, p.body)
			}
			evs := s.events()[len(before):]
			switch {
			case tt.refused && (len(evs) != 1 || evs[0].Type != controller.EventRefused):
				t.Errorf("recorded %+v, want one refused event", evs)
			case !tt.refused && len(evs) != 0:
				t.Errorf("recorded %+v, want nothing", evs)
			}
		})
	}
	// The submission form keeps what was typed when it is refused.
	p := adi.post("/visits", url.Values{"visitor": {"vina"}, "purpose": {"disk\x07"}, "devices": {"laptop merah"}})
	if !strings.Contains(p.body, `value="laptop merah"`) {
		t.Error("a refused submission lost what was typed")
	}
}

// Pages a role does not open say so; the menu does not offer them.
func TestRolesSeeTheirPages(t *testing.T) {
	s := newSite(t)
	oki := s.browser().login("oki")
	for _, path := range []string{"/people", "/exports", "/visits/new"} {
		if p := oki.get(path); p.status != http.StatusForbidden || !strings.Contains(p.body, "Halaman ini bukan untuk peran Anda") {
			t.Errorf("officer %s = %d", path, p.status)
		}
	}
	if p := oki.get("/today"); strings.Contains(p.body, `href="/people"`) || strings.Contains(p.body, "Kunci total") {
		t.Error("the officer's today screen offers people or lockdown")
	}
	if p := s.browser().login("citra").get("/today"); !strings.Contains(p.body, "Kunci total") {
		t.Error("the coordinator is not offered lockdown")
	}
}
