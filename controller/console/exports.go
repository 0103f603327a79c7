package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
)

// This file is the downloads: the papers an auditor asks for, made by the
// local API's routes (Options.Papers) for the signed-in staff whose roles
// allow them.

func (s *Server) exports(q *rq) error {
	if !q.has(papers...) {
		return errNotYours
	}
	today := q.now.In(s.opts.Location).Format("2006-01-02")
	monthStart := q.now.In(s.opts.Location).Format("2006-01") + "-01"
	s.render(q, exportsPage(q, monthStart, today))
	return nil
}

// download serves one paper. The form's dates are days in the site's
// zone, the until day included.
func (s *Server) download(q *rq) error {
	if !q.has(papers...) {
		return errNotYours
	}
	if s.opts.Papers == nil {
		return fmt.Errorf("%w: downloads are not enabled in this pintud", controller.ErrNotFound)
	}
	in := q.r.URL.Query()
	lang := string(q.t.Lang())
	if l := in.Get("lang"); l == "en" || l == "id" {
		lang = l
	}
	out := url.Values{"lang": {lang}}
	var path string
	switch what := q.r.PathValue("what"); what {
	case "dossier":
		v := in.Get("visit")
		if v == "" {
			return fmt.Errorf("%w: which visit? (a visit id such as V0001)", controller.ErrInvalid)
		}
		path = "/v1/visits/" + url.PathEscape(v) + "/dossier"
	case "events.csv", "bundle":
		since, err := s.day(in.Get("since"), q.T("From"), false)
		if err != nil {
			return err
		}
		until, err := s.day(in.Get("until"), q.T("Until"), true)
		if err != nil {
			return err
		}
		out.Set("since", since)
		out.Set("until", until)
		path = "/v1/export/bundle"
		if what == "events.csv" {
			path = "/v1/export"
			out.Set("format", "csv")
			out.Set("delimiter", in.Get("delimiter"))
		}
	case "sop":
		path = "/v1/reports/sop"
		for _, k := range []string{"from", "until", "format"} {
			out.Set(k, in.Get(k))
		}
	default:
		return fmt.Errorf("%w: no download %q", controller.ErrNotFound, what)
	}
	req, err := http.NewRequestWithContext(q.r.Context(), http.MethodGet, path+"?"+out.Encode(), nil)
	if err != nil {
		return err
	}
	pw := &paperWriter{w: q.w}
	s.opts.Papers.ServeHTTP(pw, req)
	return pw.err()
}

// day turns a date from a form into the API's time: the start of that
// day in the site's zone, or of the next day for an until date.
func (s *Server) day(v, what string, end bool) (string, error) {
	if v == "" {
		return "", nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.opts.Location)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %q is not a date", controller.ErrInvalid, what, v)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t.Format(time.RFC3339), nil
}

// paperWriter passes a paper through to the browser; an error response
// is kept instead, for the console to show as a page.
type paperWriter struct {
	w      http.ResponseWriter
	status int
	body   strings.Builder
}

func (p *paperWriter) Header() http.Header { return p.w.Header() }

func (p *paperWriter) WriteHeader(status int) {
	if p.status != 0 {
		return
	}
	p.status = status
	if status < 400 {
		p.w.WriteHeader(status)
		return
	}
	h := p.w.Header()
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Disposition", "Pintu-Draft"} {
		h.Del(k)
	}
}

func (p *paperWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.status >= 400 {
		if p.body.Len() < 64<<10 {
			p.body.Write(b)
		}
		return len(b), nil
	}
	return p.w.Write(b)
}

func (p *paperWriter) Flush() {
	if f, ok := p.w.(http.Flusher); ok && p.status < 400 {
		f.Flush()
	}
}

// err is the API's refusal, as an error of the kind its status says.
func (p *paperWriter) err() error {
	if p.status < 400 {
		return nil
	}
	var eb struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(p.body.String())
	if json.Unmarshal([]byte(msg), &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	kind := errors.New("download failed")
	switch p.status {
	case http.StatusBadRequest:
		kind = controller.ErrInvalid
	case http.StatusNotFound:
		kind = controller.ErrNotFound
	case http.StatusServiceUnavailable:
		kind = controller.ErrStorage
	}
	return fmt.Errorf("%w: %s", kind, msg)
}
