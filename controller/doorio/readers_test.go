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
	mu       sync.Mutex
	errs     []error
	discards []string
}

func (f *faults) Fault(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

func (f *faults) Discarded(n uint64, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.discards = append(f.discards, why)
	}
}

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

// pn532Exchange is one PN532 command on I2C without IRQ: the command frame
// written, a ready status byte, the ACK, a ready status byte, the answer in
// a buffer of n bytes.
func pn532Exchange(cmd, answer []byte, n int) []i2ctest.IO {
	ack := []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	buf := make([]byte, n)
	buf[0] = 0x01
	copy(buf[1:], answer)
	return []i2ctest.IO{{Addr: 0x24, W: cmd}, {Addr: 0x24, R: []byte{0x01}}, {Addr: 0x24, R: ack}, {Addr: 0x24, R: []byte{0x01}}, {Addr: 0x24, R: buf}}
}

// TestCardErrorsDiscarded: a card the PN532 finds but the driver cannot
// accept (here a 5-byte UID) reaches Health as a discarded read, not as a
// reader fault; the reader stays up.
func TestCardErrorsDiscarded(t *testing.T) {
	var ops []i2ctest.IO
	for _, x := range [][2][]byte{
		{{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}, {0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}},
		{{0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x00, 0x01, 0x16, 0x00}, {0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}},
		{{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x32, 0x05, 0xFF, 0x01, 0x01, 0xF4, 0x00}, {0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x33, 0xF8, 0x00}},
	} {
		n := 1 + 7 + 2 + 4
		if x[0][6] != 0x02 {
			n = 1 + 7 + 2
		}
		ops = append(ops, pn532Exchange(x[0], x[1], n)...)
	}
	// InListPassiveTarget finds a card with a 5-byte UID: D5 4B 01 01 0044 00 05 0102030405.
	ans := []byte{0xD5, 0x4B, 0x01, 0x01, 0x00, 0x44, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05}
	sum := 0
	for _, c := range ans {
		sum += int(c)
	}
	frame := append([]byte{0x00, 0x00, 0xFF, byte(len(ans)), byte(-len(ans))}, ans...)
	frame = append(frame, byte(-sum), 0x00)
	ops = append(ops, pn532Exchange([]byte{0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00}, frame, 1+7+2+57)...)
	synctest.Test(t, func(t *testing.T) {
		r := &doorio.PN532{Name: "pn532 test", Bus: &i2ctest.Playback{Ops: ops, DontPanic: true}}
		h := &faults{}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- r.ReadCards(ctx, make(chan doorio.Card), h) }()
		time.Sleep(20 * time.Millisecond) // init (0-12 ms) and the one poll of the transcript (12-16 ms)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ReadCards() = %v", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		want := "pn532: in list passive target: unsupported target: uid length 5, not 4, 7 or 10"
		if len(h.discards) != 1 || h.discards[0] != want {
			t.Errorf("Discarded got %q, want [%q]", h.discards, want)
		}
		if len(h.errs) != 1 || h.errs[0] != nil {
			t.Errorf("Fault got %v, want only the nil of a working reader", h.errs)
		}
	})
}
