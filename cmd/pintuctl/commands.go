package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

// commands are pintuctl's commands, in the order usage lists them.
var commands = []*command{
	{
		name:  "status",
		short: "show each door's lock and contact, lockdown, active alarms and who is inside",
		setup: noFlags((*cli).status),
	},
	{
		name:     "person add",
		synopsis: "--id ID --name NAME --role ROLE[,ROLE...] [--org ORG] [--id-doc TEXT]",
		short:    "register a person: staff (admin, coordinator, head, officer) or a visitor",
		required: []string{"id", "name", "role"},
		setup:    personAdd,
	},
	{
		name:     "person update",
		synopsis: "--id ID [--name NAME] [--role ROLE[,ROLE...]] [--org ORG] [--id-doc TEXT]",
		short:    "change a person's name, roles, organisation or identity document; only the flags given",
		required: []string{"id"},
		setup:    personUpdate,
	},
	{
		name:     "person disable",
		synopsis: "--id ID",
		short:    "disable a person: their cards are refused, their remote keys stop working, they take no SOP step",
		required: []string{"id"},
		setup:    personDisable(true),
	},
	{
		name:     "person enable",
		synopsis: "--id ID",
		short:    "enable a disabled person again",
		required: []string{"id"},
		setup:    personDisable(false),
	},
	{
		name:  "person list",
		short: "list everyone, by id",
		setup: noFlags((*cli).personList),
	},
	cmdPersonImport,
	{
		name:     "person link",
		synopsis: "--id ID --unix-user NAME",
		short:    "link a Unix account to a person: pintuctl run by that account acts as the person (root only; '' unlinks)",
		required: []string{"id"},
		setup:    personLink,
	},
	{
		name:     "person password",
		synopsis: "--id ID",
		short:    "set a person's web console password: asked twice on a terminal, else read from standard input (root, or the person)",
		required: []string{"id"},
		setup:    personPassword,
	},
	{
		name:  "whoami",
		short: "show who pintud takes you for: the person linked to your Unix account, root, or nobody",
		setup: noFlags((*cli).whoami),
	},
	{
		name:     "card assign",
		synopsis: "--person ID --card CARD",
		short:    "bind a card to a person",
		required: []string{"person", "card"},
		setup:    cardAssign,
	},
	{
		name:     "card revoke",
		synopsis: "--card CARD",
		short:    "revoke a card; it is denied from then on",
		required: []string{"card"},
		setup:    cardRevoke,
	},
	{
		name:     "visit submit",
		synopsis: "--visitor ID [--by ID] --purpose TEXT [--devices TEXT] [--from RFC3339] [--until RFC3339] [--escort ID]",
		short:    "SOP step 1: admin staff enter the visitor's form; prints the new visit's id",
		required: []string{"visitor", "purpose"},
		setup:    visitSubmit,
	},
	stepCommand(controller.ActionCheck, "SOP step 2: the coordinator checks the form is complete", "", ""),
	stepCommand(controller.ActionApprove, "SOP step 3: the head of division approves the visit", "", ""),
	stepCommand(controller.ActionReject, "SOP step 3: the head of division rejects the visit", "reason", "why the visit is rejected"),
	stepCommand(controller.ActionReturnID, "SOP step 5: admin staff return the visitor's ID and record the exit", "", ""),
	stepCommand(controller.ActionReport, "SOP step 6: the coordinator reports the work done", "text", "the report of the work done"),
	stepCommand(controller.ActionOrderArchive, "SOP step 7: the head of division orders the visit file archived", "", ""),
	stepCommand(controller.ActionArchive, "SOP step 8: admin staff archive the visit file", "", ""),
	{
		name:     "visit show",
		synopsis: "VISIT",
		short:    "show a visit's form and its SOP steps, with each step's time against the standard",
		args:     []string{"VISIT"},
		setup:    noFlags((*cli).visitShow),
	},
	{
		name:     "visit list",
		synopsis: "[--state STATE]",
		short:    "list visits, by id",
		setup:    visitList,
	},
	cmdVisitDossier,
	{
		name:  "alarm list",
		short: "list the alarms: active ones, and those whose cause is gone but that wait for an acknowledgement",
		setup: noFlags((*cli).alarmList),
	},
	{
		name:     "alarm ack",
		synopsis: "ALARM-ID [--by ID] [--note TEXT]",
		short:    "acknowledge an alarm (coordinator or head); it leaves the list once its cause is gone",
		args:     []string{"ALARM-ID"},
		setup:    alarmAck,
	},
	{
		name:     "door lockdown",
		synopsis: "[--door DOOR] [--by ID]",
		short:    "lock a door down, every door without --door (coordinator or head): only egress opens it, until released",
		setup:    doorLockdown(true),
	},
	{
		name:     "door release",
		synopsis: "[--door DOOR] [--by ID]",
		short:    "release a lockdown, of every door without --door (coordinator or head)",
		setup:    doorLockdown(false),
	},
	{
		name:     "sim tap",
		synopsis: "--door DOOR --reader READER --card CARD",
		short:    "simulated hardware: present a card at a reader",
		required: []string{"door", "reader", "card"},
		setup:    simTap,
	},
	{
		name:     "sim door",
		synopsis: "--door DOOR open|close",
		short:    "simulated hardware: open or close a door",
		args:     []string{"open|close"},
		required: []string{"door"},
		setup:    simDoor,
	},
	{
		name:     "sim rex",
		synopsis: "--door DOOR",
		short:    "simulated hardware: press a door's request-to-exit button",
		required: []string{"door"},
		setup:    simRex,
	},
	{
		name:     "sim tamper",
		synopsis: "--door DOOR open|close",
		short:    "simulated hardware: open or close a door's enclosure (its tamper switch)",
		args:     []string{"open|close"},
		required: []string{"door"},
		setup:    simTamper,
	},
	{
		name:     "events",
		synopsis: "[--since RFC3339] [--until RFC3339] [--limit N] [--tail]",
		short:    "show the audit log; --tail follows it as events are recorded",
		setup:    events,
	},
	{
		name:     "export",
		synopsis: "--format csv|jsonl [--delimiter ,|;] [--since RFC3339] [--until RFC3339] [-o FILE]",
		short:    "export the audit log for auditors, one row per event",
		required: []string{"format"},
		setup:    export,
	},
	cmdExportBundle,
	cmdVerifyBundle,
	cmdReportSOP,
	cmdSiteKey,
	cmdBackup,
	{
		name:  "verify",
		short: "check the audit log's hash chain from the first event, and every record against the event that wrote it",
		setup: noFlags((*cli).verify),
	},
	cmdIntegrity,
	cmdIntegrityAccept,
}

