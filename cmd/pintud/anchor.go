package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/anchor"
	"github.com/pintu/pintu/controller/boltstore"
)

// beforeOpen checks the anchor against the database file before the store
// opens it (and would create it): with an anchor, a missing or empty
// pintu.db is refused, unless -init-new-log asks for a new log, whose first
// event then records the anchor it replaces.
func beforeOpen(db, anchorPath string, initNewLog bool) ([]controller.StartNote, error) {
	a, err := anchor.Read(anchorPath)
	if errors.Is(err, fs.ErrNotExist) {
		if initNewLog {
			return []controller.StartNote{{Type: controller.EventLogInitialised, Detail: "a new log, begun with pintud -init-new-log; no anchor named a log before it"}}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(db)
	what := ""
	switch {
	case errors.Is(err, fs.ErrNotExist):
		what = "missing"
	case err != nil:
		return nil, fmt.Errorf("state file: %w", err)
	case st.Size() == 0:
		what = "empty (0 bytes)"
	}
	if !initNewLog {
		if what == "" {
			return nil, nil // checked against the log once it is open
		}
		return nil, anchor.Missing(db, what, a)
	}
	if what == "empty (0 bytes)" {
		if err := os.Remove(db); err != nil {
			return nil, fmt.Errorf("-init-new-log: remove the empty %s: %w", db, err)
		}
	}
	if what == "" {
		what = "without events" // or it is refused once open
	}
	return []controller.StartNote{{Type: controller.EventLogInitialised,
		Detail: fmt.Sprintf("a new log, begun with pintud -init-new-log; pintu.db was %s; the log before it: %s at %s",
			what, a, a.Time.Format("2006-01-02T15:04:05Z"))}}, nil
}

// afterOpen checks the open log against its anchor: refused when it is
// empty, another log or behind it; a rewritten event at the anchor's seq is
// a break. A missing anchor with a log is made again (the keeper writes it)
// and the log says so; a restored database's anchor is recorded.
func afterOpen(store *boltstore.Store, db, anchorPath string, initNewLog bool, log *slog.Logger) ([]controller.StartNote, []controller.Break, error) {
	a, err := anchor.Read(anchorPath)
	if errors.Is(err, fs.ErrNotExist) {
		last, _, err := store.Last()
		if err != nil || last == 0 {
			return nil, nil, err
		}
		if initNewLog {
			return nil, nil, fmt.Errorf("-init-new-log: %s holds a log of %d events; move it away first (keep it: it is evidence)", db, last)
		}
		log.Warn("anchor missing: made again from the log; the log records it", "anchor", anchorPath, "seq", last)
		return []controller.StartNote{{Type: controller.EventAnchorRecreated,
			Detail: fmt.Sprintf("pintu.anchor was missing beside a log ending at seq %d; made again from the log", last)}}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if initNewLog {
		// A new log: the keeper writes its anchor. Only on a database
		// without events: a log is evidence, never replaced in place.
		if last, _, err := store.Last(); err != nil || last > 0 {
			return nil, nil, errors.Join(err, fmt.Errorf("-init-new-log: %s holds a log of %d events; move it away first (keep it: it is evidence)", db, last))
		}
		return nil, nil, nil
	}
	b, err := anchor.Check(db, a, store)
	if err != nil {
		return nil, nil, err
	}
	var notes []controller.StartNote
	if r := a.Replaced; r != nil {
		notes = append(notes, controller.StartNote{Type: controller.EventLogRestored,
			Detail: fmt.Sprintf("pintu.db restored from a backup ending at seq %d; the log it replaced reached %s: events %d to %d of it are not in this log",
				a.Seq, r, a.Seq+1, r.Seq)})
	}
	if b != nil {
		log.Error("integrity check: the log does not match its anchor", "break", b.String())
		return notes, []controller.Break{*b}, nil
	}
	return notes, nil, nil
}
