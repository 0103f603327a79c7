package report

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pintu/pintu/controller"
)

// DossierInput is what a visit's dossier is made from.
type DossierInput struct {
	Site   string
	Visit  controller.Visit
	People []controller.Person
	// Events are the visit's events in sequence order: those Covers
	// selects (VisitEvents reads them from the log). Others are ignored.
	Events   []controller.Event
	Location *time.Location // the site's time zone
	Lang     Lang
	Printed  time.Time // when the paper is made, printed on it
}

// Covers reports whether event e belongs in visit v's dossier.
func Covers(v controller.Visit, e controller.Event) bool {
	_, ok := stayLineOf(v, e)
	return ok
}

// Draft reports whether v's papers are a draft: the SOP's last step,
// "arsipkan berkas kunjungan", is not done.
func Draft(v controller.Visit) bool { return v.State != controller.StateArchived }

// draftMark is the watermark and banner word of a draft, in both
// languages whatever the paper's language, so nobody misreads it.
const draftMark = "KONSEP / DRAFT"

// Dossier renders visit in.Visit's file as an A4 PDF: the form, the eight
// SOP steps against their standard times, the door record and alarms of
// the stay, the coordinator's report, the audit events it rests on and the
// signature lines. A visit that is not archived prints as a draft.
func Dossier(in DossierInput) ([]byte, error) {
	v, lang := in.Visit, in.Lang
	if lang == "" {
		lang = Indonesian
	}
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	ck, who := clock{loc}, newPeople(in.People)

	var lines []stayLine
	for _, e := range in.Events {
		if l, ok := stayLineOf(v, e); ok {
			lines = append(lines, l)
		}
	}
	slices.SortFunc(lines, func(a, b stayLine) int { return cmpSeq(a.Seq, b.Seq) })
	lines = keepAcks(lines)

	mark := ""
	if Draft(v) {
		mark = draftMark
	}
	title := lang.t(text{"Berkas Kunjungan Ruang Server", "Server Room Visit File"})
	running := fmt.Sprintf("%s · %s %s · %s", printable(in.Site), title, v.ID, lang.t(text{"SOP Akses Masuk Ruangan Server", "SOP Server Room Access (Akses Masuk Ruangan Server)"}))
	d, err := newPDF(lang, title+" "+v.ID, running, mark, in.Printed, false)
	if err != nil {
		return nil, err
	}

	d.para(lang.t(text{"BERKAS KUNJUNGAN RUANG SERVER", "SERVER ROOM VISIT FILE"}), true, 15, 0, black)
	d.para(lang.f(text{"SOP Akses Masuk Ruangan Server · %s", "SOP Akses Masuk Ruangan Server (server room access) · %s"}, in.Site), false, 9.5, 0, grey)
	d.para(lang.f(text{"Kunjungan %s · status: %s", "Visit %s · state: %s"}, v.ID, lang.stateName(v.State)), true, 11, 0, black)
	d.gap(4)
	if mark != "" {
		d.banner(lang.f(text{
			"KONSEP / DRAFT: kunjungan ini belum diarsipkan (status: %s). Berkas ini bukan arsip akhir.",
			"DRAFT / KONSEP: this visit is not archived yet (state: %s). This is not the final file."},
			lang.stateName(v.State)), red)
	}

	d.heading(lang.t(text{"1. Formulir kunjungan", "1. Visit form"}))
	const lw = 150
	escort := lang.t(text{"petugas pendamping mana pun", "any escort-capable officer"})
	if v.EscortID != "" {
		escort = who.name(v.EscortID)
	}
	for _, f := range []struct {
		label text
		value string
	}{
		{text{"Nomor kunjungan", "Visit number"}, v.ID},
		{text{"Pengunjung", "Visitor"}, who.name(v.VisitorID)},
		{text{"Instansi", "Organisation"}, orDash(v.Org)},
		{text{"Tanda pengenal", "Identity document"}, orDash(v.IDDoc)},
		{text{"Keperluan", "Purpose"}, orDash(v.Purpose)},
		{text{"Perangkat yang dibawa", "Devices brought"}, orDash(v.Devices)},
		{text{"Jadwal kunjungan", "Visit window"}, ck.at(v.From) + " – " + ck.at(v.Until)},
		{text{"Pendamping yang ditunjuk", "Named escort"}, escort},
		{text{"Diajukan oleh", "Submitted by"}, who.name(v.SubmittedBy)},
	} {
		d.field(lang.t(f.label), f.value, lw)
	}

	d.heading(lang.t(text{"2. Langkah SOP dan mutu baku", "2. SOP steps against the standard time (mutu baku)"}))
	d.table([]column{
		{lang.t(text{"No", "No"}), 22},
		{lang.t(text{"Aktivitas", "Activity"}), 106},
		{lang.t(text{"Pelaksana", "Taken by"}), 106},
		{lang.t(text{"Waktu", "Time"}), 118},
		{lang.t(text{"Durasi / mutu baku", "Took / standard"}), 68},
		{lang.t(text{"Keterangan", "Remark"}), 95},
	}, stepRows(v, lang, ck, who), 8)

	d.heading(lang.t(text{"3. Catatan pintu selama kunjungan", "3. Door record of the visit"}))
	var doorRows [][]cell
	for _, l := range lines {
		if l.Kind == stayStep {
			continue
		}
		c := plain(l.describe(lang, who))
		if l.Kind == stayAlarmRaised || l.Kind == stayVisitorDenied || l.Kind == stayEscortExit {
			c.bold, c.color = true, red
		}
		doorRows = append(doorRows, []cell{plain(strconv.FormatUint(l.Seq, 10)), plain(ck.at(l.Time)), c})
	}
	if len(doorRows) == 0 {
		d.para(lang.t(text{"Tidak ada peristiwa pintu untuk kunjungan ini.", "No door events for this visit."}), false, 9, 0, black)
	} else {
		d.table([]column{{"Seq", 44}, {lang.t(text{"Waktu", "Time"}), 112}, {lang.t(text{"Peristiwa", "Event"}), 359}}, doorRows, 8)
	}

	d.heading(lang.t(text{"4. Alarm selama kunjungan", "4. Alarms during the visit"}))
	if alarms := alarmRows(lines, lang, ck, who); len(alarms) == 0 {
		d.para(lang.t(text{"Tidak ada alarm selama kunjungan.", "No alarm during the visit."}), false, 9, 0, black)
	} else {
		d.table([]column{
			{lang.t(text{"Alarm", "Alarm"}), 140},
			{lang.t(text{"Muncul", "Raised"}), 112},
			{lang.t(text{"Selesai", "Cleared"}), 112},
			{lang.t(text{"Diakui oleh", "Acknowledged by"}), 151},
		}, alarms, 8)
	}

	d.heading(lang.t(text{"5. Laporan hasil pekerjaan (Koordinator Pengelola Ruang Server)", "5. Report of the work done (coordinator)"}))
	if s, ok := v.Step(6); ok && s.Note != "" {
		d.para(s.Note, false, 9.5, 0, black)
		d.para(lang.f(text{"Dilaporkan oleh %s pada %s", "Reported by %s at %s"}, who.name(s.Actor), ck.at(s.At)), false, 8, 0, grey)
	} else {
		d.para(lang.t(text{"Belum ada laporan.", "No report yet."}), false, 9, 0, black)
	}

	d.heading(lang.t(text{"6. Jejak audit", "6. Audit trail"}))
	if len(lines) == 0 {
		d.para(lang.t(text{"Tidak ada peristiwa audit yang tercakup.", "No audit event covered."}), false, 9, 0, black)
	} else {
		first, last := lines[0], lines[len(lines)-1]
		var lastHash string
		for _, e := range in.Events {
			if e.Seq == last.Seq {
				lastHash = e.Hash
			}
		}
		d.field(lang.t(text{"Peristiwa audit", "Audit events"}), lang.f(text{"seq %d sampai %d (%d peristiwa kunjungan ini)", "seq %d to %d (%d events of this visit)"}, first.Seq, last.Seq, len(lines)), lw)
		d.field(lang.f(text{"Hash peristiwa seq %d", "Hash of event seq %d"}, last.Seq), lastHash, lw)
	}
	d.field(lang.t(text{"Dicetak", "Printed"}), ck.at(in.Printed)+" · Pintu · "+in.Site, lw)
	d.para(lang.t(text{
		"Rantai hash log audit dapat diperiksa dengan \"pintuctl verify\", atau tanpa pintud dengan \"pintuctl verify-bundle\" pada bundel ekspor yang ditandatangani.",
		"The audit log's hash chain is checked with \"pintuctl verify\", or without pintud with \"pintuctl verify-bundle\" on a signed export bundle."}), false, 8, 0, grey)

	signatures(d, v, lang, who)
	return d.bytes()
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stepRows are the eight SOP steps of v, in order, taken or not.
func stepRows(v controller.Visit, lang Lang, ck clock, who people) [][]cell {
	rows := make([][]cell, 0, 8)
	for n := 1; n <= 8; n++ {
		role := lang.roleName(stepRole[n-1])
		if n == 4 {
			role = lang.t(text{"Petugas pendamping", "Escorting officer"})
		}
		s, ok := v.Step(n)
		if !ok {
			remark := lang.t(text{"belum dilaksanakan", "not taken yet"})
			if v.State == controller.StateRejected && n > 3 {
				remark = lang.t(text{"tidak berlaku (ditolak)", "not applicable (rejected)"})
			}
			rows = append(rows, []cell{plain(strconv.Itoa(n)), plain(lang.stepName(n)),
				{s: role, color: grey}, plain("-"), plain("- / " + lang.dur(standardOf(v, n))), {s: remark, color: grey}})
			continue
		}
		when := ck.span(s.Started, s.At)
		took, remark := lang.dur(s.Took()), cell{}
		switch {
		case n == 1:
			// The form is filled in on paper before anything is recorded:
			// step 1 is the instant of submission, not a measured time.
			took = "-"
			remark = cell{s: lang.t(text{"tidak diukur: dicatat saat pengajuan", "not timed: recorded at submission"}), color: grey}
		case s.At.IsZero():
			took = "-"
			remark = cell{s: lang.t(text{"sedang berlangsung", "in progress"})}
		case s.Standard > 0 && s.Took() > s.Standard:
			remark = cell{s: lang.f(text{"▲ MELEBIHI mutu baku %s", "▲ OVER the standard by %s"}, lang.dur(s.Took()-s.Standard)), bold: true, color: red}
		default:
			remark = cell{s: lang.f(text{"✓ sesuai mutu baku (%s lebih cepat)", "✓ within the standard (%s under)"}, lang.dur(s.Standard-s.Took())), color: green}
		}
		switch s.Action {
		case controller.ActionReject:
			remark.s = lang.f(text{"DITOLAK: %s", "REJECTED: %s"}, s.Note) + "\n" + remark.s
			remark.bold, remark.color = true, red
		case controller.ActionApprove:
			remark.s = lang.t(text{"disetujui", "approved"}) + "\n" + remark.s
		}
		rows = append(rows, []cell{plain(strconv.Itoa(n)), plain(lang.stepName(n)),
			plain(who.name(s.Actor) + "\n" + role), plain(when), plain(took + " / " + lang.dur(s.Standard)), remark})
	}
	return rows
}

// standardOf is the standard time of step n: as recorded on a step taken,
// else the SOP's default.
func standardOf(v controller.Visit, n int) time.Duration {
	if s, ok := v.Step(n); ok {
		return s.Standard
	}
	return controller.DefaultStepStandards[n-1]
}

// alarmRows pairs each alarm raised during the stay with its clearing and
// acknowledgement.
func alarmRows(lines []stayLine, lang Lang, ck clock, who people) [][]cell {
	var rows [][]cell
	for i, l := range lines {
		if l.Kind != stayAlarmRaised {
			continue
		}
		if l.AlarmID != "" && slices.ContainsFunc(lines[:i], func(r stayLine) bool { return r.Kind == stayAlarmRaised && sameAlarm(r, l) }) {
			continue // raised again under its id: one alarm, one row
		}
		cleared, acked := "-", lang.t(text{"belum diakui", "not acknowledged"})
		ackColor := red
		for _, m := range lines[i+1:] {
			if !sameAlarm(m, l) {
				continue
			}
			switch m.Kind {
			case stayAlarmCleared:
				cleared = ck.at(m.Time) // the last clearing, after the last raise
			case stayAlarmRaised:
				if m.AlarmID != "" {
					cleared = "-" // active again
				}
			case stayAlarmAcked:
				acked, ackColor = who.name(m.Actor)+"\n"+ck.at(m.Time), black
			}
			if m.Kind == stayAlarmRaised && m.AlarmID == "" {
				break // before alarm ids, a second raise was a second alarm
			}
		}
		rows = append(rows, []cell{{s: l.alarmLabel(lang), bold: true, color: red}, plain(ck.at(l.Time)), plain(cleared), {s: acked, color: ackColor}})
	}
	return rows
}

// signatures are the lines the three SOP roles sign, with the name of who
// acted in that role on this visit.
func signatures(d *pdfDoc, v controller.Visit, lang Lang, who people) {
	d.heading(lang.t(text{"7. Pengesahan", "7. Signatures"}))
	actor := func(steps ...int) string {
		for _, n := range steps {
			if s, ok := v.Step(n); ok {
				return who.name(s.Actor)
			}
		}
		return ""
	}
	cols := []struct {
		role controller.Role
		name string
	}{
		{controller.RoleAdmin, actor(8, 5, 1)},
		{controller.RoleCoordinator, actor(6, 2)},
		{controller.RoleHead, actor(7, 3)},
	}
	colW := d.bodyW() / 3
	d.ensure(110)
	y := d.y
	for i, c := range cols {
		x := marginX + float64(i)*colW
		d.font(true, 8.5)
		for j, l := range d.wrap(lang.roleName(c.role), colW-12) {
			d.text(x, y+float64(j)*d.lineH(), l)
		}
		d.pdf.SetStrokeColor(0, 0, 0)
		d.pdf.SetLineWidth(0.6)
		d.pdf.Line(x, y+70, x+colW-16, y+70)
		d.font(false, 8.5)
		name := c.name
		if name == "" {
			name = "(" + lang.t(text{"nama", "name"}) + ")"
		}
		for j, l := range d.wrap(name, colW-16) {
			d.text(x, y+73+float64(j)*d.lineH(), l)
		}
		d.color(grey)
		d.text(x, y+97, lang.t(text{"Tanggal: ....................", "Date: ...................."}))
		d.color(black)
	}
	d.y = y + 112
}
