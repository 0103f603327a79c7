package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

// This file is the commands of the log's integrity (integrity, integrity
// accept, verify), the bulk import, and the paging of long lists.

var cmdIntegrity = &command{
	name:  "integrity",
	short: "show the integrity check: where the log is verified to, the breaks found, those accepted",
	setup: noFlags((*cli).integrity),
}

var cmdIntegrityAccept = &command{
	name:     "integrity accept",
	synopsis: "--note TEXT [--by ID]",
	short:    "the head accepts the integrity breaks found, with a note of what was found and done; entry opens again",
	required: []string{"note"},
	setup: func(fs *flag.FlagSet) action {
		by := fs.String("by", "", "the head's person `ID` (under pintud -sim; otherwise, if given, it must be who you are)")
		note := fs.String("note", "", "what was found and done (`TEXT`)")
		return func(ctx context.Context, c *cli, _ []string) error {
			raw, err := c.client().call(ctx, http.MethodPost, "/v1/integrity/accept", nil, map[string]string{"by": *by, "note": *note})
			if err != nil {
				return err
			}
			return output(c, raw, func(r api.AcceptResult) error {
				for _, b := range r.Accepted {
					if err := c.say(c.tr("accepted: %s", b.String())); err != nil {
						return err
					}
				}
				return c.say(c.tr("entry is no longer refused for integrity"))
			})
		}
	},
}

var cmdPersonImport = &command{
	name:     "person import",
	synopsis: "FILE.csv",
	short:    "register people with their cards from a CSV file (id, name, roles, organisation, card); all or nothing",
	args:     []string{"FILE.csv"},
	setup:    noFlags((*cli).personImport),
}

func (c *cli) integrity(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/integrity", nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(s controller.IntegrityStatus) error {
		tw := newTable(c.stdout)
		tw.row(c.tr("Verified to"), fmt.Sprintf("seq %d", s.Checkpoint.Seq))
		pass := c.tr("not yet")
		if !s.LastPass.IsZero() {
			pass = c.when(s.LastPass)
		}
		tw.row(c.tr("Last full check"), pass)
		if s.PassPhase != "" {
			tw.row(c.tr("Checking now"), fmt.Sprintf("%s %d", s.PassPhase, s.PassAt))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(s.Breaks) == 0 {
			c.say(c.tr("No break: the log and the records are intact as far as checked"))
		} else {
			c.say(c.tr("BREAKS (entry is refused until the head accepts them: pintuctl integrity accept)"))
			for _, b := range s.Breaks {
				c.say(fmt.Sprintf("  %s (%s)", b, c.when(b.Found)))
			}
		}
		if len(s.Accepted) > 0 {
			c.say(c.tr("ACCEPTED"))
			for _, b := range s.Accepted {
				c.say("  " + b.String() + "; " + c.tr("accepted by %s at %s: %s", b.AcceptedBy, c.when(b.AcceptedAt), oneLine(b.Note)))
			}
		}
		return nil
	})
}

func (c *cli) verify(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/verify", nil, nil)
	if err != nil {
		return err
	}
	var res api.VerifyResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("decode response from pintud: %w", err)
	}
	if c.json {
		if err := c.printJSON(raw); err != nil {
			return err
		}
	} else {
		for _, b := range res.Breaks {
			line := b.String()
			if b.AcceptedBy != "" {
				line += "; " + c.tr("accepted by %s at %s: %s", b.AcceptedBy, c.when(b.AcceptedAt), oneLine(b.Note))
			}
			if err := c.say(line); err != nil {
				return err
			}
		}
	}
	if !res.OK {
		return &chainError{res}
	}
	if c.json {
		return nil
	}
	return c.say(c.tr("ok: %d events and %d records checked, hash chain and records intact", res.Count, res.Records))
}

// chainError is a log or records that failed verify.
type chainError struct{ res api.VerifyResult }

func (e *chainError) Error() string {
	n := len(e.res.Breaks)
	what := fmt.Sprintf("%d integrity breaks", n)
	if n == 1 {
		what = "1 integrity break"
	}
	first := e.res.Reason
	if e.res.BrokenSeq != 0 {
		first = fmt.Sprintf("audit log broken at seq %d: %s", e.res.BrokenSeq, e.res.Reason)
	}
	return fmt.Sprintf("%s (%d events and %d records checked); the first: %s", what, e.res.Count, e.res.Records, first)
}

