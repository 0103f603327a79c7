package report

import (
	"fmt"
	"strconv"
)

// CompliancePDF renders the SOP time-compliance report as A4 landscape
// PDF: per step, the visits that took it, the median and 90th percentile
// of the actual time, and how many exceeded the standard and by how much;
// one row per visit with every step's time; the rejected visits with their
// reasons; and the visits still open, with on whom and for how long they
// have been waiting. It returns ErrNoVisits for a period without visits.
func CompliancePDF(in ComplianceInput) ([]byte, error) {
	c, err := computeCompliance(in)
	if err != nil {
		return nil, err
	}
	in, lang := c.in, c.in.Lang
	ck, who := clock{in.Location}, newPeople(in.People)
	title := lang.t(text{"Laporan Kepatuhan Waktu SOP", "SOP Time-Compliance Report"})
	period := lang.f(text{"%s sampai %s", "%s to %s"}, ck.at(in.From), ck.at(in.Until))
	d, err := newPDF(lang, title, fmt.Sprintf("%s · %s · %s", in.Site, title, period), "", in.Now, true)
	if err != nil {
		return nil, err
	}
	d.para(lang.t(text{"LAPORAN KEPATUHAN WAKTU SOP (MUTU BAKU)", "SOP TIME-COMPLIANCE REPORT (MUTU BAKU)"}), true, 15, 0, black)
	d.para(lang.f(text{"SOP Akses Masuk Ruangan Server · %s", "SOP Akses Masuk Ruangan Server (server room access) · %s"}, in.Site), false, 9.5, 0, grey)
	d.para(lang.f(text{"Periode pengajuan: %s · %d kunjungan · dibuat %s", "Visits submitted %s · %d visits · made %s"},
		period, len(c.visits), ck.at(in.Now)), true, 10, 0, black)

	d.heading(lang.t(text{"1. Per langkah SOP", "1. Per SOP step"}))
	var rows [][]cell
	for _, s := range c.steps {
		over := cell{s: "0"}
		if s.over > 0 {
			over = cell{s: fmt.Sprintf("▲ %d (%s)", s.over, pct(s.over, s.n())), bold: true, color: red}
		}
		median, p90, total, most := "-", "-", "-", "-"
		if s.n() > 0 {
			median, p90 = lang.dur(s.rank(0.5)), lang.dur(s.rank(0.9))
		}
		if s.over > 0 {
			total, most = lang.dur(s.overTotal), lang.dur(s.overMax)
		}
		rows = append(rows, []cell{plain(strconv.Itoa(s.step)), plain(lang.stepName(s.step)), plain(lang.roleName(stepRole[s.step-1])),
			plain(lang.dur(s.standard)), plain(strconv.Itoa(s.n())), plain(median), plain(p90), over, plain(total), plain(most)})
	}
	d.table([]column{
		{lang.t(text{"No", "No"}), 22},
		{lang.t(text{"Aktivitas", "Activity"}), 170},
		{lang.t(text{"Pelaksana", "Taken by"}), 120},
		{lang.t(text{"Mutu baku", "Standard"}), 50},
		{lang.t(text{"Jumlah kunjungan", "Visits"}), 55},
		{lang.t(text{"Median", "Median"}), 60},
		{lang.t(text{"Persentil ke-90", "90th percentile"}), 60},
		{lang.t(text{"Melebihi mutu baku", "Over the standard"}), 80},
		{lang.t(text{"Kelebihan total", "Total excess"}), 70},
		{lang.t(text{"Kelebihan terbesar", "Largest excess"}), 74},
	}, rows, 8)

	d.heading(lang.t(text{"2. Per kunjungan (durasi setiap langkah; ▲ melebihi mutu baku)", "2. Per visit (each step's time; ▲ over the standard)"}))
	rows = rows[:0]
	for _, v := range c.visits {
		s1, _ := v.Step(1)
		row := []cell{plain(v.ID), plain(who.name(v.VisitorID)), plain(ck.span(s1.At, s1.At)), plain(lang.stateName(v.State))}
		for n := 1; n <= 8; n++ {
			s, ok := v.Step(n)
			switch {
			case !ok || s.At.IsZero():
				row = append(row, cell{s: "-", color: grey})
			case s.Standard > 0 && s.Took() > s.Standard:
				row = append(row, cell{s: "▲ " + lang.dur(s.Took()), bold: true, color: red})
			default:
				row = append(row, plain(lang.dur(s.Took())))
			}
		}
		rows = append(rows, row)
	}
	cols := []column{{lang.t(text{"Kunjungan", "Visit"}), 56}, {lang.t(text{"Pengunjung", "Visitor"}), 100},
		{lang.t(text{"Diajukan", "Submitted"}), 74}, {lang.t(text{"Status", "State"}), 82}}
	for n := 1; n <= 8; n++ {
		cols = append(cols, column{lang.f(text{"Langkah %d", "Step %d"}, n), 56.2})
	}
	d.table(cols, rows, 7.5)

	d.heading(lang.t(text{"3. Kunjungan ditolak", "3. Rejected visits"}))
	if len(c.rejected) == 0 {
		d.para(lang.t(text{"Tidak ada kunjungan yang ditolak.", "No visit was rejected."}), false, 9, 0, black)
	} else {
		rows = rows[:0]
		for _, v := range c.rejected {
			s, _ := v.Step(3)
			rows = append(rows, []cell{plain(v.ID), plain(who.name(v.VisitorID)), plain(orDash(v.Org)), plain(orDash(v.Purpose)),
				plain(who.name(s.Actor)), plain(ck.at(s.At)), {s: s.Note, bold: true}})
		}
		d.table([]column{{lang.t(text{"Kunjungan", "Visit"}), 56}, {lang.t(text{"Pengunjung", "Visitor"}), 104},
			{lang.t(text{"Instansi", "Organisation"}), 100}, {lang.t(text{"Keperluan", "Purpose"}), 140},
			{lang.t(text{"Ditolak oleh", "Rejected by"}), 110}, {lang.t(text{"Waktu", "Time"}), 96},
			{lang.t(text{"Alasan", "Reason"}), 155.89}}, rows, 8)
	}

	d.heading(lang.t(text{"4. Kunjungan yang masih terbuka", "4. Visits still open"}))
	if len(c.open) == 0 {
		d.para(lang.t(text{"Semua kunjungan sudah diarsipkan atau ditolak.", "Every visit is archived or rejected."}), false, 9, 0, black)
	} else {
		rows = rows[:0]
		for _, o := range c.open {
			waited := in.Now.Sub(o.since)
			wc := plain(lang.dur(waited))
			if o.next >= 1 && o.next <= 8 && waited > standardOf(o.v, o.next) {
				wc = cell{s: "▲ " + lang.dur(waited), bold: true, color: red}
			}
			rows = append(rows, []cell{plain(o.v.ID), plain(who.name(o.v.VisitorID)), plain(lang.stateName(o.v.State)),
				plain(fmt.Sprintf("%d. %s", o.next, lang.stepName(o.next))), plain(o.waitText(lang, who)), plain(ck.at(o.since)), wc})
		}
		d.table([]column{{lang.t(text{"Kunjungan", "Visit"}), 56}, {lang.t(text{"Pengunjung", "Visitor"}), 104},
			{lang.t(text{"Status", "State"}), 90}, {lang.t(text{"Menunggu langkah", "Waiting for step"}), 150},
			{lang.t(text{"Menunggu", "Waiting on"}), 170}, {lang.t(text{"Sejak", "Since"}), 96},
			{lang.t(text{"Lama menunggu", "Waited"}), 95.89}}, rows, 8)
	}
	return d.bytes()
}

// pct is n of total as a whole percentage.
func pct(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", (n*100+total/2)/total)
}
