package controller

import (
	"strings"
	"testing"
	"time"
)

func TestTamper(t *testing.T) {
	r := newRig(t)
	r.staff()
	count := func(typ EventType) int {
		n := 0
		for _, e := range r.log() {
			if e.Type == typ && strings.HasSuffix(e.Detail, " "+string(AlarmTamper)) {
				if e.Door != "server-room" {
					t.Errorf("%s event door = %q, want server-room", typ, e.Door)
				}
				n++
			}
		}
		return n
	}

	r.must(r.s.tamper(r.now, "server-room", false))
	if r.hasAlarm(AlarmTamper) || count(EventAlarmRaised) != 0 {
		t.Fatalf("closed enclosure at start: alarms %v, want none", r.alarms())
	}
	r.advance(time.Second)
	r.must(r.s.tamper(r.now, "server-room", true))
	if !r.hasAlarm(AlarmTamper) || count(EventAlarmRaised) != 1 {
		t.Fatalf("after tamper: alarms %v, raised events %d; want tamper, 1", r.alarms(), count(EventAlarmRaised))
	}
	// Staff still get in: tamper is an alarm, not a lockdown.
	if res := r.tap("entry", "oki"); res.Decision != Granted {
		t.Errorf("tap while tampered = %+v, want granted", res)
	}
	r.must(r.s.tamper(r.now, "server-room", true))
	if n := count(EventAlarmRaised); n != 1 {
		t.Errorf("tamper reported twice: %d raised events, want 1", n)
	}
	r.must(r.s.tamper(r.now, "server-room", false))
	if r.hasAlarm(AlarmTamper) || count(EventAlarmCleared) != 1 {
		t.Errorf("after closing: alarms %v, cleared events %d; want none, 1", r.alarms(), count(EventAlarmCleared))
	}
	if _, err := r.s.tamper(r.now, "nowhere", true); !isErr(err, ErrNotFound) {
		t.Errorf("tamper on unknown door = %v, want ErrNotFound", err)
	}
	r.verify()
}
