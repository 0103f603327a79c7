package hwtest

import (
	"io"
	"testing"
	"testing/synctest"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// NewOnPlayback makes a driver's Dev with newDev on a periph playback (an
// spitest or i2ctest Playback, whose Close fails unless every recorded
// transfer was played) and checks at the end of the test that the playback
// was played to its end. It fails t if newDev fails.
//
// With irq not nil, it feeds the pin one falling edge per chip answer:
// initEdges while newDev runs and edges once it has returned. A driver's New
// configures the pin, which drops edges queued before, so initEdges are
// queued once New waits for the first of them; this needs a testing/synctest
// bubble.
func NewOnPlayback[D any](t testing.TB, playback io.Closer, irq *gpiotest.Pin, initEdges, edges int, newDev func() (D, error)) D {
	t.Helper()
	t.Cleanup(func() {
		if err := playback.Close(); err != nil {
			t.Errorf("transcript not consumed: %v", err)
		}
	})
	var d D
	var err error
	if irq != nil && initEdges > 0 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			d, err = newDev()
		}()
		synctest.Wait()
		queueEdges(irq, initEdges)
		<-done
	} else {
		d, err = newDev()
	}
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	if irq != nil {
		queueEdges(irq, edges)
	}
	return d
}

func queueEdges(p *gpiotest.Pin, n int) {
	for range n {
		p.EdgesChan <- gpio.Low
	}
}
