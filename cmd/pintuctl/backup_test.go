package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/boltstore"
)

// startBoltDaemon is startDaemon on a real bbolt file, with backups served.
func startBoltDaemon(t *testing.T) (*daemon, *boltstore.Store) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "pintu.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, clock: &clock{now: t0}}
	d.ctrl, err = controller.New(controller.DefaultConfig(), store, nil, controller.Options{Now: d.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(d.ctrl, api.Options{Backup: store})
	d.sock = filepath.Join(t.TempDir(), "pintud.sock")
	ln, err := srv.Listen(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.ctrl.Run(ctx) })
	wg.Go(func() { srv.Serve(ctx, ln) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		store.Close()
	})
	return d, store
}

// TestBackupUnderLoad takes a backup while cards are being tapped: the copy
// verifies, and holds every event acknowledged before the backup began.
func TestBackupUnderLoad(t *testing.T) {
	d, _ := startBoltDaemon(t)
	ctx := context.Background()
	if err := d.ctrl.AddPerson(ctx, controller.Person{ID: "off", Name: "Joko", Roles: []controller.Role{controller.RoleOfficer}}, controller.Actor{Root: true, Via: controller.ViaSocket}); err != nil {
		t.Fatal(err)
	}

	// The load: unknown cards at the entry reader, each denied and logged,
	// until told to stop or a bound is reached.
	const maxTaps = 20_000
	var (
		acked    sync.Map // card → seq of its event, once Tap returned
		ackedMax atomic.Uint64
		stop     = make(chan struct{})
		warm     = make(chan struct{}) // closed after the first 200 taps
		loadDone = make(chan error, 1)
	)
	go func() {
		for i := range maxTaps {
			if i == 200 {
				close(warm)
			}
			select {
			case <-stop:
				loadDone <- nil
				return
			default:
			}
			card := fmt.Sprintf("C-%05d", i)
			res, err := d.ctrl.Tap(ctx, "server-room", "entry", card)
			if err != nil {
				loadDone <- err
				return
			}
			acked.Store(card, res.Seq)
			ackedMax.Store(res.Seq)
		}
		loadDone <- nil
	}()
	select {
	case <-warm:
	case err := <-loadDone:
		t.Fatalf("load ended before the backup: %v", err)
	}

	// Every event acknowledged before the backup began.
	var before []string
	acked.Range(func(k, _ any) bool { before = append(before, k.(string)); return true })
	beforeMax := ackedMax.Load()

	out := filepath.Join(t.TempDir(), "pintu-backup.db")
	r := d.run(nil, "--json", "backup", "-o", out)
	close(stop)
	if err := <-loadDone; err != nil {
		t.Fatalf("load: %v", err)
	}
	if r.err != nil {
		t.Fatalf("pintuctl backup: %v\n%s", r.err, r.stderr)
	}
	var got struct {
		File   string `json:"file"`
		Site   string `json:"site"`
		Events uint64 `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("pintuctl --json backup printed %q: %v", r.stdout, err)
	}

	info, err := boltstore.VerifyFile(out, 0)
	if err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	if info.Events < beforeMax || got.Events != info.Events || got.File != out || got.Site != "Pintu" {
		t.Errorf("backup = %+v, file holds %d events; want at least %d events (all acknowledged before it began), site Pintu",
			got, info.Events, beforeMax)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v (%v), want 0600: it holds names and ID numbers", fi.Mode(), err)
	}

	// Each acknowledged card read is in the copy, as the event Tap named.
	b, err := boltstore.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	inCopy := map[uint64]string{}
	if err := b.Events(controller.EventQuery{}, func(e controller.Event) error {
		if e.Type == controller.EventAccess {
			inCopy[e.Seq] = e.Card
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, card := range before {
		seq, _ := acked.Load(card)
		if inCopy[seq.(uint64)] != card {
			t.Errorf("card %s acknowledged as seq %d before the backup began; the copy has %q there", card, seq, inCopy[seq.(uint64)])
		}
	}
	t.Logf("%d taps acknowledged before the backup began, %d events in the copy", len(before), info.Events)
	assertNoLeftovers(t, filepath.Dir(out), []string{"pintu-backup.db"})
}

// TestBackupRefused checks what a careless operator would try: every
// refusal names the problem and leaves nothing behind.
func TestBackupRefused(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "monday.db")
	if err := os.WriteFile(existing, []byte("last week's backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "afile")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		backup api.Backuper // nil: the real store
		out    string
		want   string
	}{
		{name: "output exists", out: existing, want: "monday.db already exists; a backup never replaces a file"},
		{name: "directory missing", out: filepath.Join(dir, "no", "such", "dir", "b.db"), want: "cannot write the backup in " + filepath.Join(dir, "no", "such", "dir")},
		{name: "parent is a file", out: filepath.Join(notDir, "b.db"), want: "cannot write the backup in " + notDir},
		{name: "copy is garbage", backup: fakeCopy{data: bytes.Repeat([]byte("not bolt"), 4096)}, out: filepath.Join(dir, "garbage.db"),
			want: "the copy failed its check, so it was not kept"},
		{name: "copy cut short", backup: fakeCopy{data: []byte("partial"), err: errors.New("boltstore: backup: i/o error")},
			out: filepath.Join(dir, "short.db"), want: "boltstore: backup: i/o error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d *daemon
			if tt.backup == nil {
				d, _ = startBoltDaemon(t)
			} else {
				d = startDaemon(t, func(_ *daemon, o *api.Options) { o.Backup = tt.backup })
			}
			r := d.run(nil, "backup", "-o", tt.out)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("pintuctl backup -o %s = %v, want an error containing %q", tt.out, r.err, tt.want)
			}
			if b, err := os.ReadFile(existing); err != nil || string(b) != "last week's backup" {
				t.Errorf("the existing file now holds %q (%v)", b, err)
			}
			assertNoLeftovers(t, dir, []string{"afile", "monday.db"})
		})
	}
}

// fakeCopy is a pintud whose copy is wrong.
type fakeCopy struct {
	data []byte
	err  error
}

func (f fakeCopy) Backup(w io.Writer) (int64, error) {
	n, err := w.Write(f.data)
	if err != nil {
		return int64(n), err
	}
	return int64(n), f.err
}

// assertNoLeftovers checks dir holds exactly want: no temporary files.
func assertNoLeftovers(t *testing.T, dir string, want []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}
