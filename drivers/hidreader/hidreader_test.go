package hidreader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const path = "/dev/input/by-id/usb-Reader-event-kbd"

var (
	errMissing   = &os.PathError{Op: "open", Path: path, Err: errors.New("no such file or directory")}
	errUnplugged = &os.PathError{Op: "read", Path: path, Err: errors.New("no such device")}
)

// fakeDev is an evdev file: Read returns what the test pushes, fails once
// unplugged, and, like an os.File, returns when closed.
type fakeDev struct {
	data    chan []byte
	unplug  chan struct{}
	closed  chan struct{}
	closing sync.Once
}

func newFakeDev() *fakeDev {
	return &fakeDev{data: make(chan []byte), unplug: make(chan struct{}), closed: make(chan struct{})}
}

func (f *fakeDev) Read(p []byte) (int, error) {
	select {
	case b := <-f.data:
		if len(b) > len(p) {
			panic("fakeDev: chunk larger than the read buffer")
		}
		return copy(p, b), nil
	case <-f.unplug:
		return 0, errUnplugged
	case <-f.closed:
		return 0, os.ErrClosed
	}
}

func (f *fakeDev) Close() error {
	f.closing.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeDev) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

// bench runs a Dev on scripted devices and keeps a transcript of what it
// does, stamped with the (fake) time since start.
type bench struct {
	t     *testing.T
	d     *Dev
	start time.Time
	out   chan string

	mu      sync.Mutex
	opens   []any // results of successive opens: *fakeDev or error
	entries []string
}

func newBench(t *testing.T, opts Opts, opens ...any) *bench {
	t.Helper()
	b := &bench{t: t, start: time.Now(), out: make(chan string), opens: opens}
	opts.OnError = func(err error) { b.note("error: %v", err) }
	opts.OnOpen = func() { b.note("opened") }
	d, err := New(path, &opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	d.open = b.open
	b.d = d
	go func() {
		for card := range b.out {
			b.note("card %s", card)
		}
	}()
	t.Cleanup(func() { close(b.out) })
	return b
}

func (b *bench) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, fmt.Sprintf("%v ", time.Since(b.start))+fmt.Sprintf(format, args...))
}

func (b *bench) open(p string) (io.ReadCloser, error) {
	if p != path {
		b.t.Errorf("open(%q), want open(%q)", p, path)
	}
	b.mu.Lock()
	if len(b.opens) == 0 {
		b.mu.Unlock()
		b.note("open failed")
		return nil, errMissing
	}
	r := b.opens[0]
	b.opens = b.opens[1:]
	b.mu.Unlock()
	if dev, ok := r.(*fakeDev); ok {
		return dev, nil
	}
	b.note("open failed")
	return nil, r.(error)
}

func (b *bench) transcript() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.entries...)
}

// run starts Run and returns a function that cancels it and returns its
// result.
func (b *bench) run() (stop func() error) {
	ctx, cancel := context.WithCancel(b.t.Context())
	ran := make(chan error)
	go func() { ran <- b.d.Run(ctx, b.out) }()
	return func() error {
		cancel()
		return <-ran
	}
}

// sleepUntil sleeps until at after start, then waits for the bubble to
// settle.
func (b *bench) sleepUntil(at time.Duration) {
	time.Sleep(at - time.Since(b.start))
	synctest.Wait()
}

func TestRunSurvivesUnplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev1, dev2 := newFakeDev(), newFakeDev()
		b := newBench(t, Opts{}, errMissing, errMissing, dev1, errMissing, dev2)
		stop := b.run()

		b.sleepUntil(2 * time.Second)
		// One card split across reads in the middle of an event.
		card := encode(wordSize, typed("1234\n"))
		dev1.data <- card[:eventSize+3]
		dev1.data <- card[eventSize+3:]
		b.sleepUntil(5 * time.Second)
		close(dev1.unplug)
		b.sleepUntil(7 * time.Second)
		dev2.data <- encode(wordSize, typed("5678\n"))
		b.sleepUntil(10 * time.Second)
		if err := stop(); err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		synctest.Wait()

		want := []string{
			"0s open failed",
			"0s error: hidreader: open " + path + ": no such file or directory",
			"1s open failed", // same outage: not reported again
			"2s opened",
			"2s card 1234",
			"5s error: hidreader: read " + path + ": no such device",
			"6s open failed",
			"7s opened",
			"7s card 5678",
		}
		if diff := cmp.Diff(want, b.transcript()); diff != "" {
			t.Errorf("transcript (-want +got):\n%s", diff)
		}
		if !dev1.isClosed() || !dev2.isClosed() {
			t.Errorf("devices closed = %t, %t; want both", dev1.isClosed(), dev2.isClosed())
		}
	})
}

func TestHaltAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev := newFakeDev()
		b := newBench(t, Opts{}, dev)
		stop := b.run()
		synctest.Wait()
		if err := b.d.Run(t.Context(), b.out); err == nil {
			t.Errorf("second concurrent Run() = nil, want an error")
		}

		// Halt stops a Run blocked in Read and releases the device.
		if err := b.d.Halt(); err != nil {
			t.Errorf("Halt() = %v", err)
		}
		if !dev.isClosed() {
			t.Errorf("device open after Halt returned")
		}
		if err := stop(); err != nil {
			t.Errorf("Run() after Halt = %v, want nil", err)
		}

		// Run works again after Halt; Close stops it while it waits to reopen.
		stop = b.run()
		synctest.Wait()
		if err := b.d.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if err := stop(); err != nil {
			t.Errorf("Run() after Close = %v, want nil", err)
		}
		if err := b.d.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close() = %v, want %v", err, ErrClosed)
		}
		if err := b.d.Run(t.Context(), b.out); !errors.Is(err, ErrClosed) {
			t.Errorf("Run() after Close = %v, want %v", err, ErrClosed)
		}
		if err := b.d.Halt(); err != nil {
			t.Errorf("Halt() after Close = %v", err)
		}
		want := []string{"0s opened", "0s open failed", "0s error: hidreader: open " + path + ": no such file or directory"}
		if diff := cmp.Diff(want, b.transcript()); diff != "" {
			t.Errorf("transcript (-want +got):\n%s", diff)
		}
	})
}

// A Run blocked handing a card to a consumer that never reads still stops.
func TestCancelWhileSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev := newFakeDev()
		d, err := New(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.open = func(string) (io.ReadCloser, error) { return dev, nil }
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error)
		go func() { ran <- d.Run(ctx, make(chan string)) }()
		dev.data <- encode(wordSize, typed("1\n"))
		synctest.Wait()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if !dev.isClosed() {
			t.Errorf("device open after Run returned")
		}
	})
}

