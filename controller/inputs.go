package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the Controller's methods that change something: each runs
// one step on the Run goroutine and processes it (see process).

// run computes a step on the Run goroutine and processes it. A step that
// read a record failing its integrity check is dropped (what it decided
// rests on a record that cannot be trusted), and the break is recorded
// instead; the caller gets an error wrapping ErrIntegrity.
func (c *Controller) run(ctx context.Context, fn func(now time.Time) (*step, error)) error {
	var err error
	derr := c.do(ctx, func(now time.Time) { _, err = c.settle(now, fn) })
	return errors.Join(derr, err)
}

// settle computes fn's step at now and processes it, or, when it read a
// record failing its check, records the break instead. decided is false
// when fn refused (its own error), true when a step was processed.
func (c *Controller) settle(now time.Time, fn func(now time.Time) (*step, error)) (decided bool, err error) {
	st, err := fn(now)
	if st != nil && st.faulted() && err == nil {
		err = st.faults[0]
	}
	switch {
	case errors.Is(err, ErrIntegrity):
		c.process(c.st.faultStep(now, err))
		return true, err
	case err != nil:
		return false, err
	}
	return true, c.process(st)
}

// Tap presents card at the named door's reader. An entry read is granted,
// denied or pending; an exit read is always granted (egress is never
// blocked) and releases the strike before anything is written. If the
// audit event cannot be committed the door stays locked for an entry read,
// which is denied with ReasonStorageFailure.
func (c *Controller) Tap(ctx context.Context, door, reader, card string) (Result, error) {
	var res Result
	var err error
	fn := func(now time.Time) {
		var st *step
		res, st, err = c.st.tap(now, door, reader, card)
		if err != nil {
			return
		}
		if c.process(st) != nil {
			res = Result{Decision: Denied, Reason: ReasonStorageFailure, Person: res.Person, Visit: res.Visit}
			if st.egress {
				res.Decision = Granted // the strike was released anyway
			}
			return
		}
		res.Seq = st.resultSeq()
	}
	var derr error
	if c.exitReader(door, reader) {
		derr = c.doEgress(ctx, door, fn)
	} else {
		derr = c.do(ctx, fn)
	}
	return res, errors.Join(derr, err)
}

// SetContact reports the door contact: open or closed.
func (c *Controller) SetContact(ctx context.Context, door string, open bool) error {
	return c.run(ctx, func(now time.Time) (*step, error) { return c.st.contact(now, door, open) })
}

// RequestExit reports a press of the door's request-to-exit button. It always
// releases the strike, before anything is written: egress is never blocked.
// An error wrapping ErrStorage means the strike was released but the press
// could not be logged.
func (c *Controller) RequestExit(ctx context.Context, door string) error {
	if !slices.ContainsFunc(c.cfg.Doors, func(d DoorConfig) bool { return d.Name == door }) {
		return fmt.Errorf("%w: unknown door %q", ErrNotFound, door)
	}
	var err error
	derr := c.doEgress(ctx, door, func(now time.Time) {
		var st *step
		if st, err = c.st.rex(now, door); err == nil {
			err = c.process(st)
		}
	})
	return errors.Join(derr, err)
}

// SetTamper reports the door's enclosure tamper switch: tampered raises the
// tamper alarm, a closed enclosure ends its cause. Reporting the same state
// again changes nothing.
func (c *Controller) SetTamper(ctx context.Context, door string, tampered bool) error {
	return c.run(ctx, func(now time.Time) (*step, error) { return c.st.tamper(now, door, tampered) })
}

// runAs runs a step taken by an actor. An action refused for want of
// identity or role (ErrUnauthenticated, ErrWrongRole, ErrSeparation) is
// recorded as a refused event naming what was attempted and why, and the
// records it was attempted on (on's Person, Visit, Door and Card, where
// they exist); nothing else changes.
func (c *Controller) runAs(ctx context.Context, by Actor, what string, on Event, fn func(now time.Time) (*step, error)) error {
	var err error
	derr := c.do(ctx, func(now time.Time) {
		var decided bool
		if decided, err = c.settle(now, fn); !decided && refusal(err) {
			c.process(c.st.refused(now, by, what, on, err))
		}
	})
	return errors.Join(derr, err)
}

