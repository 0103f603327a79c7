package remote

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
)

const (
	keyIDPrefix = "ed25519:"
	keyIDHexLen = 16

	pemPrivate = "PRIVATE KEY" // PKCS #8, RFC 5208 and RFC 8410
	pemPublic  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo, RFC 5280 and RFC 8410
)

// KeyID names a public key: "ed25519:" and the first 16 lower-case hex
// digits of the SHA-256 of its 32 bytes. Commands carry it so that the
// controller can find the key to verify them with.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return keyIDPrefix + hex.EncodeToString(sum[:])[:keyIDHexLen]
}

// MarshalPrivateKey encodes priv as a PEM "PRIVATE KEY" block (PKCS #8), the
// format of the file `pintuctl keygen --out FILE` writes. The caller writes
// it with mode 0600.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("remote: marshal private key: %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("remote: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM "PRIVATE KEY" block holding an Ed25519 key.
// The input must hold exactly that one block.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	der, err := onePEM(data, pemPrivate)
	if err != nil {
		return nil, fmt.Errorf("remote: parse private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("remote: parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("remote: parse private key: %T is not an Ed25519 key", k)
	}
	return priv, nil
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX), the form
// the controller's key table holds.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("remote: marshal public key: %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("remote: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" block holding an Ed25519 key.
// The input must hold exactly that one block.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der, err := onePEM(data, pemPublic)
	if err != nil {
		return nil, fmt.Errorf("remote: parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("remote: parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("remote: parse public key: %T is not an Ed25519 key", k)
	}
	return pub, nil
}

// onePEM returns the bytes of the only PEM block in data, which must be of
// type typ and carry no headers.
func onePEM(data []byte, typ string) ([]byte, error) {
	b, rest := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("no PEM %q block", typ)
	}
	if b.Type != typ {
		return nil, fmt.Errorf("PEM block is %q, want %q", b.Type, typ)
	}
	if len(b.Headers) != 0 {
		return nil, fmt.Errorf("PEM %q block has headers", typ)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("data after the PEM %q block", typ)
	}
	return b.Bytes, nil
}
