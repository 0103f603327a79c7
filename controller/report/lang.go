package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
)

// Lang is the language of a paper: Bahasa Indonesia (the default) or
// English.
type Lang string

// The languages a paper is written in.
const (
	Indonesian Lang = "id"
	English    Lang = "en"
)

// ParseLang returns the language named s; empty means Indonesian.
func ParseLang(s string) (Lang, error) {
	switch Lang(strings.ToLower(strings.TrimSpace(s))) {
	case "", Indonesian:
		return Indonesian, nil
	case English:
		return English, nil
	}
	return "", fmt.Errorf("report: unknown language %q (want id or en)", s)
}

// text is one string of a paper in both languages.
type text struct{ id, en string }

func (l Lang) t(x text) string {
	if l == English {
		return x.en
	}
	return x.id
}

// f formats x in l with args.
func (l Lang) f(x text, args ...any) string { return fmt.Sprintf(l.t(x), args...) }

// roleName is the SOP's name for a role.
func (l Lang) roleName(r controller.Role) string {
	switch r {
	case controller.RoleAdmin:
		return l.t(text{"Staf Administrasi", "Administrative Staff (Staf Administrasi)"})
	case controller.RoleCoordinator:
		return l.t(text{"Koordinator Pengelola Ruang Server", "Server Room Coordinator (Koordinator)"})
	case controller.RoleHead:
		return l.t(text{"Kepala Bidang", "Head of Division (Kepala Bidang)"})
	case controller.RoleOfficer:
		return l.t(text{"Petugas", "Officer"})
	case controller.RoleVisitor:
		return l.t(text{"Pengunjung", "Visitor"})
	}
	return string(r)
}

// stepRole is the role that takes SOP step n (1..8); step 4's actor is
// the escort.
var stepRole = [8]controller.Role{controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead,
	controller.RoleOfficer, controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead, controller.RoleAdmin}

// stepNames are the SOP's eight activities, in the SOP's own words and in
// English.
var stepNames = [8]text{
	{"Pengisian formulir dan penyerahan tanda pengenal", "Form filled in, valid ID handed over"},
	{"Pengecekan kelengkapan persyaratan", "Check that the requirements are complete"},
	{"Verifikasi formulir dan keputusan izin akses", "Verification and access decision"},
	{"Pendampingan dan pengawasan di ruang server", "Escort and supervision in the server room"},
	{"Pengembalian tanda pengenal dan pencatatan jam keluar", "ID returned, exit time recorded"},
	{"Pelaporan hasil pekerjaan", "Report of the work done"},
	{"Perintah mengarsipkan berkas kunjungan", "Order to archive the visit file"},
	{"Arsipkan berkas kunjungan", "Visit file archived"},
}

func (l Lang) stepName(n int) string {
	if n < 1 || n > len(stepNames) {
		return l.f(text{"Langkah %d", "Step %d"}, n)
	}
	return l.t(stepNames[n-1])
}

// stateName is a visit state as the office says it.
func (l Lang) stateName(s controller.VisitState) string {
	names := map[controller.VisitState]text{
		controller.StateSubmitted:      {"diajukan", "submitted"},
		controller.StateChecked:        {"diperiksa", "checked"},
		controller.StateApproved:       {"disetujui", "approved"},
		controller.StateRejected:       {"ditolak", "rejected"},
		controller.StateInside:         {"di dalam ruang server", "inside the server room"},
		controller.StateExited:         {"sudah keluar", "exited"},
		controller.StateReported:       {"dilaporkan", "reported"},
		controller.StateArchiveOrdered: {"diperintahkan untuk diarsipkan", "archive ordered"},
		controller.StateArchived:       {"diarsipkan", "archived"},
	}
	if x, ok := names[s]; ok {
		return l.t(x)
	}
	return string(s)
}

// alarmName is an alarm kind in words.
func (l Lang) alarmName(k string) string {
	names := map[controller.AlarmKind]text{
		controller.AlarmVisitorUnescorted: {"pengunjung tanpa pendamping", "visitor unescorted"},
		controller.AlarmOverstay:          {"melewati batas waktu kunjungan", "overstay"},
		controller.AlarmForcedOpen:        {"pintu dibuka paksa", "door forced open"},
		controller.AlarmHeldOpen:          {"pintu terbuka terlalu lama", "door held open"},
		controller.AlarmClockUnsynced:     {"jam belum tersinkronisasi", "clock not synchronised"},
		controller.AlarmTamper:            {"gangguan fisik pada perangkat", "tamper"},
	}
	if x, ok := names[controller.AlarmKind(k)]; ok {
		return l.t(x)
	}
	return k
}

