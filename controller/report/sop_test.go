package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/report"
)

func complianceInput(t *testing.T, s *site, lang report.Lang) report.ComplianceInput {
	t.Helper()
	visits, err := s.ctrl.AllVisits(context.Background())
	s.must(err)
	return report.ComplianceInput{Site: "Diskominfo Rejang Lebong", Visits: visits, People: s.people(),
		From: t0.Add(-2 * time.Hour), Until: t0.Add(22 * time.Hour), Now: s.clock.Now(),
		Location: zone(t, "Asia/Jakarta"), Lang: lang}
}

func TestCompliancePDF(t *testing.T) {
	s := newSite(t)
	s.day()
	for _, tt := range []struct {
		lang report.Lang
		want []string
	}{
		{report.Indonesian, []string{
			"LAPORAN KEPATUHAN WAKTU SOP (MUTU BAKU)", "Periode pengajuan: 2026-11-02 07:00:00 WIB sampai 2026-11-03 07:00:00 WIB · 3 kunjungan",
			"Per langkah SOP", "Verifikasi formulir dan", "Kepala Bidang",
			// Step 3 took 7m, 2m and 9m against 5m: median 7m, p90 9m, two over by 6m in all, 4m at most.
			"Kepala Bidang 5m 3 7m 9m ▲ 2 (67%) 6m 4m",
			"Per kunjungan", "V0001", "▲ 12m", // step 6 of V0001 took 12m of 10m
			"Kunjungan ditolak", "V0002", "tanda pengenal tidak sah", "Hasan Basri (hasan)",
			"Kunjungan yang masih terbuka", "V0003", "Vina Maharani (vina) datang bersama", "▲ 20m",
		}},
		{report.English, []string{
			"SOP TIME-COMPLIANCE REPORT (MUTU BAKU)", "Per SOP step", "90th", "Rejected visits", "Visits still open",
			"Vina Maharani (vina) to arrive with an",
		}},
	} {
		t.Run(string(tt.lang), func(t *testing.T) {
			pdf, err := report.CompliancePDF(complianceInput(t, s, tt.lang))
			s.must(err)
			got := pdfText(t, pdf)
			flat := strings.Join(strings.Fields(got), " ") // table columns as single spaces
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("compliance report (%s) lacks %q", tt.lang, w)
				}
			}
			golden(t, "compliance-"+string(tt.lang)+".txt", []byte(got))
			t.Logf("pages 1 and 2 rendered to %s and %s", render(t, pdf, "compliance-"+string(tt.lang), 1),
				render(t, pdf, "compliance-"+string(tt.lang)+"-p2", 2))
		})
	}
}

