// Package boltstore is the durable [controller.Store]: one bbolt file under
// pintud's state directory holding people, cards, visits, occupancy and the
// hash-chained audit log.
//
// Each [Store.Commit] is one bbolt read-write transaction, fsynced before it
// returns, so a change the controller acts on survives a power cut. Records are
// JSON-encoded, one bucket per kind; audit events are keyed by their sequence
// number in big-endian order so that a cursor walks the log in order. The file
// carries a schema version; [Open] brings an older file up to date in one
// transaction and refuses a file from a newer pintud ([ErrNewerSchema]).
//
// Only pintud opens the file. Open takes bbolt's exclusive file lock and gives
// up after [Options.Timeout] with [ErrLocked], so a second pintud on the same
// state directory fails fast instead of hanging. Other tools read the log
// through pintud's local API, or from a copy made by [Store.Backup] while
// pintud runs.
//
// Open checks the file before bbolt reads or writes it (open.go): the meta
// pages, the free list and every page of the B+tree, with bounds-checked reads.
// bbolt trusts its file and panics or faults on a damaged one; Open instead
// returns an error wrapping [ErrCorrupt] that names the file and the first
// problem, and writes nothing. A file with one meta page destroyed opens, as
// of the other one (bbolt keeps two). The check reads every page once: about
// 0.25 s for a million events with the page cache warm, and whatever reading
// the whole file costs when it is cold.
//
// # Caveats
//
// [Store.Events] reads the log in batches, each in its own read transaction,
// and calls fn between them. A slow reader (an export over a slow link) thus
// never holds a transaction open for long; a long read transaction would stop
// bbolt from growing its memory map and so stall the controller's commits.
// [Store.Backup] is the exception: it holds one read transaction for the
// whole copy, so commits that need the file to grow wait for it.
//
// Queries by time (Since, Until) scan the log from FromSeq, because events
// are indexed by sequence number only and the wall clock may step backwards.
// Narrow a long export with FromSeq.
//
// The store refuses events whose sequence numbers do not follow the log, but
// it does not check the hash chain: that is [controller.Verifier]'s job, run
// by the audit export over what the store returns. A corrupted event value is
// reported, naming its seq, when it is read.
//
// bbolt maps the whole file into memory and never shrinks it. A log of a
// million events is a file of roughly 260 to 330 MB, which bbolt maps as
// 512 MB of address space: fine on a 64-bit Raspberry Pi OS, tight on a
// 32-bit one.
package boltstore