// noFlags is the setup of a command without flags of its own.
func noFlags(run func(c *cli, ctx context.Context, args []string) error) func(*flag.FlagSet) action {
	return func(*flag.FlagSet) action {
		return func(ctx context.Context, c *cli, args []string) error { return run(c, ctx, args) }
	}
}

// table is a tabwriter for aligned human output.
type table struct{ *tabwriter.Writer }

func newTable(w io.Writer) table {
	return table{tabwriter.NewWriter(&trimWriter{w: w}, 0, 0, 2, ' ', 0)}
}

// trimWriter drops the padding tabwriter leaves at the end of lines whose
// last cells are empty.
type trimWriter struct {
	w    io.Writer
	line []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' {
			t.line = append(t.line, b)
			continue
		}
		t.line = append(bytes.TrimRight(t.line, " "), '\n')
		if _, err := t.w.Write(t.line); err != nil {
			return 0, err
		}
		t.line = t.line[:0]
	}
	return len(p), nil
}

// row writes one row of cells, each escaped: a tab or a newline inside a
// name must not make a column or a row of its own.
func (t table) row(cells ...string) {
	for i, s := range cells {
		cells[i] = escape(s)
	}
	fmt.Fprintln(t, strings.Join(cells, "\t"))
}

// printJSON writes the JSON raw, indented, to stdout, keeping pintud's
// field order.
func (c *cli) printJSON(raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("decode response from pintud: %w", err)
	}
	b.WriteByte('\n')
	_, err := c.stdout.Write(safeJSON(b.Bytes()))
	return err
}

// output prints a response: as JSON with --json, otherwise decoded into v
// and shown by human.
func output[T any](c *cli, raw []byte, human func(T) error) error {
	if c.json {
		return c.printJSON(raw)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("decode response from pintud: %w", err)
	}
	return human(v)
}

