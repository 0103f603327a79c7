package pn532

import (
	"fmt"
)

// Frame bytes (UM0701-02, host controller communication protocol).
const (
	tfiHost  = 0xD4 // frame identifier, host to PN532
	tfiChip  = 0xD5 // frame identifier, PN532 to host
	tfiError = 0x7F // application error frame: syntax error in the command
	maxLen   = 254  // LEN 0xFF marks an extended frame, not supported
)

// ackFrame is sent by the PN532 after each command frame, and by the host to
// abort the command in progress.
var ackFrame = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}

// nackFrame, sent by the host, asks the PN532 to send its last answer again
// (UM0701-02 §6.2.1, the NACK frame).
var nackFrame = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}

// truncatedError is a frame whose header is intact but whose LEN runs past
// the bytes read: need is how many bytes, from the start of the buffer, the
// whole frame takes, postamble included.
type truncatedError struct {
	need int
	err  error
}

func (e *truncatedError) Error() string { return e.err.Error() }
func (e *truncatedError) Unwrap() error { return e.err }

// appendFrame appends a normal information frame carrying body (TFI, command
// code and parameters): preamble, start code, LEN, LCS, body, DCS, postamble.
func appendFrame(dst, body []byte) []byte {
	if len(body) == 0 || len(body) > maxLen {
		panic(fmt.Sprintf("pn532: frame body of %d bytes", len(body)))
	}
	n := byte(len(body))
	dst = append(dst, 0x00, 0x00, 0xFF, n, -n)
	dst = append(dst, body...)
	var sum byte
	for _, c := range body {
		sum += c
	}
	return append(dst, -sum, 0x00)
}

type frameKind int

const (
	kindInfo frameKind = iota // normal information frame
	kindACK
	kindNACK
)

// frame is a parsed frame. data aliases the parsed buffer.
type frame struct {
	kind frameKind
	tfi  byte
	data []byte // after the TFI, without DCS
}

// parseFrame parses the frame at the start of b. Leading 0x00 bytes (the
// preamble and start code) are skipped; bytes after DCS (the postamble and
// unused buffer) are ignored. A frame whose LCS or DCS does not match is
// rejected with ErrChecksum, an application error frame with ErrSyntax.
func parseFrame(b []byte) (frame, error) {
	i := 0
	for i < len(b) && b[i] == 0x00 {
		i++
	}
	switch {
	case i == len(b):
		return frame{}, fmt.Errorf("%w: no start code in % X", ErrFrame, b)
	case i == 0 || b[i] != 0xFF:
		return frame{}, fmt.Errorf("%w: no start code, got %#02x", ErrFrame, b[i])
	}
	start := i
	b = b[i+1:]
	if len(b) < 2 {
		return frame{}, fmt.Errorf("%w: truncated after start code", ErrFrame)
	}
	n, lcs := b[0], b[1]
	switch {
	case n == 0x00 && lcs == 0xFF:
		return frame{kind: kindACK}, nil
	case n == 0xFF && lcs == 0x00:
		return frame{kind: kindNACK}, nil
	case n == 0xFF && lcs == 0xFF:
		return frame{}, fmt.Errorf("%w: extended frame not supported", ErrFrame)
	case n+lcs != 0:
		return frame{}, fmt.Errorf("%w: LEN %#02x with LCS %#02x", ErrChecksum, n, lcs)
	case n == 0:
		return frame{}, fmt.Errorf("%w: LEN 0 without ACK's LCS", ErrFrame)
	}
	if len(b) < 2+int(n)+1 {
		return frame{}, &truncatedError{
			need: start + 1 + 2 + int(n) + 2,
			err:  fmt.Errorf("%w: truncated, LEN %d but %d bytes follow", ErrFrame, n, len(b)-2),
		}
	}
	body := b[2 : 2+int(n)]
	var sum byte
	for _, c := range body {
		sum += c
	}
	if dcs := b[2+int(n)]; sum+dcs != 0 {
		return frame{}, fmt.Errorf("%w: data sums to %#02x with DCS %#02x", ErrChecksum, sum, dcs)
	}
	if n == 1 && body[0] == tfiError {
		return frame{}, ErrSyntax
	}
	return frame{kind: kindInfo, tfi: body[0], data: body[1:]}, nil
}
