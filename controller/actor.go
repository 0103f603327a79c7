package controller

import (
	"fmt"
	"strings"
)

// actor resolves who takes an action that only some staff may take (an SOP
// step, a lockdown, acknowledging an alarm): by is the person's id as the
// caller gives it (pintuctl's --by). It is the one place that turns that
// claim into a person; callers check the roles they need. Changes made
// without a person (registering people and cards) are recorded with the
// caller's actor string as it is.
func (s *state) actor(by string) (Person, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return Person{}, fmt.Errorf("%w: who acts is missing (--by)", ErrInvalid)
	}
	p, ok, err := s.rec.Person(by)
	if err != nil {
		return Person{}, err
	}
	if !ok {
		return Person{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, by)
	}
	if p.Disabled {
		return Person{}, fmt.Errorf("%w: %s is disabled and may take no action", ErrWrongRole, p.ID)
	}
	return p, nil
}

func rolesText(rs []Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}