// parseTime parses the value of a time flag.
func parseTime(cmd *command, name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usagef(cmd, "--%s: bad time %q: want RFC 3339 such as 2026-01-02T15:04:05+07:00", name, v)
	}
	return t, nil
}

// when formats t in the site's zone for people.
func (c *cli) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.client().location()).Format("2006-01-02 15:04:05 MST")
}

// whenRFC3339 formats a time pintud sent as RFC 3339 text in the site's
// zone; text that is not such a time is shown as it is.
func (c *cli) whenRFC3339(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return c.when(t)
}

// duration formats d briefly: 45s, 5m, 4m30s, 1h5m.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	var b strings.Builder
	b.WriteString(neg)
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 || (h == 0 && m == 0) {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// names maps person ids to names, for human output; empty if the lookup
// fails.
func (c *cli) names(ctx context.Context) map[string]string {
	m := map[string]string{}
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/people", nil, nil)
	if err != nil {
		return m
	}
	var ps []controller.Person
	if json.Unmarshal(raw, &ps) == nil {
		for _, p := range ps {
			m[p.ID] = p.Name
		}
	}
	return m
}

// who is a person's id with their name.
func who(names map[string]string, id string) string {
	if id == "" {
		return "-"
	}
	if n := names[id]; n != "" {
		return id + " (" + n + ")"
	}
	return id
}

func (c *cli) status(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/status", nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(st controller.Status) error {
		names := c.names(ctx)
		tw := newTable(c.stdout)
		clock := c.tr("trusted")
		if !st.ClockTrusted {
			clock = c.tr("NOT TRUSTED")
		}
		tw.row(c.tr("Site"), st.Site)
		tw.row(c.tr("Time"), c.when(st.Time))
		tw.row(c.tr("Clock"), clock)
		tw.row()
		tw.Flush()

		tw.row(c.tr("DOOR"), c.tr("LOCK"), c.tr("CONTACT"), c.tr("LOCKDOWN"))
		for _, d := range st.Doors {
			lockdown := c.tr("no")
			if d.Lockdown {
				lockdown = c.tr("yes, by %s since %s", d.LockdownBy, c.when(d.LockdownSince))
			}
			tw.row(d.Name, c.tr(d.Lock), c.tr(d.Contact), lockdown)
		}
		tw.Flush()

		tw.row()
		if len(st.Alarms) == 0 {
			tw.row(c.tr("Alarms") + ": " + c.tr("none"))
		} else {
			tw.row(c.tr("Alarms") + ":")
			tw.row("ID", c.tr("ALARM"), c.tr("DOOR"), c.tr("PERSON"), c.tr("VISIT"), c.tr("SINCE"), c.tr("ACKNOWLEDGED"))
			for _, a := range st.Alarms {
				tw.row(a.ID, c.tr(string(a.Kind)), dash(a.Door), who(names, a.Person), dash(a.Visit), c.when(a.Since), c.ackWord(a))
			}
		}
		if len(st.AwaitingAck) > 0 {
			tw.row()
			tw.row(c.tr("Cause gone, awaiting acknowledgement (pintuctl alarm ack)") + ":")
			tw.row("ID", c.tr("ALARM"), c.tr("DOOR"), c.tr("PERSON"), c.tr("VISIT"), c.tr("SINCE"), c.tr("ENDED"))
			for _, a := range st.AwaitingAck {
				tw.row(a.ID, c.tr(string(a.Kind)), dash(a.Door), who(names, a.Person), dash(a.Visit), c.when(a.Since), c.when(a.ClearedAt))
			}
		}
		tw.Flush()

		tw.row()
		if len(st.Inside) == 0 {
			tw.row(c.tr("Inside") + ": " + c.tr("nobody"))
		} else {
			// An escort is shown with the visits they brought in.
			escorting := map[string][]string{}
			for _, o := range st.Inside {
				if o.Visit != "" && o.Escort != "" {
					escorting[o.Escort] = append(escorting[o.Escort], o.Visit)
				}
			}
			tw.row(c.tr("Inside") + ":")
			tw.row(c.tr("PERSON"), c.tr("VISIT"), c.tr("ESCORT"), c.tr("DOOR"), c.tr("SINCE"))
			for _, o := range st.Inside {
				escort := c.tr("alone (staff)")
				switch {
				case o.Visit != "":
					escort = who(names, o.Escort)
				case len(escorting[o.Person]) > 0:
					escort = c.tr("escort of %s", strings.Join(escorting[o.Person], ", "))
				}
				tw.row(who(names, o.Person), dash(o.Visit), escort, o.Door, c.when(o.Since))
			}
		}
		c.printMQTT(tw, raw)
		return tw.Flush()
	})
}

