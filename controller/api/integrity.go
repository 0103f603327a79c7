package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/pintu/pintu/controller"
)

func (s *Server) integrity(w http.ResponseWriter, r *http.Request) error {
	st, err := s.ctrl.Integrity(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// acceptBody is a head accepting the integrity breaks.
type acceptBody struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

func (b *acceptBody) check() error { return require("note", b.Note) }

// AcceptResult is the answer of the integrity accept route.
type AcceptResult struct {
	Accepted []controller.Break `json:"accepted"`
}

func (s *Server) acceptIntegrity(w http.ResponseWriter, r *http.Request) error {
	var b acceptBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	by, err := s.actor(r, b.By)
	if err != nil {
		return err
	}
	bs, err := s.ctrl.AcceptIntegrity(r.Context(), by, b.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AcceptResult{Accepted: bs})
	return nil
}

// MaxImport is the largest import file the import route reads (a million
// staff take some 80 MiB), and ImportBodyTimeout how long it waits for it.
const (
	MaxImport         = 128 << 20
	ImportBodyTimeout = 2 * time.Minute
	importPath        = "/v1/people/import"
)

// ImportLine is one line of the import route's answer: progress while it
// writes, then the result or the error that stopped it.
type ImportLine struct {
	Done   int                      `json:"done,omitempty"`
	Of     int                      `json:"of,omitempty"`
	Result *controller.ImportResult `json:"result,omitempty"`
	Error  string                   `json:"error,omitempty"`
}

// importError is the answer to an import refused for its bad lines.
type importError struct {
	Error string                 `json:"error"`
	Lines []controller.LineError `json:"lines"`
}

// importPeople registers the people of a CSV file (the request body) with
// their cards, all or nothing for the file (see controller.Import). Bad
// lines are a 400 listing each; otherwise the answer is JSON lines:
// progress after each chunk written, then the result.
func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) error {
	rows, bad, err := controller.ParseImport(http.MaxBytesReader(w, r.Body, MaxImport))
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return badRequest("import file larger than %d bytes", mbe.Limit)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	if len(bad) > 0 {
		ie := &controller.ImportError{Lines: bad}
		writeJSON(w, http.StatusBadRequest, importError{Error: ie.Error(), Lines: bad})
		return nil
	}
	started := false
	enc := json.NewEncoder(w)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	begin := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/jsonl")
			w.WriteHeader(http.StatusOK)
		}
	}
	by, err := s.actor(r, "")
	if err != nil {
		return err
	}
	res, err := s.ctrl.Import(r.Context(), rows, by, func(done, of int) {
		begin()
		enc.Encode(ImportLine{Done: done, Of: of})
		flush()
	})
	if ie, ok := errors.AsType[*controller.ImportError](err); ok && !started {
		writeJSON(w, http.StatusBadRequest, importError{Error: ie.Error(), Lines: ie.Lines})
		return nil
	}
	if err != nil && !started {
		return err
	}
	begin()
	line := ImportLine{Result: &res}
	if err != nil {
		line.Error = err.Error()
	}
	enc.Encode(line)
	return nil
}
