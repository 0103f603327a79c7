package report

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/bundle"
)

// ErrEmptyRange is a bundle asked for a time range without events.
var ErrEmptyRange = errors.New("no audit events in the range")

// BundleInput is what an export bundle is made from.
type BundleInput struct {
	Site         string
	Log          controller.EventLog
	Since, Until time.Time // since inclusive, until exclusive; both required
	Location     *time.Location
	People       []controller.Person
	Visits       []controller.Visit
	Lang         Lang      // of the dossiers and the read-me; default Indonesian
	Created      time.Time // stamped on the manifest and the files
}

// The files of a bundle besides those package bundle writes itself.
const (
	bundleCSV    = "events.csv"
	bundleReadme = "README.txt"
)

// WriteBundle writes the signed export bundle of in's range to w: the
// events as JSON lines, the same events as spreadsheet-safe CSV, the
// dossier of every visit that has an event in the range (built from the
// range's events), a read-me, and the signed manifest. The log is read
// three times (to find the range, for the JSON lines, for the CSV and the
// dossiers) and never held in memory. Nothing is written to w when the
// range holds no event: it returns ErrEmptyRange.
func WriteBundle(ctx context.Context, w io.Writer, key *bundle.Key, in BundleInput) (bundle.Manifest, error) {
	if in.Location == nil {
		in.Location = time.UTC
	}
	if in.Lang == "" {
		in.Lang = Indonesian
	}
	if in.Since.IsZero() || in.Until.IsZero() || !in.Until.After(in.Since) {
		return bundle.Manifest{}, fmt.Errorf("report: bundle: the range needs since before until")
	}
	q := controller.EventQuery{Since: in.Since, Until: in.Until}
	var first controller.Event
	err := in.Log.Events(q, func(e controller.Event) error { first = e; return errDone })
	if err != nil && !errors.Is(err, errDone) {
		return bundle.Manifest{}, fmt.Errorf("report: bundle: read the log: %w", err)
	}
	if first.Seq == 0 {
		return bundle.Manifest{}, ErrEmptyRange
	}
	q.FromSeq = first.Seq

	bw := bundle.NewWriter(w, key, in.Created)
	m := bundle.Manifest{Site: in.Site, Created: in.Created, Since: in.Since, Until: in.Until,
		TimeZone: in.Location.String(), FirstSeq: first.Seq, FirstPrev: first.Prev}

	// The events, exactly as hashed, and the visits they name.
	f, err := bw.Create(bundle.EventsName)
	if err != nil {
		return m, err
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	named := map[string]bool{}
	err = eachEvent(ctx, in.Log, q, func(e controller.Event) error {
		e.Time = e.Time.UTC()
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %d: %w", e.Seq, err)
		}
		buf.Write(b)
		if err := buf.WriteByte('\n'); err != nil {
			return err
		}
		m.Events++
		m.LastSeq, m.LastHash = e.Seq, e.Hash
		if e.Visit != "" {
			named[e.Visit] = true
		}
		return nil
	})
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		return m, fmt.Errorf("report: bundle: %s: %w", bundle.EventsName, err)
	}
	q.ToSeq = m.LastSeq // events committed meanwhile are not part of this bundle

	// The CSV, gathering each visit's events for its dossier on the way.
	f, err = bw.Create(bundleCSV)
	if err != nil {
		return m, err
	}
	cw, err := NewCSV(f, CSVOptions{Location: in.Location, People: in.People, Visits: in.Visits})
	if err != nil {
		return m, err
	}
	stays := newStayIndex(in.Visits, named)
	err = eachEvent(ctx, in.Log, q, func(e controller.Event) error {
		stays.add(e)
		return cw.Write(e)
	})
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		return m, fmt.Errorf("report: bundle: %s: %w", bundleCSV, err)
	}

	for _, v := range stays.visits {
		pdf, err := Dossier(DossierInput{Site: in.Site, Visit: v, People: in.People, Events: stays.events[v.ID],
			Location: in.Location, Lang: in.Lang, Printed: in.Created})
		if err != nil {
			return m, fmt.Errorf("report: bundle: dossier of %s: %w", v.ID, err)
		}
		f, err := bw.Create("visits/" + v.ID + ".pdf")
		if err != nil {
			return m, err
		}
		if _, err := f.Write(pdf); err != nil {
			return m, fmt.Errorf("report: bundle: dossier of %s: %w", v.ID, err)
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
	}

	f, err = bw.Create(bundleReadme)
	if err != nil {
		return m, err
	}
	if _, err := io.WriteString(f, readme(in.Lang, m)); err != nil {
		return m, err
	}
	return bw.Close(m)
}

