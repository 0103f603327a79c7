// Command pintud is Pintu's door controller daemon. It reads the config,
// opens the state directory's bbolt store, drives the door hardware (or
// simulated hardware with -sim), and serves the local API that pintuctl
// talks to. SIGINT or SIGTERM relock every door, finish writing and exit 0.
//
// Exit status:
//
//	0  stopped by SIGINT or SIGTERM
//	1  any other error: bad flags or config, another pintud on the state
//	   directory, hardware that cannot be opened, a failure while running
//	3  refused to start until a person acts: the state file pintu.db is
//	   damaged (restore a backup of it), was written by a newer pintud, or
//	   the file system under the state directory reports itself damaged
//	   (EBADMSG, EUCLEAN); or pintu.db is missing, empty, of another log or
//	   behind its anchor pintu.anchor (restore the newest backup, or start a
//	   new log on purpose with -init-new-log); or pintu.anchor itself is
//	   damaged. pintud prints one line naming the file or directory and
//	   what to do. Restarting cannot help, so a service manager must not
//	   restart on 3 (systemd: RestartPreventExitStatus=3).
//
// Before the API opens, pintud checks pintu.db's structure where it reads
// it, the anchor, and the audit log from its last checkpoint; the rest of
// the log, every record and every page are checked in the background. A
// break found at any time raises the integrity alarm and refuses every
// entry (egress still opens) until the head accepts it with pintuctl
// integrity accept.
//
// (A Go panic exits 2; pintud is written never to end that way.)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/anchor"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/doorio"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if msg, ok := refusal(err); ok {
			fmt.Fprintln(os.Stderr, "pintud:", msg)
			os.Exit(exitRefused)
		}
		if !errors.Is(err, errUsage) && !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "pintud:", err)
		}
		os.Exit(1)
	}
}

// exitRefused is the exit status for a state file that a person must deal
// with before pintud can start (see the package comment).
const exitRefused = 3

// refusal says, on one line, why pintud will not start on its state file and
// what a person should do, when err is of that kind.
func refusal(err error) (string, bool) {
	switch {
	case errors.Is(err, boltstore.ErrCorrupt):
		return fmt.Sprintf("%v. Refusing to start: restore a backup of pintu.db (keep the damaged file for inspection), then start pintud again", err), true
	case errors.Is(err, boltstore.ErrNewerSchema):
		return fmt.Sprintf("%v. Refusing to start: run the newer pintud, or restore a backup of pintu.db made by this version", err), true
	case errors.As(err, new(*anchor.Refusal)):
		return err.Error(), true
	case errors.Is(err, anchor.ErrDamaged):
		return fmt.Sprintf("%v. Refusing to start: if pintu.db is the right log, delete pintu.anchor and start again (it is made again from the log, and the log records that); otherwise restore the newest backup of pintu.db", err), true
	case errors.Is(err, syscall.EBADMSG), errors.Is(err, syscall.EUCLEAN):
		// What ext4 answers when its own structures fail their checksums
		// or do not hold together: no restart will read them.
		return fmt.Sprintf("%v: the file system holding the state directory is damaged. Refusing to start: repair it (fsck) or restore a backup of pintu.db onto a sound one, then start pintud again", err), true
	}
	return "", false
}

var (
	errUsage    = errors.New("usage")
	errReported = errors.New("reported")
)

