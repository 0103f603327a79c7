package controller

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The longest texts stored, in characters.
const (
	MaxNameLen = 200  // a name, organisation, identity document, purpose, devices
	MaxNoteLen = 2000 // a note: a rejection reason, a work report, an acknowledgement
)

// CheckText is the one check on text a person types that the system stores
// and shows again: names, organisations, identity documents, purposes,
// devices and notes. It refuses invalid UTF-8, control characters (a
// multi-line text may hold line feeds), the bidirectional formatting
// characters that make text display in another order than it is stored
// (U+202E RIGHT-TO-LEFT OVERRIDE and its kin, "Trojan Source"), invisible
// characters that make two names look alike, and text longer than max
// characters. what names the field in the error.
func CheckText(what, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return &TextError{What: what, Why: "not valid UTF-8 text"}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return &TextError{What: what, Why: "too long", Len: n, Max: max}
	}
	for i, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if why := badRune(r); why != "" {
			return &TextError{What: what, Why: why, Rune: r, At: i}
		}
	}
	return nil
}

// TextError is text refused by CheckText. It is ErrInvalid.
type TextError struct {
	What string // the field: "name", "purpose", ...
	// Why is "not valid UTF-8 text", "too long", or the kind of character
	// refused: "a control character", "a bidirectional formatting
	// character", "an invisible character", "a line separator", "an
	// interlinear annotation character".
	Why      string
	Rune     rune // the character refused
	At       int  // its byte offset
	Len, Max int  // for "too long": the length and the limit, in characters
}

func (e *TextError) Error() string {
	switch e.Why {
	case "not valid UTF-8 text":
		return fmt.Sprintf("%s: %s is not valid UTF-8 text", ErrInvalid, e.What)
	case "too long":
		return fmt.Sprintf("%s: %s is %d characters long; at most %d", ErrInvalid, e.What, e.Len, e.Max)
	}
	return fmt.Sprintf("%s: %s contains %s (U+%04X) at byte %d; type it again without it", ErrInvalid, e.What, e.Why, e.Rune, e.At)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *TextError) Is(target error) bool { return target == ErrInvalid }

// badRune says why r may not be stored, or "" if it may.
func badRune(r rune) string {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return "a control character"
	case r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return "a bidirectional formatting character"
	case r == 0x200b || r == 0x2060 || r == 0xfeff || r == 0x00ad:
		return "an invisible character"
	case r == 0x2028 || r == 0x2029:
		return "a line separator"
	case r >= 0xfff9 && r <= 0xfffb:
		return "an interlinear annotation character"
	}
	return ""
}

// normalizeNote makes a multi-line text's line ends plain line feeds (a
// browser's textarea sends CR LF) and trims it.
func normalizeNote(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// textField is one field of an input for CheckText.
type textField struct {
	what      string
	s         string
	max       int
	multiline bool
}

func checkTexts(fs ...textField) error {
	for _, f := range fs {
		if err := CheckText(f.what, f.s, f.max, f.multiline); err != nil {
			return err
		}
	}
	return nil
}

// MaxIDLen is the longest person id or card number.
const MaxIDLen = 64

// CheckID is the check on a person id: 1 to 64 characters from a-z, 0-9,
// '.', '_' and '-'. Ids are typed, compared and grepped by people, so a
// look-alike (a Cyrillic "а", a zero-width space, an upper-case twin) must
// not make a second "adi".
func CheckID(what, id string) error { return checkID(what, id, false) }

// CheckCard is the check on a card number assigned to a person: as
// CheckID, and also A-Z and ':' as readers write them ("04A1B2C3",
// "H10301:123:45678").
func CheckCard(what, id string) error { return checkID(what, id, true) }

func checkID(what, id string, card bool) error {
	switch n := len(id); {
	case n == 0:
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case n > MaxIDLen:
		return fmt.Errorf("%w: %s is %d bytes long; at most %d", ErrInvalid, what, n, MaxIDLen)
	}
	allowed := "a-z, 0-9, '.', '_' and '-'"
	if card {
		allowed = "A-Z, a-z, 0-9, '.', '_', ':' and '-'"
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		ok := 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-' ||
			card && ('A' <= b && b <= 'Z' || b == ':')
		if !ok {
			r, _ := utf8.DecodeRuneInString(id[i:])
			return fmt.Errorf("%w: %s %q may hold only %s; it has %q (U+%04X) at byte %d", ErrInvalid, what, id, allowed, r, r, i)
		}
	}
	return nil
}
