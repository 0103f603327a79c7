package controller

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// This file is what the MQTT link reports of its own faults, the ones that
// are not a command it passes on: the mqtt_down warning and the command
// payloads it dropped unchecked over their topic's limit. Both belong in
// the alarm list and the audit log, like everything else that happens at
// the door.

// EventCommandsDropped records that command payloads on one topic were
// dropped, unverified, because they came faster than the topic's limit: one
// event per topic per window, however many payloads, so that a flood of
// forged commands cannot grow the log at disk speed.
const EventCommandsDropped EventType = "commands_dropped"

// SetMQTTDown raises the mqtt_down alarm (the link has had no broker
// connection for longer than it may) or clears it. detail says since when
// and why. Reporting the state the alarm is already in changes nothing, so
// the link may repeat itself.
func (c *Controller) SetMQTTDown(ctx context.Context, down bool, detail string) error {
	return c.run(ctx, func(now time.Time) (*step, error) {
		st := c.st.begin(now)
		st.housekeep()
		if down {
			st.raise(Alarm{Kind: AlarmMQTTDown, Detail: clipDetail(detail)})
		} else {
			st.clear(AlarmMQTTDown, func(Alarm) bool { return true })
		}
		return st, nil
	})
}

// RecordDroppedCommands writes one audit event saying that n command
// payloads on topic were dropped unchecked during the window that ends now.
func (c *Controller) RecordDroppedCommands(ctx context.Context, topic string, n int, window time.Duration) error {
	if n <= 0 {
		return fmt.Errorf("%w: %d dropped commands", ErrInvalid, n)
	}
	return c.run(ctx, func(now time.Time) (*step, error) {
		st := c.st.begin(now)
		st.housekeep()
		st.emit(Event{Type: EventCommandsDropped, Detail: clipDetail(fmt.Sprintf(
			"%d command payloads dropped unchecked on topic %q in the last %s: more than the topic's limit", n, topic, window))})
		return st, nil
	})
}

// clipDetail bounds text that an unauthenticated sender can influence (a
// topic, a broker's error) before it goes into the log.
func clipDetail(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return strings.ToValidUTF8(s[:maxDetail], "") + "..."
}
