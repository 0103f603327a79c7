package main

import (
	"log/slog"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/metrics"
	"github.com/pintu/pintu/controller/mqttlink"
)

// newCollector wires the metrics collector to what pintud has: the store's
// file, the MQTT link and its outbox (when configured), the readers' counts
// from the hardware glue and the scheduled backups. Create it before the
// controller's Run, so that the start is counted.
func newCollector(ctrl *controller.Controller, store *boltstore.Store, link *mqttlink.Link, hw *doorio.Hardware,
	backups *scheduledBackups, timings *metrics.Timings, log *slog.Logger) (*metrics.Collector, error) {
	opts := metrics.Options{StorePath: store.Path(), Logger: log, Timings: timings}
	if link != nil {
		opts.MQTT, opts.Outbox = link, store
	}
	if hw != nil {
		opts.Readers = func() []metrics.ReaderCounts { return readerCounts(hw.Stats()) }
	}
	if backups != nil {
		opts.LastBackup = backups.LastSuccess
	}
	return metrics.New(ctrl, opts)
}

// readerCounts converts the hardware glue's counts.
func readerCounts(stats []doorio.ReaderStats) []metrics.ReaderCounts {
	out := make([]metrics.ReaderCounts, len(stats))
	for i, s := range stats {
		out[i] = metrics.ReaderCounts{Door: s.Door, Reader: s.Reader, Reads: s.Reads, Faults: s.Faults, Discarded: s.Discarded, Down: s.Down}
	}
	return out
}
