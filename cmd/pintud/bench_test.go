package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/memstore"
	"github.com/pintu/pintu/internal/hwtest"
)

// BenchmarkWiegandToRelay measures, through pintud's wiring on fake
// hardware, the time from the last edge of a Wiegand frame to the relay
// pin's unlock write: the decoder's end of frame, the controller's
// decision, the audit commit and the relay driver. Staff tap the entry and
// exit readers in turn; the door is opened and closed after each grant to
// relock it. Latencies are reported as p50 and p99 in microseconds.
func BenchmarkWiegandToRelay(b *testing.B) {
	for _, bc := range []struct {
		store    string
		interval time.Duration
	}{
		{"mem", 2 * time.Millisecond},
		{"mem", 900 * time.Microsecond},
		{"bolt", 2 * time.Millisecond},
	} {
		b.Run(fmt.Sprintf("store=%s/interval=%s", bc.store, bc.interval), func(b *testing.B) {
			var store controller.Store = memstore.New()
			if bc.store == "bolt" {
				bs, err := boltstore.Open(filepath.Join(b.TempDir(), "pintu.db"), nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { bs.Close() })
				store = bs
			}
			writes := make(chan time.Time, 16)
			s := startStation(b, fmt.Sprintf(hwConfig, false, false), store, func(pin string, l gpio.Level) {
				if pin == "GPIO17" && l == gpio.High {
					writes <- time.Now()
				}
			})
			seed(b, s.ctrl)
			srcs := []*hwtest.EdgeSource{s.res.Source(b, "GPIO5"), s.res.Source(b, "GPIO12")}
			c := card(b, 1004)
			lat := make([]time.Duration, 0, b.N)
			ctx := b.Context()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				srcs[i%2].Send(c, bc.interval)
				w := <-writes
				lat = append(lat, w.Sub(start))
				if r := <-s.taps; r.Result.Decision != controller.Granted {
					b.Fatalf("tap %d = %+v, want granted", i, r)
				}
				if err := s.ctrl.SetContact(ctx, "server-room", true); err != nil {
					b.Fatal(err)
				}
				if err := s.ctrl.SetContact(ctx, "server-room", false); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
			}
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
