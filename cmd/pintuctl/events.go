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
	"strconv"
	"strings"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

// tailDefault is how many past events --tail shows before the new ones.
const tailDefault = 10

func events(fs *flag.FlagSet) action {
	window := timeRange(fs)
	limit := fs.Int("limit", 0, "show only the newest `N` events (0, the default: every one; 10 with --tail)")
	tail := fs.Bool("tail", false, "after the newest events, show each new one as it is recorded, until Ctrl-C")
	return func(ctx context.Context, c *cli, _ []string) error {
		q := url.Values{}
		if err := window(c, q); err != nil {
			return err
		}
		if *limit < 0 || *limit > api.MaxEventLimit {
			return usagef(c.cmd, "--limit: want a number from 0 to %d, got %d", api.MaxEventLimit, *limit)
		}
		n := *limit
		if *tail {
			if q.Has("until") {
				return usagef(c.cmd, "--until cannot be used with --tail: new events are always later")
			}
			limitSet := false
			fs.Visit(func(f *flag.Flag) { limitSet = limitSet || f.Name == "limit" })
			if !limitSet {
				n = tailDefault
			}
			q.Set("follow", "true")
		}
		if n > 0 {
			q.Set("limit", strconv.Itoa(n))
		}
		resp, err := c.client().do(ctx, http.MethodGet, "/v1/events", q, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if *tail {
			return c.followEvents(ctx, resp)
		}
		if c.json {
			return c.copyJSONLines(resp)
		}
		dec := json.NewDecoder(resp.Body)
		if _, err := dec.Token(); err != nil { // [
			return fmt.Errorf("read events: %w", err)
		}
		et := c.eventTable()
		for dec.More() {
			var e controller.Event
			if err := dec.Decode(&e); err != nil {
				if terr := trailerError(resp); terr != nil {
					return terr
				}
				return fmt.Errorf("read events: %w", err)
			}
			if err := et.print(e); err != nil {
				return err
			}
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if err := trailerError(resp); err != nil {
			return err
		}
		return et.done()
	}
}

// maxEventLine is the longest line of the event stream pintuctl reads: an
// event with a note of 2000 characters, escaped, is far shorter.
const maxEventLine = 1 << 20

// copyJSONLines copies pintud's JSON to stdout line by line (pintud writes
// one event per line), each made safe for a terminal.
func (c *cli) copyJSONLines(resp *http.Response) error {
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := c.stdout.Write(safeJSON(line)); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return trailerError(resp)
		}
		if err != nil {
			if terr := trailerError(resp); terr != nil {
				return terr
			}
			return fmt.Errorf("read events: %w", err)
		}
	}
}

// followEvents prints the stream of --tail until ctx ends (Ctrl-C) or
// pintud ends it. An end after pintud logged its own stop is not an
// error; any other is.
func (c *cli) followEvents(ctx context.Context, resp *http.Response) error {
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	et := c.eventTable()
	stopped := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e controller.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		stopped = e.Type == controller.EventStopped
		if c.json {
			if _, err := c.stdout.Write(append(safeJSON(line), '\n')); err != nil {
				return err
			}
			continue
		}
		if err := et.print(e); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil // Ctrl-C: the way --tail ends
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	if err := trailerError(resp); err != nil {
		return err
	}
	if !stopped {
		return errors.New("pintud ended the stream of events")
	}
	return nil
}

// The events table has fixed columns, so that it stays aligned however the
// events arrive (in batches, or one by one with --tail), and fits in 100
// columns. Long cells are cut with "…"; --json and export have every field
// whole. The day is printed once above its events, with the zone.
const (
	evSeqW  = 6
	evTimeW = 8
	evDoorW = 11
	evWhoW  = 10
	evLineW = 100
	evGap   = "  "
)

type eventTable struct {
	c      *cli
	typeW  int // the TYPE column: the log's words in English, longer ones in Indonesian
	header bool
	day    string
}

func (c *cli) eventTable() *eventTable {
	t := &eventTable{c: c, typeW: 18}
	if c.lang == langID {
		t.typeW = 21
	}
	return t
}

func (t *eventTable) print(e controller.Event) error {
	c := t.c
	var b strings.Builder
	if !t.header {
		t.header = true
		t.line(&b, "SEQ", c.tr("TIME"), c.tr("TYPE"), c.tr("DOOR"), c.tr("WHO"), c.tr("DETAIL"))
	}
	at := e.Time.In(c.client().location())
	if day := at.Format("2006-01-02") + " (" + at.Format("MST") + ")"; day != t.day {
		t.day = day
		b.WriteString(strings.Repeat(" ", evSeqW) + evGap + day + "\n")
	}
	typ := string(e.Type)
	if c.lang == langID { // English keeps the log's own words, which scripts grep for
		typ = c.text().Event(e.Type)
	}
	who, actorShown := e.Person, false
	if e.Actor != "" {
		who, actorShown = e.Actor, true
	}
	t.line(&b, strconv.FormatUint(e.Seq, 10), at.Format("15:04:05"), typ, dash(e.Door), dash(who), c.eventDetail(e, actorShown))
	_, err := io.WriteString(c.stdout, b.String())
	return err
}

// line writes one row of the table; every cell is escaped and cut.
func (t *eventTable) line(b *strings.Builder, seq, at, typ, door, who, detail string) {
	row := pad("", evSeqW-len(seq)) + cut(seq, max(evSeqW, len(seq))) + evGap +
		pad(cut(at, evTimeW), evTimeW) + evGap +
		pad(cut(typ, t.typeW), t.typeW) + evGap +
		pad(cut(door, evDoorW), evDoorW) + evGap +
		pad(cut(who, evWhoW), evWhoW) + evGap +
		cut(detail, evLineW-(evSeqW+evTimeW+t.typeW+evDoorW+evWhoW+5*len(evGap)))
	b.WriteString(strings.TrimRight(row, " ") + "\n")
}

// done ends a table that may have had no rows.
func (t *eventTable) done() error {
	if t.header {
		return nil
	}
	return t.c.say(t.c.tr("no events"))
}

// eventDetail is the DETAIL cell: the decision and its reason, the visit,
// the card when no person holds it, the person when WHO shows the actor,
// then the event's own detail text.
func (c *cli) eventDetail(e controller.Event, actorShown bool) string {
	var parts []string
	if e.Decision != "" {
		d, reason := string(e.Decision), string(e.Reason)
		if c.lang == langID {
			d = c.tr(d)
			if reason != "" {
				reason = c.text().Reason(e.Reason)
			}
		}
		if reason != "" {
			d += " (" + reason + ")"
		}
		parts = append(parts, d)
	}
	if e.Visit != "" {
		parts = append(parts, e.Visit)
	}
	if e.Card != "" && e.Person == "" {
		parts = append(parts, c.tr("card %s", e.Card))
	}
	if actorShown && e.Person != "" && e.Person != e.Actor {
		parts = append(parts, e.Person)
	}
	s := strings.Join(parts, ", ")
	if d := oneLine(e.Detail); d != "" {
		if s != "" {
			s += ": "
		}
		s += d
	}
	return s
}
