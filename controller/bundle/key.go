package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the site key in pintud's state directory.
const KeyFile = "site.key"

// Key is a site's Ed25519 signing key.
type Key struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

// PublicKey is the public half of a site key, with its minisign key id.
type PublicKey struct {
	ID  [8]byte
	Key ed25519.PublicKey
}

// NewKey returns a key made from a random seed.
func NewKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("bundle: generate key: %w", err)
	}
	return keyOf(priv), nil
}

func keyOf(priv ed25519.PrivateKey) *Key {
	pub := priv.Public().(ed25519.PublicKey)
	// minisign key ids are 8 arbitrary bytes; deriving them from the public
	// key means the id needs no storage of its own.
	sum := sha256.Sum256(pub)
	k := &Key{priv: priv, pub: PublicKey{Key: pub}}
	copy(k.pub.ID[:], sum[:8])
	return k
}

// Public is the key's public half.
func (k *Key) Public() PublicKey { return k.pub }

// LoadOrCreateKey reads the site key at path, creating it (mode 0600) if
// there is none. It refuses a key file that others than its owner can
// read, and a file that is not a key.
func LoadOrCreateKey(path string) (*Key, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := createKey(path)
		return k, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("bundle: read site key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("bundle: site key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("bundle: site key %s has mode %v: others can read it; chmod 600 it (or replace the key if it leaked)", path, fi.Mode().Perm())
	}
	k, err := parseKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("bundle: site key %s: %w", path, err)
	}
	return k, false, nil
}

func parseKey(b []byte) (*Key, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\"")
	}
	pk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := pk.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", pk)
	}
	return keyOf(priv), nil
}

// createKey writes a new key beside path and links it into place, so a
// crash never leaves half a key and two starting daemons never replace
// each other's key.
func createKey(path string) (*Key, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("bundle: encode site key: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("bundle: create site key: %w", err)
	}
	defer os.Remove(f.Name())
	err = f.Chmod(0o600)
	if err == nil {
		err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: create site key %s: %w", path, err)
	}
	return k, nil
}

// IDString is the key id as minisign prints it.
func (p PublicKey) IDString() string {
	return fmt.Sprintf("%016X", binary.LittleEndian.Uint64(p.ID[:]))
}

// Minisign is the public key as a minisign public key file (.pub), for
// `minisign -V -p FILE`.
func (p PublicKey) Minisign() []byte {
	b := append(append([]byte("Ed"), p.ID[:]...), p.Key...)
	return fmt.Appendf(nil, "untrusted comment: minisign public key %s\n%s\n", p.IDString(), base64.StdEncoding.EncodeToString(b))
}

// ParsePublicKey reads a minisign public key: the file minisign writes, or
// its base64 line alone.
func ParsePublicKey(b []byte) (PublicKey, error) {
	var line string
	for l := range strings.SplitSeq(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "untrusted comment:") {
			line = l
			break
		}
	}
	raw, err := base64.StdEncoding.DecodeString(line)
	if err != nil || len(raw) != 2+8+ed25519.PublicKeySize || !bytes.Equal(raw[:2], []byte("Ed")) {
		return PublicKey{}, errors.New("bundle: not a minisign Ed25519 public key (want the file `pintuctl site key` prints)")
	}
	var p PublicKey
	copy(p.ID[:], raw[2:10])
	p.Key = ed25519.PublicKey(raw[10:])
	return p, nil
}

// Errors of signature checks.
var (
	// ErrOtherKey is a signature made by another key: another site's
	// bundle, or the wrong public key given.
	ErrOtherKey = errors.New("signed by another key")
	// ErrBadSignature is a signature that does not verify: the signed file
	// or the signature was changed.
	ErrBadSignature = errors.New("signature does not verify")
)

// sign returns a minisign signature file for msg: a legacy (not
// prehashed) Ed25519 signature, which minisign verifies by default; the
// signed files are small, so prehashing would bring nothing.
func (k *Key) sign(msg []byte, trusted string) []byte {
	sig := ed25519.Sign(k.priv, msg)
	global := ed25519.Sign(k.priv, append(append([]byte{}, sig...), trusted...))
	line := append(append([]byte("Ed"), k.pub.ID[:]...), sig...)
	return fmt.Appendf(nil, "untrusted comment: signature from pintu site key %s\n%s\ntrusted comment: %s\n%s\n",
		k.pub.IDString(), base64.StdEncoding.EncodeToString(line), trusted, base64.StdEncoding.EncodeToString(global))
}

// verify checks a minisign signature file over msg and returns its trusted
// comment.
func (p PublicKey) verify(msg, sigFile []byte) (string, error) {
	lines := strings.Split(strings.TrimRight(string(sigFile), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "untrusted comment:") || !strings.HasPrefix(lines[2], "trusted comment: ") {
		return "", fmt.Errorf("%w: not a minisign signature file", ErrBadSignature)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[1])
	if err != nil || len(raw) != 2+8+ed25519.SignatureSize {
		return "", fmt.Errorf("%w: malformed signature line", ErrBadSignature)
	}
	if string(raw[:2]) != "Ed" {
		return "", fmt.Errorf("%w: algorithm %q, want Ed", ErrBadSignature, raw[:2])
	}
	if !bytes.Equal(raw[2:10], p.ID[:]) {
		other := PublicKey{}
		copy(other.ID[:], raw[2:10])
		return "", fmt.Errorf("%w: key %s signed it, the public key given is %s", ErrOtherKey, other.IDString(), p.IDString())
	}
	sig := raw[10:]
	if !ed25519.Verify(p.Key, msg, sig) {
		return "", ErrBadSignature
	}
	trusted := strings.TrimPrefix(lines[2], "trusted comment: ")
	global, err := base64.StdEncoding.DecodeString(lines[3])
	if err != nil || !ed25519.Verify(p.Key, append(append([]byte{}, sig...), trusted...), global) {
		return "", fmt.Errorf("%w: the trusted comment was changed", ErrBadSignature)
	}
	return trusted, nil
}
