package api

import (
	"io"
	"net/http"
	"time"
)

// Backuper writes a consistent copy of the whole state file while pintud
// runs; *boltstore.Store is one.
type Backuper interface {
	Backup(w io.Writer) (int64, error)
}

// backupStall is how long a backup download may make no progress before it
// is cut off. The copy holds one read transaction from start to end, and
// while it is open a commit that must grow the file waits: a stalled client
// must not hold up the door.
const backupStall = 10 * time.Second

// backup streams a copy of the state file (GET /v1/backup). The client
// verifies it; an error part way is in the Pintu-Error trailer.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backup == nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: "this pintud has no database to back up"}
	}
	rc := http.NewResponseController(w)
	st := &stream{w: w, contentType: "application/octet-stream"}
	w.Header().Set("Pintu-Site", s.ctrl.Config().Site)
	n, err := s.opts.Backup.Backup(writerFunc(func(b []byte) (int, error) {
		if len(b) == 0 {
			return 0, nil // keep the status open for an error before any byte
		}
		// Not every ResponseWriter supports deadlines (tests' recorders);
		// over the socket it does.
		_ = rc.SetWriteDeadline(time.Now().Add(backupStall))
		return st.Write(b)
	}))
	if err != nil {
		if !st.started {
			return err
		}
		s.log.Error("api: backup cut short", "sent", n, "err", err)
		w.Header().Set("Pintu-Error", err.Error())
		return nil
	}
	s.log.Info("api: backup sent", "bytes", n)
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
