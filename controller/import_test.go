package controller_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller"
)

func TestParseImport(t *testing.T) {
	tests := []struct {
		name string
		in   string
		rows []controller.ImportRow
		bad  []controller.LineError
	}{
		{"commas, header", "id,name,roles,organisation,card\nadi,Adi Saputra,admin,Diskominfo,C-1\n",
			[]controller.ImportRow{{Line: 2, ID: "adi", Name: "Adi Saputra", Roles: []controller.Role{"admin"}, Org: "Diskominfo", Card: "C-1"}}, nil},
		{"byte order mark, semicolons, two roles with a comma, quoted", "\ufeffid;name;roles;organisation;card\r\nkabid;\"Rina; Kepala\";head,admin;;C-2\r\n",
			[]controller.ImportRow{{Line: 2, ID: "kabid", Name: "Rina; Kepala", Roles: []controller.Role{"head", "admin"}, Card: "C-2"}}, nil},
		{"no header, roles with + and spaces, no card, blank line", "oki,Oki,officer + coordinator,,\n\nputri,Putri,officer,,\n",
			[]controller.ImportRow{
				{Line: 1, ID: "oki", Name: "Oki", Roles: []controller.Role{"officer", "coordinator"}},
				{Line: 3, ID: "putri", Name: "Putri", Roles: []controller.Role{"officer"}}}, nil},
		{"columns missing", "oki,Oki,officer\n", nil,
			[]controller.LineError{{Line: 1, Problem: `3 columns, want 5 (id, name, roles, organisation, card) separated by ','`}}},
		{"bad quote", "oki,\"Oki,officer,,\n", nil, []controller.LineError{{Line: 1, Problem: `extraneous or missing " in quoted-field`}}},
		{"not UTF-8, control characters", "oki,Ok\xff,officer,Org\x07,C\n", nil, []controller.LineError{
			{Line: 1, Column: "name", Problem: "not UTF-8 text (save the file as UTF-8)"},
			{Line: 1, Column: "organisation", Problem: "contains control characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, bad, err := controller.ParseImport(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.rows, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bad, bad); diff != "" {
				t.Errorf("bad lines (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseImport(f *testing.F) {
	for _, s := range []string{"id,name,roles,organisation,card\nadi,Adi,admin,,C-1\n", "\ufeffa;b;c;d;e\n", "\"", "a,b\n\"x\"y,,,,\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rows, bad, err := controller.ParseImport(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Line < 1 {
				t.Fatalf("row %+v without a line", r)
			}
		}
		for _, b := range bad {
			if b.Line < 1 || b.Problem == "" {
				t.Fatalf("bad line %+v without a line or a problem", b)
			}
		}
	})
}

func importFile(lines ...string) []controller.ImportRow {
	rows, bad, err := controller.ParseImport(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil || len(bad) > 0 {
		panic(fmt.Sprint(err, bad))
	}
	return rows
}

// TestImportRefusesBadLines: one bad line and nothing is imported; the
// report names every bad line's line, column and problem.
func TestImportRefusesBadLines(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		before := len(h.events())
		rows := importFile(
			"id,name,roles,organisation,card",
			"ani,Ani,officer,Diskominfo,C-ANI",
			"Budi Santoso,Budi,officer,,C-B",     // id not allowed
			"dewi,Dewi,janitor,,C-D",             // unknown role
			"eka,Eka,officer,,card-oki",          // the card is oki's
			"fajar,Fajar,officer,,C-ANI",         // the card twice in the file
			"ani,Ani again,officer,,",            // the id twice in the file
			"oki,Oki Changed,officer,,",          // registered, with other details
			"gita,,visitor,,",                    // no name
			"hadi,Hadi,visitor+officer,,C-H",     // a visitor cannot be staff
			strings.Repeat("x", 65)+",X,admin,,", // too long
			"root,Root,officer,,",                // reserved for the actor root
		)
		_, err := h.c.Import(h.ctx(), rows, root, nil)
		var ie *controller.ImportError
		if !errors.As(err, &ie) || !errors.Is(err, controller.ErrInvalid) {
			t.Fatalf("Import() = %v, want an *ImportError", err)
		}
		got := make([]string, len(ie.Lines))
		for i, l := range ie.Lines {
			got[i] = l.String()
		}
		want := []string{
			`line 3, column id: person id "Budi Santoso" may hold only a-z, 0-9, '.', '_' and '-'; it has 'B' (U+0042) at byte 0`,
			`line 4, column roles: person "dewi": unknown role "janitor" (want one of admin, coordinator, head, officer, visitor)`,
			`line 5, column card: card "card-oki" is assigned to "oki"; revoke it first`,
			`line 6, column card: card "C-ANI" is also on line 2`,
			`line 7, column id: person id "ani" is also on line 2`,
			`line 8, column id: person "oki" is already registered, with other details`,
			`line 9, column name: name is empty`,
			`line 10, column roles: person "hadi": a visitor cannot also hold a staff role`,
			`line 11, column id: person id is 65 bytes long; at most 64`,
			`line 12, column id: person id "root" is reserved: the log records root as an actor that is not a person`,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("bad lines (-want +got):\n%s", diff)
		}
		if n := len(h.events()); n != before {
			t.Errorf("a refused import wrote %d events", n-before)
		}
		if _, err := h.c.Person(h.ctx(), "ani"); !errors.Is(err, controller.ErrNotFound) {
			t.Errorf("a good line of a refused import was registered: %v", err)
		}
	})
}

// TestImport: a good file is registered in chunks, each line one event
// sealing the person and the card, framed by import_started and
// import_finished; the cards open the door; importing it again changes
// nothing.
// TestImportVisitorsByAdmin: admin staff register visitors, so they may
// import a file of visitors, and the log names them.
func TestImportVisitorsByAdmin(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		res, err := h.c.Import(h.ctx(), importFile("id;name;roles;organisation;card", "tamu1;Tamu Satu;visitor;PT A;", "tamu2;Tamu Dua;visitor;PT B;C-T2"), as("adi"), nil)
		if err != nil || res.Imported != 2 {
			t.Fatalf("admin importing visitors = %+v, %v; want 2 imported", res, err)
		}
		if e := h.events()[res.First-1]; e.Type != controller.EventImportStarted || e.Actor != "adi" {
			t.Errorf("import started by %q (%s), want adi", e.Actor, e.Type)
		}
	})
}

