package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pintu/pintu/config"
)

// TestSocketAgrees: pintuctl looks for pintud's socket where pintud puts it:
// pintud -sim's in ./pintu-data, and the package's configuration's.
func TestSocketAgrees(t *testing.T) {
	if want := filepath.Join(config.DefaultStateDir, config.SocketName); filepath.Clean(defaultSocket) != filepath.Clean(want) {
		t.Errorf("defaultSocket = %q, want pintud -sim's %q", defaultSocket, want)
	}
	// The package's configuration fails until the site is named: name it.
	b, err := os.ReadFile("../../config/pintud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("\n  name:\n"), []byte("\n  name: Test\n"), 1)
	f, err := config.Parse("pintud.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.API.Socket != installedSocket {
		t.Errorf("installedSocket = %q, the package's configuration says %q", installedSocket, f.API.Socket)
	}
}
