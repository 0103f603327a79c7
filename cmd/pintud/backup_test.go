package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/storetest"
)

// TestScheduledBackups runs the schedule for a few periods on fake time:
// one verified copy per period, the newest keep of them kept, other files
// in the directory untouched, the first copy due one period after the
// newest one already there.
func TestScheduledBackups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, err := boltstore.Open(filepath.Join(t.TempDir(), dbName), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		evs := storetest.Chain(controller.Event{}, 20)
		if err := store.Commit(controller.Change{Events: evs}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "backups")
		os.MkdirAll(dir, 0o750)
		// Someone's own file, and a copy made 30 minutes ago (fake time
		// starts at 2000-01-01 00:00 UTC).
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600)
		earlier := time.Now().Add(-30 * time.Minute).UTC().Format(backupNameFormat)
		f, err := os.Create(filepath.Join(dir, earlier))
		if err != nil {
			t.Fatal(err)
		}
		store.Backup(f)
		f.Close()

		b := &scheduledBackups{store: store, dir: dir, every: time.Hour, keep: 3, now: time.Now, log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()

		time.Sleep(29 * time.Minute)
		synctest.Wait()
		if got := backupsIn(t, dir); len(got) != 1 {
			t.Fatalf("29 minutes in, %s holds %q; want only the earlier copy (one period not over)", dir, got)
		}
		time.Sleep(2 * time.Minute) // the first copy is due 30 minutes in
		synctest.Wait()
		if got := backupsIn(t, dir); len(got) != 2 {
			t.Fatalf("31 minutes in, %s holds %q; want a new copy", dir, got)
		}
		time.Sleep(5 * time.Hour)
		synctest.Wait()
		got := backupsIn(t, dir)
		if len(got) != 3 || slices.Contains(got, earlier) {
			t.Errorf("after 5 more hours %s holds %q; want the newest 3", dir, got)
		}
		for _, name := range got {
			info, err := boltstore.VerifyFile(filepath.Join(dir, name), 0)
			if err != nil || info.Events != 20 {
				t.Errorf("%s: %d events, %v; want a verified copy of 20", name, info.Events, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
			t.Errorf("notes.txt: %v; a file the schedule did not make must stay", err)
		}
		if want, _ := time.Parse(backupNameFormat, got[len(got)-1]); !b.LastSuccess().Equal(want) {
			t.Errorf("LastSuccess() = %v, want %v (the newest copy)", b.LastSuccess(), want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}

// failingStore fails every backup part way.
type failingStore struct {
	mu    sync.Mutex
	tries int
}

func (f *failingStore) Backup(w io.Writer) (int64, error) {
	f.mu.Lock()
	f.tries++
	f.mu.Unlock()
	n, _ := w.Write([]byte("half a database"))
	return int64(n), errors.New("boltstore: backup: read page 9: input/output error")
}

// TestScheduledBackupFails: a failed copy leaves nothing behind, keeps the
// earlier copies, and is retried within the hour.
func TestScheduledBackupFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		old := time.Now().Add(-48 * time.Hour).UTC().Format(backupNameFormat)
		os.WriteFile(filepath.Join(dir, old), []byte("an old copy"), 0o600)
		fs := &failingStore{}
		b := &scheduledBackups{store: fs, dir: dir, every: 24 * time.Hour, keep: 1, now: time.Now, log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		time.Sleep(3*time.Hour + time.Minute)
		synctest.Wait()
		cancel()
		<-done
		if fs.tries != 4 {
			t.Errorf("%d tries in 3 hours, want 4 (at once, then hourly)", fs.tries)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 || ents[0].Name() != old {
			t.Errorf("%s holds %v; want only the old copy", dir, ents)
		}
		if !b.LastSuccess().Equal(mustParse(t, old)) {
			t.Errorf("LastSuccess() = %v, want the old copy's time", b.LastSuccess())
		}
	})
}

func mustParse(t *testing.T, name string) time.Time {
	t.Helper()
	v, err := time.Parse(backupNameFormat, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func backupsIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if backupName.MatchString(e.Name()) {
			out = append(out, e.Name())
		} else if e.Name() != "notes.txt" {
			t.Errorf("%s holds %s, neither a backup nor the user's file", dir, e.Name())
		}
	}
	return out
}
