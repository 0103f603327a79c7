package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
)

// blockSize is the unit of the volatile cache: what survives a cut or not.
const blockSize = 4096

// A cache is a disk's volatile write cache in front of its image. A write
// lands in the cache and is acknowledged; it reaches the image on a flush, at
// once when it carries FUA, or at a cut by chance. An honest cache writes
// back on flush and FUA; a lying one acknowledges them and does nothing.
type cache struct {
	mu    sync.Mutex
	img   *os.File
	size  uint64
	lying bool
	dirty map[uint64][]byte // block index → its bytes, not yet in the image
	cut   bool              // after Cut nothing more is accepted

	writes, flushes, fuas, writtenBack uint64
}

var errCut = errors.New("the disk has lost power")

func newCache(img *os.File, lying bool) (*cache, error) {
	st, err := img.Stat()
	if err != nil {
		return nil, err
	}
	return &cache{img: img, size: uint64(st.Size()) &^ 511, lying: lying, dirty: map[uint64][]byte{}}, nil
}

func (c *cache) inRange(off uint64, n int) error {
	if off+uint64(n) > c.size || off+uint64(n) < off {
		return fmt.Errorf("%d bytes at %d: past the end of the %d-byte disk", n, off, c.size)
	}
	return nil
}

// ReadAt reads what the guest last wrote: the cache where it holds a block,
// the image elsewhere.
func (c *cache) ReadAt(p []byte, off uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return errCut
	}
	if err := c.inRange(off, len(p)); err != nil {
		return err
	}
	for len(p) > 0 {
		i, o := off/blockSize, off%blockSize
		n := min(uint64(len(p)), blockSize-o)
		if b, ok := c.dirty[i]; ok {
			copy(p[:n], b[o:])
		} else if _, err := c.img.ReadAt(p[:n], int64(off)); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// WriteAt puts p in the cache; with fua, an honest cache writes the blocks it
// touched back before returning.
func (c *cache) WriteAt(p []byte, off uint64, fua bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return errCut
	}
	if err := c.inRange(off, len(p)); err != nil {
		return err
	}
	c.writes++
	var touched []uint64
	for len(p) > 0 {
		i, o := off/blockSize, off%blockSize
		b, ok := c.dirty[i]
		if !ok {
			b = make([]byte, blockSize)
			if _, err := c.img.ReadAt(b, int64(i*blockSize)); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
		}
		n := copy(b[o:], p)
		c.dirty[i] = b
		touched = append(touched, i)
		p, off = p[n:], off+uint64(n)
	}
	if fua {
		c.fuas++
		if !c.lying {
			for _, i := range touched {
				if err := c.writeBack(i); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Flush writes every cached block back (an honest cache), in block order.
func (c *cache) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return errCut
	}
	c.flushes++
	if c.lying {
		return nil
	}
	for _, i := range slices.Sorted(maps.Keys(c.dirty)) {
		if err := c.writeBack(i); err != nil {
			return err
		}
	}
	return nil
}

// Dirty is the number of blocks in the cache that the image does not have.
func (c *cache) Dirty() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.dirty)
}

// Cut is the power failing: each cached block reaches the image with
// probability persist, in no particular order, and the rest is lost. It
// returns how many of how many blocks were kept. Nothing is accepted after.
func (c *cache) Cut(persist float64, r *rand.Rand) (kept, dirty int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	dirty = len(c.dirty)
	for _, i := range slices.Sorted(maps.Keys(c.dirty)) { // sorted: the seed decides
		if r.Float64() < persist {
			if err := c.writeBack(i); err != nil {
				return kept, dirty, err
			}
			kept++
		}
	}
	c.dirty = map[uint64][]byte{}
	return kept, dirty, c.img.Sync()
}

func (c *cache) writeBack(i uint64) error {
	n := min(blockSize, c.size-i*blockSize)
	if _, err := c.img.WriteAt(c.dirty[i][:n], int64(i*blockSize)); err != nil {
		return err
	}
	delete(c.dirty, i)
	c.writtenBack++
	return nil
}

func (c *cache) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	mode := "honest"
	if c.lying {
		mode = "lying"
	}
	return fmt.Sprintf("mode=%s writes=%d flushes=%d fua=%d blocks_written_back=%d dirty_blocks=%d",
		mode, c.writes, c.flushes, c.fuas, c.writtenBack, len(c.dirty))
}
