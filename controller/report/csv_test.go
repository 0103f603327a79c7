package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/report"
)

func TestNeutralise(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+62 812 555", "'+62 812 555"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"'quoted", "''quoted"},
		{"", ""},
		{"Vina", "Vina"},
		{" =1", " =1"}, // a spreadsheet does not read a leading space as a formula
		{"2026-11-02 09:00:00", "2026-11-02 09:00:00"},
	} {
		got := report.Neutralise(tt.in)
		if got != tt.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back := report.Unneutralise(got); back != tt.in {
			t.Errorf("Unneutralise(Neutralise(%q)) = %q", tt.in, back)
		}
	}
}

// siteCSV exports the whole log of the site's day.
func siteCSV(t *testing.T, s *site, delim rune) []byte {
	t.Helper()
	visits, err := s.ctrl.AllVisits(context.Background())
	s.must(err)
	var b bytes.Buffer
	w, err := report.NewCSV(&b, report.CSVOptions{Delimiter: delim, Location: zone(t, "Asia/Jakarta"), People: s.people(), Visits: visits})
	s.must(err)
	s.must(s.store.Events(controller.EventQuery{}, w.Write))
	s.must(w.Flush())
	return b.Bytes()
}

func TestCSV(t *testing.T) {
	s := newSite(t)
	s.must(s.ctrl.AddPerson(context.Background(), controller.Person{ID: "formula", Name: "@SUM(1+1)*cmd", Roles: []controller.Role{controller.RoleOfficer}}, root))
	s.day()
	for _, delim := range []rune{',', ';'} {
		t.Run(string(delim), func(t *testing.T) {
			out := siteCSV(t, s, delim)
			if !bytes.HasPrefix(out, []byte(report.BOM)) {
				t.Fatalf("CSV starts %q, want the UTF-8 BOM", out[:8])
			}
			// Read with the other delimiter, a whole row is one cell: the
			// file really uses the one asked for.
			r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte(report.BOM))))
			r.Comma = delim
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rows[0], ","); got != strings.Join(report.CSVColumns, ",") {
				t.Fatalf("header = %s", got)
			}
			col := map[string]int{}
			for i, c := range rows[0] {
				col[c] = i
			}
			var seen struct{ name, purpose, formula, reject bool }
			for _, row := range rows[1:] {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("cell %q of seq %s would be read as a formula", cell, row[0])
					}
				}
				if row[col["person"]] == "vina" && row[col["person_name"]] == "Vina Maharani" {
					seen.name = true
				}
				if row[col["visit"]] == "V0001" && row[col["visit_purpose"]] == "ganti disk di rak 3 (replace a disk in rack 3)" {
					seen.purpose = true
				}
				if row[col["visit"]] == "V0002" && row[col["visit_purpose"]] == "'=cmd|' /C calc'!A0" {
					seen.formula = true
				}
				if row[col["detail"]] == "reject: tanda pengenal tidak sah" && row[col["actor_name"]] == "Hasan Basri" {
					seen.reject = true
				}
			}
			if !seen.name || !seen.purpose || !seen.formula || !seen.reject {
				t.Errorf("rows lack a resolved name, purpose, neutralised formula or named actor: %+v", seen)
			}
			first := rows[1]
			if first[col["time"]] != "2026-11-02 09:00:00" || first[col["zone"]] != "WIB" || first[col["time_utc"]] != "2026-11-02T02:00:00Z" {
				t.Errorf("first row's times = %q %q %q", first[col["time"]], first[col["zone"]], first[col["time_utc"]])
			}
		})
	}
}

// TestCSVRecomputesChain is the README's recipe: drop one leading
// apostrophe from every cell, then each row's hash recomputes from its
// columns and the row before.
func TestCSVRecomputesChain(t *testing.T) {
	s := newSite(t)
	s.day()
	_, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(siteCSV(t, s, ';'), []byte(report.BOM)))).ReadAll()
	if err == nil {
		t.Fatal("a ;-separated file read as ,-separated without error: the delimiter is not ;")
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(siteCSV(t, s, ';'), []byte(report.BOM))))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	var v controller.Verifier
	for _, row := range rows[1:] {
		for i := range row {
			row[i] = report.Unneutralise(row[i])
		}
		seq, _ := strconv.ParseUint(row[col["seq"]], 10, 64)
		tm, err := time.Parse(time.RFC3339Nano, row[col["time_utc"]])
		if err != nil {
			t.Fatal(err)
		}
		e := controller.Event{Seq: seq, Time: tm, Type: controller.EventType(row[col["type"]]), Door: row[col["door"]],
			Reader: row[col["reader"]], Card: row[col["card"]], Person: row[col["person"]], Visit: row[col["visit"]],
			Decision: controller.Decision(row[col["decision"]]), Reason: controller.Reason(row[col["reason"]]),
			Actor: row[col["actor"]], Via: row[col["via"]], Detail: row[col["detail"]], ClockTrusted: row[col["clock_trusted"]] == "true",
			Prev: row[col["prev"]], Hash: row[col["hash"]]}
		if s := row[col["records"]]; s != "" {
			if err := json.Unmarshal([]byte(s), &e.Records); err != nil {
				t.Fatalf("row %v: records: %v", row, err)
			}
		}
		if err := v.Next(e); err != nil {
			t.Fatalf("row %v: %v", row, err)
		}
	}
	if v.Count() < 40 {
		t.Fatalf("verified %d events, want the whole day", v.Count())
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"": ',', ",": ',', ";": ';', "semicolon": ';'} {
		if got, err := report.ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"\t", "|", ";;"} {
		if _, err := report.ParseDelimiter(bad); err == nil {
			t.Errorf("ParseDelimiter(%q) = nil error", bad)
		}
	}
	if _, err := report.NewCSV(new(bytes.Buffer), report.CSVOptions{Delimiter: '|'}); err == nil {
		t.Error("NewCSV with | = nil error")
	}
}
