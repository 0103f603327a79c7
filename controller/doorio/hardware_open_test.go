package doorio_test

import (
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller/doorio"
	"github.com/pintu/pintu/controller/doorio/doortest"
)

// openConfig is a door with every kind of GPIO line: Wiegand readers on
// GPIO5/6 and an RC522 with its reset on GPIO25, the relay on GPIO17, the
// contact, REX and tamper on GPIO22, 23 and 24 with each pull, and the
// indicator on GPIO20 and 21.
const openConfig = `site: {name: Lab, require_clock_sync: false}
doors:
  - name: server-room
    readers:
      - {name: entry, direction: entry, driver: wiegand, d0: GPIO5, d1: GPIO6, lengths: [26]}
      - {name: exit, direction: exit, driver: rc522, bus: SPI0.0, reset: GPIO25}
    relay: {driver: gpio, pin: GPIO17, active_low: true}
    contact: {driver: gpio, pin: GPIO22, pull: up}
    rex: {driver: gpio, pin: GPIO23, pull: down}
    tamper: {driver: gpio, pin: GPIO24, pull: none}
    indicator: {driver: gpio, led: GPIO20, buzzer: GPIO21}
`

func openFake(t *testing.T, yaml string) (*doortest.Resolver, *doorio.Devices) {
	t.Helper()
	cfg, err := config.Parse("pintud.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	res := doortest.NewResolver()
	hw, err := doorio.Open(cfg, "pintud.yaml", false, func() (doorio.Resolver, error) { return res, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hw.Close)
	return res, hw
}

// Each configured pull reaches its line as the bias the driver asks for:
// none is gpio.Float, which package gpiocdev requests with the bias
// disabled.
func TestOpenPulls(t *testing.T) {
	res, _ := openFake(t, openConfig)
	for _, tc := range []struct {
		what string
		n    int
		want gpio.Pull
	}{
		{"contact, pull: up", 22, gpio.PullUp},
		{"rex, pull: down", 23, gpio.PullDown},
		{"tamper, pull: none", 24, gpio.Float},
	} {
		if got := res.Get(tc.n).Pull(); got != tc.want {
			t.Errorf("%s: the driver asked for %v, want %v", tc.what, got, tc.want)
		}
	}
	for c, want := range map[config.Pull]gpio.Pull{config.PullUp: gpio.PullUp, config.PullDown: gpio.PullDown, config.PullNone: gpio.Float} {
		if got := doorio.Pull(c); got != want {
			t.Errorf("Pull(%q) = %v, want %v", c, got, want)
		}
	}
}

// Every line is listed with what it is for, and held under a label that
// says so; the relay's first level is locked and the indicator's off.
func TestOpenLines(t *testing.T) {
	res, hw := openFake(t, openConfig)
	var got []string
	for _, u := range hw.Lines() {
		s, err := hw.Describe(u)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u.Use+" "+u.Pin.String()+" "+s.Consumer)
	}
	want := []string{
		"door server-room relay GPIO17 pintud:server-room:relay",
		"door server-room reader entry d0 GPIO5 pintud:server-room:entry",
		"door server-room reader entry d1 GPIO6 pintud:server-room:entry",
		"door server-room exit-reset GPIO25 pintud:server-room:exit-reset",
		"door server-room contact GPIO22 pintud:server-room:contact",
		"door server-room rex GPIO23 pintud:server-room:rex",
		"door server-room tamper GPIO24 pintud:server-room:tamper",
		"door server-room led GPIO20 pintud:server-room:led",
		"door server-room buzzer GPIO21 pintud:server-room:buzzer",
	}
	if len(got) != len(want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", join(got), join(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if l := res.Get(17).Levels(); len(l) == 0 || l[0] != gpio.High {
		t.Errorf("relay (active low) writes %v, want locked (High) first", l)
	}
	for _, n := range []int{20, 21} {
		if l := res.Get(n).Levels(); len(l) == 0 || l[0] != gpio.Low {
			t.Errorf("GPIO%d (indicator) writes %v, want off (Low) first", n, l)
		}
	}
	// The Wiegand lines are requested at start: a source is open.
	res.Source(t, "GPIO5")
}

func join(s []string) string {
	var b []byte
	for _, x := range s {
		b = append(b, x...)
		b = append(b, '\n')
	}
	return string(b)
}

// TestHardwareConfigErrors checks that a pin or bus the machine lacks is an
// error at start naming the configuration line, and that a relay opened
// before it is left locked.
func TestHardwareConfigErrors(t *testing.T) {
	const head = `site: {name: Lab}
doors:
  - name: d
    readers:
`
	tests := []struct {
		name, yaml, want string
	}{
		{"relay pin", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: gpio, pin: GPIO99}\n",
			"pintud.yaml:6: door d relay: no such GPIO line GPIO99"},
		{"contact pin", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: gpio, pin: GPIO17}\n" +
			"    contact:\n      driver: gpio\n      pin: gpiochip1:3\n",
			"pintud.yaml:9: door d contact: no such GPIO line gpiochip1:3"},
		{"wiegand line", head + "      - name: in\n        direction: entry\n        driver: wiegand\n        d0: GPIO40\n        d1: GPIO6\n    relay: {driver: gpio, pin: GPIO17}\n",
			"pintud.yaml:8: door d reader in: no such GPIO line GPIO40"},
		{"spi bus", head + "      - {name: in, direction: entry, driver: rc522, bus: SPI1.0}\n    relay: {driver: sim}\n",
			"pintud.yaml:5: door d reader in: no SPI port SPI1.0"},
		{"rc522 irq", head + "      - {name: in, direction: entry, driver: rc522, bus: SPI0.0,\n         irq: GPIO30}\n    relay: {driver: sim}\n",
			"pintud.yaml:6: door d reader in: no such GPIO line GPIO30"},
		{"i2c bus", head + "      - {name: in, direction: entry, driver: pn532, bus: I2C0}\n    relay: {driver: sim}\n",
			"pintud.yaml:5: door d reader in: no I2C bus I2C0"},
		{"indicator", head + "      - {name: in, direction: entry, driver: sim}\n    relay: {driver: sim}\n    indicator: {driver: gpio, led: GPIO28}\n",
			"pintud.yaml:7: door d indicator: no such GPIO line GPIO28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("pintud.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			res := doortest.NewResolver()
			_, err = doorio.Open(cfg, "pintud.yaml", false, func() (doorio.Resolver, error) { return res, nil }, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Open error = %v, want %q", err, tt.want)
			}
			if relayPin := res.Get(17); relayPin != nil {
				if got := relayPin.Levels(); len(got) < 2 || got[len(got)-1] != gpio.Low {
					t.Errorf("relay writes after the failed start = %v, want locked (low) at least twice", got)
				}
			}
		})
	}
}

// TestSimulateIgnoresHardware checks that simulate (pintud -sim) never
// asks for hardware.
func TestSimulateIgnoresHardware(t *testing.T) {
	cfg, err := config.Parse("pintud.yaml", []byte(openConfig))
	if err != nil {
		t.Fatal(err)
	}
	hw, err := doorio.Open(cfg, "pintud.yaml", true, func() (doorio.Resolver, error) {
		t.Fatal("-sim asked for hardware")
		return nil, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	if len(hw.Hardware.Doors) != 0 || len(hw.Strikes) != 1 || len(hw.Lines()) != 0 {
		t.Errorf("simulated hardware = %d doors of inputs, %d strikes, %d lines; want 0, 1, 0", len(hw.Hardware.Doors), len(hw.Strikes), len(hw.Lines()))
	}
}