type flags struct {
	sim, demo, checkConfig bool
	hwcheck, initNewLog    bool
	configPath, dataDir    string
	logFormat              string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("pintud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.sim, "sim", false, "run on simulated hardware (with the embedded default config unless -config is given)")
	fs.BoolVar(&f.demo, "demo", false, "seed demo people, cards and an approved visit, and print the cards to tap")
	fs.BoolVar(&f.checkConfig, "check-config", false, "validate -config, print the problems and exit 0 or 1")
	fs.BoolVar(&f.hwcheck, "hwcheck", false, "check the wiring of -config: pulse each relay, print inputs and card reads until interrupted")
	fs.StringVar(&f.configPath, "config", "", "config file (YAML)")
	fs.StringVar(&f.dataDir, "data", "", "state directory (default: the config's state_dir, ./pintu-data)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&f.initNewLog, "init-new-log", false, "begin a new audit log on purpose where pintu.anchor names one that pintu.db no longer holds (missing or empty); the new log's first event records the old anchor")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pintud -sim [-demo] [-data DIR]")
		fmt.Fprintln(stderr, "       pintud -config FILE [-data DIR]")
		fmt.Fprintln(stderr, "       pintud -check-config -config FILE")
		fmt.Fprintln(stderr, "       pintud -hwcheck -config FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pintud: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return f, errUsage
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		fmt.Fprintf(stderr, "pintud: -log-format %q: want text or json\n", f.logFormat)
		return f, errUsage
	}
	if f.hwcheck && f.configPath == "" {
		fmt.Fprintln(stderr, "pintud: -hwcheck needs -config FILE")
		return f, errUsage
	}
	if f.checkConfig && f.configPath == "" {
		fmt.Fprintln(stderr, "pintud: -check-config needs -config FILE")
		return f, errUsage
	}
	if !f.sim && f.configPath == "" && !f.checkConfig {
		fmt.Fprintln(stderr, "pintud: give -config FILE, or -sim to run on simulated hardware")
		fs.Usage()
		return f, errUsage
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.checkConfig {
		if _, err := config.Load(f.configPath); err != nil {
			fmt.Fprintln(stderr, err)
			return errReported
		}
		fmt.Fprintf(stdout, "%s: ok\n", f.configPath)
		return nil
	}

	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if f.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	if f.hwcheck {
		return hwcheck(ctx, f.configPath, newResolver, stdout, log)
	}

	cfg := config.Default()
	if f.configPath != "" {
		if cfg, err = config.Load(f.configPath); err != nil {
			return err
		}
	}
	if f.dataDir != "" {
		cfg.SetStateDir(f.dataDir)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}

	// The state file's lock comes first: a second pintud on the same state
	// directory must stop before it touches the door's pins. Before it, the
	// anchor: a database that is missing or empty must not be made anew.
	dbPath := filepath.Join(cfg.StateDir, "pintu.db")
	anchorPath := filepath.Join(cfg.StateDir, "pintu.anchor")
	notes, err := beforeOpen(dbPath, anchorPath, f.initNewLog)
	if err != nil {
		return err
	}
	store, err := boltstore.Open(dbPath, &boltstore.Options{Outbox: cfg.MQTT != nil, Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	more, breaks, err := afterOpen(store, dbPath, anchorPath, f.initNewLog, log)
	if err != nil {
		return err
	}
	notes = append(notes, more...)
	keeper := &anchor.Keeper{Path: anchorPath, Site: cfg.Site.Name, Log: store, Logger: log}

	// Then the strikes exist, locked, before anything else happens.
	hw, err := doorio.Open(cfg, f.configPath, f.sim, newResolver, log)
	if err != nil {
		return err
	}
	defer hw.Close()
	strikes := hw.Strikes

	ctrl, err := controller.New(cfg.Controller(), store, strikes, controller.Options{
		Logger:      log,
		ClockSynced: clockSynced(cfg.Site.RequireClockSync, log),
		StartNotes:  notes,
		StartBreaks: breaks,
	})
	if err != nil {
		return err
	}

	var bench api.Sim
	if f.sim {
		bench = doorio.NewSim(ctrl)
	}
	key, err := siteKey(cfg.StateDir, log)
	if err != nil {
		return err
	}
	srv := api.New(ctrl, api.Options{Sim: bench, Location: cfg.Location, Logger: log, SiteKey: key})
	ln, err := srv.Listen(cfg.API.Socket)
	if err != nil {
		return err
	}

	runMQTT, err := newMQTT(cfg.MQTT, ctrl, store, log)
	if err != nil {
		ln.Close()
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ctrl.Run(gctx) })
	commits, stopWatch := ctrl.Watch()
	defer stopWatch()
	g.Go(func() error { return keeper.Run(gctx, commits) })
	g.Go(func() error { return srv.Serve(gctx, ln) })
	if runMQTT != nil {
		g.Go(func() error { return runMQTT(gctx) })
	}
	g.Go(func() error { return hw.Run(gctx, ctrl) })
	if f.demo {
		g.Go(func() error {
			if err := seedDemo(gctx, ctrl, stdout, cfg.API.Socket); err != nil {
				return fmt.Errorf("seed demo: %w", err)
			}
			return nil
		})
	}
	log.Info("pintud started", "site", cfg.Site.Name, "doors", len(cfg.Doors), "state_dir", cfg.StateDir,
		"socket", cfg.API.Socket, "sim", f.sim)
	err = g.Wait()
	keeper.Flush() // the stop event
	log.Info("pintud stopped", "err", err)
	return err
}

// clockSynced asks the kernel whether NTP has set the clock. A Raspberry Pi
// has no real-time clock, so after a cold boot without network it runs from
// a saved guess; visit windows must not rest on that.
func clockSynced(require bool, log *slog.Logger) func() bool {
	if !require {
		return func() bool { return true }
	}
	last := true
	return func() bool {
		var tx unix.Timex
		state, err := unix.Adjtimex(&tx)
		ok := err == nil && state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
		if ok != last {
			log.Warn("clock synchronisation changed", "synced", ok, "err", err)
			last = ok
		}
		return ok
	}
}

// tuneGC sets the garbage collector for a door: pintud's live heap is a few
// MiB (records are read from the file, not held), so at Go's default every
// few MiB allocated start a collection; four times the live heap between
// collections makes them rarer (fewer card reads meet one), and a soft
// limit of 256 MiB keeps a Pi with little memory safe (a bulk import of a
// million lines takes more, and collects harder). GOGC and GOMEMLIMIT in
// the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}
