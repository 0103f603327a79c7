package boltstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/storetest"
)

// damageFixture writes a state file with a person, a card and 1501 events in
// 32 commits, the last of which holds one event, so that the events bucket
// spans a branch page and many leaves and the free list is not empty.
func damageFixture(t *testing.T) (string, []controller.Event) {
	t.Helper()
	path := tempPath(t)
	// With the outbox on, nothing moves its watermark: the last commit is
	// the file's last transaction.
	s, err := Open(path, &Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	var evs []controller.Event
	last := controller.Event{}
	for i := range 31 {
		c := controller.Change{Events: storetest.Chain(last, 50)}
		if i == 0 {
			c.People = []controller.Person{{ID: "p-budi", Name: "Budi", Roles: []controller.Role{controller.RoleOfficer}}}
			c.Cards = []controller.Card{{ID: "c-1", PersonID: "p-budi", AssignedAt: storetest.EventTime(1)}}
		}
		mustCommit(t, s, c)
		evs = append(evs, c.Events...)
		last = evs[len(evs)-1]
	}
	final := storetest.Chain(last, 1)
	mustCommit(t, s, controller.Change{Events: final})
	evs = append(evs, final...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, evs
}

// pageInfo is what bbolt says of one page of a healthy file, with its bytes.
type pageInfo struct {
	id   int
	typ  string // branch, leaf, meta, freelist, free
	data []byte // the page's first page-size bytes
}

// filePages lists the pages of the healthy file at path, through bbolt.
func filePages(t *testing.T, path string) (pageSize int, pages []pageInfo) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pageSize = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for id := 0; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			pages = append(pages, pageInfo{id: id, typ: p.Type, data: raw[id*pageSize : (id+1)*pageSize]})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pageSize, pages
}

// findPage returns the id of the first page of type typ for which match is
// true.
func findPage(t *testing.T, pages []pageInfo, typ string, match func(p []byte) bool) int {
	t.Helper()
	for _, p := range pages {
		if p.typ == typ && (match == nil || match(p.data)) {
			return p.id
		}
	}
	t.Fatalf("no %s page in the fixture matches", typ)
	return 0
}

// eventLeaf is true for a leaf page of the events bucket: its first key is a
// seq and its first value an event.
func eventLeaf(p []byte) bool {
	pos, ksize := binary.LittleEndian.Uint32(p[20:]), binary.LittleEndian.Uint32(p[24:])
	return ksize == 8 && p[16+pos+ksize] == formatV1
}

// firstKey is the first key of a leaf page.
func firstKey(p []byte) uint64 {
	pos := binary.LittleEndian.Uint32(p[20:])
	return binary.BigEndian.Uint64(p[16+pos:])
}

// logLeaf returns the events leaf holding the second oldest events
// (newest: false), which the check at open does not read (it reads the
// first leaf under each branch, to know that the branch's children are
// leaves), or the newest, which it does.
func logLeaf(t *testing.T, pages []pageInfo, newest bool) int {
	t.Helper()
	var leaves []pageInfo
	for _, p := range pages {
		if p.typ == "leaf" && eventLeaf(p.data) {
			leaves = append(leaves, p)
		}
	}
	if len(leaves) < 3 {
		t.Fatal("fewer than three events leaves in the fixture")
	}
	slices.SortFunc(leaves, func(a, b pageInfo) int { return cmp.Compare(firstKey(a.data), firstKey(b.data)) })
	if newest {
		return leaves[len(leaves)-1].id
	}
	return leaves[1].id
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestOpenCorrupt damages a real file the ways a power cut on a disk that
// lies, a failing card or a careless copy do. Damage to what Open reads
// (meta pages, size, free list, the bucket list, the newest pages of the
// log) is refused at Open with an error that wraps ErrCorrupt, names the
// file and the damage, and does not come from a panic inside bbolt; the
// refusal writes nothing; and the file lock is let go (a second Open says
// the same). Damage elsewhere opens, and CheckPages, the background
// check's page walk, reports it the same way; reading the log over it is
// an integrity error, not a crash.
func TestOpenCorrupt(t *testing.T) {
	type damage func(t *testing.T, path string, ps int, pages []pageInfo) string // returns the text the error must contain
	branchElem := func(pages []pageInfo, id int, last bool) int {
		if !last {
			return 0
		}
		return int(binary.LittleEndian.Uint16(pages[id].data[10:])) - 1
	}
	tests := []struct {
		name   string
		atOpen bool // refused by Open; else found by CheckPages
		damage damage
	}{
		{"old leaf page header zeroed", false, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, false)
			writeAt(t, path, int64(id*ps), make([]byte, 16))
			return fmt.Sprintf(`bucket "events": page %d carries the id 0`, id)
		}},
		{"newest leaf page header zeroed", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, true)
			writeAt(t, path, int64(id*ps), make([]byte, 16))
			return fmt.Sprintf(`bucket "events": page %d carries the id 0`, id)
		}},
		{"leaf page type damaged", false, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, false)
			writeAt(t, path, int64(id*ps+8), u16(0x77))
			return fmt.Sprintf(`bucket "events": page %d is neither a branch nor a leaf (flags 0x77)`, id)
		}},
		{"leaf page element count damaged", false, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, false)
			writeAt(t, path, int64(id*ps+10), u16(0xffff))
			return fmt.Sprintf(`bucket "events": leaf page %d says it has 65535 elements, more than it holds`, id)
		}},
		{"newest leaf page element count damaged", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, true)
			writeAt(t, path, int64(id*ps+10), u16(0xffff))
			return fmt.Sprintf(`bucket "events": leaf page %d says it has 65535 elements, more than it holds`, id)
		}},
		{"leaf page keys out of order", false, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := logLeaf(t, pages, false)
			p := pages[id].data
			pos := binary.LittleEndian.Uint32(p[20:])
			writeAt(t, path, int64(id*ps+16+int(pos)), u64(^uint64(0))) // first key becomes the largest
			return fmt.Sprintf(`bucket "events": leaf page %d: key 0 (ffffffffffffffff) is not below the next key in its parent`, id)
		}},
		{"branch points past the end of the file", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := findPage(t, pages, "branch", nil)
			writeAt(t, path, int64(id*ps+16+16*branchElem(pages, id, false)+8), u64(1<<30))
			return fmt.Sprintf("page %d is outside the file's pages", 1<<30)
		}},
		{"branch's newest child past the end of the file", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := findPage(t, pages, "branch", nil)
			writeAt(t, path, int64(id*ps+16+16*branchElem(pages, id, true)+8), u64(1<<30))
			return fmt.Sprintf("page %d is outside the file's pages", 1<<30)
		}},
		{"branch points at itself", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			id := findPage(t, pages, "branch", nil)
			writeAt(t, path, int64(id*ps+16+8), u64(uint64(id)))
			return fmt.Sprintf("page %d is referenced twice", id)
		}},
		{"truncated to half", true, func(t *testing.T, path string, _ int, _ []pageInfo) string {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, st.Size()/2); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("file is %d bytes but its meta page", st.Size()/2)
		}},
		{"both meta pages zeroed", true, func(t *testing.T, path string, ps int, _ []pageInfo) string {
			writeAt(t, path, 0, make([]byte, 2*ps))
			return "neither meta page is valid (page 0: not a bbolt meta page; page 1: no valid meta page at any page size)"
		}},
		{"free list page type damaged", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			// What a disk that drops flushes left behind in the power-cut
			// test: bbolt panics with "invalid freelist page".
			id := findPage(t, pages, "freelist", nil)
			writeAt(t, path, int64(id*ps+8), u16(0x02))
			return fmt.Sprintf("free list: page %d is not a free list page (flags 0x2)", id)
		}},
		{"free list count damaged", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			// bbolt would read (and copy) a billion page ids.
			id := findPage(t, pages, "freelist", nil)
			writeAt(t, path, int64(id*ps+10), u16(0xffff))
			writeAt(t, path, int64(id*ps+16), u64(1<<30))
			return fmt.Sprintf("free list: page %d says it lists %d pages, more than it holds", id, 1<<30)
		}},
		{"free list holds the newest leaf", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			fl := findPage(t, pages, "freelist", nil)
			leaf := logLeaf(t, pages, true)
			writeAt(t, path, int64(fl*ps+16), u64(uint64(leaf)))
			return fmt.Sprintf("page %d is in use and on the free list", leaf)
		}},
		{"free list holds an old leaf", true, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			fl := findPage(t, pages, "freelist", nil)
			leaf := logLeaf(t, pages, false)
			writeAt(t, path, int64(fl*ps+16), u64(uint64(leaf)))
			return fmt.Sprintf("page %d is in use and on the free list", leaf)
		}},
		{"a page neither in use nor free", false, func(t *testing.T, path string, ps int, pages []pageInfo) string {
			fl := findPage(t, pages, "freelist", nil)
			n := binary.LittleEndian.Uint16(pages[fl].data[10:])
			lost := binary.LittleEndian.Uint64(pages[fl].data[16+8*(int(n)-1):])
			writeAt(t, path, int64(fl*ps+10), u16(n-1))
			return fmt.Sprintf("page %d is neither in use nor on the free list", lost)
		}},
		{"not a bbolt file", true, func(t *testing.T, path string, _ int, _ []pageInfo) string {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file\n", 1024)), 0o600); err != nil {
				t.Fatal(err)
			}
			return "neither meta page is valid"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := damageFixture(t)
			ps, pages := filePages(t, path)
			want := tt.damage(t, path, ps, pages)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, err error) {
				t.Helper()
				msg := err.Error()
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, want) {
					t.Errorf("%s = %q, want an error wrapping ErrCorrupt saying %q", what, msg, want)
				}
				if strings.Contains(msg, "panicked") || strings.Contains(msg, "\n") {
					t.Errorf("%s = %q, want one line found by the check, not a recovered panic", what, msg)
				}
			}
			if !tt.atOpen {
				s, err := Open(path, nil)
				if err != nil {
					t.Fatalf("Open() = %v, want the damage left to the background check", err)
				}
				defer s.Close()
				err = s.CheckPages()
				if err == nil {
					t.Fatal("CheckPages() = nil, want the damage")
				}
				check("CheckPages()", err)
				// Reading the log across the damage is an error, or the
				// events; never a crash.
				_ = s.Events(controller.EventQuery{}, func(controller.Event) error { return nil })
				return
			}
			for range 2 { // the second time: the lock was let go
				s, err := Open(path, nil)
				if err == nil {
					s.Close()
					t.Fatalf("Open(%q) of a damaged file = nil error, want one wrapping ErrCorrupt", path)
				}
				check("Open()", err)
				if !strings.Contains(err.Error(), path) {
					t.Errorf("Open() = %q, want it to name %s", err, path)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("Open() of a damaged file changed it")
			}
		})
	}
}

