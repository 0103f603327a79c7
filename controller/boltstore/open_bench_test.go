package boltstore

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpen opens and closes a file holding a million events with the
// page cache warm: the cost of the check that reads every page before bbolt
// does (see open.go), which pintud pays at every start.
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
