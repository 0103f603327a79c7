//go:build vmtest && linux

package hidreader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pintu/pintu/drivers/hidreader"
	"github.com/pintu/pintu/internal/vmtest"
)

// TestVMKeyboardWedge: a virtual USB keyboard made through /dev/uinput
// types card numbers as a keyboard-wedge reader does; the driver reads
// them from the real evdev node and holds the exclusive grab, so no other
// reader of the device (a console, another program) sees the digits.
func TestVMKeyboardWedge(t *testing.T) {
	vmtest.Require(t)
	kb := vmtest.NewKeyboard(t, "pintu-vm-wedge")
	// A reader opened before the grab: it stays open, and must see nothing
	// while the driver holds the grab.
	// A raw non-blocking descriptor: an os.File would wait in the poller.
	spy, err := unix.Open(kb.Node, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(spy)

	opened := make(chan struct{}, 4)
	dev, err := hidreader.New(kb.Node, &hidreader.Opts{
		Reopen:  100 * time.Millisecond,
		OnError: func(err error) { t.Logf("OnError: %v", err) },
		OnOpen:  func() { opened <- struct{}{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan string, 4)
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, out) }()
	select {
	case <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("the driver did not open and grab the device within 5s")
	}

	// The grab is exclusive: another EVIOCGRAB fails with EBUSY.
	if f, err := vmtest.Grab(kb.Node); !vmtest.IsBusy(err) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("second EVIOCGRAB while the driver runs: %v, want EBUSY", err)
	}

	for _, card := range []string{"0012345678", "4000000001"} {
		if err := kb.Type(card); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-out:
			if got != card {
				t.Errorf("read %q, want %q", got, card)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("card %s: not read within 5s", card)
		}
	}
	buf := make([]byte, 24*64)
	if n, err := unix.Read(spy, buf); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("another reader of the grabbed device read %d bytes (%v), want nothing (EAGAIN)", n, err)
	}

	// Close (Halt, for good) releases the grab.
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v after Close", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of Close")
	}
	f, err := vmtest.Grab(kb.Node)
	if err != nil {
		t.Fatalf("EVIOCGRAB after Close: %v, want the grab released", err)
	}
	f.Close()
}
