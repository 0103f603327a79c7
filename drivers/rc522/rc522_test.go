package rc522

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/pintu/pintu/internal/hwtest"
)

// The transcripts below spell SPI bytes from the datasheet's register map
// rather than from the driver's constants: address byte = reg<<1 for a
// write, 0x80|reg<<1 for a read.
const (
	tCommandReg    = 0x01
	tComIrqReg     = 0x04
	tErrorReg      = 0x06
	tFIFODataReg   = 0x09
	tFIFOLevelReg  = 0x0A
	tControlReg    = 0x0C
	tBitFramingReg = 0x0D
)

func wr(reg byte, v ...byte) conntest.IO {
	return conntest.IO{W: append([]byte{reg << 1}, v...)}
}

func rd(reg, v byte) conntest.IO {
	return conntest.IO{W: []byte{0x80 | reg<<1, 0}, R: []byte{0, v}}
}

// initPolled is the initialisation without reset or IRQ pin, with the
// default 3 ms command timeout (TReload 119: 120 ticks of 25 µs).
var initPolled = []conntest.IO{
	{W: []byte{0x02, 0x0F}},                          // CommandReg = SoftReset
	{W: []byte{0x82, 0x00}, R: []byte{0x00, 0x20}},   // CommandReg: PowerDown clear
	{W: []byte{0xEE, 0x00}, R: []byte{0x00, 0x92}},   // VersionReg: v2.0
	{W: []byte{0x54, 0x80}},                          // TModeReg: TAuto
	{W: []byte{0x56, 0xA9}},                          // TPrescalerReg: 40 kHz
	{W: []byte{0x58, 0x00}}, {W: []byte{0x5A, 0x77}}, // TReloadReg = 119
	{W: []byte{0x2A, 0x40}}, // TxASKReg: Force100ASK
	{W: []byte{0x22, 0x3D}}, // ModeReg
	{W: []byte{0x04, 0x80}}, // ComIEnReg: nothing to IRQ
	{W: []byte{0x28, 0x83}}, // TxControlReg: antenna on
	// The timer registers read back.
	{W: []byte{0xD4, 0x00}, R: []byte{0x00, 0x80}},
	{W: []byte{0xD6, 0x00}, R: []byte{0x00, 0xA9}},
	{W: []byte{0xD8, 0x00}, R: []byte{0x00, 0x00}},
	{W: []byte{0xDA, 0x00}, R: []byte{0x00, 0x77}},
}

// initIRQ is the initialisation with reset and IRQ pins wired.
var initIRQ = []conntest.IO{
	{W: []byte{0x82, 0x00}, R: []byte{0x00, 0x20}}, // CommandReg: PowerDown clear
	{W: []byte{0xEE, 0x00}, R: []byte{0x00, 0x91}}, // VersionReg: v1.0
	{W: []byte{0x54, 0x80}},
	{W: []byte{0x56, 0xA9}},
	{W: []byte{0x58, 0x00}}, {W: []byte{0x5A, 0x77}},
	{W: []byte{0x2A, 0x40}},
	{W: []byte{0x22, 0x3D}},
	{W: []byte{0x04, 0xA3}}, // ComIEnReg: IRqInv, RxIEn, ErrIEn, TimerIEn
	{W: []byte{0x06, 0x80}}, // DivIEnReg: IRQPushPull
	{W: []byte{0x28, 0x83}},
	{W: []byte{0xD4, 0x00}, R: []byte{0x00, 0x80}},
	{W: []byte{0xD6, 0x00}, R: []byte{0x00, 0xA9}},
	{W: []byte{0xD8, 0x00}, R: []byte{0x00, 0x00}},
	{W: []byte{0xDA, 0x00}, R: []byte{0x00, 0x77}},
}

