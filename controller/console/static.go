package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

// static holds the console's stylesheet and the vendored htmx (see
// static/VERSIONS): served by pintud itself, never from a CDN.
//
//go:embed static/*.js static/*.css
var static embed.FS

// assets serves the embedded files under a path that names their content,
// so a browser may keep them for a year and still never runs an old one.
type assets struct {
	files map[string][]byte
	ver   string // the first 12 hex digits of the SHA-256 of all of them
}

func newAssets() *assets {
	a := &assets{files: map[string][]byte{}}
	h := sha256.New()
	ents, _ := fs.ReadDir(static, "static")
	for _, e := range ents {
		b, _ := static.ReadFile("static/" + e.Name())
		a.files[e.Name()] = b
		h.Write([]byte(e.Name()))
		h.Write(b)
	}
	a.ver = hex.EncodeToString(h.Sum(nil))[:12]
	return a
}

// url is the path of the named file.
func (a *assets) url(name string) string { return "/static/" + a.ver + "/" + name }

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, ok := a.files[name]
	if !ok || r.PathValue("ver") != a.ver {
		http.NotFound(w, r)
		return
	}
	ctype := "text/javascript; charset=utf-8"
	if path.Ext(name) == ".css" {
		ctype = "text/css; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
