package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pintu/pintu/controller/report"
)

// The papers for auditors (package report) and the site key:
//
//	GET /v1/visits/{id}/dossier?lang=id|en                       the visit's dossier, PDF
//	GET /v1/reports/sop?from=DATE&until=DATE&format=pdf|xlsx&lang=  SOP compliance report
//	GET /v1/export/bundle?since=T&until=T&lang=                  signed export bundle, zip
//	GET /v1/site/key                                             the site's public key
//
// A dossier of a visit that is not archived carries the header
// Pintu-Draft: true. The bundle streams like the export, with the
// Pintu-Error and Pintu-Count trailers.

// SiteKeyInfo is the answer of GET /v1/site/key.
type SiteKeyInfo struct {
	Site     string `json:"site"`
	KeyID    string `json:"key_id"`
	Minisign string `json:"minisign"` // the public key file, for minisign -p and verify-bundle --pub
}

// now is the controller's clock, so papers agree with the log.
func (s *Server) now(r *http.Request) (time.Time, error) {
	st, err := s.ctrl.Status(r.Context())
	return st.Time, err
}

func paperLang(r *http.Request) (report.Lang, error) {
	l, err := report.ParseLang(r.URL.Query().Get("lang"))
	if err != nil {
		return "", badRequest("query parameter \"lang\": unknown language %q (want id or en)", r.URL.Query().Get("lang"))
	}
	return l, nil
}

// csvWriter is the CSV export's writer, with names resolved and the
// delimiter the query asks for.
func (s *Server) csvWriter(r *http.Request, w io.Writer) (*report.CSVWriter, error) {
	delim, err := report.ParseDelimiter(r.URL.Query().Get("delimiter"))
	if err != nil {
		return nil, badRequest("query parameter \"delimiter\": %q: want , or ;", r.URL.Query().Get("delimiter"))
	}
	people, err := s.ctrl.AllPeople(r.Context())
	if err != nil {
		return nil, err
	}
	visits, err := s.ctrl.AllVisits(r.Context())
	if err != nil {
		return nil, err
	}
	return report.NewCSV(w, report.CSVOptions{Delimiter: delim, Location: s.opts.Location, People: people, Visits: visits})
}

func writeFile(w http.ResponseWriter, contentType, name string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (s *Server) dossier(w http.ResponseWriter, r *http.Request) error {
	lang, err := paperLang(r)
	if err != nil {
		return err
	}
	v, err := s.ctrl.Visit(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	people, err := s.ctrl.AllPeople(r.Context())
	if err != nil {
		return err
	}
	now, err := s.now(r)
	if err != nil {
		return err
	}
	evs, err := report.VisitEvents(r.Context(), s.evlog, v)
	if err != nil {
		return err
	}
	pdf, err := report.Dossier(report.DossierInput{Site: s.ctrl.Config().Site, Visit: v, People: people, Events: evs,
		Location: s.opts.Location, Lang: lang, Printed: now})
	if err != nil {
		return err
	}
	if report.Draft(v) {
		w.Header().Set("Pintu-Draft", "true")
	}
	writeFile(w, "application/pdf", "dossier-"+v.ID+".pdf", pdf)
	return nil
}

// parseDay reads a date (YYYY-MM-DD) in the site's zone.
func (s *Server) parseDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, badRequest("missing query parameter %q (a date such as 2026-11-01)", name)
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.opts.Location)
	if err != nil {
		return time.Time{}, badRequest("query parameter %q: bad date %q: want YYYY-MM-DD such as 2026-11-01", name, v)
	}
	return t, nil
}

func (s *Server) sopReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lang, err := paperLang(r)
	if err != nil {
		return err
	}
	from, err := s.parseDay("from", q.Get("from"))
	if err != nil {
		return err
	}
	last, err := s.parseDay("until", q.Get("until"))
	if err != nil {
		return err
	}
	if last.Before(from) {
		return badRequest("the period ends (%s) before it starts (%s)", q.Get("until"), q.Get("from"))
	}
	now, err := s.now(r)
	if err != nil {
		return err
	}
	if from.After(now) {
		return badRequest("the period starts in the future (%s; today is %s)", q.Get("from"), now.In(s.opts.Location).Format("2006-01-02"))
	}
	people, err := s.ctrl.AllPeople(r.Context())
	if err != nil {
		return err
	}
	visits, err := s.ctrl.AllVisits(r.Context())
	if err != nil {
		return err
	}
	in := report.ComplianceInput{Site: s.ctrl.Config().Site, Visits: visits, People: people,
		From: from, Until: last.AddDate(0, 0, 1), Now: now, Location: s.opts.Location, Lang: lang}
	name := fmt.Sprintf("sop-%s-%s", q.Get("from"), q.Get("until"))
	var b []byte
	var ctype string
	switch f := q.Get("format"); f {
	case "", "pdf":
		b, err = report.CompliancePDF(in)
		ctype, name = "application/pdf", name+".pdf"
	case "xlsx":
		b, err = report.ComplianceXLSX(in)
		ctype, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx"
	default:
		return badRequest("query parameter \"format\": unknown format %q (want pdf or xlsx)", f)
	}
	if errors.Is(err, report.ErrNoVisits) {
		return notFound("no visit was submitted from %s to %s (the until date included)", q.Get("from"), q.Get("until"))
	}
	if err != nil {
		return err
	}
	writeFile(w, ctype, name, b)
	return nil
}

func (s *Server) exportBundle(w http.ResponseWriter, r *http.Request) error {
	if s.opts.SiteKey == nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: "this pintud has no site key to sign bundles with"}
	}
	q, err := timeQuery(r)
	if err != nil {
		return err
	}
	if q.Since.IsZero() || q.Until.IsZero() {
		return badRequest("a bundle needs both query parameters \"since\" and \"until\"")
	}
	lang, err := paperLang(r)
	if err != nil {
		return err
	}
	now, err := s.now(r)
	if err != nil {
		return err
	}
	if q.Since.After(now) {
		return badRequest("the range starts in the future (%s; now is %s)", q.Since.Format(time.RFC3339), now.In(s.opts.Location).Format(time.RFC3339))
	}
	people, err := s.ctrl.AllPeople(r.Context())
	if err != nil {
		return err
	}
	visits, err := s.ctrl.AllVisits(r.Context())
	if err != nil {
		return err
	}
	st := &stream{w: w, contentType: "application/zip"}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "pintu-bundle-"+now.In(s.opts.Location).Format("20060102-150405")+".zip"))
	m, err := report.WriteBundle(r.Context(), st, s.opts.SiteKey, report.BundleInput{Site: s.ctrl.Config().Site, Log: s.evlog,
		Since: q.Since, Until: q.Until, Location: s.opts.Location, People: people, Visits: visits, Lang: lang, Created: now})
	if errors.Is(err, report.ErrEmptyRange) {
		return notFound("no audit events from %s to %s", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	st.n = int(m.Events)
	return s.finish(st, r, err)
}

func (s *Server) siteKey(w http.ResponseWriter, r *http.Request) error {
	if s.opts.SiteKey == nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: "this pintud has no site key"}
	}
	pub := s.opts.SiteKey.Public()
	writeJSON(w, http.StatusOK, SiteKeyInfo{Site: s.ctrl.Config().Site, KeyID: pub.IDString(), Minisign: string(pub.Minisign())})
	return nil
}
