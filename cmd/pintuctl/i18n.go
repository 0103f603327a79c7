package main

import "fmt"

// The languages of human output. Bahasa Indonesia and English are both
// first-class: the SOP is written in Indonesian, the code in English.
const (
	langEN = "en"
	langID = "id"
)

// indonesian translates the English strings of human output. A string
// missing here is shown in English.
var indonesian = map[string]string{
	// status
	"Site":                "Lokasi",
	"Time":                "Waktu",
	"Clock":               "Jam",
	"trusted":             "tepercaya",
	"NOT TRUSTED":         "TIDAK TEPERCAYA",
	"DOOR":                "PINTU",
	"LOCK":                "KUNCI",
	"CONTACT":             "SENSOR PINTU",
	"LOCKDOWN":            "PENGUNCIAN",
	"locked":              "terkunci",
	"unlocked":            "tidak terkunci",
	"open":                "terbuka",
	"closed":              "tertutup",
	"yes":                 "ya",
	"no":                  "tidak",
	"Alarms":              "Alarm",
	"none":                "tidak ada",
	"ALARM":               "ALARM",
	"SINCE":               "SEJAK",
	"Inside":              "Di dalam",
	"nobody":              "tidak ada orang",
	"PERSON":              "ORANG",
	"NAME":                "NAMA",
	"VISIT":               "KUNJUNGAN",
	"ESCORT":              "PENDAMPING",
	"alone (staff)":       "sendiri (staf)",
	"escort of %s":        "pendamping %s",
	"storage_failure":     "log audit gagal ditulis",
	"yes, by %s since %s": "ya, oleh %s sejak %s",
	"ACKNOWLEDGED":        "DIKONFIRMASI",
	"ENDED":               "BERAKHIR",
	"by %s":               "oleh %s",
	"not yet":             "belum",
	"not needed":          "tidak perlu",
	"Cause gone, awaiting acknowledgement (pintuctl alarm ack)": "Penyebab sudah hilang, menunggu konfirmasi (pintuctl alarm ack)",
	"visitor_unescorted": "pengunjung tanpa pendamping",
	"overstay":           "melewati batas waktu kunjungan",
	"forced_open":        "pintu dibuka paksa",
	"held_open":          "pintu terbuka terlalu lama",
	"clock_unsynced":     "jam belum tersinkronisasi",
	"tamper":             "gangguan fisik pada perangkat",

	// visit show and list
	"Visit":                    "Kunjungan",
	"State":                    "Status",
	"Visitor":                  "Pengunjung",
	"Organisation":             "Instansi",
	"ID document":              "Tanda pengenal",
	"Purpose":                  "Keperluan",
	"Devices brought":          "Perangkat yang dibawa",
	"From":                     "Mulai",
	"Until":                    "Sampai",
	"Escort":                   "Pendamping",
	"any escort-capable staff": "petugas pendamping mana pun",
	"Submitted by":             "Diajukan oleh",
	"Entered":                  "Masuk",
	"Exited":                   "Keluar",
	"Escorted by":              "Didampingi oleh",
	"Door":                     "Pintu",
	"ID returned":              "Tanda pengenal dikembalikan",
	"STEP":                     "LANGKAH",
	"ACTIVITY":                 "AKTIVITAS",
	"ACTION":                   "TINDAKAN",
	"WHO":                      "OLEH",
	"WHEN":                     "WAKTU",
	"TOOK":                     "DURASI",
	"STANDARD":                 "MUTU BAKU",
	"NOTE":                     "CATATAN",
	"over":                     "melebihi",
	"No SOP step taken yet.":   "Belum ada langkah SOP.",
	"STATE":                    "STATUS",
	"VISITOR":                  "PENGUNJUNG",
	"FROM":                     "MULAI",
	"UNTIL":                    "SAMPAI",
	"PURPOSE":                  "KEPERLUAN",
	"no visits":                "tidak ada kunjungan",

	// visit states
	"submitted":       "diajukan",
	"checked":         "diperiksa",
	"approved":        "disetujui",
	"rejected":        "ditolak",
	"inside":          "di dalam ruang server",
	"exited":          "sudah keluar",
	"reported":        "dilaporkan",
	"archive_ordered": "diperintahkan untuk diarsipkan",
	"archived":        "diarsipkan",

	// workflow actions
	"submit":        "ajukan",
	"check":         "periksa",
	"approve":       "setujui",
	"reject":        "tolak",
	"enter":         "masuk",
	"exit":          "keluar",
	"return-id":     "kembalikan tanda pengenal",
	"report":        "laporkan",
	"order-archive": "perintahkan pengarsipan",
	"archive":       "arsipkan",

	// alarms, lockdown
	"no alarms":                        "tidak ada alarm",
	"active":                           "aktif",
	"ended %s":                         "berakhir %s",
	"alarm %s (%s) acknowledged by %s": "alarm %s (%s) dikonfirmasi oleh %s",
	"it stays listed until its cause is gone": "alarm tetap tercantum sampai penyebabnya hilang",
	"lockdown on: %s (only egress opens it)":  "penguncian aktif: %s (hanya bisa dibuka untuk keluar)",
	"lockdown released: %s":                   "penguncian dicabut: %s",

	// people, cards, simulated hardware, the log
	"DISABLED":            "NONAKTIF",
	"updated %s (%s): %s": "data %s (%s) diperbarui: %s",
	"disabled %s (%s): cards refused, remote keys unknown, no SOP step": "%s (%s) dinonaktifkan: kartu ditolak, kunci jarak jauh tidak berlaku, tidak dapat mengambil langkah SOP",
	"enabled %s (%s)":                         "%s (%s) diaktifkan kembali",
	"enclosure of %s: %s":                     "kotak perangkat %s: %s",
	"the audit log could not be written (%s)": "log audit tidak dapat ditulis (%s)",
	"added":                  "ditambahkan",
	"ROLES":                  "PERAN",
	"ORG":                    "INSTANSI",
	"card %s assigned to %s": "kartu %s diberikan kepada %s",
	"card %s revoked":        "kartu %s dicabut",
	"visit %s is now %s":     "kunjungan %s sekarang %s",
	"door":                   "pintu",
	"exit button pressed at %s: strike released": "tombol keluar ditekan di %s: kunci pintu dibuka",
	"TIME":                     "WAKTU",
	"TYPE":                     "JENIS",
	"READER":                   "PEMBACA",
	"CARD":                     "KARTU",
	"DECISION":                 "KEPUTUSAN",
	"REASON":                   "ALASAN",
	"ACTOR":                    "PELAKU",
	"DETAIL":                   "RINCIAN",
	"exported %s events to %s": "%s peristiwa diekspor ke %s",
	"ok: %d events and %d records checked, hash chain and records intact": "ok: %d peristiwa dan %d catatan diperiksa, rantai hash dan catatan utuh",

	// integrity and import
	"accepted: %s": "diterima: %s",
	"entry is no longer refused for integrity": "akses masuk tidak lagi ditolak karena integritas",
	"Verified to":     "Terverifikasi sampai",
	"Last full check": "Pemeriksaan penuh terakhir",
	"Checking now":    "Sedang diperiksa",
	"No break: the log and the records are intact as far as checked":                   "Tidak ada kerusakan: log dan catatan utuh sejauh yang diperiksa",
	"BREAKS (entry is refused until the head accepts them: pintuctl integrity accept)": "KERUSAKAN (akses masuk ditolak sampai Kepala Bidang menerimanya: pintuctl integrity accept)",
	"ACCEPTED":                           "DITERIMA",
	"accepted by %s at %s: %s":           "diterima oleh %s pada %s: %s",
	"%s: %d bad lines; nothing imported": "%s: %d baris salah; tidak ada yang diimpor",
	"imported %d of %d lines":            "%d dari %d baris diimpor",
	"%d people imported, %d already registered, of %d lines": "%d orang diimpor, %d sudah terdaftar, dari %d baris",
	"integrity": "integritas log atau catatan rusak",

	// decisions
	"granted": "diizinkan",
	"denied":  "ditolak",
	"pending": "menunggu",
}

