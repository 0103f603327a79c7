package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// pintuctl's exit statuses, as "pintuctl help" and the README list them.
const (
	// exitOK: the command did what it says.
	exitOK = 0
	// exitFailure: pintud refused the request (the error names why: bad
	// input, unknown id, a step out of order, a role that may not) or it
	// failed, or pintuctl could not write a file.
	exitFailure = 1
	// exitUsage: the command line is wrong; nothing was sent to pintud.
	exitUsage = 2
	// exitUnreachable: pintud could not be reached: not running, another
	// socket, or no permission to open it.
	exitUnreachable = 3
	// exitBroken: verify found the audit log's hash chain broken, or
	// verify-bundle found the bundle does not verify.
	exitBroken = 4
)

// The codes of a --json error on stderr, beside the exit status. pintud's
// own codes (invalid, not_found, exists, wrong_state,
// separation_of_duties, already_done, wrong_role, unauthenticated,
// storage_failure, stopped, unavailable, internal) pass through with
// status 1.
const (
	codeUsage       = "usage"
	codeUnreachable = "unreachable"
	codeBroken      = "log_broken"
	codeBadBundle   = "bundle_invalid"
	codeFailed      = "failed" // an error of pintuctl's own, such as a file it cannot write
)

// errorJSON is a --json error, written to stderr.
type errorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// exit prints err on stderr, as JSON with --json, and returns the exit
// status for it. args are the command line, for --json when the error came
// before the flag was parsed.
func (c *cli) exit(err error, args []string) int {
	if err == nil {
		return exitOK
	}
	code, status := classify(err)
	if c.json || wantsJSON(args) {
		b, jerr := json.Marshal(errorJSON{Error: err.Error(), Code: code})
		if jerr != nil { // only strings: cannot happen
			b = []byte(`{"error":"pintuctl: encode error","code":"failed"}`)
		}
		c.stderr.Write(append(safeJSON(b), '\n'))
		return status
	}
	fmt.Fprintf(c.stderr, "pintuctl: %s\n", escape(err.Error()))
	if ue, ok := errors.AsType[*usageError](err); ok {
		if ue.hint != "" {
			fmt.Fprintln(c.stderr, ue.hint)
		} else {
			fmt.Fprintln(c.stderr, c.usageLine(ue.cmd))
		}
	}
	return status
}

// classify names err's code and exit status.
func classify(err error) (string, int) {
	if _, ok := errors.AsType[*usageError](err); ok {
		return codeUsage, exitUsage
	}
	if _, ok := errors.AsType[*unreachableError](err); ok {
		return codeUnreachable, exitUnreachable
	}
	if _, ok := errors.AsType[*chainError](err); ok {
		return codeBroken, exitBroken
	}
	if _, ok := errors.AsType[*bundleError](err); ok {
		return codeBadBundle, exitBroken
	}
	if ae, ok := errors.AsType[*apiError](err); ok {
		if ae.Code != "" {
			return ae.Code, exitFailure
		}
		return statusCode(ae.Status), exitFailure
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted", exitFailure
	}
	return codeFailed, exitFailure
}

// statusCode names an error response from a pintud that sends no code.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

// wantsJSON reports whether args ask for --json, for an error found before
// the flag was parsed.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true":
			return true
		}
	}
	return false
}

// usageLine is the one line of usage that goes with a mistake in cmd's
// command line, or in pintuctl's when cmd is nil.
func (c *cli) usageLine(cmd *command) string {
	if cmd == nil {
		return c.tr("Usage") + ": pintuctl [-socket PATH] [--json] [--lang en|id] COMMAND [ARGS]  (" + c.tr(`"pintuctl help" lists the commands`) + ")"
	}
	return c.tr("Usage") + ": pintuctl " + strings.TrimSpace(cmd.name+" "+cmd.synopsis) + "  (" + c.tr(`"pintuctl help %s" explains it`, cmd.name) + ")"
}

// groupHint lists the subcommands of group on one line.
func (c *cli) groupHint(group string) string {
	var subs []string
	for _, cmd := range commands {
		if g, sub, ok := strings.Cut(cmd.name, " "); ok && g == group && !slices.Contains(subs, sub) {
			subs = append(subs, sub)
		}
	}
	return c.tr("%s commands: %s", "pintuctl "+group, strings.Join(subs, ", "))
}

// unreachableError is a request that never reached pintud.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// bundleError is a bundle that does not verify.
type bundleError struct{ err error }

func (e *bundleError) Error() string { return e.err.Error() }
func (e *bundleError) Unwrap() error { return e.err }
