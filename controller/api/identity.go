package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/password"
)

// This file is who a request comes from: the Unix account on the other end
// of the socket, read from the kernel (SO_PEERCRED) when the connection is
// accepted, and the person linked to it.

// peerKey is the request context key of the connection's peer uid.
type peerKey struct{}

// connContext stashes the peer credentials of an accepted unix connection
// in its context. A connection whose credentials cannot be read gets none,
// and its requests act as nobody.
func connContext(ctx context.Context, c net.Conn) context.Context {
	for {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn() // the connection limit's wrapper
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	uid, err := peerUID(uc)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, uid)
}

// peerUID asks the kernel who opened the other end of c.
func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, fmt.Errorf("api: peer credentials: %w", cerr)
	}
	return cred.Uid, nil
}

// peer returns the uid a request's connection came from.
func peer(r *http.Request) (uint32, bool) {
	uid, ok := r.Context().Value(peerKey{}).(uint32)
	return uid, ok
}

// LookupUser is os/user's name for a uid (from /etc/passwd without cgo).
func LookupUser(uid uint32) (string, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// Identify maps a socket peer's uid to an Actor: root for uid 0, else the
// person linked to the uid's Unix user, else an actor with no person whose
// Account names the user (it may read, and is refused every change).
// lookup names a uid; linked finds the person linked to a user.
func Identify(uid uint32, lookup func(uint32) (string, error), linked func(user string) (string, bool, error)) (controller.Actor, error) {
	if uid == 0 {
		return controller.Actor{Root: true, Via: controller.ViaSocket, Account: "root"}, nil
	}
	name, err := lookup(uid)
	if err != nil {
		var unknown user.UnknownUserIdError
		if errors.As(err, &unknown) {
			return controller.Actor{Via: controller.ViaSocket, Account: fmt.Sprintf("uid %d", uid)}, nil
		}
		return controller.Actor{}, fmt.Errorf("api: look up uid %d: %w", uid, err)
	}
	a := controller.Actor{Via: controller.ViaSocket, Account: name}
	person, ok, err := linked(name)
	if err != nil {
		return controller.Actor{}, err
	}
	if ok {
		a.Person = person
	}
	return a, nil
}

// actor is who acts in a request; by is what the client claims (pintuctl's
// --by, "" if not given). Under pintud -sim (Options.SimIdentity) the claim
// is taken as given and marked unauthenticated; otherwise the socket's peer
// decides, and a claim must match it (the controller checks, and records a
// mismatch). It is the one place the API turns a request into an Actor.
func (s *Server) actor(r *http.Request, by string) (controller.Actor, error) {
	if s.opts.SimIdentity {
		return controller.Actor{Person: by, Via: controller.ViaSocket, Unauthenticated: true}, nil
	}
	uid, ok := peer(r)
	if !ok {
		return controller.Actor{Via: controller.ViaSocket, Claim: by}, nil
	}
	a, err := Identify(uid, s.opts.LookupUser, func(name string) (string, bool, error) {
		p, ok, err := s.ctrl.PersonByUnixUser(r.Context(), name)
		return p.ID, ok, err
	})
	if err != nil {
		return controller.Actor{}, err
	}
	a.Claim = by
	return a, nil
}

// Whoami is the answer to GET /v1/whoami.
type Whoami struct {
	// Actor is the name the log records for requests from this caller:
	// a person id, root, or local (pintud -sim); empty for an account
	// linked to nobody.
	Actor           string             `json:"actor"`
	Account         string             `json:"account,omitempty"` // the Unix user
	Person          *controller.Person `json:"person,omitempty"`
	Root            bool               `json:"root,omitempty"`
	Unauthenticated bool               `json:"unauthenticated,omitempty"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	out := Whoami{Actor: a.Name(), Account: a.Account, Root: a.Root, Unauthenticated: a.Unauthenticated}
	if a.Person != "" {
		if p, err := s.ctrl.Person(r.Context(), a.Person); err == nil {
			out.Person = &p
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type linkBody struct {
	UnixUser *string `json:"unix_user"`
}

func (b *linkBody) check() error {
	if b.UnixUser == nil {
		return missing("unix_user")
	}
	return nil
}

func (s *Server) linkPerson(w http.ResponseWriter, r *http.Request) error {
	var b linkBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	p, err := s.ctrl.LinkPerson(r.Context(), r.PathValue("id"), *b.UnixUser, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, utcPerson(p))
	return nil
}

type passwordBody struct {
	Password string `json:"password"`
}

func (b *passwordBody) check() error { return require("password", b.Password) }

// setPassword hashes the password in the request's goroutine, never the
// controller's, and hands the controller the credential.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Hasher == nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: "passwords are not enabled in this pintud"}
	}
	var b passwordBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := password.Check(b.Password, id); err != nil {
		return badRequest("%v", err)
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	hash, err := s.opts.Hasher.Hash(r.Context(), b.Password)
	if err != nil {
		return err
	}
	if err := s.ctrl.SetPassword(r.Context(), id, controller.Credential{Hash: hash}, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"person": id, "password": "set"})
	return nil
}
