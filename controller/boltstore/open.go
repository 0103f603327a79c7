package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrCorrupt is wrapped by Open's error when the file is damaged: its meta
// pages, its free list or its B+tree do not hold together, or it is not a
// pintu state file at all. Restarting cannot help; a person has to restore a
// backup. The error names the file and the first problem found.
var ErrCorrupt = errors.New("state file is damaged")

// openChecked opens the bbolt file at path after checking, under the file's
// lock and before bbolt reads or writes anything, what bbolt and pintud
// read at start (checkSpine): the meta pages, the file's size, the free
// list, the bucket list, the small buckets loaded whole, and the newest
// pages of the log. bbolt trusts its file: on a damaged one it panics
// ("invalid freelist page"), faults on a page past the end of a truncated
// file, or allocates whatever a damaged count says. Damage is reported as an
// error wrapping ErrCorrupt instead. A panic inside bbolt that the check did
// not foresee is recovered and reported the same way. The rest of the file
// is read, and checked, later: every read is guarded (Store.view), and the
// background integrity check walks every page (CheckPages).
func openChecked(path string, bo *bolt.Options) (db *bolt.DB, err error) {
	if err := precheck(path, bo.Timeout); err != nil {
		return nil, err
	}
	// bbolt does not hand the *DB back when Open panics: keep its file to
	// close it. Its memory map, which holds the file and so its lock, stays
	// until the process exits, which pintud does on this error.
	var f *os.File
	o := *bo
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		var err error
		f, err = os.OpenFile(name, flag, perm)
		return f, err
	}
	err = guard("open", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &o)
		return err
	})
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch),
		errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return db, err
}

// precheck runs checkPages on the file at path while holding the same lock
// bbolt takes, waiting for it up to timeout (then failing with an error that
// wraps bbolt's ErrTimeout, as bbolt would). The lock is let go just before
// bbolt takes it again. A missing or empty file is left to bbolt, which
// creates it; an unreadable one too, for bbolt's own wording.
func precheck(path string, timeout time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			return fmt.Errorf("lock: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lock: %w", bolterrors.ErrTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	st, err := f.Stat()
	if err != nil || st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		// Empty: bbolt makes a new file. Too big to map (a 32-bit Pi and
		// over 2 GiB): bbolt cannot map it either, and says so.
		return nil
	}
	// Mapped read-only, as bbolt maps it: no copy of a page, and a slice
	// that is bounds-checked, unlike bbolt's pointers.
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("check: map %d bytes: %w", st.Size(), err)
	}
	defer syscall.Munmap(data)
	// A fault (the file shrinking under the map) is a panic, not a crash.
	if err := guard("check", func() error { return checkTree(data, 0, true) }); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// CheckPages checks every page of the file, as a consistent snapshot: it
// holds a read transaction (so that no page it reaches is reused) and
// checks the tree of that transaction's meta page in a read-only map of
// its own. It is the background integrity check's last part; damage is an
// error wrapping ErrCorrupt.
func (s *Store) CheckPages() error {
	return s.view(func(tx *bolt.Tx) error {
		f, err := os.Open(s.db.Path())
		if err != nil {
			return fmt.Errorf("check pages: %w", err)
		}
		defer f.Close()
		size := tx.Size()
		if size <= 0 || size != int64(int(size)) {
			return nil
		}
		data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("check pages: map %d bytes: %w", size, err)
		}
		defer syscall.Munmap(data)
		if err := guard("check", func() error { return checkTree(data, uint64(tx.ID()), false) }); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil
	})
}

// panicError is a panic (or a memory fault) inside bbolt, turned into an
// error.
type panicError struct {
	during string
	value  any
}

func (e *panicError) Error() string {
	// One line: the value of a panic is bbolt's own message.
	msg := strings.Join(strings.Fields(fmt.Sprint(e.value)), " ")
	return fmt.Sprintf("bbolt panicked during %s: %s", e.during, msg)
}

// guard runs fn, turning a panic or a memory fault (a page read past the end
// of the mapped file) into a *panicError. It runs in the caller's goroutine:
// SetPanicOnFault applies to one goroutine.
func guard(during string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{during: during, value: v}
		}
	}()
	return fn()
}

// bbolt's on-disk format, version 2. bbolt writes it in the machine's byte
// order; every target of pintud is little-endian.
const (
	metaMagic   = 0xED0CDAED
	metaVersion = 2
	pageHeader  = 16 // id u64, flags u16, count u16, overflow u32
	elemSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	metaSize    = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	inBucket    = 16 // root pgid, sequence u64: a bucket's value

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
	leafIsBucket = 0x01

	noFreelist = ^uint64(0)
	maxDepth   = 64 // a B+tree of pages this deep is a loop, not a tree
)

