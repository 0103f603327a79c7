// Package anchor keeps the anchor beside pintud's database: a small file
// that says which log the database holds and how far it reached, so that a
// database that is missing, emptied, replaced or set back is never taken
// for a new one.
//
// The anchor names the log by its identity (the hash of its first event,
// which depends on when and where the log began) and the site, and records
// the newest seq and hash the log had when it was written. pintud checks
// it before it starts (Check): with an anchor, a database that is missing,
// empty, of another log, or behind the anchor is refused, with a message
// saying how to restore it or how to start a new log on purpose (pintud
// -init-new-log, whose first event records the anchor it replaces).
//
// The anchor is written atomically: a temporary file, fsynced, renamed over
// the old one, and the directory fsynced (Write). A Keeper rewrites it after
// commits, at most every Interval, reading what the store has committed:
// the anchor never names an event the database does not hold durably, so a
// power cut cannot make a sound database look behind. It may lag the
// database by up to Interval (an anchor cannot see events lost with less
// than that; the power-cut test shows commits themselves are not lost).
// Writing it with every commit would add two fsyncs to the card read's
// path; see the README.
//
// # Caveats
//
// The anchor guards against accidents and careless hands (a database
// deleted, truncated, restored from an old copy), not against someone who
// rewrites both files: that is what events published to MQTT, exports and
// signed bundles are for.
package anchor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pintu/pintu/controller"
)

// Anchor is what the anchor file records.
type Anchor struct {
	// Log is the log's identity: the hash of its first event.
	Log  string `json:"log"`
	Site string `json:"site"`
	// Seq and Hash are the newest event the log held when the anchor was
	// written.
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	// Replaced is set by a restore: the anchor of the log the restored
	// database replaced. pintud records it in the log (log_restored) the
	// next time it starts, then drops it.
	Replaced *Anchor `json:"replaced,omitempty"`
}

func (a Anchor) String() string {
	return fmt.Sprintf("log %s of site %q, seq %d (hash %s)", short(a.Log), a.Site, a.Seq, short(a.Hash))
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// ErrDamaged is wrapped by Read's error for an anchor file that is not an
// anchor.
var ErrDamaged = errors.New("anchor file is damaged")

// Read reads the anchor file at path. A missing file is an error wrapping
// fs.ErrNotExist.
func Read(path string) (Anchor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Anchor{}, fmt.Errorf("anchor: %w", err)
	}
	var a Anchor
	if err := json.Unmarshal(b, &a); err != nil {
		return Anchor{}, fmt.Errorf("anchor %s: %w: %v", path, ErrDamaged, err)
	}
	if a.Log == "" || a.Seq == 0 || a.Hash == "" {
		return Anchor{}, fmt.Errorf("anchor %s: %w: no log, seq or hash", path, ErrDamaged)
	}
	return a, nil
}