// ackWord says where an alarm stands with its acknowledgement.
func (c *cli) ackWord(a controller.Alarm) string {
	switch {
	case a.Acked():
		return c.tr("by %s", a.AckedBy)
	case a.NeedsAck:
		return c.tr("not yet")
	}
	return c.tr("not needed")
}

func (c *cli) alarmList(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/alarms", nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(as []controller.Alarm) error {
		if len(as) == 0 {
			return c.say(c.tr("no alarms"))
		}
		names := c.names(ctx)
		tw := newTable(c.stdout)
		tw.row("ID", c.tr("ALARM"), c.tr("STATE"), c.tr("DOOR"), c.tr("PERSON"), c.tr("VISIT"), c.tr("SINCE"), c.tr("ACKNOWLEDGED"), c.tr("NOTE"))
		for _, a := range as {
			state := c.tr("active")
			if !a.Active {
				state = c.tr("ended %s", c.when(a.ClearedAt))
			}
			tw.row(a.ID, c.tr(string(a.Kind)), state, dash(a.Door), who(names, a.Person), dash(a.Visit), c.when(a.Since),
				c.ackWord(a), dash(oneLine(a.AckNote)))
		}
		return tw.Flush()
	})
}

func alarmAck(fs *flag.FlagSet) action {
	by := fs.String("by", "", "the coordinator's or head's person `ID`: who acts under pintud -sim; otherwise it must be you (your Unix account's person)")
	note := fs.String("note", "", "what was found or done, as `TEXT`")
	return func(ctx context.Context, c *cli, args []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/alarms/"+url.PathEscape(args[0])+"/ack", nil, map[string]string{"by": *by, "note": *note})
		if err != nil {
			return err
		}
		return output(c, raw, func(a controller.Alarm) error {
			line := c.tr("alarm %s (%s) acknowledged by %s", a.ID, c.tr(string(a.Kind)), a.AckedBy)
			if a.Active {
				line += "; " + c.tr("it stays listed until its cause is gone")
			}
			return c.say(line)
		})
	}
}

func doorLockdown(on bool) func(fs *flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		door := fs.String("door", "", "the `DOOR`'s name (default every door)")
		by := fs.String("by", "", "the coordinator's or head's person `ID`: who acts under pintud -sim; otherwise it must be you (your Unix account's person)")
		route := "/v1/doors/release"
		if on {
			route = "/v1/doors/lockdown"
		}
		return func(ctx context.Context, c *cli, _ []string) error {
			raw, err := c.client().call(ctx, http.MethodPost, route, nil, map[string]string{"door": *door, "by": *by})
			if err != nil {
				return err
			}
			return output(c, raw, func(r api.LockdownResult) error {
				line := c.tr("lockdown released: %s", strings.Join(r.Doors, ", "))
				if r.Lockdown {
					line = c.tr("lockdown on: %s (only egress opens it)", strings.Join(r.Doors, ", "))
				}
				return c.say(line)
			})
		}
	}
}

// splitRoles splits a --role value.
func splitRoles(s string) []string {
	rs := []string{}
	for r := range strings.SplitSeq(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	return rs
}

func personUpdate(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the person's `ID`")
	name := fs.String("name", "", "new full `NAME`")
	roles := fs.String("role", "", "new comma-separated `ROLE`s, replacing the old ones")
	org := fs.String("org", "", "new `ORG`anisation (instansi); empty clears it")
	idDoc := fs.String("id-doc", "", "new identity document, as `TEXT`; empty clears it")
	return func(ctx context.Context, c *cli, _ []string) error {
		body := map[string]any{}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				body["name"] = *name
			case "role":
				body["roles"] = splitRoles(*roles)
			case "org":
				body["org"] = *org
			case "id-doc":
				body["id_doc"] = *idDoc
			}
		})
		if len(body) == 0 {
			return usagef(c.cmd, "nothing to change: give --name, --role, --org or --id-doc")
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/people/"+url.PathEscape(*id), nil, body)
		if err != nil {
			return err
		}
		return output(c, raw, func(p controller.Person) error {
			return c.say(c.tr("updated %s (%s): %s", p.ID, p.Name, joinRoles(p.Roles)))
		})
	}
}

