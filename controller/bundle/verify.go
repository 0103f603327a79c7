package bundle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/pintu/pintu/controller"
)

// Problem is what verification found wrong, and where: a file of the
// bundle, or an event of its log.
type Problem struct {
	Where string // "manifest.json", "events.jsonl", "events.jsonl: event seq 12", ...
	Err   error
}

func (p *Problem) Error() string { return p.Where + ": " + p.Err.Error() }
func (p *Problem) Unwrap() error { return p.Err }

func problem(where string, format string, args ...any) error {
	return &Problem{Where: where, Err: fmt.Errorf(format, args...)}
}

// ErrDigest is a file whose size or SHA-256 differs from the manifest's.
var ErrDigest = errors.New("does not match the manifest's SHA-256")

// maxSmall bounds the files read whole (manifest, sums, signatures).
const maxSmall = 16 << 20

// Verify checks the bundle in r (size bytes) against the site's public
// key, offline: both signatures, that the archive holds exactly the files
// the manifest lists, every file's size and SHA-256, and the hash chain of
// the events from the manifest's first_prev to its last_hash. It returns
// the manifest, or the first problem found.
func Verify(r io.ReaderAt, size int64, pub PublicKey) (Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Manifest{}, problem("bundle", "not a complete zip archive (truncated, or not a Pintu bundle): %v", err)
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := entries[f.Name]; dup {
			return Manifest{}, problem(f.Name, "appears twice in the archive")
		}
		entries[f.Name] = f
	}
	small := func(name string) ([]byte, error) {
		f, ok := entries[name]
		if !ok {
			return nil, problem(name, "missing from the bundle")
		}
		rc, err := f.Open()
		if err != nil {
			return nil, problem(name, "%v", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxSmall+1))
		if err != nil {
			return nil, problem(name, "read: %v", err)
		}
		if len(b) > maxSmall {
			return nil, problem(name, "larger than %d bytes", maxSmall)
		}
		return b, nil
	}

	mb, err := small(ManifestName)
	if err != nil {
		return Manifest{}, err
	}
	msig, err := small(ManifestName + SigExt)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := pub.verify(mb, msig); err != nil {
		return Manifest{}, &Problem{Where: ManifestName + SigExt, Err: err}
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, problem(ManifestName, "%v", err)
	}
	if m.Format != Format {
		return m, problem(ManifestName, "format %q, want %q", m.Format, Format)
	}

	sb, err := small(SumsName)
	if err != nil {
		return m, err
	}
	ssig, err := small(SumsName + SigExt)
	if err != nil {
		return m, err
	}
	if _, err := pub.verify(sb, ssig); err != nil {
		return m, &Problem{Where: SumsName + SigExt, Err: err}
	}
	if !bytes.Equal(sb, sums(m.Files)) {
		return m, problem(SumsName, "does not list the manifest's files and digests")
	}

	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	for name := range entries {
		if !listed[name] && !slices.Contains(reserved, name) {
			return m, problem(name, "not listed in the manifest")
		}
	}
	if !listed[EventsName] {
		return m, problem(ManifestName, "lists no %s", EventsName)
	}
	for _, f := range m.Files {
		if err := checkFile(entries, f, m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// checkFile checks one file's size and digest, and the chain of the
// events file as it streams past.
func checkFile(entries map[string]*zip.File, f File, m Manifest) error {
	zf, ok := entries[f.Name]
	if !ok {
		return problem(f.Name, "listed in the manifest but missing from the bundle")
	}
	rc, err := zf.Open()
	if err != nil {
		return problem(f.Name, "%v", err)
	}
	defer rc.Close()
	h := sha256.New()
	var n int64
	var chainErr error
	if f.Name == EventsName {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := checkChain(pr, m)
			io.Copy(io.Discard, pr) // read to the end, so the digest covers the whole file
			done <- err
		}()
		n, err = io.Copy(io.MultiWriter(h, pw), rc)
		pw.CloseWithError(err)
		chainErr = <-done
	} else {
		n, err = io.Copy(h, rc)
	}
	switch {
	case err != nil:
		return problem(f.Name, "read: %v", err)
	case n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256:
		if chainErr != nil { // say which event, too
			return &Problem{Where: f.Name, Err: fmt.Errorf("%w; %v", ErrDigest, chainErr)}
		}
		return &Problem{Where: f.Name, Err: ErrDigest}
	}
	return chainErr
}

// checkChain reads events one a line and checks that they continue the
// log from m.FirstPrev, in sequence, each hash recomputing from its event,
// inside the manifest's time range, up to m.LastSeq and m.LastHash.
func checkChain(r io.Reader, m Manifest) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	next, prev, count := m.FirstSeq, m.FirstPrev, uint64(0)
	for sc.Scan() {
		line := sc.Bytes()
		var e controller.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return problem(EventsName, "line %d: %v", count+1, err)
		}
		where := fmt.Sprintf("%s: event seq %d", EventsName, e.Seq)
		switch {
		case e.Seq != next:
			return problem(EventsName, "line %d: event seq %d, want %d (an event is missing or out of order)", count+1, e.Seq, next)
		case e.Prev != prev:
			return problem(where, "prev does not match the hash of the event before it")
		case e.ComputeHash() != e.Hash:
			return problem(where, "hash does not match the event's contents (the event was changed)")
		case !m.Since.IsZero() && e.Time.Before(m.Since), !m.Until.IsZero() && !e.Time.Before(m.Until):
			return problem(where, "time %s is outside the manifest's range", e.Time.UTC().Format("2006-01-02T15:04:05.999999999Z"))
		}
		canon, err := json.Marshal(e)
		if err != nil || !bytes.Equal(canon, line) {
			return problem(where, "line is not the event's canonical JSON")
		}
		prev, next, count = e.Hash, next+1, count+1
	}
	if err := sc.Err(); err != nil {
		return problem(EventsName, "read: %v", err)
	}
	switch {
	case count != m.Events:
		return problem(EventsName, "%d events, the manifest says %d", count, m.Events)
	case count > 0 && next-1 != m.LastSeq:
		return problem(EventsName, "last event is seq %d, the manifest says %d", next-1, m.LastSeq)
	case prev != m.LastHash:
		return problem(EventsName, "last hash %s, the manifest says %s", prev, m.LastHash)
	}
	return nil
}