// personImport sends the file to pintud, which checks every line before it
// writes any; bad lines are listed, each with its line, column and problem.
func (c *cli) personImport(ctx context.Context, args []string) error {
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	u := url.URL{Scheme: "http", Host: "pintud", Path: "/v1/people/import"}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), f)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/csv")
	cl := c.client()
	resp, err := cl.hc.Do(req)
	if err != nil {
		return cl.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest {
		var bad struct {
			Error string                 `json:"error"`
			Lines []controller.LineError `json:"lines"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if json.Unmarshal(b, &bad) != nil || bad.Error == "" {
			return fmt.Errorf("pintud answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		if len(bad.Lines) == 0 {
			return errors.New(bad.Error)
		}
		if c.json {
			if err := c.printJSON(b); err != nil {
				return err
			}
		} else {
			for _, l := range bad.Lines {
				c.say(fmt.Sprintf("%s:%s", args[0], strings.TrimPrefix(l.String(), "line ")))
			}
		}
		if len(bad.Lines) == 1 {
			return errors.New(c.tr("%s: 1 bad line; nothing imported", args[0]))
		}
		return errors.New(c.tr("%s: %d bad lines; nothing imported", args[0], len(bad.Lines)))
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb struct{ Error string }
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			return errors.New(eb.Error)
		}
		return fmt.Errorf("pintud answered %s", resp.Status)
	}
	progress := isTerminal(c.stderr)
	sc := bufio.NewScanner(resp.Body)
	var last api.ImportLine
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			return fmt.Errorf("decode response from pintud: %w", err)
		}
		if last.Result == nil && progress {
			fmt.Fprint(c.stderr, "\r"+c.tr("imported %d of %d lines", last.Done, last.Of))
		}
	}
	if progress {
		fmt.Fprintln(c.stderr)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read response from pintud: %w", err)
	}
	if last.Result == nil {
		return errors.New("pintud ended the import without a result")
	}
	if c.json {
		b, _ := json.Marshal(last)
		if err := c.printJSON(b); err != nil {
			return err
		}
	} else {
		r := last.Result
		c.say(c.tr("%d people imported, %d already registered, of %d lines", r.Imported, r.Unchanged, r.Lines))
	}
	if last.Error != "" {
		return errors.New(last.Error)
	}
	return nil
}

// isTerminal reports whether w is a terminal, to show progress on it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pages reads a list in pages of pintud's page size and shows each page as
// it comes, so a list of a million is never all in memory: with --json as
// one array (a list that fits one page prints as it always did), otherwise
// by human, page by page.
func pages[T any](ctx context.Context, c *cli, path string, q url.Values, human func([]T, bool) error) error {
	if q == nil {
		q = url.Values{}
	}
	first := true
	for {
		resp, err := c.client().do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return err
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read response from pintud: %w", err)
		}
		next := resp.Header.Get("Pintu-Next-After")
		if c.json {
			if err := c.jsonPage(raw, first, next == ""); err != nil {
				return err
			}
		} else {
			var xs []T
			if err := json.Unmarshal(raw, &xs); err != nil {
				return fmt.Errorf("decode response from pintud: %w", err)
			}
			if err := human(xs, first); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		first = false
		q.Set("after", next)
	}
}

// jsonPage prints one page of a JSON array list as part of one array.
func (c *cli) jsonPage(raw []byte, first, last bool) error {
	if first && last {
		return c.printJSON(raw)
	}
	var xs []json.RawMessage
	if err := json.Unmarshal(raw, &xs); err != nil {
		return fmt.Errorf("decode response from pintud: %w", err)
	}
	var b bytes.Buffer
	if first {
		b.WriteString("[")
	}
	for i, x := range xs {
		if !first || i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		if err := json.Indent(&b, x, "  ", "  "); err != nil {
			return fmt.Errorf("decode response from pintud: %w", err)
		}
	}
	if last {
		b.WriteString("\n]\n")
	}
	_, err := c.stdout.Write(b.Bytes())
	return err
}