func personDisable(off bool) func(fs *flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		id := fs.String("id", "", "the person's `ID`")
		verb := "enable"
		if off {
			verb = "disable"
		}
		return func(ctx context.Context, c *cli, _ []string) error {
			raw, err := c.client().call(ctx, http.MethodPost, "/v1/people/"+url.PathEscape(*id)+"/"+verb, nil, map[string]string{})
			if err != nil {
				return err
			}
			return output(c, raw, func(p controller.Person) error {
				line := c.tr("enabled %s (%s)", p.ID, p.Name)
				if p.Disabled {
					line = c.tr("disabled %s (%s): cards refused, remote keys unknown, no SOP step", p.ID, p.Name)
				}
				return c.say(line)
			})
		}
	}
}

func personAdd(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the person's `ID`, e.g. an employee number")
	name := fs.String("name", "", "full `NAME`")
	roles := fs.String("role", "", "comma-separated `ROLE`s: admin, coordinator, head, officer or visitor")
	org := fs.String("org", "", "`ORG`anisation (instansi)")
	idDoc := fs.String("id-doc", "", "identity document shown at step 1, e.g. `TEXT` \"KTP 3201...\"")
	return func(ctx context.Context, c *cli, _ []string) error {
		body := map[string]any{"id": *id, "name": *name, "roles": splitRoles(*roles), "org": *org, "id_doc": *idDoc}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/people", nil, body)
		if err != nil {
			return err
		}
		return output(c, raw, func(p controller.Person) error {
			return c.say(c.tr("added %s (%s): %s", p.ID, p.Name, joinRoles(p.Roles)))
		})
	}
}

func joinRoles(rs []controller.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func (c *cli) personList(ctx context.Context, _ []string) error {
	return pages(ctx, c, "/v1/people", nil, func(ps []controller.Person, first bool) error {
		tw := newTable(c.stdout)
		if first {
			tw.row("ID", c.tr("NAME"), c.tr("ROLES"), c.tr("ORG"), "")
		}
		for _, p := range ps {
			disabled := ""
			if p.Disabled {
				disabled = c.tr("DISABLED")
			}
			tw.row(p.ID, p.Name, joinRoles(p.Roles), dash(p.Org), disabled)
		}
		return tw.Flush()
	})
}

func cardAssign(fs *flag.FlagSet) action {
	person := fs.String("person", "", "the card holder's person `ID`")
	card := fs.String("card", "", "the `CARD` number as the reader sends it")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/cards/assign", nil, map[string]string{"card": *card, "person": *person})
		if err != nil {
			return err
		}
		return output(c, raw, func(cd controller.Card) error {
			return c.say(c.tr("card %s assigned to %s", cd.ID, cd.PersonID))
		})
	}
}

func cardRevoke(fs *flag.FlagSet) action {
	card := fs.String("card", "", "the `CARD` to revoke")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/cards/revoke", nil, map[string]string{"card": *card})
		if err != nil {
			return err
		}
		return output(c, raw, func(cd controller.Card) error {
			return c.say(c.tr("card %s revoked", cd.ID))
		})
	}
}

// defaultVisitLength is the window of a visit submitted without --until.
const defaultVisitLength = 2 * time.Hour

