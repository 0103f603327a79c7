package api_test

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
)

func TestListen(t *testing.T) {
	srv := api.New(newEnv(t).ctrl, api.Options{})
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // leaves something at path
		wantErr string
	}{
		{name: "fresh", prepare: func(*testing.T, string) {}},
		{name: "stale socket", prepare: func(t *testing.T, path string) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			ln.Close() // as a pintud that was killed leaves it
		}},
		{name: "live socket", prepare: func(t *testing.T, path string) {
			ln, err := srv.Listen(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}, wantErr: "another pintud is answering on this socket"},
		{name: "not a socket", prepare: func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "file exists and is not a socket"},
		{name: "no directory", prepare: func(t *testing.T, path string) {
			if err := os.Remove(filepath.Dir(path)); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pintud.sock")
			tt.prepare(t, path)
			before, _ := os.Lstat(path)
			ln, err := srv.Listen(path)
			if tt.wantErr != "" {
				if err == nil {
					ln.Close()
					t.Fatalf("Listen = nil error, want one containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "api: listen "+path+": ") {
					t.Errorf("Listen = %q, want \"api: listen %s: ...%s...\"", err, path, tt.wantErr)
				}
				if after, _ := os.Lstat(path); before != nil && (after == nil || !os.SameFile(before, after)) {
					t.Errorf("Listen replaced what was at %s", path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Listen = %v", err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
				t.Errorf("socket mode = %v, want a socket with 0660", fi.Mode())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the socket", len(entries))
			}
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.Close()
			ln.Close()
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("after Close, Lstat(socket) = %v, want not exist", err)
			}
		})
	}
}

// TestListenCloseLeavesSuccessor checks Close does not remove a socket file
// that another process put in its place.
func TestListenCloseLeavesSuccessor(t *testing.T) {
	srv := api.New(newEnv(t).ctrl, api.Options{})
	path := filepath.Join(t.TempDir(), "pintud.sock")
	ln, err := srv.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed a file it did not create: %v", err)
	}
}

// blockingSim holds every tap until released, or until its context ends.
type blockingSim struct {
	entered chan struct{}
	release chan struct{}
	ctxErr  chan error
}

func newBlockingSim() *blockingSim {
	return &blockingSim{entered: make(chan struct{}), release: make(chan struct{}), ctxErr: make(chan error, 1)}
}

func (s *blockingSim) Tap(ctx context.Context, _, _, _ string) (controller.Result, error) {
	close(s.entered)
	select {
	case <-s.release:
		return controller.Result{Decision: controller.Granted}, nil
	case <-ctx.Done():
		s.ctxErr <- ctx.Err()
		return controller.Result{}, ctx.Err()
	}
}
func (s *blockingSim) Door(context.Context, string, bool) error   { return nil }
func (s *blockingSim) REX(context.Context, string) error          { return nil }
func (s *blockingSim) Tamper(context.Context, string, bool) error { return nil }

// serveOn starts srv on a fresh socket and returns an env-like client for
// it, the cancel of Serve's context and the channel Serve's result arrives
// on.
func serveOn(t *testing.T, base *env, srv *api.Server) (*env, context.CancelFunc, chan error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.sock")
	ln, err := srv.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel() })
	c := *base
	c.sock = path
	c.hc = newEnvClient(path)
	return &c, cancel, done
}

func TestServeWaitsForRequests(t *testing.T) {
	base := newEnv(t)
	sim := newBlockingSim()
	e, cancel, done := serveOn(t, base, api.New(base.ctrl, api.Options{Sim: sim}))

	got := make(chan response, 1)
	go func() { got <- e.do("POST", "/v1/sim/tap", `{"door":"server-room","reader":"entry","card":"C-1"}`) }()
	<-sim.entered
	cancel()
	// Release the handler only once shutdown has begun: the listener's
	// Close removes the socket file.
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		if _, err := os.Lstat(e.sock); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Serve did not close its listener after cancellation")
		}
	}
	close(sim.release)
	if r := <-got; r.status != 200 {
		t.Errorf("request in flight at shutdown = %d %s, want 200", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if _, err := os.Lstat(e.sock); !os.IsNotExist(err) {
		t.Errorf("after Serve, Lstat(socket) = %v, want not exist", err)
	}
}

func TestServeCancelsRequestsAfterTimeout(t *testing.T) {
	base := newEnv(t)
	sim := newBlockingSim()
	e, cancel, done := serveOn(t, base, api.New(base.ctrl, api.Options{Sim: sim, ShutdownTimeout: time.Millisecond}))

	go func() {
		resp, err := e.hc.Post("http://pintud/v1/sim/tap", "application/json",
			strings.NewReader(`{"door":"server-room","reader":"entry","card":"C-1"}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-sim.entered
	cancel()
	if err := <-sim.ctxErr; err != context.Canceled {
		t.Errorf("handler context error = %v, want context.Canceled", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

func TestServeListenerError(t *testing.T) {
	base := newEnv(t)
	srv := api.New(base.ctrl, api.Options{})
	ln, err := srv.Listen(filepath.Join(t.TempDir(), "x.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := srv.Serve(context.Background(), ln); err == nil || !strings.HasPrefix(err.Error(), "api: serve: ") {
		t.Errorf("Serve on a closed listener = %v, want an error starting \"api: serve: \"", err)
	}
}
