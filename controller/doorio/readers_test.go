package doorio_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/pintu/pintu/controller/doorio"
)

// faults is a Health that records what it is told.
type faults struct {
	mu   sync.Mutex
	errs []error
}

func (f *faults) Fault(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

func (f *faults) Discarded(uint64, string) {}

func (f *faults) get() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}

// TestUIDReadersRetry checks that an RC522 and a PN532 that never answer
// are retried every Retry, reported as faults, and stop with their context.
func TestUIDReadersRetry(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    func(opens *int) doorio.CardReader
	}{
		{"rc522", func(opens *int) doorio.CardReader {
			return &doorio.RC522{Name: "rc522 fake", Port: func() (spi.PortCloser, error) {
				*opens++
				if *opens == 2 {
					return nil, errors.New("no such port")
				}
				return &spitest.Playback{Playback: conntest.Playback{DontPanic: true}}, nil
			}}
		}},
		{"pn532", func(opens *int) doorio.CardReader {
			return &doorio.PN532{Name: "pn532 fake", Bus: &i2ctest.Playback{DontPanic: true}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opens := 0
				r := tt.r(&opens)
				h := &faults{}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- r.ReadCards(ctx, make(chan doorio.Card), h) }()
				time.Sleep(3500 * time.Millisecond)
				cancel()
				if err := <-done; err != nil {
					t.Errorf("ReadCards = %v, want nil after cancel", err)
				}
				got := h.get()
				if len(got) < 3 {
					t.Fatalf("faults = %v, want one per attempt, at least 3 in 3.5s", got)
				}
				for _, err := range got {
					if err == nil {
						t.Errorf("faults = %v, want no recovery from a reader that never answers", got)
					}
				}
			})
		})
	}
}
