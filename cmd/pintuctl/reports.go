package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/bundle"
)

// The auditors' papers (see README, "For auditors"): each command writes a
// file, through a temporary file renamed into place, so a failure leaves
// nothing at the output path.
var (
	cmdVisitDossier = &command{
		name:     "visit dossier",
		synopsis: "VISIT [-o FILE.pdf] [--lang id|en]",
		short:    "the visit's file for auditors: an A4 PDF in SOP order, marked KONSEP/DRAFT until archived",
		args:     []string{"VISIT"},
		setup:    visitDossier,
	}
	cmdReportSOP = &command{
		name:     "report sop",
		synopsis: "--from DATE --until DATE [--format pdf|xlsx] [-o FILE] [--lang id|en]",
		short:    "SOP time-compliance report: each step's time against mutu baku, per visit, rejected and open visits",
		required: []string{"from", "until"},
		setup:    reportSOP,
	}
	cmdExportBundle = &command{
		name:     "export bundle",
		synopsis: "--since RFC3339 --until RFC3339 -o FILE.zip [--lang id|en]",
		short:    "signed export bundle: events, CSV and dossiers, with a manifest signed by the site key",
		required: []string{"since", "until", "o"},
		setup:    exportBundle,
	}
	cmdVerifyBundle = &command{
		name:     "verify-bundle",
		synopsis: "FILE --pub KEY",
		short:    "check a bundle offline (no pintud): signatures, every file's SHA-256, the hash chain",
		args:     []string{"FILE"},
		required: []string{"pub"},
		setup:    verifyBundle,
	}
	cmdSiteKey = &command{
		name:     "site key",
		synopsis: "[-o FILE]",
		short:    "print the site's public key (minisign format), to verify bundles with",
		setup:    siteKeyCommand,
	}
)

// explicitFlag records that a flag was given on the command line.
type explicitFlag struct {
	flag.Value
	set *bool
}

func (f explicitFlag) Set(s string) error {
	*f.set = true
	return f.Value.Set(s)
}

func (f explicitFlag) String() string {
	if f.Value == nil { // the flag package's zero value, for usage
		return ""
	}
	return f.Value.String()
}

// explicit makes fs's flag name record in *set whether it was given.
func explicit(fs *flag.FlagSet, name string, set *bool) {
	fl := fs.Lookup(name)
	fl.Value = explicitFlag{Value: fl.Value, set: set}
}

// paperLang is the language of a paper: Indonesian, the SOP's own, unless
// --lang or PINTU_LANG says otherwise.
func (c *cli) paperLang() string {
	if c.langSet || c.getenv("PINTU_LANG") != "" {
		return c.lang
	}
	return langID
}

