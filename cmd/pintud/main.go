// Command pintud is Pintu's door controller daemon. It reads the config,
// opens the state directory's bbolt store, drives the door hardware (or
// simulated hardware with -sim), and serves the local API that pintuctl
// talks to. SIGINT or SIGTERM relock every door, finish writing and exit 0.
//
// Exit status:
//
//	0  stopped by SIGINT or SIGTERM, or a one-shot mode that succeeded
//	1  any other error: another pintud on the state directory, hardware
//	   that cannot be opened, a failure while running (worth a restart)
//	2  the command line is wrong
//	3  refused to start until a person acts: the config is invalid; the
//	   state file pintu.db is damaged (restore a backup of it), was written
//	   by a newer pintud, or the file system under the state directory
//	   reports itself damaged (EBADMSG, EUCLEAN); or pintu.db is missing,
//	   empty, of another log or behind its anchor pintu.anchor (restore the
//	   newest backup, or start a new log on purpose with -init-new-log); or
//	   pintu.anchor itself is damaged. pintud prints one line naming the
//	   file or directory and what to do. Restarting cannot help, so a
//	   service manager must not restart on 3 (the unit has
//	   RestartPreventExitStatus=3).
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
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/anchor"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/metrics"
	"github.com/pintu/pintu/controller/password"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if msg, ok := refusal(err); ok {
			fmt.Fprintln(os.Stderr, "pintud:", msg)
			os.Exit(exitRefuse)
		}
		if !errors.Is(err, errUsage) && !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "pintud:", err)
		}
		os.Exit(exitCode(err))
	}
}

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
	errHelp     = errors.New("help") // -h: the usage was printed; exit 0
	errReported = errors.New("reported")
)

type flags struct {
	sim, demo, checkConfig bool
	hwcheck, initNewLog    bool
	configPath, dataDir    string
	logFormat              string
	restore                string
	force                  bool
}

// synopsis is pintud's usage, one line per mode.
const synopsis = `usage: pintud -sim [-demo] [-data DIR]
       pintud -config FILE [-data DIR] [-init-new-log]
       pintud -check-config -config FILE
       pintud -hwcheck -config FILE
       pintud -restore FILE (-data DIR | -config FILE) [-force]
`

// usageHint follows a mistake on the command line: one line, not the whole
// usage.
const usageHint = `run "pintud -h" for the modes and every flag`

func parseFlags(args []string, stdout, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("pintud", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed below, the usage only on -h
	fs.Usage = func() {}
	fs.BoolVar(&f.sim, "sim", false, "run on simulated hardware (with the embedded default config unless -config is given)")
	fs.BoolVar(&f.demo, "demo", false, "seed demo people, cards and an approved visit, and print the cards to tap")
	fs.BoolVar(&f.checkConfig, "check-config", false, "validate -config, print the problems and exit 0 or 1")
	fs.BoolVar(&f.hwcheck, "hwcheck", false, "check the wiring of -config: pulse each relay, print inputs and card reads until interrupted")
	fs.StringVar(&f.configPath, "config", "", "config file (YAML)")
	fs.StringVar(&f.dataDir, "data", "", "state `DIR`: the database and the API socket go in it, whatever the config says (default: the config's state_dir, ./pintu-data)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text (times in the site's zone) or json (times in UTC)")
	fs.StringVar(&f.restore, "restore", "", "restore the backup `FILE` into the state directory of a stopped pintud, after checking it")
	fs.BoolVar(&f.force, "force", false, "with -restore: replace a database that holds another log, or a longer one")
	fs.BoolVar(&f.initNewLog, "init-new-log", false, "begin a new audit log on purpose where pintu.anchor names one that pintu.db no longer holds (missing or empty); the new log's first event records the old anchor")
	usage := func(format string, args ...any) (flags, error) {
		fmt.Fprintf(stderr, "pintud: "+format+"\n%s\n", append(args, usageHint)...)
		return f, errUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, synopsis+"\nFlags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fmt.Fprint(stdout, exitStatusHelp)
			return f, errHelp
		}
		return usage("%v", err)
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return usage("-log-format %q: want text or json", f.logFormat)
	}
	if f.hwcheck && f.configPath == "" {
		return usage("-hwcheck needs -config FILE")
	}
	if f.checkConfig && f.configPath == "" {
		return usage("-check-config needs -config FILE")
	}
	if f.restore != "" && f.dataDir == "" && f.configPath == "" {
		return usage("-restore needs -data DIR, or -config FILE for its state_dir")
	}
	if f.force && f.restore == "" {
		return usage("-force is for -restore only")
	}
	if !f.sim && f.configPath == "" && !f.checkConfig && f.restore == "" {
		return usage("give -config FILE, or -sim to run on simulated hardware")
	}
	return f, nil
}

// exitStatusHelp ends pintud -h.
const exitStatusHelp = `
Exit status: 0 stopped by SIGINT or SIGTERM, or a one-shot mode that
succeeded; 1 any other failure (worth a restart); 2 the command line is
wrong; 3 refused to start until a person acts (an invalid config, a damaged
or newer state file, a damaged file system).
`

// newLogger is pintud's log: text with times in the site's zone, for the
// people who read the journal, or JSON with times in UTC, for machines.
func newLogger(w io.Writer, format string, loc *time.Location) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: inZone(time.UTC)}))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: inZone(loc)}))
}

