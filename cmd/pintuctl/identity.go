package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

// This file is who acts: linking Unix accounts to people, console
// passwords, and whoami.

func personLink(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the person's `ID`")
	user := fs.String("unix-user", "", "the Unix account `NAME` whose pintuctl acts as the person; '' unlinks")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/people/"+url.PathEscape(*id)+"/link", nil, map[string]string{"unix_user": *user})
		if err != nil {
			return err
		}
		return output(c, raw, func(p controller.Person) error {
			line := c.tr("%s (%s) is linked to no Unix account", p.ID, p.Name)
			if p.UnixUser != "" {
				line = c.tr("Unix account %s now acts as %s (%s)", p.UnixUser, p.ID, p.Name)
			}
			return c.say(line)
		})
	}
}

// personPassword sets a console password. It is never a flag (a command
// line is visible to every user of the machine): on a terminal it is asked
// twice without echo; otherwise it is the first line of standard input,
// for scripts.
func personPassword(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the person's `ID`")
	return func(ctx context.Context, c *cli, _ []string) error {
		pw, err := c.readPassword(*id)
		if err != nil {
			return err
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/people/"+url.PathEscape(*id)+"/password", nil, map[string]string{"password": pw})
		if err != nil {
			return err
		}
		return output(c, raw, func(map[string]string) error {
			return c.say(c.tr("console password of %s set; their other console sessions have ended", *id))
		})
	}
}

func (c *cli) readPassword(id string) (string, error) {
	in := c.stdin
	if in == nil {
		in = os.Stdin
	}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, c.tr("New console password for %s: ", id))
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(c.stderr, c.tr("Type it again: "))
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New(c.tr("the two passwords differ; nothing changed"))
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New(c.tr("no password on standard input (give it as the first line)"))
	}
	return pw, nil
}

func (c *cli) whoami(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/whoami", nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(w api.Whoami) error {
		var line string
		switch {
		case w.Unauthenticated:
			line = c.tr("pintud runs with -sim: nobody is authenticated; --by names who acts")
		case w.Root:
			line = c.tr("root: may manage people, cards, passwords and links; takes no SOP step")
		case w.Person != nil:
			roles := make([]string, len(w.Person.Roles))
			for i, r := range w.Person.Roles {
				roles[i] = c.text().Role(r)
			}
			line = c.tr("Unix account %s acts as %s (%s): %s", w.Account, w.Person.ID, w.Person.Name, strings.Join(roles, ", "))
		default:
			line = c.tr("Unix account %s is linked to no person: it may read, and takes no action (root links it: pintuctl person link)", w.Account)
		}
		return c.say(line)
	})
}
