// Package catalog is the text people read, in Bahasa Indonesia and
// English: one catalogue (golang.org/x/text/message) keyed by message,
// shared by the web console and pintuctl. Indonesian is the default and
// uses the SOP's own terms (Staf Administrasi, Koordinator Pengelola Ruang
// Server, Kepala Bidang, mutu baku; the visit states as the SOP's history
// words: diajukan, diperiksa, disetujui).
//
// A message's key is its English text, so English needs no entry; a key
// with a prefix and a colon ("state:submitted", "event:login_failed") names
// a token of the domain and has an entry in both languages. A Text prints
// numbers as its language does: 1,234 in English, 1.234 in Indonesian.
//
// # Caveats
//
// A key is a format: it must come from this package's tables or the
// domain's closed sets (states, reasons, event types), never from what a
// person typed.
package catalog

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a language a person reads.
type Lang string

// The languages. Indonesian is the default.
const (
	ID Lang = "id"
	EN Lang = "en"
)

// Langs lists the languages, the default first.
var Langs = []Lang{ID, EN}

// Parse reads a language as a person or the environment names it: "id",
// "en", or a locale such as "id_ID.UTF-8" or "en_US". It reports false for
// anything else ("C", "POSIX", "fr_FR").
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	base, _, _ := strings.Cut(s, ".")
	base, _, _ = strings.Cut(base, "@")
	base, _, _ = strings.Cut(strings.ReplaceAll(base, "-", "_"), "_")
	switch base {
	case "id", "in":
		return ID, true
	case "en":
		return EN, true
	}
	return "", false
}

// FromEnv is the language the POSIX locale variables ask for: LC_ALL, then
// LC_MESSAGES, then LANG, the first one set. It reports false when none
// names a language of the catalogue.
func FromEnv(getenv func(string) string) (Lang, bool) {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" {
			return Parse(s)
		}
	}
	return "", false
}

// Text prints messages in one language.
type Text struct {
	lang Lang
	p    *message.Printer
}

// New returns the Text of lang; an unknown lang is Indonesian.
func New(lang Lang) *Text {
	tag := language.Indonesian
	if lang == EN {
		tag = language.English
	} else {
		lang = ID
	}
	return &Text{lang: lang, p: message.NewPrinter(tag, message.Catalog(cat))}
}

// Lang is the Text's language.
func (t *Text) Lang() Lang { return t.lang }

// T prints the message key with args, in the Text's language.
func (t *Text) T(key string, args ...any) string { return t.p.Sprintf(key, args...) }

// token translates a token of a closed set under prefix; a token without an
// entry prints as it is.
func (t *Text) token(prefix, s string) string {
	key := prefix + ":" + s
	if out := t.p.Sprintf(key); out != key {
		return out
	}
	return s
}

// cat holds every message. It is built once and only read.
var cat = build()

func build() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	set := func(tag language.Tag, key, msg string) {
		if err := b.SetString(tag, key, msg); err != nil {
			panic(fmt.Sprintf("catalog: %q: %v", key, err)) // a test builds it
		}
	}
	for _, m := range messages {
		set(language.Indonesian, m[0], m[1])
	}
	for _, tk := range tokens {
		set(language.English, tk[0], tk[1])
		set(language.Indonesian, tk[0], tk[2])
	}
	return b
}