// inZone shows every time of a log record, its own and its attributes', in
// loc.
func inZone(loc *time.Location) func([]string, slog.Attr) slog.Attr {
	return func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindTime {
			a.Value = slog.TimeValue(a.Value.Time().In(loc))
		}
		return a
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
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

	if f.hwcheck {
		loc := time.Local // hwcheck reports a config it cannot load itself
		if cfg, err := config.Load(f.configPath); err == nil {
			loc = cfg.Location
		}
		return hwcheck(ctx, f.configPath, newResolver, stdout, newLogger(stderr, f.logFormat, loc))
	}

	cfg := config.Default()
	if f.configPath != "" {
		if cfg, err = config.Load(f.configPath); err != nil {
			// Restarting cannot fix the file: stay stopped (exitRefuse).
			return refuse(err)
		}
	}
	log := newLogger(stderr, f.logFormat, cfg.Location)
	if f.dataDir != "" {
		if err := cfg.SetStateDir(f.dataDir); err != nil {
			fmt.Fprintf(stderr, "pintud: -data: %v\n", err)
			return errUsage
		}
	} else if f.demo {
		// A demo of its own: it never leaves people in ./pintu-data for a
		// walkthrough to trip over, and runs the same every time.
		dir, err := os.MkdirTemp("", "pintu-demo-")
		if err != nil {
			return fmt.Errorf("demo: create its state directory: %w", err)
		}
		defer os.RemoveAll(dir) // after the store and the socket close: deferred first
		if err := cfg.SetStateDir(dir); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(stdout, "pintud -demo keeps its state in %s and removes it when it stops (-data DIR keeps it).\n", dir)
	}
	if f.restore != "" {
		return restore(restoreOpts{file: f.restore, dir: cfg.StateDir, force: f.force, now: time.Now}, stdout)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}

	// The state file's lock comes first: a second pintud on the same state
	// directory must stop before it touches the door's pins. Before it, the
	// anchor: a database that is missing or empty must not be made anew.
	dbPath := filepath.Join(cfg.StateDir, dbName)
	anchorPath := filepath.Join(cfg.StateDir, anchorName)
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

	var timings *metrics.Timings
	opts := controller.Options{Logger: log, ClockSynced: clockSynced(cfg.Site.RequireClockSync, log),
		StartNotes: notes, StartBreaks: breaks}
	if cfg.Metrics != nil {
		timings = metrics.NewTimings()
		opts.Observer = timings
	}
	ctrl, err := controller.New(cfg.Controller(), store, strikes, opts)
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
	link, err := newMQTT(cfg.MQTT, ctrl, store, log)
	if err != nil {
		return err
	}
	hasher := password.New(password.DefaultParams, 2)
	srv := api.New(ctrl, api.Options{Sim: bench, SimIdentity: f.sim, Location: cfg.Location, Logger: log,
		SiteKey: key, Backup: store, Hasher: hasher, MQTT: mqttStatus(link)})
	ln, err := srv.Listen(cfg.API.Socket)
	if err != nil {
		return err
	}
	defer ln.Close()

	var backups *scheduledBackups
	if b := cfg.Backup; b != nil {
		backups = &scheduledBackups{store: store, dir: b.Dir, every: b.Every, keep: b.Keep, now: time.Now, log: log}
	}
	// The collector follows the log from before the controller's start.
	var collector *metrics.Collector
	var metricsLn net.Listener
	if cfg.Metrics != nil {
		if collector, err = newCollector(ctrl, store, link, hw.Hardware, backups, timings, log); err != nil {
			return err
		}
		if metricsLn, err = metrics.Listen(cfg.Metrics.Listen); err != nil {
			return err
		}
		defer metricsLn.Close()
	}
	runConsole, err := newConsole(cfg, ctrl, store, srv.Handler(), hasher, log)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ctrl.Run(gctx) })
	commits, stopWatch := ctrl.Watch()
	defer stopWatch()
	g.Go(func() error { return keeper.Run(gctx, commits) })
	g.Go(func() error { return srv.Serve(gctx, ln) })
	if link != nil {
		g.Go(func() error { return link.Run(gctx) })
	}
	g.Go(func() error { return hw.Run(gctx, ctrl) })
	if backups != nil {
		g.Go(func() error { return backups.Run(gctx) })
	}
	if collector != nil {
		g.Go(func() error { return collector.Run(gctx) })
		g.Go(func() error { return collector.Serve(gctx, metricsLn) })
	}
	// systemd hears READY=1 once the controller answers: the store is open
	// and loaded, the strikes are locked, the API socket listens.
	sup := &supervisor{notify: sdNotify, probe: controllerProbe(ctrl), watchdog: watchdogPeriod(log),
		status: readyStatus(cfg.API.Socket, len(cfg.Doors)), log: log}
	g.Go(func() error { return sup.Run(gctx) })
	if runConsole != nil {
		g.Go(func() error { return runConsole(gctx) })
	}
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
// few MiB allocated start a collection; twice the live heap between
// collections makes them rarer (fewer card reads meet one) while an export
// of a million events still peaks at about 11 MiB above the live heap (at
// four times it peaked at 20; see the README's Performance), and a soft
// limit of 256 MiB keeps a Pi with little memory safe (a bulk import of a
// million lines takes more, and collects harder). GOGC and GOMEMLIMIT in
// the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}
