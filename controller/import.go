package controller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the bulk import of people with their cards (pintuctl person
// import FILE.csv): how an office loads its staff list.
//
// An import is all or nothing for its input: every line is checked first
// (its fields, duplicates within the file, and ids and cards already
// registered) and one bad line means nothing is written, with a report of
// every bad line. A good file is then written in chunks of importChunk
// lines, each one step and one commit, so that a large import never holds
// the controller for more than a few milliseconds: card reads go on in
// between. While it runs, no one else may register a person or assign a
// card (ErrBusy), so the check made first still holds for the last chunk.
// The log frames it: import_started (lines, and the digest of what is
// imported), one person_imported event per new line, which seals the
// person and the card, then import_finished.
//
// If a commit fails part way (a full disk), the chunks before it stay, and
// the error says how far it got. Importing the same file again then
// finishes the job: a line that matches what is registered (the same
// person with the same card) is counted unchanged, not refused.

// importChunk is how many lines one step of an import writes.
const importChunk = 1000

// ImportRow is one line of an import file.
type ImportRow struct {
	Line  int    // the line number in the file, from 1
	ID    string // person id
	Name  string
	Roles []Role
	Org   string
	Card  string // empty: no card
}

// LineError is a bad line of an import file.
type LineError struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"` // id, name, roles, organisation, card
	Problem string `json:"problem"`
}

func (e LineError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Problem)
}

