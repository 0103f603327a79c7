package mqttlink

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/internal/mosquittotest"
)

// TestGapFillOverDamage: a gap fill over a part of the log on a damaged
// page answers with an error, raises the integrity alarm, and pintud goes
// on (it used to die inside bbolt).
func TestGapFillOverDamage(t *testing.T) {
	b := startBroker(t)
	e := newEnv(t, b).start().ready()
	ctx := context.Background()
	for range 400 {
		if _, err := e.ctrl.Tap(ctx, "server-room", "entry", "card-oki"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ctrl.Tap(ctx, "server-room", "exit", "card-oki"); err != nil {
			t.Fatal(err)
		}
	}
	e.waitOutboxEmpty()
	e.stopCtrl()
	zeroOldLeaf(t, e.path)
	e.stopLink = nil
	e.start().ready()

	viewer := connect(t, b, mosquittotest.UserViewer, prefix+"/bridge/response/events/+")
	viewer.publish(prefix+"/bridge/request/events", false, []byte(`{"from":1,"to":500,"txid":"damaged"}`))
	m := viewer.await("response", func(m message) bool { return strings.HasSuffix(m.topic, "/damaged") })
	var resp GapResponse
	if err := json.Unmarshal(m.payload, &resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Error, "integrity failure") {
		t.Errorf("gap fill over a damaged page = error %q, %d events; want an integrity failure", resp.Error, len(resp.Events))
	}
	st, err := e.ctrl.Status(ctx)
	if err != nil {
		t.Fatalf("status after the gap fill: %v; want pintud alive", err)
	}
	if !slices.ContainsFunc(st.Alarms, func(a controller.Alarm) bool { return a.Kind == controller.AlarmIntegrity }) {
		t.Errorf("alarms after the gap fill = %+v, want integrity", st.Alarms)
	}
	if r, err := e.ctrl.Tap(ctx, "server-room", "exit", "card-oki"); err != nil || r.Decision != controller.Granted {
		t.Errorf("exit read after the damage = %+v, %v; want granted", r, err)
	}
}

// zeroOldLeaf zeroes the header of the log's leaf page holding the third
// oldest events: not read at start, read by a gap fill from seq 1.
func zeroOldLeaf(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
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
	slices.SortFunc(leaves, func(a, b leaf) int { return int(a.first) - int(b.first) })
	if len(leaves) < 5 {
		t.Fatalf("%d leaves in the log, want at least 5", len(leaves))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 16), int64(leaves[2].id*ps)); err != nil {
		t.Fatal(err)
	}
}
