package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/pintu/pintu/controller"
)

// maxNodes bounds the document once aliases are expanded, so a few lines of
// nested aliases ("billion laughs") cannot make the walk take forever.
const maxNodes = 100_000

// maxSocketPath is the longest path a Linux Unix socket can bind: sun_path
// is 108 bytes including the terminating NUL.
const maxSocketPath = 107

// decoder walks the YAML node tree of one file against the schema and
// collects every problem, so a user can fix them all in one edit. Values
// that have a problem decode as their default; the File is then discarded.
type decoder struct {
	filename string
	probs    Errors
	trace    func(path string, present bool)
	uses     map[string]field // pins, buses and device paths seen, for use
}

func (d *decoder) addf(line int, key, format string, args ...any) {
	d.probs = append(d.probs, Problem{File: d.filename, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// parse decodes data into a File, or records why it cannot.
func (d *decoder) parse(data []byte) *File {
	if line, msg := checkText(data); msg != "" {
		d.addf(line, "", "%s", msg)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.addf(1, "", "file is empty")
		} else {
			d.syntax(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err, data)
		return nil
	default:
		d.addf(extra.Line, "", "a second YAML document; keep all settings in one")
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	if isNull(root) {
		d.addf(max(doc.Line, 1), "", "file has no settings")
		return nil
	}
	if !d.checkSize(root) {
		return nil
	}
	return d.file(root)
}

// checkText finds the first character YAML refuses to read. The YAML
// library reports these without a line; finding them here gives one.
func checkText(data []byte) (line int, msg string) {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return lineOf(data, i), "the file is not UTF-8 text"
		case !printable(r):
			return lineOf(data, i), fmt.Sprintf("control character %U is not allowed", r)
		}
		i += size
	}
	return 0, ""
}

// lineStarts returns the offset where each line of data starts, breaking
// lines where YAML does (LF, CR, CRLF, NEL, LS, PS) so that line numbers
// agree with the library's. A break at the very end starts an empty line.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch r {
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				size = 2
			}
			starts = append(starts, i+size)
		case '\n', 0x85, 0x2028, 0x2029:
			starts = append(starts, i+size)
		}
		i += size
	}
	return starts
}

// lineOf returns the 1-based line of the byte at offset off.
func lineOf(data []byte, off int) int {
	starts := lineStarts(data)
	n, found := slices.BinarySearch(starts, off)
	if !found {
		return n
	}
	return n + 1
}

// printable is YAML's set of characters allowed in a stream.
func printable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF,
		r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// parserProblem reports whether msg comes from the YAML library's parser
// (not its scanner). The library reports a parser error's line 0-based and a
// scanner error's 1-based, so these need one added.
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>",
		"did not find expected <document start>",
		"found undefined tag handle",
		"did not find expected node content",
		"did not find expected '-' indicator",
		"did not find expected key",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found duplicate %TAG directive":
		return true
	}
	return false
}

// syntax records a YAML library error with the best line it can find.
func (d *decoder) syntax(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	// Without a "line N:" prefix the library's marks were on the first line.
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, after
				if parserProblem(msg) {
					line++
				}
			}
		}
	}
	// A problem at the end of the stream is reported past the last line.
	starts := lineStarts(data)
	last := len(starts)
	if last > 1 && starts[last-1] == len(data) {
		last--
	}
	line = max(min(line, last), 1)
	if strings.Contains(msg, "tab character") {
		// The library points at the start of the value the tab interrupts.
		line = tabLine(data, starts, line)
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name, _, _ = strings.Cut(name, "'")
		line = aliasLine(data, name)
	}
	d.addf(line, "", "invalid YAML: %s", msg)
}

// tabLine returns the first line from line on that has a tab in its
// indentation, or line.
func tabLine(data []byte, starts []int, line int) int {
	for n := line; n <= len(starts); n++ {
		l := data[starts[n-1]:]
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			return n
		}
	}
	return line
}

