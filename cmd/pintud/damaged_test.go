package main_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pintu/pintu/controller/anchor"
)

// exitRefused is the exit status pintud's package comment documents for a
// state file a person must deal with.
const exitRefused = 3

// The integrity tests damage a state directory written by pintud itself
// (pintu.db and its anchor) in each of the ways the integrity issue lists,
// and check exactly what pintud does: refuse with one line and status 3,
// or start with the integrity alarm raised, every entry refused
// integrity_failure and egress still granted, until the head accepts the
// break.

var fixture struct {
	once sync.Once
	dir  string // a data directory to copy
	last uint64 // its newest event
	err  error
}

// stateDir returns a copy of a state directory pintud wrote: six people
// with cards (budi, a visitor, with an approved visit), 300 staff reads in
// and out, a clean stop. The first call builds it.
func stateDir(t *testing.T) (data string, last uint64) {
	t.Helper()
	pintud, _ := binaries(t)
	fixture.once.Do(func() { fixture.dir, fixture.last, fixture.err = buildFixture(pintud) })
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(fixture.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// Each file keeps its mode: the site key must stay private.
		from := filepath.Join(fixture.dir, e.Name())
		st, err := os.Stat(from)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, e.Name()), b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return data, fixture.last
}

func buildFixture(pintud string) (string, uint64, error) {
	dir, err := os.MkdirTemp(bin.dir, "damage") // removed with the binaries
	if err != nil {
		return "", 0, err
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(pintud, "-sim", "-data", data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	c := &apiClient{sock: filepath.Join(data, "pintud.sock")}
	if err := c.wait(); err != nil {
		cmd.Process.Kill()
		return "", 0, fmt.Errorf("%v\n%s", err, &out)
	}
	for _, p := range [][]string{{"adm", "admin"}, {"koor", "coordinator"}, {"kabid", "head"}, {"oki", "officer"}, {"budi", "visitor"}, {"rina", "officer"}} {
		if _, err := c.call("POST", "/v1/people", map[string]any{"id": p[0], "name": strings.ToUpper(p[0]), "roles": []string{p[1]}}); err != nil {
			return "", 0, err
		}
		if _, err := c.call("POST", "/v1/cards/assign", map[string]string{"person": p[0], "card": "C-" + p[0]}); err != nil {
			return "", 0, err
		}
	}
	var v struct{ ID string }
	b, err := c.call("POST", "/v1/visits", map[string]string{"visitor": "budi", "by": "adm", "purpose": "replace a disk"})
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	for _, step := range [][2]string{{"check", "koor"}, {"approve", "kabid"}} {
		if err == nil {
			_, err = c.call("POST", "/v1/visits/"+v.ID+"/"+step[0], map[string]string{"by": step[1]})
		}
	}
	for i := 0; i < 300 && err == nil; i++ {
		if _, err = c.call("POST", "/v1/sim/tap", map[string]string{"door": "server-room", "reader": "entry", "card": "C-rina"}); err == nil {
			_, err = c.call("POST", "/v1/sim/tap", map[string]string{"door": "server-room", "reader": "exit", "card": "C-rina"})
		}
	}
	if err != nil {
		cmd.Process.Kill()
		return "", 0, fmt.Errorf("build the fixture: %v\n%s", err, &out)
	}
	if err := stopPintud(cmd); err != nil {
		return "", 0, fmt.Errorf("%v\n%s", err, &out)
	}
	os.Remove(filepath.Join(data, "pintud.sock"))
	last, err := lastSeq(filepath.Join(data, "pintu.db"))
	return data, last, err
}

func stopPintud(cmd *exec.Cmd) error {
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		return errors.New("pintud did not stop within 15s")
	}
}

// apiClient talks to pintud's API on its socket.
type apiClient struct{ sock string }

func (c *apiClient) hc() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", c.sock)
		},
	}}
}

// call makes a request and returns the body of a 2xx answer.
func (c *apiClient) call(method, path string, in any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://pintud"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.Trailer.Get("Pintu-Error") != "" {
		err = errors.New(resp.Trailer.Get("Pintu-Error"))
	}
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, err
}