// send is the start of a Transceive of data, its last byte lastBits long,
// in the datasheet's order (§10.3.1.8, BitFramingReg): TxLastBits with
// StartSend clear, the Transceive command, then StartSend.
func send(data []byte, lastBits byte) []conntest.IO {
	return []conntest.IO{
		wr(tCommandReg, 0x00),   // Idle
		wr(tComIrqReg, 0x7F),    // clear interrupt requests
		wr(tFIFOLevelReg, 0x80), // flush FIFO
		wr(tFIFODataReg, data...),
		wr(tBitFramingReg, lastBits),      // TxLastBits, StartSend clear
		wr(tCommandReg, 0x0C),             // Transceive
		wr(tBitFramingReg, 0x80|lastBits), // StartSend
	}
}

// ended is the chip reporting the end of a command with ComIrqReg irq,
// and the driver clearing StartSend.
func ended(irq byte) []conntest.IO {
	return []conntest.IO{rd(tComIrqReg, irq), wr(tBitFramingReg, 0x00)}
}

// reply is the chip reporting the card's answer b.
func reply(b ...byte) []conntest.IO {
	fifo := conntest.IO{W: make([]byte, len(b)+1), R: append([]byte{0}, b...)}
	for i := range b {
		fifo.W[i] = 0x80 | tFIFODataReg<<1
	}
	return []conntest.IO{
		rd(tComIrqReg, 0x60),     // TxIRq, RxIRq
		wr(tBitFramingReg, 0x00), // StartSend cleared
		rd(tErrorReg, 0x00),
		rd(tFIFOLevelReg, byte(len(b))),
		rd(tControlReg, 0x10), // RxLastBits 0
		fifo,
	}
}

// silence is the chip's timer expiring with no answer.
func silence() []conntest.IO {
	return ended(0x41) // TxIRq, TimerIRq
}

func withCRC(b ...byte) []byte {
	c := crcA(b)
	return append(b, c[0], c[1])
}

// cascade returns the UID parts of each cascade level, cascade tags and BCC
// included.
func cascade(uid []byte) [][]byte {
	var parts [][]byte
	for len(uid) > 4 {
		parts = append(parts, []byte{0x88, uid[0], uid[1], uid[2]})
		uid = uid[3:]
	}
	parts = append(parts, slices.Clone(uid))
	for i, p := range parts {
		parts[i] = append(p, p[0]^p[1]^p[2]^p[3])
	}
	return parts
}

// cardSession is a full read of a card with uid and final SAK sak.
func cardSession(uid []byte, sak byte) []conntest.IO {
	ops := slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00)) // WUPA, ATQA
	parts := cascade(uid)
	for i, p := range parts {
		sel := []byte{0x93, 0x95, 0x97}[i]
		s := byte(0x04) // cascade bit
		if i == len(parts)-1 {
			s = sak
		}
		ops = slices.Concat(ops,
			send([]byte{sel, 0x20}, 0), reply(p...), // ANTICOLLISION
			send(withCRC(append([]byte{sel, 0x70}, p...)...), 0), reply(withCRC(s)...), // SELECT
		)
	}
	return slices.Concat(ops, send([]byte{0x50, 0x00, 0x57, 0xCD}, 0), silence()) // HLTA
}

// noCard is a poll with nothing in the field.
func noCard() []conntest.IO {
	return slices.Concat(send([]byte{0x52}, 7), silence())
}

// edges counts the Transceive commands of a transcript, one IRQ edge each.
func edges(ops []conntest.IO) int {
	n := 0
	for _, op := range ops {
		if slices.Equal(op.W, []byte{tBitFramingReg << 1, 0x80}) || slices.Equal(op.W, []byte{tBitFramingReg << 1, 0x87}) {
			n++
		}
	}
	return n
}

type rig struct {
	port  *spitest.Playback
	reset *gpiotest.Pin
	irq   *gpiotest.Pin
	dev   *Dev
}

