package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/bundle"
	"github.com/pintu/pintu/controller/report"
	"github.com/pintu/pintu/controller/storetest"
)

// BenchmarkDossier makes the dossier of an archived visit with its alarm,
// as `pintuctl visit dossier` does (the fonts are parsed for every paper).
func BenchmarkDossier(b *testing.B) {
	s := newSite(b)
	s.day()
	v := s.visit("V0001")
	evs, err := report.VisitEvents(context.Background(), s.store, v)
	s.must(err)
	in := report.DossierInput{Site: "Bench", Visit: v, People: s.people(), Events: evs, Location: zone(b, "Asia/Jakarta"), Printed: s.clock.Now()}
	var size int
	for b.Loop() {
		pdf, err := report.Dossier(in)
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/visit")
	b.ReportMetric(float64(size)/1024, "KiB")
}

// heapPeak samples the live heap from a goroutine of its own until stop.
type heapPeak struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{done: make(chan struct{})}
	h.wg.Go(func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			h.peak = max(h.peak, sample[0].Value.Uint64())
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapPeak) stop() uint64 { close(h.done); h.wg.Wait(); return h.peak }

// BenchmarkBundle1M writes the signed bundle of a 1,000,000-event log in a
// bbolt file (filled without fsync), with 1,000 visits named by its
// events, then verifies it as verify-bundle does.
func BenchmarkBundle1M(b *testing.B) {
	const total, perCommit, visits = 1_000_000, 50_000, 1_000
	dir := b.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "pintu.db"), &boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var last controller.Event
	var vs []controller.Visit
	for n := 0; n < total; n += perCommit {
		evs := storetest.Chain(last, perCommit)
		for i := range evs {
			// Every thousandth event names one of the visits, so the bundle
			// carries their dossiers too; the chain is rehashed to stay whole.
			if evs[i].Seq%1000 == 0 {
				evs[i].Visit = fmt.Sprintf("V%04d", evs[i].Seq/1000)
			}
			evs[i].Prev = last.Hash
			if i > 0 {
				evs[i].Prev = evs[i-1].Hash
			}
			evs[i].Hash = evs[i].ComputeHash()
		}
		if err := st.Commit(controller.Change{Events: evs}); err != nil {
			b.Fatal(err)
		}
		last = evs[len(evs)-1]
	}
	for i := 1; i <= visits; i++ {
		at := storetest.EventTime(uint64(i * 1000))
		vs = append(vs, controller.Visit{ID: fmt.Sprintf("V%04d", i), VisitForm: controller.VisitForm{VisitorID: "p001", Purpose: "maintenance"},
			State: controller.StateArchived, Steps: []controller.StepRecord{{Step: 1, Actor: "p002", Started: at, At: at, Standard: 5 * time.Minute}}})
	}
	key, err := bundle.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	in := report.BundleInput{Site: "Bench", Log: st, Since: storetest.EventTime(1), Until: last.Time.Add(time.Second),
		Location: zone(b, "Asia/Jakarta"), Visits: vs, Created: last.Time}
	zipPath := filepath.Join(dir, "bundle.zip")
	runtime.GC()

	b.Run("write", func(b *testing.B) {
		heap := startHeapPeak()
		for b.Loop() {
			f, err := os.Create(zipPath)
			if err != nil {
				b.Fatal(err)
			}
			m, err := report.WriteBundle(context.Background(), f, key, in)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			if m.Events != total || len(m.Files) != 3+visits {
				b.Fatalf("bundle of %d events, %d files; want %d and %d", m.Events, len(m.Files), total, 3+visits)
			}
		}
		peak := heap.stop()
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		if fi, err := os.Stat(zipPath); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "bundle-MB")
		}
	})
	b.Run("verify", func(b *testing.B) {
		heap := startHeapPeak()
		for b.Loop() {
			f, err := os.Open(zipPath)
			if err != nil {
				b.Fatal(err)
			}
			fi, _ := f.Stat()
			if _, err := bundle.Verify(f, fi.Size(), key.Public()); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		peak := heap.stop()
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	})
}
