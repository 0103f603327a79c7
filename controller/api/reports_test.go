package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/bundle"
	"github.com/pintu/pintu/controller/report"
)

func withKey(t *testing.T) (*bundle.Key, func(*env, *api.Options)) {
	t.Helper()
	k, err := bundle.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k, func(_ *env, o *api.Options) { o.SiteKey = k }
}

func TestDossierRoute(t *testing.T) {
	e := newEnv(t)
	busyDay(e)
	r := e.do("GET", "/v1/visits/V0001/dossier", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("dossier = %d %s %.20q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("Pintu-Draft") != "" {
		t.Error("an archived visit's dossier is marked as a draft")
	}
	if got := r.header.Get("Content-Disposition"); got != `attachment; filename="dossier-V0001.pdf"` {
		t.Errorf("Content-Disposition = %q", got)
	}

	e2 := newEnv(t)
	e2.seed().visit(controller.StateApproved)
	if r := e2.do("GET", "/v1/visits/V0001/dossier?lang=en", ""); r.status != 200 || r.header.Get("Pintu-Draft") != "true" {
		t.Errorf("dossier of an approved visit = %d, Pintu-Draft %q; want 200 and true", r.status, r.header.Get("Pintu-Draft"))
	}
	for _, tt := range []struct{ path, want string }{
		{"/v1/visits/V0404/dossier", `not found: unknown visit "V0404"`},
		{"/v1/visits/V0001/dossier?lang=fr", `query parameter "lang": unknown language "fr" (want id or en)`},
	} {
		r := e2.do("GET", tt.path, "")
		if r.status/100 != 4 || errorOf(t, r) != tt.want {
			t.Errorf("GET %s = %d %q, want a 4xx %q", tt.path, r.status, r.body, tt.want)
		}
	}
}

func TestSOPReportRoute(t *testing.T) {
	e := newEnv(t)
	busyDay(e)
	r := e.do("GET", "/v1/reports/sop?from=2026-11-01&until=2026-11-02&format=xlsx&lang=en", "")
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "spreadsheetml") || !bytes.HasPrefix(r.body, []byte("PK")) {
		t.Fatalf("sop xlsx = %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := e.do("GET", "/v1/reports/sop?from=2026-11-02&until=2026-11-02", ""); r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("sop pdf for the day itself = %d %.100s", r.status, r.body)
	}
	for _, tt := range []struct {
		query  string
		status int
		want   string
	}{
		{"until=2026-11-02", 400, `missing query parameter "from" (a date such as 2026-11-01)`},
		{"from=2026-11-01", 400, `missing query parameter "until" (a date such as 2026-11-01)`},
		{"from=01-11-2026&until=2026-11-02", 400, `query parameter "from": bad date "01-11-2026": want YYYY-MM-DD such as 2026-11-01`},
		{"from=2026-11-03&until=2026-11-01", 400, "the period ends (2026-11-01) before it starts (2026-11-03)"},
		{"from=2026-11-03&until=2026-11-30", 400, "the period starts in the future (2026-11-03; today is 2026-11-02)"},
		{"from=2026-10-01&until=2026-10-31", 404, "no visit was submitted from 2026-10-01 to 2026-10-31 (the until date included)"},
		{"from=2026-11-01&until=2026-11-02&format=docx", 400, `query parameter "format": unknown format "docx" (want pdf or xlsx)`},
	} {
		r := e.do("GET", "/v1/reports/sop?"+tt.query, "")
		if r.status != tt.status || errorOf(t, r) != tt.want {
			t.Errorf("sop?%s = %d %s, want %d %q", tt.query, r.status, r.body, tt.status, tt.want)
		}
	}
}

func TestBundleRoute(t *testing.T) {
	key, mod := withKey(t)
	e := newEnv(t, mod)
	busyDay(e)
	r := e.do("GET", "/v1/export/bundle?since=2026-11-02T09:03:00%2B07:00&until=2026-11-02T12:00:00%2B07:00", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" || r.trailer.Get("Pintu-Error") != "" {
		t.Fatalf("bundle = %d %s, error trailer %q", r.status, r.body, r.trailer.Get("Pintu-Error"))
	}
	m, err := bundle.Verify(bytes.NewReader(r.body), int64(len(r.body)), key.Public())
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if m.FirstSeq <= 1 || m.FirstPrev == "" || r.trailer.Get("Pintu-Count") == "0" {
		t.Errorf("bundle from 09:03 starts at seq %d with prev %q, count %s", m.FirstSeq, m.FirstPrev, r.trailer.Get("Pintu-Count"))
	}

	for _, tt := range []struct {
		query  string
		status int
		want   string
	}{
		{"since=2026-11-02T09:00:00Z", 400, `a bundle needs both query parameters "since" and "until"`},
		{"since=2030-01-01T00:00:00Z&until=2030-02-01T00:00:00Z", 400, "the range starts in the future (2030-01-01T00:00:00Z; now is 2026-11-02T09:"},
		{"since=2026-10-01T00:00:00Z&until=2026-10-02T00:00:00Z", 404, "no audit events from 2026-10-01T00:00:00Z to 2026-10-02T00:00:00Z"},
		{"since=2026-11-02T09:00:00Z&until=2026-11-01T00:00:00Z", 400, `query parameter "until" must be after "since"`},
	} {
		r := e.do("GET", "/v1/export/bundle?"+tt.query, "")
		if r.status != tt.status || !strings.HasPrefix(errorOf(t, r), tt.want) {
			t.Errorf("bundle?%s = %d %s, want %d %q", tt.query, r.status, r.body, tt.status, tt.want)
		}
	}

	noKey := newEnv(t)
	if r := noKey.do("GET", "/v1/export/bundle?since=2026-11-02T00:00:00Z&until=2026-11-03T00:00:00Z", ""); r.status != 503 {
		t.Errorf("bundle without a site key = %d %s, want 503", r.status, r.body)
	}
}

func TestSiteKeyRoute(t *testing.T) {
	key, mod := withKey(t)
	e := newEnv(t, mod)
	r := e.do("GET", "/v1/site/key", "")
	var info api.SiteKeyInfo
	if err := json.Unmarshal(r.body, &info); err != nil || r.status != 200 {
		t.Fatalf("site key = %d %s (%v)", r.status, r.body, err)
	}
	if info.KeyID != key.Public().IDString() || info.Minisign != string(key.Public().Minisign()) || info.Site != "Pintu" {
		t.Errorf("site key = %+v", info)
	}
	if r := newEnv(t).do("GET", "/v1/site/key", ""); r.status != 503 {
		t.Errorf("site key without one = %d, want 503", r.status)
	}
}

func TestExportCSVDelimiter(t *testing.T) {
	e := newEnv(t)
	busyDay(e)
	r := e.do("GET", "/v1/export?format=csv&delimiter=%3B", "")
	if !bytes.HasPrefix(r.body, []byte(report.BOM+"seq;time;zone;")) {
		t.Fatalf("export with ; starts %.60q", r.body)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte(report.BOM))))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil || len(rows) < 10 || len(rows[1]) != len(report.CSVColumns) {
		t.Fatalf("export read with ; = %d rows, %v", len(rows), err)
	}
	if r := e.do("GET", "/v1/export?format=csv&delimiter=%7C", ""); r.status != 400 || errorOf(t, r) != `query parameter "delimiter": "|": want , or ;` {
		t.Errorf("export with | = %d %s", r.status, r.body)
	}
}