// newRig builds a Dev on a playback of init followed by ops. With irq, reset
// and IRQ pins are wired and one falling edge is queued per command. It must
// run inside a synctest bubble.
func newRig(t *testing.T, irq bool, opts Opts, ops ...[]conntest.IO) *rig {
	t.Helper()
	r := &rig{port: &spitest.Playback{Playback: conntest.Playback{DontPanic: true}}}
	all := slices.Concat(ops...)
	if irq {
		r.reset = &gpiotest.Pin{N: "RST", Num: 25}
		r.irq = &gpiotest.Pin{N: "IRQ", Num: 24, EdgesChan: make(chan gpio.Level, edges(all)+1)}
		opts.Reset, opts.IRQ = r.reset, r.irq
		r.port.Ops = slices.Concat(initIRQ, all)
	} else {
		r.port.Ops = slices.Concat(initPolled, all)
	}
	r.dev = hwtest.NewOnPlayback(t, r.port, r.irq, 0, edges(all), func() (*Dev, error) { return New(r.port, &opts) })
	return r
}

var (
	uid4  = []byte{0xDE, 0xAD, 0xBE, 0xEF}
	uid7  = []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6}
	uid10 = []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}
)

func TestReadUID(t *testing.T) {
	badBCC := func() []conntest.IO {
		return slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
			send([]byte{0x93, 0x20}, 0), reply(0x88, 0x04, 0xA1, 0xB2, 0x00))
	}
	tests := []struct {
		name    string
		ops     []conntest.IO
		want    UID
		wantErr error
	}{
		{name: "4-byte uid", ops: cardSession(uid4, 0x08), want: uid4},
		{name: "7-byte uid", ops: cardSession(uid7, 0x00), want: uid7},
		{name: "10-byte uid", ops: cardSession(uid10, 0x20), want: uid10},
		{name: "no card then card", ops: slices.Concat(noCard(), noCard(), cardSession(uid4, 0x08)), want: uid4},
		{name: "bcc error", ops: badBCC(), wantErr: ErrBCC},
		{
			name: "sak crc error",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x04, 0x00),
				send([]byte{0x93, 0x20}, 0), reply(cascade(uid4)[0]...),
				send(withCRC(append([]byte{0x93, 0x70}, cascade(uid4)[0]...)...), 0), reply(0x08, 0x00, 0x00)),
			wantErr: ErrCRC,
		},
		{
			name: "collision",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
				send([]byte{0x93, 0x20}, 0), slices.Concat(ended(0x62), []conntest.IO{rd(tErrorReg, 0x08)})),
			wantErr: ErrCollision,
		},
		{
			name: "cascade bit without cascade tag",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
				send([]byte{0x93, 0x20}, 0), reply(cascade(uid4)[0]...),
				send(withCRC(append([]byte{0x93, 0x70}, cascade(uid4)[0]...)...), 0), reply(withCRC(0x04)...)),
			wantErr: ErrCardProtocol,
		},
		{
			name:    "card removed after ATQA",
			ops:     slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00), send([]byte{0x93, 0x20}, 0), silence()),
			wantErr: ErrCardGone,
		},
		{
			name: "card removed after anticollision",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
				send([]byte{0x93, 0x20}, 0), reply(cascade(uid4)[0]...),
				send(withCRC(append([]byte{0x93, 0x70}, cascade(uid4)[0]...)...), 0), silence()),
			wantErr: ErrCardGone,
		},
		{
			name: "card removed at cascade level 2",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
				send([]byte{0x93, 0x20}, 0), reply(cascade(uid7)[0]...),
				send(withCRC(append([]byte{0x93, 0x70}, cascade(uid7)[0]...)...), 0), reply(withCRC(0x04)...),
				send([]byte{0x95, 0x20}, 0), silence()),
			wantErr: ErrCardGone,
		},
		{
			name: "half an anticollision",
			ops: slices.Concat(send([]byte{0x52}, 7), reply(0x44, 0x00),
				send([]byte{0x93, 0x20}, 0), reply(0x88, 0x04)),
			wantErr: ErrCardProtocol,
		},
		{
			name:    "reader vanished",
			ops:     slices.Concat(send([]byte{0x52}, 7), []conntest.IO{rd(tComIrqReg, 0xFF)}),
			wantErr: ErrNoChip,
		},
		{
			name:    "chip overheated",
			ops:     slices.Concat(send([]byte{0x52}, 7), slices.Concat(ended(0x62), []conntest.IO{rd(tErrorReg, 0x40)})),
			wantErr: ErrChip,
		},
	}
	for _, tc := range tests {
		for _, irq := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/polled", true: "/irq"}[irq]
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := newRig(t, irq, Opts{}, tc.ops)
					got, err := r.dev.ReadUID(t.Context())
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("ReadUID() error = %v, want %v", err, tc.wantErr)
					}
					if err != nil && !strings.HasPrefix(err.Error(), "rc522: ") {
						t.Errorf("error %q lacks the package prefix", err)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("ReadUID() mismatch (-want +got):\n%s", diff)
					}
				})
			})
		}
	}
}

func TestReadUIDPollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false, Opts{}, noCard(), noCard(), noCard(), cardSession(uid7, 0x00))
		start := time.Now()
		if _, err := r.dev.ReadUID(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), 60*time.Millisecond; got != want {
			t.Errorf("card read after %v, want %v (three empty polls 20 ms apart)", got, want)
		}
	})
}

func TestReadUIDCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false, Opts{}, noCard())
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := r.dev.ReadUID(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReadUID() = %v, want %v", err, context.DeadlineExceeded)
		}
	})
}

// TestTimeout: the IRQ never falls, the host deadline catches it, and the
// next read starts with a full re-initialisation.
func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ops := slices.Concat(send([]byte{0x52}, 7), initIRQ, cardSession(uid4, 0x08))
		r := newRig(t, true, Opts{}, ops)
		for len(r.irq.EdgesChan) > 0 {
			<-r.irq.EdgesChan // the WUPA gets no edge
		}
		start := time.Now()
		_, err := r.dev.ReadUID(t.Context())
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("ReadUID() = %v, want %v", err, ErrTimeout)
		}
		if got, want := time.Since(start), 53*time.Millisecond; got != want {
			t.Errorf("timed out after %v, want %v", got, want)
		}
		if want := "rc522: wupa: chip did not complete the command: no IRQ edge within 53ms"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
		for range edges(cardSession(uid4, 0x08)) {
			r.irq.EdgesChan <- gpio.Low
		}
		got, err := r.dev.ReadUID(t.Context())
		if err != nil || !slices.Equal(got, uid4) {
			t.Errorf("ReadUID() after re-init = %v, %v; want %v", got, err, UID(uid4))
		}
	})
}

// TestRun: Run works through the shared poll loop (package cardpoll, which
// tests the schedule): a resting card is read once, a reader error is
// reported once and the chip re-initialised on the next poll, 100 ms later.
func TestRun(t *testing.T) {
	var ops []conntest.IO
	for range 5 { // 0-80 ms: the card rests on the reader: one read
		ops = append(ops, cardSession(uid4, 0x08)...)
	}
	ops = slices.Concat(ops,
		send([]byte{0x52}, 7), []conntest.IO{rd(tComIrqReg, 0xFF)}, // 100 ms: reader vanished
		initPolled, noCard(), // 100 ms later: back
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
		synctest.Wait() // the first poll, at 0
		if len(out) != 1 || !slices.Equal(<-out, uid4) {
			t.Fatalf("no read of %X at 0", uid4)
		}
		time.Sleep(time.Minute) // outage, recovery, end of transcript, many failing retries
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil on cancel", err)
		}
		if len(out) != 0 {
			t.Errorf("Run() sent %d more UIDs, want the card read once", len(out))
		}
		if len(reports) != 3 || !errors.Is(reports[0], ErrNoChip) || reports[1] != nil || reports[2] == nil {
			t.Fatalf("OnError got %q, want [ErrNoChip, nil, transfer error]", reports)
		}
		if !strings.HasPrefix(reports[2].Error(), "rc522: wupa: ") {
			t.Errorf("OnError(%q) does not say what was being done", reports[2])
		}
	})
}