var le = binary.LittleEndian

type meta struct {
	ok                   bool
	why                  string // when !ok
	pageSize             uint64
	root, freelist, pgid uint64
	txid                 uint64
}

// checkTree checks the bbolt file data without trusting it, the way bbolt's
// own Check would but with bounds-checked slices: the two meta pages, and of
// the one bbolt will use (the valid one with the higher transaction id, or
// the one of transaction txid if it is not 0) that its pages lie inside the
// file; the free list; and the B+tree: every page inside the file, carrying
// its own id, a branch or a leaf, referenced once, its elements inside the
// page and its keys in order. Every page must be either in the tree or free.
// It reads each page once. With spine set, it walks only what Open and
// Load read: the bucket list, the small buckets whole, the root page of
// each other bucket, and the newest pages of the log and of the visits.
func checkTree(data []byte, txid uint64, spine bool) error {
	size := uint64(len(data))
	m0 := readMeta(data, 0)
	// The second meta page is one page in: its size is in the first meta
	// page or, when that is damaged, one of the sizes bbolt tries.
	m1 := meta{why: "no valid meta page at any page size"}
	if m0.ok {
		m1 = readMeta(data, m0.pageSize)
	} else {
		for ps := uint64(1024); ps <= 1<<24; ps <<= 1 {
			if m := readMeta(data, ps); m.ok && m.pageSize == ps {
				m1 = m
				break
			}
		}
	}
	m := m0
	switch {
	case !m0.ok && !m1.ok:
		return fmt.Errorf("neither meta page is valid (page 0: %s; page 1: %s)", m0.why, m1.why)
	case txid != 0:
		if m1.ok && m1.txid == txid {
			m = m1
		} else if !m0.ok || m0.txid != txid {
			return fmt.Errorf("no meta page of transaction %d", txid)
		}
	case !m0.ok || (m1.ok && m1.txid > m0.txid):
		m = m1
	}
	if end := m.pgid * m.pageSize; m.pgid < 3 || end/m.pageSize != m.pgid || end > size {
		return fmt.Errorf("file is %d bytes but its meta page (transaction %d) says it holds %d pages of %d bytes (truncated?)",
			size, m.txid, m.pgid, m.pageSize)
	}
	c := &checker{data: data, ps: m.pageSize, pgid: m.pgid, spine: spine,
		used: make([]bool, m.pgid), free: make([]bool, m.pgid)}
	c.used[0], c.used[1] = true, true
	if m.freelist != noFreelist {
		if err := c.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := c.tree(m.root, "the root bucket", nil, nil, 0, true, walkAll); err != nil {
		return err
	}
	if spine {
		return nil // pages not walked are neither used nor known free
	}
	for id := uint64(2); id < m.pgid; id++ {
		switch {
		case c.used[id] && c.free[id]:
			return fmt.Errorf("page %d is both in use and on the free list", id)
		case !c.used[id] && !c.free[id]:
			return fmt.Errorf("page %d is neither in use nor on the free list", id)
		}
	}
	return nil
}

// readMeta reads and validates the meta page at off, as bbolt's Validate does.
func readMeta(data []byte, off uint64) meta {
	if off+pageHeader+metaSize > uint64(len(data)) {
		return meta{why: "past the end of the file"}
	}
	d := data[off+pageHeader : off+pageHeader+metaSize]
	switch {
	case le.Uint32(d[0:]) != metaMagic:
		return meta{why: "not a bbolt meta page"}
	case le.Uint32(d[4:]) != metaVersion:
		return meta{why: fmt.Sprintf("format version %d, want %d", le.Uint32(d[4:]), metaVersion)}
	}
	h := fnv.New64a()
	h.Write(d[:56])
	if h.Sum64() != le.Uint64(d[56:]) {
		return meta{why: "bad checksum"}
	}
	m := meta{
		ok:       true,
		pageSize: uint64(le.Uint32(d[8:])),
		root:     le.Uint64(d[16:]),
		freelist: le.Uint64(d[32:]),
		pgid:     le.Uint64(d[40:]),
		txid:     le.Uint64(d[48:]),
	}
	if m.pageSize < 1024 || m.pageSize > 1<<24 || m.pageSize&(m.pageSize-1) != 0 {
		return meta{why: fmt.Sprintf("page size %d", m.pageSize)}
	}
	return m
}

type checker struct {
	data       []byte
	ps, pgid   uint64
	used, free []bool
	spine      bool
}

// How much of a bucket's tree a check walks.
type walk int

const (
	walkAll       walk = iota // every page
	walkBranches              // every branch page; of the leaves, only their ids
	walkBranchesR             // walkBranches, and the newest leaf in full
)

// spineWalk says how much of each bucket the check at open walks: all of
// what Load reads whole; of the rest, the branch pages, which is what a
// read walks through (a branch that points back up would send bbolt
// round in circles until the stack overflows: a crash no recover stops),
// and the leaf holding the newest keys of what Load reads the end of.
// The leaves are read later, through guarded reads, and checked by the
// background check.
func spineWalk(name []byte) walk {
	switch string(name) {
	case "meta", "inside", "keys", "commands", "alarms", "doors":
		return walkAll
	case "events", "visits_by_number":
		return walkBranchesR
	}
	return walkBranches
}

// mark records a page as referenced without reading it: inside the file,
// referenced once, not free.
func (c *checker) mark(id uint64, what string) error {
	if id < 2 || id >= c.pgid {
		return fmt.Errorf("%s: page %d is outside the file's pages 2..%d", what, id, c.pgid-1)
	}
	switch {
	case c.used[id]:
		return fmt.Errorf("%s: page %d is referenced twice", what, id)
	case c.free[id]:
		return fmt.Errorf("%s: page %d is in use and on the free list", what, id)
	}
	c.used[id] = true
	return nil
}

// page returns page id with its overflow pages, after marking them used, and
// its flags and element count.
func (c *checker) page(id uint64, what string) (flags, count uint16, p []byte, err error) {
	if id < 2 || id >= c.pgid {
		return 0, 0, nil, fmt.Errorf("%s: page %d is outside the file's pages 2..%d", what, id, c.pgid-1)
	}
	h := c.data[id*c.ps:]
	if got := le.Uint64(h[0:]); got != id {
		return 0, 0, nil, fmt.Errorf("%s: page %d carries the id %d", what, id, got)
	}
	flags, count = le.Uint16(h[8:]), le.Uint16(h[10:])
	over := uint64(le.Uint32(h[12:]))
	if id+over >= c.pgid {
		return 0, 0, nil, fmt.Errorf("%s: page %d runs %d pages past the file's last page %d", what, id, over, c.pgid-1)
	}
	for i := id; i <= id+over; i++ {
		if c.used[i] {
			return 0, 0, nil, fmt.Errorf("%s: page %d is referenced twice", what, i)
		}
		if c.spine && c.free[i] {
			return 0, 0, nil, fmt.Errorf("%s: page %d is in use and on the free list", what, i)
		}
		c.used[i] = true
	}
	return flags, count, c.data[id*c.ps : (id+over+1)*c.ps], nil
}

func (c *checker) freelist(id uint64) error {
	flags, count, p, err := c.page(id, "free list")
	if err != nil {
		return err
	}
	if flags != flagFreelist {
		return fmt.Errorf("free list: page %d is not a free list page (flags %#x)", id, flags)
	}
	start, n := uint64(pageHeader), uint64(count)
	if count == 0xFFFF { // the count is in the first element
		n, start = le.Uint64(p[pageHeader:]), pageHeader+8
	}
	if n > (uint64(len(p))-start)/8 {
		return fmt.Errorf("free list: page %d says it lists %d pages, more than it holds", id, n)
	}
	for i := range n {
		f := le.Uint64(p[start+8*i:])
		switch {
		case f < 2 || f >= c.pgid:
			return fmt.Errorf("free list: page %d is outside the file's pages 2..%d", f, c.pgid-1)
		case c.free[f]:
			return fmt.Errorf("free list: page %d is listed twice", f)
		}
		c.free[f] = true
	}
	return nil
}

// tree checks the pages of the B+tree rooted at page id, whose keys must lie
// in [lo, hi) (nil: unbounded). In the root bucket every entry is a bucket.
func (c *checker) tree(id uint64, bucket string, lo, hi []byte, depth int, root bool, mode walk) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: pages nested more than %d deep at page %d", bucket, maxDepth, id)
	}
	flags, count, p, err := c.page(id, bucket)
	if err != nil {
		return err
	}
	switch flags {
	case flagLeaf:
		return c.leaf(p, count, bucket, id, lo, hi, depth, root, mode)
	case flagBranch:
	default:
		return fmt.Errorf("%s: page %d is neither a branch nor a leaf (flags %#x)", bucket, id, flags)
	}
	if count == 0 {
		return fmt.Errorf("%s: branch page %d is empty", bucket, id)
	}
	n := uint64(count)
	if pageHeader+n*elemSize > uint64(len(p)) {
		return fmt.Errorf("%s: branch page %d says it has %d elements, more than it holds", bucket, id, count)
	}
	key := func(i uint64) ([]byte, uint64, error) {
		e := pageHeader + i*elemSize
		pos, ksize := uint64(le.Uint32(p[e:])), uint64(le.Uint32(p[e+4:]))
		if ksize == 0 || e+pos+ksize > uint64(len(p)) {
			return nil, 0, fmt.Errorf("%s: branch page %d: element %d lies outside the page", bucket, id, i)
		}
		return p[e+pos : e+pos+ksize], le.Uint64(p[e+8:]), nil
	}
	var prev []byte
	leaves := false // the children are leaves: only the first is read
	for i := range n {
		k, child, err := key(i)
		if err != nil {
			return err
		}
		if i == 0 && mode != walkAll && child < c.pgid {
			leaves = le.Uint16(c.data[child*c.ps+8:]) == flagLeaf
		}
		switch {
		case i == 0 && lo != nil && bytes.Compare(k, lo) < 0:
			return fmt.Errorf("%s: branch page %d: key 0 (%x) is below its parent's key %x", bucket, id, k, lo)
		case i > 0 && bytes.Compare(k, prev) <= 0:
			return fmt.Errorf("%s: branch page %d: key %d (%x) does not follow %x", bucket, id, i, k, prev)
		case hi != nil && bytes.Compare(k, hi) >= 0:
			return fmt.Errorf("%s: branch page %d: key %d (%x) is not below the next key in its parent, %x", bucket, id, i, k, hi)
		}
		next := hi
		if i+1 < n {
			if next, _, err = key(i + 1); err != nil {
				return err
			}
		}
		if mode == walkAll || !leaves || i == 0 || (mode == walkBranchesR && i+1 == n) {
			err = c.tree(child, bucket, k, next, depth+1, root, mode)
		} else {
			err = c.mark(child, bucket)
		}
		if err != nil {
			return err
		}
		prev = k
	}
	return nil
}

