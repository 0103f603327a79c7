package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/mqttlink"
)

// newMQTT builds the MQTT link of the config's mqtt section, reading the
// password, TLS and lock code files it names; nil when there is no mqtt
// section. run starts its Run beside the controller; the door works the same
// whether it connects or not.
func newMQTT(m *config.MQTT, ctrl *controller.Controller, outbox mqttlink.Outbox, log *slog.Logger) (*mqttlink.Link, error) {
	if m == nil {
		return nil, nil
	}
	lc := mqttlink.Config{
		Broker: m.Broker, ClientID: m.ClientID, Username: m.Username, KeepAlive: m.KeepAlive,
		Prefix: m.TopicPrefix, CleanSession: m.CleanSession, DownAfter: m.DownAfter, Logger: log,
		Conditions: ctrl,
		HomeAssistant: mqttlink.HomeAssistant{
			Enabled: m.HomeAssistant.Enabled, DiscoveryPrefix: m.HomeAssistant.DiscoveryPrefix,
			LockEntity: m.HomeAssistant.Enabled && m.HomeAssistant.LockEntity.Enabled,
		},
	}
	if m.PasswordFile != "" {
		p, err := os.ReadFile(m.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: password: %w", err)
		}
		lc.Password = strings.TrimRight(string(p), "\r\n")
	}
	if strings.HasPrefix(m.Broker, "ssl://") {
		tc, err := mqttlink.TLSConfig(m.CAFile, m.CertFile, m.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: %w", err)
		}
		lc.TLS = tc
	}
	if lc.HomeAssistant.LockEntity {
		codes, err := readCodes(m.HomeAssistant.LockEntity.CodesFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: home assistant lock codes: %w", err)
		}
		lc.HomeAssistant.Codes = codes
	}
	return mqttlink.New(lc, ctrl, outbox)
}

// The controller keeps the link's own faults: the mqtt_down alarm and the
// command payloads dropped over their topic's limit.
var _ mqttlink.Conditions = (*controller.Controller)(nil)

// mqttStatus is the link's state for the API's status; nil without a link.
func mqttStatus(link *mqttlink.Link) func() any {
	if link == nil {
		return nil
	}
	return func() any { return link.State() }
}

// readCodes reads lines "person-id code"; blank lines and # comments are
// skipped. The file must not be readable by others.
func readCodes(path string) (map[string]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || len(f[1]) < 4 {
			return nil, fmt.Errorf("%s:%d: want \"person-id code\" with a code of at least 4 characters", path, n)
		}
		if _, dup := codes[f[1]]; dup {
			return nil, fmt.Errorf("%s:%d: code used twice", path, n)
		}
		codes[f[1]] = f[0]
	}
	return codes, sc.Err()
}