// wait waits, bounded, for the API to answer.
func (c *apiClient) wait() error {
	for range 400 {
		if _, err := c.call("GET", "/v1/status", nil); err == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return errors.New("pintud did not answer within 10s")
}

type tapAnswer struct{ Decision, Reason string }

func (c *apiClient) tap(t *testing.T, reader, card string) tapAnswer {
	t.Helper()
	b, err := c.call("POST", "/v1/sim/tap", map[string]string{"door": "server-room", "reader": reader, "card": card})
	if err != nil {
		t.Fatal(err)
	}
	var r tapAnswer
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// integrityAlarm waits, bounded, for the integrity alarm: the check at
// start raises it at once, the background check within its first pass.
func (c *apiClient) integrityAlarm(t *testing.T) string {
	t.Helper()
	for range 400 {
		b, err := c.call("GET", "/v1/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Alarms []struct{ Kind, Detail string }
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, a := range s.Alarms {
			if a.Kind == "integrity" {
				return a.Detail
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("no integrity alarm within 10s")
	return ""
}

type verifyAnswer struct {
	OK        bool
	Count     uint64
	BrokenSeq uint64 `json:"broken_seq"`
	Breaks    []struct {
		From, To   uint64
		Kind, ID   string
		Reason     string
		AcceptedBy string `json:"accepted_by"`
	}
}

func (c *apiClient) verify(t *testing.T) verifyAnswer {
	t.Helper()
	b, err := c.call("GET", "/v1/verify", nil)
	if err != nil {
		t.Fatal(err)
	}
	var v verifyAnswer
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// runPintud starts pintud on data. It returns the client once the API
// answers, or the exit error and output when pintud exits first.
func runPintud(t *testing.T, data string, args ...string) (c *apiClient, stop func() error, out string, err error) {
	t.Helper()
	pintud, _ := binaries(t)
	cmd := exec.Command(pintud, append([]string{"-sim", "-data", data}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	c = &apiClient{sock: filepath.Join(data, "pintud.sock")}
	for range 400 {
		select {
		case err := <-done:
			return nil, nil, strings.TrimSuffix(stderr.String(), "\n") + stdout.String(), err
		case <-time.After(25 * time.Millisecond):
		}
		if _, err := c.call("GET", "/v1/status", nil); err == nil {
			var once sync.Once
			var stopErr error
			stop := func() error {
				once.Do(func() {
					cmd.Process.Signal(os.Interrupt)
					select {
					case stopErr = <-done:
					case <-time.After(15 * time.Second):
						cmd.Process.Kill()
						stopErr = errors.New("pintud did not stop within 15s")
					}
				})
				return stopErr
			}
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("pintud output:\n%s", &stderr)
				}
			})
			return c, stop, "", nil
		}
	}
	cmd.Process.Kill()
	t.Fatalf("pintud neither answered nor exited within 10s\n%s", &stderr)
	return nil, nil, "", nil
}

// refused checks that pintud exits 3 with one line naming what and saying
// want, and leaves pintu.db as it was (or absent).
func refused(t *testing.T, data string, want ...string) {
	t.Helper()
	db := filepath.Join(data, "pintu.db")
	before, beforeErr := os.ReadFile(db)
	c, _, out, err := runPintud(t, data)
	if c != nil {
		t.Fatal("pintud started; want it refused")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRefused {
		t.Fatalf("pintud: %v, want exit status %d\n%s", err, exitRefused, out)
	}
	if strings.Contains(out, "\n") || !strings.HasPrefix(out, "pintud: ") || !strings.Contains(out, db) || strings.Contains(out, "panic") {
		t.Errorf("pintud said %q; want one line naming %s", out, db)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("pintud said %q; want it to say %q", out, w)
		}
	}
	after, afterErr := os.ReadFile(db)
	if (beforeErr == nil) != (afterErr == nil) || !bytes.Equal(before, after) {
		t.Errorf("pintud changed pintu.db (before: %d bytes, %v; after: %d bytes, %v)", len(before), beforeErr, len(after), afterErr)
	}
}

// brokenEntry checks the outcome of a break: the integrity alarm, entry
// refused integrity_failure, egress granted, verify naming the break; then
// the head accepts it and entry opens again, while verify still shows it,
// accepted.
func brokenEntry(t *testing.T, c *apiClient, alarm string, wantBreak func(verifyAnswer) bool) {
	t.Helper()
	if got := c.integrityAlarm(t); !strings.Contains(got, alarm) {
		t.Errorf("integrity alarm says %q, want %q", got, alarm)
	}
	if r := c.tap(t, "entry", "C-oki"); r.Decision != "denied" || r.Reason != "integrity_failure" {
		t.Errorf("entry read while the log is broken = %+v, want denied integrity_failure", r)
	}
	if r := c.tap(t, "exit", "C-oki"); r.Decision != "granted" {
		t.Errorf("exit read while the log is broken = %+v, want granted", r)
	}
	v := c.verify(t)
	if v.OK || !wantBreak(v) {
		t.Errorf("verify = %+v, want the break named", v)
	}
	if _, err := c.call("POST", "/v1/integrity/accept", map[string]string{"by": "oki", "note": "x"}); err == nil || !strings.Contains(err.Error(), "that is for the head") {
		t.Errorf("an officer accepting the break = %v, want it refused", err)
	}
	if _, err := c.call("POST", "/v1/integrity/accept", map[string]string{"by": "kabid", "note": "restored the disk image; event edited by a test"}); err != nil {
		t.Fatalf("the head accepting the break: %v", err)
	}
	if r := c.tap(t, "entry", "C-oki"); r.Decision != "granted" {
		t.Errorf("entry read after the head accepted = %+v, want granted", r)
	}
	b, err := c.call("GET", "/v1/integrity", nil)
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Breaks   []json.RawMessage
		Accepted []struct {
			AcceptedBy string `json:"accepted_by"`
		}
	}
	if err := json.Unmarshal(b, &in); err != nil || len(in.Breaks) != 0 || len(in.Accepted) == 0 || in.Accepted[0].AcceptedBy != "kabid" {
		t.Errorf("integrity after acceptance = %s, %v; want no break listed and the break accepted by kabid", b, err)
	}
}

func TestDamage(t *testing.T) {
	t.Run("event value edited", func(t *testing.T) {
		data, _ := stateDir(t)
		const seq = 200
		editEvent(t, data, seq)
		c, _, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud: %v %s; want it started, with entry refused", err, out)
		}
		brokenEntry(t, c, fmt.Sprintf("seq %d: hash does not match the event's contents", seq), func(v verifyAnswer) bool {
			return v.BrokenSeq == seq && v.Breaks[0].To == seq
		})
	})
	t.Run("last event edited", func(t *testing.T) {
		data, last := stateDir(t)
		editEvent(t, data, last)
		c, _, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud: %v %s; want it started, with entry refused", err, out)
		}
		brokenEntry(t, c, fmt.Sprintf("seq %d: hash does not match the event's contents", last), func(v verifyAnswer) bool {
			return v.BrokenSeq == last
		})
	})
	t.Run("a record edited", func(t *testing.T) {
		// The visitor made an officer offline: let in alone, before.
		data, _ := stateDir(t)
		editRole(t, data, "budi", 5, 4) // visitor -> officer
		c, _, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud: %v %s; want it started", err, out)
		}
		if r := c.tap(t, "entry", "C-budi"); r.Decision != "denied" || r.Reason != "integrity_failure" {
			t.Errorf("the edited visitor's read = %+v, want denied integrity_failure", r)
		}
		brokenEntry(t, c, "person budi: its content does not match the digest its event", func(v verifyAnswer) bool {
			return len(v.Breaks) == 1 && v.Breaks[0].Kind == "person" && v.Breaks[0].ID == "budi"
		})
		// Accepted means sealed as found: the head owns the officer now.
		if r := c.tap(t, "entry", "C-budi"); r.Decision != "granted" {
			t.Errorf("budi's read after the head accepted = %+v, want granted (sealed as found)", r)
		}
	})
	t.Run("a leaf page's header damaged", func(t *testing.T) {
		data, _ := stateDir(t)
		zeroLeafHeader(t, data)
		c, _, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud: %v %s; want it started (the page is not on the path read at start)", err, out)
		}
		if got := c.integrityAlarm(t); !strings.Contains(got, "cannot be read") && !strings.Contains(got, "the database file") {
			t.Errorf("integrity alarm says %q, want the unreadable part named", got)
		}
		if r := c.tap(t, "entry", "C-oki"); r.Decision != "denied" || r.Reason != "integrity_failure" {
			t.Errorf("entry read = %+v, want denied integrity_failure", r)
		}
		if r := c.tap(t, "exit", "C-oki"); r.Decision != "granted" {
			t.Errorf("exit read = %+v, want granted", r)
		}
		// An export over the damage: an error, not a crash.
		if _, err := c.call("GET", "/v1/export?format=jsonl", nil); err == nil || !strings.Contains(err.Error(), "integrity failure") {
			t.Errorf("export over a damaged page = %v, want an integrity failure", err)
		}
		if _, err := c.call("GET", "/v1/status", nil); err != nil {
			t.Errorf("status after the export: %v; want pintud alive", err)
		}
	})
	t.Run("truncated to half", func(t *testing.T) {
		data, _ := stateDir(t)
		db := filepath.Join(data, "pintu.db")
		st, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(db, st.Size()/2); err != nil {
			t.Fatal(err)
		}
		refused(t, data, "truncated?", "restore a backup of pintu.db")
	})
	t.Run("truncated to 0 bytes", func(t *testing.T) {
		data, last := stateDir(t)
		if err := os.Truncate(filepath.Join(data, "pintu.db"), 0); err != nil {
			t.Fatal(err)
		}
		refused(t, data, "is empty (0 bytes), but its anchor says it held", fmt.Sprintf("seq %d", last), "pintud -init-new-log")
	})
	t.Run("deleted", func(t *testing.T) {
		data, _ := stateDir(t)
		if err := os.Remove(filepath.Join(data, "pintu.db")); err != nil {
			t.Fatal(err)
		}
		refused(t, data, "is missing, but its anchor says", "restore the newest backup")
		// A new log, on purpose: its first event names the old one.
		c, _, out, err := runPintud(t, data, "-init-new-log")
		if c == nil {
			t.Fatalf("pintud -init-new-log: %v %s", err, out)
		}
		b, err := c.call("GET", "/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		var evs []struct {
			Seq          uint64
			Type, Detail string
		}
		if err := json.Unmarshal(b, &evs); err != nil || len(evs) < 2 {
			t.Fatalf("events of the new log: %v, %s", err, b)
		}
		if evs[0].Seq != 1 || evs[0].Type != "log_initialised" || !strings.Contains(evs[0].Detail, "pintu.db was missing; the log before it: log ") {
			t.Errorf("first event of the new log = %+v, want log_initialised naming the old anchor", evs[0])
		}
	})
	t.Run("both meta pages zeroed", func(t *testing.T) {
		data, _ := stateDir(t)
		patch(t, filepath.Join(data, "pintu.db"), 0, make([]byte, 2*os.Getpagesize()))
		refused(t, data, "neither meta page is valid", "restore a backup of pintu.db")
	})
	t.Run("one meta page zeroed", func(t *testing.T) {
		data, last := stateDir(t)
		db := filepath.Join(data, "pintu.db")
		raw, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		ps := os.Getpagesize()
		txid := func(p int) uint64 { return binary.LittleEndian.Uint64(raw[p*ps+16+48:]) }
		older := 0
		if txid(1) < txid(0) {
			older = 1
		}
		patch(t, db, int64(older*ps), make([]byte, ps))
		c, _, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud with one meta page zeroed: %v %s; want it started", err, out)
		}
		if v := c.verify(t); !v.OK || v.Count <= last {
			t.Errorf("verify = %+v, want every event (%d) and the restart intact", v, last)
		}
	})
	t.Run("anchor missing", func(t *testing.T) {
		data, last := stateDir(t)
		anchorPath := filepath.Join(data, "pintu.anchor")
		if err := os.Remove(anchorPath); err != nil {
			t.Fatal(err)
		}
		c, stop, out, err := runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud without its anchor: %v %s; want it started", err, out)
		}
		b, err := c.call("GET", fmt.Sprintf("/v1/events?since=%s", "2000-01-01T00:00:00Z"), nil)
		if err != nil || !bytes.Contains(b, []byte(`"type":"anchor_recreated"`)) {
			t.Errorf("events after a missing anchor: %v; want anchor_recreated", err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		var a struct{ Seq uint64 }
		ab, err := os.ReadFile(anchorPath)
		if err != nil || json.Unmarshal(ab, &a) != nil || a.Seq <= last {
			t.Errorf("anchor after the restart = %s, %v; want it made again past seq %d", ab, err, last)
		}
	})
	t.Run("anchor damaged", func(t *testing.T) {
		data, _ := stateDir(t)
		if err := os.WriteFile(filepath.Join(data, "pintu.anchor"), []byte("{\x00"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, out, err := runPintud(t, data)
		var ee *exec.ExitError
		if c != nil || !errors.As(err, &ee) || ee.ExitCode() != exitRefused || !strings.Contains(out, "anchor file is damaged") ||
			!strings.Contains(out, "delete pintu.anchor") {
			t.Errorf("pintud with a damaged anchor: %v %q; want it refused with status 3, saying what to do", err, out)
		}
	})
	t.Run("behind its anchor", func(t *testing.T) {
		// An older copy of the database put back without a restore.
		data, _ := stateDir(t)
		old := filepath.Join(t.TempDir(), "old.db")
		copyFile(t, filepath.Join(data, "pintu.db"), old)
		c, stop, out, err := runPintud(t, data)
		if c == nil {
			t.Fatal(err, out)
		}
		c.tap(t, "entry", "C-oki")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		copyFile(t, old, filepath.Join(data, "pintu.db"))
		refused(t, data, "behind its anchor", "events are missing", "restore the newest backup")

		// The same old copy put back on purpose, with -restore: pintud
		// starts, and the log says which events the restore left out.
		pintud, _ := binaries(t)
		if out, err := exec.Command(pintud, "-restore", old, "-data", data, "-force").CombinedOutput(); err != nil {
			t.Fatalf("pintud -restore: %v\n%s", err, out)
		}
		c, stop, out, err = runPintud(t, data)
		if c == nil {
			t.Fatalf("pintud after a restore: %v %s", err, out)
		}
		raw, err := c.call("GET", "/v1/export?format=jsonl", nil)
		if err != nil || !bytes.Contains(raw, []byte("restored from a backup ending at seq")) {
			t.Errorf("events after the restore = %s, %v; want a log_restored event", raw, err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if a, err := anchor.Read(filepath.Join(data, "pintu.anchor")); err != nil || a.Replaced != nil {
			t.Errorf("anchor once the restore is recorded = %+v, %v; want it without the replaced log", a, err)
		}
	})
	t.Run("written by a newer pintud", func(t *testing.T) {
		data, _ := stateDir(t)
		db, err := bolt.Open(filepath.Join(data, "pintu.db"), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 1<<20))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		refused(t, data, "run the newer pintud")
	})
}

// editEvent moves event seq's stored time by a second, keeping its stored
// hash: the edit a person with the file would make. (The value is the
// format byte, the flags as a uvarint, the 32-byte hash, then the time's
// seconds as a varint.)
func editEvent(t *testing.T, data string, seq uint64) {
	t.Helper()
	rawUpdate(t, filepath.Join(data, "pintu.db"), func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k := binary.BigEndian.AppendUint64(nil, seq)
		v := bytes.Clone(b.Get(k))
		if v == nil || v[0] != 1 {
			return fmt.Errorf("no binary event %d", seq)
		}
		_, n := binary.Uvarint(v[1:])
		v[1+n+32] ^= 1
		return b.Put(k, v)
	})
}

// editRole changes a person's first role code in their stored record.
func editRole(t *testing.T, data, id string, from, to byte) {
	t.Helper()
	rawUpdate(t, filepath.Join(data, "pintu.db"), func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("people"))
		v := bytes.Clone(b.Get([]byte(id)))
		// format, seq (uvarint), name (uvarint length, bytes), roles (count+1, codes)
		_, n := binary.Uvarint(v[1:])
		i := 1 + n
		l, n := binary.Uvarint(v[i:])
		i += n + int(l)
		if v[i] != 2 || v[i+1] != from {
			return fmt.Errorf("person %s: roles %x, want one role coded %d", id, v[i:i+2], from)
		}
		v[i+1] = to
		return b.Put([]byte(id), v)
	})
}

// zeroLeafHeader zeroes the header of a leaf page of the log that is
// neither the first nor the newest: a page pintud reads only when someone
// reads those events.
func zeroLeafHeader(t *testing.T, data string) {
	t.Helper()
	db := filepath.Join(data, "pintu.db")
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	le := binary.LittleEndian
	type leaf struct {
		id    int
		first uint64
	}
	var leaves []leaf
	for id := 2; (id+1)*ps <= len(raw); id++ {
		p := raw[id*ps : (id+1)*ps]
		if le.Uint64(p) != uint64(id) || le.Uint16(p[8:]) != 0x02 || le.Uint16(p[10:]) == 0 {
			continue
		}
		pos, ksize := le.Uint32(p[20:]), le.Uint32(p[24:])
		if ksize == 8 && p[16+pos+ksize] == 1 {
			leaves = append(leaves, leaf{id, binary.BigEndian.Uint64(p[16+pos:])})
		}
	}
	if len(leaves) < 4 {
		t.Fatalf("%d leaves of the log in the fixture, want at least 4", len(leaves))
	}
	// Not the first under its branch (read at start) nor the newest.
	var pick *leaf
	for i := range leaves {
		l := &leaves[i]
		n := 0
		for _, o := range leaves {
			if o.first < l.first {
				n++
			}
		}
		if n == 2 {
			pick = l
		}
	}
	patch(t, db, int64(pick.id*ps), make([]byte, 16))
}

func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func lastSeq(path string) (uint64, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var last uint64
	err = db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket([]byte("events")).Cursor().Last()
		last = binary.BigEndian.Uint64(k)
		return nil
	})
	return last, err
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func patch(t *testing.T, path string, off int64, b []byte) {
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
