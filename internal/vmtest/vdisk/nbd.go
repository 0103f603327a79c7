package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// The NBD protocol, fixed newstyle negotiation and simple replies: what
// QEMU's NBD client needs. https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
const (
	nbdMagic       = 0x4e42444d41474943 // "NBDMAGIC"
	optMagic       = 0x49484156454f5054 // "IHAVEOPT"
	repMagic       = 0x0003e889045565a9
	reqMagic       = 0x25609513
	simpleRepMagic = 0x67446698

	flagFixedNewstyle = 1 << 0
	flagNoZeroes      = 1 << 1

	optExportName = 1
	optAbort      = 2
	optInfo       = 6
	optGo         = 7

	repAck      = 1
	repInfo     = 3
	repErrUnsup = 1<<31 + 1

	infoExport    = 0
	infoBlockSize = 3

	tfHasFlags  = 1 << 0
	tfSendFlush = 1 << 2
	tfSendFUA   = 1 << 3

	cmdRead  = 0
	cmdWrite = 1
	cmdDisc  = 2
	cmdFlush = 3
	cmdFUA   = 1 << 0 // command flag

	errnoIO    = 5
	errnoInval = 22

	maxRequest = 32 << 20
)

// server answers one NBD client from a cache. When armed is set, the first
// flush (or FUA write, on an honest cache) that finds data in the cache calls
// freeze instead of being answered: the power fails with writes unflushed
// and a flush outstanding.
type server struct {
	c      *cache
	armed  *atomic.Bool
	freeze func(why string, dirty int)
	logf   func(format string, args ...any)
}

type conn struct {
	r   *bufio.Reader
	w   *bufio.Writer
	err error
}

func (c *conn) put(vs ...any) {
	for _, v := range vs {
		if c.err == nil {
			c.err = binary.Write(c.w, binary.BigEndian, v)
		}
	}
}

func (c *conn) get(vs ...any) {
	for _, v := range vs {
		if c.err == nil {
			c.err = binary.Read(c.r, binary.BigEndian, v)
		}
	}
}

func (c *conn) send() {
	if c.err == nil {
		c.err = c.w.Flush()
	}
}

func (c *conn) optReply(opt, typ uint32, data []byte) {
	c.put(uint64(repMagic), opt, typ, uint32(len(data)), data)
	c.send()
}

// serve runs the negotiation and then answers requests until the client
// disconnects (nil) or the connection fails.
func (s *server) serve(rw io.ReadWriter) error {
	c := &conn{r: bufio.NewReaderSize(rw, 1<<20), w: bufio.NewWriterSize(rw, 1<<20)}
	if err := s.negotiate(c); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<20)
	for {
		var magic, length uint32
		var flags, typ uint16
		var cookie, off uint64
		c.get(&magic, &flags, &typ, &cookie, &off, &length)
		if c.err != nil {
			if errors.Is(c.err, io.EOF) {
				return nil
			}
			return c.err
		}
		if magic != reqMagic {
			return fmt.Errorf("bad request magic %#x", magic)
		}
		if length > maxRequest {
			return fmt.Errorf("request of %d bytes", length)
		}
		if uint32(cap(buf)) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		if typ == cmdWrite {
			c.get(buf)
			if c.err != nil {
				return c.err
			}
		}
		fua := flags&cmdFUA != 0
		if s.armed != nil && s.armed.Load() && (typ == cmdFlush || (typ == cmdWrite && fua && !s.c.lying)) {
			if typ == cmdWrite {
				if err := s.c.WriteAt(buf, off, false); err != nil {
					return err
				}
			}
			if n := s.c.Dirty(); n > 0 {
				s.freeze(map[uint16]string{cmdFlush: "at a flush", cmdWrite: "at a FUA write"}[typ], n)
			}
		}
		var err error
		var reply []byte
		switch typ {
		case cmdRead:
			if err = s.c.ReadAt(buf, off); err == nil {
				reply = buf
			}
		case cmdWrite:
			err = s.c.WriteAt(buf, off, fua)
		case cmdFlush:
			err = s.c.Flush()
		case cmdDisc:
			s.logf("vdisk: disconnect: %v", s.c)
			return nil
		default:
			err = fmt.Errorf("command %d not supported", typ)
		}
		var errno uint32
		if err != nil {
			s.logf("vdisk: command %d, %d bytes at %d: %v", typ, length, off, err)
			errno = errnoIO
			if typ != cmdRead && typ != cmdWrite && typ != cmdFlush {
				errno = errnoInval
			}
		}
		c.put(uint32(simpleRepMagic), errno, cookie)
		if reply != nil {
			c.put(reply)
		}
		c.send()
		if c.err != nil {
			return c.err
		}
	}
}

func (s *server) negotiate(c *conn) error {
	c.put(uint64(nbdMagic), uint64(optMagic), uint16(flagFixedNewstyle|flagNoZeroes))
	c.send()
	var cflags uint32
	c.get(&cflags)
	tflags := uint16(tfHasFlags | tfSendFlush | tfSendFUA)
	for {
		var magic uint64
		var opt, n uint32
		c.get(&magic, &opt, &n)
		if c.err != nil {
			return c.err
		}
		if magic != optMagic || n > 1<<16 {
			return fmt.Errorf("bad option header %#x, %d bytes", magic, n)
		}
		data := make([]byte, n)
		c.get(data)
		switch opt {
		case optExportName:
			c.put(s.c.size, tflags)
			if cflags&flagNoZeroes == 0 {
				c.put(make([]byte, 124))
			}
			c.send()
			return c.err
		case optAbort:
			c.optReply(opt, repAck, nil)
			if c.err != nil {
				return c.err
			}
			return errors.New("client aborted")
		case optInfo, optGo:
			var exp [12]byte
			binary.BigEndian.PutUint16(exp[0:], infoExport)
			binary.BigEndian.PutUint64(exp[2:], s.c.size)
			binary.BigEndian.PutUint16(exp[10:], tflags)
			c.optReply(opt, repInfo, exp[:])
			var bs [14]byte
			binary.BigEndian.PutUint16(bs[0:], infoBlockSize)
			binary.BigEndian.PutUint32(bs[2:], 512)       // minimum
			binary.BigEndian.PutUint32(bs[6:], blockSize) // preferred
			binary.BigEndian.PutUint32(bs[10:], maxRequest)
			c.optReply(opt, repInfo, bs[:])
			c.optReply(opt, repAck, nil)
			if opt == optGo {
				return c.err
			}
		default:
			c.optReply(opt, repErrUnsup, nil)
		}
		if c.err != nil {
			return c.err
		}
	}
}