// aliasLine returns the line of the first alias *name in data, or 1.
func aliasLine(data []byte, name string) int {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("*"+name))
		if i < 0 {
			return 1
		}
		end := off + i + 1 + len(name)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			return lineOf(data, off+i)
		}
		off = end
	}
}

// checkSize rejects documents whose aliases expand to more than maxNodes
// nodes, or that contain an alias inside its own anchor.
func (d *decoder) checkSize(root *yaml.Node) bool {
	s := sizer{memo: map[*yaml.Node]int{}}
	n := s.size(root)
	switch {
	case s.cycle != nil:
		d.addf(s.cycle.Line, "", "alias *%s is inside its own anchor", s.cycle.Value)
		return false
	case n > maxNodes:
		d.addf(root.Line, "", "the aliases expand to more than %d values", maxNodes)
		return false
	}
	return true
}

type sizer struct {
	memo  map[*yaml.Node]int // -1 while the node is being counted
	cycle *yaml.Node         // the first alias found inside its own anchor
}

// size counts the nodes n stands for with aliases expanded, saturating just
// past maxNodes. The memo keeps it linear in the document's size.
func (s *sizer) size(n *yaml.Node) int {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1
		}
		if s.memo[n.Alias] < 0 {
			s.cycle = n
			return maxNodes + 1
		}
		return s.size(n.Alias)
	}
	if v, ok := s.memo[n]; ok {
		return v
	}
	s.memo[n] = -1
	total := 1
	for _, c := range n.Content {
		if total += s.size(c); total > maxNodes {
			total = maxNodes + 1
			break
		}
	}
	s.memo[n] = total
	return total
}

// resolve follows an alias to the node it names. The parser refuses
// unknown anchors and an anchor cannot name an alias, so one step is enough.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// field is the value at a key path.
type field struct {
	n    *yaml.Node // nil when absent or null
	path string
	// line is where to point: the key's line in a mapping, the item's in a
	// list, or the enclosing mapping's when the key is absent.
	line  int
	null  bool // present, but with no value
	quiet bool // an enclosing value was already reported; do not report it missing
}

// object is a YAML mapping being decoded.
type object struct {
	d     *decoder
	path  string
	line  int
	quiet bool
	pairs []pair // in document order, repeated keys dropped
}

type pair struct {
	key  string
	line int
	val  *yaml.Node
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object reads f as a mapping. An absent f reads as an empty mapping, so
// its required keys are reported missing.
func (d *decoder) object(f field) *object {
	o := &object{d: d, path: f.path, line: f.line, quiet: f.quiet}
	if f.n == nil {
		return o
	}
	if f.n.Kind != yaml.MappingNode {
		d.addf(f.line, f.path, "got %s, want a mapping", describe(f.n))
		o.quiet = true
		return o
	}
	o.line = f.n.Line
	first := map[string]int{}
	for i := 0; i+1 < len(f.n.Content); i += 2 {
		k, v := resolve(f.n.Content[i]), resolve(f.n.Content[i+1])
		switch {
		case k == nil:
			continue
		case k.Kind != yaml.ScalarNode:
			d.addf(k.Line, f.path, "got %s as a key, want a name", describe(k))
			continue
		case k.ShortTag() == "!!merge":
			d.addf(k.Line, join(f.path, k.Value), "merge keys are not supported; write the keys out")
			continue
		}
		if l, ok := first[k.Value]; ok {
			d.addf(k.Line, join(f.path, k.Value), "repeated key (first at line %d)", l)
			continue
		}
		first[k.Value] = k.Line
		o.pairs = append(o.pairs, pair{key: k.Value, line: k.Line, val: v})
	}
	return o
}

// get returns the value of key.
func (o *object) get(key string) field {
	f := field{path: join(o.path, key), line: o.line, quiet: o.quiet}
	for _, p := range o.pairs {
		if p.key == key {
			f.line = p.line
			if isNull(p.val) {
				f.null = true
			} else {
				f.n = p.val
			}
			break
		}
	}
	return f
}

// allow reports the keys of o that are not in keys.
func (o *object) allow(keys ...string) {
	if o.d.trace != nil {
		for _, k := range keys {
			o.d.trace(join(o.path, k), slices.ContainsFunc(o.pairs, func(p pair) bool { return p.key == k }))
		}
	}
	for _, p := range o.pairs {
		if !slices.Contains(keys, p.key) {
			o.d.addf(p.line, join(o.path, p.key), "unknown key (want %s)", strings.Join(keys, ", "))
		}
	}
}

// describe names what a node is, for "got X, want Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	}
	return "an unknown node"
}