// writeOutput writes what fill writes to path through a temporary file in
// the same directory, renamed into place only when fill succeeds.
func writeOutput(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	err = fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// download saves the body of a GET to path and returns the response.
func (c *cli) download(ctx context.Context, urlPath string, q url.Values, path string) (*http.Response, error) {
	resp, err := c.client().do(ctx, http.MethodGet, urlPath, q, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	err = writeOutput(path, func(w io.Writer) error {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("read from pintud: %w", err)
		}
		return trailerError(resp)
	})
	return resp, err
}

// wrote tells where a paper went.
func (c *cli) wrote(what, path string, extra map[string]any) error {
	if c.json {
		m := map[string]any{"file": path}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return c.printJSON(b)
	}
	return c.say(c.tr("wrote %s to %s", what, path))
}

func visitDossier(fs *flag.FlagSet) action {
	out := fs.String("o", "", "write to `FILE` (default dossier-VISIT.pdf)")
	return func(ctx context.Context, c *cli, args []string) error {
		id := args[0]
		path := *out
		if path == "" {
			path = "dossier-" + filepath.Base(id) + ".pdf"
		}
		resp, err := c.download(ctx, "/v1/visits/"+url.PathEscape(id)+"/dossier", url.Values{"lang": {c.paperLang()}}, path)
		if err != nil {
			return err
		}
		draft := resp.Header.Get("Pintu-Draft") == "true"
		if err := c.wrote(c.tr("the dossier of %s", id), path, map[string]any{"visit": id, "draft": draft}); err != nil {
			return err
		}
		if draft && !c.json {
			c.say(c.tr("KONSEP/DRAFT: visit %s is not archived", id))
		}
		return nil
	}
}

func reportSOP(fs *flag.FlagSet) action {
	from := fs.String("from", "", "first `DATE` (YYYY-MM-DD, site time) of the visits' submission")
	until := fs.String("until", "", "last `DATE` (YYYY-MM-DD), included")
	format := fs.String("format", "pdf", "`pdf` or xlsx")
	out := fs.String("o", "", "write to `FILE` (default sop-FROM-UNTIL.pdf or .xlsx)")
	return func(ctx context.Context, c *cli, _ []string) error {
		if *format != "pdf" && *format != "xlsx" {
			return usagef(c.cmd, "--format: want pdf or xlsx, got %q", *format)
		}
		for _, d := range []struct{ name, v string }{{"from", *from}, {"until", *until}} {
			if _, err := time.Parse("2006-01-02", d.v); err != nil {
				return usagef(c.cmd, "--%s: bad date %q: want YYYY-MM-DD such as 2026-11-01", d.name, d.v)
			}
		}
		path := *out
		if path == "" {
			path = fmt.Sprintf("sop-%s-%s.%s", *from, *until, *format)
		}
		q := url.Values{"from": {*from}, "until": {*until}, "format": {*format}, "lang": {c.paperLang()}}
		if _, err := c.download(ctx, "/v1/reports/sop", q, path); err != nil {
			return err
		}
		return c.wrote(c.tr("the SOP compliance report"), path, map[string]any{"format": *format})
	}
}

func exportBundle(fs *flag.FlagSet) action {
	since := fs.String("since", "", "first event time, `RFC3339`, included")
	until := fs.String("until", "", "end time, `RFC3339`, not included")
	out := fs.String("o", "", "write the bundle (a zip archive) to `FILE`")
	return func(ctx context.Context, c *cli, _ []string) error {
		q := url.Values{"lang": {c.paperLang()}}
		for _, f := range []struct{ name, v string }{{"since", *since}, {"until", *until}} {
			t, err := parseTime(c.cmd, f.name, f.v)
			if err != nil {
				return err
			}
			q.Set(f.name, t.Format(time.RFC3339))
		}
		resp, err := c.download(ctx, "/v1/export/bundle", q, *out)
		if err != nil {
			return err
		}
		count := dashZero(resp.Trailer.Get("Pintu-Count"))
		return c.wrote(c.tr("a bundle of %s events", count), *out, map[string]any{"count": json.Number(count)})
	}
}

func siteKeyCommand(fs *flag.FlagSet) action {
	out := fs.String("o", "", "write the public key to `FILE` instead of stdout")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodGet, "/v1/site/key", nil, nil)
		if err != nil {
			return err
		}
		var info api.SiteKeyInfo
		if err := json.Unmarshal(raw, &info); err != nil {
			return fmt.Errorf("decode response from pintud: %w", err)
		}
		if *out != "" {
			if err := writeOutput(*out, func(w io.Writer) error { _, err := io.WriteString(w, info.Minisign); return err }); err != nil {
				return err
			}
			return c.wrote(c.tr("the public key of %s (key id %s)", info.Site, info.KeyID), *out, map[string]any{"key_id": info.KeyID})
		}
		if c.json {
			return c.printJSON(raw)
		}
		_, err = io.WriteString(c.stdout, info.Minisign)
		return err
	}
}

func verifyBundle(fs *flag.FlagSet) action {
	pubPath := fs.String("pub", "", "the site's public key `FILE` (from pintuctl site key)")
	return func(_ context.Context, c *cli, args []string) error {
		b, err := os.ReadFile(*pubPath)
		if err != nil {
			return fmt.Errorf("--pub: %w", err)
		}
		pub, err := bundle.ParsePublicKey(b)
		if err != nil {
			return fmt.Errorf("--pub %s: %w", *pubPath, err)
		}
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		m, err := bundle.Verify(f, fi.Size(), pub)
		if err != nil {
			return &bundleError{fmt.Errorf("%s: %w", args[0], err)}
		}
		if c.json {
			b, _ := json.Marshal(map[string]any{"ok": true, "manifest": m})
			return c.printJSON(b)
		}
		loc, err := time.LoadLocation(m.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
		prev := m.FirstPrev
		if prev == "" {
			prev = c.tr("(none: the log's first event)")
		}
		c.say(c.tr("ok: bundle of %s, signed by key %s", m.Site, m.KeyID))
		c.say("  " + c.tr("events seq %s to %s (%d), %s to %s", strconv.FormatUint(m.FirstSeq, 10), strconv.FormatUint(m.LastSeq, 10), m.Events, at(m.Since), at(m.Until)))
		c.say("  " + c.tr("hash chain intact from prev %s", prev))
		c.say("  " + c.tr("to last hash %s", m.LastHash))
		c.say("  " + c.tr("%d files, every SHA-256 matches", len(m.Files)) + "; " + c.tr("made %s", at(m.Created)))
		return nil
	}
}
