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
	case errors.Is(err, controller.ErrWrongRole), errors.Is(err, controller.ErrUnauthenticated):
		return http.StatusForbidden
	case errors.Is(err, controller.ErrStorage),
		errors.Is(err, controller.ErrStopped),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every error response: the message for people
// and a code for programs.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// codeFor names an error for programs: the kind of the domain's sentinel
// errors, or what the API itself found.
func codeFor(err error, status int) string {
	for _, k := range []struct {
		err  error
		code string
	}{
		{controller.ErrInvalid, "invalid"},
		{controller.ErrNotFound, "not_found"},
		{controller.ErrExists, "exists"},
		{controller.ErrWrongState, "wrong_state"},
		{controller.ErrSeparation, "separation_of_duties"},
		{controller.ErrAlready, "already_done"},
		{controller.ErrWrongRole, "wrong_role"},
		{controller.ErrUnauthenticated, "unauthenticated"},
		{controller.ErrStorage, "storage_failure"},
		{controller.ErrStopped, "stopped"},
	} {
		if errors.Is(err, k.err) {
			return k.code
		}
	}
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return "invalid"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusRequestTimeout:
		return "timeout"
	}
	if status < 500 {
		return "refused"
	}
	return "internal"
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFor(err)
	level := s.log.Debug
	if status >= 500 {
		level = s.log.Error
	}
	level("api: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, errorBody{Error: err.Error(), Code: codeFor(err, status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data is sent; a failure here is a bug.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: fmt.Sprintf("api: encode response: %v", err), Code: "internal"})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
