package report

import (
	"bytes"
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"
)

// xcol is a spreadsheet column: its header and width in characters.
type xcol struct {
	title text
	width float64
}

// ComplianceXLSX renders the SOP time-compliance report as a workbook with
// one sheet per view (per step, per visit, rejected, still open). Counts
// are number cells, times are date cells in the site's zone, durations are
// time cells ([h]:mm:ss) that add up; nothing is a formula. Every sheet has
// its header row frozen and its columns sized.
func ComplianceXLSX(in ComplianceInput) ([]byte, error) {
	c, err := computeCompliance(in)
	if err != nil {
		return nil, err
	}
	in, lang := c.in, c.in.Lang
	who := newPeople(in.People)

	f := excelize.NewFile()
	defer f.Close()
	x := &workbook{f: f, loc: in.Location}
	if err := x.styles(); err != nil {
		return nil, err
	}
	f.SetDocProps(&excelize.DocProperties{
		Title:   lang.t(text{"Laporan Kepatuhan Waktu SOP", "SOP Time-Compliance Report"}),
		Subject: fmt.Sprintf("%s · %s – %s", in.Site, clock{in.Location}.at(in.From), clock{in.Location}.at(in.Until)),
		Creator: "Pintu", Language: string(lang),
		Created: in.Now.UTC().Format(time.RFC3339), Modified: in.Now.UTC().Format(time.RFC3339),
	})

	// Per step.
	var rows [][]any
	for _, s := range c.steps {
		var median, p90, share any = "", "", ""
		if s.n() > 0 {
			median, p90 = x.dur(s.rank(0.5)), x.dur(s.rank(0.9))
			share = excelize.Cell{StyleID: x.pct, Value: float64(s.over) / float64(s.n())}
		}
		rows = append(rows, []any{s.step, lang.stepName(s.step), lang.roleName(stepRole[s.step-1]), x.dur(s.standard),
			s.n(), median, p90, s.over, share, x.dur(s.overTotal), x.dur(s.overMax)})
	}
	if err := x.sheet(lang.t(text{"Per langkah", "Per step"}), []xcol{
		{text{"No", "No"}, 5}, {text{"Aktivitas", "Activity"}, 48}, {text{"Pelaksana", "Taken by"}, 34},
		{text{"Mutu baku", "Standard"}, 11}, {text{"Jumlah kunjungan", "Visits"}, 17}, {text{"Median", "Median"}, 11},
		{text{"Persentil ke-90", "90th percentile"}, 16}, {text{"Melebihi mutu baku", "Over the standard"}, 19},
		{text{"Melebihi (%)", "Over (%)"}, 12}, {text{"Kelebihan total", "Total excess"}, 15},
		{text{"Kelebihan terbesar", "Largest excess"}, 18},
	}, lang, rows); err != nil {
		return nil, err
	}

	// Per visit.
	rows = rows[:0]
	for _, v := range c.visits {
		s1, _ := v.Step(1)
		row := []any{v.ID, who.name(v.VisitorID), v.Org, x.date(s1.At), lang.stateName(v.State)}
		over := 0
		for n := 1; n <= 8; n++ {
			s, ok := v.Step(n)
			switch {
			case !ok || s.At.IsZero():
				row = append(row, "")
			case s.Standard > 0 && s.Took() > s.Standard:
				over++
				row = append(row, excelize.Cell{StyleID: x.durOver, Value: s.Took().Hours() / 24})
			default:
				row = append(row, x.dur(s.Took()))
			}
		}
		rows = append(rows, append(row, over))
	}
	cols := []xcol{{text{"Kunjungan", "Visit"}, 11}, {text{"Pengunjung", "Visitor"}, 30}, {text{"Instansi", "Organisation"}, 26},
		{text{"Diajukan", "Submitted"}, 20}, {text{"Status", "State"}, 22}}
	for n := 1; n <= 8; n++ {
		cols = append(cols, xcol{text{fmt.Sprintf("Langkah %d", n), fmt.Sprintf("Step %d", n)}, 11})
	}
	cols = append(cols, xcol{text{"Langkah melebihi mutu baku", "Steps over the standard"}, 26})
	if err := x.sheet(lang.t(text{"Per kunjungan", "Per visit"}), cols, lang, rows); err != nil {
		return nil, err
	}

	// Rejected.
	rows = rows[:0]
	for _, v := range c.rejected {
		s, _ := v.Step(3)
		rows = append(rows, []any{v.ID, who.name(v.VisitorID), v.Org, v.Purpose, who.name(s.Actor), x.date(s.At), s.Note})
	}
	if err := x.sheet(lang.t(text{"Ditolak", "Rejected"}), []xcol{
		{text{"Kunjungan", "Visit"}, 11}, {text{"Pengunjung", "Visitor"}, 30}, {text{"Instansi", "Organisation"}, 26},
		{text{"Keperluan", "Purpose"}, 36}, {text{"Ditolak oleh", "Rejected by"}, 28}, {text{"Waktu", "Time"}, 20},
		{text{"Alasan", "Reason"}, 40},
	}, lang, rows); err != nil {
		return nil, err
	}

	// Still open.
	rows = rows[:0]
	for _, o := range c.open {
		rows = append(rows, []any{o.v.ID, who.name(o.v.VisitorID), lang.stateName(o.v.State), o.next, lang.stepName(o.next),
			o.waitText(lang, who), x.date(o.since), x.dur(in.Now.Sub(o.since))})
	}
	if err := x.sheet(lang.t(text{"Masih terbuka", "Open"}), []xcol{
		{text{"Kunjungan", "Visit"}, 11}, {text{"Pengunjung", "Visitor"}, 30}, {text{"Status", "State"}, 22},
		{text{"Menunggu langkah", "Waiting for step"}, 17}, {text{"Aktivitas", "Activity"}, 44},
		{text{"Menunggu", "Waiting on"}, 44}, {text{"Sejak", "Since"}, 20}, {text{"Lama menunggu", "Waited"}, 15},
	}, lang, rows); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("report: write xlsx: %w", err)
	}
	return b.Bytes(), nil
}

