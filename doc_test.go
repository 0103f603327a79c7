package pintu_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// TestEveryPackageHasDoc fails if a package lacks its doc comment: each one
// says what it owns.
func TestEveryPackageHasDoc(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	n := 0
	for dec.More() {
		var p struct {
			ImportPath, Doc, Name string
			GoFiles               []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		if len(p.GoFiles) > 0 && p.Doc == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
	if n < 2 {
		t.Fatalf("go list found %d packages", n)
	}
}