func TestComplianceXLSX(t *testing.T) {
	s := newSite(t)
	s.day()
	b, err := report.ComplianceXLSX(complianceInput(t, s, report.Indonesian))
	s.must(err)
	f, err := excelize.OpenReader(bytes.NewReader(b))
	s.must(err)
	defer f.Close()

	wantSheets := []string{"Per langkah", "Per kunjungan", "Ditolak", "Masih terbuka"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(wantSheets, "|") {
		t.Fatalf("sheets = %q, want %q", got, wantSheets)
	}
	for _, sh := range wantSheets {
		panes, err := f.GetPanes(sh)
		s.must(err)
		if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Errorf("sheet %s: panes %+v, want the header row frozen", sh, panes)
		}
		w, err := f.GetColWidth(sh, "B")
		s.must(err)
		if w < 25 {
			t.Errorf("sheet %s: column B is %.1f wide, want it sized for names", sh, w)
		}
		rows, err := f.GetRows(sh)
		s.must(err)
		for r, row := range rows {
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if fm, err := f.GetCellFormula(sh, cell); err != nil || fm != "" {
					t.Errorf("sheet %s cell %s has formula %q (%v)", sh, cell, fm, err)
				}
			}
		}
	}

	cell := func(sheet, ref string) (string, excelize.CellType) {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		s.must(err)
		typ, err := f.GetCellType(sheet, ref)
		s.must(err)
		return v, typ
	}
	number := func(sheet, ref string) float64 {
		t.Helper()
		v, typ := cell(sheet, ref)
		if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Fatalf("%s!%s = %q is text, want a number", sheet, ref, v)
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s!%s = %q: %v", sheet, ref, v, err)
		}
		return n
	}
	minutes := func(sheet, ref string) float64 { return number(sheet, ref) * 24 * 60 }

	// Per step, row 4 is step 3: 3 visits, median 7m, p90 9m, 2 over, 67%, 6m in all, 4m at most.
	if v, _ := cell("Per langkah", "A1"); v != "No" {
		t.Errorf("Per langkah!A1 = %q", v)
	}
	if v, _ := cell("Per langkah", "B4"); v != "Verifikasi formulir dan keputusan izin akses" {
		t.Errorf("Per langkah!B4 = %q", v)
	}
	for ref, want := range map[string]float64{"A4": 3, "E4": 3, "H4": 2} {
		if got := number("Per langkah", ref); got != want {
			t.Errorf("Per langkah!%s = %v, want %v", ref, got, want)
		}
	}
	for ref, want := range map[string]float64{"D4": 5, "F4": 7, "G4": 9, "J4": 6, "K4": 4} {
		if got := minutes("Per langkah", ref); fmt.Sprintf("%.3f", got) != fmt.Sprintf("%.3f", want) {
			t.Errorf("Per langkah!%s = %v minutes, want %v", ref, got, want)
		}
	}
	if got := number("Per langkah", "I4"); fmt.Sprintf("%.3f", got) != "0.667" {
		t.Errorf("Per langkah!I4 = %v, want 2/3", got)
	}
	if shown, _ := f.GetCellValue("Per langkah", "F4"); shown != "0:07:00" {
		t.Errorf("Per langkah!F4 shows %q, want 0:07:00", shown)
	}

	// Per visit: V0001's submission is a date cell showing Jakarta time.
	if v, _ := cell("Per kunjungan", "A2"); v != "V0001" {
		t.Errorf("Per kunjungan!A2 = %q", v)
	}
	number("Per kunjungan", "D2")
	if shown, _ := f.GetCellValue("Per kunjungan", "D2"); shown != "2026-11-02 09:00:00" {
		t.Errorf("Per kunjungan!D2 shows %q, want 2026-11-02 09:00:00", shown)
	}
	if got := minutes("Per kunjungan", "K2"); fmt.Sprintf("%.2f", got) != "12.00" { // step 6
		t.Errorf("Per kunjungan!K2 = %v minutes, want 12", got)
	}
	if got := number("Per kunjungan", "N2"); got != 2 {
		t.Errorf("Per kunjungan!N2 (steps over) = %v, want 2", got)
	}
	if got := minutes("Per kunjungan", "H4"); fmt.Sprintf("%.2f", got) != "9.00" { // V0003's step 3
		t.Errorf("Per kunjungan!H4 = %v minutes, want 9", got)
	}
	if v, _ := cell("Per kunjungan", "I4"); v != "" {
		t.Errorf("Per kunjungan!I4 (V0003's step 4, not taken) = %q, want empty", v)
	}

	// Rejected and open.
	if v, _ := cell("Ditolak", "G2"); v != "tanda pengenal tidak sah" {
		t.Errorf("Ditolak!G2 = %q", v)
	}
	if v, _ := cell("Ditolak", "D2"); v != "=cmd|' /C calc'!A0" {
		t.Errorf("Ditolak!D2 = %q, want the purpose as typed, as text", v)
	}
	if v, _ := cell("Masih terbuka", "A2"); v != "V0003" {
		t.Errorf("Masih terbuka!A2 = %q", v)
	}
	if got := number("Masih terbuka", "D2"); got != 4 {
		t.Errorf("Masih terbuka!D2 = %v, want step 4", got)
	}
	if got := minutes("Masih terbuka", "H2"); fmt.Sprintf("%.2f", got) != "20.00" {
		t.Errorf("Masih terbuka!H2 = %v minutes, want 20", got)
	}
}

