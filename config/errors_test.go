package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// door1 is a valid door list item, for cases about other keys. Its lines are
// 3 to 8 when it follows head.
const door1 = `  - name: d1
    readers:
      - name: in
        direction: entry
        driver: sim
    relay: {driver: sim}
`

// head is a valid start for a door list.
const head = "site: {name: Lab}\ndoors:\n"

// errorTests are files with problems and the exact report for each. They
// also seed FuzzParse.
var errorTests = []struct {
	name string
	in   string
	want []string
}{
	// The file as a whole.
	{"empty", "", []string{"pintud.yaml:1: file is empty"}},
	{"comments only", "# nothing\n# here\n", []string{"pintud.yaml:1: file is empty"}},
	{"null document", "---\n", []string{"pintud.yaml:1: file has no settings"}},
	{"list", "- a\n- b\n", []string{`pintud.yaml:1: got a list, want a mapping`}},
	{"scalar", "hello\n", []string{`pintud.yaml:1: got "hello", want a mapping`}},
	{"two documents", minimal + "---\nsite: {name: B}\n", []string{
		"pintud.yaml:8: a second YAML document; keep all settings in one"}},

	// YAML syntax, with lines as the file has them.
	{"syntax on line 1", "site: name: Lab\n", []string{
		"pintud.yaml:1: invalid YAML: mapping values are not allowed in this context"}},
	{"syntax scanner", "site:\n  name: Lab\n  timezone: a: b\n", []string{
		"pintud.yaml:3: invalid YAML: mapping values are not allowed in this context"}},
	{"syntax parser", "site:\n  name: Lab\n- doors\n", []string{
		"pintud.yaml:3: invalid YAML: did not find expected key"}},
	{"unclosed flow", "state_dir: x\nsite: {name: Lab\ndoors: []\n", []string{
		"pintud.yaml:2: invalid YAML: did not find expected ',' or '}'"}},
	{"unclosed quote", "site:\n  name: Lab\n  timezone: \"Asia\n", []string{
		"pintud.yaml:3: invalid YAML: found unexpected end of stream"}},
	{"tab indent", "site:\n  name: Lab\n\ttimezone: UTC\n", []string{
		"pintud.yaml:3: invalid YAML: found a tab character that violates indentation"}},
	{"unknown anchor", "site:\n  name: Lab\nstate_dir: *dir\n", []string{
		"pintud.yaml:3: invalid YAML: unknown anchor 'dir' referenced"}},
	{"crlf line ends", strings.ReplaceAll(minimal+"colour: red\n", "\n", "\r\n"), []string{
		"pintud.yaml:8: colour: unknown key (want site, state_dir, api, roles, sop, doors, mqtt, metrics, backup, console)"}},
	{"cr line ends", strings.ReplaceAll(minimal+"colour: red\n", "\n", "\r"), []string{
		"pintud.yaml:8: colour: unknown key (want site, state_dir, api, roles, sop, doors, mqtt, metrics, backup, console)"}},
	{"cr line ends, control character", "site:\r  name: Lab\r  x: \x02\r", []string{
		"pintud.yaml:3: control character U+0002 is not allowed"}},
	{"control character", "site:\n  name: La\x01b\n", []string{
		"pintud.yaml:2: control character U+0001 is not allowed"}},
	{"not utf-8", "site:\n  name: Lab\n  timezone: \xff\n", []string{
		"pintud.yaml:3: the file is not UTF-8 text"}},
	{"alias cycle", "site: &s {name: Lab, x: [*s]}\n", []string{
		"pintud.yaml:1: alias *s is inside its own anchor"}},
	{"billion laughs", `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
`, []string{"pintud.yaml:1: the aliases expand to more than 100000 values"}},

	// Keys.
	{"unknown top key", minimal + "colour: red\n", []string{
		"pintud.yaml:8: colour: unknown key (want site, state_dir, api, roles, sop, doors, mqtt, metrics, backup, console)"}},
	{"unknown door key", head + door1 + "    colour: red\n", []string{
		"pintud.yaml:9: doors[0].colour: unknown key (want name, unlock, held_open, escort_window, relock_on_close, two_person, readers, relay, contact, rex, tamper, indicator)"}},
	{"unknown reader key", head + door1 + "    contact: {driver: sim, pin: 17}\n", []string{
		"pintud.yaml:9: doors[0].contact.pin: unknown key (want driver)"}},
	{"repeated key", "site:\n  name: Lab\n  name: Lab2\ndoors:\n" + door1, []string{
		"pintud.yaml:3: site.name: repeated key (first at line 2)"}},
	{"merge key", "base: &b {unlock: 5s}\n" + head + "  - <<: *b\n    name: d1\n" + door1[strings.Index(door1, "    readers"):], []string{
		"pintud.yaml:1: base: unknown key (want site, state_dir, api, roles, sop, doors, mqtt, metrics, backup, console)",
		"pintud.yaml:4: doors[0].<<: merge keys are not supported; write the keys out"}},
	{"key not a string", "site:\n  name: Lab\n  [a]: b\ndoors:\n" + door1, []string{
		"pintud.yaml:3: site: got a list as a key, want a name"}},

	// Missing keys.
	{"missing site", "doors:\n" + door1, []string{"pintud.yaml:1: site.name: missing"}},
	{"missing site name", head + door1 + "state_dir: x\n", nil}, // control: valid
	{"null site name", "site:\n  name:\ndoors:\n" + door1, []string{"pintud.yaml:2: site.name: has no value"}},
	{"missing doors", "site: {name: Lab}\n", []string{"pintud.yaml:1: doors: missing"}},
	{"no doors", "site: {name: Lab}\ndoors: []\n", []string{"pintud.yaml:2: doors: no doors (want at least one)"}},
	{"missing door keys", head + "  - unlock: 5s\n", []string{
		"pintud.yaml:3: doors[0].name: missing",
		"pintud.yaml:3: doors[0].readers: missing",
		"pintud.yaml:3: doors[0].relay: missing"}},
	{"empty door item", head + door1 + "  -\n", []string{
		"pintud.yaml:9: doors[1].name: missing",
		"pintud.yaml:9: doors[1].readers: missing",
		"pintud.yaml:9: doors[1].relay: missing"}},
	{"no readers", head + "  - name: d1\n    readers: []\n    relay: {driver: sim}\n", []string{
		"pintud.yaml:4: doors[0].readers: no readers (want at least one)"}},
	{"missing reader keys", head + "  - name: d1\n    readers:\n      - name: in\n    relay: {}\n", []string{
		"pintud.yaml:5: doors[0].readers[0].direction: missing",
		"pintud.yaml:5: doors[0].readers[0].driver: missing",
		"pintud.yaml:6: doors[0].relay.driver: missing"}},
	{"contact without driver", head + door1 + "    contact: {}\n", []string{
		"pintud.yaml:9: doors[0].contact.driver: missing"}},

	// Types.
	{"site is a list", "site: [Lab]\ndoors:\n" + door1, []string{
		"pintud.yaml:1: site: got a list, want a mapping"}},
	{"doors is a mapping", "site: {name: Lab}\ndoors: {name: d1}\n", []string{
		"pintud.yaml:2: doors: got a mapping, want a list"}},
	{"door is a string", head + "  - server-room\n", []string{
		`pintud.yaml:3: doors[0]: got "server-room", want a mapping`}},
	{"name is a list", "site: {name: [a, b]}\ndoors:\n" + door1, []string{
		"pintud.yaml:1: site.name: got a list, want a string"}},
	{"bool is abc", head + door1 + "    two_person: abc\n", []string{
		`pintud.yaml:9: doors[0].two_person: "abc" is not true or false`}},
	{"bool is yes", head + door1 + "    relock_on_close: yes\n", []string{
		`pintud.yaml:9: doors[0].relock_on_close: "yes" is not true or false`}},
	{"bool is a list", head + door1 + "    two_person: [true]\n", []string{
		`pintud.yaml:9: doors[0].two_person: got a list, want true or false`}},
	{"roles is a string", minimal + "roles: {escort: officer}\n", []string{
		`pintud.yaml:8: roles.escort: got "officer", want a list`}},
	{"escaped control character", "site: {name: \"Lab\\tone\"}\ndoors:\n" + door1, []string{
		`pintud.yaml:1: site.name: "Lab\tone" contains a control character`}},
	{"empty string", head + door1 + "state_dir: ''\n", []string{
		"pintud.yaml:9: state_dir: must not be empty"}},

	// Durations.
	{"duration words", head + door1 + "    unlock: 5 seconds\n", []string{
		`pintud.yaml:9: doors[0].unlock: "5 seconds" is not a duration like 5s or 1m30s`}},
	{"duration no unit", head + door1 + "    held_open: 30\n", []string{
		`pintud.yaml:9: doors[0].held_open: "30" is not a duration like 5s or 1m30s`}},
	{"duration zero", head + door1 + "    escort_window: 0s\n", []string{
		`pintud.yaml:9: doors[0].escort_window: "0s" must be positive`}},
	{"duration negative", head + door1 + "    unlock: -5s\n", []string{
		`pintud.yaml:9: doors[0].unlock: "-5s" must be positive`}},
	{"duration is a mapping", head + door1 + "    unlock: {s: 5}\n", []string{
		`pintud.yaml:9: doors[0].unlock: got a mapping, want a duration`}},

	// Names.
	{"duplicate door", head + door1 + door1, []string{
		`pintud.yaml:9: doors[1].name: "d1" is already the name of doors[0] (line 3)`}},
	{"duplicate reader", head + door1[:len(door1)-len("    relay: {driver: sim}\n")] +
		"      - {name: in, direction: exit, driver: sim}\n    relay: {driver: sim}\n", []string{
		`pintud.yaml:8: doors[0].readers[1].name: "in" is already the name of doors[0].readers[0] (line 5)`}},
	{"same reader name on two doors", head + door1 + strings.Replace(door1, "d1", "d2", 1), nil},
	{"bad door name", head + strings.Replace(door1, "d1", "server room", 1), []string{
		`pintud.yaml:3: doors[0].name: "server room" is not a valid name (want up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit)`}},
	{"door name starts with a dash", head + strings.Replace(door1, "d1", "'-x'", 1), []string{
		`pintud.yaml:3: doors[0].name: "-x" is not a valid name (want up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit)`}},

	// Closed sets.
	{"direction", head + strings.Replace(door1, "direction: entry", "direction: sideways", 1), []string{
		`pintud.yaml:6: doors[0].readers[0].direction: "sideways" is not entry or exit`}},
	{"reader driver", head + strings.Replace(door1, "driver: sim\n", "driver: magstripe\n", 1), []string{
		`pintud.yaml:7: doors[0].readers[0].driver: "magstripe" is not a known driver (want sim, wiegand, rc522, pn532, hid)`}},
	{"relay driver", head + strings.Replace(door1, "{driver: sim}", "{driver: wiegand}", 1), []string{
		`pintud.yaml:8: doors[0].relay.driver: "wiegand" is not a known driver (want sim, gpio)`}},
	{"timezone", "site: {name: Lab, timezone: Mars/Olympus}\ndoors:\n" + door1, []string{
		`pintud.yaml:1: site.timezone: "Mars/Olympus" is not a known time zone (want an IANA name such as Asia/Jakarta)`}},
	{"unknown role", minimal + "roles:\n  room_access: [officer, boss]\n", []string{
		`pintud.yaml:9: roles.room_access[1]: "boss" is not a role (want admin, coordinator, head or officer)`}},
	{"visitor role", minimal + "roles:\n  escort:\n    - officer\n    - visitor\n", []string{
		`pintud.yaml:11: roles.escort[1]: a visitor cannot carry room access or escort rights`}},
	{"role twice", minimal + "roles:\n  escort: [officer, head, officer]\n", []string{
		`pintud.yaml:9: roles.escort[2]: "officer" is listed twice`}},
	{"role empty item", minimal + "roles:\n  escort:\n    -\n", []string{
		`pintud.yaml:10: roles.escort[0]: has no value`}},

	// SOP.
	{"step out of range", minimal + "sop:\n  step_standards:\n    9: 5m\n    0: 5m\n", []string{
		`pintud.yaml:10: sop.step_standards.9: "9" is not a step number (want 1 to 8)`,
		`pintud.yaml:11: sop.step_standards.0: "0" is not a step number (want 1 to 8)`}},
	{"step not a number", minimal + "sop:\n  step_standards: {four: 5m}\n", []string{
		`pintud.yaml:9: sop.step_standards.four: "four" is not a step number (want 1 to 8)`}},
	{"step twice", minimal + "sop:\n  step_standards:\n    4: 5m\n    04: 6m\n", []string{
		`pintud.yaml:11: sop.step_standards.04: step 4 is set twice (first at line 10)`}},
	{"step duration", minimal + "sop:\n  step_standards:\n    4: soon\n    5:\n", []string{
		`pintud.yaml:10: sop.step_standards.4: "soon" is not a duration like 5s or 1m30s`,
		`pintud.yaml:11: sop.step_standards.5: has no value`}},
	{"max visit window", minimal + "sop:\n  max_visit_window: forever\n", []string{
		`pintud.yaml:9: sop.max_visit_window: "forever" is not a duration like 5s or 1m30s`}},
	{"max visit window negative", minimal + "sop:\n  max_visit_window: -1h\n", []string{
		`pintud.yaml:9: sop.max_visit_window: "-1h" must be positive`}},
	{"step standards a list", minimal + "sop:\n  step_standards: [5m]\n", []string{
		`pintud.yaml:9: sop.step_standards: got a list, want a mapping`}},

	// Paths.
	{"long socket", minimal + "api:\n  socket: /" + strings.Repeat("s", 107) + "\n", []string{
		"pintud.yaml:9: api.socket: is 108 bytes long, but a Unix socket path has at most 107"}},
	{"long state dir", minimal + "state_dir: /" + strings.Repeat("s", 100) + "\n", []string{
		"pintud.yaml:8: state_dir: puts the API socket at a path 113 bytes long, but a Unix socket path has at most 107; shorten it or set api.socket"}},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pintud.yaml", []byte(tt.in))
			var got []string
			if err != nil {
				var errs Errors
				if !errors.As(err, &errs) {
					t.Fatalf("Parse(%q) error %T, want Errors", tt.in, err)
				}
				for _, p := range errs {
					got = append(got, p.String())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) problems mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestParseAllProblems checks that one pass reports problems from every part
// of the file, in line order.
func TestParseAllProblems(t *testing.T) {
	const in = `site:
  name: Lab
  timezone: Nowhere/Town
colour: red
doors:
  - name: a
    unlock: 0s
    readers:
      - {name: r, direction: up, driver: sim}
      - {name: r, direction: exit, driver: usb}
    relay: {driver: sim, active_low: maybe}
  - name: a
    readers: {}
`
	want := Errors{
		{File: "pintud.yaml", Line: 3, Key: "site.timezone", Msg: `"Nowhere/Town" is not a known time zone (want an IANA name such as Asia/Jakarta)`},
		{File: "pintud.yaml", Line: 4, Key: "colour", Msg: "unknown key (want site, state_dir, api, roles, sop, doors, mqtt, metrics, backup, console)"},
		{File: "pintud.yaml", Line: 7, Key: "doors[0].unlock", Msg: `"0s" must be positive`},
		{File: "pintud.yaml", Line: 9, Key: "doors[0].readers[0].direction", Msg: `"up" is not entry or exit`},
		{File: "pintud.yaml", Line: 10, Key: "doors[0].readers[1].driver", Msg: `"usb" is not a known driver (want sim, wiegand, rc522, pn532, hid)`},
		{File: "pintud.yaml", Line: 10, Key: "doors[0].readers[1].name", Msg: `"r" is already the name of doors[0].readers[0] (line 9)`},
		{File: "pintud.yaml", Line: 11, Key: "doors[0].relay.active_low", Msg: `"maybe" is not true or false`},
		{File: "pintud.yaml", Line: 12, Key: "doors[1].relay", Msg: "missing"},
		{File: "pintud.yaml", Line: 12, Key: "doors[1].name", Msg: `"a" is already the name of doors[0] (line 6)`},
		{File: "pintud.yaml", Line: 13, Key: "doors[1].readers", Msg: "got a mapping, want a list"},
	}
	_, err := Parse("pintud.yaml", []byte(in))
	var got Errors
	if !errors.As(err, &got) {
		t.Fatalf("Parse error = %v, want Errors", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse problems mismatch (-want +got):\n%s", diff)
	}
}

// FuzzParse checks that no input panics, that every problem points into the
// file, and that whatever parses is a configuration the controller accepts.
func FuzzParse(f *testing.F) {
	f.Add(minimal)
	for _, tt := range errorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse("fuzz.yaml", []byte(in))
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse(%q) error = %v, want non-empty Errors", in, err)
			}
			// An upper bound: every character YAML may take as a line break.
			lines := 1
			for _, brk := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
				lines += strings.Count(in, brk)
			}
			for _, p := range errs {
				if p.File != "fuzz.yaml" || p.Line < 1 || p.Line > lines {
					t.Errorf("Parse(%q) problem %q, want it in fuzz.yaml within lines 1..%d", in, p, lines)
				}
			}
			return
		}
		if err := file.Controller().Validate(); err != nil {
			t.Errorf("Parse(%q).Controller().Validate() = %v, want nil", in, err)
		}
		if file.Location == nil {
			t.Errorf("Parse(%q).Location = nil", in)
		}
	})
}
