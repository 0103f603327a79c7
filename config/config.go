package config

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	// A Raspberry Pi image may ship without /usr/share/zoneinfo; the site's
	// time zone must load anyway.
	_ "time/tzdata"

	"github.com/pintu/pintu/controller"
)

// Defaults for keys that have no domain default of their own.
const (
	DefaultTimezone = "Asia/Jakarta"
	DefaultStateDir = "./pintu-data"
	// SocketName is the API socket's file name inside the state directory,
	// where api.socket points unless it is set.
	SocketName = "pintud.sock"
)

// DriverSim is the simulated driver. It is valid for readers, relays, door
// contacts, request-to-exit buttons and tamper switches; hardware.go lists
// the others.
const DriverSim = "sim"

// MaxSize is the largest file Load reads. A configuration is a few
// kilobytes; anything bigger is the wrong file.
const MaxSize = 1 << 20

// File is a parsed and validated configuration file. Every default is filled
// in.
type File struct {
	Site Site
	// Location is Site.Timezone, loaded.
	Location *time.Location
	// StateDir holds the database and, by default, the API socket.
	StateDir string
	API      API
	Roles    Roles
	SOP      SOP
	Doors    []Door
	// MQTT is the broker link; nil when the file has no mqtt section.
	MQTT *MQTT
	// Metrics is the metrics and health listener; nil when off.
	Metrics *Metrics
	// Backup schedules backups; nil when off.
	Backup *Backup
	// Console is the web console; nil (off) when the file has no console
	// section.
	Console *Console

	// socketDerived is set when api.socket was not given, so that
	// SetStateDir can move the socket with the state directory.
	socketDerived bool
}

// Site names the installation.
type Site struct {
	Name     string
	Timezone string // an IANA name such as Asia/Jakarta
	// RequireClockSync refuses visitor grants while the kernel says the
	// clock is not synchronised (a Pi has no RTC).
	RequireClockSync bool
}

// API is the local API that pintuctl talks to.
type API struct {
	Socket string // path of the Unix socket
}

// Roles says which staff roles carry which rights.
type Roles struct {
	RoomAccess []controller.Role // may enter alone
	Escort     []controller.Role // may escort a visitor
}

// SOP holds the procedure's standard times and limits.
type SOP struct {
	// StepStandards are the standard times of steps 1..8, at index 0..7.
	StepStandards [8]time.Duration
	// MaxVisitWindow is the longest window a visit may be submitted with.
	MaxVisitWindow time.Duration
}

// Door is one door: its timings, its readers and the hardware around it.
type Door struct {
	Name          string
	Unlock        time.Duration
	HeldOpen      time.Duration
	EscortWindow  time.Duration
	RelockOnClose bool
	TwoPerson     bool
	Readers       []Reader
	Relay         Relay
	Contact       *Device // nil when the door has no contact (no forced/held-open alarms)
	REX           *Device // nil when the door has no request-to-exit button
	Tamper        *Device // nil when the door has no enclosure tamper switch
	Indicator     *Indicator
}

// Reader is a card reader beside a door.
type Reader struct {
	Name      string
	Direction controller.Direction
	Device
}

// Relay drives a door's strike.
type Relay struct {
	Device
	// ActiveLow means the strike releases when the output is driven low.
	ActiveLow bool
	// FailSafe means the strike releases when unpowered (often a fire-code
	// requirement); the default is fail-secure.
	FailSafe bool
}

// Device selects the driver behind a reader, relay, contact, button or
// tamper switch, with that driver's options; the fields of other drivers
// are zero.
type Device struct {
	Driver string
	Line   int // the line of the driver key, for messages about the device
	// Pin is the GPIO line of a gpio relay, contact, REX or tamper switch.
	Pin     Pin
	Input   *Input // gpio contact, REX and tamper
	Wiegand *Wiegand
	RC522   *RC522
	PN532   *PN532
	HID     *HID
}

// Parse reads a configuration from data. name is the file name used in
// problems. It returns every problem found, as Errors.
func Parse(name string, data []byte) (*File, error) {
	return parse(name, data, nil)
}

// parse is Parse with a trace hook for tests: trace is told every key path
// the schema knows and whether the file had it.
func parse(name string, data []byte, trace func(path string, present bool)) (*File, error) {
	d := &decoder{filename: name, trace: trace}
	f := d.parse(data)
	if len(d.probs) > 0 {
		slices.SortStableFunc(d.probs, func(a, b Problem) int { return a.Line - b.Line })
		return nil, d.probs
	}
	// The checks above are meant to cover Validate; this catches a gap
	// before the controller refuses to start.
	if err := f.Controller().Validate(); err != nil {
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	return f, nil
}

// Load reads and parses the file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("config: %s is larger than 1 MiB; is it the right file?", path)
	}
	return Parse(path, data)
}

//go:embed default.yaml
var defaultYAML string

// Default returns the embedded default configuration: site Pintu, one door
// server-room with an entry and an exit reader, all on simulated hardware.
// It panics if the embedded file is invalid, which a test rules out.
func Default() *File {
	f, err := Parse("default.yaml", []byte(defaultYAML))
	if err != nil {
		panic(fmt.Sprintf("config: embedded default: %v", err))
	}
	return f
}

// SetStateDir replaces the state directory, as pintud -data does, and puts
// the API socket in it too, whatever api.socket says: a pintud run on
// another state directory (a test beside the service, a restore drill)
// never takes the service's socket. It fails, changing nothing, when the
// socket's path would be too long for a Unix socket.
func (f *File) SetStateDir(dir string) error {
	sock := filepath.Join(dir, SocketName)
	if n := len(sock); n > maxSocketPath {
		return fmt.Errorf("config: state directory %s puts the API socket at a path %d bytes long, but a Unix socket path has at most %d; choose a shorter one", dir, n, maxSocketPath)
	}
	f.StateDir, f.API.Socket = dir, sock
	return nil
}

// Controller returns the domain's view of the configuration. It shares no
// memory with f.
func (f *File) Controller() controller.Config {
	c := controller.Config{
		Site:           f.Site.Name,
		Doors:          make([]controller.DoorConfig, 0, len(f.Doors)),
		RoomAccess:     slices.Clone(f.Roles.RoomAccess),
		Escort:         slices.Clone(f.Roles.Escort),
		StepStandards:  f.SOP.StepStandards,
		MaxVisitWindow: f.SOP.MaxVisitWindow,
	}
	for _, d := range f.Doors {
		dc := controller.DoorConfig{
			Name:          d.Name,
			Unlock:        d.Unlock,
			HeldOpen:      d.HeldOpen,
			EscortWindow:  d.EscortWindow,
			RelockOnClose: d.RelockOnClose,
			TwoPerson:     d.TwoPerson,
			Readers:       make([]controller.ReaderConfig, 0, len(d.Readers)),
		}
		for _, r := range d.Readers {
			dc.Readers = append(dc.Readers, controller.ReaderConfig{Name: r.Name, Direction: r.Direction})
		}
		c.Doors = append(c.Doors, dc)
	}
	return c
}
