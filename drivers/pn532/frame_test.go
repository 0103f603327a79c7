package pn532

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var frameTests = []struct {
	name    string
	in      []byte
	want    frame
	wantErr error
}{
	{name: "ack", in: ack, want: frame{kind: kindACK}},
	{name: "nack", in: nack, want: frame{kind: kindNACK}},
	{name: "firmware version", in: answerVersion, want: frame{tfi: 0xD5, data: []byte{0x03, 0x32, 0x01, 0x06, 0x07}}},
	{name: "no card", in: answerNoCard, want: frame{tfi: 0xD5, data: []byte{0x4B, 0x00}}},
	{name: "command frame", in: frameInListPassive, want: frame{tfi: 0xD4, data: []byte{0x4A, 0x01, 0x00}}},
	{name: "extra preamble and padding", in: append([]byte{0, 0, 0}, append(answerSAM, 0, 0, 0xAA)...), want: frame{tfi: 0xD5, data: []byte{0x15}}},
	{name: "no postamble", in: answerSAM[:len(answerSAM)-1], want: frame{tfi: 0xD5, data: []byte{0x15}}},
	{name: "error frame", in: errorFrame, wantErr: ErrSyntax},
	{name: "empty", in: nil, wantErr: ErrFrame},
	{name: "zeros", in: make([]byte, 8), wantErr: ErrFrame},
	{name: "no preamble", in: answerSAM[2:], wantErr: ErrFrame},
	{name: "bad start code", in: []byte{0x00, 0x00, 0xFE, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}, wantErr: ErrFrame},
	{name: "bad length checksum", in: []byte{0x00, 0x00, 0xFF, 0x02, 0xFD, 0xD5, 0x15, 0x16, 0x00}, wantErr: ErrChecksum},
	{name: "bad data checksum", in: []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x17, 0x00}, wantErr: ErrChecksum},
	{name: "flipped data bit", in: []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x14, 0x16, 0x00}, wantErr: ErrChecksum},
	{name: "truncated body", in: answerVersion[:9], wantErr: ErrFrame},
	{name: "truncated before dcs", in: answerSAM[:7], wantErr: ErrFrame},
	{name: "truncated after start code", in: []byte{0x00, 0x00, 0xFF, 0x02}, wantErr: ErrFrame},
	{name: "zero length", in: []byte{0x00, 0xFF, 0x00, 0x00, 0x00}, wantErr: ErrFrame},
	{name: "extended frame", in: []byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}, wantErr: ErrFrame},
}

func TestParseFrame(t *testing.T) {
	for _, tc := range frameTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFrame(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("parseFrame(% X) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(frame{})); diff != "" {
				t.Errorf("parseFrame(% X) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	for _, tc := range []struct {
		body, want []byte
	}{
		{[]byte{0xD4, 0x02}, frameGetFirmwareVersion},
		{[]byte{0xD4, 0x14, 0x01, 0x00, 0x01}, frameSAMConfiguration},
		{[]byte{0xD4, 0x4A, 0x01, 0x00}, frameInListPassive},
	} {
		if got := appendFrame(nil, tc.body); !bytes.Equal(got, tc.want) {
			t.Errorf("appendFrame(% X) = % X, want % X", tc.body, got, tc.want)
		}
	}
}

// FuzzParseFrame checks that parseFrame never panics and never accepts a
// frame whose checksums do not hold: whatever it returns must appear in the
// input exactly as a correctly encoded frame from the start code to DCS.
func FuzzParseFrame(f *testing.F) {
	for _, tc := range frameTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := parseFrame(in)
		if err != nil {
			if !errors.Is(err, ErrFrame) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrSyntax) {
				t.Fatalf("parseFrame(% X) = %v, not a frame error", in, err)
			}
			return
		}
		var core []byte
		switch got.kind {
		case kindACK:
			core = []byte{0xFF, 0x00, 0xFF}
		case kindNACK:
			core = []byte{0xFF, 0xFF, 0x00}
		case kindInfo:
			enc := appendFrame(nil, append([]byte{got.tfi}, got.data...))
			core = enc[2 : len(enc)-1] // FF LEN LCS TFI data DCS
		default:
			t.Fatalf("parseFrame(% X) = unknown kind %d", in, got.kind)
		}
		if !bytes.Contains(in, core) {
			t.Fatalf("parseFrame(% X) = %+v, which is not in the input with valid checksums", in, got)
		}
		// The frame starts after zeros only: nothing before it was skipped.
		if i := bytes.Index(in, core); i == 0 || bytes.ContainsFunc(in[:i], func(r rune) bool { return r != 0 }) {
			t.Fatalf("parseFrame(% X) accepted a frame after non-zero bytes", in)
		}
	})
}
