// Command pintud is Pintu's door controller daemon. It reads the config,
// opens the state directory's bbolt store, drives the door hardware (or
// simulated hardware with -sim), and serves the local API that pintuctl
// talks to. SIGINT or SIGTERM relock every door, finish writing and exit 0.
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
	"syscall"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/doorio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) && !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "pintud:", err)
		}
		os.Exit(1)
	}
}

var (
	errUsage    = errors.New("usage")
	errReported = errors.New("reported")
)

type flags struct {
	sim, demo, checkConfig bool
	hwcheck                bool
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
		return hwcheck(ctx, f.configPath, stdout, log)
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
	// directory must stop before it touches the door's pins.
	dbPath := filepath.Join(cfg.StateDir, "pintu.db")
	store, err := boltstore.Open(dbPath, &boltstore.Options{Outbox: cfg.MQTT != nil})
	if err != nil {
		return err
	}
	defer store.Close()

	// Then the strikes exist, locked, before anything else happens.
	hw, err := openHardware(cfg, f.configPath, f.sim, newResolver, log)
	if err != nil {
		return err
	}
	defer hw.close()
	strikes := hw.strikes

	ctrl, err := controller.New(cfg.Controller(), store, strikes, controller.Options{
		Logger:      log,
		ClockSynced: clockSynced(cfg.Site.RequireClockSync, log),
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
	link, err := newMQTT(cfg.MQTT, ctrl, store, log)
	if err != nil {
		return err
	}
	srv := api.New(ctrl, api.Options{Sim: bench, Location: cfg.Location, Logger: log, SiteKey: key, MQTT: mqttStatus(link)})
	ln, err := srv.Listen(cfg.API.Socket)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ctrl.Run(gctx) })
	g.Go(func() error { return srv.Serve(gctx, ln) })
	if link != nil {
		g.Go(func() error { return link.Run(gctx) })
	}
	g.Go(func() error { return hw.run(gctx, ctrl) })
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
	log.Info("pintud stopped", "err", err)
	return err
}

func lockWord(unlocked bool) string {
	if unlocked {
		return "unlocked"
	}
	return "locked"
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