// TestOpenOneMetaZeroed: bbolt keeps two meta pages and uses the valid one
// with the higher transaction id, so a file with one meta page destroyed
// opens. Losing the older one loses nothing; losing the newer one takes the
// file back to the transaction before it, here the last commit's one event.
func TestOpenOneMetaZeroed(t *testing.T) {
	for _, newer := range []bool{false, true} {
		t.Run(fmt.Sprintf("newer=%v", newer), func(t *testing.T) {
			path, evs := damageFixture(t)
			ps, pages := filePages(t, path)
			txid := func(p pageInfo) uint64 { return binary.LittleEndian.Uint64(p.data[16+48:]) }
			zero := 0
			if (txid(pages[1]) > txid(pages[0])) == newer {
				zero = 1
			}
			writeAt(t, path, int64(zero*ps), make([]byte, ps))
			want := evs
			if newer {
				want = evs[:len(evs)-1]
			}

			s := openTest(t, path, nil)
			if diff := gocmp.Diff(want, readAll(t, s)); diff != "" {
				t.Errorf("Events() after zeroing meta page %d mismatch (-want +got):\n%s", zero, diff)
			}
			snap, err := s.Load()
			if err != nil || snap.NumPeople != 1 || snap.Last.Seq != want[len(want)-1].Seq {
				t.Errorf("Load() = %d people, last seq %d, err %v; want 1, %d, nil",
					snap.NumPeople, snap.Last.Seq, err, want[len(want)-1].Seq)
			}
			if _, ok, err := s.Card("c-1"); !ok || err != nil {
				t.Errorf("Card(c-1) = %v, %v; want it", ok, err)
			}
			// It goes on working: the next commit follows.
			mustCommit(t, s, controller.Change{Events: storetest.Chain(want[len(want)-1], 1)})
		})
	}
}

// TestGuard: a panic inside bbolt that the check did not foresee becomes a
// one-line error, in the caller's goroutine.
func TestGuard(t *testing.T) {
	err := guard("open", func() error { panic("invalid freelist page: 7\npage type is leaf") })
	var pe *panicError
	if !errors.As(err, &pe) || err.Error() != "bbolt panicked during open: invalid freelist page: 7 page type is leaf" {
		t.Errorf("guard(panic) = %v, want a *panicError on one line", err)
	}
	want := errors.New("plain")
	if err := guard("open", func() error { return want }); err != want {
		t.Errorf("guard(return err) = %v, want %v", err, want)
	}
}
