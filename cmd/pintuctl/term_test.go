package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Budi Santoso", "Budi Santoso"},
		{"Çağrı — Dinas Kominfo", "Çağrı — Dinas Kominfo"},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x1b[2J\x07\x00\x7f", `\x1b[2J\x07\x00\x7f`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"evil\u202eexe.pdf\u2066", `evil\u202eexe.pdf\u2066`},
		{"a\u200bb\u200dc\ufeffd\u00ade", `a\u200bb\u200dc\ufeffd\u00ade`},
		{"nb\u00a0sp", `nb\u00a0sp`},
		{"ls\u2028ps\u2029", `ls\u2028ps\u2029`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"bad\xffbyte\xc3", `bad\xffbyte\xc3`},
		{`C:\temp`, `C:\\temp`},
		{"\ufffd stays", "\ufffd stays"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEscape: whatever is stored, escape prints only visible characters
// (and U+FFFD), and text that needs no escape is left alone.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "Budi", hostile, "a\\b", "\xff\xfe", "\u202e\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("escape(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if unsafeRune(r) || r == '\n' {
				t.Fatalf("escape(%q) = %q holds %U", s, got, r)
			}
		}
		if strings.IndexFunc(s, func(r rune) bool { return r == '\\' || unsafeRune(r) || r == '\n' }) < 0 && utf8.ValidString(s) && got != s {
			t.Fatalf("escape(%q) = %q, want it unchanged", s, got)
		}
	})
}

// FuzzSafeJSON: safeJSON leaves the JSON's value as it was and its text
// free of invisible and control characters.
func FuzzSafeJSON(f *testing.F) {
	for _, s := range []string{"", "Budi", hostile, "\U0001f600 \U000e0041", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal(map[string]string{"name": s})
		if err != nil {
			t.Skip()
		}
		got := safeJSON(b)
		for _, r := range string(got) {
			if unsafeRune(r) {
				t.Fatalf("safeJSON(%s) = %s holds %U", b, got, r)
			}
		}
		var before, after map[string]string
		if err := json.Unmarshal(b, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &after); err != nil {
			t.Fatalf("safeJSON(%s) = %s: %v", b, got, err)
		}
		if before["name"] != after["name"] {
			t.Fatalf("safeJSON changed %q to %q", before["name"], after["name"])
		}
	})
}

func TestCut(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"server-room", 11, "server-room"},
		{"server-room-2", 11, "server-roo…"},
		{"Kartu di pintu masuk", 18, "Kartu di pintu ma…"},
		{"a\x1bb", 3, `a\…`},
		{"", 5, ""},
	}
	for _, tt := range tests {
		got := cut(tt.in, tt.width)
		if got != tt.want || utf8.RuneCountInString(got) > tt.width {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
