package config

import (
	"net/url"
	"strings"
	"time"
)

// MQTT configures the link to an MQTT broker (Mosquitto): telemetry, signed
// remote commands and Home Assistant discovery. Files are read by pintud,
// not here.
type MQTT struct {
	// Broker is tcp://host:port or ssl://host:port.
	Broker   string
	ClientID string // empty: pintud-<site slug>
	Username string
	// PasswordFile holds the broker password (one line).
	PasswordFile string
	// CAFile, CertFile and KeyFile configure TLS: the CA that signed the
	// broker's certificate, and a client certificate and key for mutual TLS.
	CAFile, CertFile, KeyFile string
	KeepAlive                 time.Duration
	// TopicPrefix is empty for the default pintu/<site slug>.
	TopicPrefix string
	// CleanSession starts a fresh broker session on every connect.
	CleanSession bool
	// DownAfter is how long pintud may be without a broker connection
	// before it raises the mqtt_down alarm.
	DownAfter     time.Duration
	HomeAssistant HomeAssistant
}

// HomeAssistant configures MQTT discovery for Home Assistant.
type HomeAssistant struct {
	Enabled         bool
	DiscoveryPrefix string
	// LockEntity is the opt-in lock entity.
	LockEntity LockEntity
}

// LockEntity is Home Assistant's lock entity, off by default.
type LockEntity struct {
	Enabled bool
	// CodesFile maps codes to coordinators: lines "person-id code".
	CodesFile string
}

// Defaults of the mqtt section.
const (
	DefaultKeepAlive       = 30 * time.Second
	DefaultDiscoveryPrefix = "homeassistant"
	DefaultDownAfter       = 5 * time.Minute
)

// mqtt reads the optional mqtt section; nil when it is absent.
func (d *decoder) mqtt(f field) *MQTT {
	if f.n == nil && !f.null {
		return nil
	}
	o := d.object(f)
	m := &MQTT{}
	bf := o.get("broker")
	m.Broker = d.str(bf, "", true)
	if m.Broker != "" {
		u, err := url.Parse(m.Broker)
		if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl") || u.Hostname() == "" || u.Port() == "" {
			d.addf(bf.line, bf.path, "%s is not a broker URL (want tcp://host:1883 or ssl://host:8883)", quote(m.Broker))
		}
	}
	cf := o.get("client_id")
	m.ClientID = d.str(cf, "", false)
	if len(m.ClientID) > 128 || strings.ContainsAny(m.ClientID, "+#/ ") {
		d.addf(cf.line, cf.path, "%s is not a client id (at most 128 characters, no spaces, + # or /)", quote(m.ClientID))
	}
	m.Username = d.str(o.get("username"), "", false)
	m.PasswordFile = d.str(o.get("password_file"), "", false)
	m.CAFile = d.str(o.get("ca_file"), "", false)
	certF, keyF := o.get("cert_file"), o.get("key_file")
	m.CertFile = d.str(certF, "", false)
	m.KeyFile = d.str(keyF, "", false)
	if (m.CertFile == "") != (m.KeyFile == "") {
		if m.CertFile == "" {
			d.addf(keyF.line, keyF.path, "needs cert_file too")
		} else {
			d.addf(certF.line, certF.path, "needs key_file too")
		}
	}
	if (m.CAFile != "" || m.CertFile != "") && strings.HasPrefix(m.Broker, "tcp://") {
		d.addf(bf.line, bf.path, "TLS files are set but the broker URL is tcp://; use ssl://")
	}
	m.KeepAlive = d.duration(o.get("keepalive"), DefaultKeepAlive)
	pf := o.get("topic_prefix")
	m.TopicPrefix = d.str(pf, "", false)
	if p := m.TopicPrefix; p != "" && (strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "+# ")) {
		d.addf(pf.line, pf.path, "%s is not a topic prefix (no leading or trailing /, no spaces, + or #)", quote(p))
	}
	m.CleanSession = d.boolean(o.get("clean_session"), false)
	m.DownAfter = d.duration(o.get("down_after"), DefaultDownAfter)

	ho := d.object(o.get("home_assistant"))
	m.HomeAssistant.Enabled = d.boolean(ho.get("enabled"), false)
	dp := ho.get("discovery_prefix")
	m.HomeAssistant.DiscoveryPrefix = d.str(dp, DefaultDiscoveryPrefix, false)
	if strings.ContainsAny(m.HomeAssistant.DiscoveryPrefix, "+# ") {
		d.addf(dp.line, dp.path, "%s is not a topic prefix", quote(m.HomeAssistant.DiscoveryPrefix))
	}
	lo := d.object(ho.get("lock_entity"))
	m.HomeAssistant.LockEntity.Enabled = d.boolean(lo.get("enabled"), false)
	cfile := lo.get("codes_file")
	m.HomeAssistant.LockEntity.CodesFile = d.str(cfile, "", false)
	if m.HomeAssistant.LockEntity.Enabled && m.HomeAssistant.LockEntity.CodesFile == "" {
		d.addf(cfile.line, cfile.path, "missing: the lock entity needs a codes file")
	}
	lo.allow("enabled", "codes_file")
	ho.allow("enabled", "discovery_prefix", "lock_entity")
	o.allow(mqttKeys...)
	return m
}

var mqttKeys = []string{"broker", "client_id", "username", "password_file", "ca_file", "cert_file", "key_file",
	"keepalive", "topic_prefix", "clean_session", "down_after", "home_assistant"}
