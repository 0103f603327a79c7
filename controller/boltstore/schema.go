package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The buckets. Their names and key encodings are private to this package.
var (
	bucketMeta   = []byte("meta")   // see the keys below
	bucketPeople = []byte("people") // person ID → encodePerson
	bucketCards  = []byte("cards")  // card ID → encodeCard
	bucketInside = []byte("inside") // person ID → JSON controller.Occupant
	bucketEvents = []byte("events") // seqKey(seq) → encodeEvent
	// Since schema 2.
	bucketKeys     = []byte("keys")     // key ID → encodeKey
	bucketCommands = []byte("commands") // command ID → JSON controller.CommandRecord (replay cache)
	// Since schema 3.
	bucketAlarms = []byte("alarms") // alarm ID → JSON controller.Alarm (the listed alarms)
	bucketDoors  = []byte("doors")  // door name → JSON controller.DoorRecord (lockdown)
	// Since schema 4.
	bucketVisitsN  = []byte("visits_by_number") // visitKey(ID) → encodeVisit
	bucketVisitors = []byte("visitors")         // visitorKey(visitor, visitKey(ID)) → empty: each visitor's visits
	bucketHolders  = []byte("holders")          // holderKey(person, card) → empty: each person's cards
	// Since schema 5 (see consoleBuckets).
	bucketCredentials = []byte("credentials") // person ID → JSON controller.Credential
	bucketAccounts    = []byte("accounts")    // person ID → JSON controller.Account (lockouts)
	bucketSessions    = []byte("sessions")    // session key (hex SHA-256 of the id) → JSON controller.Session
	bucketPrefs       = []byte("prefs")       // "lang/" + person ID → language tag
	bucketLinks       = []byte("links")       // Unix user → person ID: the index of Person.UnixUser

	// Schema 1 to 3 only; schema 4 moved and removed them.
	bucketVisitsOld = []byte("visits") // visit ID → JSON controller.Visit
	bucketOutboxOld = []byte("outbox") // seqKey(seq) → empty: events not yet acknowledged

	keySchema    = []byte("schema_version") // 8-byte big-endian schema version
	keyMigrating = []byte("migrating")      // the schema a migration in steps is bringing the file to
	keyIntegrity = []byte("integrity")      // JSON controller.IntegrityState (since 4)
	keyPeople    = []byte("people")         // 8-byte big-endian count of people (since 4)
	keyAcked     = []byte("outbox_acked")   // 8-byte big-endian outbox watermark (since 4)

	// recordBuckets are the buckets the current schema has besides meta.
	recordBuckets = [][]byte{bucketPeople, bucketCards, bucketInside, bucketEvents,
		bucketKeys, bucketCommands, bucketAlarms, bucketDoors, bucketVisitsN, bucketVisitors, bucketHolders}
	// consoleBuckets are the web console's: credentials, sign-in states and
	// Unix links written with the log, and sessions and preferences beside
	// it.
	consoleBuckets = [][]byte{bucketCredentials, bucketAccounts, bucketSessions, bucketPrefs, bucketLinks}
)

// A migration brings a file from schema version-1 to version: in the one
// Update that up runs in, or, for a change too big for one transaction,
// in steps, each its own transaction that records how far it got, so that
// a migration cut short (a power cut, SIGKILL) goes on where it stopped
// the next time the file is opened (see migrate4.go).
type migration struct {
	version uint64
	what    string
	up      func(tx *bolt.Tx) error
	steps   func(db *bolt.DB, env migrateEnv) error
}

// migrateEnv is what a migration in steps may use besides the file.
type migrateEnv struct {
	now func() time.Time
	log *slog.Logger
}

// migrations run in order, each once. Append only: a released migration never
// changes, and the last one's version is the current schema.
var migrations = []migration{
	{version: 1, what: "create the buckets", up: func(tx *bolt.Tx) error {
		// The list is spelled out: a migration is history and must not follow
		// later changes to recordBuckets.
		return createBuckets(tx, []byte("people"), []byte("cards"), []byte("visits"), []byte("inside"), []byte("events"))
	}},
	{version: 2, what: "remote command keys, replay cache and MQTT outbox", up: func(tx *bolt.Tx) error {
		return createBuckets(tx, []byte("keys"), []byte("commands"), []byte("outbox"))
	}},
	{version: 3, what: "durable alarms and door lockdown", up: func(tx *bolt.Tx) error {
		return createBuckets(tx, []byte("alarms"), []byte("doors"))
	}},
	{version: 4, what: "binary events and records, records sealed into the chain, visits by number, the outbox as a watermark",
		steps: migrate4},
	{version: 5, what: "web console: credentials, sign-in states, sessions, preferences and Unix links", up: func(tx *bolt.Tx) error {
		// No release before this one wrote a Unix link, so the links
		// index starts empty.
		return createBuckets(tx, []byte("credentials"), []byte("accounts"), []byte("sessions"), []byte("prefs"), []byte("links"))
	}},
}

