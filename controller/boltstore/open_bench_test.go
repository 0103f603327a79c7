package boltstore

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpen opens and closes a file holding a million events with the
// page cache warm: the cost of the check before bbolt reads the file (meta
// pages, free list, every branch page and the newest leaf of the log; see
// open.go), which pintud pays at every start. BenchmarkCheckPages is the
// whole page walk the background check makes.
func BenchmarkOpen(b *testing.B) {
	const total = 1_000_000
	path := filepath.Join(b.TempDir(), "open.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	populate(b, s, total)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

// BenchmarkCheckPages walks every page of a file holding a million events,
// as the background integrity check does once a pass.
func BenchmarkCheckPages(b *testing.B) {
	const total = 1_000_000
	path := filepath.Join(b.TempDir(), "pages.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	populate(b, s, total)
	for b.Loop() {
		if err := s.CheckPages(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/check")
}
