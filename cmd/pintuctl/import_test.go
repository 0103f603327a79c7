package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPersonImport: a file with a bad line is refused whole, each bad line
// named as FILE:LINE; a good file is imported and says how many.
func TestPersonImport(t *testing.T) {
	d := startDaemon(t).seed()
	dir := t.TempDir()
	bad := filepath.Join(dir, "staf.csv")
	if err := os.WriteFile(bad, []byte("id;name;roles;organisation;card\nrina;Rina Wulandari;officer;Diskominfo;C-1002\ndewi;Dewi;janitor;;C-1003\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := d.run(nil, "person", "import", bad)
	if r.code != exitFailure || !strings.Contains(r.stdout, bad+":3, column roles: person \"dewi\": unknown role \"janitor\"") ||
		r.err == nil || !strings.HasSuffix(r.err.Error(), bad+": 1 bad line; nothing imported") {
		t.Errorf("import of a bad file = exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
	if list := d.must(nil, "person", "list"); strings.Contains(list, "rina") {
		t.Errorf("a refused file registered rina:\n%s", list)
	}

	good := filepath.Join(dir, "staf-ok.csv")
	if err := os.WriteFile(good, []byte("\ufeffid,name,roles,organisation,card\nrina,Rina Wulandari,officer,Diskominfo,C-1002\nwulan,Wulan,visitor,PT A,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := d.must(nil, "person", "import", good); out != "2 people imported, 0 already registered, of 2 lines\n" {
		t.Errorf("import of a good file printed %q", out)
	}
	if out := d.must(nil, "--lang", "id", "person", "import", good); out != "0 orang diimpor, 2 sudah terdaftar, dari 2 baris\n" {
		t.Errorf("the same file again printed %q", out)
	}
	if list := d.must(nil, "person", "list"); !strings.Contains(list, "rina") || !strings.Contains(list, "wulan") {
		t.Errorf("person list after the import:\n%s", list)
	}
	if r := d.run(nil, "person", "import", filepath.Join(dir, "missing.csv")); r.code != exitFailure || r.err == nil {
		t.Errorf("import of a missing file = exit %d, %v", r.code, r.err)
	}
}
