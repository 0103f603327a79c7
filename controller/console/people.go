package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pintu/pintu/controller"
)

// This file is people and cards. Who may change whom is the controller's
// rule (visitors by admin staff, the coordinator and the head; staff by the
// head); the forms offer what the person's roles allow.

// maxPeopleRows is a page of the people list; maxPeopleScan is how many
// people a search looks at before it offers to look further.
const (
	maxPeopleRows = 100
	maxPeopleScan = 20000
)

type personRow struct {
	P     controller.Person
	Roles string
	Cards string
}

// personForm is the registration form, kept to show again when refused.
type personForm struct {
	ID, Name, Org, IDDoc, Card string
	Roles                      []controller.Role
}

func (f personForm) has(r controller.Role) bool { return slices.Contains(f.Roles, r) }

func (s *Server) people(q *rq) error {
	if !q.has(managers...) {
		return errNotYours
	}
	q.done()
	return s.renderPeople(q, personForm{})
}

func (s *Server) renderPeople(q *rq, add personForm) error { return s.renderPeopleImport(q, add, nil) }

// renderPeopleImport is the people page with the bad lines of a refused
// import listed under its form.
func (s *Server) renderPeopleImport(q *rq, add personForm, bad []controller.LineError) error {
	ctx := q.r.Context()
	query := q.r.URL.Query()
	search := strings.ToLower(strings.TrimSpace(query.Get("q")))
	// The list is read a page at a time from the store, never whole: a
	// site may hold a million people. A search reads on until it has a
	// page of matches or has looked at maxPeopleScan people.
	after := query.Get("after")
	var rows []personRow
	next, scanned := "", 0
scan:
	for {
		ps, err := s.ctrl.People(ctx, controller.Page{After: after, Limit: controller.DefaultPage})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if len(rows) == maxPeopleRows || scanned == maxPeopleScan {
				next = after // someone is left: offer the next page
				break scan
			}
			scanned++
			after = p.ID
			if search != "" && !strings.Contains(strings.ToLower(p.ID), search) && !strings.Contains(strings.ToLower(p.Name), search) {
				continue
			}
			cards, err := s.ctrl.CardsOf(ctx, p.ID)
			if err != nil {
				return err
			}
			var active []string
			for _, c := range cards {
				if !c.Revoked {
					active = append(active, c.ID)
				}
			}
			rows = append(rows, personRow{P: p, Roles: s.roleNames(q, p.Roles), Cards: dash(strings.Join(active, ", "))})
		}
		if len(ps) < controller.DefaultPage {
			break
		}
	}
	more := ""
	if next != "" {
		v := url.Values{"after": {next}}
		if q := query.Get("q"); q != "" {
			v.Set("q", q)
		}
		more = "/people?" + v.Encode()
	}
	s.render(q, peoplePage(q, query.Get("q"), rows, more, add, bad))
	return nil
}

func (s *Server) addPerson(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	f := personForm{ID: q.field("id"), Name: q.field("name"), Org: q.field("org"), IDDoc: q.field("id_doc"), Card: q.field("card")}
	roles, err := formRoles(q)
	if err != nil {
		return err
	}
	f.Roles = roles
	again := func(err error) error {
		q.err = err
		q.w.WriteHeader(statusOf(err))
		return s.renderPeople(q, f)
	}
	p := controller.Person{ID: f.ID, Name: f.Name, Roles: roles, Org: f.Org, IDDoc: f.IDDoc}
	if err := s.ctrl.AddPerson(q.r.Context(), p, q.actor()); err != nil {
		return again(err)
	}
	if f.Card != "" {
		if err := s.ctrl.AssignCard(q.r.Context(), f.Card, f.ID, q.actor()); err != nil {
			q.err = fmt.Errorf("%s was registered, but the card was not assigned: %w", f.ID, err)
			q.w.WriteHeader(statusOf(err))
			return s.renderPerson(q, f.ID)
		}
	}
	return q.redirect("/people/"+url.PathEscape(f.ID), "added")
}

// formRoles reads the role checkboxes.
func formRoles(q *rq) ([]controller.Role, error) {
	var roles []controller.Role
	for _, r := range q.r.PostForm["role"] {
		role, err := controller.ParseRole(r)
		if err != nil {
			return nil, err
		}
		roles = append(roles, role)
	}
	return roles, nil
}

type personView struct {
	P           controller.Person
	Roles       string
	Cards       []controller.Card
	HasPassword bool
}

func (s *Server) person(q *rq) error {
	if !q.has(managers...) {
		return errNotYours
	}
	q.done()
	return s.renderPerson(q, q.r.PathValue("id"))
}

func (s *Server) renderPerson(q *rq, id string) error {
	ctx := q.r.Context()
	p, err := s.ctrl.Person(ctx, id)
	if err != nil {
		return err
	}
	cards, err := s.ctrl.CardsOf(ctx, id)
	if err != nil {
		return err
	}
	acct, err := s.ctrl.Account(ctx, id)
	if err != nil {
		return err
	}
	v := personView{P: p, Roles: s.roleNames(q, p.Roles), HasPassword: acct.HasPassword(), Cards: cards}
	s.render(q, personPage(q, v))
	return nil
}