// Write writes a to path atomically and durably: a temporary file beside
// it, fsynced, renamed over path, and the directory fsynced, so that after
// a power cut the file is the old anchor or the new one, whole.
func Write(path string, a Anchor) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("anchor: encode: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".pintu.anchor-*")
	if err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, there is nothing to remove
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("anchor: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("anchor: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("anchor: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("anchor: sync %s: %w", dir, err)
	}
	return nil
}

// Log is what Check and a Keeper read of the database.
type Log interface {
	// Last is the newest event's seq and hash; 0 for an empty log.
	Last() (uint64, string, error)
	// Event returns one event.
	Event(seq uint64) (controller.Event, bool, error)
}

// Refusal is a database pintud must not start on: Check's verdict, with
// what to do, on one line.
type Refusal struct{ Msg string }

func (r *Refusal) Error() string { return r.Msg }

// Identity returns a log's identity: the hash of its first event ("" for
// an empty log).
func Identity(l Log) (string, error) {
	e, ok, err := l.Event(1)
	if err != nil {
		return "", fmt.Errorf("anchor: read the log's first event: %w", err)
	}
	if !ok {
		return "", nil
	}
	return e.Hash, nil
}

// howTo says how to get going again.
const howTo = "restore the newest backup of pintu.db (pintud -restore FILE -data DIR), " +
	"or, to begin a new log on purpose, start once with pintud -init-new-log: its first event records this anchor"

// Missing is the refusal for a database that is missing or empty while
// its anchor exists.
func Missing(db, what string, a Anchor) *Refusal {
	return &Refusal{fmt.Sprintf("%s is %s, but its anchor says it held %s. Refusing to start: %s", db, what, a, howTo)}
}

// Check compares the anchor with the log the database holds. It returns a
// *Refusal when the log is empty, another one, or behind the anchor; and a
// break when the log holds the anchor's seq but with another hash (an
// event rewritten), which pintud starts with as an integrity break.
func Check(db string, a Anchor, l Log) (*controller.Break, error) {
	id, err := Identity(l)
	if err != nil {
		return nil, err
	}
	last, _, err := l.Last()
	if err != nil {
		return nil, fmt.Errorf("anchor: read the log's newest event: %w", err)
	}
	switch {
	case last == 0:
		return nil, Missing(db, "an empty log", a)
	case id != a.Log:
		return nil, &Refusal{fmt.Sprintf("%s holds another log (its first event's hash %s) than its anchor names: %s. Refusing to start: %s",
			db, short(id), a, howTo)}
	case last < a.Seq:
		return nil, &Refusal{fmt.Sprintf("%s ends at seq %d, behind its anchor: %s; %d events are missing. Refusing to start: %s",
			db, last, a, a.Seq-last, howTo)}
	}
	e, ok, err := l.Event(a.Seq)
	if err != nil {
		return &controller.Break{From: a.Seq, To: a.Seq, Reason: fmt.Sprintf("the event the anchor names cannot be read: %v", err)}, nil
	}
	if !ok || e.Hash != a.Hash {
		return &controller.Break{From: a.Seq, To: a.Seq, Reason: fmt.Sprintf("not the event the anchor names (hash %s)", short(a.Hash))}, nil
	}
	return nil, nil
}

// DefaultInterval is how often at most a Keeper rewrites the anchor.
const DefaultInterval = 2 * time.Second

// Keeper rewrites the anchor after commits, at most every Interval.
type Keeper struct {
	Path     string
	Site     string
	Log      Log
	Interval time.Duration
	Logger   *slog.Logger

	mu      sync.Mutex
	written Anchor // the anchor as last written
	failed  bool   // the last write failed: logged once
}

// Run rewrites the anchor whenever changed fires, waiting Interval after
// a write before the next, until ctx ends. It returns nil.
func (k *Keeper) Run(ctx context.Context, changed <-chan struct{}) error {
	every := k.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		k.Flush()
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Flush writes the anchor now if the log moved since it was last written.
func (k *Keeper) Flush() {
	k.mu.Lock()
	defer k.mu.Unlock()
	err := k.flush()
	log := k.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case err != nil && !k.failed:
		log.Error("anchor: cannot write; a missing or set-back database would not be noticed", "path", k.Path, "err", err)
		k.failed = true
	case err == nil && k.failed:
		log.Info("anchor: written again", "path", k.Path)
		k.failed = false
	}
}

func (k *Keeper) flush() error {
	seq, hash, err := k.Log.Last()
	if err != nil || seq == 0 || (seq == k.written.Seq && hash == k.written.Hash) {
		return err
	}
	a := k.written
	if a.Log == "" {
		if a.Log, err = Identity(k.Log); err != nil {
			return err
		}
	}
	a.Site, a.Seq, a.Hash, a.Time, a.Replaced = k.Site, seq, hash, time.Now().UTC(), nil
	if err := Write(k.Path, a); err != nil {
		return err
	}
	k.written = a
	return nil
}
