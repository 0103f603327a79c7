package main

import (
	"fmt"

	"periph.io/x/host/v3"

	"github.com/pintu/pintu/controller/doorio"
)

// newResolver initialises periph.io's host drivers, for SPI and I2C
// only, and returns the resolver that finds every GPIO line on the
// kernel's GPIO character device (doorio.ChardevResolver): no line is
// taken from periph's GPIO registry.
func newResolver() (doorio.Resolver, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("initialise periph.io host drivers: %w", err)
	}
	return doorio.NewResolver(), nil
}
