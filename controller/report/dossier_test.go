package report_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/report"
)

// dossier renders visit id of the site's day.
func dossier(t *testing.T, s *site, id string, lang report.Lang, loc *time.Location) []byte {
	t.Helper()
	v := s.visit(id)
	evs, err := report.VisitEvents(context.Background(), s.store, v)
	s.must(err)
	pdf, err := report.Dossier(report.DossierInput{Site: "Diskominfo Rejang Lebong", Visit: v, People: s.people(),
		Events: evs, Location: loc, Lang: lang, Printed: s.clock.Now()})
	s.must(err)
	return pdf
}

func TestDossierText(t *testing.T) {
	s := newSite(t)
	s.day()
	jakarta := zone(t, "Asia/Jakarta")
	var last controller.Event
	s.must(s.store.Events(controller.EventQuery{}, func(e controller.Event) error {
		if e.Visit == "V0001" {
			last = e
		}
		return nil
	}))

	tests := []struct {
		id    string
		lang  report.Lang
		draft bool
		want  []string
	}{
		{"V0001", report.Indonesian, false, []string{
			"BERKAS KUNJUNGAN RUANG SERVER", "Kunjungan V0001 · status: diarsipkan",
			"Vina Maharani (vina)", "PT Jaringan Nusantara", "KTP 1702010101010001", "laptop, 1 SSD",
			"Langkah SOP dan mutu baku", "Staf Administrasi", "Koordinator Pengelola", "Kepala Bidang",
			"Arsipkan berkas", "Pengisian formulir dan", "Ayu Wulandari (ayu)", "Hasan Basri (hasan)", "Citra Lestari (citra)",
			"09:03:00 – 09:10:00 WIB", "▲ MELEBIHI mutu", // step 3 took 7m of 5m
			"didampingi Oki Pratama (oki)", "pendamping Oki Pratama (oki) keluar",
			"ALARM: A0025 pengunjung tanpa pendamping", "diakui oleh Citra Lestari (citra)",
			"Disk di rak 3 diganti, RAID dibangun ulang.",
			"Hash peristiwa seq " + itoa(last.Seq), last.Hash,
			"Pengesahan", "Tanggal:",
		}},
		{"V0001", report.English, false, []string{
			"SERVER ROOM VISIT FILE", "Visit V0001 · state: archived", "OVER the", "escorted by Oki Pratama (oki)",
			"ALARM: A0025 visitor unescorted", "acknowledged by Citra Lestari (citra)", "Hash of event seq " + itoa(last.Seq),
		}},
		{"V0002", report.Indonesian, true, []string{
			"KONSEP / DRAFT: kunjungan ini belum diarsipkan (status: ditolak)", "DITOLAK: tanda",
			"Rudi \uFFFDHacker (rudi)", // the right-to-left override is shown, not obeyed
			"tidak berlaku (ditolak)",
		}},
		{"V0003", report.English, true, []string{
			"DRAFT / KONSEP: this visit is not archived yet (state: approved)", "not taken yet",
			"No door events for this visit.", "No report yet.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id+"-"+string(tt.lang), func(t *testing.T) {
			pdf := dossier(t, s, tt.id, tt.lang, jakarta)
			got := pdfText(t, pdf)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("dossier %s (%s) lacks %q", tt.id, tt.lang, w)
				}
			}
			if hasDraft := strings.Contains(got, "KONSEP / DRAFT") || strings.Contains(got, "DRAFT / KONSEP"); hasDraft != tt.draft {
				t.Errorf("dossier %s: draft mark shown = %v, want %v", tt.id, hasDraft, tt.draft)
			}
			if strings.Contains(got, "\u202e") {
				t.Errorf("dossier %s carries a right-to-left override", tt.id)
			}
			golden(t, "dossier-"+tt.id+"-"+string(tt.lang)+".txt", []byte(got))
			t.Logf("page 1 rendered to %s", render(t, pdf, "dossier-"+tt.id+"-"+string(tt.lang), 1))
		})
	}
}

// TestDossierZone checks times are shown in the site's zone by its
// Indonesian name.
func TestDossierZone(t *testing.T) {
	s := newSite(t)
	s.day()
	for _, tt := range []struct{ zone, want string }{
		{"Asia/Jakarta", "09:03:00 – 09:10:00 WIB"},
		{"Asia/Makassar", "10:03:00 – 10:10:00 WITA"},
		{"Asia/Jayapura", "11:03:00 – 11:10:00 WIT"},
	} {
		got := pdfText(t, dossier(t, s, "V0001", report.Indonesian, zone(t, tt.zone)))
		if !strings.Contains(got, tt.want) {
			t.Errorf("dossier in %s lacks %q", tt.zone, tt.want)
		}
	}
}

// TestDossierWithoutEvents prints a visit whose events were not supplied:
// the paper says so instead of inventing a seq range.
func TestDossierWithoutEvents(t *testing.T) {
	s := newSite(t)
	s.day()
	pdf, err := report.Dossier(report.DossierInput{Site: "X", Visit: s.visit("V0001"), People: s.people(), Lang: report.English})
	s.must(err)
	got := pdfText(t, pdf)
	for _, w := range []string{"No audit event covered.", "No door events for this visit.", "UTC"} {
		if !strings.Contains(got, w) {
			t.Errorf("dossier without events lacks %q", w)
		}
	}
}

// TestVisitEventsAfterClockSetBack finds a visit's events even when an
// earlier event carries a later time than the visit's submission, which
// defeats the bisection.
func TestVisitEventsAfterClockSetBack(t *testing.T) {
	s := newSite(t)
	s.clock.add(5 * time.Hour)
	s.must(s.ctrl.AssignCard(context.Background(), "C-late", "adi", root)) // an event at 14:00
	s.clock.add(-4 * time.Hour)                                            // the clock is set back to 10:00
	id := s.submit("vina", "after the clock was set back")
	evs, err := report.VisitEvents(context.Background(), s.store, s.visit(id))
	s.must(err)
	if len(evs) != 1 || evs[0].Visit != id || evs[0].Detail != "submit" {
		t.Fatalf("VisitEvents = %+v, want the submission of %s", evs, id)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestDossierUnsupportedCharacters shows a character the fonts cannot draw
// as a visible mark instead of dropping it, so a paper never reads as
// something that was not typed.
func TestDossierUnsupportedCharacters(t *testing.T) {
	v := controller.Visit{ID: "V0001", VisitForm: controller.VisitForm{Purpose: "server 漢 rack 😀 end"}}
	pdf, err := report.Dossier(report.DossierInput{Site: "X", Visit: v, Lang: report.English})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pdfText(t, pdf), "server \uFFFD rack \uFFFD end"; !strings.Contains(got, want) {
		t.Errorf("dossier text lacks %q:\n%s", want, got)
	}
}
