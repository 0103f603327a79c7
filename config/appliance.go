package config

import (
	"net"
	"path/filepath"
	"strconv"
	"time"
)

// Metrics is the optional HTTP listener for Prometheus metrics and the
// health checks (/metrics, /livez, /readyz).
type Metrics struct {
	// Listen is host:port, such as 127.0.0.1:9464.
	Listen string
}

// Backup configures scheduled backups of the database.
type Backup struct {
	// Dir receives the copies; pintud must be able to write it.
	Dir string
	// Every is the time between two backups.
	Every time.Duration
	// Keep is how many of the newest copies stay; older ones are removed.
	Keep int
}

// Defaults of the backup section.
const (
	DefaultBackupEvery = 24 * time.Hour
	DefaultBackupKeep  = 7
	// MinBackupEvery keeps a mistyped unit ("24s") from copying the whole
	// database every few seconds.
	MinBackupEvery = 10 * time.Minute
)

// metrics reads the optional metrics section; nil when it is absent.
func (d *decoder) metrics(f field) *Metrics {
	if f.n == nil && !f.null {
		return nil
	}
	o := d.object(f)
	lf := o.get("listen")
	m := &Metrics{Listen: d.str(lf, "", true)}
	if m.Listen != "" {
		host, port, err := net.SplitHostPort(m.Listen)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 1 || n > 65535:
			d.addf(lf.line, lf.path, "%s is not an address (want host:port such as 127.0.0.1:9464)", quote(m.Listen))
		case host == "":
			// An empty host listens on every interface: say so explicitly.
			d.addf(lf.line, lf.path, "%s names no host; write 127.0.0.1:%s for this machine only, or 0.0.0.0:%s for every interface", quote(m.Listen), port, port)
		}
	}
	o.allow("listen")
	return m
}

// backup reads the optional backup section; nil when it is absent.
func (d *decoder) backup(f field) *Backup {
	if f.n == nil && !f.null {
		return nil
	}
	o := d.object(f)
	df := o.get("dir")
	b := &Backup{Dir: d.str(df, "", true)}
	if b.Dir != "" && !filepath.IsAbs(b.Dir) {
		d.addf(df.line, df.path, "%s is not an absolute path", quote(b.Dir))
	}
	ef := o.get("every")
	b.Every = d.duration(ef, DefaultBackupEvery)
	if b.Every < MinBackupEvery {
		d.addf(ef.line, ef.path, "%s is too often (want at least %v)", quote(b.Every.String()), MinBackupEvery)
	}
	kf := o.get("keep")
	b.Keep = d.integer(kf, DefaultBackupKeep)
	if b.Keep < 1 {
		d.addf(kf.line, kf.path, "%d keeps no backup (want 1 or more)", b.Keep)
	}
	o.allow("dir", "every", "keep")
	return b
}
