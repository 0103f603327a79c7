package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
)

// CSVColumns are the columns of the CSV export, one row per audit event.
// time is the site's wall-clock time to the second (zone names the zone),
// time_utc the stored time to the nanosecond; with prev, hash and records
// (the records the event sealed, as the JSON array the hash covers; empty
// for none), the columns an auditor needs to recompute the hash chain (see
// Neutralise).
var CSVColumns = []string{"seq", "time", "zone", "time_utc", "type", "door", "reader", "card",
	"person", "person_name", "visit", "visit_purpose", "decision", "reason", "actor", "actor_name",
	"via", "detail", "clock_trusted", "prev", "hash", "records"}

// BOM is the UTF-8 byte order mark that starts the CSV, so that Excel
// reads it as UTF-8 rather than the machine's code page.
const BOM = "\uFEFF"

// CSVOptions configure a CSV writer. Zero means default.
type CSVOptions struct {
	// Delimiter is ',' (the default) or ';', which Excel set to Indonesian
	// expects.
	Delimiter rune
	// Location is the site's time zone. Default UTC.
	Location *time.Location
	// People and Visits resolve ids to names and purposes.
	People []controller.Person
	Visits []controller.Visit
}

// ParseDelimiter reads a delimiter as given on a command line or in a
// query: "," or ";" (empty means ",").
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "", ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	}
	return 0, fmt.Errorf("report: delimiter %q: want , or ;", s)
}

// CSVWriter writes audit events as spreadsheet-safe CSV.
type CSVWriter struct {
	buf      *bufio.Writer // holds the header with the first rows, so nothing is sent before the log is read
	w        *csv.Writer
	loc      *time.Location
	names    map[string]string
	purposes map[string]string
	row      []string
}

// NewCSV writes the byte order mark and the header to w and returns a
// writer for the rows.
func NewCSV(w io.Writer, opts CSVOptions) (*CSVWriter, error) {
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	if opts.Delimiter != ',' && opts.Delimiter != ';' {
		return nil, fmt.Errorf("report: delimiter %q: want , or ;", opts.Delimiter)
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	buf := bufio.NewWriter(w)
	c := &CSVWriter{buf: buf, w: csv.NewWriter(buf), loc: opts.Location, names: map[string]string{}, purposes: map[string]string{},
		row: make([]string, len(CSVColumns))}
	c.w.Comma = opts.Delimiter
	for _, p := range opts.People {
		c.names[p.ID] = p.Name
	}
	for _, v := range opts.Visits {
		c.purposes[v.ID] = v.Purpose
	}
	if _, err := buf.WriteString(BOM); err != nil {
		return nil, err
	}
	if err := c.w.Write(CSVColumns); err != nil {
		return nil, err
	}
	return c, nil
}

// Write writes one event. Rows are buffered; Flush writes them out.
func (c *CSVWriter) Write(e controller.Event) error {
	t := e.Time.In(c.loc)
	r := c.row
	r[0] = strconv.FormatUint(e.Seq, 10)
	r[1] = t.Format("2006-01-02 15:04:05")
	r[2] = zoneAbbr(t, c.loc)
	r[3] = e.Time.UTC().Format(time.RFC3339Nano)
	r[4] = string(e.Type)
	r[5], r[6], r[7] = e.Door, e.Reader, e.Card
	r[8], r[9] = e.Person, c.names[e.Person]
	r[10], r[11] = e.Visit, c.purposes[e.Visit]
	r[12], r[13] = string(e.Decision), string(e.Reason)
	r[14], r[15] = e.Actor, c.names[e.Actor]
	r[16] = e.Via
	r[17] = e.Detail
	r[18] = strconv.FormatBool(e.ClockTrusted)
	r[19], r[20] = e.Prev, e.Hash
	r[21] = ""
	if len(e.Records) > 0 {
		b, err := json.Marshal(e.Records)
		if err != nil {
			return fmt.Errorf("report: event %d: records: %w", e.Seq, err)
		}
		r[21] = string(b)
	}
	for i := range r {
		r[i] = Neutralise(r[i])
	}
	return c.w.Write(r)
}

// Flush writes the buffered rows and reports any error so far.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

// Neutralise makes a cell that a spreadsheet would read as a formula (one
// starting with =, +, -, @, a tab or a carriage return) plain text by
// putting an apostrophe in front. A cell that already starts with an
// apostrophe gets one more, so the rule reverses exactly: drop one leading
// apostrophe from every cell that has one (Unneutralise).
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// Unneutralise is Neutralise undone: the cell as it was stored.
func Unneutralise(s string) string { return strings.TrimPrefix(s, "'") }
