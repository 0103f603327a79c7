package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/memstore"
)

// hostile is text that would act on a terminal or read as something else:
// an OSC sequence that retitles the window, a screen clear, a carriage
// return, a tab, a newline, a C1 CSI, a right-to-left override, a
// zero-width space and a byte that is not UTF-8.
const hostile = "Ad\x1b]0;pwned\x07i\x1b[2J\r\tX\nY\u009b31m\u202eevil\u200bZ\xff"

// escaped is how hostile reads once escaped, after pintud's JSON made its
// stray byte U+FFFD.
const escaped = `Ad\x1b]0;pwned\x07i\x1b[2J\r\tX\nY\u009b31m\u202eevil\u200bZ` + "\ufffd"

// hostileID is a person id stored before ids were checked.
const hostileID = "bud\u0456\x1b[31m" // Cyrillic і, then red

// hostileStore holds records written before pintud refused such text: a
// visitor with a hostile name, organisation and identity document, a
// person with a hostile id, a card number, a rejected visit whose purpose,
// devices and reason are hostile, an alarm acknowledged with a hostile
// note, and events quoting hostile input (an MQTT payload, a card read).
func hostileStore(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New()
	var evs []controller.Event
	prev := ""
	add := func(e controller.Event) {
		e.Seq, e.Time, e.Prev, e.ClockTrusted = uint64(len(evs)+1), t0.Add(-time.Hour), prev, true
		e.Hash = e.ComputeHash()
		prev = e.Hash
		evs = append(evs, e)
	}
	add(controller.Event{Type: controller.EventPersonAdded, Person: "budi", Actor: "local", Detail: hostile})
	add(controller.Event{Type: controller.EventPersonAdded, Person: hostileID, Actor: hostileID})
	add(controller.Event{Type: controller.EventAccess, Door: "server-room", Reader: "entry", Card: hostile,
		Decision: controller.Denied, Reason: controller.ReasonUnknownCard})
	add(controller.Event{Type: controller.EventRemoteCommand, Door: "server-room", Detail: "malformed payload: " + hostile})
	add(controller.Event{Type: controller.EventVisitStep, Person: "budi", Visit: "V0001", Actor: "kabid", Detail: "reject: " + hostile})
	ch := controller.Change{
		Events: evs,
		People: []controller.Person{
			{ID: "budi", Name: "Budi " + hostile, Org: hostile, IDDoc: hostile, Roles: []controller.Role{controller.RoleVisitor}},
			{ID: hostileID, Name: hostile, Roles: []controller.Role{controller.RoleOfficer}},
			{ID: "adm", Name: "Sari", Roles: []controller.Role{controller.RoleAdmin}},
			{ID: "koor", Name: "Bayu", Roles: []controller.Role{controller.RoleCoordinator}},
			{ID: "kabid", Name: "Rina", Roles: []controller.Role{controller.RoleHead}},
		},
		Cards: []controller.Card{{ID: "C\x1b[31m\u202e", PersonID: hostileID, AssignedAt: t0.Add(-time.Hour)}},
		Visits: []controller.Visit{{
			ID:          "V0001",
			VisitForm:   controller.VisitForm{VisitorID: "budi", Purpose: hostile, Devices: hostile, From: t0, Until: t0.Add(2 * time.Hour), EscortID: hostileID},
			Org:         hostile,
			IDDoc:       hostile,
			State:       controller.StateRejected,
			SubmittedBy: "adm",
			Steps: []controller.StepRecord{
				{Step: 1, Action: controller.ActionSubmit, State: controller.StateSubmitted, Actor: "adm", Started: t0.Add(-time.Hour), At: t0.Add(-time.Hour), Standard: 5 * time.Minute},
				{Step: 2, Action: controller.ActionCheck, State: controller.StateChecked, Actor: hostileID, Started: t0.Add(-time.Hour), At: t0.Add(-time.Hour + time.Minute), Standard: 5 * time.Minute},
				{Step: 3, Action: controller.ActionReject, State: controller.StateRejected, Actor: "kabid", Started: t0.Add(-time.Hour + time.Minute), At: t0.Add(-time.Hour + 2*time.Minute), Standard: 5 * time.Minute, Note: hostile},
			},
		}},
		Alarms: []controller.Alarm{{ID: "A0003", Kind: controller.AlarmTamper, Door: "server-room", Person: hostileID, Since: t0.Add(-time.Hour),
			Active: true, NeedsAck: true, AckedBy: hostileID, AckedAt: t0.Add(-time.Hour), AckNote: hostile, Detail: hostile}},
	}
	// Records are sealed into the chain: one event names them all, as the
	// schema migration seals records found from an older release.
	seal := uint64(len(evs) + 1)
	var refs []controller.RecordRef
	for i := range ch.People {
		ch.People[i].Seq = seal
		refs = append(refs, ch.People[i].Sealed().Ref())
	}
	for i := range ch.Cards {
		ch.Cards[i].Seq = seal
		refs = append(refs, ch.Cards[i].Sealed().Ref())
	}
	for i := range ch.Visits {
		ch.Visits[i].Seq = seal
		refs = append(refs, ch.Visits[i].Sealed().Ref())
	}
	add(controller.Event{Type: controller.EventRecordSealed, Actor: "local", Detail: "records of an older release", Records: refs})
	ch.Events = evs
	if err := s.Commit(ch); err != nil {
		t.Fatal(err)
	}
	return s
}

