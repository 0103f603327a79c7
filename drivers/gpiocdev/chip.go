package gpiocdev

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors.
var (
	// ErrNotFound is wrapped by Lookup and At when no chip or line
	// matches.
	ErrNotFound = errors.New("gpiocdev: no such GPIO line")
	// ErrAmbiguous is wrapped by Lookup when more than one chip has a line
	// of the name.
	ErrAmbiguous = errors.New("gpiocdev: GPIO line name on more than one chip")
	// ErrBusy is wrapped when the kernel refuses a request because another
	// consumer (a program or a kernel driver) holds the line.
	ErrBusy = errors.New("gpiocdev: GPIO line in use")
	// ErrClosed is returned by a second Close, and wrapped by operations on
	// a closed request or line.
	ErrClosed = errors.New("gpiocdev: closed")
)

// Chip is a GPIO chip as the kernel reports it.
type Chip struct {
	Path  string   // its character device, /dev/gpiochip0
	Name  string   // the kernel's device name, gpiochip0
	Label string   // the driver's label, pinctrl-bcm2711 or pinctrl-rp1
	Lines []string // the kernel's line names by offset; "" for an unnamed line
}

// Location is one line of one chip.
type Location struct {
	Path   string // the chip's character device
	Chip   string // the chip's name, gpiochip0
	Label  string // the chip's label
	Offset int
	Name   string // the kernel's name of the line; "" when unnamed
}

// String returns "GPIO17 (gpiochip0:17)", or "gpiochip0:17" for an
// unnamed line.
func (l Location) String() string {
	at := l.Chip + ":" + strconv.Itoa(l.Offset)
	if l.Name == "" {
		return at
	}
	return l.Name + " (" + at + ")"
}

func (c *Chip) at(offset int) Location {
	return Location{Path: c.Path, Chip: c.Name, Label: c.Label, Offset: offset, Name: c.Lines[offset]}
}

// describe returns "gpiochip0 (pinctrl-bcm2711)".
func (c *Chip) describe() string {
	if c.Label == "" {
		return c.Name
	}
	return c.Name + " (" + c.Label + ")"
}

// listed bounds the names an error lists: enough to recognise the chip,
// short enough to read in a log line.
const (
	listedChips = 8
	listedLines = 12
)

// Lookup finds the line called name among chips, as gpiofind does, and
// only on the chip called chip (gpiochip0) when chip is not empty. Names
// compare exactly, as the kernel's do. A name on two chips (or twice on
// one) is an error naming both; a name on none is an error listing the
// names there are.
func Lookup(chips []Chip, chip, name string) (Location, error) {
	search := chips
	if chip != "" {
		c, err := findChip(chips, chip)
		if err != nil {
			return Location{}, fmt.Errorf("look up %s: %w", name, err)
		}
		search = []Chip{*c}
	}
	var found []Location
	for i := range search {
		c := &search[i]
		for off, n := range c.Lines {
			if n == name {
				found = append(found, c.at(off))
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Location{}, notFound(search, name)
	}
	var where []string
	for _, l := range found {
		where = append(where, fmt.Sprintf("%s line %d", chipOf(search, l.Chip).describe(), l.Offset))
	}
	return Location{}, fmt.Errorf("%w: %q is on %s; name the line as chip:offset (e.g. %s:%d)",
		ErrAmbiguous, name, strings.Join(where, " and "), found[0].Chip, found[0].Offset)
}

// At returns line offset of the chip called chip.
func At(chips []Chip, chip string, offset int) (Location, error) {
	c, err := findChip(chips, chip)
	if err != nil {
		return Location{}, err
	}
	if offset < 0 || offset >= len(c.Lines) {
		return Location{}, fmt.Errorf("%w: %s has lines 0 to %d, not %d", ErrNotFound, c.describe(), len(c.Lines)-1, offset)
	}
	return c.at(offset), nil
}

func findChip(chips []Chip, name string) (*Chip, error) {
	if c := chipOf(chips, name); c != nil {
		return c, nil
	}
	var names []string
	for i := range chips {
		names = append(names, chips[i].describe())
	}
	return nil, fmt.Errorf("%w: no GPIO chip %s (this machine has %s)", ErrNotFound, name, bounded(names, listedChips, "none"))
}

func chipOf(chips []Chip, name string) *Chip {
	for i := range chips {
		if chips[i].Name == name {
			return &chips[i]
		}
	}
	return nil
}

// notFound lists, per chip, the first named lines, and suggests a name
// that differs only in case.
func notFound(chips []Chip, name string) error {
	var per []string
	similar := ""
	for i, c := range chips {
		var named []string
		for _, n := range c.Lines {
			if n == "" {
				continue
			}
			named = append(named, n)
			if similar == "" && strings.EqualFold(n, name) {
				similar = n
			}
		}
		if i < listedChips {
			per = append(per, c.describe()+": "+bounded(named, listedLines, "no named lines"))
		}
	}
	if len(chips) > listedChips {
		per = append(per, fmt.Sprintf("and %d chips more", len(chips)-listedChips))
	}
	hint := ""
	if similar != "" {
		hint = fmt.Sprintf(" (names are case-sensitive: did you mean %s?)", similar)
	}
	if len(chips) == 0 {
		return fmt.Errorf("%w %q: no GPIO chips (is /dev/gpiochip* readable by this user?)", ErrNotFound, name)
	}
	return fmt.Errorf("%w %q%s; the lines are %s", ErrNotFound, name, hint, strings.Join(per, "; "))
}

// bounded joins at most n of names, saying how many more there are.
func bounded(names []string, n int, none string) string {
	switch {
	case len(names) == 0:
		return none
	case len(names) <= n:
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
