package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHelp: -h prints the modes, every flag and the exit statuses on
// stdout and exits 0, in-process and as built.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stdout, &stderr)
	if err != nil || exitCode(err) != exitOK || stderr.Len() != 0 {
		t.Errorf("pintud -h = %v (exit %d), stderr %q; want exit 0 and nothing on stderr", err, exitCode(err), &stderr)
	}
	for _, want := range []string{"usage: pintud -sim [-demo] [-data DIR]", "-log-format", "Exit status: 0"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("pintud -h lacks %q:\n%s", want, &stdout)
		}
	}
}

// TestUsageError: a mistake on the command line exits 2 with the mistake
// and one line pointing at -h, not the whole usage.
func TestUsageError(t *testing.T) {
	for _, args := range [][]string{{"-bogus"}, {"-sim", "extra"}, {}, {"-log-format", "xml", "-sim"}, {"-force", "-sim"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if exitCode(err) != exitUsage {
			t.Errorf("pintud %q: exit %d, want %d", args, exitCode(err), exitUsage)
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "pintud: ") || lines[1] != usageHint || stdout.Len() != 0 {
			t.Errorf("pintud %q printed\n%s\nwant the mistake and %q", args, &stderr, usageHint)
		}
	}
}

// TestLogZone: the text log shows times in the site's zone, its own and
// its attributes'; the JSON log in UTC.
func TestLogZone(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		format string
		want   *regexp.Regexp
	}{
		{"text", regexp.MustCompile(`^time=2026-11-02T09:00:00\.000\+07:00 level=INFO msg=x since=2026-11-02T09:00:00\.000\+07:00\n$`)},
		{"json", regexp.MustCompile(`^\{"time":"2026-11-02T02:00:00Z","level":"INFO","msg":"x","since":"2026-11-02T02:00:00Z"\}\n$`)},
	} {
		var b bytes.Buffer
		log := newLogger(&b, tt.format, jakarta)
		r := slog.NewRecord(at.In(time.Local), slog.LevelInfo, "x", 0)
		r.AddAttrs(slog.Time("since", at))
		if err := log.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if !tt.want.Match(b.Bytes()) {
			t.Errorf("%s log = %q, want %s", tt.format, &b, tt.want)
		}
	}
}