func (s *Server) updatePerson(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	old, err := s.ctrl.Person(q.r.Context(), id)
	if err != nil {
		return err
	}
	name, org, idDoc := q.field("name"), q.field("org"), q.field("id_doc")
	var u controller.PersonUpdate
	if name != old.Name {
		u.Name = &name
	}
	if org != old.Org {
		u.Org = &org
	}
	if idDoc != old.IDDoc {
		u.IDDoc = &idDoc
	}
	if _, ok := q.r.PostForm["role"]; ok {
		roles, err := formRoles(q)
		if err != nil {
			return err
		}
		if !slices.Equal(slices.Sorted(slices.Values(roles)), old.Roles) {
			u.Roles = roles
		}
	}
	if u.Name == nil && u.Org == nil && u.IDDoc == nil && u.Roles == nil {
		return q.redirect("/people/"+url.PathEscape(id), "")
	}
	if _, err := s.ctrl.UpdatePerson(q.r.Context(), id, u, q.actor()); err != nil {
		q.err = err
		q.w.WriteHeader(statusOf(err))
		return s.renderPerson(q, id)
	}
	return q.redirect("/people/"+url.PathEscape(id), "updated")
}

func (s *Server) setDisabled(off bool) func(q *rq) error {
	return func(q *rq) error {
		if err := q.form(); err != nil {
			return err
		}
		id := q.r.PathValue("id")
		if _, err := s.ctrl.SetDisabled(q.r.Context(), id, off, q.actor()); err != nil {
			return err
		}
		if off {
			return q.redirect("/people/"+url.PathEscape(id), "disabled")
		}
		return q.redirect("/people/"+url.PathEscape(id), "enabled")
	}
}

func (s *Server) assignCard(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	person := q.field("person")
	if err := s.ctrl.AssignCard(q.r.Context(), q.field("card"), person, q.actor()); err != nil {
		if errors.Is(err, controller.ErrNotFound) {
			return err
		}
		q.err = err
		q.w.WriteHeader(statusOf(err))
		return s.renderPerson(q, person)
	}
	return q.redirect("/people/"+url.PathEscape(person), "assigned")
}

func (s *Server) revokeCard(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	if err := s.ctrl.RevokeCard(q.r.Context(), q.field("card"), q.actor()); err != nil {
		return err
	}
	return q.redirect("/people/"+url.PathEscape(q.field("person")), "revoked")
}

// MaxImportFile is the largest staff list the console takes (some 130,000
// lines); a larger one goes through pintuctl person import.
const MaxImportFile = 10 << 20

// maxBadLines is how many bad lines of a refused import the page lists.
const maxBadLines = 200

// importPeople registers the people of an uploaded CSV file with their
// cards, all or nothing (controller.Import): a file with a bad line
// imports nothing and the page lists each bad line. The file is read as
// it arrives, never stored.
func (s *Server) importPeople(q *rq) error {
	if !q.has(managers...) {
		return errNotYours
	}
	again := func(err error, bad []controller.LineError) error {
		q.err = err
		q.w.WriteHeader(statusOf(err))
		if len(bad) > maxBadLines {
			bad = bad[:maxBadLines]
		}
		return s.renderPeopleImport(q, personForm{}, bad)
	}
	mr, err := q.r.MultipartReader()
	if err != nil {
		return again(fmt.Errorf("%w: choose a CSV file to import", controller.ErrInvalid), nil)
	}
	var rows []controller.ImportRow
	var bad []controller.LineError
	found := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return again(fmt.Errorf("%w: the file is larger than %d MiB; import it with pintuctl person import", errTooLarge, MaxImportFile>>20), nil)
			}
			return again(fmt.Errorf("%w: read the upload: %v", controller.ErrInvalid, err), nil)
		}
		if part.FormName() != "file" || found {
			continue
		}
		found = true
		rows, bad, err = controller.ParseImport(part)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return again(fmt.Errorf("%w: the file is larger than %d MiB; import it with pintuctl person import", errTooLarge, MaxImportFile>>20), nil)
		}
		if err != nil {
			return again(err, nil)
		}
	}
	if !found {
		return again(fmt.Errorf("%w: choose a CSV file to import", controller.ErrInvalid), nil)
	}
	if len(bad) > 0 {
		return again(&controller.ImportError{Lines: bad}, bad)
	}
	res, err := s.ctrl.Import(q.r.Context(), rows, q.actor(), nil)
	if ie, ok := errors.AsType[*controller.ImportError](err); ok {
		return again(ie, ie.Lines)
	}
	if err != nil {
		return again(err, nil)
	}
	q.msg = q.T("%d people imported, %d already registered, of %d lines", res.Imported, res.Unchanged, res.Lines)
	return s.renderPeople(q, personForm{})
}
