// Package report makes the papers an auditor asks for, as pure functions
// from the controller's records and audit events to bytes: the per-visit
// dossier (PDF), the SOP time-compliance report (PDF and XLSX), the
// spreadsheet-safe CSV of the audit log, and the contents of the signed
// export bundle (written with package bundle).
//
// Text a person reads is in Bahasa Indonesia (the default) or English, in
// the SOP's own terms (Staf Administrasi, Koordinator Pengelola Ruang
// Server, Kepala Bidang, mutu baku), with times in the site's zone (WIB,
// WITA, WIT). PDFs embed DejaVu Sans (fonts/, with its licence), subset to
// the glyphs used, so they look the same on any machine.
//
// Which audit events belong to a visit's papers, and how each is worded, is
// decided in one place: stayLineOf in stay.go.
//
// # Caveats
//
// A dossier shows alarms acknowledged only once the log records
// acknowledgements; until then every alarm of a stay reads "not
// acknowledged". VisitEvents finds a visit's first event by bisecting the
// log on time, and falls back to reading the whole log when a clock set
// back has left the times out of order.
package report
