package controller_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
)

// TestMQTTDownAlarm: the link's mqtt_down report is an alarm in the list and
// the log, repeating it changes nothing, and reconnecting ends it without an
// acknowledgement (the door works without a broker).
func TestMQTTDownAlarm(t *testing.T) {
	eachStore(t, twoDoors(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		count := func(typ controller.EventType) int {
			n := 0
			for _, e := range h.events() {
				if e.Type == typ && strings.Contains(e.Detail, "mqtt_down") {
					n++
				}
			}
			return n
		}
		h.must(h.c.SetMQTTDown(ctx, true, "no connection since 09:00: not authorised"))
		h.must(h.c.SetMQTTDown(ctx, true, "no connection since 09:00: not authorised")) // the link repeats itself
		st, err := h.c.Status(ctx)
		h.must(err)
		if len(st.Alarms) != 1 || st.Alarms[0].Kind != controller.AlarmMQTTDown || !strings.Contains(st.Alarms[0].Detail, "not authorised") {
			t.Fatalf("status alarms = %+v, want one mqtt_down with its cause", st.Alarms)
		}
		if n := count(controller.EventAlarmRaised); n != 1 {
			t.Errorf("mqtt_down raised %d times in the log, want 1", n)
		}
		h.must(h.c.SetMQTTDown(ctx, false, ""))
		h.must(h.c.SetMQTTDown(ctx, false, ""))
		st, err = h.c.Status(ctx)
		h.must(err)
		if len(st.Alarms)+len(st.AwaitingAck) != 0 {
			t.Errorf("after reconnecting: alarms %+v, awaiting ack %+v; want none", st.Alarms, st.AwaitingAck)
		}
		if n := count(controller.EventAlarmCleared); n != 1 {
			t.Errorf("mqtt_down cleared %d times in the log, want 1", n)
		}
	})
}

// TestRecordDroppedCommands: a flood's summary is one bounded event.
func TestRecordDroppedCommands(t *testing.T) {
	eachStore(t, twoDoors(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		before := len(h.events())
		topic := "pintu/site/server-room/cmd" + strings.Repeat("/x", 500) // a hostile, long topic
		h.must(h.c.RecordDroppedCommands(ctx, topic, 9995, time.Minute))
		evs := h.events()[before:]
		if len(evs) != 1 || evs[0].Type != controller.EventCommandsDropped {
			t.Fatalf("events written = %+v, want one commands_dropped", evs)
		}
		if d := evs[0].Detail; !strings.HasPrefix(d, "9995 command payloads dropped unchecked on topic ") || len(d) > 410 {
			t.Errorf("detail = %q (%d bytes), want the count, the topic, at most ~400 bytes", d, len(d))
		}
		if err := h.c.RecordDroppedCommands(ctx, "t", 0, time.Minute); !errors.Is(err, controller.ErrInvalid) {
			t.Errorf("RecordDroppedCommands(0) = %v, want ErrInvalid", err)
		}
		if n := len(h.events()) - before; n != 1 {
			t.Errorf("a refused summary wrote %d events", n-1)
		}
	})
}
