package api_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/pintu/pintu/controller/api"
)

// fakeBackup writes data, then fails with err (if set).
type fakeBackup struct {
	data []byte
	err  error
}

func (f fakeBackup) Backup(w io.Writer) (int64, error) {
	n, err := w.Write(f.data)
	if err != nil {
		return int64(n), err
	}
	return int64(n), f.err
}

func TestBackupRoute(t *testing.T) {
	copyBytes := bytes.Repeat([]byte("bolt"), 50_000)
	tests := []struct {
		name        string
		backup      api.Backuper
		wantStatus  int
		wantBody    []byte
		wantError   string // the JSON error, for a failure before any byte
		wantTrailer string // Pintu-Error, for a failure part way
	}{
		{name: "copy", backup: fakeBackup{data: copyBytes}, wantStatus: 200, wantBody: copyBytes},
		{name: "no store", wantStatus: 503, wantError: "this pintud has no database to back up"},
		{name: "fails at once", backup: fakeBackup{err: errors.New("boltstore: backup: disk on fire")}, wantStatus: 500,
			wantError: "boltstore: backup: disk on fire"},
		{name: "fails part way", backup: fakeBackup{data: copyBytes[:1000], err: errors.New("boltstore: backup: read page 7: i/o error")},
			wantStatus: 200, wantBody: copyBytes[:1000], wantTrailer: "boltstore: backup: read page 7: i/o error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(_ *env, o *api.Options) { o.Backup = tt.backup })
			r := e.do(http.MethodGet, "/v1/backup", "")
			if r.status != tt.wantStatus {
				t.Fatalf("GET /v1/backup = %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorOf(t, r); got != tt.wantError {
					t.Errorf("GET /v1/backup error = %q, want %q", got, tt.wantError)
				}
				return
			}
			if !bytes.Equal(r.body, tt.wantBody) {
				t.Errorf("GET /v1/backup body = %d bytes, want %d", len(r.body), len(tt.wantBody))
			}
			if got := r.trailer.Get("Pintu-Error"); got != tt.wantTrailer {
				t.Errorf("GET /v1/backup Pintu-Error trailer = %q, want %q", got, tt.wantTrailer)
			}
			if got := r.header.Get("Pintu-Site"); got != "Pintu" {
				t.Errorf("GET /v1/backup Pintu-Site = %q, want the site's name", got)
			}
		})
	}
}