// quote quotes s for a message, shortened so a runaway value stays readable.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return strconv.Quote(s[:i]) + "..."
	}
	return strconv.Quote(s)
}

func (d *decoder) missing(f field) {
	switch {
	case f.quiet:
	case f.null:
		d.addf(f.line, f.path, "has no value")
	default:
		d.addf(f.line, f.path, "missing")
	}
}

// list reads f as a list. ok is false when f is absent or not a list.
func (d *decoder) list(f field, required bool) (items []field, ok bool) {
	if f.n == nil {
		if required {
			d.missing(f)
		}
		return nil, false
	}
	if f.n.Kind != yaml.SequenceNode {
		d.addf(f.line, f.path, "got %s, want a list", describe(f.n))
		return nil, false
	}
	items = make([]field, len(f.n.Content))
	for i, c := range f.n.Content {
		c = resolve(c)
		it := field{path: fmt.Sprintf("%s[%d]", f.path, i), line: f.line}
		if c != nil {
			it.line = c.Line
		}
		if isNull(c) {
			it.null = true
		} else {
			it.n = c
		}
		items[i] = it
	}
	return items, true
}

// scalar reads f as a plain value. ok is false when f is absent or not a
// scalar; want says what was expected.
func (d *decoder) scalar(f field, want string) (s string, ok bool) {
	if f.n == nil {
		return "", false
	}
	if f.n.Kind != yaml.ScalarNode {
		d.addf(f.line, f.path, "got %s, want %s", describe(f.n), want)
		return "", false
	}
	return f.n.Value, true
}

// str reads a string; an empty one is never meaningful here.
func (d *decoder) str(f field, def string, required bool) string {
	if f.n == nil && required {
		d.missing(f)
	}
	s, ok := d.scalar(f, "a string")
	if !ok {
		return def
	}
	if s == "" {
		d.addf(f.line, f.path, "must not be empty")
		return def
	}
	// Quoted YAML can spell control characters as escapes; none belongs in
	// a name, a path or a log line.
	if strings.ContainsFunc(s, unicode.IsControl) {
		d.addf(f.line, f.path, "%s contains a control character", quote(s))
		return def
	}
	return s
}

func (d *decoder) duration(f field, def time.Duration) time.Duration {
	s, ok := d.scalar(f, "a duration")
	if !ok {
		return def
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.addf(f.line, f.path, "%s is not a duration like 5s or 1m30s", quote(s))
		return def
	case v <= 0:
		d.addf(f.line, f.path, "%s must be positive", quote(s))
		return def
	}
	return v
}

func (d *decoder) boolean(f field, def bool) bool {
	s, ok := d.scalar(f, "true or false")
	if !ok {
		return def
	}
	switch s {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	d.addf(f.line, f.path, "%s is not true or false", quote(s))
	return def
}

// name reads a door or reader name. Names end up in MQTT topics, log lines
// and command arguments, so they keep to a safe alphabet.
func (d *decoder) name(f field) string {
	s := d.str(f, "", true)
	if s != "" && !validName(s) {
		d.addf(f.line, f.path, "%s is not a valid name (want up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit)", quote(s))
		return ""
	}
	return s
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i, c := range []byte(s) {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_' && c != '.') {
			return false
		}
	}
	return true
}

