package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/password"
)

// The mapping from a socket peer's uid to who acts, with a fake user
// database.
func TestIdentify(t *testing.T) {
	users := map[uint32]string{1000: "sari", 1001: "bayu"}
	lookup := func(uid uint32) (string, error) {
		if uid == 9999 {
			return "", errors.New("passwd unreadable")
		}
		if n, ok := users[uid]; ok {
			return n, nil
		}
		return "", user.UnknownUserIdError(int(uid))
	}
	linked := func(name string) (string, bool, error) {
		if name == "sari" {
			return "adm", true, nil
		}
		return "", false, nil
	}
	tests := []struct {
		uid     uint32
		want    controller.Actor
		wantErr bool
	}{
		{0, controller.Actor{Root: true, Via: controller.ViaSocket, Account: "root"}, false},
		{1000, controller.Actor{Person: "adm", Via: controller.ViaSocket, Account: "sari"}, false},
		{1001, controller.Actor{Via: controller.ViaSocket, Account: "bayu"}, false},
		{4242, controller.Actor{Via: controller.ViaSocket, Account: "uid 4242"}, false},
		{9999, controller.Actor{}, true},
	}
	for _, tt := range tests {
		got, err := api.Identify(tt.uid, lookup, linked)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Identify(%d) = %+v, %v; want %+v (error %v)", tt.uid, got, err, tt.want, tt.wantErr)
		}
	}
}

// realEnv is an env whose socket decides who acts: no -sim identity.
func realEnv(t *testing.T, lookup func(uint32) (string, error)) *env {
	return newEnv(t, func(_ *env, o *api.Options) {
		o.SimIdentity = false
		o.LookupUser = lookup
		o.Hasher = password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	})
}

