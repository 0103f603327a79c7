package main

import (
	"strings"

	"github.com/pintu/pintu/internal/catalog"
)

// The languages of human output. Bahasa Indonesia and English are both
// first-class: the SOP is written in Indonesian, the code in English. The
// words come from the catalogue the web console uses (internal/catalog).
const (
	langEN = string(catalog.EN)
	langID = string(catalog.ID)
)

// text returns the catalogue in the CLI's language.
func (c *cli) text() *catalog.Text {
	if c.txt == nil || string(c.txt.Lang()) != c.lang {
		l, ok := catalog.Parse(c.lang)
		if !ok {
			l = catalog.EN // an unknown --lang is a usage error, shown in English
		}
		c.txt = catalog.New(l)
	}
	return c.txt
}

// tr prints the message key with args in the CLI's language; a message
// the catalogue lacks prints in English.
func (c *cli) tr(key string, args ...any) string { return c.text().T(key, args...) }

// stepNames returns step n's name in the CLI's language and in the other.
func (c *cli) stepNames(n int) (string, string) {
	other := catalog.ID
	if c.lang == langID {
		other = catalog.EN
	}
	return c.text().Step(n), catalog.StepIn(other, n)
}

// errorKinds are the words that say what kind of error pintud or pintuctl
// reports (the domain's sentinel errors and pintuctl's own), which
// localError translates; the detail after them stays as pintud wrote it.
var errorKinds = []string{
	"invalid input", "not found", "already exists", "wrong visit state", "role may not take this step",
	"not identified as a person", "separation of duties", "already done", "storage failure", "controller stopped",
	"missing required flag", "unknown command", "missing argument", "unexpected argument", "cannot reach pintud at",
	"is it running?", "permission denied",
}

// localError is an error whose kinds are in the CLI's language.
type localError struct {
	msg string
	err error
}

func (e *localError) Error() string { return e.msg }
func (e *localError) Unwrap() error { return e.err }

// localize translates the kinds of err's message.
func (c *cli) localize(err error) error {
	if err == nil || c.lang != langID {
		return err
	}
	msg := err.Error()
	for _, k := range errorKinds {
		msg = strings.Replace(msg, k, c.tr(k), 1)
	}
	if msg == err.Error() {
		return err
	}
	return &localError{msg: msg, err: err}
}