// file decodes the top-level mapping.
func (d *decoder) file(root *yaml.Node) *File {
	top := d.object(field{n: root, line: root.Line})
	f := &File{}

	site := d.object(top.get("site"))
	f.Site.Name = d.str(site.get("name"), "", true)
	tz := site.get("timezone")
	f.Site.Timezone = d.str(tz, DefaultTimezone, false)
	loc, err := time.LoadLocation(f.Site.Timezone)
	if err != nil {
		d.addf(tz.line, tz.path, "%s is not a known time zone (want an IANA name such as Asia/Jakarta)", quote(f.Site.Timezone))
		loc = time.UTC
	}
	f.Location = loc
	f.Site.RequireClockSync = d.boolean(site.get("require_clock_sync"), true)
	site.allow("name", "timezone", "require_clock_sync")

	sd := top.get("state_dir")
	f.StateDir = d.str(sd, DefaultStateDir, false)
	api := d.object(top.get("api"))
	sock := api.get("socket")
	f.socketDerived = sock.n == nil
	f.API.Socket = d.str(sock, filepath.Join(f.StateDir, SocketName), false)
	if n := len(f.API.Socket); n > maxSocketPath {
		if f.socketDerived {
			d.addf(sd.line, sd.path, "puts the API socket at a path %d bytes long, but a Unix socket path has at most %d; shorten it or set api.socket", n, maxSocketPath)
		} else {
			d.addf(sock.line, sock.path, "is %d bytes long, but a Unix socket path has at most %d", n, maxSocketPath)
		}
	}
	api.allow("socket")

	roles := d.object(top.get("roles"))
	f.Roles.RoomAccess = d.roles(roles.get("room_access"))
	f.Roles.Escort = d.roles(roles.get("escort"))
	roles.allow("room_access", "escort")

	sop := d.object(top.get("sop"))
	f.SOP.StepStandards = d.steps(sop.get("step_standards"))
	f.SOP.MaxVisitWindow = d.duration(sop.get("max_visit_window"), controller.DefaultMaxVisitWindow)
	sop.allow("step_standards", "max_visit_window")

	f.Doors = d.doors(top.get("doors"))
	f.MQTT = d.mqtt(top.get("mqtt"))
	f.Metrics = d.metrics(top.get("metrics"))
	f.Backup = d.backup(top.get("backup"))
	f.Console = d.console(top.get("console"))

	top.allow("site", "state_dir", "api", "roles", "sop", "doors", "mqtt", "metrics", "backup", "console")
	return f
}

// roles reads a list of staff roles; absent means coordinator and officer,
// as DESIGN.md has it.
func (d *decoder) roles(f field) []controller.Role {
	items, ok := d.list(f, false)
	if !ok {
		return []controller.Role{controller.RoleCoordinator, controller.RoleOfficer}
	}
	out := make([]controller.Role, 0, len(items))
	for _, it := range items {
		s := d.str(it, "", true)
		r := controller.Role(s)
		switch {
		case s == "":
		case r == controller.RoleVisitor:
			d.addf(it.line, it.path, "a visitor cannot carry room access or escort rights")
		case !slices.Contains(controller.Roles, r):
			d.addf(it.line, it.path, "%s is not a role (want admin, coordinator, head or officer)", quote(s))
		case slices.Contains(out, r):
			d.addf(it.line, it.path, "%s is listed twice", quote(s))
		default:
			out = append(out, r)
		}
	}
	return out
}

// steps reads the SOP's standard times: a mapping from step number to
// duration, overriding only the steps it names.
func (d *decoder) steps(f field) [8]time.Duration {
	out := controller.DefaultStepStandards
	o := d.object(f)
	if d.trace != nil {
		for i := range out {
			n := strconv.Itoa(i + 1)
			d.trace(join(o.path, n), slices.ContainsFunc(o.pairs, func(p pair) bool { return p.key == n }))
		}
	}
	var seen [len(out)]int // line where each step was first set
	for _, p := range o.pairs {
		path := join(o.path, p.key)
		n, err := strconv.Atoi(p.key)
		if err != nil || n < 1 || n > len(out) {
			d.addf(p.line, path, "%s is not a step number (want 1 to %d)", quote(p.key), len(out))
			continue
		}
		if seen[n-1] != 0 {
			d.addf(p.line, path, "step %d is set twice (first at line %d)", n, seen[n-1])
			continue
		}
		seen[n-1] = p.line
		v := field{path: path, line: p.line}
		if isNull(p.val) {
			v.null = true
			d.missing(v)
			continue
		}
		v.n = p.val
		out[n-1] = d.duration(v, out[n-1])
	}
	return out
}

