package pn532

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/pintu/pintu/internal/hwtest"
)

const addr = 0x24

// Command frames, spelled out: 00 00 FF LEN LCS D4 cmd params DCS 00.
var (
	frameGetFirmwareVersion = []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}
	frameSAMConfiguration   = []byte{0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x00, 0x01, 0x16, 0x00}
	frameRFConfiguration    = []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x32, 0x05, 0xFF, 0x01, 0x01, 0xF4, 0x00}
	frameInListPassive      = []byte{0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00}
	framePowerDown          = []byte{0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD4, 0x16, 0x80, 0x96, 0x00}
)

// Answer frames from the PN532.
var (
	ack           = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	nack          = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
	errorFrame    = []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}
	answerVersion = []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00} // PN532 v1.6
	answerSAM     = []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}
	answerRF      = []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x33, 0xF8, 0x00}
	answerNoCard  = []byte{0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD5, 0x4B, 0x00, 0xE0, 0x00}
	answerPD      = []byte{0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD5, 0x17, 0x00, 0x14, 0x00}
)

// Bytes read for each answer: status byte, then the frame of the largest
// answer expected.
const (
	readVersion = 1 + 7 + 2 + 4
	readShort   = 1 + 7 + 2
	readInList  = 1 + 7 + 2 + 57
	readPD      = 1 + 7 + 2 + 1
)

// answer builds a PN532-to-host information frame, independently of the
// driver's encoder.
func answer(data ...byte) []byte {
	sum := 0xD5
	for _, c := range data {
		sum += int(c)
	}
	f := []byte{0x00, 0x00, 0xFF, byte(len(data) + 1), byte(0x100 - (len(data)+1)&0xFF), 0xD5}
	f = append(f, data...)
	return append(f, byte(0x100-sum&0xFF), 0x00)
}

// answerCard is InListPassiveTarget finding one MIFARE card.
func answerCard(uid []byte) []byte {
	return answer(slices.Concat([]byte{0x4B, 0x01, 0x01, 0x00, 0x44, 0x00, byte(len(uid))}, uid)...)
}

// exchange is one command: frame written, ACK read, answer read into a
// buffer of n bytes. Without IRQ, each read is preceded by a ready status
// byte; with IRQ, by a falling edge (counted by edges).
func exchange(irq bool, cmd, ans []byte, n int) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: cmd}}
	for _, r := range []struct {
		frame []byte
		n     int
	}{{ack, 7}, {ans, n}} {
		if !irq {
			ops = append(ops, i2ctest.IO{Addr: addr, R: []byte{0x01}})
		}
		buf := make([]byte, r.n)
		buf[0] = 0x01
		copy(buf[1:], r.frame)
		ops = append(ops, i2ctest.IO{Addr: addr, R: buf})
	}
	return ops
}

func initOps(irq bool) []i2ctest.IO {
	return slices.Concat(
		exchange(irq, frameGetFirmwareVersion, answerVersion, readVersion),
		exchange(irq, frameSAMConfiguration, answerSAM, readShort),
		exchange(irq, frameRFConfiguration, answerRF, readShort),
	)
}

func poll(irq bool, ans []byte) []i2ctest.IO {
	return exchange(irq, frameInListPassive, ans, readInList)
}

// edges counts the reads that follow an IRQ edge in an IRQ transcript.
func edges(ops []i2ctest.IO) int {
	n := 0
	for _, op := range ops {
		if len(op.R) > 1 {
			n++
		}
	}
	return n
}

// flakyBus fails the first fail transfers, as an I2C address NACK does.
type flakyBus struct {
	*i2ctest.Playback
	fail int
}

func (b *flakyBus) Tx(a uint16, w, r []byte) error {
	if b.fail > 0 {
		b.fail--
		return errors.New("i2c: remote I/O error")
	}
	return b.Playback.Tx(a, w, r)
}

type rig struct {
	bus *i2ctest.Playback
	irq *gpiotest.Pin
	dev *Dev
}

