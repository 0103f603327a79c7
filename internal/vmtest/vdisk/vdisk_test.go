package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

const diskSize = 64 * blockSize

// newDisk returns a cache over a fresh image whose every byte is 0xEE, and
// the image's path.
func newDisk(t *testing.T, lying bool) (*cache, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xEE}, diskSize), 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	c, err := newCache(img, lying)
	if err != nil {
		t.Fatal(err)
	}
	return c, path
}

// image returns n bytes of the image file at off, as a reboot would see them.
func image(t *testing.T, path string, off, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[off : off+n]
}

func fill(v byte, n int) []byte { return bytes.Repeat([]byte{v}, n) }

// TestCache: what reaches the image, and when, for an honest and a lying
// cache; the guest always reads back what it wrote.
func TestCache(t *testing.T) {
	old := fill(0xEE, 3*blockSize)
	// A write that straddles three blocks, unaligned at both ends.
	data, off := fill(0x11, 2*blockSize+100), blockSize-50
	tests := []struct {
		name  string
		lying bool
		act   func(c *cache) error
		want  []byte // the image over blocks 0..2 afterwards
	}{
		{"unflushed write stays in the cache", false, func(c *cache) error { return c.WriteAt(data, uint64(off), false) }, old},
		{"flush writes it back", false, func(c *cache) error {
			if err := c.WriteAt(data, uint64(off), false); err != nil {
				return err
			}
			return c.Flush()
		}, written(old, data, off)},
		{"FUA writes it back at once", false, func(c *cache) error { return c.WriteAt(data, uint64(off), true) }, written(old, data, off)},
		{"a lying cache drops the flush", true, func(c *cache) error {
			if err := c.WriteAt(data, uint64(off), false); err != nil {
				return err
			}
			return c.Flush()
		}, old},
		{"a lying cache drops FUA", true, func(c *cache) error { return c.WriteAt(data, uint64(off), true) }, old},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path := newDisk(t, tt.lying)
			if err := tt.act(c); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(data))
			if err := c.ReadAt(got, uint64(off)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("ReadAt() after the write = %x..., %v; want the written bytes", got[:8], err)
			}
			if img := image(t, path, 0, 3*blockSize); !bytes.Equal(img, tt.want) {
				t.Errorf("image after %q differs from what a reboot should find", tt.name)
			}
		})
	}
}

func written(old, data []byte, off int) []byte {
	b := bytes.Clone(old)
	copy(b[off:], data)
	return b
}

// TestCut: at a cut each cached block survives whole or not at all, with the
// given probability, chosen by the seed; nothing is accepted after.
func TestCut(t *testing.T) {
	for _, tt := range []struct {
		persist  float64
		min, max int // blocks of 32 that survive
	}{{0, 0, 0}, {1, 32, 32}, {0.5, 8, 24}} {
		c, path := newDisk(t, false)
		for i := range 32 {
			if err := c.WriteAt(fill(byte(i+1), blockSize), uint64(i*blockSize), false); err != nil {
				t.Fatal(err)
			}
		}
		kept, dirty, err := c.Cut(tt.persist, rand.New(rand.NewPCG(7, 7)))
		if err != nil || dirty != 32 || kept < tt.min || kept > tt.max {
			t.Errorf("Cut(%v) = %d of %d kept, %v; want %d..%d of 32", tt.persist, kept, dirty, err, tt.min, tt.max)
		}
		n := 0
		for i := range 32 {
			switch b := image(t, path, i*blockSize, blockSize); {
			case bytes.Equal(b, fill(byte(i+1), blockSize)):
				n++
			case !bytes.Equal(b, fill(0xEE, blockSize)):
				t.Errorf("block %d after the cut is torn: neither old nor new", i)
			}
		}
		if n != kept {
			t.Errorf("Cut(%v) said %d blocks were kept; the image has %d", tt.persist, kept, n)
		}
		if err := c.WriteAt([]byte{1}, 0, false); err == nil {
			t.Errorf("WriteAt() after the cut = nil, want an error")
		}
	}
}

func TestOutOfRange(t *testing.T) {
	c, _ := newDisk(t, false)
	if err := c.WriteAt(fill(1, 10), diskSize-5, false); err == nil {
		t.Errorf("WriteAt() past the end = nil, want an error")
	}
	if err := c.ReadAt(make([]byte, 10), diskSize-5); err == nil {
		t.Errorf("ReadAt() past the end = nil, want an error")
	}
}

// client is the client side of the NBD protocol, as QEMU speaks it.
type client struct {
	t  *testing.T
	nc net.Conn
}