func createBuckets(tx *bolt.Tx, names ...[]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// schemaVersion is the schema this package reads and writes.
func schemaVersion() uint64 { return migrations[len(migrations)-1].version }

// fileSchema reads the file's schema version and the migration in steps
// it is in the middle of (0: none).
func fileSchema(tx *bolt.Tx) (have, migrating uint64, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, 0, nil // a new file
	}
	for _, k := range []struct {
		key []byte
		dst *uint64
	}{{keySchema, &have}, {keyMigrating, &migrating}} {
		if v := meta.Get(k.key); v != nil {
			if len(v) != 8 {
				return 0, 0, fmt.Errorf("%w: %s is %d bytes, want 8", ErrCorrupt, k.key, len(v))
			}
			*k.dst = binary.BigEndian.Uint64(v)
		}
	}
	return have, migrating, nil
}

// migrate brings the file to the current schema, or refuses a newer one.
// Migrations in one transaction run in one Update each; a migration in
// steps marks the file with the version it brings it to first (so that an
// older pintud refuses the file) and unmarks it when done.
func migrate(db *bolt.DB, env migrateEnv) error {
	var have, migrating uint64
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		have, migrating, err = fileSchema(tx)
		return err
	}); err != nil {
		return err
	}
	want := schemaVersion()
	if have > want {
		return fmt.Errorf("%w: schema version %d, this pintud reads up to %d", ErrNewerSchema, have, want)
	}
	for _, m := range migrations {
		if m.version < have || (m.version == have && migrating != have) {
			continue
		}
		if m.steps != nil {
			if m.version != migrating {
				if err := db.Update(func(tx *bolt.Tx) error {
					meta, err := tx.CreateBucketIfNotExists(bucketMeta)
					if err != nil {
						return err
					}
					if err := putCounter(meta, keySchema, m.version); err != nil {
						return err
					}
					return putCounter(meta, keyMigrating, m.version)
				}); err != nil {
					return fmt.Errorf("migrate to schema %d (%s): start: %w", m.version, m.what, err)
				}
			}
			if err := m.steps(db, env); err != nil {
				return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.what, err)
			}
			if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyMigrating) }); err != nil {
				return fmt.Errorf("migrate to schema %d (%s): finish: %w", m.version, m.what, err)
			}
			continue
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
			}
			if err := m.up(tx); err != nil {
				return err
			}
			return putCounter(meta, keySchema, m.version)
		}); err != nil {
			return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.what, err)
		}
	}
	return db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("no meta bucket after migrating")
		}
		for _, name := range append(recordBuckets, consoleBuckets...) {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: schema version %d but bucket %s is missing: not a pintu state file, or damaged", ErrCorrupt, want, name)
			}
		}
		return nil
	})
}

// buckets are the buckets of one transaction, each opened when first
// used: opening one is a search of the file's bucket list, and a card
// read's commit or lookup needs one or two of eleven.
type buckets struct {
	tx    *bolt.Tx
	cache [12]*bolt.Bucket
}

// bucketsOf returns tx's buckets, which Open made sure exist.
func bucketsOf(tx *bolt.Tx) *buckets { return &buckets{tx: tx} }

func (b *buckets) open(i int, name []byte) *bolt.Bucket {
	if b.cache[i] == nil {
		b.cache[i] = b.tx.Bucket(name)
	}
	return b.cache[i]
}

func (b *buckets) meta() *bolt.Bucket     { return b.open(0, bucketMeta) }
func (b *buckets) people() *bolt.Bucket   { return b.open(1, bucketPeople) }
func (b *buckets) cards() *bolt.Bucket    { return b.open(2, bucketCards) }
func (b *buckets) inside() *bolt.Bucket   { return b.open(3, bucketInside) }
func (b *buckets) events() *bolt.Bucket   { return b.open(4, bucketEvents) }
func (b *buckets) keys() *bolt.Bucket     { return b.open(5, bucketKeys) }
func (b *buckets) commands() *bolt.Bucket { return b.open(6, bucketCommands) }
func (b *buckets) alarms() *bolt.Bucket   { return b.open(7, bucketAlarms) }
func (b *buckets) doors() *bolt.Bucket    { return b.open(8, bucketDoors) }
func (b *buckets) visits() *bolt.Bucket   { return b.open(9, bucketVisitsN) }
func (b *buckets) visitors() *bolt.Bucket { return b.open(10, bucketVisitors) }
func (b *buckets) holders() *bolt.Bucket  { return b.open(11, bucketHolders) }
