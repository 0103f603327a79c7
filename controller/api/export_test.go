package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

// FuzzExportRow holds the hand-written export rows to what json.Encoder
// writes for an exportRow.
func FuzzExportRow(f *testing.F) {
	f.Add(uint64(7), int64(1_700_000_000_000000001), "access", "server-room", "<b>&\u2028\x00é\xff", "person", "card-1", true)
	f.Add(uint64(0), int64(0), "", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, seq uint64, nanos int64, typ, door, detail, kind, id string, trusted bool) {
		e := controller.Event{Seq: seq, Time: time.Unix(0, nanos).In(time.FixedZone("", 7*3600)), Type: controller.EventType(typ),
			Door: door, Reader: detail, Card: id, Person: kind, Visit: door, Decision: controller.Decision(typ),
			Reason: controller.Reason(kind), Actor: id, Detail: detail, ClockTrusted: trusted, Hash: id}
		if kind != "" {
			e.Records = []controller.RecordRef{{Kind: controller.RecordKind(kind), ID: id, Digest: detail}, {}}
		}
		if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(newExportRow(e, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if got := appendExportRow(nil, e); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendExportRow =\n%s\njson.Encoder =\n%s", got, want.Bytes())
		}
	})
}
