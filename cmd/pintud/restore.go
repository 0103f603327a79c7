package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pintu/pintu/controller/anchor"
	"github.com/pintu/pintu/controller/boltstore"
)

// dbName is the state file's name in the state directory, and anchorName
// its anchor's (see controller/anchor).
const (
	dbName     = "pintu.db"
	anchorName = "pintu.anchor"
)

// logIdentity names the log a state file holds: the hash of its first
// event, which every later event's hash depends on. Two files with the same
// identity are one log at two lengths; different identities are different
// logs (another site, or a log started anew). Empty for an empty log, which
// matches anything.
// The anchor beside the database carries it too, so that a missing or
// emptied database still has one to compare.
func logIdentity(info boltstore.FileInfo) string { return info.First.Hash }

// restoreOpts is what pintud -restore was given.
type restoreOpts struct {
	file, dir string
	force     bool
	now       func() time.Time
}

// restore puts the backup file into the state directory dir, which no
// pintud may be using. It checks everything before it changes anything: the
// backup must verify whole, and unless force it must be the log already in
// dir (or dir must have none) and not older than it. The file it replaces is
// kept beside it, renamed, never deleted: it is evidence.
func restore(o restoreOpts, stdout io.Writer) error {
	info, err := boltstore.VerifyFile(o.file, 0)
	if err != nil {
		return fmt.Errorf("restore: %s cannot be restored, nothing was changed: %w", o.file, err)
	}
	target := filepath.Join(o.dir, dbName)
	cur, curErr := boltstore.VerifyFile(target, 500*time.Millisecond)
	exists := !errors.Is(curErr, os.ErrNotExist)
	switch {
	case errors.Is(curErr, boltstore.ErrLocked):
		return fmt.Errorf("restore: a running pintud holds %s; stop it first (sudo systemctl stop pintud), nothing was changed", target)
	case !exists, curErr != nil:
		// Nothing there, or damaged: nothing to compare with.
	case logIdentity(cur) != "" && logIdentity(info) != "" && logIdentity(cur) != logIdentity(info) && !o.force:
		return fmt.Errorf("restore: %s holds another log than %s (first event hash %.16s… against %.16s…): "+
			"a backup of another site, or of a log started anew; nothing was changed (give -force to replace it anyway)",
			o.file, target, logIdentity(info), logIdentity(cur))
	case cur.Events > info.Events && !o.force:
		return fmt.Errorf("restore: %s is intact and holds %d events, the backup only %d: restoring would drop the newer ones; "+
			"nothing was changed (give -force to restore anyway; the current file is kept beside it)", target, cur.Events, info.Events)
	}

	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp, err := copyInto(o.file, o.dir)
	if err != nil {
		return fmt.Errorf("restore: nothing was changed: %w", err)
	}
	defer os.Remove(tmp) // gone once renamed
	if _, err := boltstore.VerifyFile(tmp, 0); err != nil {
		return fmt.Errorf("restore: the copy in %s failed its check, nothing was changed: %w", o.dir, err)
	}
	var kept string
	if exists {
		kept = filepath.Join(o.dir, dbName+".before-restore-"+o.now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(target, kept); err != nil {
			return fmt.Errorf("restore: move the current file aside, nothing was changed: %w", err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if kept != "" {
			if rerr := os.Rename(kept, target); rerr != nil {
				return fmt.Errorf("restore: %w; and moving %s back failed: %w", err, kept, rerr)
			}
		}
		return fmt.Errorf("restore: %w", err)
	}
	syncDir(o.dir)
	replaced, err := reanchor(filepath.Join(o.dir, anchorName), info, o.now())
	if err != nil {
		return fmt.Errorf("restore: %s is restored, but its anchor could not be written (pintud will refuse to start until it is; delete %s if this is the right log): %w",
			target, anchorName, err)
	}

	fmt.Fprintf(stdout, "restored %s into %s\n", o.file, target)
	fmt.Fprintf(stdout, "  %d events, hash chain intact; %d people, %d cards, %d visits\n", info.Events, info.People, info.Cards, info.Visits)
	if info.Events > 0 {
		fmt.Fprintf(stdout, "  last event seq %d at %s, hash %s\n", info.Last.Seq, info.Last.Time.UTC().Format(time.RFC3339), info.Last.Hash)
	}
	switch {
	case kept != "" && curErr != nil:
		fmt.Fprintf(stdout, "  the damaged file it replaces is kept as %s (%v)\n", kept, curErr)
	case kept != "":
		fmt.Fprintf(stdout, "  the file it replaces (%d events) is kept as %s\n", cur.Events, kept)
	}
	if replaced != nil {
		fmt.Fprintf(stdout, "  the anchor named %s; pintud records in the log, when it starts, what the restore left out\n", replaced)
	}
	fmt.Fprintln(stdout, "start pintud again: sudo systemctl start pintud")
	return nil
}

// reanchor points the anchor at the restored log. When the anchor named
// another log, or this one further on, the restore is deliberate (a person
// ran it): the anchor names the restored log and keeps the one it replaced,
// which pintud writes into the log at its next start (log_restored). It
// returns the anchor replaced, nil when the restored log reaches it.
func reanchor(path string, info boltstore.FileInfo, now time.Time) (*anchor.Anchor, error) {
	if info.Events == 0 {
		// An empty log names nothing: an anchor would only refuse it.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, nil
	}
	a := anchor.Anchor{Log: logIdentity(info), Seq: info.Last.Seq, Hash: info.Last.Hash, Time: now.UTC()}
	old, err := anchor.Read(path)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, anchor.ErrDamaged):
		// Nothing to keep: the restore is what puts a damaged anchor right.
	case err != nil:
		return nil, err
	default:
		a.Site = old.Site
		if old.Log != a.Log || old.Seq > a.Seq {
			old.Replaced = nil
			a.Replaced = &old
		}
	}
	if err := anchor.Write(path, a); err != nil {
		return nil, err
	}
	return a.Replaced, nil
}

// copyInto copies file into a new temporary file in dir, synced, owned like
// dir (pintud runs as dir's owner; restore runs as root) with mode 0600, and
// returns its path.
func copyInto(file, dir string) (string, error) {
	src, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.CreateTemp(dir, "."+dbName+".restore-*")
	if err != nil {
		return "", err
	}
	ok := false
	defer func() {
		dst.Close()
		if !ok {
			os.Remove(dst.Name())
		}
	}()
	if _, err := io.Copy(dst, src); err != nil {
		return "", fmt.Errorf("copy %s to %s: %w", file, dst.Name(), err)
	}
	if err := dst.Chmod(0o600); err != nil {
		return "", err
	}
	if fi, err := os.Stat(dir); err == nil && os.Geteuid() == 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if err := dst.Chown(int(st.Uid), int(st.Gid)); err != nil {
				return "", err
			}
		}
	}
	if err := dst.Sync(); err != nil {
		return "", err
	}
	if err := dst.Close(); err != nil {
		return "", err
	}
	ok = true
	return dst.Name(), nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