func (d *decoder) doors(f field) []Door {
	items, ok := d.list(f, true)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.addf(f.line, f.path, "no doors (want at least one)")
	}
	var doors []Door
	first := map[string]field{}
	for _, it := range items {
		door, nf := d.door(it)
		if door.Name != "" {
			if prev, ok := first[door.Name]; ok {
				d.addf(nf.line, nf.path, "%s is already the name of %s (line %d)", quote(door.Name), strings.TrimSuffix(prev.path, ".name"), prev.line)
			} else {
				first[door.Name] = nf
			}
		}
		doors = append(doors, door)
	}
	return doors
}

// door reads one door; it also returns the name's field for duplicate
// reports.
func (d *decoder) door(f field) (Door, field) {
	o := d.object(f)
	nf := o.get("name")
	door := Door{
		Name:          d.name(nf),
		Unlock:        d.duration(o.get("unlock"), controller.DefaultUnlock),
		HeldOpen:      d.duration(o.get("held_open"), controller.DefaultHeldOpen),
		EscortWindow:  d.duration(o.get("escort_window"), controller.DefaultEscortWindow),
		RelockOnClose: d.boolean(o.get("relock_on_close"), true),
		TwoPerson:     d.boolean(o.get("two_person"), false),
		Readers:       d.readers(o.get("readers")),
	}
	// A door without a strike cannot be opened, so the relay is required.
	// Contact and REX are optional fittings.
	if rf := o.get("relay"); rf.n == nil {
		d.missing(rf)
	} else {
		ro := d.object(rf)
		dev, keys := d.hwDevice(ro, kindRelay)
		door.Relay = Relay{
			Device:    dev,
			ActiveLow: d.boolean(ro.get("active_low"), false),
			FailSafe:  d.boolean(ro.get("fail_safe"), false),
		}
		ro.allow(append(keys, "active_low", "fail_safe")...)
	}
	door.Contact = d.optDevice(o.get("contact"), kindContact)
	door.REX = d.optDevice(o.get("rex"), kindREX)
	door.Tamper = d.optDevice(o.get("tamper"), kindTamper)
	door.Indicator = d.indicator(o.get("indicator"))
	o.allow("name", "unlock", "held_open", "escort_window", "relock_on_close", "two_person",
		"readers", "relay", "contact", "rex", "tamper", "indicator")
	return door, nf
}

func (d *decoder) readers(f field) []Reader {
	items, ok := d.list(f, true)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.addf(f.line, f.path, "no readers (want at least one)")
	}
	var readers []Reader
	first := map[string]field{}
	for _, it := range items {
		o := d.object(it)
		nf := o.get("name")
		r := Reader{Name: d.name(nf)}
		df := o.get("direction")
		if s := d.str(df, "", true); s != "" {
			if dir := controller.Direction(s); dir == controller.Entry || dir == controller.Exit {
				r.Direction = dir
			} else {
				d.addf(df.line, df.path, "%s is not entry or exit", quote(s))
			}
		}
		dev, keys := d.hwDevice(o, kindReader)
		r.Device = dev
		o.allow(append([]string{"name", "direction"}, keys...)...)
		if r.Name != "" {
			if prev, ok := first[r.Name]; ok {
				d.addf(nf.line, nf.path, "%s is already the name of %s (line %d)", quote(r.Name), strings.TrimSuffix(prev.path, ".name"), prev.line)
			} else {
				first[r.Name] = nf
			}
		}
		readers = append(readers, r)
	}
	return readers
}

// optDevice reads an optional contact, REX button or tamper switch; nil
// means none fitted.
func (d *decoder) optDevice(f field, kind deviceKind) *Device {
	if f.n == nil {
		return nil
	}
	o := d.object(f)
	dev, keys := d.hwDevice(o, kind)
	o.allow(keys...)
	return &dev
}
