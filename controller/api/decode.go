package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pintu/pintu/controller"
)

// body is a request body: decoded strictly, then checked for the fields the
// route needs.
type body interface {
	check() error
}

// decode reads r's JSON body into dst, at most s.maxBody bytes of it.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst body) error {
	err := decodeBody(http.MaxBytesReader(w, r.Body, s.maxBody), dst)
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return badRequest("request body larger than %d bytes", mbe.Limit)
	}
	return err
}

// decodeBody decodes exactly one JSON object from rd into dst, refusing
// unknown fields and trailing data, then checks it.
func decodeBody(rd io.Reader, dst body) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return err
		}
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return badRequest("decode request body: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			if te.Field == "" {
				return badRequest("decode request body: want a JSON object, got %s", te.Value)
			}
			return badRequest("decode request body: field %q: want %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("decode request body: empty body, want a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("decode request body: unexpected EOF")
		}
		return badRequest("decode request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return err
		}
		return badRequest("decode request body: data after the JSON object")
	}
	return dst.check()
}

// jsonKind names a Go kind the way a JSON writer thinks of it.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "object"
	}
	return k
}

func missing(name string) error { return badRequest("missing field %q", name) }

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// require returns an error naming the first blank field of pairs (name,
// value).
func require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if blank(pairs[i+1]) {
			return missing(pairs[i])
		}
	}
	return nil
}

// parseTime parses an RFC 3339 time named name (a field or query parameter).
func parseTime(kind, name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest("%s %q: bad time %q: want RFC 3339 such as 2026-01-02T15:04:05+07:00", kind, name, v)
	}
	return t, nil
}

type personBody struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	Org   string   `json:"org"`
	IDDoc string   `json:"id_doc"`
}

func (b *personBody) check() error {
	if err := require("id", b.ID, "name", b.Name); err != nil {
		return err
	}
	if len(b.Roles) == 0 {
		return missing("roles")
	}
	for _, r := range b.Roles {
		if _, err := controller.ParseRole(r); err != nil {
			return badRequest("field \"roles\": unknown role %q (want one of admin, coordinator, head, officer, visitor)", r)
		}
	}
	return nil
}

func (b *personBody) person() controller.Person {
	p := controller.Person{ID: b.ID, Name: b.Name, Org: b.Org, IDDoc: b.IDDoc}
	for _, r := range b.Roles {
		role, _ := controller.ParseRole(r) // checked
		p.Roles = append(p.Roles, role)
	}
	return p
}

type assignBody struct {
	Card   string `json:"card"`
	Person string `json:"person"`
}

func (b *assignBody) check() error { return require("card", b.Card, "person", b.Person) }

type revokeBody struct {
	Card string `json:"card"`
}

func (b *revokeBody) check() error { return require("card", b.Card) }

type visitBody struct {
	Visitor string `json:"visitor"`
	By      string `json:"by"`
	Purpose string `json:"purpose"`
	Devices string `json:"devices"`
	From    string `json:"from"`
	Until   string `json:"until"`
	Escort  string `json:"escort"`

	form controller.VisitForm // set by check
}

func (b *visitBody) check() error {
	if err := require("visitor", b.Visitor, "purpose", b.Purpose); err != nil {
		return err
	}
	// An absent from or until is the controller's default: now, and two
	// hours after from.
	var from, until time.Time
	var err error
	if b.From != "" {
		if from, err = parseTime("field", "from", b.From); err != nil {
			return err
		}
	}
	if b.Until != "" {
		if until, err = parseTime("field", "until", b.Until); err != nil {
			return err
		}
	}
	if !from.IsZero() && !until.IsZero() && !until.After(from) {
		return badRequest("field \"until\" (%s) must be after \"from\" (%s)", b.Until, b.From)
	}
	b.form = controller.VisitForm{
		VisitorID: b.Visitor, Purpose: b.Purpose, Devices: b.Devices,
		From: from.UTC(), Until: until.UTC(), EscortID: b.Escort,
	}
	return nil
}

// stepBody is a workflow step; Text is the rejection reason or the work
// report.
type stepBody struct {
	By   string `json:"by"`
	Text string `json:"text"`

	action controller.Action // set by the handler before check
}

func (b *stepBody) check() error {
	if (b.action == controller.ActionReject || b.action == controller.ActionReport) && blank(b.Text) {
		return badRequest("missing field \"text\": %s needs it (%s)", b.action, map[controller.Action]string{
			controller.ActionReject: "the reason for rejecting",
			controller.ActionReport: "the report of the work done",
		}[b.action])
	}
	return nil
}

// personUpdateBody names the fields of a person to change; absent fields
// stay as they are.
type personUpdateBody struct {
	Name  *string   `json:"name,omitempty"`
	Roles *[]string `json:"roles,omitempty"`
	Org   *string   `json:"org,omitempty"`
	IDDoc *string   `json:"id_doc,omitempty"`
}

func (b *personUpdateBody) check() error {
	if b.Name == nil && b.Roles == nil && b.Org == nil && b.IDDoc == nil {
		return badRequest("nothing to change: give name, roles, org or id_doc")
	}
	if b.Name != nil && blank(*b.Name) {
		return badRequest("field \"name\" is empty")
	}
	if b.Roles != nil {
		if len(*b.Roles) == 0 {
			return badRequest("field \"roles\" is empty (a person holds at least one role)")
		}
		for _, r := range *b.Roles {
			if _, err := controller.ParseRole(r); err != nil {
				return badRequest("field \"roles\": unknown role %q (want one of admin, coordinator, head, officer, visitor)", r)
			}
		}
	}
	return nil
}

func (b *personUpdateBody) update() controller.PersonUpdate {
	u := controller.PersonUpdate{Name: b.Name, Org: b.Org, IDDoc: b.IDDoc}
	if b.Roles != nil {
		u.Roles = []controller.Role{}
		for _, r := range *b.Roles {
			role, _ := controller.ParseRole(r) // checked
			u.Roles = append(u.Roles, role)
		}
	}
	return u
}

// emptyBody is a request that carries nothing: {}.
type emptyBody struct{}

func (*emptyBody) check() error { return nil }

// ackBody acknowledges an alarm.
type ackBody struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

func (b *ackBody) check() error { return nil }

// lockdownBody locks a door down or releases it; an empty door means every
// door.
type lockdownBody struct {
	Door string `json:"door"`
	By   string `json:"by"`
}

func (b *lockdownBody) check() error { return nil }

type tapBody struct {
	Door   string `json:"door"`
	Reader string `json:"reader"`
	Card   string `json:"card"`
}

func (b *tapBody) check() error { return require("door", b.Door, "reader", b.Reader, "card", b.Card) }

type doorBody struct {
	Door string `json:"door"`
	Open *bool  `json:"open"`
}

func (b *doorBody) check() error {
	if err := require("door", b.Door); err != nil {
		return err
	}
	if b.Open == nil {
		return missing("open")
	}
	return nil
}

type rexBody struct {
	Door string `json:"door"`
}

func (b *rexBody) check() error { return require("door", b.Door) }

// stepActions are the workflow actions the API takes, in SOP order.
var stepActions = []controller.Action{
	controller.ActionCheck, controller.ActionApprove, controller.ActionReject,
	controller.ActionReturnID, controller.ActionReport, controller.ActionOrderArchive,
	controller.ActionArchive,
}

func unknownAction(a string) error {
	names := make([]string, len(stepActions))
	for i, x := range stepActions {
		names[i] = string(x)
	}
	return notFound("unknown visit action %q (want one of %s)", a, strings.Join(names, ", "))
}
