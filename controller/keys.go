package controller

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"time"

	"github.com/pintu/pintu/controller/remote"
)

// This file is the remote command key records.

func (s *state) addKey(now time.Time, person string, pub []byte, actor Actor) (*step, Key, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, Key{}, fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalid, len(pub), ed25519.PublicKeySize)
	}
	p, ok, err := s.rec.Person(person)
	if err != nil {
		return nil, Key{}, err
	}
	if !ok {
		return nil, Key{}, fmt.Errorf("%w: unknown person %q", ErrNotFound, person)
	}
	if !p.Has(RoleCoordinator) {
		return nil, Key{}, fmt.Errorf("%w: %q is not a coordinator; only coordinators sign remote commands", ErrWrongRole, person)
	}
	id := remote.KeyID(ed25519.PublicKey(pub))
	if k, ok := s.rec.Key(id); ok {
		if k.Revoked {
			return nil, Key{}, fmt.Errorf("%w: key %s was revoked; generate a new one", ErrExists, id)
		}
		return nil, Key{}, fmt.Errorf("%w: key %s belongs to %q", ErrExists, id, k.PersonID)
	}
	st := s.begin(now)
	k := Key{ID: id, PersonID: person, Public: slices.Clone(pub), AddedAt: now.UTC()}
	st.emit(Event{Type: EventKeyAdded, Person: person, Actor: actor.Name(), Via: actor.via(), Detail: id}, st.sealKey(k))
	return st, k, nil
}

func (s *state) revokeKey(now time.Time, id string, actor Actor) (*step, Key, error) {
	k, ok := s.rec.Key(id)
	if !ok {
		return nil, Key{}, fmt.Errorf("%w: unknown key %q", ErrNotFound, id)
	}
	if k.Revoked {
		return nil, Key{}, fmt.Errorf("%w: key %s is already revoked", ErrInvalid, id)
	}
	st := s.begin(now)
	k.Public = slices.Clone(k.Public)
	k.Revoked, k.RevokedAt = true, now.UTC()
	st.emit(Event{Type: EventKeyRevoked, Person: k.PersonID, Actor: actor.Name(), Via: actor.via(), Detail: id}, st.sealKey(k))
	return st, k, nil
}