func TestHalt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		halt := []conntest.IO{
			{W: []byte{0x28, 0x80}}, // TxControlReg: antenna off
			{W: []byte{0x02, 0x10}}, // CommandReg: PowerDown, Idle
		}
		r := newRig(t, true, Opts{}, noCard(), halt)
		done := make(chan error)
		go func() { done <- r.dev.Run(t.Context(), make(chan UID)) }()
		synctest.Wait() // Run has polled once and sleeps
		if err := r.dev.Halt(); err != nil {
			t.Fatalf("Halt() = %v", err)
		}
		if err := <-done; !errors.Is(err, ErrHalted) {
			t.Errorf("Run() = %v, want %v", err, ErrHalted)
		}
		if got := r.reset.Read(); got != gpio.Low {
			t.Errorf("reset pin = %v after Halt, want Low (hard power-down)", got)
		}
		if err := r.dev.Halt(); err != nil {
			t.Errorf("second Halt() = %v, want nil", err)
		}
		if _, err := r.dev.ReadUID(t.Context()); !errors.Is(err, ErrHalted) {
			t.Errorf("ReadUID() after Halt = %v, want %v", err, ErrHalted)
		}
	})
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Opts
		ops  []conntest.IO
		want string
	}{
		{name: "slow command timeout", opts: Opts{CommandTimeout: time.Second}, want: "rc522: command timeout 1s out of range [1ms, 100ms]"},
		{name: "negative poll", opts: Opts{PollInterval: -1}, want: "rc522: negative poll interval -1ns"},
		{name: "negative hold-off", opts: Opts{HoldOff: -1}, want: "rc522: negative hold-off -1ns"},
		{
			name: "no chip",
			ops:  []conntest.IO{{W: []byte{0x02, 0x0F}}, rd(tCommandReg, 0x20), rd(0x37, 0x00)},
			want: "rc522: read version: no MFRC522 answering: VersionReg reads 0x00",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &spitest.Playback{Playback: conntest.Playback{Ops: tc.ops, DontPanic: true}}
				_, err := New(p, &tc.opts)
				if err == nil || err.Error() != tc.want {
					t.Errorf("New() = %v, want %q", err, tc.want)
				}
			})
		})
	}
}

func TestString(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false, Opts{})
		if got, want := r.dev.String(), "MFRC522{playback}"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
}

func TestCRCA(t *testing.T) {
	// Known frames: HLTA and the SAK of a MIFARE Classic 1K.
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{0x50, 0x00}, []byte{0x57, 0xCD}},
		{[]byte{0x08}, []byte{0xB6, 0xDD}},
	} {
		if got := crcA(tc.in); !slices.Equal(got[:], tc.want) {
			t.Errorf("crcA(% X) = % X, want % X", tc.in, got, tc.want)
		}
	}
}

// TestTransceiveOrder spells out, byte by byte, one poll with no card: the
// StartSend order of datasheet §10.3.1.8 and the BitFramingReg description
// (StartSend only valid with Transceive; TxLastBits 7 for the short frame
// WUPA), and StartSend cleared once the timer has ended the command.
func TestTransceiveOrder(t *testing.T) {
	want := []conntest.IO{
		{W: []byte{0x02, 0x00}},                        // CommandReg = Idle: stop anything running
		{W: []byte{0x08, 0x7F}},                        // ComIrqReg: Set1=0 clears every request bit
		{W: []byte{0x14, 0x80}},                        // FIFOLevelReg: FlushBuffer
		{W: []byte{0x12, 0x52}},                        // FIFODataReg: WUPA
		{W: []byte{0x1A, 0x07}},                        // BitFramingReg: TxLastBits 7, StartSend 0
		{W: []byte{0x02, 0x0C}},                        // CommandReg = Transceive
		{W: []byte{0x1A, 0x87}},                        // BitFramingReg: StartSend
		{W: []byte{0x88, 0x00}, R: []byte{0x00, 0x41}}, // ComIrqReg: TxIRq, TimerIRq: no card
		{W: []byte{0x1A, 0x00}},                        // BitFramingReg: StartSend cleared
	}
	if diff := cmp.Diff(want, noCard()); diff != "" {
		t.Fatalf("transcript helper disagrees with the datasheet order (-want +got):\n%s", diff)
	}
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false, Opts{}, want)
		got, err := r.dev.loop.Poll()
		if err != nil || got != nil {
			t.Errorf("Poll() = %v, %v; want no card", got, err)
		}
	})
}