func visitSubmit(fs *flag.FlagSet) action {
	visitor := fs.String("visitor", "", "the visitor's person `ID`")
	by := fs.String("by", "", "the admin staff member's person `ID`: who acts under pintud -sim; otherwise it must be you (your Unix account's person)")
	purpose := fs.String("purpose", "", "the purpose of the visit (keperluan), as `TEXT`")
	devices := fs.String("devices", "", "devices brought in (perangkat yang dibawa), as `TEXT`")
	from := fs.String("from", "", "start of the visit window, `RFC3339` (default now)")
	until := fs.String("until", "", "end of the visit window, `RFC3339` (default two hours after --from)")
	escort := fs.String("escort", "", "the officer who must escort, a person `ID` (default any escort-capable staff)")
	return func(ctx context.Context, c *cli, _ []string) error {
		start := c.now()
		if *from != "" {
			t, err := parseTime(c.cmd, "from", *from)
			if err != nil {
				return err
			}
			start = t
		}
		end := start.Add(defaultVisitLength)
		if *until != "" {
			t, err := parseTime(c.cmd, "until", *until)
			if err != nil {
				return err
			}
			end = t
		}
		body := map[string]string{
			"visitor": *visitor, "by": *by, "purpose": *purpose, "devices": *devices,
			"from": start.Format(time.RFC3339), "until": end.Format(time.RFC3339), "escort": *escort,
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/visits", nil, body)
		if err != nil {
			return err
		}
		return output(c, raw, func(v api.Visit) error {
			return c.say(v.ID)
		})
	}
}

// stepCommand is a workflow step on a visit. textFlag, if set, names the
// required flag that carries the step's text.
func stepCommand(a controller.Action, short, textFlag, textUsage string) *command {
	cmd := &command{
		name:     "visit " + string(a),
		synopsis: "VISIT [--by ID]",
		short:    short,
		args:     []string{"VISIT"},
	}
	if textFlag != "" {
		cmd.synopsis += " --" + textFlag + " TEXT"
		cmd.required = append(cmd.required, textFlag)
	}
	cmd.setup = func(fs *flag.FlagSet) action {
		by := fs.String("by", "", "the person `ID` taking the step: who acts under pintud -sim; otherwise it must be you (your Unix account's person)")
		var text *string
		if textFlag != "" {
			text = fs.String(textFlag, "", textUsage+", as `TEXT`")
		}
		return func(ctx context.Context, c *cli, args []string) error {
			body := map[string]string{"by": *by}
			if text != nil {
				body["text"] = *text
			}
			raw, err := c.client().call(ctx, http.MethodPost, "/v1/visits/"+url.PathEscape(args[0])+"/"+string(a), nil, body)
			if err != nil {
				return err
			}
			return output(c, raw, func(v api.Visit) error {
				return c.say(c.tr("visit %s is now %s", v.ID, c.tr(string(v.State))))
			})
		}
	}
	return cmd
}

func (c *cli) visitShow(ctx context.Context, args []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/visits/"+url.PathEscape(args[0]), nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(v api.Visit) error {
		names := c.names(ctx)
		tw := newTable(c.stdout)
		field := func(label, value string) { tw.row(c.tr(label), value) }
		field("Visit", v.ID)
		field("State", c.tr(string(v.State)))
		field("Visitor", who(names, v.VisitorID))
		field("Organisation", dash(v.Org))
		field("ID document", dash(v.IDDoc))
		field("Purpose", dash(v.Purpose))
		field("Devices brought", dash(v.Devices))
		field("From", c.when(v.From))
		field("Until", c.when(v.Until))
		escort := c.tr("any escort-capable staff")
		if v.EscortID != "" {
			escort = who(names, v.EscortID)
		}
		field("Escort", escort)
		field("Submitted by", who(names, v.SubmittedBy))
		if !v.EnteredAt.IsZero() {
			field("Entered", c.when(v.EnteredAt))
			field("Door", dash(v.Door))
			field("Escorted by", who(names, v.EscortedBy))
		}
		if !v.ExitedAt.IsZero() {
			field("Exited", c.when(v.ExitedAt))
			returned := c.tr("no")
			if v.IDReturned {
				returned = c.tr("yes")
			}
			field("ID returned", returned)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout)
		if len(v.Steps) == 0 {
			return c.say(c.tr("No SOP step taken yet."))
		}
		tw.row(c.tr("STEP"), c.tr("ACTIVITY"), c.tr("RECORDED"), c.tr("BY"), c.tr("WHEN"), c.tr("TOOK"), c.tr("STANDARD"), c.tr("RESULT"), c.tr("NOTE"))
		for _, s := range v.Steps {
			name, other := c.stepNames(s.Step)
			when, took, result := c.when(s.At), "-", "-"
			switch {
			case !api.StepTimed(s.Step):
				result = c.tr("not timed") + " (*)"
			case s.At.IsZero(): // step 4 while the visitor is inside
				when = c.tr("since %s", c.when(s.Started))
				took = c.tr("%s so far", duration(c.now().Sub(s.Started)))
				result = c.tr("in progress")
			case s.Step == 4:
				when = c.span(s.Started, s.At)
				took = duration(time.Duration(s.Took))
			default:
				took = duration(time.Duration(s.Took))
			}
			if s.Timed && s.Standard > 0 {
				result = c.tr("within")
				if s.Over() {
					result = c.tr("over by %s", duration(time.Duration(s.Took-s.Standard)))
				}
			}
			standard := "-"
			if s.Standard > 0 {
				standard = duration(time.Duration(s.Standard))
			}
			tw.row(fmt.Sprint(s.Step), name, c.stepRecorded(s), who(nil, s.Actor), when, took, standard, result, oneLine(s.Note))
			if other != "" {
				tw.row("", other, "", "", "", "", "", "", "")
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return c.say("(*) " + c.tr("not timed: recorded at submission") + "; " + c.tr("the form is filled in on paper before"))
	})
}

// stepRecorded says what a step recorded, in the catalogue's history words
// (submitted, checked, approved); step 4 says whether the visitor is inside
// or left, step 5 that the ID was returned.
func (c *cli) stepRecorded(s api.Step) string {
	switch {
	case s.Step == 4 && !s.At.IsZero():
		return c.text().State(controller.StateExited)
	case s.Action == controller.ActionReturnID:
		return c.tr("ID returned")
	}
	return c.text().State(s.State)
}

// span formats the times a step began and ended, the day and zone once
// when they share them.
func (c *cli) span(start, end time.Time) string {
	loc := c.client().location()
	s, e := start.In(loc), end.In(loc)
	if s.Format("2006-01-02") == e.Format("2006-01-02") {
		return s.Format("2006-01-02 15:04:05") + " – " + e.Format("15:04:05 MST")
	}
	return c.when(start) + " – " + c.when(end)
}

// oneLine keeps a free-text note on one table row: its lines joined with
// spaces. Other control characters stay, for escape to show.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' }), " ")
}