// Every cycle that opens the device and then fails is its own outage.
func TestFlappingReportsEachLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		devs := []*fakeDev{newFakeDev(), newFakeDev()}
		for _, d := range devs {
			close(d.unplug)
		}
		b := newBench(t, Opts{Reopen: 250 * time.Millisecond}, devs[0], devs[1])
		stop := b.run()
		b.sleepUntil(600 * time.Millisecond)
		stop()
		want := []string{
			"0s opened",
			"0s error: hidreader: read " + path + ": no such device",
			"250ms opened",
			"250ms error: hidreader: read " + path + ": no such device",
			"500ms open failed",
		}
		if diff := cmp.Diff(want, b.transcript()); diff != "" {
			t.Errorf("transcript (-want +got):\n%s", diff)
		}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		opts    *Opts
		want    Opts // without the callbacks
		wantErr bool
	}{
		{name: "defaults", path: path, want: Opts{MaxLen: 32, Reopen: time.Second, Terminator: TermEnter, KeyTimeout: 200 * time.Millisecond}},
		{name: "zero opts", path: path, opts: &Opts{}, want: Opts{MaxLen: 32, Reopen: time.Second, Terminator: TermEnter, KeyTimeout: 200 * time.Millisecond}},
		{
			name: "custom", path: path,
			opts: &Opts{MaxLen: 10, Hex: true, Reopen: 5 * time.Second, Terminator: TermTab, KeyTimeout: time.Second},
			want: Opts{MaxLen: 10, Hex: true, Reopen: 5 * time.Second, Terminator: TermTab, KeyTimeout: time.Second},
		},
		{name: "empty path", path: "", wantErr: true},
		{name: "negative", path: path, opts: &Opts{MaxLen: -1}, wantErr: true},
		{name: "unknown terminator", path: path, opts: &Opts{Terminator: "space"}, wantErr: true},
		{name: "key timeout too long", path: path, opts: &Opts{KeyTimeout: time.Minute}, wantErr: true},
		{name: "key timeout negative", path: path, opts: &Opts{KeyTimeout: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.path, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q, %+v) = %v, want error %t", tt.path, tt.opts, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if d.opts.OnError == nil || d.opts.OnReject == nil {
				t.Errorf("OnError or OnReject = nil, want the default")
			}
			got := d.opts
			got.OnError, got.OnOpen, got.OnReject = nil, nil, nil
			if diff := cmp.Diff(tt.want, got,
				cmp.Comparer(func(a, b func(error)) bool { return a == nil && b == nil }),
				cmp.Comparer(func(a, b func()) bool { return a == nil && b == nil }),
				cmp.Comparer(func(a, b func(string)) bool { return a == nil && b == nil }),
			); diff != "" {
				t.Errorf("opts (-want +got):\n%s", diff)
			}
			if got, want := d.String(), "hidreader("+path+")"; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		})
	}
}

// push sends evs to dev in reads of at most 32 events.
func push(dev *fakeDev, evs []event) {
	for len(evs) > 0 {
		n := min(len(evs), 32)
		dev.data <- encode(wordSize, evs[:n])
		evs = evs[n:]
	}
}

// TestRunRejects: a reader that floods garbage has each bad line rejected,
// counted and passed to OnReject; the cards typed around it are read, and
// the device stays open.
func TestRunRejects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev := newFakeDev()
		b := newBench(t, Opts{OnReject: func(why string) {}}, dev)
		b.d.opts.OnReject = func(why string) { b.note("rejected: %s", why) }
		stop := b.run()
		b.sleepUntil(time.Second)
		push(dev, typedAt("0012345678\n", time.Second, 5*time.Millisecond))
		b.sleepUntil(2 * time.Second)
		// Garbage: 200 lines of letters, then a line that never ends.
		for range 200 {
			push(dev, typedAt("QWERTY\n", 2*time.Second, 0))
		}
		push(dev, typedAt("99", 2*time.Second, 0))
		b.sleepUntil(3 * time.Second)
		push(dev, typedAt("4000000001\n", 3*time.Second, 5*time.Millisecond))
		b.sleepUntil(4 * time.Second)
		if err := stop(); err != nil {
			t.Errorf("Run() = %v", err)
		}
		synctest.Wait()
		got := b.transcript()
		want := []string{"0s opened", "1s card 0012345678"}
		for range 200 {
			want = append(want, "2s rejected: unexpected key Q (code 16)")
		}
		want = append(want, "3s rejected: no Enter within 200ms of the last key", "3s card 4000000001")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("transcript (-want +got):\n%s", diff)
		}
		if n := b.d.Rejected(); n != 201 {
			t.Errorf("Rejected() = %d, want 201", n)
		}
	})
}

// TestDefaultOnRejectLogsOnce: without OnReject the first rejection is
// logged and the rest only counted.
func TestDefaultOnRejectLogsOnce(t *testing.T) {
	var buf strings.Builder
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	d, err := New(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.opts.OnReject("unexpected key Q (code 16)")
	}
	if got := strings.Count(buf.String(), "line rejected"); got != 1 {
		t.Errorf("logged %d rejections, want 1:\n%s", got, buf.String())
	}
	if !strings.Contains(buf.String(), path) {
		t.Errorf("log %q does not name the reader %s", buf.String(), path)
	}
}
