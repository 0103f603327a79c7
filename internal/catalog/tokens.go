package catalog

import (
	"fmt"
	"strconv"

	"github.com/pintu/pintu/controller"
)

// tokens name the domain's closed sets in English and Indonesian: key,
// English, Indonesian. Indonesian uses the SOP's words.
var tokens = [][3]string{
	// Roles, as the SOP names them.
	{"role:admin", "Administrative staff", "Staf Administrasi"},
	{"role:coordinator", "Server room coordinator", "Koordinator Pengelola Ruang Server"},
	{"role:head", "Head of division", "Kepala Bidang"},
	{"role:officer", "Officer", "Petugas"},
	{"role:visitor", "Visitor", "Pengunjung"},

	// Visit states: the SOP's history words.
	{"state:submitted", "Submitted", "Diajukan"},
	{"state:checked", "Checked", "Diperiksa"},
	{"state:approved", "Approved", "Disetujui"},
	{"state:rejected", "Rejected", "Ditolak"},
	{"state:inside", "Inside the server room", "Di dalam ruang server"},
	{"state:exited", "Left the room", "Sudah keluar"},
	{"state:reported", "Work reported", "Dilaporkan"},
	{"state:archive_ordered", "Archiving ordered", "Diperintahkan diarsipkan"},
	{"state:archived", "Archived", "Diarsipkan"},

	// Workflow actions, as buttons.
	{"action:submit", "Submit", "Ajukan"},
	{"action:check", "Mark as checked", "Nyatakan lengkap"},
	{"action:approve", "Approve", "Setujui"},
	{"action:reject", "Reject", "Tolak"},
	{"action:enter", "Entered", "Masuk"},
	{"action:exit", "Left", "Keluar"},
	{"action:return-id", "Return the ID and record the exit", "Kembalikan tanda pengenal dan catat jam keluar"},
	{"action:report", "Report the work done", "Laporkan hasil pekerjaan"},
	{"action:order-archive", "Order the file archived", "Perintahkan pengarsipan"},
	{"action:archive", "Archive the visit file", "Arsipkan berkas kunjungan"},

	// Decisions at the door.
	{"decision:granted", "Granted", "Diizinkan"},
	{"decision:denied", "Denied", "Ditolak"},
	{"decision:pending", "Waiting", "Menunggu"},

	// Reasons for a denial or a wait.
	{"reason:unknown_card", "unknown card", "kartu tidak dikenal"},
	{"reason:revoked", "card or person revoked", "kartu atau orang dicabut"},
	{"reason:not_approved", "visit not approved", "kunjungan belum disetujui"},
	{"reason:outside_window", "outside the visit's time", "di luar waktu kunjungan"},
	{"reason:escort_required", "an escort must tap too", "pendamping harus menempelkan kartu juga"},
	{"reason:escort_not_authorized", "not allowed to escort", "tidak berhak mendampingi"},
	{"reason:already_inside", "already inside", "sudah di dalam"},
	{"reason:lockdown", "door in lockdown", "pintu dalam penguncian"},
	{"reason:clock_unsynced", "clock not synchronised", "jam belum tersinkronisasi"},
	{"reason:storage_failure", "the audit log could not be written", "log audit gagal ditulis"},
	{"reason:no_room_access", "no room access", "tidak punya akses ruangan"},
	{"reason:two_person_required", "a second staff member is required", "perlu petugas kedua"},
	{"reason:waiting_for_escort", "waiting for the escort", "menunggu pendamping"},
	{"reason:waiting_for_second", "waiting for a second staff member", "menunggu petugas kedua"},
	{"reason:integrity_failure", "the log failed its integrity check", "log gagal pemeriksaan integritas"},

	// Alarms.
	{"alarm:visitor_unescorted", "Visitor without escort", "Pengunjung tanpa pendamping"},
	{"alarm:overstay", "Visit overstayed", "Melewati batas waktu kunjungan"},
	{"alarm:forced_open", "Door forced open", "Pintu dibuka paksa"},
	{"alarm:held_open", "Door held open", "Pintu terbuka terlalu lama"},
	{"alarm:clock_unsynced", "Clock not synchronised", "Jam belum tersinkronisasi"},
	{"alarm:tamper", "Device enclosure opened", "Gangguan fisik pada perangkat"},
	{"alarm:storage_failure", "Audit log cannot be written", "Log audit gagal ditulis"},
	{"alarm:integrity", "Audit log damaged", "Log audit rusak"},
	{"alarm:mqtt_down", "MQTT link down", "Koneksi MQTT terputus"},

	// Audit event types.
	{"event:started", "pintud started", "pintud mulai"},
	{"event:stopped", "pintud stopped", "pintud berhenti"},
	{"event:access", "Card at entry", "Kartu di pintu masuk"},
	{"event:exit", "Card at exit", "Kartu di pintu keluar"},
	{"event:rex", "Exit button", "Tombol keluar"},
	{"event:unlock", "Strike released", "Kunci dibuka"},
	{"event:relock", "Strike locked", "Kunci dikunci kembali"},
	{"event:door_open", "Door opened", "Pintu terbuka"},
	{"event:door_close", "Door closed", "Pintu tertutup"},
	{"event:alarm_raised", "Alarm raised", "Alarm berbunyi"},
	{"event:alarm_cleared", "Alarm cause ended", "Penyebab alarm berakhir"},
	{"event:commands_dropped", "Commands dropped over the limit", "Perintah dibuang karena melebihi batas"},
	{"event:alarm_acknowledged", "Alarm acknowledged", "Alarm dikonfirmasi"},
	{"event:person_added", "Person registered", "Orang didaftarkan"},
	{"event:person_updated", "Person changed", "Data orang diubah"},
	{"event:person_disabled", "Person disabled", "Orang dinonaktifkan"},
	{"event:person_enabled", "Person enabled", "Orang diaktifkan"},
	{"event:card_assigned", "Card assigned", "Kartu diberikan"},
	{"event:card_revoked", "Card revoked", "Kartu dicabut"},
	{"event:visit_step", "SOP step", "Langkah SOP"},
	{"event:lockdown", "Lockdown", "Penguncian"},
	{"event:lockdown_released", "Lockdown released", "Penguncian dicabut"},
	{"event:remote_command", "Remote command", "Perintah jarak jauh"},
	{"event:key_added", "Remote key added", "Kunci jarak jauh ditambahkan"},
	{"event:key_revoked", "Remote key revoked", "Kunci jarak jauh dicabut"},
	{"event:person_linked", "Unix account linked", "Akun Unix ditautkan"},
	{"event:password_set", "Password set", "Kata sandi ditetapkan"},
	{"event:login", "Signed in", "Masuk ke konsol"},
	{"event:login_failed", "Sign-in failed", "Gagal masuk ke konsol"},
	{"event:lockout", "Account locked", "Akun dikunci"},
	{"event:logout", "Signed out", "Keluar dari konsol"},
	{"event:refused", "Action refused", "Tindakan ditolak"},
	{"event:integrity_break", "Log damage found", "Kerusakan log ditemukan"},
	{"event:integrity_accepted", "Log damage accepted", "Kerusakan log diterima"},
	{"event:checkpoint", "Log verified", "Log terverifikasi"},
	{"event:record_sealed", "Record sealed", "Catatan disegel"},
	{"event:person_imported", "Person imported", "Orang diimpor"},
	{"event:import_started", "Import started", "Impor dimulai"},
	{"event:import_finished", "Import finished", "Impor selesai"},
	{"event:log_initialised", "New log begun", "Log baru dimulai"},
	{"event:anchor_recreated", "Anchor made again", "Jangkar log dibuat ulang"},
	{"event:log_restored", "Log restored from a backup", "Log dipulihkan dari cadangan"},

	// The SOP's eight steps (Akses Masuk Ruangan Server).
	{"step:1", "Form filled in and valid ID handed over", "Pengisian formulir dan penyerahan tanda pengenal"},
	{"step:2", "Check that the requirements are complete", "Pengecekan kelengkapan persyaratan"},
	{"step:3", "Verification and access decision", "Verifikasi dan keputusan izin akses"},
	{"step:4", "Escort and supervision in the server room", "Pendampingan dan pengawasan di ruang server"},
	{"step:5", "ID returned and exit time recorded", "Pengembalian tanda pengenal dan pencatatan jam keluar"},
	{"step:6", "Report of the work done", "Pelaporan hasil pekerjaan"},
	{"step:7", "Order to archive the visit file", "Perintah pengarsipan"},
	{"step:8", "Visit file archived", "Pengarsipan berkas kunjungan"},
}

// Role is the SOP's name for a role.
func (t *Text) Role(r controller.Role) string { return t.token("role", string(r)) }

// State is a visit state as the SOP's history words it.
func (t *Text) State(s controller.VisitState) string { return t.token("state", string(s)) }

// Action names a workflow action as a button says it.
func (t *Text) Action(a controller.Action) string { return t.token("action", string(a)) }

// Decision names a decision at the door.
func (t *Text) Decision(d controller.Decision) string { return t.token("decision", string(d)) }

// Reason says why a read was denied or waits.
func (t *Text) Reason(r controller.Reason) string { return t.token("reason", string(r)) }

// Alarm names an alarm kind.
func (t *Text) Alarm(k controller.AlarmKind) string { return t.token("alarm", string(k)) }

// Event names an audit event type.
func (t *Text) Event(e controller.EventType) string { return t.token("event", string(e)) }

// Step is the name of SOP step n (1 to 8).
func (t *Text) Step(n int) string {
	if n < 1 || n > 8 {
		return fmt.Sprintf("step %d", n)
	}
	return t.token("step", strconv.Itoa(n))
}

// StepIn is the name of SOP step n in lang.
func StepIn(lang Lang, n int) string { return New(lang).Step(n) }
