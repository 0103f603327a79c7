package boltstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
)

var _ controller.ConsoleStore = (*Store)(nil)

// commitConsole writes a change's credentials and sign-in states, in the
// commit's transaction.
func commitConsole(tx *bolt.Tx, c controller.Change) error {
	creds, accounts := tx.Bucket(bucketCredentials), tx.Bucket(bucketAccounts)
	for _, cr := range c.Credentials {
		if err := putID(creds, "credential", cr.Person, cr); err != nil {
			return err
		}
	}
	for _, a := range c.Accounts {
		if err := putID(accounts, "account", a.Person, a); err != nil {
			return err
		}
	}
	links := tx.Bucket(bucketLinks)
	for _, l := range c.Links {
		if l.User == "" {
			return errors.New("link without a Unix user")
		}
		var err error
		if l.Person == "" {
			err = links.Delete([]byte(l.User))
		} else {
			err = links.Put([]byte(l.User), []byte(l.Person))
		}
		if err != nil {
			return fmt.Errorf("link %q: %w", l.User, err)
		}
	}
	return nil
}

// loadLinks reads the index of Unix accounts linked to people.
func loadLinks(b *bolt.Bucket) (map[string]string, error) {
	links := map[string]string{}
	err := b.ForEach(func(k, v []byte) error {
		links[string(k)] = string(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	return links, nil
}

// Credential returns a person's stored password credential.
func (s *Store) Credential(person string) (controller.Credential, bool, error) {
	var c controller.Credential
	ok, err := s.get(bucketCredentials, person, &c)
	if err != nil {
		return controller.Credential{}, false, fmt.Errorf("boltstore: credential of %q: %w", person, err)
	}
	return c, ok, nil
}

// PutSession creates or updates a session. Sessions are not the log: a
// crash may lose the last seconds of them, so this write is not fsynced
// separately from bbolt's own commit.
func (s *Store) PutSession(se controller.Session) error {
	err := s.update(func(tx *bolt.Tx) error { return putID(tx.Bucket(bucketSessions), "session", se.Key, se) })
	if err != nil {
		return fmt.Errorf("boltstore: put session: %w", err)
	}
	return nil
}

// Session returns the session with the given key.
func (s *Store) Session(key string) (controller.Session, bool, error) {
	var se controller.Session
	ok, err := s.get(bucketSessions, key, &se)
	if err != nil {
		return controller.Session{}, false, fmt.Errorf("boltstore: session: %w", err)
	}
	return se, ok, nil
}

// DeleteSession removes a session; a missing one is not an error.
func (s *Store) DeleteSession(key string) error {
	err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(key)) })
	if err != nil {
		return fmt.Errorf("boltstore: delete session: %w", err)
	}
	return nil
}

// ExpireSessions removes the sessions last seen before idle or created
// before absolute.
func (s *Store) ExpireSessions(idle, absolute time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSessions).Cursor()
		for k, v := c.First(); k != nil; {
			var se controller.Session
			if err := json.Unmarshal(v, &se); err != nil || se.Seen.Before(idle) || se.Created.Before(absolute) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
				k, v = c.Seek(k) // Delete moves the cursor; find the next key
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: expire sessions: %w", err)
	}
	return n, nil
}

// Language returns the language a person chose, "" if none.
func (s *Store) Language(person string) (string, error) {
	var lang string
	err := s.view(func(tx *bolt.Tx) error {
		lang = string(tx.Bucket(bucketPrefs).Get([]byte("lang/" + person)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("boltstore: language of %q: %w", person, err)
	}
	return lang, nil
}

// SetLanguage remembers a person's language.
func (s *Store) SetLanguage(person, lang string) error {
	err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPrefs).Put([]byte("lang/"+person), []byte(lang)) })
	if err != nil {
		return fmt.Errorf("boltstore: set language of %q: %w", person, err)
	}
	return nil
}

// get decodes the JSON record under key in bucket into v.
func (s *Store) get(bucket []byte, key string, v any) (bool, error) {
	ok := false
	err := s.view(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get([]byte(key))
		if data == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(data, v)
	})
	return ok, err
}