func visitList(fs *flag.FlagSet) action {
	state := fs.String("state", "", "show only visits in `STATE`: submitted, checked, approved, rejected, inside, exited, reported, archive_ordered or archived")
	return func(ctx context.Context, c *cli, _ []string) error {
		q := url.Values{}
		if *state != "" {
			q.Set("state", *state)
		}
		return pages(ctx, c, "/v1/visits", q, func(vs []api.Visit, first bool) error {
			if len(vs) == 0 {
				if !first {
					return nil
				}
				return c.say(c.tr("no visits"))
			}
			tw := newTable(c.stdout)
			if first {
				tw.row("ID", c.tr("STATE"), c.tr("VISITOR"), c.tr("FROM"), c.tr("UNTIL"), c.tr("PURPOSE"))
			}
			for _, v := range vs {
				tw.row(v.ID, c.tr(string(v.State)), v.VisitorID, c.when(v.From), c.when(v.Until), v.Purpose)
			}
			return tw.Flush()
		})
	}
}

func simTap(fs *flag.FlagSet) action {
	door := fs.String("door", "", "the `DOOR`'s name")
	reader := fs.String("reader", "", "the `READER`'s name, e.g. entry or exit")
	card := fs.String("card", "", "the `CARD` presented")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/sim/tap", nil, map[string]string{"door": *door, "reader": *reader, "card": *card})
		if err != nil {
			return err
		}
		return output(c, raw, func(r controller.Result) error {
			line := c.tr(string(r.Decision))
			if r.Reason != "" {
				line += " (" + string(r.Reason) + ")"
			}
			return c.say(line)
		})
	}
}

// openClose parses the open|close argument.
func (c *cli) openClose(arg string) (bool, error) {
	switch arg {
	case "open":
		return true, nil
	case "close", "closed":
		return false, nil
	}
	return false, usagef(c.cmd, "want open or close, got %q", arg)
}

