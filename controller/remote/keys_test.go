package remote

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func TestKeyID(t *testing.T) {
	// SHA-256 of the test key's public half, first 16 hex digits.
	if got, want := KeyID(pubOf(testKey())), "ed25519:56475aa75463474c"; got != want {
		t.Errorf("KeyID(test key) = %q, want %q", got, want)
	}
	if err := checkKeyID(KeyID(pubOf(otherKey("x")))); err != nil {
		t.Errorf("KeyID output fails its own check: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	priv := testKey()
	privPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("MarshalPrivateKey = %q, want a PKCS #8 PEM block", privPEM)
	}
	got, err := ParsePrivateKey(privPEM)
	if err != nil || !got.Equal(priv) {
		t.Errorf("ParsePrivateKey(MarshalPrivateKey(k)) = %v, %v, want k", got, err)
	}
	pubPEM, err := MarshalPublicKey(pubOf(priv))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("MarshalPublicKey = %q, want a PKIX PEM block", pubPEM)
	}
	gotPub, err := ParsePublicKey(pubPEM)
	if err != nil || !gotPub.Equal(pubOf(priv)) {
		t.Errorf("ParsePublicKey(MarshalPublicKey(k)) = %v, %v, want k", gotPub, err)
	}
	// Interoperability: `openssl genpkey -algorithm ed25519` writes this
	// form; this one is the test key.
	const opensslPEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n-----END PRIVATE KEY-----\n"
	if k, err := ParsePrivateKey([]byte(opensslPEM)); err != nil || !k.Equal(priv) {
		t.Errorf("ParsePrivateKey(openssl PEM) = %v, %v, want the test key", k, err)
	}
	if string(privPEM) != opensslPEM {
		t.Errorf("MarshalPrivateKey(test key) =\n%s\nwant\n%s", privPEM, opensslPEM)
	}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	block := func(typ string, b []byte, h map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: h, Bytes: b})
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no PEM"},
		{"public as private", pubPEM, `is "PUBLIC KEY"`},
		{"ecdsa", block("PRIVATE KEY", ecDER, nil), "not an Ed25519 key"},
		{"two blocks", append(append([]byte{}, privPEM...), privPEM...), "data after"},
		{"headers", block("PRIVATE KEY", priv, map[string]string{"Proc-Type": "4,ENCRYPTED"}), "headers"},
		{"garbage DER", block("PRIVATE KEY", []byte{1, 2, 3}, nil), "parse private key"},
	} {
		if _, err := ParsePrivateKey(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "remote: parse private key: ") {
			t.Errorf("ParsePrivateKey(%s) = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"private as public", privPEM, `is "PRIVATE KEY"`},
		{"ecdsa", block("PUBLIC KEY", ecPubDER, nil), "not an Ed25519 key"},
		{"trailing", append(append([]byte{}, pubPEM...), "x"...), "data after"},
	} {
		if _, err := ParsePublicKey(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePublicKey(%s) = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := MarshalPrivateKey(priv[:5]); err == nil {
		t.Errorf("MarshalPrivateKey(short) = nil error")
	}
	if _, err := MarshalPublicKey(pubOf(priv)[:5]); err == nil {
		t.Errorf("MarshalPublicKey(short) = nil error")
	}
}