// unsafeRune reports a character that must never reach a terminal raw.
// U+FFFD is pintud's JSON's stand-in for a byte that was not UTF-8: it is
// visible.
func unsafeRune(r rune) bool {
	return r != '\n' && r != utf8.RuneError && !unicode.IsPrint(r)
}

// TestHostileText runs every command that prints what people or devices
// typed against records holding hostile text, in both languages, and
// checks nothing but plain visible characters reaches the terminal: the
// text is there, escaped.
func TestHostileText(t *testing.T) {
	commands := []struct {
		args string
		want string // an escaped form the output must hold
	}{
		{"status", `\x1b[31m`},
		{"person list", escaped},
		{"visit show V0001", escaped},
		{"visit list", escaped},
		{"alarm list", escaped},
		{"events", `\x1b]0;pwned`},
		{"events --limit 1", ""}, // the card is cut at the table's edge
		{"whoami", ""},
		{"verify", ""},
		{"person update --id budi --org Diskominfo", `Budi Ad\x1b]0;pwned`},
		{"person disable --id budi", `Budi Ad\x1b]0;pwned`},
		{"person enable --id budi", `Budi Ad\x1b]0;pwned`},
		{"card revoke --card C\x1b[31m\u202e", `C\x1b[31m\u202e`},
		{"alarm ack A0003 --by koor", `\x1b[31m`},
		// Errors quote what was asked for.
		{"visit show V\x1b[2J", ""},
		{"card revoke --card X\u202e\x1b[2J", ""},
		{"person add --id b\u200budi --name B --role visitor", ""},
	}
	var d *daemon
	for _, lang := range []string{"en", "id"} {
		d = startDaemonOn(t, hostileStore(t))
		// A card read now, from a reader sending garbage.
		d.must(nil, "sim", "tap", "--door", "server-room", "--reader", "entry", "--card", "C-\x1b[2J\u202e")
		for _, tt := range commands {
			t.Run(lang+"/"+tt.args, func(t *testing.T) {
				r := d.run(map[string]string{"PINTU_LANG": lang}, splitArgs(tt.args)...)
				out := r.stdout + r.stderr
				if !utf8.ValidString(out) {
					t.Fatalf("pintuctl %q printed bytes that are not UTF-8:\n%q", tt.args, out)
				}
				for i, rn := range out {
					if unsafeRune(rn) {
						t.Fatalf("pintuctl %q printed %U at byte %d:\n%s", tt.args, rn, i, strings.ToValidUTF8(out, "?"))
					}
				}
				if !strings.Contains(out, tt.want) {
					t.Errorf("pintuctl %q output lacks %s:\n%s", tt.args, tt.want, out)
				}
			})
		}
	}
	// --json keeps the text exactly, with every such character escaped as
	// JSON escapes it.
	for _, args := range []string{"person list --json", "visit show V0001 --json", "events --json", "alarm list --json", "status --json"} {
		r := d.run(nil, strings.Fields(args)...)
		for _, rn := range r.stdout {
			if unsafeRune(rn) {
				t.Errorf("pintuctl %s printed %U", args, rn)
			}
		}
		if !json.Valid([]byte(r.stdout)) {
			t.Errorf("pintuctl %s printed invalid JSON", args)
		}
	}
	d = startDaemonOn(t, hostileStore(t))
	var people []controller.Person
	if err := json.Unmarshal([]byte(d.must(nil, "person", "list", "--json")), &people); err != nil {
		t.Fatal(err)
	}
	// The stray byte is U+FFFD once encoded; everything else is kept.
	if want := strings.ToValidUTF8(hostile, "\ufffd"); people[1].Org != want {
		t.Errorf("person list --json: org %q, want %q", people[1].Org, want)
	}
	// An export is data: to a file or a pipe it is exactly what is stored;
	// shown on a terminal, it is escaped.
	if out := d.must(nil, "export", "--format", "csv"); !strings.Contains(out, hostile) {
		t.Errorf("export --format csv to a pipe changed the text:\n%q", out)
	}
	d.terminal = true
	for _, format := range []string{"csv", "jsonl"} {
		out := d.must(nil, "export", "--format", format)
		for _, rn := range out {
			if unsafeRune(rn) {
				t.Errorf("export --format %s printed %U to a terminal", format, rn)
				break
			}
		}
		if !strings.Contains(out, "pwned") {
			t.Errorf("export --format %s to a terminal lost the text:\n%s", format, out)
		}
	}
	d.terminal = false

	// A --json error is escaped too, and so is a human one.
	bad := t.TempDir() + "/no\u202edir/audit.csv"
	r := d.run(nil, "export", "--format", "csv", "-o", bad, "--json")
	if bytes.ContainsRune([]byte(r.stderr), '\u202e') || !strings.Contains(r.stderr, `\u202e`) || !json.Valid([]byte(r.stderr)) {
		t.Errorf("export --json error = %q, want JSON with the override escaped", r.stderr)
	}
	r = d.run(nil, "export", "--format", "csv", "-o", bad)
	if bytes.ContainsRune([]byte(r.stderr), '\u202e') || !strings.Contains(r.stderr, `\u202e`) {
		t.Errorf("export error = %q, want the override escaped", r.stderr)
	}
}

