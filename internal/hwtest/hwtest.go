// Package hwtest holds fakes of door hardware for tests and benchmarks: a
// Wiegand edge source the test feeds with frames, a GPIO pin that records
// every level written to it, and NewOnPlayback, which builds a driver on a
// recorded bus transcript and feeds its IRQ pin. They stand in for the
// kernel, so the real drivers and decoders run above them.
package hwtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/pintu/pintu/drivers/wiegand"
)

// EdgeSource is a wiegand.EdgeSource fed by Send. Its clock is the time
// since it was made, so inside a testing/synctest bubble it is the
// bubble's fake clock.
type EdgeSource struct {
	Name string
	t0   time.Time
	ch   chan []wiegand.Edge
	quit chan struct{}
	once sync.Once

	mu      sync.Mutex
	seq     uint64
	fail    error
	pending []wiegand.Edge // read by ReadEdges's caller only
}

// NewEdgeSource returns an open source named name.
func NewEdgeSource(name string) *EdgeSource {
	return &EdgeSource{Name: name, t0: time.Now(), ch: make(chan []wiegand.Edge), quit: make(chan struct{})}
}

func (s *EdgeSource) String() string { return s.Name }

// Now is the source's clock.
func (s *EdgeSource) Now() time.Duration { return time.Since(s.t0) }

// Edges returns the edges of c's frame, one every interval, the last one
// at last.
func (s *EdgeSource) Edges(c wiegand.Card, interval, last time.Duration) []wiegand.Edge {
	s.mu.Lock()
	defer s.mu.Unlock()
	es := make([]wiegand.Edge, c.Bits)
	for i := range es {
		s.seq++
		es[i] = wiegand.Edge{
			Time: last - time.Duration(c.Bits-1-i)*interval,
			Bit:  uint8(c.Raw >> (c.Bits - 1 - i) & 1),
			Seq:  s.seq,
		}
	}
	return es
}

// Send delivers c's frame as if its last bit had just arrived, with bits
// interval apart, and returns the time of that last edge on the source's
// clock. It waits until the reader takes the edges; it returns early if the
// source is closed.
func (s *EdgeSource) Send(c wiegand.Card, interval time.Duration) time.Duration {
	last := s.Now()
	s.SendEdges(s.Edges(c, interval, last))
	return last
}

// SendEdges delivers es as one batch.
func (s *EdgeSource) SendEdges(es []wiegand.Edge) {
	select {
	case s.ch <- es:
	case <-s.quit:
	}
}

// Fail makes the pending or next ReadEdges return err, as a reader whose
// lines were lost would.
func (s *EdgeSource) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
	s.SendEdges(nil)
}

// ReadEdges implements wiegand.EdgeSource.
func (s *EdgeSource) ReadEdges(ctx context.Context, buf []wiegand.Edge, until time.Duration) (int, error) {
	for len(s.pending) == 0 {
		var timeout <-chan time.Time
		if until != 0 {
			d := until - s.Now()
			if d <= 0 {
				return 0, nil
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case es := <-s.ch:
			s.mu.Lock()
			err := s.fail
			s.fail = nil
			s.mu.Unlock()
			if err != nil {
				return 0, err
			}
			s.pending = es
		case <-timeout:
			return 0, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.quit:
			return 0, fmt.Errorf("hwtest: %s: %w", s.Name, wiegand.ErrClosed)
		}
	}
	n := copy(buf, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// Close implements wiegand.EdgeSource.
func (s *EdgeSource) Close() error {
	s.once.Do(func() { close(s.quit) })
	return nil
}

// Write is one level written to a Pin.
type Write struct {
	Level gpio.Level
	At    time.Time
}

// Pin is a gpiotest.Pin that records every level written with Out, and
// calls OnOut, if set, after each.
type Pin struct {
	*gpiotest.Pin
	OnOut func(gpio.Level)

	mu     sync.Mutex
	writes []Write
}

// NewPin returns a pin named name, with an edge channel so that it can be
// an input with edge detection.
func NewPin(name string, num int) *Pin {
	return &Pin{Pin: &gpiotest.Pin{N: name, Num: num, EdgesChan: make(chan gpio.Level, 16)}}
}

// Out implements gpio.PinOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.writes = append(p.writes, Write{l, time.Now()})
	on := p.OnOut
	p.mu.Unlock()
	err := p.Pin.Out(l)
	if on != nil {
		on(l)
	}
	return err
}

// Writes returns the levels written so far, oldest first.
func (p *Pin) Writes() []Write {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.writes)
}

// Levels returns the levels written so far, oldest first.
func (p *Pin) Levels() []gpio.Level {
	var ls []gpio.Level
	for _, w := range p.Writes() {
		ls = append(ls, w.Level)
	}
	return ls
}

// Set drives the pin as an input would see it: the level, and an edge.
func (p *Pin) Set(l gpio.Level) {
	p.Pin.Lock()
	p.L = l
	p.Pin.Unlock()
	p.EdgesChan <- l
}

var _ wiegand.EdgeSource = (*EdgeSource)(nil)
var _ gpio.PinIO = (*Pin)(nil)