// reasonName is a denial reason in words.
func (l Lang) reasonName(r controller.Reason) string {
	names := map[controller.Reason]text{
		controller.ReasonUnknownCard:         {"kartu tidak dikenal", "unknown card"},
		controller.ReasonRevoked:             {"kartu dicabut", "card revoked"},
		controller.ReasonNotApproved:         {"kunjungan belum disetujui", "visit not approved"},
		controller.ReasonOutsideWindow:       {"di luar jadwal kunjungan", "outside the visit window"},
		controller.ReasonEscortRequired:      {"pendamping diperlukan", "escort required"},
		controller.ReasonEscortNotAuthorized: {"pendamping tidak berwenang", "escort not authorised"},
		controller.ReasonAlreadyInside:       {"sudah di dalam", "already inside"},
		controller.ReasonLockdown:            {"penguncian", "lockdown"},
		controller.ReasonClockUnsynced:       {"jam belum tersinkronisasi", "clock not synchronised"},
		controller.ReasonStorageFailure:      {"gagal menyimpan log", "storage failure"},
		controller.ReasonNoRoomAccess:        {"tidak berhak masuk", "no room access"},
		controller.ReasonTwoPersonRequired:   {"aturan dua orang", "two-person rule"},
		controller.ReasonWaitingForEscort:    {"menunggu pendamping", "waiting for an escort"},
		controller.ReasonWaitingForSecond:    {"menunggu orang kedua", "waiting for a second person"},
	}
	if x, ok := names[r]; ok {
		return l.t(x)
	}
	return string(r)
}

// zoneAbbr is the name people use for loc's zone at t: WIB, WITA or WIT in
// Indonesia, whatever the system's zone data calls them.
func zoneAbbr(t time.Time, loc *time.Location) string {
	switch loc.String() {
	case "Asia/Jakarta", "Asia/Pontianak":
		return "WIB"
	case "Asia/Makassar":
		return "WITA"
	case "Asia/Jayapura":
		return "WIT"
	}
	name, _ := t.In(loc).Zone()
	return name
}

// clock formats times in the site's zone.
type clock struct{ loc *time.Location }

// at is t with seconds and the zone's name, "-" for the zero time.
func (c clock) at(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format("2006-01-02 15:04:05") + " " + zoneAbbr(t, c.loc)
}

// span is the time from start to end on two lines: the date, then the
// clock times; an instant (start = end) is one time, an open span (end
// zero) ends in a dash.
func (c clock) span(start, end time.Time) string {
	zone := zoneAbbr(start, c.loc)
	s, e := start.In(c.loc), end.In(c.loc)
	switch {
	case start.IsZero():
		return c.at(end)
	case end.IsZero():
		return s.Format("2006-01-02") + "\n" + s.Format("15:04:05") + " " + zone + " –"
	case start.Equal(end):
		return s.Format("2006-01-02") + "\n" + s.Format("15:04:05") + " " + zone
	case s.Format("2006-01-02") == e.Format("2006-01-02"):
		return s.Format("2006-01-02") + "\n" + s.Format("15:04:05") + " – " + e.Format("15:04:05") + " " + zone
	}
	return c.at(start) + " –\n" + c.at(end)
}

// dur formats d to the second: 1j 5m 30d in Indonesian, 1h 5m 30s in
// English.
func (l Lang) dur(d time.Duration) string {
	d = d.Round(time.Second)
	neg := ""
	if d < 0 {
		neg, d = "−", -d
	}
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	units := [3]string{"j", "m", "d"}
	if l == English {
		units = [3]string{"h", "m", "s"}
	}
	var parts []string
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d%s", h, units[0]))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%d%s", m, units[1]))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d%s", s, units[2]))
	}
	return neg + strings.Join(parts, " ")
}

// people names people for a paper.
type people map[string]controller.Person

func newPeople(ps []controller.Person) people {
	m := make(people, len(ps))
	for _, p := range ps {
		m[p.ID] = p
	}
	return m
}

// name is a person's name with their id, or the id alone if unknown.
func (p people) name(id string) string {
	if id == "" {
		return "-"
	}
	if x, ok := p[id]; ok && x.Name != "" {
		return x.Name + " (" + id + ")"
	}
	return id
}