// newRig builds a Dev on a playback of the initialisation followed by ops;
// with irq, one falling edge is queued per frame read. It must run inside a
// synctest bubble.
func newRig(t *testing.T, irq bool, opts Opts, ops ...[]i2ctest.IO) *rig {
	t.Helper()
	all := slices.Concat(ops...)
	r := &rig{bus: &i2ctest.Playback{Ops: slices.Concat(initOps(irq), all), DontPanic: true}}
	initEdges := 0
	if irq {
		r.irq = &gpiotest.Pin{N: "P70_IRQ", Num: 17, EdgesChan: make(chan gpio.Level, edges(r.bus.Ops)+1)}
		opts.IRQ = r.irq
		initEdges = edges(initOps(true))
	}
	r.dev = hwtest.NewOnPlayback(t, r.bus, r.irq, initEdges, edges(all), func() (*Dev, error) { return New(r.bus, &opts) })
	return r
}

var (
	uid4  = []byte{0xDE, 0xAD, 0xBE, 0xEF}
	uid7  = []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6}
	uid10 = []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}
)

func TestReadUID(t *testing.T) {
	badDCS := answerCard(uid4)
	badDCS[len(badDCS)-2]++
	badLCS := answerCard(uid4)
	badLCS[4]++
	withATS := answer(slices.Concat([]byte{0x4B, 0x01, 0x01, 0x03, 0x44, 0x20, 0x07}, uid7, []byte{0x06, 0x75, 0x77, 0x81, 0x02, 0x80})...)
	tests := []struct {
		name    string
		ops     func(irq bool) []i2ctest.IO
		want    UID
		wantErr error
		wantMsg string
	}{
		{name: "4-byte uid", ops: func(irq bool) []i2ctest.IO { return poll(irq, answerCard(uid4)) }, want: uid4},
		{name: "7-byte uid", ops: func(irq bool) []i2ctest.IO { return poll(irq, answerCard(uid7)) }, want: uid7},
		{name: "10-byte uid", ops: func(irq bool) []i2ctest.IO { return poll(irq, answerCard(uid10)) }, want: uid10},
		{name: "7-byte uid with ats", ops: func(irq bool) []i2ctest.IO { return poll(irq, withATS) }, want: uid7},
		{
			name: "no card then card",
			ops: func(irq bool) []i2ctest.IO {
				return slices.Concat(poll(irq, answerNoCard), poll(irq, answerNoCard), poll(irq, answerCard(uid4)))
			},
			want: uid4,
		},
		{
			name:    "bad data checksum",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, badDCS) },
			wantErr: ErrChecksum,
			wantMsg: "pn532: in list passive target: read answer: frame checksum mismatch: data sums to 0xa2 with DCS 0x5f",
		},
		{
			name:    "bad length checksum",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, badLCS) },
			wantErr: ErrChecksum,
			wantMsg: "pn532: in list passive target: read answer: frame checksum mismatch: LEN 0x0c with LCS 0xf5",
		},
		{
			name:    "error frame",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, errorFrame) },
			wantErr: ErrSyntax,
			wantMsg: "pn532: in list passive target: read answer: error frame, command not understood",
		},
		{
			name:    "nack",
			ops:     nackOps,
			wantErr: ErrNACK,
			wantMsg: "pn532: in list passive target: command frame rejected (NACK)",
		},
		{
			name:    "answer to another command",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, answerRF) },
			wantErr: ErrFrame,
			wantMsg: "pn532: in list passive target: malformed frame: answer D5 33 does not match command 0x4a",
		},
		{
			name:    "uid of 5 bytes",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, answerCard([]byte{1, 2, 3, 4, 5})) },
			wantErr: ErrTarget,
			wantMsg: "pn532: in list passive target: unsupported target: uid length 5, not 4, 7 or 10",
		},
		{
			name:    "truncated target data",
			ops:     func(irq bool) []i2ctest.IO { return poll(irq, answer(0x4B, 0x01, 0x01, 0x00, 0x44, 0x00, 0x07, 0x04)) },
			wantErr: ErrFrame,
			wantMsg: "pn532: in list passive target: malformed frame: uid length 7 but 1 bytes left",
		},
	}
	for _, tc := range tests {
		for _, irq := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/polled", true: "/irq"}[irq], func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := newRig(t, irq, Opts{}, tc.ops(irq))
					got, err := r.dev.ReadUID(t.Context())
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("ReadUID() error = %v, want %v", err, tc.wantErr)
					}
					if tc.wantMsg != "" && err.Error() != tc.wantMsg {
						t.Errorf("ReadUID() error = %q, want %q", err, tc.wantMsg)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("ReadUID() mismatch (-want +got):\n%s", diff)
					}
				})
			})
		}
	}
}