func simTamper(fs *flag.FlagSet) action {
	door := fs.String("door", "", "the `DOOR`'s name")
	return func(ctx context.Context, c *cli, args []string) error {
		open, err := c.openClose(args[0])
		if err != nil {
			return err
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/sim/tamper", nil, map[string]any{"door": *door, "open": open})
		if err != nil {
			return err
		}
		return output(c, raw, func(r api.TamperResult) error {
			return c.say(c.tr("enclosure of %s: %s", r.Door, c.tr(r.Enclosure)))
		})
	}
}

func simDoor(fs *flag.FlagSet) action {
	door := fs.String("door", "", "the `DOOR`'s name")
	return func(ctx context.Context, c *cli, args []string) error {
		open, err := c.openClose(args[0])
		if err != nil {
			return err
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/sim/door", nil, map[string]any{"door": *door, "open": open})
		if err != nil {
			return err
		}
		return output(c, raw, func(r api.DoorResult) error {
			return c.say(fmt.Sprintf("%s %s: %s", c.tr("door"), r.Door, c.tr(r.Contact)))
		})
	}
}

func simRex(fs *flag.FlagSet) action {
	door := fs.String("door", "", "the `DOOR`'s name")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/sim/rex", nil, map[string]string{"door": *door})
		if err != nil {
			return err
		}
		return output(c, raw, func(r api.RexResult) error {
			line := c.tr("exit button pressed at %s: strike released", r.Door)
			if !r.Logged {
				line += "; " + c.tr("the audit log could not be written (%s)", r.Error)
			}
			return c.say(line)
		})
	}
}

// timeRange registers --since and --until and returns a function that
// parses them into query parameters.
func timeRange(fs *flag.FlagSet) func(c *cli, q url.Values) error {
	since := fs.String("since", "", "only events at or after `RFC3339`")
	until := fs.String("until", "", "only events before `RFC3339`")
	return func(c *cli, q url.Values) error {
		for _, f := range []struct{ name, v string }{{"since", *since}, {"until", *until}} {
			if f.v == "" {
				continue
			}
			t, err := parseTime(c.cmd, f.name, f.v)
			if err != nil {
				return err
			}
			q.Set(f.name, t.Format(time.RFC3339))
		}
		return nil
	}
}

func export(fs *flag.FlagSet) action {
	format := fs.String("format", "", "`csv` or jsonl")
	delim := fs.String("delimiter", ",", "CSV cell `separator`: , or ; (for Excel set to Indonesian)")
	out := fs.String("o", "", "write to `FILE` instead of stdout")
	window := timeRange(fs)
	return func(ctx context.Context, c *cli, _ []string) error {
		if *format != "csv" && *format != "jsonl" {
			return usagef(c.cmd, "--format: want csv or jsonl, got %q", *format)
		}
		if *delim != "," && *delim != ";" {
			return usagef(c.cmd, "--delimiter: want , or ;, got %q", *delim)
		}
		q := url.Values{"format": {*format}}
		if *format == "csv" && *delim != "," {
			q.Set("delimiter", *delim)
		}
		if err := window(c, q); err != nil {
			return err
		}
		resp, err := c.client().do(ctx, http.MethodGet, "/v1/export", q, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if *out == "" {
			switch {
			case *format == "jsonl":
				return c.copyJSONLines(resp)
			case c.terminal(c.stdout):
				return c.copyEscapedLines(resp)
			}
			if _, err := io.Copy(c.stdout, resp.Body); err != nil {
				return fmt.Errorf("read export: %w", err)
			}
			return trailerError(resp)
		}
		// Write beside the target and rename, so a failed export never
		// leaves a file that looks complete.
		f, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		_, err = io.Copy(f, resp.Body)
		if err == nil {
			err = trailerError(resp)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), *out)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		count := resp.Trailer.Get("Pintu-Count")
		if c.json {
			b, _ := json.Marshal(map[string]any{"file": *out, "format": *format, "count": json.Number(dashZero(count))})
			return c.printJSON(b)
		}
		return c.say(c.tr("exported %s events to %s", dashZero(count), *out))
	}
}

func dashZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
