package ackcheck

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller/anchor"
)

func TestParseAcks(t *testing.T) {
	got, err := ParseAcks(strings.NewReader("12 2001\n13 2002\r\n\n14 2001\n\x00\x00\x00\x00"))
	want := []Ack{{12, "2001"}, {13, "2002"}, {14, "2001"}}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("ParseAcks() = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"12\n", "x 2001\n", "0 2001\n", "12 2001 extra\n"} {
		if _, err := ParseAcks(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseAcks(%q) = nil error, want one", bad)
		}
	}
}

func granted(seq uint64, card string) Event {
	return Event{Seq: seq, Type: "access", Card: card, Decision: "granted"}
}

// TestCompare: every way an acknowledged tap can fail to survive is counted;
// a log that holds every acknowledged tap passes, whatever else it holds.
func TestCompare(t *testing.T) {
	log := []Event{
		{Seq: 10, Type: "started"},
		granted(11, "2001"), granted(12, "2002"), granted(13, "2001"),
		{Seq: 14, Type: "access", Card: "2002", Decision: "denied"},
	}
	tests := []struct {
		name   string
		acks   []Ack
		events []Event
		want   Result
	}{
		{"all there", []Ack{{11, "2001"}, {12, "2002"}, {13, "2001"}}, log, Result{Acked: 3}},
		{"unacknowledged events are fine", []Ack{{12, "2002"}}, log, Result{Acked: 1}},
		{"no acknowledgements", nil, log, Result{}},
		{"the tail lost", []Ack{{13, "2001"}, {15, "2002"}, {16, "2001"}}, log, Result{Acked: 3, Lost: 2}},
		{"everything lost: a new log", []Ack{{11, "2001"}, {12, "2002"}}, []Event{{Seq: 1, Type: "started"}}, Result{Acked: 2, Lost: 2}},
		{"another card at the seq", []Ack{{12, "2001"}}, log, Result{Acked: 1, Wrong: 1}},
		{"denied at the seq", []Ack{{14, "2002"}}, log, Result{Acked: 1, Wrong: 1}},
		{"another event type at the seq", []Ack{{10, "2001"}}, log, Result{Acked: 1, Wrong: 1}},
		{"one seq acknowledged twice", []Ack{{11, "2001"}, {11, "2001"}}, log, Result{Acked: 2, Wrong: 1}},
		{"a hole in the log", []Ack{{11, "2001"}}, []Event{granted(11, "2001"), granted(13, "2001")}, Result{Acked: 1, Gaps: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.acks, tt.events)
			if got.Acked != tt.want.Acked || got.Lost != tt.want.Lost || got.Wrong != tt.want.Wrong || got.Gaps != tt.want.Gaps {
				t.Errorf("Compare() = %v, want %v (%q)", got, tt.want, got.Problems)
			}
			if got.OK() != tt.want.OK() || (got.OK() != (len(got.Problems) == 0)) {
				t.Errorf("Compare() OK = %v with problems %q, want OK %v", got.OK(), got.Problems, tt.want.OK())
			}
		})
	}
}

func TestClassify(t *testing.T) {
	refusal := "pintud: boltstore: open /mnt/data/pintu.db: state file is damaged: free list: page 9 is not a free list page (flags 0x2). Refusing to start: restore a backup of pintu.db (keep the damaged file for inspection), then start pintud again\n"
	tests := []struct {
		name   string
		exit   int
		output string
		want   string
	}{
		{"the refusal", 3, refusal, Refused},
		{"the refusal of a damaged file system", 3, "pintud: create state directory: mkdir /mnt/data: bad message: the file system holding the state directory is damaged. Refusing to start: repair it (fsck) or restore a backup of pintu.db onto a sound one, then start pintud again\n", Refused},
		{"a log set back behind its anchor", 3, "pintud: /mnt/data/pintu.db ends at seq 2745, behind its anchor: seq 2801 (hash 3f2a…) at 2026-11-29T10:00:00Z; 56 events are missing. Refusing to start: restore the newest backup of pintu.db (pintud -restore FILE -data DIR), or, to begin a new log on purpose, start once with pintud -init-new-log: its first event records this anchor\n", Refused},
		// In pintud's own words, so the test follows them if they change.
		{"an emptied log with its anchor", 3, "pintud: " + anchor.Missing("/mnt/data/pintu.db", "empty",
			anchor.Anchor{Log: strings.Repeat("36dc", 16), Site: "Pintu", Seq: 108, Hash: strings.Repeat("b35a", 16)}).Error() + "\n", Refused},
		{"a damaged anchor", 3, "pintud: anchor: /mnt/data/pintu.anchor is damaged: unexpected end of JSON input. Refusing to start: if pintu.db is the right log, delete pintu.anchor and start again (it is made again from the log, and the log records that); otherwise restore the newest backup of pintu.db\n", Refused},
		{"exit 3 that does not say it refuses", 3, "pintud: pintu.db: restore it\n", Failed},
		{"the refusal with another status", 1, refusal, Failed},
		{"exit 3 with two lines", 3, refusal + "more\n", Failed},
		{"exit 3 without the advice", 3, "pintud: something\n", Failed},
		{"a bbolt panic", 2, "panic: invalid freelist page: 66, page type is leaf\n\ngoroutine 1 [running]:\n", Panic},
		{"a panic caught and printed", 1, "pintud: panic: runtime error\n", Panic},
		{"a fatal error", 2, "fatal error: runtime: out of memory\n", Panic},
		{"another failure", 1, "pintud: boltstore: open /mnt/data/pintu.db: input/output error\n", Failed},
	}
	for _, tt := range tests {
		if got := Classify(tt.exit, tt.output); got != tt.want {
			t.Errorf("%s: Classify(%d, ...) = %q, want %q", tt.name, tt.exit, got, tt.want)
		}
	}
}