// sopSteps are the SOP's eight steps (Akses Masuk Ruangan Server), in
// Indonesian as the SOP words them and in English.
var sopSteps = [8][2]string{
	{"Pengisian formulir dan penyerahan tanda pengenal", "Form filled in and valid ID handed over"},
	{"Pengecekan kelengkapan persyaratan", "Check that the requirements are complete"},
	{"Verifikasi dan keputusan izin akses", "Verification and access decision"},
	{"Pendampingan dan pengawasan di ruang server", "Escort and supervision in the server room"},
	{"Pengembalian tanda pengenal dan pencatatan jam keluar", "ID returned and exit time recorded"},
	{"Pelaporan hasil pekerjaan", "Report of the work done"},
	{"Perintah pengarsipan", "Order to archive the visit file"},
	{"Pengarsipan berkas kunjungan", "Visit file archived"},
}

// tr returns s in the CLI's language.
func (c *cli) tr(s string) string {
	if c.lang == langID {
		if t, ok := indonesian[s]; ok {
			return t
		}
	}
	return s
}

// stepNames returns step n's name in the CLI's language and in the other.
func (c *cli) stepNames(n int) (string, string) {
	if n < 1 || n > len(sopSteps) {
		return fmt.Sprintf("step %d", n), ""
	}
	s := sopSteps[n-1]
	if c.lang == langID {
		return s[0], s[1]
	}
	return s[1], s[0]
}
