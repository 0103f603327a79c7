package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/pintu/pintu/controller"
)

// ErrDamaged is returned by VerifyFile for a file that is not a whole,
// readable Pintu state file: empty, truncated, a damaged page, a record or
// event that does not decode, or a broken hash chain.
var ErrDamaged = errors.New("state file is damaged or not a Pintu state file")

// FileInfo is what VerifyFile found in a state file.
type FileInfo struct {
	Path   string
	Size   int64  // bytes
	Schema uint64 // the file's schema version
	// Records of each kind.
	People, Cards, Visits, Inside, Keys int
	// Events is the number of events, all verified: seq 1 to Events.
	Events uint64
	// First and Last are the first and the newest event (zero when the
	// log is empty).
	First, Last controller.Event
}

// VerifyFile opens the state file at path read-only and checks all of it:
// the header, every page it reads, every record decodes, and the hash chain
// from seq 1 to the newest event. It writes nothing, and it never panics on
// a damaged file (bbolt does, on a damaged page): any damage is an error
// wrapping ErrDamaged, naming what it found. A file that a running pintud
// holds fails with ErrLocked after timeout (zero means DefaultTimeout).
//
// It reads every event, so it takes seconds for a million; backups and
// restores use it, not the start of pintud.
func VerifyFile(path string, timeout time.Duration) (info FileInfo, err error) {
	info.Path = path
	fi, err := os.Stat(path)
	if err != nil {
		return info, fmt.Errorf("boltstore: verify: %w", err)
	}
	switch {
	case !fi.Mode().IsRegular():
		return info, fmt.Errorf("boltstore: verify %s: %w: not a regular file", path, ErrDamaged)
	case fi.Size() == 0:
		return info, fmt.Errorf("boltstore: verify %s: %w: the file is empty", path, ErrDamaged)
	}
	info.Size = fi.Size()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return info, fmt.Errorf("boltstore: verify %s: %w", path, ErrLocked)
	case err != nil:
		return info, fmt.Errorf("boltstore: verify %s: %w: %w", path, ErrDamaged, err)
	}
	defer db.Close()

	// A damaged page makes bbolt panic, and a page past the end of a
	// truncated file is a fault in the memory map; both end here as errors.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("boltstore: verify %s: %w: %v", path, ErrDamaged, r)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error { return verifyTx(tx, &info) })
	if err != nil {
		if errors.Is(err, ErrNewerSchema) {
			return info, fmt.Errorf("boltstore: verify %s: %w", path, err)
		}
		return info, fmt.Errorf("boltstore: verify %s: %w: %w", path, ErrDamaged, err)
	}
	return info, nil
}

func verifyTx(tx *bolt.Tx, info *FileInfo) error {
	if want := tx.Size(); want > info.Size {
		return fmt.Errorf("truncated: the file is %d bytes, its header says %d", info.Size, want)
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return errors.New("no meta bucket")
	}
	v := meta.Get(keySchema)
	if len(v) != 8 {
		return errors.New("no schema version")
	}
	info.Schema = binary.BigEndian.Uint64(v)
	if info.Schema > schemaVersion() {
		return fmt.Errorf("%w: schema version %d, this pintud reads up to %d", ErrNewerSchema, info.Schema, schemaVersion())
	}
	events := tx.Bucket(bucketEvents)
	visits := tx.Bucket(bucketVisitsN)
	if visits == nil {
		visits = tx.Bucket(bucketVisitsOld) // before schema 4
	}
	if events == nil || tx.Bucket(bucketPeople) == nil || tx.Bucket(bucketCards) == nil || visits == nil || tx.Bucket(bucketInside) == nil {
		return fmt.Errorf("schema version %d but a bucket is missing", info.Schema)
	}
	counts := []struct {
		b      *bolt.Bucket
		kind   string
		decode func(k, v []byte) error
		n      *int
	}{
		{tx.Bucket(bucketPeople), "person", func(k, v []byte) error { _, err := decodePerson(string(k), v); return err }, &info.People},
		{tx.Bucket(bucketCards), "card", func(k, v []byte) error { _, err := decodeCard(string(k), v); return err }, &info.Cards},
		{visits, "visit", func(_, v []byte) error { _, err := decodeVisit(v); return err }, &info.Visits},
		{tx.Bucket(bucketInside), "occupant", func(_, v []byte) error { _, err := decodeJSON[controller.Occupant]("occupant", v); return err }, &info.Inside},
		{tx.Bucket(bucketKeys), "key", func(k, v []byte) error { _, err := decodeKey(string(k), v); return err }, &info.Keys},
		{tx.Bucket(bucketCommands), "command", func(_, v []byte) error {
			_, err := decodeJSON[controller.CommandRecord]("command", v)
			return err
		}, new(int)},
	}
	for _, c := range counts {
		if c.b == nil {
			continue // a bucket a later schema added; Open creates it
		}
		err := c.b.ForEach(func(k, v []byte) error {
			if err := c.decode(k, v); err != nil {
				return fmt.Errorf("%s %q: %w", c.kind, k, err)
			}
			*c.n++
			return nil
		})
		if err != nil {
			return err
		}
	}

	var ver controller.Verifier
	prev := ""
	c := events.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		seq, err := decodeSeq(k)
		if err != nil {
			return err
		}
		e, err := decodeEvent(seq, v, prev)
		if err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
		if err := ver.Next(e); err != nil {
			return err
		}
		if e.Seq == 1 {
			info.First = e
		}
		info.Last = e
		prev = e.Hash
	}
	info.Events = ver.Count()
	return nil
}