// stuckReset is a SoftReset after which CommandReg reads v for the whole
// 50 ms start-up deadline: reads at 0, 1, ... 50 ms.
func stuckReset(v byte) []conntest.IO {
	ops := []conntest.IO{{W: []byte{0x02, 0x0F}}}
	for range 51 {
		ops = append(ops, rd(tCommandReg, v))
	}
	return ops
}

// TestReset: after a reset the driver waits for CommandReg to read 0x20
// (Idle, receiver off, powered), not merely for the PowerDown bit to be
// clear: a chip whose oscillator has not started does not drive MISO and
// reads 0x00.
func TestReset(t *testing.T) {
	tests := []struct {
		name    string
		reads   []byte // CommandReg reads after SoftReset, 1 ms apart
		wantErr string
		took    time.Duration
	}{
		{name: "ready at once", reads: []byte{0x20}},
		{name: "not driving MISO, then ready", reads: []byte{0x00, 0x00, 0x00, 0x20}, took: 3 * time.Millisecond},
		{name: "soft reset still running", reads: []byte{0x2F, 0x2F, 0x20}, took: 2 * time.Millisecond},
		{name: "powered down, then ready", reads: []byte{0x30, 0x20}, took: time.Millisecond},
		{name: "never out of reset", reads: slices.Repeat([]byte{0x00}, 51), took: 50 * time.Millisecond,
			wantErr: "rc522: reset: no MFRC522 answering: still in reset after 50ms: CommandReg reads 0x00, want 0x20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ops := []conntest.IO{{W: []byte{0x02, 0x0F}}}
				for _, v := range tc.reads {
					ops = append(ops, rd(tCommandReg, v))
				}
				if tc.wantErr == "" {
					ops = append(ops, initPolled[2:]...) // from VersionReg on
				}
				p := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
				start := time.Now()
				_, err := New(p, nil)
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
					t.Fatalf("New() = %v, want %q", err, tc.wantErr)
				}
				if tc.wantErr != "" && !errors.Is(err, ErrNoChip) {
					t.Errorf("New() = %v, want %v", err, ErrNoChip)
				}
				if got := time.Since(start); got != tc.took {
					t.Errorf("New() took %v, want %v", got, tc.took)
				}
				if err := p.Close(); err != nil {
					t.Errorf("transcript: %v", err)
				}
			})
		})
	}
}

// TestHardReset: with the reset pin wired, initialisation holds NRSTPD low
// for 1 ms, releases it and waits for CommandReg as after a SoftReset.
func TestHardReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := &hwtest.Pin{Pin: &gpiotest.Pin{N: "RST", Num: 25}}
		ops := slices.Concat([]conntest.IO{rd(tCommandReg, 0x00)}, initIRQ)
		p := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
		irq := &gpiotest.Pin{N: "IRQ", Num: 24, EdgesChan: make(chan gpio.Level, 1)}
		start := time.Now()
		if _, err := New(p, &Opts{Reset: reset, IRQ: irq}); err != nil {
			t.Fatalf("New() = %v", err)
		}
		if got, want := time.Since(start), 2*time.Millisecond; got != want {
			t.Errorf("New() took %v, want %v (1 ms pulse, one read of 0x00 1 ms before 0x20)", got, want)
		}
		if got, want := reset.Levels(), []gpio.Level{gpio.Low, gpio.High}; !slices.Equal(got, want) {
			t.Errorf("reset pin driven %v, want %v", got, want)
		}
		if err := p.Close(); err != nil {
			t.Errorf("transcript: %v", err)
		}
	})
}

