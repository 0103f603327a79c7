package controller

import "time"

// ConsoleStore is what the web console keeps beside the controller's
// records: its sessions and each person's display preferences, and reads
// of the credentials that password_set commits wrote. None of it is
// chained: a session is a bearer secret with a lifetime, not a record the
// access rule reads. Adapters implement it (controller/boltstore,
// controller/memstore).
type ConsoleStore interface {
	// Credential returns a person's stored password credential.
	Credential(person string) (Credential, bool, error)

	// PutSession creates or updates a session, keyed by Session.Key.
	PutSession(s Session) error
	// Session returns the session with the given key.
	Session(key string) (Session, bool, error)
	// DeleteSession removes a session; a missing one is not an error.
	DeleteSession(key string) error
	// ExpireSessions removes the sessions last seen before idle or created
	// before absolute, and returns how many it removed.
	ExpireSessions(idle, absolute time.Time) (int, error)

	// Language returns the language a person chose for the console, ""
	// if none.
	Language(person string) (string, error)
	// SetLanguage remembers a person's language.
	SetLanguage(person, lang string) error
}

// Session is one console sign-in, kept server-side. The browser holds only
// the session's random id; the store holds its SHA-256, so a copy of the
// database opens no session.
type Session struct {
	Key     string    `json:"key"` // hex SHA-256 of the session id
	Person  string    `json:"person"`
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"` // the last request, to the minute
}
