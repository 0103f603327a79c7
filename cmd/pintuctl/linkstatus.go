package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// linkStatus is the "mqtt" member of GET /v1/status (mqttlink.LinkState):
// pintuctl does not import the MQTT link for its shape.
type linkStatus struct {
	Broker          string    `json:"broker"`
	State           string    `json:"state"`
	Since           time.Time `json:"since"`
	FailedAttempts  int       `json:"failed_attempts"`
	LastError       string    `json:"last_error"`
	LastErrorAt     time.Time `json:"last_error_at"`
	DownAlarm       bool      `json:"down_alarm"`
	Backlog         int       `json:"backlog"`
	CommandsDropped uint64    `json:"commands_dropped"`
}

// printMQTT writes the MQTT link's part of a status response, if it has
// one: pintud without a broker shows nothing.
func (c *cli) printMQTT(w io.Writer, raw []byte) {
	var st struct {
		MQTT *linkStatus `json:"mqtt"`
	}
	if json.Unmarshal(raw, &st) != nil || st.MQTT == nil {
		return
	}
	m := st.MQTT
	fmt.Fprintf(w, "\nMQTT: %s %s %s (%s)\n", c.tr(m.State), c.tr("since"), c.when(m.Since), escape(m.Broker))
	if m.State != "connected" && m.FailedAttempts > 0 {
		fmt.Fprintf(w, "  %s: %d\n", c.tr("failed attempts"), m.FailedAttempts)
	}
	if m.LastError != "" {
		fmt.Fprintf(w, "  %s: %s (%s)\n", c.tr("last error"), escape(m.LastError), c.when(m.LastErrorAt))
	}
	backlog := fmt.Sprint(m.Backlog)
	if m.Backlog < 0 {
		backlog = c.tr("unknown")
	}
	fmt.Fprintf(w, "  %s: %s\n", c.tr("audit events waiting for the broker"), backlog)
	if m.CommandsDropped > 0 {
		fmt.Fprintf(w, "  %s: %d\n", c.tr("commands dropped unchecked (over the limit)"), m.CommandsDropped)
	}
	if m.DownAlarm {
		fmt.Fprintf(w, "  %s\n", c.tr("alarm mqtt_down raised"))
	}
}
