package boltstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The buckets. Their names and key encodings are private to this package.
var (
	bucketMeta   = []byte("meta")   // keySchema
	bucketPeople = []byte("people") // person ID → JSON controller.Person
	bucketCards  = []byte("cards")  // card ID → JSON controller.Card
	bucketVisits = []byte("visits") // visit ID → JSON controller.Visit
	bucketInside = []byte("inside") // person ID → JSON controller.Occupant
	bucketEvents = []byte("events") // seqKey(seq) → JSON controller.Event
	// Since schema 2.
	bucketKeys     = []byte("keys")     // key ID → JSON controller.Key
	bucketCommands = []byte("commands") // command ID → JSON controller.CommandRecord (replay cache)
	bucketOutbox   = []byte("outbox")   // seqKey(seq) → empty: events not yet acknowledged by the MQTT broker
	// Since schema 3.
	bucketAlarms = []byte("alarms") // alarm ID → JSON controller.Alarm (the listed alarms)
	bucketDoors  = []byte("doors")  // door name → JSON controller.DoorRecord (lockdown)
	// Since the console's schema (see consoleBuckets).
	bucketCredentials = []byte("credentials") // person ID → JSON controller.Credential
	bucketAccounts    = []byte("accounts")    // person ID → JSON controller.Account (lockouts)
	bucketSessions    = []byte("sessions")    // session key (hex SHA-256 of the id) → JSON controller.Session
	bucketPrefs       = []byte("prefs")       // "lang/" + person ID → language tag

	keySchema = []byte("schema_version") // 8-byte big-endian schema version

	// recordBuckets are the buckets the current schema has besides meta.
	recordBuckets = [][]byte{bucketPeople, bucketCards, bucketVisits, bucketInside, bucketEvents,
		bucketKeys, bucketCommands, bucketOutbox, bucketAlarms, bucketDoors}
	// consoleBuckets are the web console's: credentials and sign-in states
	// written with the log, and sessions and preferences beside it.
	consoleBuckets = [][]byte{bucketCredentials, bucketAccounts, bucketSessions, bucketPrefs}
)

// A migration brings a file from schema version-1 to version, inside the
// Update that Open runs.
type migration struct {
	version uint64
	what    string
	up      func(tx *bolt.Tx) error
}

// migrations run in order, each once. Append only: a released migration never
// changes, and the last one's version is the current schema.
var migrations = []migration{
	{version: 1, what: "create the buckets", up: func(tx *bolt.Tx) error {
		// The list is spelled out: a migration is history and must not follow
		// later changes to recordBuckets.
		for _, name := range [][]byte{bucketPeople, bucketCards, bucketVisits, bucketInside, bucketEvents} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{version: 2, what: "remote command keys, replay cache and MQTT outbox", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketKeys, bucketCommands, bucketOutbox} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{version: 3, what: "durable alarms and door lockdown", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAlarms, bucketDoors} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{version: 4, what: "web console: credentials, sign-in states, sessions and preferences", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketCredentials, bucketAccounts, bucketSessions, bucketPrefs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
}

// schemaVersion is the schema this package reads and writes.
func schemaVersion() uint64 { return migrations[len(migrations)-1].version }

// migrate brings the file to the current schema, or refuses a newer one.
func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	var have uint64 // a new file has no version: 0
	if v := meta.Get(keySchema); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("%w: schema version is %d bytes, want 8", ErrCorrupt, len(v))
		}
		have = binary.BigEndian.Uint64(v)
	}
	want := schemaVersion()
	if have > want {
		return fmt.Errorf("%w: schema version %d, this pintud reads up to %d", ErrNewerSchema, have, want)
	}
	for _, m := range migrations {
		if m.version <= have {
			continue
		}
		if err := m.up(tx); err != nil {
			return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.what, err)
		}
	}
	if have != want {
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, want)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	for _, name := range append(recordBuckets, consoleBuckets...) {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: schema version %d but bucket %s is missing: not a pintu state file, or damaged", ErrCorrupt, want, name)
		}
	}
	return nil
}

// buckets are the record buckets of one transaction.
type buckets struct {
	people, cards, visits, inside, events *bolt.Bucket
	keys, commands, outbox                *bolt.Bucket
	alarms, doors                         *bolt.Bucket
}

// bucketsOf returns tx's record buckets, which Open made sure exist.
func bucketsOf(tx *bolt.Tx) buckets {
	return buckets{
		people: tx.Bucket(bucketPeople),
		cards:  tx.Bucket(bucketCards),
		visits: tx.Bucket(bucketVisits),
		inside: tx.Bucket(bucketInside),
		events: tx.Bucket(bucketEvents),

		keys:     tx.Bucket(bucketKeys),
		commands: tx.Bucket(bucketCommands),
		outbox:   tx.Bucket(bucketOutbox),
		alarms:   tx.Bucket(bucketAlarms),
		doors:    tx.Bucket(bucketDoors),
	}
}
