// Package ackcheck is the judgement of the power-cut test (.ci/powercut): it
// compares the taps pintud acknowledged before the power was cut with the
// audit log that survived, and says how a pintud that did not come up
// afterwards ended. The guest program (package powercut's command) runs it
// inside the check VM.
package ackcheck

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// An Ack is one tap pintud answered "granted" before the cut: the seq of the
// audit event it said records the decision, and the card tapped.
type Ack struct {
	Seq  uint64
	Card string
}

// ParseAcks reads the acknowledgements the host collected from the run VM's
// console: one "SEQ CARD" per line. The list reaches the check VM as a raw
// disk, so NUL padding after the text is ignored.
func ParseAcks(r io.Reader) ([]Ack, error) {
	var acks []Ack
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.Trim(sc.Text(), "\x00 \r")
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("acknowledgement line %d: %q, want SEQ CARD", n, line)
		}
		seq, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || seq == 0 {
			return nil, fmt.Errorf("acknowledgement line %d: seq %q", n, f[0])
		}
		acks = append(acks, Ack{Seq: seq, Card: f[1]})
	}
	return acks, sc.Err()
}

// Event is what the check needs of an audit event, as /v1/events gives it.
type Event struct {
	Seq      uint64 `json:"seq"`
	Type     string `json:"type"`
	Card     string `json:"card"`
	Decision string `json:"decision"`
}

// Result of comparing acknowledgements with the log.
type Result struct {
	Acked int // acknowledgements
	Lost  int // acknowledged seqs missing from the log
	Wrong int // acknowledged seqs whose event is not that granted tap, or acknowledged twice
	Gaps  int // holes in the log's seqs
	// Problems describes the first few lost, wrong or missing seqs.
	Problems []string
}

// OK is true when nothing acknowledged was lost or altered.
func (r Result) OK() bool { return r.Lost == 0 && r.Wrong == 0 && r.Gaps == 0 }

func (r Result) String() string {
	return fmt.Sprintf("acked=%d lost=%d wrong=%d gaps=%d", r.Acked, r.Lost, r.Wrong, r.Gaps)
}

const maxProblems = 10

// Compare checks every acknowledgement against events, a stretch of the log
// in seq order that covers the run (it may start later than seq 1): the
// acknowledged seq must be there, and be the access event of the card tapped,
// granted. Two acknowledgements of one seq mean one tap's record is gone. The
// stretch itself must have no holes.
func Compare(acks []Ack, events []Event) Result {
	r := Result{Acked: len(acks)}
	note := func(format string, args ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	for i := 1; i < len(events); i++ {
		if want := events[i-1].Seq + 1; events[i].Seq != want {
			r.Gaps++
			note("gap: seq %d follows %d", events[i].Seq, events[i-1].Seq)
		}
	}
	bySeq := make(map[uint64]Event, len(events))
	for _, e := range events {
		bySeq[e.Seq] = e
	}
	seen := make(map[uint64]bool, len(acks))
	sorted := slices.SortedFunc(slices.Values(acks), func(a, b Ack) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, a := range sorted {
		e, ok := bySeq[a.Seq]
		switch {
		case seen[a.Seq]:
			r.Wrong++
			note("seq %d acknowledged twice", a.Seq)
		case !ok:
			r.Lost++
			note("lost: seq %d (card %s)", a.Seq, a.Card)
		case e.Type != "access" || e.Card != a.Card || e.Decision != "granted":
			r.Wrong++
			note("wrong: seq %d is %s card=%q decision=%q, acknowledged as card %s granted", a.Seq, e.Type, e.Card, e.Decision, a.Card)
		}
		seen[a.Seq] = true
	}
	return r
}

// How pintud ended when it did not come up.
const (
	Refused = "refused" // exit 3 with its one-line refusal: what a damaged state file must give
	Panic   = "panic"   // a Go panic or fatal error: never acceptable
	Failed  = "failed"  // any other exit
)

// RefusedExit is pintud's exit status for a state file a person must deal
// with (see cmd/pintud's package comment).
const RefusedExit = 3

// Classify says how pintud ended, from its exit status and its output.
func Classify(exit int, output string) string {
	out := strings.TrimRight(output, "\n")
	switch {
	case exit == 2 || strings.Contains(out, "panic:") || strings.Contains(out, "fatal error:") ||
		strings.Contains(out, "goroutine "):
		return Panic
	case exit == RefusedExit && !strings.Contains(out, "\n") && strings.Contains(out, "pintu.db") &&
		strings.Contains(out, "Refusing to start: ") && strings.Contains(out, "restore "):
		// Every refusal names the file, says it refuses, and says how to
		// get going again: a backup to restore (a damaged file, a damaged
		// file system, a log set back behind its anchor) among the ways.
		return Refused
	}
	return Failed
}