// eachEvent calls fn for the events of q, checking ctx as it goes.
func eachEvent(ctx context.Context, log controller.EventLog, q controller.EventQuery, fn func(controller.Event) error) error {
	n := 0
	return log.Events(q, func(e controller.Event) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return fn(e)
	})
}

// stayIndex finds the visits an event belongs to without trying every
// visit: by the visit it names, or by the day it happened among the visits
// whose stay spans that day.
type stayIndex struct {
	visits []controller.Visit // those with an event in the range, by id
	byID   map[string]int
	byDay  map[int64][]int
	events map[string][]controller.Event
}

// maxStayDays bounds how many days one stay is indexed under; a visit
// still "inside" after that long is an overstay the alarms already show.
const maxStayDays = 31

func newStayIndex(all []controller.Visit, named map[string]bool) *stayIndex {
	x := &stayIndex{byID: map[string]int{}, byDay: map[int64][]int{}, events: map[string][]controller.Event{}}
	for _, v := range all {
		if named[v.ID] {
			x.visits = append(x.visits, v)
		}
	}
	slices.SortFunc(x.visits, func(a, b controller.Visit) int { return cmpString(a.ID, b.ID) })
	for i, v := range x.visits {
		x.byID[v.ID] = i
		if v.EnteredAt.IsZero() {
			continue
		}
		end := v.ExitedAt
		if end.IsZero() {
			end = v.EnteredAt.Add(maxStayDays * 24 * time.Hour)
		}
		for d := day(v.EnteredAt); d <= day(end) && d < day(v.EnteredAt)+maxStayDays; d++ {
			x.byDay[d] = append(x.byDay[d], i)
		}
	}
	return x
}

func day(t time.Time) int64 { return t.Unix() / 86400 }

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (x *stayIndex) add(e controller.Event) {
	if i, ok := x.byID[e.Visit]; ok && Covers(x.visits[i], e) {
		x.events[e.Visit] = append(x.events[e.Visit], e)
		return
	}
	if e.Visit != "" {
		return
	}
	for _, i := range x.byDay[day(e.Time)] {
		if v := x.visits[i]; Covers(v, e) {
			x.events[v.ID] = append(x.events[v.ID], e)
		}
	}
}

// readme tells whoever opens the bundle what is in it and how to check it.
func readme(lang Lang, m bundle.Manifest) string {
	return lang.f(text{`Bundel ekspor log audit Pintu
Lokasi: %s
Rentang: %s sampai %s (UTC)
Peristiwa: seq %d sampai %d (%d peristiwa)

Isi:
  events.jsonl    peristiwa audit, satu objek JSON per baris, persis seperti di-hash
  events.csv      peristiwa yang sama untuk spreadsheet (lihat README Pintu: sel yang
                  diawali = + - @ tab CR atau ' diberi tanda ' di depannya)
  visits/*.pdf    berkas kunjungan (dossier) setiap kunjungan dalam rentang ini
  SHA256SUMS      SHA-256 setiap berkas
  manifest.json   lokasi, rentang, seq, hash, SHA-256 setiap berkas
  *.minisig       tanda tangan Ed25519 kunci lokasi (format minisign)

Pemeriksaan dengan alat standar (kunci publik dari "pintuctl site key"):
  minisign -Vm manifest.json -p site.pub
  minisign -Vm SHA256SUMS -p site.pub && sha256sum -c SHA256SUMS
Pemeriksaan lengkap, termasuk rantai hash, tanpa pintud:
  pintuctl verify-bundle BUNDEL.zip --pub site.pub
`, `Pintu audit log export bundle
Site: %s
Range: %s to %s (UTC)
Events: seq %d to %d (%d events)

Contents:
  events.jsonl    the audit events, one JSON object a line, exactly as hashed
  events.csv      the same events for spreadsheets (see Pintu's README: a cell that
                  starts with = + - @ tab CR or ' has a ' put in front)
  visits/*.pdf    the dossier of every visit in the range
  SHA256SUMS      every file's SHA-256
  manifest.json   site, range, seqs, hashes, every file's SHA-256
  *.minisig       Ed25519 signatures by the site key (minisign format)

Check with standard tools (the public key from "pintuctl site key"):
  minisign -Vm manifest.json -p site.pub
  minisign -Vm SHA256SUMS -p site.pub && sha256sum -c SHA256SUMS
Check everything, the hash chain included, without pintud:
  pintuctl verify-bundle BUNDLE.zip --pub site.pub
`}, m.Site, m.Since.UTC().Format(time.RFC3339), m.Until.UTC().Format(time.RFC3339), m.FirstSeq, m.LastSeq, m.Events)
}
