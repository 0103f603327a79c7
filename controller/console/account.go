package console

import (
	"errors"
	"fmt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/password"
)

// This file is the signed-in person's own account: their roles, and a
// new password. Root sets the first password (pintuctl person password);
// the person then changes it here, so that nobody else knows it.

func (s *Server) account(q *rq) error {
	q.done()
	s.render(q, accountPage(q, s.roleNames(q, q.p.Roles)))
	return nil
}

// changePassword checks the current password (a wrong one counts towards
// the lockout like a wrong sign-in), then stores the new one, which ends
// the person's other sessions; this one is replaced by a new session.
func (s *Server) changePassword(q *rq) error {
	if err := q.form(); err != nil {
		return err
	}
	current, next, again := q.r.PostForm.Get("current"), q.r.PostForm.Get("new"), q.r.PostForm.Get("again")
	fail := func(err error) error {
		q.err = err
		q.w.WriteHeader(statusOf(err))
		s.render(q, accountPage(q, s.roleNames(q, q.p.Roles)))
		return nil
	}
	ctx := q.r.Context()
	cred, ok, err := s.opts.Store.Credential(q.p.ID)
	if err != nil {
		return err
	}
	match, err := s.opts.Hasher.Verify(ctx, current, cred.Hash)
	if err != nil || !ok || !match {
		_, lerr := s.ctrl.Login(ctx, controller.LoginAttempt{Person: q.p.ID, NoPassword: !ok, From: s.clientAddr(q.r)})
		if errors.Is(lerr, controller.ErrLockedOut) {
			return fail(lerr)
		}
		return fail(fmt.Errorf("%w: the current password is wrong", controller.ErrInvalid))
	}
	if next != again {
		return fail(fmt.Errorf("%w: the two new passwords differ", controller.ErrInvalid))
	}
	if err := password.Check(next, q.p.ID); err != nil {
		return fail(fmt.Errorf("%w: %w", controller.ErrInvalid, err))
	}
	hash, err := s.opts.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.ctrl.SetPassword(ctx, q.p.ID, controller.Credential{Hash: hash}, q.actor()); err != nil {
		return fail(err)
	}
	if c, err := q.r.Cookie(s.cookieName()); err == nil {
		s.opts.Store.DeleteSession(sessionKey(c.Value))
	}
	if err := s.startSession(q.w, q.p.ID); err != nil {
		return err
	}
	return q.redirect("/account", "password")
}
