package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pintu/pintu/config"
	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/console"
	"github.com/pintu/pintu/controller/password"
)

// The console's own certificate, made on first start when the config names
// none, kept in the state directory.
const (
	consoleCertFile = "console.crt"
	consoleKeyFile  = "console.key"
	certLifetime    = 825 * 24 * time.Hour // the longest Apple's systems accept
	certRenewBefore = 30 * 24 * time.Hour
)

// newConsole listens for the web console and returns what serves it, or nil
// when the config has no console section. papers is the local API's handler,
// whose routes make the downloads.
func newConsole(cfg *config.File, ctrl *controller.Controller, store controller.ConsoleStore, papers http.Handler,
	hasher *password.Hasher, log *slog.Logger) (func(context.Context) error, error) {
	cc := cfg.Console
	if cc == nil {
		return nil, nil
	}
	var tlsCfg *tls.Config
	if !cc.PlainHTTP {
		cert, err := consoleCert(cc, cfg.StateDir, time.Now(), log)
		if err != nil {
			return nil, err
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := console.New(ctrl, console.Options{Store: store, Hasher: hasher, Papers: papers, Location: cfg.Location,
		Logger: log, IdleTimeout: cc.IdleTimeout, AbsoluteTimeout: cc.AbsoluteTimeout, PlainHTTP: cc.PlainHTTP})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cc.Listen)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", cc.Listen, err)
	}
	scheme := "https"
	if cc.PlainHTTP {
		scheme = "http"
		log.Warn("the web console serves plain HTTP (console.plain_http): only a reverse proxy on this machine that terminates TLS may reach it")
	}
	log.Info("web console", "url", scheme+"://"+ln.Addr().String()+"/")
	return func(ctx context.Context) error {
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return srv.Run(gctx) })
		g.Go(func() error { return srv.Serve(gctx, ln, tlsCfg) })
		return g.Wait()
	}, nil
}

// consoleCert loads the configured certificate, or the one pintud made in
// the state directory, making (or renewing) it when it is missing or near
// its end. Either way its SHA-256 fingerprint is logged: what a person
// compares with the browser's before trusting it.
func consoleCert(cc *config.Console, stateDir string, now time.Time, log *slog.Logger) (tls.Certificate, error) {
	certPath, keyPath := cc.CertFile, cc.KeyFile
	if certPath == "" {
		certPath, keyPath = filepath.Join(stateDir, consoleCertFile), filepath.Join(stateDir, consoleKeyFile)
		leaf, err := readLeaf(certPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := makeCert(certPath, keyPath, cc.Listen, now); err != nil {
				return tls.Certificate{}, err
			}
			log.Info("made a self-signed certificate for the web console", "path", certPath)
		case err != nil:
			return tls.Certificate{}, err
		case now.Add(certRenewBefore).After(leaf.NotAfter):
			if err := makeCert(certPath, keyPath, cc.Listen, now); err != nil {
				return tls.Certificate{}, err
			}
			log.Warn("renewed the web console's self-signed certificate: browsers will ask to trust the new one", "path", certPath, "old_expiry", leaf.NotAfter)
		}
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: certificate %s and key %s: %w", certPath, keyPath, err)
	}
	sum := sha256.Sum256(cert.Certificate[0])
	log.Info("web console certificate: compare this SHA-256 fingerprint with the browser's before trusting it",
		"path", certPath, "sha256", fingerprint(sum[:]))
	return cert, nil
}

func readLeaf(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("console: %s is not a PEM certificate; remove it and pintud makes a new one", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// makeCert writes a self-signed ECDSA P-256 certificate for this machine's
// name and addresses, and its key (mode 0600).
func makeCert(certPath, keyPath, listen string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("console: make key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("console: make serial: %w", err)
	}
	host, _ := os.Hostname()
	dns := []string{"localhost"}
	if host != "" {
		dns = append(dns, host, host+".local")
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Pintu console " + host, Organization: []string{"Pintu"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so that a browser or OS can be told to trust it as it is
		DNSNames:              dns,
		IPAddresses:           certIPs(listen),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("console: make certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("console: encode key: %w", err)
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// certIPs are the addresses the console answers on: the one it listens on,
// or every address of the machine for 0.0.0.0.
func certIPs(listen string) []net.IP {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	host, _, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return append(ips, ip)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ips = append(ips, n.IP)
		}
	}
	return ips
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("console: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("console: write %s: %w", path, err)
	}
	return nil
}

// fingerprint is a SHA-256 as browsers show it: hex pairs with colons.
func fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
