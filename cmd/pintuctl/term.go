package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/term"
)

// What pintuctl prints for people comes partly from people: names and notes
// typed before pintud refused control characters, card numbers as a reader
// sent them, MQTT payloads quoted in an event's detail. None of it may act
// on the operator's terminal (an escape sequence that clears the screen or
// retitles the window, a carriage return that overwrites a line, a tab that
// shifts a column) or read differently from what is stored (a right-to-left
// override, a zero-width space between two letters). escape is the one
// function every human printer passes such text through.

// escape returns s with every character that is not plainly visible
// written as a Go escape: control characters (\t, \n, \x1b, \u0085),
// bidirectional formatting and other format characters (\u202e, \u200b,
// \ufeff), line and paragraph separators, spaces other than U+0020
// (\u00a0), unassigned and private-use code points, and bytes that are not
// UTF-8 (\xff). A backslash is doubled, so that what is shown reads back as
// exactly one stored text.
func escape(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r) || r == utf8.RuneError: // a stored U+FFFD is shown as itself
			b.WriteString(s[:n])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		s = s[n:]
	}
	return b.String()
}

// safeJSON returns JSON text b with every character escape would escape
// written as a JSON \u escape. The JSON decodes to the same values; only
// what a terminal shows changes. pintud's encoder already escapes control
// characters below U+0020 and invalid UTF-8; this catches DEL and the C1,
// bidirectional, invisible and separator characters it passes through. Outside strings JSON holds
// only ASCII, so every such character is inside a string.
func safeJSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf && b[i] != 0x7f {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for b = b[i:]; len(b) > 0; {
		r, n := utf8.DecodeRune(b)
		if r < utf8.RuneSelf && r != 0x7f || unicode.IsPrint(r) || r == utf8.RuneError && n > 1 {
			out = append(out, b[:n]...)
		} else if r == utf8.RuneError {
			out = append(out, `\ufffd`...) // a stray byte: JSON has no escape for it
		} else if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out
}

// cut returns s escaped and shortened to at most width columns, ending in
// "…" when it was longer. A column is a character: names in the SOP's
// languages are Latin script.
func cut(s string, width int) string {
	s = escape(s)
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	i, n := 0, 0
	for i = range s {
		if n == width-1 {
			break
		}
		n++
	}
	return s[:i] + "…"
}

// pad returns s followed by spaces to width columns.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// say prints one line of human output, escaped.
func (c *cli) say(line string) error {
	_, err := fmt.Fprintln(c.stdout, escape(line))
	return err
}

// terminal reports whether w is a terminal.
func (c *cli) terminal(w io.Writer) bool {
	if c.isTerminal != nil {
		return c.isTerminal(w)
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// copyEscapedLines copies a text body to stdout a line at a time, each
// escaped: a CSV export shown on a terminal. Line ends are kept; a byte
// order mark, which only spreadsheets need, is dropped.
func (c *cli) copyEscapedLines(resp *http.Response) error {
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	first := true
	for {
		line, err := br.ReadString('\n')
		if first {
			line, first = strings.TrimPrefix(line, "\ufeff"), false
		}
		if line != "" {
			body, end := line, ""
			for _, e := range []string{"\r\n", "\n"} {
				if strings.HasSuffix(line, e) {
					body, end = strings.TrimSuffix(line, e), e
					break
				}
			}
			if _, werr := io.WriteString(c.stdout, escape(body)+end); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return trailerError(resp)
		}
		if err != nil {
			if terr := trailerError(resp); terr != nil {
				return terr
			}
			return fmt.Errorf("read export: %w", err)
		}
	}
}