// nackOps is the PN532 answering the command frame with a NACK.
func nackOps(irq bool) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: frameInListPassive}}
	if !irq {
		ops = append(ops, i2ctest.IO{Addr: addr, R: []byte{0x01}})
	}
	return append(ops, i2ctest.IO{Addr: addr, R: append([]byte{0x01}, nack...)})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestStatusPolling: without IRQ the driver waits 2 ms after the command
// and again after its ACK, then reads the status byte every millisecond
// until bit 0 is set, then reads the frame.
func TestStatusPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := i2ctest.IO{Addr: addr, R: []byte{0x00}}
		ops := poll(false, answerCard(uid4))
		ops = slices.Concat(ops[:3], []i2ctest.IO{busy, busy, busy}, ops[3:]) // answer ready 3 ms after the ACK
		r := newRig(t, false, Opts{}, ops)
		start := time.Now()
		got, err := r.dev.ReadUID(t.Context())
		if err != nil || !slices.Equal(got, uid4) {
			t.Fatalf("ReadUID() = %v, %v; want %v", got, err, UID(uid4))
		}
		if d := time.Since(start); d != 7*time.Millisecond {
			t.Errorf("ReadUID() took %v, want 7ms (2 ms settle, ACK, 2 ms settle, 3 busy reads 1 ms apart)", d)
		}
	})
}

// TestTimeout: the PN532 acknowledges but never answers; the command is
// aborted with an ACK frame and the next read re-initialises.
func TestTimeout(t *testing.T) {
	for _, irq := range []bool{false, true} {
		t.Run(map[bool]string{false: "polled", true: "irq"}[irq], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				busy := i2ctest.IO{Addr: addr, R: []byte{0x00}}
				ops := exchange(irq, frameInListPassive, nil, readInList)
				ops = ops[:len(ops)-1-btoi(!irq)] // no answer
				if irq {
					ops = append(ops, busy) // status read when no edge comes
				} else {
					for range 99 { // at 4, 5, ... 102 ms: 2 ms settle after the ACK read at 2 ms
						ops = append(ops, busy)
					}
				}
				ops = append(ops, i2ctest.IO{Addr: addr, W: ack})
				r := newRig(t, irq, Opts{}, ops, initOps(irq), poll(irq, answerCard(uid7)))
				if irq {
					// The answer's edge never comes: drop it, keep the rest.
					for len(r.irq.EdgesChan) > 0 {
						<-r.irq.EdgesChan
					}
					r.irq.EdgesChan <- gpio.Low // ACK
				}
				start := time.Now()
				_, err := r.dev.ReadUID(t.Context())
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("ReadUID() = %v, want %v", err, ErrTimeout)
				}
				if want := "pn532: in list passive target: read answer: no answer in time: nothing after 100ms"; err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				// The answer's 100 ms start after the ACK, read at 2 ms when polled.
				if want := 100*time.Millisecond + time.Duration(btoi(!irq))*2*time.Millisecond; time.Since(start) != want {
					t.Errorf("timed out after %v, want %v", time.Since(start), want)
				}
				if irq {
					for range edges(slices.Concat(initOps(true), poll(true, answerCard(uid7)))) {
						r.irq.EdgesChan <- gpio.Low
					}
				}
				got, err := r.dev.ReadUID(t.Context())
				if err != nil || !slices.Equal(got, uid7) {
					t.Errorf("ReadUID() after re-init = %v, %v; want %v", got, err, UID(uid7))
				}
			})
		})
	}
}

func TestI2CError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &i2ctest.Playback{Ops: slices.Concat(initOps(false), initOps(false), poll(false, answerCard(uid4))), DontPanic: true}
		bus := &flakyBus{Playback: p}
		d, err := New(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		bus.fail = 1
		_, err = d.ReadUID(t.Context())
		if want := "pn532: in list passive target: write command: i2c: remote I/O error"; err == nil || err.Error() != want {
			t.Fatalf("ReadUID() = %v, want %q", err, want)
		}
		got, err := d.ReadUID(t.Context())
		if err != nil || !slices.Equal(got, uid4) {
			t.Errorf("ReadUID() after re-init = %v, %v; want %v", got, err, UID(uid4))
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
}

func TestNewWakeRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &i2ctest.Playback{Ops: initOps(false), DontPanic: true}
		start := time.Now()
		if _, err := New(&flakyBus{Playback: p, fail: 1}, nil); err != nil {
			t.Fatalf("New() = %v", err)
		}
		if d := time.Since(start); d != 22*time.Millisecond {
			t.Errorf("New() took %v, want 22ms (one wake-up delay, then three commands with two 2 ms settles each)", d)
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		_, err := New(&flakyBus{Playback: &i2ctest.Playback{DontPanic: true}, fail: 2}, nil)
		if want := "pn532: get firmware version: write command: i2c: remote I/O error"; err == nil || err.Error() != want {
			t.Errorf("New() on a dead bus = %v, want %q", err, want)
		}
	})
}