func TestComplianceXLSXEnglish(t *testing.T) {
	s := newSite(t)
	s.day()
	b, err := report.ComplianceXLSX(complianceInput(t, s, report.English))
	s.must(err)
	f, err := excelize.OpenReader(bytes.NewReader(b))
	s.must(err)
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), "|"); got != "Per step|Per visit|Rejected|Open" {
		t.Errorf("sheets = %s", got)
	}
}

func TestComplianceBadPeriod(t *testing.T) {
	s := newSite(t)
	s.day()
	in := complianceInput(t, s, report.Indonesian)
	in.From, in.Until = t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	if _, err := report.CompliancePDF(in); !errors.Is(err, report.ErrNoVisits) {
		t.Errorf("CompliancePDF of a period without visits = %v, want ErrNoVisits", err)
	}
	if _, err := report.ComplianceXLSX(in); !errors.Is(err, report.ErrNoVisits) {
		t.Errorf("ComplianceXLSX of a period without visits = %v, want ErrNoVisits", err)
	}
	in.From, in.Until = t0, t0.Add(-time.Hour)
	if _, err := report.CompliancePDF(in); err == nil || !strings.Contains(err.Error(), "before it starts") {
		t.Errorf("CompliancePDF of a reversed period = %v", err)
	}
	// The period's bounds: V0001 was submitted at exactly t0.
	in.From, in.Until = t0, t0.Add(time.Second)
	b, err := report.ComplianceXLSX(in)
	s.must(err)
	f, err := excelize.OpenReader(bytes.NewReader(b))
	s.must(err)
	defer f.Close()
	if rows, _ := f.GetRows("Per kunjungan"); len(rows) != 2 || rows[1][0] != "V0001" {
		t.Errorf("period [t0, t0+1s) has visits %v, want V0001 alone", rows)
	}
	in.From, in.Until = t0.Add(-time.Hour), t0
	if _, err := report.ComplianceXLSX(in); !errors.Is(err, report.ErrNoVisits) {
		t.Errorf("period ending at t0 = %v, want ErrNoVisits (until is exclusive)", err)
	}
}

// syntheticVisits are n archived visits, each step's time varying, for
// the benchmark.
func syntheticVisits(n int) []controller.Visit {
	vs := make([]controller.Visit, n)
	for i := range vs {
		at := t0.Add(time.Duration(i) * 7 * time.Minute)
		v := controller.Visit{ID: fmt.Sprintf("V%05d", i+1), VisitForm: controller.VisitForm{VisitorID: fmt.Sprintf("p%03d", i%300), Purpose: "maintenance"},
			Org: "PT Contoh", State: controller.StateArchived}
		for step := 1; step <= 8; step++ {
			took := time.Duration((i*7+step*13)%900) * time.Second
			if step == 1 {
				took = 0
			}
			v.Steps = append(v.Steps, controller.StepRecord{Step: step, Actor: "adi", Started: at, At: at.Add(took), Standard: controller.DefaultStepStandards[step-1]})
			at = at.Add(took)
		}
		vs[i] = v
	}
	return vs
}

func BenchmarkCompliance10k(b *testing.B) {
	visits := syntheticVisits(10_000)
	in := report.ComplianceInput{Site: "Bench", Visits: visits, From: t0, Until: t0.Add(10_000 * 7 * time.Minute),
		Now: t0.Add(10_001 * 7 * time.Minute), Location: zone(b, "Asia/Jakarta")}
	for _, bc := range []struct {
		name string
		fn   func(report.ComplianceInput) ([]byte, error)
	}{{"pdf", report.CompliancePDF}, {"xlsx", report.ComplianceXLSX}} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				out, err := bc.fn(in)
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}