// ImportError is an import refused for its bad lines; nothing was written.
type ImportError struct {
	Lines []LineError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import refused, nothing imported: %d bad line", len(e.Lines))
	if len(e.Lines) != 1 {
		b.WriteString("s")
	}
	for i, l := range e.Lines {
		if i == 20 {
			fmt.Fprintf(&b, "; and %d more", len(e.Lines)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(l.String())
	}
	return b.String()
}

func (e *ImportError) Unwrap() error { return ErrInvalid }

// ImportResult says what an import did.
type ImportResult struct {
	Lines     int    `json:"lines"`
	Imported  int    `json:"imported"`
	Unchanged int    `json:"unchanged"` // already registered exactly so
	First     uint64 `json:"first_seq,omitempty"`
	Last      uint64 `json:"last_seq,omitempty"`
}

// The columns of an import file, in order.
var importColumns = []string{"id", "name", "roles", "organisation", "card"}

// maxImportField bounds a field of an import file.
const maxImportField = 256

// ParseImport reads an import file: CSV in UTF-8, with or without a byte
// order mark, separated by "," or ";" (whichever the first line uses
// more), with the columns id, name, roles, organisation and card, and an
// optional header line naming them. Roles in one field are separated by
// spaces, "|" or "+" (or the other separator). It returns the rows and
// every line that cannot be read; CheckImport checks what they say.
func ParseImport(r io.Reader) ([]ImportRow, []LineError, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read import file: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sep := ','
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		sep = ';'
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma, cr.FieldsPerRecord, cr.ReuseRecord = sep, -1, true
	var rows []ImportRow
	var bad []LineError
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{Line: pe.Line, Problem: pe.Err.Error()})
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					continue
				}
			}
			return nil, nil, fmt.Errorf("read import file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if n == 0 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "id") {
			continue // the header
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		row, errs := parseRow(line, rec, sep)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseRow(line int, rec []string, sep rune) (ImportRow, []LineError) {
	var bad []LineError
	if len(rec) != len(importColumns) {
		return ImportRow{}, []LineError{{Line: line, Problem: fmt.Sprintf("%d columns, want %d (%s) separated by %q",
			len(rec), len(importColumns), strings.Join(importColumns, ", "), sep)}}
	}
	for i, f := range rec {
		switch {
		case !utf8.ValidString(f):
			bad = append(bad, LineError{Line: line, Column: importColumns[i], Problem: "not UTF-8 text (save the file as UTF-8)"})
		case len(f) > maxImportField:
			bad = append(bad, LineError{Line: line, Column: importColumns[i], Problem: fmt.Sprintf("longer than %d bytes", maxImportField)})
		case strings.ContainsFunc(f, isControl):
			bad = append(bad, LineError{Line: line, Column: importColumns[i], Problem: "contains control characters"})
		}
	}
	if len(bad) > 0 {
		return ImportRow{}, bad
	}
	row := ImportRow{Line: line, ID: strings.TrimSpace(rec[0]), Name: strings.TrimSpace(rec[1]),
		Org: strings.TrimSpace(rec[3]), Card: strings.TrimSpace(rec[4])}
	for _, r := range strings.FieldsFunc(rec[2], func(r rune) bool {
		return r == ' ' || r == '|' || r == '+' || r == ',' || r == ';' || r == '\t'
	}) {
		row.Roles = append(row.Roles, Role(r))
	}
	return row, nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// importLine is a checked line: the person and card to register, or
// nothing to do.
type importLine struct {
	row       ImportRow
	person    Person
	unchanged bool
}

// checkImport checks every row's fields, duplicates within the file, and
// the ids and cards already registered, reading the store directly (off
// the Run goroutine). It returns the lines to write, or every bad line.
func checkImport(store RecordStore, rows []ImportRow) ([]importLine, []LineError, error) {
	var bad []LineError
	ids := make(map[string]int, len(rows))
	cards := make(map[string]int, len(rows))
	lines := make([]importLine, 0, len(rows))
	for _, r := range rows {
		n := len(bad)
		col := func(c string, err error) {
			msg := strings.ReplaceAll(err.Error(), ErrInvalid.Error()+": ", "")
			bad = append(bad, LineError{Line: r.Line, Column: c, Problem: msg})
		}
		if err := validID("person id", r.ID); err != nil {
			col("id", err)
		} else if slices.Contains(reservedIDs, r.ID) {
			col("id", fmt.Errorf("person id %q is reserved: the log records %s as an actor that is not a person", r.ID, r.ID))
		} else if prev, dup := ids[r.ID]; dup {
			col("id", fmt.Errorf("person id %q is also on line %d", r.ID, prev))
		} else {
			ids[r.ID] = r.Line
		}
		if r.Name == "" {
			col("name", errors.New("name is empty"))
		} else if err := CheckText("name", r.Name, MaxNameLen, false); err != nil {
			col("name", err)
		}
		if err := CheckText("organisation", r.Org, MaxNameLen, false); err != nil {
			col("organisation", err)
		}
		roles, err := checkRoles(r.ID, r.Roles)
		if err != nil {
			col("roles", err)
		}
		if r.Card != "" {
			if err := validID("card", r.Card); err != nil {
				col("card", err)
			} else if prev, dup := cards[r.Card]; dup {
				col("card", fmt.Errorf("card %q is also on line %d", r.Card, prev))
			} else {
				cards[r.Card] = r.Line
			}
		}
		if len(bad) > n {
			continue
		}
		p := Person{ID: r.ID, Name: r.Name, Roles: roles, Org: r.Org}
		l := importLine{row: r, person: p}
		old, had, err := store.Person(r.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: read person %s: %w", r.Line, r.ID, err)
		}
		if had {
			if old.Name != p.Name || !slices.Equal(old.Roles, p.Roles) || old.Org != p.Org || old.Disabled {
				col("id", fmt.Errorf("person %q is already registered, with other details", r.ID))
				continue
			}
			l.unchanged = true
		}
		if r.Card != "" {
			c, held, err := store.Card(r.Card)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: read card %s: %w", r.Line, r.Card, err)
			}
			switch {
			case held && !c.Revoked && c.PersonID != r.ID:
				col("card", fmt.Errorf("card %q is assigned to %q; revoke it first", r.Card, c.PersonID))
				continue
			case held && !c.Revoked && !had:
				col("card", fmt.Errorf("card %q is assigned to %q, who is not registered", r.Card, c.PersonID))
				continue
			case had && !(held && !c.Revoked):
				col("card", fmt.Errorf("person %q is already registered without card %q", r.ID, r.Card))
				continue
			}
		}
		lines = append(lines, l)
	}
	return lines, bad, nil
}

// importDigest is the SHA-256 of what an import writes, line by line: the
// import_started event carries it.
func importDigest(lines []importLine) string {
	h := sha256.New()
	for _, l := range lines {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\n", l.person.ID, l.person.Name, rolesText(l.person.Roles), l.person.Org, l.row.Card)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Import registers people with their cards, all or nothing for the input
// (see the comment at the top of this file). Rows come from ParseImport
// or a caller's own list; progress, if not nil, hears how many lines are
// written after each chunk. Bad lines are an *ImportError.
func (c *Controller) Import(ctx context.Context, rows []ImportRow, by Actor, progress func(done, of int)) (ImportResult, error) {
	res := ImportResult{Lines: len(rows)}
	if len(rows) == 0 {
		return res, fmt.Errorf("%w: the import file has no lines", ErrInvalid)
	}
	// Who may import is who may register each line: root anyone, the
	// head staff, admin staff, coordinators and the head visitors.
	// A role the file misspells is its line's error, reported below, not
	// a reason to refuse the importer.
	known := func(r Role) bool { return slices.Contains(Roles, r) }
	var kinds []Person
	for _, want := range []bool{false, true} {
		if slices.ContainsFunc(rows, func(r ImportRow) bool {
			return slices.ContainsFunc(r.Roles, func(x Role) bool { return known(x) && (x == RoleVisitor) == want })
		}) {
			if want {
				kinds = append(kinds, Person{Roles: []Role{RoleVisitor}})
			} else {
				kinds = append(kinds, Person{Roles: []Role{RoleOfficer}})
			}
		}
	}
	var authErr error
	if err := c.do(ctx, func(now time.Time) {
		for _, k := range kinds {
			if authErr = c.st.mayManage(by, k); authErr != nil {
				break
			}
		}
		switch {
		case errors.Is(authErr, ErrIntegrity):
			c.process(c.st.faultStep(now, authErr))
			return
		case refusal(authErr):
			c.process(c.st.refused(now, by, fmt.Sprintf("import %d people", len(rows)), Event{}, authErr))
			return
		case authErr != nil:
			return
		}
		if c.st.importing {
			res.Lines = -1
			return
		}
		c.st.importing = true
	}); err != nil {
		return ImportResult{}, err
	}
	if authErr != nil {
		return ImportResult{}, authErr
	}
	if res.Lines < 0 {
		return ImportResult{}, fmt.Errorf("%w: another import is in progress", ErrBusy)
	}
	defer c.do(context.WithoutCancel(ctx), func(time.Time) { c.st.importing = false })

	lines, bad, err := checkImport(c.store, rows)
	if err != nil {
		c.StoreFault(ctx, err)
		return ImportResult{}, fmt.Errorf("check import: %w", err)
	}
	if len(bad) > 0 {
		return ImportResult{}, &ImportError{Lines: bad}
	}
	var todo []importLine
	for _, l := range lines {
		if l.unchanged {
			res.Unchanged++
		} else {
			todo = append(todo, l)
		}
	}
	if len(todo) == 0 {
		return res, nil
	}
	digest := importDigest(todo)
	for i := 0; i <= len(todo); i += importChunk {
		chunk := todo[i:min(i+importChunk, len(todo))]
		first, last := i == 0, i+importChunk >= len(todo)
		err := c.run(ctx, func(now time.Time) (*step, error) {
			st := c.st.begin(now)
			if first {
				res.First = st.emit(Event{Type: EventImportStarted, Actor: by.Name(), Via: by.via(),
					Detail: fmt.Sprintf("%d lines, %d new people, %d already registered; sha256 %s", len(rows), len(todo), res.Unchanged, digest)})
			}
			for _, l := range chunk {
				if err := c.st.importLine(st, now, l, by); err != nil {
					return nil, fmt.Errorf("line %d: %w", l.row.Line, err)
				}
			}
			if last {
				res.Last = st.emit(Event{Type: EventImportFinished, Actor: by.Name(), Via: by.via(),
					Detail: fmt.Sprintf("%d people imported (events #%d to #%d), %d already registered", len(todo), res.First+1, st.lastSeq, res.Unchanged)})
			}
			return st, nil
		})
		if err != nil {
			if res.Imported == 0 {
				return ImportResult{}, fmt.Errorf("import: %w", err)
			}
			return res, fmt.Errorf("import stopped after %d of %d new people (events #%d onwards); import the same file again to finish: %w",
				res.Imported, len(todo), res.First, err)
		}
		res.Imported += len(chunk)
		if progress != nil {
			progress(res.Imported+res.Unchanged, len(rows))
		}
		if last {
			break
		}
	}
	return res, nil
}

// importLine writes one new person and card into st, checking again
// through the checked records that nothing took their place.
func (s *state) importLine(st *step, now time.Time, l importLine, by Actor) error {
	if _, ok := st.person(l.person.ID); ok {
		return fmt.Errorf("%w: person %q", ErrExists, l.person.ID)
	}
	seals := []sealer{st.sealPerson(l.person)}
	if l.row.Card != "" {
		if c, ok := st.card(l.row.Card); ok && !c.Revoked {
			return fmt.Errorf("%w: card %q is assigned to %q", ErrExists, l.row.Card, c.PersonID)
		}
		seals = append(seals, st.sealCard(Card{ID: l.row.Card, PersonID: l.person.ID, AssignedAt: now.UTC()}))
	}
	if st.faulted() {
		return st.faults[0]
	}
	st.newPeople++
	st.emit(Event{Type: EventPersonImported, Person: l.person.ID, Card: l.row.Card, Actor: by.Name(), Via: by.via(), Detail: rolesText(l.person.Roles)}, seals...)
	return nil
}
