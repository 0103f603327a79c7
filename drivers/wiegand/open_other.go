//go:build !linux

package wiegand

import "errors"

// Open requests the lines d0 and d1 of a GPIO chip and returns a Dev
// decoding them. It needs Linux's GPIO character device: elsewhere it
// returns an error; use New with an EdgeSource of your own.
func Open(chip string, d0, d1 int, opts *Opts) (*Dev, error) {
	return nil, errors.New("wiegand: open: the GPIO character device needs Linux")
}
