package boltstore

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

// reportLatency reports the median and 99th percentile of durs (nearest
// rank) as the metrics p50-ns and p99-ns.
func reportLatency(b *testing.B, durs []time.Duration) {
	b.Helper()
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(durs))+0.999999) - 1
		return durs[min(max(i, 0), len(durs)-1)]
	}
	b.ReportMetric(float64(rank(0.50)), "p50-ns")
	b.ReportMetric(float64(rank(0.99)), "p99-ns")
}

// BenchmarkBareCommit measures bbolt alone: one key put in one fsynced
// Update, the floor under every decision the controller commits.
func BenchmarkBareCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("bench")
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(bucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 350) // about one encoded event
	var durs []time.Duration
	for seq := uint64(1); b.Loop(); seq++ {
		start := time.Now()
		err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(seqKey(seq), value) })
		durs = append(durs, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	reportLatency(b, durs)
}

// BenchmarkCommit measures Store.Commit of one event, as the controller does
// for a card read.
func BenchmarkCommit(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "commit.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var last controller.Event
	var durs []time.Duration
	for b.Loop() {
		evs := storetest.Chain(last, 1)
		last = evs[0]
		start := time.Now()
		err := s.Commit(controller.Change{Events: evs})
		durs = append(durs, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	reportLatency(b, durs)
}

// BenchmarkExport streams a log of a million events through Events, as an
// audit export does, and reports the rate and the peak heap while streaming.
func BenchmarkExport(b *testing.B) {
	const total = 1_000_000
	path := filepath.Join(b.TempDir(), "export.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	populate(b, s, total)
	runtime.GC() // forget the set-up's garbage before measuring

	heap := startHeapSampler()
	runs := 0
	for b.Loop() {
		var n uint64
		if err := s.Events(controller.EventQuery{}, func(e controller.Event) error {
			n++
			if e.Seq != n {
				b.Fatalf("Events() gave seq %d as event %d", e.Seq, n)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != total {
			b.Fatalf("Events() gave %d events, want %d", n, total)
		}
		runs++
	}
	peak := heap.stop()

	b.ReportMetric(float64(total*runs)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
	// The whole log decoded would be several hundred MB; streaming keeps a
	// batch at a time.
	const limit = 64 << 20
	if peak > limit {
		b.Errorf("peak heap while streaming = %d MB, want under %d MB", peak>>20, limit>>20)
	}
}

// populate appends events 1..total to s's log in large transactions. Every
// event is a copy of one realistic event but for its seq (the key: the
// encoding does not repeat it): building a real chain of a million events
// takes longer than the export being measured. The copies decode at the
// same cost; they do not form a valid hash chain.
func populate(b *testing.B, s *Store, total uint64) {
	b.Helper()
	tmpl := storetest.Chain(controller.Event{}, 1)[0]
	enc := encodeEvent(tmpl, tmpl.Prev)
	const perTx = 50_000
	for first := uint64(1); first <= total; first += perTx {
		if err := s.db.Update(func(tx *bolt.Tx) error {
			events := tx.Bucket(bucketEvents)
			events.FillPercent = 1
			for seq := first; seq < first+perTx && seq <= total; seq++ {
				if err := events.Put(seqKey(seq), enc); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// heapSampler records the peak of the live heap from a goroutine of its own.
type heapSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64 // written by the goroutine, read after it stops
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Go(func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			h.peak = max(h.peak, sample[0].Value.Uint64())
			select {
			case <-h.done:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

// stop stops the sampler, waits for it and returns the peak it saw.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.peak
}