// Lockdown puts a door (all doors when door is empty) in lockdown, where
// only egress opens it, or releases it; by must be a coordinator or the
// head. It is the same state a signed remote lockdown sets, and it survives
// a restart. It returns the doors that changed, and an error wrapping
// ErrAlready when none did.
func (c *Controller) Lockdown(ctx context.Context, door string, by Actor, on bool) ([]string, error) {
	var changed []string
	what := "release the lockdown"
	if on {
		what = "lock down"
	}
	if door != "" {
		what += " of door " + door
	}
	err := c.runAs(ctx, by, what, Event{Door: door}, func(now time.Time) (*step, error) {
		st, ch, err := c.st.lockdown(now, door, on, by)
		changed = ch
		return st, err
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// AckAlarm is a coordinator or the head acknowledging a listed alarm, with
// an optional note. An alarm whose cause is gone leaves the list. An alarm
// no longer listed is refused with ErrAlready, saying why.
func (c *Controller) AckAlarm(ctx context.Context, id string, by Actor, note string) (Alarm, error) {
	note = normalizeNote(note)
	if err := CheckText("note", note, MaxNoteLen, true); err != nil {
		return Alarm{}, err
	}
	var a Alarm
	err := c.runAs(ctx, by, "acknowledge alarm "+id, Event{}, func(now time.Time) (*step, error) {
		st, x, err := c.st.ack(now, id, by, note)
		a = x
		return st, err
	})
	if errors.Is(err, ErrNotFound) {
		if raised, ok := c.raisedAlarm(strings.TrimSpace(id)); ok {
			why := "its cause ended and it was acknowledged"
			if !raised.Kind.NeedsAck() {
				why = "its cause ended, and it needs no acknowledgement"
			}
			return Alarm{}, fmt.Errorf("%w: alarm %s (%s) is no longer listed: %s", ErrAlready, raised.ID, raised.Kind, why)
		}
	}
	return a, err
}

// raisedAlarm finds, in the log, the alarm an id names: its id is the seq
// of the event that raised it.
func (c *Controller) raisedAlarm(id string) (Alarm, bool) {
	seq, err := strconv.ParseUint(strings.TrimPrefix(id, "A"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "A") || seq == 0 {
		return Alarm{}, false
	}
	var found Alarm
	ok := false
	_ = c.store.Events(EventQuery{FromSeq: seq, ToSeq: seq}, func(e Event) error {
		kind, _, _ := strings.Cut(strings.TrimPrefix(e.Detail, id+" "), ":")
		if e.Type == EventAlarmRaised && strings.HasPrefix(e.Detail, id+" ") {
			found, ok = Alarm{ID: id, Kind: AlarmKind(kind)}, true
		}
		return nil
	})
	return found, ok
}

// AddPerson registers a person. Root registers anyone; the head
// registers staff; admin staff, coordinators and the head register
// visitors.
func (c *Controller) AddPerson(ctx context.Context, p Person, by Actor) error {
	if err := checkTexts(textField{"person id", p.ID, 64, false}, textField{"name", p.Name, MaxNameLen, false},
		textField{"organisation", p.Org, MaxNameLen, false}, textField{"identity document", p.IDDoc, MaxNameLen, false}); err != nil {
		return err
	}
	if slices.Contains(reservedIDs, strings.TrimSpace(p.ID)) {
		return fmt.Errorf("%w: person id %q is reserved: the log records %s as an actor that is not a person", ErrInvalid, p.ID, p.ID)
	}
	return c.runAs(ctx, by, "register "+p.ID, Event{Person: p.ID}, func(now time.Time) (*step, error) {
		if err := c.st.mayManage(by, p); err != nil {
			return nil, err
		}
		return c.st.addPerson(now, p, by)
	})
}

// UpdatePerson changes a person's name, roles, organisation or identity
// document, and returns the person after the change.
func (c *Controller) UpdatePerson(ctx context.Context, id string, u PersonUpdate, by Actor) (Person, error) {
	for _, f := range []struct {
		what string
		s    *string
	}{{"name", u.Name}, {"organisation", u.Org}, {"identity document", u.IDDoc}} {
		if f.s != nil {
			if err := CheckText(f.what, *f.s, MaxNameLen, false); err != nil {
				return Person{}, err
			}
		}
	}
	var p Person
	err := c.runAs(ctx, by, "change "+id, Event{Person: id}, func(now time.Time) (*step, error) {
		if err := c.managing(by, id); err != nil {
			return nil, err
		}
		st, x, err := c.st.updatePerson(now, id, u, by)
		p = x
		return st, err
	})
	return p, err
}

// managing checks that by may manage the person id, if there is one (an
// unknown id is the step's own error to report).
func (c *Controller) managing(by Actor, id string) error {
	target, ok, err := c.st.rec.Person(id)
	if err != nil {
		return err
	}
	if ok {
		return c.st.mayManage(by, target)
	}
	return nil
}

// SetDisabled disables (off) or enables a person; see Person.Disabled.
func (c *Controller) SetDisabled(ctx context.Context, id string, off bool, by Actor) (Person, error) {
	var p Person
	what := "enable "
	if off {
		what = "disable "
	}
	err := c.runAs(ctx, by, what+id, Event{Person: id}, func(now time.Time) (*step, error) {
		if err := c.managing(by, id); err != nil {
			return nil, err
		}
		st, x, err := c.st.setDisabled(now, id, off, by)
		p = x
		return st, err
	})
	return p, err
}

// AssignCard binds a card to a person.
func (c *Controller) AssignCard(ctx context.Context, card, person string, by Actor) error {
	if err := CheckText("card", card, 64, false); err != nil {
		return err
	}
	return c.runAs(ctx, by, "assign card "+card+" to "+person, Event{Person: person}, func(now time.Time) (*step, error) {
		if err := c.managing(by, person); err != nil {
			return nil, err
		}
		return c.st.assignCard(now, card, person, by)
	})
}

// RevokeCard revokes a card; it is denied from then on.
func (c *Controller) RevokeCard(ctx context.Context, card string, by Actor) error {
	return c.runAs(ctx, by, "revoke card "+card, Event{Card: card}, func(now time.Time) (*step, error) {
		if k, ok, err := c.st.rec.Card(card); err != nil {
			return nil, err
		} else if ok {
			if err := c.managing(by, k.PersonID); err != nil {
				return nil, err
			}
		}
		return c.st.revokeCard(now, card, by)
	})
}

// SubmitVisit is SOP step 1: admin staff enter the visitor's form.
func (c *Controller) SubmitVisit(ctx context.Context, f VisitForm, by Actor) (Visit, error) {
	if err := checkTexts(textField{"purpose", f.Purpose, MaxNameLen, false}, textField{"devices", f.Devices, MaxNameLen, false}); err != nil {
		return Visit{}, err
	}
	var v Visit
	err := c.runAs(ctx, by, "submit a visit of "+f.VisitorID, Event{Person: f.VisitorID}, func(now time.Time) (*step, error) {
		st, x, err := c.st.submit(now, f, by)
		v = x
		return st, err
	})
	return v.clone(), err
}

// Step takes a workflow step on a visit: check, approve, reject, return-id,
// report, order-archive or archive. note is the rejection reason or the work
// report.
func (c *Controller) Step(ctx context.Context, visit string, a Action, by Actor, note string) (Visit, error) {
	note = normalizeNote(note)
	if err := CheckText("note", note, MaxNoteLen, true); err != nil {
		return Visit{}, err
	}
	var v Visit
	err := c.runAs(ctx, by, string(a)+" visit "+visit, Event{Visit: visit}, func(now time.Time) (*step, error) {
		st, x, err := c.st.step(now, visit, a, by, note)
		v = x
		return st, err
	})
	return v.clone(), err
}

// Remote decides on a signed remote command and executes it if it is
// accepted. Every command, accepted or refused, however malformed, is
// recorded in one remote_command audit event before any relay moves. A
// refusal is not an error; an error means the controller is not running.
func (c *Controller) Remote(ctx context.Context, in RemoteInput) (RemoteResult, error) {
	return c.remoteRun(ctx, func(now time.Time) (RemoteResult, *step) { return c.st.remoteCommand(now, in) })
}

// CodeCommand executes an unlock or lock from an integration that cannot
// sign (the Home Assistant lock entity), for the person its code maps to.
// It is audited like a signed command.
func (c *Controller) CodeCommand(ctx context.Context, in CodeInput) (RemoteResult, error) {
	return c.remoteRun(ctx, func(now time.Time) (RemoteResult, *step) { return c.st.codeCommand(now, in) })
}

func (c *Controller) remoteRun(ctx context.Context, fn func(now time.Time) (RemoteResult, *step)) (RemoteResult, error) {
	var res RemoteResult
	err := c.do(ctx, func(now time.Time) {
		var st *step
		res, st = fn(now)
		if err := c.process(st); err != nil {
			res.Accepted, res.Reason, res.Detail, res.Seq = false, string(ReasonStorageFailure), "the audit log could not be written; nothing done", 0
			return
		}
		res.Seq = st.resultSeq()
	})
	return res, err
}

// AddKey registers a coordinator's public key for remote commands. Only
// root does: a key speaks for its person.
func (c *Controller) AddKey(ctx context.Context, person string, pub []byte, by Actor) (Key, error) {
	var k Key
	err := c.runAs(ctx, by, "add a remote command key for "+person, Event{Person: person}, func(now time.Time) (*step, error) {
		if err := c.st.mayAdminister(by, "add remote command keys"); err != nil {
			return nil, err
		}
		st, x, err := c.st.addKey(now, person, pub, by)
		k = x
		return st, err
	})
	return k, err
}

// RevokeKey revokes a remote command key; commands it signs are refused
// unknown_key from then on. Root, a coordinator or the head may: revoking
// only takes a power away.
func (c *Controller) RevokeKey(ctx context.Context, id string, by Actor) (Key, error) {
	var k Key
	err := c.runAs(ctx, by, "revoke remote command key "+id, Event{}, func(now time.Time) (*step, error) {
		if err := c.st.mayAdminister(by, "revoke remote command keys"); err != nil {
			if p, perr := c.st.actor(by); perr != nil || !(p.Has(RoleCoordinator) || p.Has(RoleHead)) {
				return nil, err
			}
		}
		st, x, err := c.st.revokeKey(now, id, by)
		k = x
		return st, err
	})
	return k, err
}

// LinkPerson links a Unix account to a person (user "" unlinks): pintuctl
// run by that account on the local socket acts as the person. Only root
// links.
func (c *Controller) LinkPerson(ctx context.Context, id, user string, by Actor) (Person, error) {
	var p Person
	err := c.runAs(ctx, by, "link "+id+" to a Unix user", Event{Person: id}, func(now time.Time) (*step, error) {
		st, x, err := c.st.linkPerson(now, id, user, by)
		p = x
		return st, err
	})
	return p, err
}

// SetPassword stores a console password credential for a staff member,
// hashed by the caller (see controller/password), and records its digest.
// Root sets and resets passwords; a person may change their own.
func (c *Controller) SetPassword(ctx context.Context, id string, cred Credential, by Actor) error {
	return c.runAs(ctx, by, "set the password of "+id, Event{Person: id}, func(now time.Time) (*step, error) {
		return c.st.setPassword(now, id, cred, by)
	})
}

// Login records a console sign-in attempt whose password the caller has
// checked, and decides on it: it returns the person, or ErrLoginFailed, or
// a *LockoutError. Every attempt is an event; a sign-in whose event cannot
// be written is refused.
func (c *Controller) Login(ctx context.Context, a LoginAttempt) (Person, error) {
	var p Person
	var lerr error
	derr := c.do(ctx, func(now time.Time) {
		st, x, err := c.st.login(now, a)
		p, lerr = x, err
		if perr := c.process(st); perr != nil && lerr == nil {
			p, lerr = Person{}, perr
		}
	})
	if derr != nil {
		return Person{}, derr
	}
	return p, lerr
}

// Logout records the end of a person's console session; why is "signed
// out" or what ended it.
func (c *Controller) Logout(ctx context.Context, person, why string) error {
	return c.run(ctx, func(now time.Time) (*step, error) { return c.st.logout(now, person, why) })
}
