package controller_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDomainStaysPure fails if the domain reaches for I/O or pulls in an
// adapter's library: adapters depend on the domain, never the reverse.
func TestDomainStaysPure(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkg struct{ Imports, Deps []string }
	if err := json.Unmarshal(out, &pkg); err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"os", "net", "log", "syscall", "os/exec", "net/http"} {
		if slices.Contains(pkg.Imports, banned) {
			t.Errorf("controller imports %q", banned)
		}
	}
	for _, d := range pkg.Deps {
		for _, banned := range []string{"go.etcd.io/bbolt", "periph.io/", "github.com/eclipse/paho", "github.com/pintu/pintu/"} {
			// The signed command format is pure too, and the domain verifies
			// commands with it.
			if d == "github.com/pintu/pintu/controller/remote" {
				continue
			}
			if strings.HasPrefix(d, banned) {
				t.Errorf("controller depends on %s", d)
			}
		}
	}
}
