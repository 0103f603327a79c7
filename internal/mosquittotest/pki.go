package mosquittotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the test's certificates, written to files.
type pki struct {
	caFile                        string
	clientCertFile, clientKeyFile string
	roots                         *x509.CertPool
	client                        tls.Certificate
}

type issued struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// writePKI makes a CA, a server certificate for 127.0.0.1, ::1 and
// localhost, and a client certificate, all ECDSA P-256 and valid from an
// hour ago for a day, and writes them to dir as ca.pem, server.pem,
// server-key.pem, client.pem and client-key.pem.
func writePKI(dir string) (pki, error) {
	now := time.Now()
	ca, err := issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "mosquittotest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}, nil)
	if err != nil {
		return pki{}, err
	}
	server, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &ca)
	if err != nil {
		return pki{}, err
	}
	client, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "mosquittotest client"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca)
	if err != nil {
		return pki{}, err
	}
	p := pki{
		caFile:         filepath.Join(dir, "ca.pem"),
		clientCertFile: filepath.Join(dir, "client.pem"),
		clientKeyFile:  filepath.Join(dir, "client-key.pem"),
		roots:          x509.NewCertPool(),
	}
	p.roots.AddCert(ca.cert)
	for _, w := range []struct {
		name string
		it   issued
	}{{"ca", ca}, {"server", server}, {"client", client}} {
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.it.der})
		if err := os.WriteFile(filepath.Join(dir, w.name+".pem"), certPEM, 0o600); err != nil {
			return pki{}, fmt.Errorf("write certificate: %w", err)
		}
		if w.name == "ca" {
			continue // nobody needs the CA's key once it has signed
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(w.it.key)
		if err != nil {
			return pki{}, fmt.Errorf("marshal %s key: %w", w.name, err)
		}
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
		if err := os.WriteFile(filepath.Join(dir, w.name+"-key.pem"), keyPEM, 0o600); err != nil {
			return pki{}, fmt.Errorf("write key: %w", err)
		}
		if w.name == "client" {
			if p.client, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
				return pki{}, fmt.Errorf("client key pair: %w", err)
			}
		}
	}
	return p, nil
}

// issue makes a key and a certificate for it from tmpl, signed by parent,
// or self-signed when parent is nil.
func issue(tmpl *x509.Certificate, parent *issued) (issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return issued{}, fmt.Errorf("generate key: %w", err)
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); err != nil {
		return issued{}, fmt.Errorf("serial number: %w", err)
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return issued{}, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return issued{}, fmt.Errorf("parse certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return issued{cert: cert, der: der, key: key}, nil
}
