package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/pintu/pintu/controller"
)

// httpError is an error the API itself finds in a request, with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// statusFor maps an error to its HTTP status.
func statusFor(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.Is(err, controller.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, controller.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, controller.ErrExists),
		errors.Is(err, controller.ErrBusy),
		errors.Is(err, controller.ErrWrongState),
		errors.Is(err, controller.ErrSeparation),
		errors.Is(err, controller.ErrAlready):
		return http.StatusConflict
	case errors.Is(err, controller.ErrWrongRole):
		return http.StatusForbidden
	case errors.Is(err, controller.ErrStorage),
		errors.Is(err, controller.ErrStopped),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error string `json:"error"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFor(err)
	level := s.log.Debug
	if status >= 500 {
		level = s.log.Error
	}
	level("api: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data is sent; a failure here is a bug.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: fmt.Sprintf("api: encode response: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
