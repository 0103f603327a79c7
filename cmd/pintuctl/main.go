// Command pintuctl is the operator's command line for pintud: people and
// cards, the SOP visit workflow, door status, simulated hardware and the
// audit log. It talks only to pintud's local API socket; it never opens the
// database.
//
// Run "pintuctl help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // show times in the site's zone on machines without zoneinfo

	"github.com/pintu/pintu/internal/catalog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args, writing output to stdout and errors to
// stderr, and returns the exit status (see exit.go).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return c.exit(c.run(ctx, args), args)
}

// defaultSocket is where pintud -sim puts its socket when run from the same
// directory.
const defaultSocket = "./pintu-data/pintud.sock"

// cli is one run of pintuctl.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader // nil: os.Stdin
	getenv         func(string) string
	now            func() time.Time
	isTerminal     func(io.Writer) bool // nil: a *os.File on a terminal

	// Flags accepted before and after the command.
	socket  string
	lang    string
	langSet bool // --lang was given: papers follow it rather than default to Indonesian
	json    bool

	cl  *client
	cmd *command      // the command running
	txt *catalog.Text // see text
}

// command is one pintuctl command.
type command struct {
	name     string   // "visit approve"
	synopsis string   // what follows the name in usage
	short    string   // what it does
	args     []string // the positional arguments, by name
	required []string // the flags that must be given
	// setup registers the command's flags on fs and returns what to run once
	// they are parsed.
	setup func(fs *flag.FlagSet) action
}

// action runs a command with its positional arguments.
type action func(ctx context.Context, c *cli, args []string) error

// usageError is a command line mistake: exit prints it with the one usage
// line that fits.
type usageError struct {
	cmd  *command // nil for the top level
	err  error
	hint string // instead of the usage line, when set
}

func (e *usageError) Error() string {
	if e.cmd != nil {
		return e.cmd.name + ": " + e.err.Error()
	}
	return e.err.Error()
}
func (e *usageError) Unwrap() error { return e.err }

func usagef(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

func (c *cli) run(ctx context.Context, args []string) error {
	c.socket = c.getenv("PINTU_SOCKET")
	if c.socket == "" {
		c.socket = defaultSocketPath()
	}
	// PINTU_LANG, else the locale (LANG=id_ID.UTF-8 gives Indonesian),
	// else English.
	c.lang = c.getenv("PINTU_LANG")
	if c.lang == "" {
		c.lang = langEN
		if l, ok := catalog.FromEnv(c.getenv); ok {
			c.lang = string(l)
		}
	}

	err := c.localize(c.dispatch(ctx, args))
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	fs := c.flagSet("pintuctl")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.stdout, nil)
			return err
		}
		return &usageError{err: err}
	}
	if err := c.checkLang(nil); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		return usagef(nil, "no command given")
	}
	if args[0] == "help" {
		return c.help(args[1:])
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		if groups[args[0]] {
			e := &usageError{err: fmt.Errorf("%q needs a subcommand", args[0]), hint: c.groupHint(args[0])}
			if len(args) > 1 {
				e.err = fmt.Errorf("unknown command %q", args[0]+" "+args[1])
			}
			return e
		}
		return &usageError{err: fmt.Errorf("unknown command %q", args[0]), hint: c.tr(`Run "pintuctl help" for the commands.`)}
	}
	return c.runCommand(ctx, cmd, rest)
}

func (c *cli) runCommand(ctx context.Context, cmd *command, args []string) error {
	c.cmd = cmd
	fs := c.flagSet("pintuctl " + cmd.name)
	act := cmd.setup(fs)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	for _, n := range cmd.required {
		if strings.TrimSpace(fs.Lookup(n).Value.String()) == "" {
			return usagef(cmd, "missing required flag --%s", n)
		}
	}
	if err := act(ctx, c, pos); err != nil {
		if _, ok := errors.AsType[*usageError](err); ok {
			return err
		}
		return fmt.Errorf("%s: %w", cmd.name, err)
	}
	return nil
}

// help prints the usage of pintuctl or of the command args name.
func (c *cli) help(args []string) error {
	if len(args) == 0 {
		c.usage(c.stdout, nil)
		return nil
	}
	cmd, rest := lookup(args)
	if cmd == nil || len(rest) > 0 {
		return &usageError{err: fmt.Errorf("help: unknown command %q", strings.Join(args, " ")), hint: c.tr(`Run "pintuctl help" for the commands.`)}
	}
	c.usage(c.stdout, cmd)
	return nil
}