// leaf checks a leaf page's elements, and walks the buckets it holds. id is
// 0 for an inline bucket's page.
func (c *checker) leaf(p []byte, count uint16, bucket string, id uint64, lo, hi []byte, depth int, root bool, mode walk) error {
	where := func() string {
		if id == 0 {
			return "inline leaf"
		}
		return fmt.Sprintf("leaf page %d", id)
	}
	n := uint64(count)
	if pageHeader+n*elemSize > uint64(len(p)) {
		return fmt.Errorf("%s: %s says it has %d elements, more than it holds", bucket, where(), count)
	}
	prev := lo
	for i := range n {
		e := pageHeader + i*elemSize
		flags := le.Uint32(p[e:])
		pos, ksize, vsize := uint64(le.Uint32(p[e+4:])), uint64(le.Uint32(p[e+8:])), uint64(le.Uint32(p[e+12:]))
		if ksize == 0 || e+pos+ksize+vsize > uint64(len(p)) {
			return fmt.Errorf("%s: %s: element %d lies outside the page", bucket, where(), i)
		}
		k, v := p[e+pos:e+pos+ksize], p[e+pos+ksize:e+pos+ksize+vsize]
		if prev != nil {
			// The first key may equal the parent's; later ones must grow.
			if cmp := bytes.Compare(k, prev); cmp < 0 || (cmp == 0 && i > 0) {
				return fmt.Errorf("%s: %s: key %d (%x) does not follow %x", bucket, where(), i, k, prev)
			}
		}
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			return fmt.Errorf("%s: %s: key %d (%x) is not below the next key in its parent, %x", bucket, where(), i, k, hi)
		}
		prev = k
		isBucket := flags&leafIsBucket != 0
		if root && !isBucket {
			return fmt.Errorf("%s: key %q is not a bucket", bucket, k)
		}
		if !isBucket {
			continue
		}
		name := fmt.Sprintf("bucket %q", k)
		if !root {
			name = fmt.Sprintf("%s, bucket %q", bucket, k)
		}
		if len(v) < inBucket {
			return fmt.Errorf("%s: %d bytes, too short for a bucket", name, len(v))
		}
		sub := mode
		if root && c.spine {
			sub = spineWalk(k)
		}
		if pg := le.Uint64(v); pg != 0 {
			if err := c.tree(pg, name, nil, nil, depth+1, false, sub); err != nil {
				return err
			}
			continue
		}
		// An inline bucket: its one leaf page is in the value.
		in := v[inBucket:]
		if len(in) < pageHeader || le.Uint16(in[8:]) != flagLeaf {
			return fmt.Errorf("%s: inline bucket is not a leaf page", name)
		}
		if err := c.leaf(in, le.Uint16(in[10:]), name, 0, nil, nil, depth+1, false, sub); err != nil {
			return err
		}
	}
	return nil
}