// TestRun: Run works through the shared poll loop (package cardpoll, which
// tests the schedule): a resting card is read once, a reader error is
// reported once and the PN532 re-initialised on the next poll, 100 ms later.
func TestRun(t *testing.T) {
	var ops []i2ctest.IO
	for range 5 { // 0-80 ms: the card rests on the reader: one read
		ops = append(ops, poll(false, answerCard(uid7))...)
	}
	ops = slices.Concat(ops,
		poll(false, badFrame()),                   // 100 ms: checksum error: reader outage
		initOps(false), poll(false, answerNoCard), // 100 ms later: back
	)
	// Then the transcript ends: every later transfer fails.

	synctest.Test(t, func(t *testing.T) {
		var reports []error
		r := newRig(t, false, Opts{OnError: func(err error) { reports = append(reports, err) }}, ops)
		out := make(chan UID, 10)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error)
		go func() { done <- r.dev.Run(ctx, out) }()
		time.Sleep(5 * time.Millisecond) // the first poll, 0 to 4 ms
		if len(out) != 1 || !slices.Equal(<-out, uid7) {
			t.Fatalf("no read of %X at 0", uid7)
		}
		time.Sleep(time.Minute) // outage, recovery, end of transcript, failing retries
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil on cancel", err)
		}
		if len(out) != 0 {
			t.Errorf("Run() sent %d more UIDs, want the card read once", len(out))
		}
		if len(reports) != 3 || !errors.Is(reports[0], ErrChecksum) || reports[1] != nil || reports[2] == nil {
			t.Fatalf("OnError got %q, want [ErrChecksum, nil, transfer error]", reports)
		}
		if !strings.HasPrefix(reports[2].Error(), "pn532: in list passive target: write command: ") {
			t.Errorf("OnError(%q) does not say what was being done", reports[2])
		}
	})
}

func badFrame() []byte {
	f := answerCard(uid4)
	f[len(f)-2] ^= 0xFF
	return f
}

func TestHalt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, true, Opts{}, poll(true, answerNoCard), exchange(true, framePowerDown, answerPD, readPD))
		done := make(chan error)
		go func() { done <- r.dev.Run(t.Context(), make(chan UID)) }()
		synctest.Wait() // Run has polled once and sleeps
		if err := r.dev.Halt(); err != nil {
			t.Fatalf("Halt() = %v", err)
		}
		if err := <-done; !errors.Is(err, ErrHalted) {
			t.Errorf("Run() = %v, want %v", err, ErrHalted)
		}
		if err := r.dev.Halt(); err != nil {
			t.Errorf("second Halt() = %v, want nil", err)
		}
		if _, err := r.dev.ReadUID(t.Context()); !errors.Is(err, ErrHalted) {
			t.Errorf("ReadUID() after Halt = %v, want %v", err, ErrHalted)
		}
	})
}

func TestNewOpts(t *testing.T) {
	for _, tc := range []struct {
		opts Opts
		want string
	}{
		{Opts{CommandTimeout: 2 * time.Second}, "pn532: command timeout 2s out of range (0, 1s]"},
		{Opts{Addr: 0x124}, "pn532: i2c address 0x124 is not 7-bit"},
		{Opts{PollInterval: -time.Second}, "pn532: negative poll interval -1s"},
		{Opts{HoldOff: -time.Second}, "pn532: negative hold-off -1s"},
	} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, &tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false, Opts{})
		if got, want := r.dev.String(), "PN532{playback, 0x24}"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
}