func (c client) put(vs ...any) {
	c.t.Helper()
	for _, v := range vs {
		if err := binary.Write(c.nc, binary.BigEndian, v); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c client) get(vs ...any) {
	c.t.Helper()
	for _, v := range vs {
		if err := binary.Read(c.nc, binary.BigEndian, v); err != nil {
			c.t.Fatal(err)
		}
	}
}

// request sends a command and returns the reply's error number.
func (c client) request(typ, flags uint16, off uint64, data []byte, readLen uint32) (uint32, []byte) {
	c.t.Helper()
	n := readLen
	if typ == cmdWrite {
		n = uint32(len(data))
	}
	c.put(uint32(reqMagic), flags, typ, uint64(42), off, n)
	if typ == cmdWrite {
		c.put(data)
	}
	var magic, errno uint32
	var cookie uint64
	c.get(&magic, &errno, &cookie)
	if magic != simpleRepMagic || cookie != 42 {
		c.t.Fatalf("reply magic %#x cookie %d, want %#x and 42", magic, cookie, simpleRepMagic)
	}
	var out []byte
	if typ == cmdRead && errno == 0 {
		out = make([]byte, readLen)
		if _, err := io.ReadFull(c.nc, out); err != nil {
			c.t.Fatal(err)
		}
	}
	return errno, out
}

// TestNBD: negotiation with NBD_OPT_GO, then write, read back, flush and
// disconnect, over a connection; and an armed server freezes at the first
// flush that finds data in the cache, without answering it.
func TestNBD(t *testing.T) {
	c, path := newDisk(t, false)
	var armed atomic.Bool
	frozen := make(chan int, 1)
	done := make(chan struct{})
	s := &server{c: c, armed: &armed, logf: t.Logf, freeze: func(_ string, dirty int) {
		frozen <- dirty
		<-done // frozen until the test ends
	}}
	cli, srv := net.Pipe()
	served := make(chan error, 1)
	go func() { served <- s.serve(srv) }()
	defer func() {
		close(done)
		cli.Close()
		<-served
	}()
	cl := client{t: t, nc: cli}
	cli.SetDeadline(time.Now().Add(10 * time.Second))

	var magic, opt uint64
	var hflags uint16
	cl.get(&magic, &opt, &hflags)
	if magic != nbdMagic || opt != optMagic || hflags&flagFixedNewstyle == 0 {
		t.Fatalf("greeting %#x %#x flags %#x", magic, opt, hflags)
	}
	cl.put(uint32(flagFixedNewstyle | flagNoZeroes))
	name := []byte{}
	cl.put(uint64(optMagic), uint32(optGo), uint32(4+len(name)+2), uint32(len(name)), name, uint16(0))
	var size uint64
	var tflags uint16
	for {
		var rmagic uint64
		var ropt, rtype, rlen uint32
		cl.get(&rmagic, &ropt, &rtype, &rlen)
		body := make([]byte, rlen)
		cl.get(body)
		if rmagic != repMagic || ropt != optGo {
			t.Fatalf("option reply %#x for option %d", rmagic, ropt)
		}
		if rtype == repAck {
			break
		}
		if rtype == repInfo && binary.BigEndian.Uint16(body) == infoExport {
			size, tflags = binary.BigEndian.Uint64(body[2:]), binary.BigEndian.Uint16(body[10:])
		}
	}
	if size != diskSize || tflags&(tfSendFlush|tfSendFUA) != tfSendFlush|tfSendFUA {
		t.Fatalf("export size %d flags %#x, want %d with flush and FUA", size, tflags, diskSize)
	}

	data := fill(0x5A, 3000)
	if errno, _ := cl.request(cmdWrite, 0, 5000, data, 0); errno != 0 {
		t.Fatalf("write: errno %d", errno)
	}
	if errno, got := cl.request(cmdRead, 0, 5000, nil, 3000); errno != 0 || !bytes.Equal(got, data) {
		t.Fatalf("read back: errno %d, equal %v", errno, bytes.Equal(got, data))
	}
	if !bytes.Equal(image(t, path, 5000, 3000), fill(0xEE, 3000)) {
		t.Errorf("the image has the write before any flush")
	}
	if errno, _ := cl.request(cmdFlush, 0, 0, nil, 0); errno != 0 {
		t.Fatalf("flush: errno %d", errno)
	}
	if !bytes.Equal(image(t, path, 5000, 3000), data) {
		t.Errorf("the image lacks the write after the flush")
	}
	if errno, _ := cl.request(cmdRead, 0, diskSize-10, nil, 20); errno != errnoIO {
		t.Errorf("read past the end: errno %d, want %d", errno, errnoIO)
	}

	// Armed: a flush with nothing cached is answered, one with data is not.
	armed.Store(true)
	if errno, _ := cl.request(cmdFlush, 0, 0, nil, 0); errno != 0 {
		t.Fatalf("armed flush of a clean cache: errno %d", errno)
	}
	if errno, _ := cl.request(cmdWrite, 0, 0, fill(1, 512), 0); errno != 0 {
		t.Fatalf("write: errno %d", errno)
	}
	cl.put(uint32(reqMagic), uint16(0), uint16(cmdFlush), uint64(43), uint64(0), uint32(0))
	select {
	case n := <-frozen:
		if n != 1 {
			t.Errorf("frozen with %d dirty blocks, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the armed server answered a flush that found data in the cache")
	}
}