// TestConfigReadBack: a timer register that does not keep what was written
// (a lost TAuto bit would leave every card command without its timeout) is
// a reader error at initialisation.
func TestConfigReadBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ops := slices.Clone(initPolled)
		ops[len(ops)-4] = conntest.IO{W: []byte{0xD4, 0x00}, R: []byte{0x00, 0x00}} // TModeReg reads 0x00
		p := &spitest.Playback{Playback: conntest.Playback{Ops: ops[:len(ops)-3], DontPanic: true}}
		_, err := New(p, nil)
		want := "rc522: check configuration: no MFRC522 answering: register 0x2a reads 0x00 after writing 0x80"
		if !errors.Is(err, ErrNoChip) || err.Error() != want {
			t.Errorf("New() = %v, want %q", err, want)
		}
	})
}

// TestRunCardGone: a card pulled away after its ATQA is a card error:
// reported to OnCardError, no outage, no re-initialisation (the transcript
// has none), and the card presented again is read.
func TestRunCardGone(t *testing.T) {
	ops := slices.Concat(
		send([]byte{0x52}, 7), reply(0x44, 0x00), send([]byte{0x93, 0x20}, 0), silence(), // 0: ATQA, then gone
		noCard(),                // 20 ms
		cardSession(uid7, 0x00), // 40 ms: back on the reader
	)
	synctest.Test(t, func(t *testing.T) {
		var reports, cardErrs []error
		r := newRig(t, false, Opts{
			OnError:     func(err error) { reports = append(reports, err) },
			OnCardError: func(err error) { cardErrs = append(cardErrs, err) },
		}, ops)
		out := make(chan UID, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- r.dev.Run(ctx, out) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		if len(out) != 1 || !slices.Equal(<-out, uid7) {
			t.Errorf("card not read at 40 ms")
		}
		if len(cardErrs) != 1 || !errors.Is(cardErrs[0], ErrCardGone) {
			t.Errorf("OnCardError got %v, want one %v", cardErrs, ErrCardGone)
		}
		if want := "rc522: anticollision cascade level 1: card stopped answering"; len(cardErrs) == 1 && cardErrs[0].Error() != want {
			t.Errorf("card error = %q, want %q", cardErrs[0], want)
		}
		if len(reports) != 0 {
			t.Errorf("OnError got %v, want none", reports)
		}
	})
}

// TestRunStuckReset: a chip that does not come out of reset when Run
// re-initialises it is one outage, reported once; Run keeps retrying with
// backoff and reads again once the chip answers, without a restart.
func TestRunStuckReset(t *testing.T) {
	ops := slices.Concat(
		send([]byte{0x52}, 7), []conntest.IO{rd(tComIrqReg, 0xFF)}, // 0: reader vanished
		stuckReset(0x00), stuckReset(0x00), stuckReset(0xFF), // re-inits at 100, 300, 700 ms fail
		initPolled, cardSession(uid4, 0x08), // 1500 ms: back
	)
	synctest.Test(t, func(t *testing.T) {
		var reports []error
		r := newRig(t, false, Opts{OnError: func(err error) { reports = append(reports, err) }}, ops)
		out := make(chan UID, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- r.dev.Run(ctx, out) }()
		select {
		case u := <-out:
			if !slices.Equal(u, uid4) {
				t.Errorf("read %v, want %v", u, UID(uid4))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no card read after the chip came back")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		if len(reports) != 2 || !errors.Is(reports[0], ErrNoChip) || reports[1] != nil {
			t.Errorf("OnError got %v, want [ErrNoChip, nil]: one outage", reports)
		}
	})
}
