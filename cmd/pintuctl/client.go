package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// client speaks pintud's local API over its unix socket.
type client struct {
	socket string
	hc     *http.Client
	zone   *time.Location // the site's, from the last response; nil until then
}

func newClient(socket string) *client {
	return &client{
		socket: socket,
		hc: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		}},
	}
}

// apiError is an error response from pintud.
type apiError struct {
	Status int
	Code   string // pintud's code for the error, if it sent one
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// do sends a request and returns the response if its status is 2xx. The
// caller closes the body.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := url.URL{Scheme: "http", Host: "pintud", Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.dialError(err)
	}
	c.noteZone(resp.Header.Get("Pintu-Time-Zone"))
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		return nil, &apiError{Status: resp.StatusCode, Code: eb.Code, Msg: eb.Error}
	}
	return nil, &apiError{Status: resp.StatusCode, Msg: fmt.Sprintf("pintud answered %s: %s", resp.Status, strings.TrimSpace(string(b)))}
}

// call sends a request and returns the JSON body of a 2xx response.
func (c *client) call(ctx context.Context, method, path string, query url.Values, in any) (json.RawMessage, error) {
	resp, err := c.do(ctx, method, path, query, in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response from pintud: %w", err)
	}
	return b, nil
}

// trailerError reports an error pintud sent after a streamed body.
func trailerError(resp *http.Response) error {
	if msg := resp.Trailer.Get("Pintu-Error"); msg != "" {
		return fmt.Errorf("pintud: output cut short: %s", msg)
	}
	return nil
}

func (c *client) dialError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &unreachableError{c.reachError(err)}
}

func (c *client) reachError(err error) error {
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		err = oe // "dial unix PATH: connect: ...", without the URL
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot reach pintud at %s: is it running? (%w)", c.socket, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot reach pintud at %s: permission denied: the socket is open to its owner and group only (%w)", c.socket, err)
	}
	return fmt.Errorf("pintud at %s: %w", c.socket, err)
}

// noteZone remembers the site's time zone, falling back to the local one.
func (c *client) noteZone(name string) {
	if c.zone != nil {
		return
	}
	c.zone = time.Local
	if name == "" {
		return
	}
	if loc, err := time.LoadLocation(name); err == nil {
		c.zone = loc
	}
}

// location is the zone to show times in.
func (c *client) location() *time.Location {
	if c.zone == nil {
		return time.Local
	}
	return c.zone
}
