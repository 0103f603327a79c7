package bundle

import (
	"archive/zip"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The names inside a bundle.
const (
	// Format names this layout in the manifest.
	Format = "pintu-bundle/1"
	// ManifestName is the signed manifest; ManifestName+SigExt its
	// signature.
	ManifestName = "manifest.json"
	// SumsName lists every file's SHA-256 for `sha256sum -c`; it is signed
	// too, so coreutils and minisign alone check every file.
	SumsName = "SHA256SUMS"
	// SigExt ends a minisign signature file.
	SigExt = ".minisig"
	// EventsName holds the audit events, one JSON object a line, exactly
	// as their hashes were computed (see the package doc).
	EventsName = "events.jsonl"
)

// Manifest says what a bundle holds. It is signed with the site key.
type Manifest struct {
	Format   string    `json:"format"`
	Site     string    `json:"site"`
	KeyID    string    `json:"key_id"`
	Created  time.Time `json:"created"`
	Since    time.Time `json:"since"` // the time range asked for: since inclusive,
	Until    time.Time `json:"until"` // until exclusive
	TimeZone string    `json:"time_zone"`
	FirstSeq uint64    `json:"first_seq"`
	LastSeq  uint64    `json:"last_seq"`
	Events   uint64    `json:"events"`
	// FirstPrev is the hash of the event before FirstSeq (empty when
	// FirstSeq is 1): where the bundle's chain hangs on the log's.
	FirstPrev string `json:"first_prev"`
	LastHash  string `json:"last_hash"`
	Files     []File `json:"files"`
}

// File is one file of a bundle and its digest.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// trusted is the manifest's one-line summary that minisign prints as the
// verified "trusted comment".
func (m Manifest) trusted() string {
	return fmt.Sprintf("pintu bundle site=%s seq=%d-%d events=%d last_hash=%s",
		strconv.Quote(m.Site), m.FirstSeq, m.LastSeq, m.Events, m.LastHash)
}

// sums is the SHA256SUMS file for files, in the format of sha256sum.
func sums(files []File) []byte {
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "%s  %s\n", f.SHA256, f.Name)
	}
	return []byte(b.String())
}

// reserved are the names the writer writes itself.
var reserved = []string{ManifestName, ManifestName + SigExt, SumsName, SumsName + SigExt}

// Writer writes a bundle: Create each file in turn, then Close with the
// manifest. Files are streamed and hashed as they are written; nothing is
// held in memory.
type Writer struct {
	zw       *zip.Writer
	key      *Key
	modified time.Time
	files    []File
	cur      *fileWriter
	done     bool
}

type fileWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	name string
}

func (f *fileWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.h.Write(p[:n])
	f.n += int64(n)
	return n, err
}

// NewWriter starts a bundle on w, signed with key; modified is the time
// stamped on its entries.
func NewWriter(w io.Writer, key *Key, modified time.Time) *Writer {
	zw := zip.NewWriter(w)
	// The fastest deflate level: event logs shrink about tenfold at it,
	// and a Raspberry Pi has little CPU to spare.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return &Writer{zw: zw, key: key, modified: modified.UTC()}
}

// Create starts the file name; the file before it is finished.
func (w *Writer) Create(name string) (io.Writer, error) {
	if w.done {
		return nil, errors.New("bundle: writer closed")
	}
	if name == "" || path.Clean(name) != name || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "..") || slices.Contains(reserved, name) {
		return nil, fmt.Errorf("bundle: bad file name %q", name)
	}
	if slices.ContainsFunc(w.files, func(f File) bool { return f.Name == name }) || (w.cur != nil && w.cur.name == name) {
		return nil, fmt.Errorf("bundle: file %q twice", name)
	}
	w.finish()
	zf, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: w.modified})
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", name, err)
	}
	w.cur = &fileWriter{w: zf, h: sha256.New(), name: name}
	return w.cur, nil
}

func (w *Writer) finish() {
	if w.cur != nil {
		w.files = append(w.files, File{Name: w.cur.name, Size: w.cur.n, SHA256: hex.EncodeToString(w.cur.h.Sum(nil))})
		w.cur = nil
	}
}

func (w *Writer) raw(name string, b []byte) error {
	zf, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: w.modified})
	if err == nil {
		_, err = zf.Write(b)
	}
	if err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	return nil
}

// Close finishes the last file, writes SHA256SUMS and the manifest m (its
// Format, KeyID and Files filled in), each with its signature, and ends
// the archive. It returns the manifest as written.
func (w *Writer) Close(m Manifest) (Manifest, error) {
	if w.done {
		return Manifest{}, errors.New("bundle: writer closed")
	}
	w.finish()
	w.done = true
	m.Format, m.KeyID, m.Files = Format, w.key.pub.IDString(), w.files
	m.Created, m.Since, m.Until = m.Created.UTC(), m.Since.UTC(), m.Until.UTC()
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("bundle: encode manifest: %w", err)
	}
	mb = append(mb, '\n')
	sb := sums(m.Files)
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{SumsName, sb},
		{SumsName + SigExt, w.key.sign(sb, m.trusted())},
		{ManifestName, mb},
		{ManifestName + SigExt, w.key.sign(mb, m.trusted())},
	} {
		if err := w.raw(f.name, f.b); err != nil {
			return Manifest{}, err
		}
	}
	if err := w.zw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("bundle: finish archive: %w", err)
	}
	return m, nil
}
