package memstore

import (
	"maps"
	"time"

	"github.com/pintu/pintu/controller"
)

var _ controller.ConsoleStore = (*Store)(nil)

// console is the web console's part of the store.
type console struct {
	creds    map[string]controller.Credential
	accounts map[string]controller.Account
	sessions map[string]controller.Session
	langs    map[string]string
	links    map[string]string // Unix user -> person
}

// commit writes a change's credentials and sign-in states; the caller holds
// the lock and has checked c.
func (c *console) commit(ch controller.Change) {
	for _, cr := range ch.Credentials {
		c.creds = put(c.creds, cr.Person, cr)
	}
	for _, a := range ch.Accounts {
		c.accounts = put(c.accounts, a.Person, a)
	}
	for _, l := range ch.Links {
		if l.Person == "" {
			delete(c.links, l.User)
		} else {
			c.links = put(c.links, l.User, l.Person)
		}
	}
}

func put[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[k] = v
	return m
}

// Credential returns a person's stored password credential.
func (s *Store) Credential(person string) (controller.Credential, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.console.creds[person]
	return c, ok, nil
}

// PutSession creates or updates a session.
func (s *Store) PutSession(se controller.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.console.sessions = put(s.console.sessions, se.Key, se)
	return nil
}

// Session returns the session with the given key.
func (s *Store) Session(key string) (controller.Session, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.console.sessions[key]
	return se, ok, nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.console.sessions, key)
	return nil
}

// ExpireSessions removes the sessions last seen before idle or created
// before absolute.
func (s *Store) ExpireSessions(idle, absolute time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.console.sessions)
	maps.DeleteFunc(s.console.sessions, func(_ string, se controller.Session) bool {
		return se.Seen.Before(idle) || se.Created.Before(absolute)
	})
	return n - len(s.console.sessions), nil
}

// Language returns the language a person chose.
func (s *Store) Language(person string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.console.langs[person], nil
}

// SetLanguage remembers a person's language.
func (s *Store) SetLanguage(person, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.console.langs = put(s.console.langs, person, lang)
	return nil
}
