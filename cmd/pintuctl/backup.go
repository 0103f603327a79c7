package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/pintu/pintu/controller/boltstore"
)

// cmdBackup copies pintud's database while it runs.
var cmdBackup = &command{
	name:     "backup",
	synopsis: "-o FILE",
	short:    "copy the database while pintud runs, and check the copy before keeping it (pintud -restore puts it back)",
	required: []string{"o"},
	setup:    backupCommand,
}

func backupCommand(fs *flag.FlagSet) action {
	out := fs.String("o", "", "write the backup to `FILE`, which must not exist")
	return func(ctx context.Context, c *cli, _ []string) error {
		site, info, err := c.backup(ctx, *out)
		if err != nil {
			return err
		}
		if c.json {
			b, _ := json.Marshal(map[string]any{
				"file": *out, "site": site, "bytes": info.Size, "events": info.Events,
				"first_hash": info.First.Hash, "last_hash": info.Last.Hash,
				"people": info.People, "cards": info.Cards, "visits": info.Visits,
			})
			return c.printJSON(b)
		}
		c.say(c.tr("backup of %s written to %s", site, *out))
		c.say("  " + c.tr("%d events, seq 1 to %d, hash chain intact", info.Events, info.Events))
		if info.Events > 0 {
			c.say("  " + c.tr("last hash %s", info.Last.Hash))
		}
		c.say("  " + c.tr("%d people, %d cards, %d visits; %.1f MiB",
			info.People, info.Cards, info.Visits, float64(info.Size)/(1<<20)))
		c.say("  " + c.tr("keep it away from this Pi: it holds names and ID"))
		return nil
	}
}

// backup downloads pintud's copy of its database into a temporary file
// beside path, verifies it (every page, record and the hash chain), and
// only then gives it the name path. It never replaces a file: on any
// failure nothing is left at path or beside it.
func (c *cli) backup(ctx context.Context, path string) (site string, info boltstore.FileInfo, err error) {
	// Any other trouble with the name shows when the temporary file is made.
	if _, err := os.Lstat(path); err == nil {
		return "", info, fmt.Errorf("%s already exists; a backup never replaces a file: give a new name", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.part")
	if err != nil {
		return "", info, fmt.Errorf("cannot write the backup in %s: %w", dir, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()

	resp, err := c.client().do(ctx, http.MethodGet, "/v1/backup", nil, nil)
	if err != nil {
		return "", info, err
	}
	defer resp.Body.Close()
	site = resp.Header.Get("Pintu-Site")
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		return "", info, fmt.Errorf("copy from pintud to %s: %w", tmp.Name(), err)
	}
	if err := trailerError(resp); err != nil {
		return "", info, err
	}
	if err := tmp.Sync(); err != nil {
		return "", info, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", info, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	info, err = boltstore.VerifyFile(tmp.Name(), 0)
	if err != nil {
		return "", info, fmt.Errorf("the copy failed its check, so it was not kept: %w", err)
	}
	info.Path = path
	if err := placeNew(tmp.Name(), path); err != nil {
		return "", info, err
	}
	return site, info, nil
}

// placeNew gives the file at tmp the name path, failing if path exists. A
// hard link cannot replace a file; where links are not supported (a FAT USB
// stick) it renames after checking again.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s was created while the backup ran; nothing was kept: give a new name", path)
	default:
		if _, serr := os.Lstat(path); !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("%s was created while the backup ran; nothing was kept: give a new name", path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	// The name is durable only once its directory is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
