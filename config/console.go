package config

import (
	"net"
	"strconv"
	"time"
)

// Console is the web console. Its TLS files are read by pintud, not here.
type Console struct {
	// Listen is host:port, such as 0.0.0.0:8443.
	Listen string
	// CertFile and KeyFile are the TLS certificate and key (both or
	// neither). Neither: pintud makes a self-signed certificate in the
	// state directory on first start and keeps it.
	CertFile, KeyFile string
	// PlainHTTP serves plain HTTP, for a reverse proxy on the same machine
	// that terminates TLS. Never for a console reached directly.
	PlainHTTP bool
	// IdleTimeout and AbsoluteTimeout end a session after that long
	// without a request, or after sign-in.
	IdleTimeout, AbsoluteTimeout time.Duration
}

// Defaults of the console section.
const (
	DefaultConsoleIdle     = 15 * time.Minute
	DefaultConsoleAbsolute = 8 * time.Hour
)

// console reads the optional console section; nil when it is absent, which
// leaves the console off.
func (d *decoder) console(f field) *Console {
	if f.n == nil && !f.null {
		return nil
	}
	o := d.object(f)
	c := &Console{}
	lf := o.get("listen")
	c.Listen = d.str(lf, "", true)
	if c.Listen != "" {
		host, port, err := net.SplitHostPort(c.Listen)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 1 || n > 65535:
			d.addf(lf.line, lf.path, "%s is not an address to listen on (want host:port, such as 0.0.0.0:8443)", quote(c.Listen))
		case host != "" && net.ParseIP(host) == nil && host != "localhost":
			d.addf(lf.line, lf.path, "%s: give an IP address (0.0.0.0 for every interface), not a host name", quote(c.Listen))
		}
	}
	certF, keyF := o.get("cert_file"), o.get("key_file")
	c.CertFile = d.str(certF, "", false)
	c.KeyFile = d.str(keyF, "", false)
	if (c.CertFile == "") != (c.KeyFile == "") {
		if c.CertFile == "" {
			d.addf(keyF.line, keyF.path, "needs cert_file too")
		} else {
			d.addf(certF.line, certF.path, "needs key_file too")
		}
	}
	pf := o.get("plain_http")
	c.PlainHTTP = d.boolean(pf, false)
	if c.PlainHTTP && c.CertFile != "" {
		d.addf(pf.line, pf.path, "is true, but cert_file is set: a console serves TLS or plain HTTP, not both")
	}
	c.IdleTimeout = d.duration(o.get("idle_timeout"), DefaultConsoleIdle)
	c.AbsoluteTimeout = d.duration(o.get("absolute_timeout"), DefaultConsoleAbsolute)
	if c.IdleTimeout > c.AbsoluteTimeout {
		it := o.get("idle_timeout")
		d.addf(it.line, it.path, "(%s) is longer than absolute_timeout (%s)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	o.allow("listen", "cert_file", "key_file", "plain_http", "idle_timeout", "absolute_timeout")
	return c
}
