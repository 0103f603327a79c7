package console_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/console"
)

// upload posts file as the people page's import form does.
func (b *browser) upload(path, name string, file []byte) page {
	b.s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	b.s.must(err)
	fw.Write(file)
	b.s.must(mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.s.srv.URL+path, &body)
	b.s.must(err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.s.srv.URL)
	resp, err := b.hc.Do(req)
	b.s.must(err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(out)}
}

// TestImportStaffList: the people page imports a CSV file all or nothing,
// as the person's role allows, and lists every bad line.
func TestImportStaffList(t *testing.T) {
	s := newSite(t)
	adi := s.browser().login("adi")
	count := func() int {
		ps, err := s.ctrl.People(t.Context(), controller.Page{})
		s.must(err)
		return len(ps)
	}
	before, events := count(), len(s.events())

	// A form without a file (a plain form post) is refused, naming what is
	// missing.
	if p := adi.post("/people/import", url.Values{"file": {"id,name"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "choose a CSV file") {
		t.Errorf("an import without a file = %d, want 400 asking for a CSV file", p.status)
	}

	// A bad line: nothing is imported, and the page says where.
	bad := "id;name;roles;organisation;card\ntamu1;Tamu Satu;visitor;PT A;\ntamu2;Tamu Dua;janitor;PT B;C-T2\n"
	p := adi.upload("/people/import", "tamu.csv", []byte(bad))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="import-errors"`) || !strings.Contains(p.body, `unknown role &#34;janitor&#34;`) ||
		!strings.Contains(p.body, "<td data-label=\"Baris\">3</td>") {
		t.Errorf("a file with a bad line = %d, want 400 listing line 3's role:\n%s", p.status, p.body)
	}
	if count() != before || len(s.events()) != events {
		t.Errorf("a refused file changed the records or the log")
	}

	// Admin staff register visitors, not staff.
	p = adi.upload("/people/import", "staf.csv", []byte("id,name,roles,organisation,card\nbaru,Pegawai Baru,officer,Diskominfo,C-baru\n"))
	if p.status != http.StatusForbidden || count() != before {
		t.Errorf("admin staff importing staff = %d, %d people; want 403 and none added", p.status, count())
	}
	if e := s.events()[len(s.events())-1]; e.Type != controller.EventRefused || e.Actor != "adi" || e.Via != controller.ViaConsole {
		t.Errorf("the refusal is logged as %+v", e)
	}

	// A good file of visitors, with a byte order mark, as Excel saves it.
	good := "\ufeffid;name;roles;organisation;card\ntamu1;Tamu Satu;visitor;PT A;\ntamu2;Tamu Dua;visitor;PT B;C-T2\n"
	p = adi.upload("/people/import", "tamu.csv", []byte(good))
	if p.status != http.StatusOK || !strings.Contains(p.body, "2 orang diimpor, 0 sudah terdaftar, dari 2 baris") {
		t.Errorf("a good file = %d, want 200 and the counts:\n%s", p.status, p.body)
	}
	if count() != before+2 {
		t.Errorf("%d people after the import, want %d", count(), before+2)
	}
	if e := s.events()[len(s.events())-1]; e.Type != controller.EventImportFinished || e.Actor != "adi" || e.Via != controller.ViaConsole {
		t.Errorf("the import ends with %+v, want import_finished by adi through the console", e)
	}

	// The head imports staff; the same file again changes nothing.
	hasan := s.browser().login("hasan")
	staffFile := []byte("id,name,roles,organisation,card\nbaru,Pegawai Baru,officer,Diskominfo,C-baru\n")
	if p := hasan.upload("/people/import", "staf.csv", staffFile); p.status != http.StatusOK {
		t.Errorf("the head importing staff = %d %s", p.status, p.body)
	}
	if p := hasan.upload("/people/import", "staf.csv", staffFile); !strings.Contains(p.body, "0 orang diimpor, 1 sudah terdaftar, dari 1 baris") {
		t.Errorf("the same file again: %s", p.body)
	}
	if r := s.tap("entry", "baru"); r.Decision != controller.Granted {
		t.Errorf("an imported officer's card = %+v, want granted", r)
	}

	// A file over the console's limit is refused whole, naming the way.
	huge := bytes.Repeat([]byte("x"), console.MaxImportFile+1)
	if p := hasan.upload("/people/import", "huge.csv", huge); p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "pintuctl person import") {
		t.Errorf("a file over %d bytes = %d, want 413 pointing at pintuctl", console.MaxImportFile, p.status)
	}
}
