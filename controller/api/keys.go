package api

import (
	"net/http"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
)

// KeyInfo is a remote command key as the API shows it: the public key as
// PEM, not bytes.
type KeyInfo struct {
	ID        string `json:"id"`
	Person    string `json:"person"`
	PublicKey string `json:"public_key"` // PEM "PUBLIC KEY"
	AddedAt   string `json:"added_at"`
	Revoked   bool   `json:"revoked,omitempty"`
	RevokedAt string `json:"revoked_at,omitempty"`
}

func keyInfo(k controller.Key) KeyInfo {
	pemKey, _ := remote.MarshalPublicKey(k.Public) // stored keys are 32 bytes
	ki := KeyInfo{ID: k.ID, Person: k.PersonID, PublicKey: string(pemKey), AddedAt: k.AddedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), Revoked: k.Revoked}
	if k.Revoked {
		ki.RevokedAt = k.RevokedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	return ki
}

type keyBody struct {
	Person    string `json:"person"`
	PublicKey string `json:"public_key"`

	pub []byte // set by check
}

func (b *keyBody) check() error {
	if err := require("person", b.Person, "public_key", b.PublicKey); err != nil {
		return err
	}
	pub, err := remote.ParsePublicKey([]byte(b.PublicKey))
	if err != nil {
		return badRequest("field \"public_key\": %v", err)
	}
	b.pub = pub
	return nil
}

type keyRevokeBody struct {
	Key string `json:"key"`
}

func (b *keyRevokeBody) check() error { return require("key", b.Key) }

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.ctrl.Keys(r.Context())
	if err != nil {
		return err
	}
	out := make([]KeyInfo, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyInfo(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) addKey(w http.ResponseWriter, r *http.Request) error {
	var b keyBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	k, err := s.ctrl.AddKey(r.Context(), b.Person, b.pub, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyInfo(k))
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	var b keyRevokeBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	a, err := s.actor(r, "")
	if err != nil {
		return err
	}
	k, err := s.ctrl.RevokeKey(r.Context(), b.Key, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyInfo(k))
	return nil
}
