package report

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pintu/pintu/controller"
)

// ErrNoVisits is a compliance report asked for a period without visits.
var ErrNoVisits = errors.New("no visit submitted in the period")

// ComplianceInput is what the SOP compliance report is made from.
type ComplianceInput struct {
	Site string
	// Visits are all visits; those submitted (step 1) in [From, Until)
	// are reported.
	Visits   []controller.Visit
	People   []controller.Person
	From     time.Time
	Until    time.Time
	Now      time.Time // for how long open visits have waited
	Location *time.Location
	Lang     Lang
}

// stepStats is one SOP step over the period's visits.
type stepStats struct {
	step      int
	standard  time.Duration
	durs      []time.Duration // of the visits that took the step, sorted
	over      int             // how many exceeded the standard
	overTotal time.Duration   // by how much, added up
	overMax   time.Duration
}

func (s stepStats) n() int { return len(s.durs) }

// rank is the p-th percentile by nearest rank (p in (0,1]).
func (s stepStats) rank(p float64) time.Duration {
	if len(s.durs) == 0 {
		return 0
	}
	i := int(p*float64(len(s.durs))+0.999999) - 1
	return s.durs[min(max(i, 0), len(s.durs)-1)]
}

// openVisit is a visit not finished (archived) nor rejected: who it waits
// on and since when.
type openVisit struct {
	v     controller.Visit
	next  int             // the SOP step it waits for
	role  controller.Role // who takes it
	who   string          // a named person, when the step has one
	since time.Time
}

// compliance is the report's figures.
type compliance struct {
	in       ComplianceInput
	steps    [8]stepStats
	visits   []controller.Visit // submitted in the period, by id
	rejected []controller.Visit
	open     []openVisit
}

// computeCompliance works out the report's figures from the records.
func computeCompliance(in ComplianceInput) (*compliance, error) {
	if in.Location == nil {
		in.Location = time.UTC
	}
	if in.Lang == "" {
		in.Lang = Indonesian
	}
	if !in.Until.After(in.From) {
		return nil, fmt.Errorf("report: period ends (%s) before it starts (%s)", in.Until.Format(time.RFC3339), in.From.Format(time.RFC3339))
	}
	c := &compliance{in: in}
	for i := range c.steps {
		c.steps[i] = stepStats{step: i + 1, standard: controller.DefaultStepStandards[i]}
	}
	for _, v := range in.Visits {
		s1, ok := v.Step(1)
		if !ok || s1.At.Before(in.From) || !s1.At.Before(in.Until) {
			continue
		}
		c.visits = append(c.visits, v)
	}
	if len(c.visits) == 0 {
		return nil, ErrNoVisits
	}
	slices.SortFunc(c.visits, func(a, b controller.Visit) int { return cmpString(a.ID, b.ID) })
	for _, v := range c.visits {
		for _, s := range v.Steps {
			if s.Step < 1 || s.Step > 8 || s.At.IsZero() {
				continue // step 4 still running has no duration yet
			}
			st := &c.steps[s.Step-1]
			if s.Standard > 0 {
				st.standard = s.Standard
			}
			st.durs = append(st.durs, s.Took())
			if ex := s.Took() - s.Standard; s.Standard > 0 && ex > 0 {
				st.over++
				st.overTotal += ex
				st.overMax = max(st.overMax, ex)
			}
		}
		switch v.State {
		case controller.StateRejected:
			c.rejected = append(c.rejected, v)
		case controller.StateArchived:
		default:
			c.open = append(c.open, waitingOn(v))
		}
	}
	for i := range c.steps {
		slices.Sort(c.steps[i].durs)
	}
	return c, nil
}

// waitingOn says which step an open visit waits for, and on whom.
func waitingOn(v controller.Visit) openVisit {
	last := v.Steps[len(v.Steps)-1].At
	o := openVisit{v: v, since: last}
	switch v.State {
	case controller.StateSubmitted:
		o.next, o.role = 2, controller.RoleCoordinator
	case controller.StateChecked:
		o.next, o.role = 3, controller.RoleHead
	case controller.StateApproved:
		o.next, o.role, o.who = 4, controller.RoleVisitor, v.VisitorID
	case controller.StateInside:
		o.next, o.role, o.who, o.since = 5, controller.RoleVisitor, v.VisitorID, v.EnteredAt
	case controller.StateExited:
		o.next, o.role, o.since = 5, controller.RoleAdmin, v.ExitedAt
		if v.IDReturned {
			o.next, o.role, o.since = 6, controller.RoleCoordinator, last
		}
	case controller.StateReported:
		o.next, o.role = 7, controller.RoleHead
	case controller.StateArchiveOrdered:
		o.next, o.role = 8, controller.RoleAdmin
	}
	return o
}

// waitText says on whom an open visit waits, in words.
func (o openVisit) waitText(lang Lang, who people) string {
	switch o.v.State {
	case controller.StateApproved:
		escort := lang.t(text{"petugas pendamping", "an escorting officer"})
		if o.v.EscortID != "" {
			escort = who.name(o.v.EscortID)
		}
		return lang.f(text{"%s datang bersama %s", "%s to arrive with %s"}, who.name(o.v.VisitorID), escort)
	case controller.StateInside:
		return lang.f(text{"%s keluar (didampingi %s)", "%s to leave (escorted by %s)"}, who.name(o.v.VisitorID), who.name(o.v.EscortedBy))
	}
	return lang.roleName(o.role)
}