// TestRefuseHostileInput: what would need escaping is refused when typed,
// through pintuctl against pintud, with a message naming the character,
// exit status 1, and nothing written.
func TestRefuseHostileInput(t *testing.T) {
	d := startDaemon(t).seed()
	count := func() int {
		var evs []controller.Event
		if err := json.Unmarshal([]byte(d.must(nil, "events", "--json")), &evs); err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := count()
	long := strings.Repeat("a", controller.MaxNameLen+1)
	tests := []struct{ args, want string }{
		{"person add --id ani --name 'Ani\tX' --role officer", "name contains a control character (U+0009)"},
		{"person add --id ani --name 'Ani\x1b[2J' --role officer", "name contains a control character (U+001B)"},
		{"person add --id ani --name 'Ani\nX' --role officer", "name contains a control character (U+000A)"},
		{"person add --id ani --name 'Ani\u202eX' --role officer", "bidirectional formatting character (U+202E)"},
		{"person add --id ani --name 'A\u200bni' --role officer", "invisible character (U+200B)"},
		{"person add --id ani --name Ani --org 'PT\u2066X' --role officer", "organisation contains a bidirectional formatting character (U+2066)"},
		{"person add --id ani --name " + long + " --role officer", "name is 201 characters long; at most 200"},
		{"person add --id a\u200bni --name Ani --role officer", "person id contains an invisible character (U+200B)"},
		{"person add --id \u0430ni --name Ani --role officer", "U+0430"},
		{"person add --id Ani --name Ani --role officer", "'A' (U+0041)"},
		{"person add --id " + strings.Repeat("a", 65) + " --name Ani --role officer", "at most 64"},
		{"person update --id budi --name 'Budi\r'", "control character (U+000D)"},
		{"card assign --person off --card 'C\x1b[2J'", "U+001B"},
		{"visit submit --visitor budi --by adm --purpose 'x\u202ey'", "purpose contains a bidirectional formatting character"},
		{"visit submit --visitor budi --by adm --purpose x --devices 'lap\ttop'", "control character (U+0009)"},
		{"visit reject V0001 --by kabid --reason 'no\x1b[2J'", "control character (U+001B)"},
		{"visit reject V0001 --by kabid --reason " + strings.Repeat("x", controller.MaxNoteLen+1), "at most 2000"},
	}
	for _, tt := range tests {
		t.Run(tt.args[:min(len(tt.args), 60)], func(t *testing.T) {
			r := d.run(nil, splitArgs(tt.args)...)
			if r.err == nil || !strings.Contains(r.err.Error(), "invalid input") || !strings.Contains(r.err.Error(), tt.want) || r.code != exitFailure {
				t.Errorf("pintuctl %q = %v (exit %d), want invalid input with %q and exit 1", tt.args, r.err, r.code, tt.want)
			}
		})
	}
	if n := count(); n != before {
		t.Errorf("refused input wrote %d events", n-before)
	}
}