// groups are the first words of two-word commands.
var groups = map[string]bool{"person": true, "card": true, "visit": true, "sim": true, "alarm": true, "door": true, "report": true, "site": true}

// lookup finds the command args starts with.
func lookup(args []string) (*command, []string) {
	if len(args) >= 2 {
		for _, cmd := range commands {
			if cmd.name == args[0]+" "+args[1] {
				return cmd, args[2:]
			}
		}
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd, args[1:]
		}
	}
	return nil, nil
}

// flagSet returns a flag set with the flags every command takes.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and usage itself
	fs.Usage = func() {}
	fs.StringVar(&c.socket, "socket", c.socket, "pintud's API socket `path` (env PINTU_SOCKET)")
	fs.BoolVar(&c.json, "json", c.json, "print machine-readable JSON on stdout")
	fs.StringVar(&c.lang, "lang", c.lang, "`language` of human output: en or id (env PINTU_LANG)")
	explicit(fs, "lang", &c.langSet)
	return fs
}

func (c *cli) checkLang(cmd *command) error {
	if c.lang != langEN && c.lang != langID {
		return usagef(cmd, "unknown language %q (want en or id)", c.lang)
	}
	return nil
}

// parse parses a command's args, flags and positionals in any order, and
// returns its positional arguments, exactly as many as cmd.args names.
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage(c.stdout, cmd)
				return nil, err
			}
			return nil, &usageError{cmd: cmd, err: err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...) // everything after -- is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if err := c.checkLang(cmd); err != nil {
		return nil, err
	}
	switch n := len(cmd.args); {
	case len(pos) < n:
		return nil, usagef(cmd, "missing argument %s", cmd.args[len(pos)])
	case len(pos) > n:
		return nil, usagef(cmd, "unexpected argument %q", pos[n])
	}
	return pos, nil
}

// client returns the API client, dialling the socket lazily.
func (c *cli) client() *client {
	if c.cl == nil {
		c.cl = newClient(c.socket)
	}
	return c.cl
}

// usage prints the usage of cmd, or of pintuctl when cmd is nil.
func (c *cli) usage(w io.Writer, cmd *command) {
	if cmd != nil {
		short := c.tr(cmd.short)
		fmt.Fprintf(w, "%s: pintuctl %s\n\n%s%s.\n\n%s:\n", c.tr("Usage"), strings.TrimSpace(cmd.name+" "+cmd.synopsis),
			strings.ToUpper(short[:1]), short[1:], c.tr("Flags"))
		fs := (&cli{socket: defaultSocket, lang: langEN}).flagSet("")
		cmd.setup(fs)
		fs.SetOutput(w)
		fs.PrintDefaults()
		return
	}
	fmt.Fprintf(w, "%s: pintuctl [-socket PATH] [--json] [--lang en|id] COMMAND [ARGS]\n\n%s\n\n%s:\n",
		c.tr("Usage"), c.tr("pintuctl talks to pintud over its local API socket."), c.tr("Commands"))
	width := 0
	for _, cmd := range commands {
		width = max(width, len(cmd.name))
	}
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, cmd.name, c.tr(cmd.short))
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", c.tr("show this, or a command's arguments and flags"))
	fmt.Fprint(w, "\n"+c.tr(`Every command takes these flags, before or after the command:
  -socket PATH   pintud's API socket (env PINTU_SOCKET; default %s,
                 or %s where the package is installed)
  -json          print machine-readable JSON on stdout
  -lang en|id    language of human output (env PINTU_LANG, else LANG such as
                 id_ID.UTF-8; default en)

Run "pintuctl help COMMAND" for a command's arguments and flags.

Exit status: 0 done; 1 pintud refused or failed the request (the message
says why); 2 the command line is wrong; 3 pintud cannot be reached; 4 the
audit log's hash chain is broken (verify) or a bundle does not verify.
With -json an error is one JSON object on stderr: {"error": "...",
"code": "not_found"}; the codes are listed in the README.
`, defaultSocket, installedSocket))
}
