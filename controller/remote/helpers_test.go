package remote

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testKey is the published test key of the golden files: its seed is the
// bytes 0x00, 0x01, ... 0x1f.
func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// otherKey returns a deterministic key other than testKey, named by label.
func otherKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pintu remote test " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(priv ed25519.PrivateKey) ed25519.PublicKey { return priv.Public().(ed25519.PublicKey) }

// t0 is when the test commands are issued.
func t0() time.Time { return time.Date(2026, 1, 5, 2, 30, 0, 0, time.UTC) }

// baseCommand is a valid unlock before defaults, signed by testKey.
func baseCommand() Command {
	return Command{
		ID:       "b7Gq2mX0pLr4sT9vW1yZ",
		Door:     "server-room",
		Action:   ActionUnlock,
		Reason:   "vendor maintenance",
		IssuedAt: t0(),
	}
}

// keyTable is a KeyLookup over a fixed set of keys.
type keyEntry struct {
	pub         ed25519.PublicKey
	person      string
	coordinator bool
}

type keyTable map[string]keyEntry

func (kt keyTable) lookup(id string) (ed25519.PublicKey, string, bool, bool) {
	e, ok := kt[id]
	return e.pub, e.person, e.coordinator, ok
}

// testKeys knows testKey (coordinator "p-coord") and the "officer" key
// (person "p-officer", not a coordinator). The "stranger" key is unknown.
func testKeys() keyTable {
	return keyTable{
		KeyID(pubOf(testKey())):           {pubOf(testKey()), "p-coord", true},
		KeyID(pubOf(otherKey("officer"))): {pubOf(otherKey("officer")), "p-officer", false},
	}
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func mustSign(t testing.TB, c Command, priv ed25519.PrivateKey) []byte {
	t.Helper()
	p, err := Sign(c, priv)
	if err != nil {
		t.Fatalf("Sign(%+v) = %v", c, err)
	}
	return p
}

// specCanonical is a second, deliberately plain implementation of the
// canonical bytes, written from the package documentation.
func specCanonical(c Command) []byte {
	var b strings.Builder
	b.WriteString("pintu-cmd-v1\n")
	for _, f := range [][2]string{
		{"id", c.ID},
		{"door", c.Door},
		{"action", string(c.Action)},
		{"duration_ns", fmt.Sprint(c.Duration.Nanoseconds())},
		{"visit", c.Visit},
		{"reason", c.Reason},
		{"issued_at_ns", fmt.Sprint(c.IssuedAt.UnixNano())},
		{"expiry_ns", fmt.Sprint(c.Expiry.UnixNano())},
		{"key_id", c.KeyID},
	} {
		fmt.Fprintf(&b, "%s %d %s\n", f[0], len(f[1]), f[1])
	}
	return []byte(b.String())
}