func TestUIDString(t *testing.T) {
	if got, want := UID(uid7).String(), "04A1B2C3D4E5F6"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// stretchBus fails the next failStatus status reads (one-byte reads) and
// failFrame frame reads before they reach the transcript, as the I2C
// controller of a Pi 3, 4 or Zero 2 W does when the PN532 stretches the
// clock at the wrong moment.
type stretchBus struct {
	*i2ctest.Playback
	failStatus, failFrame int
}

func (b *stretchBus) Tx(a uint16, w, r []byte) error {
	switch {
	case len(w) == 0 && len(r) == 1 && b.failStatus > 0:
		b.failStatus--
		return errors.New("i2c: remote I/O error")
	case len(w) == 0 && len(r) > 1 && b.failFrame > 0:
		b.failFrame--
		return errors.New("i2c: remote I/O error")
	}
	return b.Playback.Tx(a, w, r)
}

// TestClockStretching: failed status and frame reads within the command's
// deadline are "not ready", not a reader failure: the card is read, with no
// re-initialisation (the transcript has none).
func TestClockStretching(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		failStatus, failFrame int
		want                  time.Duration
	}{
		{name: "status reads fail", failStatus: 3, want: 4*time.Millisecond + 3*time.Millisecond},
		{name: "frame read fails", failFrame: 1, want: 4*time.Millisecond + time.Millisecond},
		{name: "both, for 91 ms", failStatus: 90, failFrame: 1, want: 4*time.Millisecond + 91*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ops := poll(false, answerCard(uid4))
				if tc.failFrame > 0 {
					// After a failed frame read the driver asks the status again.
					ops = slices.Insert(ops, 2, i2ctest.IO{Addr: addr, R: []byte{0x01}})
				}
				p := &i2ctest.Playback{Ops: slices.Concat(initOps(false), ops), DontPanic: true}
				bus := &stretchBus{Playback: p}
				d, err := New(bus, nil)
				if err != nil {
					t.Fatal(err)
				}
				bus.failStatus, bus.failFrame = tc.failStatus, tc.failFrame
				start := time.Now()
				got, err := d.ReadUID(t.Context())
				if err != nil || !slices.Equal(got, uid4) {
					t.Fatalf("ReadUID() = %v, %v; want %v", got, err, UID(uid4))
				}
				if d := time.Since(start); d != tc.want {
					t.Errorf("ReadUID() took %v, want %v", d, tc.want)
				}
				if err := p.Close(); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// TestClockStretchingTimeout: a PN532 whose every read fails for the whole
// deadline is a reader error that names the last failure; the next read
// re-initialises.
func TestClockStretchingTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ops := slices.Concat(
			[]i2ctest.IO{{Addr: addr, W: frameInListPassive}}, // command, no ACK readable
			initOps(false), poll(false, answerCard(uid7)),
		)
		p := &i2ctest.Playback{Ops: slices.Concat(initOps(false), ops), DontPanic: true}
		bus := &stretchBus{Playback: p}
		d, err := New(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		bus.failStatus = 99 // at 2, 3, ... 100 ms
		start := time.Now()
		_, err = d.ReadUID(t.Context())
		want := "pn532: in list passive target: read ack: no answer in time: nothing after 100ms, last transfer failed: read status: i2c: remote I/O error"
		if !errors.Is(err, ErrTimeout) || err.Error() != want {
			t.Fatalf("ReadUID() = %v, want %q", err, want)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("timed out after %v, want 100ms", d)
		}
		got, err := d.ReadUID(t.Context())
		if err != nil || !slices.Equal(got, uid7) {
			t.Errorf("ReadUID() after re-init = %v, %v; want %v", got, err, UID(uid7))
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
}

// answerLongATS is InListPassiveTarget finding an ISO/IEC 14443-4 card whose
// 60-byte ATS makes the answer longer than the driver's first read.
func answerLongATS(uid []byte) []byte {
	ats := make([]byte, 60)
	ats[0], ats[1], ats[2], ats[3], ats[4] = 60, 0x78, 0x80, 0x70, 0x02 // TL, T0, TA, TB, TC
	for i := 5; i < len(ats); i++ {
		ats[i] = byte(i) // historical bytes
	}
	return answer(slices.Concat([]byte{0x4B, 0x01, 0x01, 0x03, 0x44, 0x20, byte(len(uid))}, uid, ats)...)
}

// longPoll is a poll whose answer does not fit the first read: the driver
// sends a NACK frame and the PN532 sends the answer again (UM0701-02
// §6.2.1, NACK frame), read whole.
func longPoll(irq bool, ans []byte) []i2ctest.IO {
	ops := append(poll(irq, ans), i2ctest.IO{Addr: addr, W: nack})
	if !irq {
		ops = append(ops, i2ctest.IO{Addr: addr, R: []byte{0x01}})
	}
	return append(ops, i2ctest.IO{Addr: addr, R: append([]byte{0x01}, ans...)})
}

// TestLongATS: a card whose answer is longer than the first read is read
// whole after a NACK; if the PN532 does not send it again, the poll fails
// with ErrTarget, a card error: the reader is not re-initialised while the
// card rests on it.
func TestLongATS(t *testing.T) {
	ans := answerLongATS(uid7)
	if len(ans) <= readInList-1 {
		t.Fatalf("answer of %d bytes fits the first read; the test needs a longer one", len(ans))
	}
	for _, irq := range []bool{false, true} {
		t.Run(map[bool]string{false: "polled", true: "irq"}[irq], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, irq, Opts{}, longPoll(irq, ans))
				got, err := r.dev.ReadUID(t.Context())
				if err != nil || !slices.Equal(got, uid7) {
					t.Errorf("ReadUID() = %v, %v; want %v", got, err, UID(uid7))
				}
			})
		})
	}
	t.Run("not sent again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			busy := i2ctest.IO{Addr: addr, R: []byte{0x00}}
			ops := append(poll(false, ans), i2ctest.IO{Addr: addr, W: nack})
			for range 99 { // the status never says ready again: 2 ms settle, then to 100 ms
				ops = append(ops, busy)
			}
			ops = append(ops, i2ctest.IO{Addr: addr, W: ack}) // abort
			ops = append(ops, poll(false, answerNoCard)...)   // next poll: no re-initialisation
			var cardErrs, reports []error
			r := newRig(t, false, Opts{
				OnError:     func(err error) { reports = append(reports, err) },
				OnCardError: func(err error) { cardErrs = append(cardErrs, err) },
			}, ops)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- r.dev.Run(ctx, make(chan UID)) }()
			time.Sleep(120 * time.Millisecond) // the long poll (0-104 ms), then the next (104-108 ms)
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run() = %v", err)
			}
			if len(cardErrs) != 1 || !errors.Is(cardErrs[0], ErrTarget) || !errors.Is(cardErrs[0], ErrTimeout) {
				t.Errorf("OnCardError got %v, want one ErrTarget wrapping the timeout", cardErrs)
			}
			if len(reports) != 0 {
				t.Errorf("OnError got %v, want none: the reader is fine", reports)
			}
			if err := r.bus.Close(); err != nil {
				t.Errorf("transcript: %v", err)
			}
		})
	})
}

