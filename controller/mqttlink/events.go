package mqttlink

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/remote"
)

// pump publishes the outbox in sequence order: a window of events, then
// their acknowledgements in order; it acks the confirmed prefix and starts
// again from the first unconfirmed event.
func (l *Link) pump(ctx context.Context) {
	watch, stop := l.ctrl.Watch()
	defer stop()
	backoff := 100 * time.Millisecond
	for {
		c := l.waitConnected(ctx)
		if c == nil {
			return
		}
		evs, err := l.outbox.Pending(l.cfg.Window)
		if err != nil {
			l.log.Error("mqtt outbox read", "err", err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-watch:
			case <-c.down:
			}
			continue
		}
		toks := make([]mqtt.Token, len(evs))
		for i, e := range evs {
			toks[i] = l.client.Publish(l.eventTopic(e), 1, false, eventJSON(e))
		}
		var acked []uint64
		for i, t := range toks {
			if err := l.wait(ctx, c, t); err != nil {
				if ctx.Err() == nil {
					l.log.Warn("mqtt event not acknowledged; will resend", "seq", evs[i].Seq, "err", err)
				}
				break
			}
			acked = append(acked, evs[i].Seq)
		}
		if len(acked) > 0 {
			if err := l.outbox.Ack(acked[len(acked)-1]); err != nil {
				l.log.Error("mqtt outbox ack", "err", err)
			}
			if l.cfg.HomeAssistant.Enabled {
				l.accessEvents(ctx, c, evs[:len(acked)])
			}
		}
		if len(acked) < len(evs) {
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		} else {
			backoff = 100 * time.Millisecond
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// eventTopic is the events topic of the event's door, or the bridge's for
// events that name no door of ours. A consumer subscribes to P/+/events
// for the whole log.
func (l *Link) eventTopic(e controller.Event) string {
	if e.Door != "" && slices.Contains(l.doors, e.Door) {
		return l.t.door(e.Door, "events")
	}
	return l.t.bridge("events")
}

func eventJSON(e controller.Event) []byte {
	e.Time = e.Time.UTC()
	b, _ := json.Marshal(e) // plain data
	return b
}

// DoorState is what P/<door>/state carries.
type DoorState struct {
	Lock         string   `json:"lock"`    // locked or unlocked
	Contact      string   `json:"contact"` // open or closed
	Lockdown     bool     `json:"lockdown"`
	Alarms       []string `json:"alarms"` // alarm kinds active at this door or site-wide
	PeopleInside int      `json:"people_inside"`
	Inside       []string `json:"inside"` // person ids recorded inside through this door
}

// states publishes each door's retained state when it changes, and all of
// them on every new connection.
func (l *Link) states(ctx context.Context) {
	watch, stop := l.ctrl.Watch()
	defer stop()
	var last *connection
	sent := map[string][]byte{}
	for {
		c, changed := l.current()
		if c != nil {
			if c != last {
				last, sent = c, map[string][]byte{}
			}
			l.publishStates(ctx, c, sent)
		}
		select {
		case <-ctx.Done():
			return
		case <-watch:
		case <-changed:
		}
	}
}

func (l *Link) publishStates(ctx context.Context, c *connection, sent map[string][]byte) {
	st, err := l.ctrl.Status(ctx)
	if err != nil {
		return // stopping
	}
	for door, ds := range doorStates(st) {
		b, _ := json.Marshal(ds)
		if bytes.Equal(sent[door], b) {
			continue
		}
		if l.publish(ctx, c, l.t.door(door, "state"), true, b) {
			sent[door] = b
		}
	}
}

func doorStates(st controller.Status) map[string]DoorState {
	out := make(map[string]DoorState, len(st.Doors))
	for _, d := range st.Doors {
		ds := DoorState{Lock: d.Lock, Contact: d.Contact, Lockdown: d.Lockdown, Alarms: []string{}, Inside: []string{}}
		for _, a := range st.Alarms {
			if (a.Door == "" || a.Door == d.Name) && !slices.Contains(ds.Alarms, string(a.Kind)) {
				ds.Alarms = append(ds.Alarms, string(a.Kind))
			}
		}
		slices.Sort(ds.Alarms)
		for _, o := range st.Inside {
			if o.Door == d.Name {
				ds.Inside = append(ds.Inside, o.Person)
			}
		}
		ds.PeopleInside = len(ds.Inside)
		out[d.Name] = ds
	}
	return out
}

// serveRequests answers gap fill requests, Home Assistant's status and the
// opt-in lock entity.
func (l *Link) serveRequests(ctx context.Context) {
	for {
		var in inbound
		select {
		case <-ctx.Done():
			return
		case in = <-l.requests:
		}
		c, _ := l.current()
		if c == nil {
			continue
		}
		switch {
		case in.topic == l.t.bridge("request/events"):
			l.gapFill(ctx, c, in.payload)
		case in.topic == l.cfg.HomeAssistant.statusTopic():
			if string(in.payload) == "online" {
				l.log.Info("home assistant online; republishing discovery")
				l.discovery(ctx, c)
			}
		default:
			if door := l.t.doorOf(in.topic, "ha/lock/set"); door != "" {
				l.haLock(ctx, door, in)
			}
		}
	}
}

// GapRequest asks for events From..To (inclusive) of the audit log.
type GapRequest struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	TxID string `json:"txid"`
}

// GapResponse answers a GapRequest on P/bridge/response/events/<txid>. To is
// the last seq it covers: at most From+MaxGapFill-1 and the newest event;
// ask again from To+1 for more.
type GapResponse struct {
	TxID   string             `json:"txid"`
	From   uint64             `json:"from"`
	To     uint64             `json:"to"`
	Events []controller.Event `json:"events"`
	Error  string             `json:"error,omitempty"`
}

func (l *Link) gapFill(ctx context.Context, c *connection, payload []byte) {
	var req GapRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if len(payload) > maxRequest || dec.Decode(&req) != nil || !validTxID(req.TxID) {
		l.ignored("mqtt gap fill request ignored: want {from, to, txid} with txid of 1 to 64 of [A-Za-z0-9_-]")
		return
	}
	resp := GapResponse{TxID: req.TxID, From: req.From, Events: []controller.Event{}}
	switch {
	case req.From == 0 || req.To < req.From:
		resp.Error = "want 1 <= from <= to"
	default:
		resp.To = min(req.To, req.From+MaxGapFill-1)
		err := l.ctrl.Log().Events(controller.EventQuery{FromSeq: req.From, ToSeq: resp.To}, func(e controller.Event) error {
			e.Time = e.Time.UTC()
			resp.Events = append(resp.Events, e)
			return nil
		})
		if err != nil {
			resp.Error = "read the audit log: " + err.Error()
		}
		if n := len(resp.Events); n > 0 && resp.Events[n-1].Seq < resp.To {
			resp.To = resp.Events[n-1].Seq
		}
	}
	l.publishJSON(ctx, c, l.t.bridge("response/events/"+req.TxID), false, resp)
}

// ignored logs a request that was ignored, at most once a minute while the
// same kind repeats: whoever may write a request topic cannot flood the
// log. Only serveRequests calls it.
func (l *Link) ignored(msg string, args ...any) {
	if ok, n := l.ignoredLog.allow(time.Now(), msg); ok {
		l.log.Warn(msg, append(args, "unlogged_repeats", n)...)
	}
}

func validTxID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range []byte(s) {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (l *Link) publishJSON(ctx context.Context, c *connection, topic string, retained bool, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		l.log.Error("mqtt encode", "topic", topic, "err", err)
		return false
	}
	return l.publish(ctx, c, topic, retained, b)
}

// peekID returns the id of a command payload, for a busy answer; "" when
// it does not parse.
func peekID(p []byte) string {
	c, _, err := remote.Parse(p)
	if err != nil {
		return ""
	}
	return c.ID
}
