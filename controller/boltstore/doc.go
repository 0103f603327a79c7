// Package boltstore is the durable [controller.Store]: one bbolt file under
// pintud's state directory holding people, cards, visits, keys, occupancy,
// alarms and the hash-chained audit log.
//
// Each [Store.Commit] is one bbolt read-write transaction, fsynced before it
// returns, so a change the controller acts on survives a power cut. Records
// are read one at a time, by id, in short read transactions (the controller
// keeps a bounded cache of them), or in pages; nothing is loaded whole but
// the small state the controller keeps in memory ([Store.Load]).
//
// # Layout and encoding
//
// Buckets (schema.go): events (8-byte big-endian seq, so a cursor walks the
// log in order, filled to 100%: the log only grows), people and cards (by
// id), visits_by_number (the visit's number big-endian and its id, so V0010
// follows V0009) with visitors (each visitor's visits), holders (each
// person's cards), keys, and, in JSON, the small state (inside, commands,
// alarms, doors) and the meta bucket (schema version, the integrity state,
// the number of people, the outbox watermark). Since schema 5, the web
// console's (console.go): credentials and sign-in states, written with the
// log, sessions and language preferences beside it, and links (each linked
// Unix account's person, the index of Person.UnixUser, so that start-up
// reads no person).
//
// Events and records are binary (encode.go): a format byte, hashes as 32
// raw bytes, the closed sets (event types, decisions, reasons, roles, record
// kinds) as one byte from append-only tables, times as seconds and
// nanoseconds with their zone's offset. An event does not store its Prev:
// reading in order, it is the hash of the event before, and a single event
// read by seq costs one more lookup ([Store.Event]); only an event whose
// stored Prev was not the hash before it (a log already broken when it was
// migrated) keeps its own. A card read's event is about 70 bytes; a million
// people with cards and a million events make a file of about 360 MB.
// Hashes do not depend on this encoding: they are over the events'
// canonical JSON ([controller.Event.ComputeHash]).
//
// Records carry the seq of the event that sealed them; the store computes
// their digests with the domain's functions ([controller.Digest]) for the
// integrity check ([Store.Sealed]).
//
// # Opening, checking, migrating
//
// [Open] checks the file before bbolt reads or writes it (open.go): the meta
// pages, the free list, every branch page and what is read at start, with
// bounds-checked reads. bbolt trusts its file and panics, faults or loops
// on a damaged one; Open instead returns an error wrapping [ErrCorrupt] that
// names the file and the first problem, and writes nothing. A file with one
// meta page destroyed opens, as of the other one. The leaves are checked
// later: every read transaction is guarded (a panic or a memory fault inside
// bbolt is an [controller.IntegrityError], not a crash), and the background
// integrity check walks every page ([Store.CheckPages]).
//
// The file carries a schema version. A migration runs in one transaction,
// or, for schema 4 (binary encoding, records sealed into the chain), in
// steps of one transaction each that record how far they got, so that a
// migration cut short goes on where it stopped. A file from a newer pintud
// is refused ([ErrNewerSchema]).
//
// Only pintud opens the file. Open takes bbolt's exclusive file lock and
// gives up after [Options.Timeout] with [ErrLocked], so a second pintud on
// the same state directory fails fast instead of hanging. Other tools read
// the log through pintud's local API, or from a copy made by [Store.Backup]
// while pintud runs.
//
// # Caveats
//
// [Store.Events] reads the log in batches, each in its own read transaction,
// and calls fn between them. A slow reader (an export over a slow link) thus
// never holds a transaction open for long; a long read transaction would stop
// bbolt from growing its memory map and so stall the controller's commits.
// [Store.Backup] and [Store.CheckPages] are the exceptions: each holds one
// read transaction for the whole copy or walk, so commits that need the file
// to grow wait for them.
//
// Queries by time (Since, Until) scan the log from FromSeq, because events
// are indexed by sequence number only and the wall clock may step backwards.
// Narrow a long export with FromSeq.
//
// The store refuses events whose sequence numbers do not follow the log, but
// it does not check the hash chain: that is the controller's integrity
// check. A stored value that cannot be decoded is reported, naming its seq
// or record, when it is read.
//
// bbolt maps the whole file into memory and never shrinks it: fine on a
// 64-bit Raspberry Pi OS, tight on a 32-bit one past a few hundred MB.
package boltstore