// workbook holds the styles the sheets share.
type workbook struct {
	f                               *excelize.File
	loc                             *time.Location
	head, dateS, durS, durOver, pct int
	sheets                          int
}

func (x *workbook) styles() error {
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = x.f.NewStyle(s)
		return id
	}
	durFmt, dateFmt := "[h]:mm:ss", "yyyy-mm-dd hh:mm:ss"
	x.head = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8E8E8"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	x.dateS = style(&excelize.Style{CustomNumFmt: &dateFmt})
	x.durS = style(&excelize.Style{CustomNumFmt: &durFmt})
	x.durOver = style(&excelize.Style{CustomNumFmt: &durFmt, Font: &excelize.Font{Bold: true, Color: "B00000"}})
	x.pct = style(&excelize.Style{NumFmt: 9}) // 0%
	if err != nil {
		return fmt.Errorf("report: xlsx styles: %w", err)
	}
	return nil
}

// dur is d as a time cell: a fraction of a day, shown [h]:mm:ss.
func (x *workbook) dur(d time.Duration) excelize.Cell {
	return excelize.Cell{StyleID: x.durS, Value: d.Hours() / 24}
}

// date is t as a date cell showing the site's wall-clock time (a
// spreadsheet date has no zone).
func (x *workbook) date(t time.Time) any {
	if t.IsZero() {
		return ""
	}
	l := t.In(x.loc)
	wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	return excelize.Cell{StyleID: x.dateS, Value: wall}
}

// sheet writes one view: header, frozen, sized columns, then the rows.
func (x *workbook) sheet(name string, cols []xcol, lang Lang, rows [][]any) error {
	if x.sheets == 0 {
		if err := x.f.SetSheetName("Sheet1", name); err != nil {
			return fmt.Errorf("report: xlsx sheet %s: %w", name, err)
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return fmt.Errorf("report: xlsx sheet %s: %w", name, err)
	}
	x.sheets++
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("report: xlsx sheet %s: %w", name, err)
	}
	fail := func(err error) error { return fmt.Errorf("report: xlsx sheet %s: %w", name, err) }
	header := make([]any, len(cols))
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fail(err)
		}
		header[i] = excelize.Cell{StyleID: x.head, Value: lang.t(c.title)}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 30}); err != nil {
		return fail(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		for j, v := range r {
			if s, ok := v.(string); ok {
				r[j] = printable(s) // no control characters in a cell
			}
		}
		if err := sw.SetRow(cell, r); err != nil {
			return fail(err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fail(err)
	}
	return nil
}
