package mqttlink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files in
// dir and returns their paths.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pintu test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name           string
		ca, cert, key  string
		wantRoots      bool
		wantClientCert bool
		wantErr        []string // substrings of the error
	}{
		{name: "nothing: system roots, no client certificate"},
		{name: "ca", ca: cert, wantRoots: true},
		{name: "client certificate", cert: cert, key: key, wantClientCert: true},
		{name: "all", ca: cert, cert: cert, key: key, wantRoots: true, wantClientCert: true},
		{name: "missing ca", ca: missing, wantErr: []string{"read CA", missing}},
		{name: "ca not pem", ca: junk, wantErr: []string{"CA " + junk + ": no PEM certificate"}},
		{name: "missing key", cert: cert, key: missing, wantErr: []string{"client certificate", missing}},
		{name: "certificate not pem", cert: junk, key: key, wantErr: []string{"client certificate " + junk + " with key " + key}},
		{name: "certificate without key", cert: cert, wantErr: []string{"go together"}},
		{name: "key without certificate", key: key, wantErr: []string{"go together"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TLSConfig(tc.ca, tc.cert, tc.key)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("TLSConfig() = %v, nil; want an error", got)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("TLSConfig() error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("TLSConfig() = %v", err)
			}
			if got.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %#x, want TLS 1.2", got.MinVersion)
			}
			if (got.RootCAs != nil) != tc.wantRoots {
				t.Errorf("RootCAs set = %v, want %v", got.RootCAs != nil, tc.wantRoots)
			}
			if n := len(got.Certificates); n != map[bool]int{false: 0, true: 1}[tc.wantClientCert] {
				t.Errorf("%d client certificates, want %v", n, tc.wantClientCert)
			}
		})
	}
}