// garbage is a command answered with bytes that are no frame, as a PN532
// on a noisy or wrongly strapped bus sends.
func garbage(cmd []byte) []i2ctest.IO {
	return []i2ctest.IO{{Addr: addr, W: cmd}, {Addr: addr, R: []byte{0x01}}, {Addr: addr, R: []byte{0x01, 0xDE, 0xAD, 0xBE, 0xEF, 0x55, 0xAA}}}
}

// TestRunGarbage: a reader that floods garbage is one outage, reported
// once, retried with backoff and recovered without a restart; the card
// presented afterwards is read.
func TestRunGarbage(t *testing.T) {
	ops := slices.Concat(
		// 0: the poll gets garbage: outage. Re-inits at 100, 300, 700 ms get
		// garbage too.
		garbage(frameInListPassive),
		garbage(frameGetFirmwareVersion), garbage(frameGetFirmwareVersion), garbage(frameGetFirmwareVersion),
		initOps(false), poll(false, answerCard(uid4)), // 1500 ms: back, and a card
	)
	synctest.Test(t, func(t *testing.T) {
		var reports []error
		r := newRig(t, false, Opts{OnError: func(err error) { reports = append(reports, err) }}, ops)
		out := make(chan UID, 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error)
		go func() { done <- r.dev.Run(ctx, out) }()
		select {
		case u := <-out:
			if !slices.Equal(u, uid4) {
				t.Errorf("read %v, want %v", u, UID(uid4))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no card read after the garbage stopped")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		if len(reports) != 2 || !errors.Is(reports[0], ErrFrame) || reports[1] != nil {
			t.Errorf("OnError got %v, want [ErrFrame, nil]: one outage, reported once", reports)
		}
	})
}
