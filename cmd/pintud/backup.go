package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pintu/pintu/controller/boltstore"
)

// backupNameFormat names scheduled backups by their UTC time, so that name
// order is time order.
const backupNameFormat = "pintu-20060102T150405Z.db"

var backupName = regexp.MustCompile(`^pintu-\d{8}T\d{6}Z\.db$`)

// backupRetry is how soon a failed scheduled backup is tried again, at most.
const backupRetry = time.Hour

// scheduledBackups copies the store into dir every period and keeps the
// newest keep copies. Each copy is verified before it gets its name; files
// in dir that are not its own are never touched.
type scheduledBackups struct {
	store interface {
		Backup(w io.Writer) (int64, error)
	}
	dir   string
	every time.Duration
	keep  int
	now   func() time.Time
	log   *slog.Logger

	last atomic.Int64 // unix seconds of the newest verified copy; 0 before one
}

// LastSuccess is when the newest verified copy was made (zero before one).
func (b *scheduledBackups) LastSuccess() time.Time {
	if s := b.last.Load(); s != 0 {
		return time.Unix(s, 0)
	}
	return time.Time{}
}

// Run makes backups until ctx is done, then returns nil. The first comes
// one period after the newest copy already in dir, so a restart neither
// skips nor repeats one.
func (b *scheduledBackups) Run(ctx context.Context) error {
	if err := os.MkdirAll(b.dir, 0o750); err != nil {
		return fmt.Errorf("backup: create %s: %w", b.dir, err)
	}
	next := b.now()
	if newest, ok := b.newest(); ok {
		b.last.Store(newest.Unix())
		next = newest.Add(b.every)
	}
	for {
		t := time.NewTimer(max(next.Sub(b.now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		path, err := b.once()
		if err != nil {
			b.log.Error("scheduled backup failed; the earlier copies are kept", "dir", b.dir, "retry_in", min(b.every, backupRetry), "err", err)
			next = b.now().Add(min(b.every, backupRetry))
			continue
		}
		b.log.Info("scheduled backup written and verified", "path", path)
		next = b.now().Add(b.every)
		b.prune()
	}
}

// once writes one verified copy and returns its path.
func (b *scheduledBackups) once() (string, error) {
	now := b.now().UTC()
	path := filepath.Join(b.dir, now.Format(backupNameFormat))
	tmp, err := os.CreateTemp(b.dir, ".pintu-backup-*.part")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if _, err := b.store.Backup(tmp); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("backup: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("backup: write %s: %w", tmp.Name(), err)
	}
	if _, err := boltstore.VerifyFile(tmp.Name(), 0); err != nil {
		return "", fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			// No hard links (a FAT disk): the name is ours, by its time.
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			return "", fmt.Errorf("backup: name %s: %w", path, err)
		}
	}
	if d, err := os.Open(b.dir); err == nil {
		d.Sync()
		d.Close()
	}
	b.last.Store(now.Unix())
	return path, nil
}

// names returns the scheduled backups in dir, oldest first.
func (b *scheduledBackups) names() []string {
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && backupName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func (b *scheduledBackups) newest() (time.Time, bool) {
	names := b.names()
	if len(names) == 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(backupNameFormat, names[len(names)-1])
	return t, err == nil
}

// prune removes the oldest scheduled backups beyond keep.
func (b *scheduledBackups) prune() {
	names := b.names()
	for len(names) > b.keep {
		path := filepath.Join(b.dir, names[0])
		if err := os.Remove(path); err != nil {
			b.log.Warn("could not remove an old backup", "path", path, "err", err)
		} else {
			b.log.Info("removed an old backup", "path", path, "keep", b.keep)
		}
		names = names[1:]
	}
}