func TestImport(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		h.cast()
		lines := []string{"id,name,roles,organisation,card"}
		const n = 2500
		for i := range n {
			lines = append(lines, fmt.Sprintf("staff%04d,Staf %d,officer,Diskominfo,C%05d", i, i, i))
		}
		lines = append(lines, "oki,Oki,officer,,card-oki") // already registered so
		rows := importFile(lines...)
		var progress []int
		// Staff in the file: only the head (or root) imports it.
		before := len(h.events())
		if _, err := h.c.Import(h.ctx(), rows, as("adi"), nil); !errors.Is(err, controller.ErrWrongRole) {
			t.Fatalf("admin staff importing staff = %v, want ErrWrongRole", err)
		}
		if evs := h.events(); len(evs) != before+1 || evs[before].Type != controller.EventRefused || evs[before].Actor != "adi" {
			t.Fatalf("a refused import wrote %+v, want one refused event", evs[before:])
		}
		res, err := h.c.Import(h.ctx(), rows, as("hasan"), func(done, of int) { progress = append(progress, done) })
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != n || res.Unchanged != 1 || res.Lines != n+1 || res.Last-res.First != n+1 {
			t.Errorf("Import() = %+v, want %d imported, 1 unchanged, framed by two events", res, n)
		}
		if !cmp.Equal(progress, []int{1001, 2001, 2501}) {
			t.Errorf("progress = %v, want after each chunk of 1000", progress)
		}
		evs := h.events()
		if evs[res.First-1].Type != controller.EventImportStarted || evs[res.Last-1].Type != controller.EventImportFinished {
			t.Errorf("import framed by %s and %s", evs[res.First-1].Type, evs[res.Last-1].Type)
		}
		e := evs[res.First]
		if e.Type != controller.EventPersonImported || e.Person != "staff0000" || e.Card != "C00000" || e.Actor != "hasan" || e.Via != controller.ViaSocket || len(e.Records) != 2 {
			t.Errorf("first imported line's event = %+v", e)
		}
		if r := h.c; r != nil {
			res, err := r.Tap(h.ctx(), "server-room", "entry", "C02499")
			if err != nil || res.Decision != controller.Granted || res.Person != "staff2499" {
				t.Errorf("an imported card's read = %+v, %v; want granted", res, err)
			}
		}
		rep, err := h.c.Verify(h.ctx(), nil)
		if err != nil || len(rep.Breaks) != 0 || rep.Records < 2*n {
			t.Errorf("Verify() after the import = %d records, %v, %v", rep.Records, rep.Breaks, err)
		}
		again, err := h.c.Import(h.ctx(), rows, root, nil)
		if err != nil || again.Imported != 0 || again.Unchanged != n+1 || again.First != 0 {
			t.Errorf("the same import again = %+v, %v; want every line unchanged, nothing written", again, err)
		}
		h.restart()
		if st := h.status(); !strings.HasPrefix(h.events()[len(h.events())-1].Detail, fmt.Sprintf("1 doors, %d people", n+7)) {
			t.Errorf("start after the import: %+v, last event %q; want %d people counted", st.Site, h.events()[len(h.events())-1].Detail, n+7)
		}
	})
}
