package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller/api"
)

// TestImportLargeFile sends a staff list far larger than the limit on
// other request bodies through the socket: every line is imported, none
// is cut off at that limit.
func TestImportLargeFile(t *testing.T) {
	e := newEnv(t)
	const n = 4000 // about 200 KiB: three times the 64 KiB of other bodies
	var b strings.Builder
	b.WriteString("id;name;roles;organisation;card\n")
	for i := range n {
		fmt.Fprintf(&b, "pegawai%05d;Pegawai Dinas Komunikasi dan Informatika %d;officer;Diskominfo Kabupaten;C-%06d\n", i, i, i)
	}
	if b.Len() <= 3*api.DefaultMaxBody {
		t.Fatalf("file of %d bytes is not larger than the body limit", b.Len())
	}
	r := e.do("POST", "/v1/people/import", b.String())
	if r.status != 200 {
		t.Fatalf("import = %d %s", r.status, r.body)
	}
	lines := bytes.Split(bytes.TrimSpace(r.body), []byte("\n"))
	var last api.ImportLine
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil || last.Result == nil {
		t.Fatalf("last line %s: %v", lines[len(lines)-1], err)
	}
	if last.Error != "" || last.Result.Imported != n || last.Result.Lines != n {
		t.Errorf("import result = %+v, %q; want %d imported of %d lines", *last.Result, last.Error, n, n)
	}
	if r := e.do("GET", "/v1/people?after=pegawai03998&limit=5", ""); !bytes.Contains(r.body, []byte(`"pegawai03999"`)) {
		t.Errorf("the file's last person is not registered: %s", r.body)
	}

	// One byte over the import limit is refused whole.
	big := strings.Repeat("x", api.MaxImport+1)
	if r := e.do("POST", "/v1/people/import", big); r.status != 400 || !bytes.Contains(r.body, []byte("larger than")) {
		t.Errorf("an import over the limit = %d %s, want 400 naming the limit", r.status, r.body)
	}
}