// Over the real socket, the kernel names the caller: this test process.
// As root (CI), it may manage people and set passwords, recorded as root,
// and is refused every SOP step, with and without --by.
func TestPeerCredentialsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs as root (CI does): the peer is this process")
	}
	e := realEnv(t, api.LookupUser).seed()
	r := e.do("GET", "/v1/whoami", "")
	var who api.Whoami
	if err := json.Unmarshal(r.body, &who); err != nil || !who.Root || who.Actor != "root" {
		t.Fatalf("whoami = %s, want root", r.body)
	}
	r = e.do("POST", "/v1/people", `{"id":"ani","name":"Ani","roles":["visitor"]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("add person as root = %d %s", r.status, r.body)
	}
	if ev := lastEvent(t, e); ev.Actor != "root" || ev.Via != controller.ViaSocket {
		t.Errorf("person_added recorded actor %q via %q, want root via socket", ev.Actor, ev.Via)
	}
	r = e.do("POST", "/v1/people/kabid/password", `{"password":"kopi tubruk 2026"}`)
	if r.status != http.StatusOK {
		t.Fatalf("set password as root = %d %s", r.status, r.body)
	}
	if ev := lastEvent(t, e); ev.Type != controller.EventPasswordSet || !strings.HasPrefix(ev.Detail, "credential sha256:") {
		t.Errorf("last event = %+v, want password_set with the credential's digest", ev)
	}
	for _, body := range []string{`{"visitor":"budi","purpose":"disk"}`, `{"visitor":"budi","purpose":"disk","by":"adm"}`} {
		r = e.do("POST", "/v1/visits", body)
		if r.status != http.StatusForbidden || !strings.Contains(errorOf(t, r), "root") {
			t.Errorf("submit as root with %s = %d %s, want 403 naming root", body, r.status, r.body)
		}
	}
	if ev := lastEvent(t, e); ev.Type != controller.EventRefused || ev.Actor != "root" {
		t.Errorf("last event = %+v, want the refusal recorded", ev)
	}
	r = e.do("POST", "/v1/people/kabid/password", `{"password":"short"}`)
	if r.status != http.StatusBadRequest || !strings.Contains(errorOf(t, r), "at least 10") {
		t.Errorf("short password = %d %s, want 400", r.status, r.body)
	}
}

// A request that did not come over a unix socket (the handler called
// directly) has no peer: it may read, and every change is refused.
func TestNoPeerActsAsNobody(t *testing.T) {
	e := realEnv(t, api.LookupUser).seed()
	srv := api.New(e.ctrl, api.Options{})
	rec := &recorder{header: http.Header{}}
	req, _ := http.NewRequest("POST", "http://pintud/v1/visits", strings.NewReader(`{"visitor":"budi","purpose":"disk","by":"adm"}`))
	srv.Handler().ServeHTTP(rec, req)
	if rec.status != http.StatusForbidden {
		t.Errorf("submit without a peer = %d %s, want 403", rec.status, rec.body.String())
	}
}

// A non-root Unix account, for real: the test binary runs again as nobody
// and talks to the socket. Linked to the admin, it submits as the admin;
// with --by naming someone else it is refused; unlinked, it is refused.
func TestPeerCredentialsLinkedAccount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	e := realEnv(t, api.LookupUser).seed()
	dir := filepath.Dir(e.sock)
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(e.sock, 0o666); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "client")
	copyFile(t, os.Args[0], bin)
	os.Chmod(filepath.Dir(bin), 0o755)

	as := func(body string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestPeerClientHelper$")
		cmd.Env = append(os.Environ(), "PINTU_TEST_SOCKET="+e.sock, "PINTU_TEST_BODY="+body)
		var uid, gid int
		fmt.Sscan(nobody.Uid, &uid)
		fmt.Sscan(nobody.Gid, &gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as nobody: %v\n%s", err, out)
		}
		var status int
		var rest string
		for _, line := range strings.Split(string(out), "\n") {
			if s, ok := strings.CutPrefix(line, "STATUS "); ok {
				fmt.Sscan(s, &status)
			}
			if s, ok := strings.CutPrefix(line, "BODY "); ok {
				rest = s
			}
		}
		return status, rest
	}

	status, body := as(`{"visitor":"budi","purpose":"disk"}`)
	if status != http.StatusForbidden || !strings.Contains(body, `Unix user \"nobody\" is linked to no person`) {
		t.Errorf("unlinked submit = %d %s, want 403 naming the account", status, body)
	}
	if r := e.do("POST", "/v1/people/adm/link", `{"unix_user":"nobody"}`); r.status != http.StatusOK {
		t.Fatalf("link = %d %s", r.status, r.body)
	}
	status, body = as(`{"visitor":"budi","purpose":"disk"}`)
	if status != http.StatusCreated {
		t.Fatalf("linked submit = %d %s, want 201", status, body)
	}
	if ev := lastEvent(t, e); ev.Actor != "adm" || ev.Via != controller.ViaSocket {
		t.Errorf("submit recorded actor %q via %q, want adm via socket", ev.Actor, ev.Via)
	}
	status, body = as(`{"visitor":"budi","purpose":"disk","by":"kabid"}`)
	if status != http.StatusForbidden || !strings.Contains(body, "--by kabid does not match") {
		t.Errorf("submit with another's --by = %d %s, want 403", status, body)
	}
	if ev := lastEvent(t, e); ev.Type != controller.EventRefused || ev.Actor != "adm" {
		t.Errorf("last event = %+v, want the mismatch recorded as refused by adm", ev)
	}
}

// TestPeerClientHelper is the client TestPeerCredentialsLinkedAccount runs
// as another user; it does nothing in a normal run.
func TestPeerClientHelper(t *testing.T) {
	sock := os.Getenv("PINTU_TEST_SOCKET")
	if sock == "" {
		t.Skip("helper process only")
	}
	hc := newEnvClient(sock)
	resp, err := hc.Post("http://pintud/v1/visits", "application/json", strings.NewReader(os.Getenv("PINTU_TEST_BODY")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("STATUS %d\nBODY %s\n", resp.StatusCode, strings.TrimSpace(string(b)))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func lastEvent(t *testing.T, e *env) controller.Event {
	t.Helper()
	var last controller.Event
	err := e.ctrl.Log().Events(controller.EventQuery{}, func(ev controller.Event) error { last = ev; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// recorder is a minimal ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
