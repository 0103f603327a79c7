package controller

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pintu/pintu/controller/remote"
)

// testKey returns a deterministic key named by label.
func testKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pintu controller test " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// remoteRig is the usual cast with citra's key registered, and oki's (an
// officer) smuggled into the key table as a non-coordinator's.
func remoteRig(t *testing.T) *rig {
	r := newRig(t)
	r.staff()
	st, _, err := r.s.addKey(r.now, "citra", pubOf(testKey("citra")), root)
	r.must(st, err)
	k := Key{ID: remote.KeyID(pubOf(testKey("oki"))), PersonID: "oki", Public: pubOf(testKey("oki")), AddedAt: r.now}
	r.s.rec.(*storeRecords).keys[k.ID] = k
	return r
}

func (r *rig) sign(c remote.Command, key string) []byte {
	r.t.Helper()
	if c.Door == "" {
		c.Door = "server-room"
	}
	if c.Action == "" {
		c.Action = remote.ActionUnlock
	}
	if c.Reason == "" {
		c.Reason = "test"
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = r.now
	}
	p, err := remote.Sign(c, testKey(key))
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) remote(in RemoteInput) RemoteResult {
	r.t.Helper()
	before := len(r.log())
	res, st := r.s.remoteCommand(r.now, in)
	if err := r.commit(st); err != nil {
		r.t.Fatal(err)
	}
	res.Seq = st.resultSeq()
	n := 0
	for _, e := range r.log()[before:] {
		if e.Type == EventRemoteCommand {
			n++
			if string(e.Reason) != res.Reason || (e.Decision == Granted) != res.Accepted || e.Person != res.Person {
				r.t.Errorf("remote_command event %+v does not match result %+v", e, res)
			}
			if res.ID != "" && !strings.Contains(e.Detail, res.ID) {
				r.t.Errorf("remote_command event detail %q does not name command %s", e.Detail, res.ID)
			}
		}
	}
	if n != 1 {
		r.t.Errorf("remote command produced %d remote_command events, want 1", n)
	}
	return res
}

func TestRemoteRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		in    func(r *rig) RemoteInput
		want  string
	}{
		{name: "too large", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: []byte(strings.Repeat(" ", remote.MaxPayload+1))}
		}, want: "too_large"},
		{name: "malformed", in: func(r *rig) RemoteInput { return RemoteInput{Payload: []byte(`{"cmd":`)} }, want: "malformed"},
		{name: "unknown key", in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{}, "stranger")} }, want: "unknown_key"},
		{name: "forged signature", in: func(r *rig) RemoteInput {
			p := r.sign(remote.Command{KeyID: remote.KeyID(pubOf(testKey("citra")))}, "citra")
			c, _, _ := remote.Parse(p)
			c.Reason = "forged"
			// Re-sign the altered command with another key but keep citra's key id.
			forged, _ := remote.Sign(remote.Command{ID: c.ID, Door: c.Door, Action: c.Action, Duration: c.Duration, Reason: "forged", IssuedAt: c.IssuedAt}, testKey("mallory"))
			fc, sig, _ := remote.Parse(forged)
			fc.KeyID = c.KeyID
			return RemoteInput{Payload: wireOf(fc, sig)}
		}, want: "bad_signature"},
		{name: "not a coordinator", in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{}, "oki")} }, want: "not_coordinator"},
		{name: "expired", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{IssuedAt: r.now.Add(-10 * time.Second)}, "citra")}
		}, want: "expired"},
		{name: "future", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{IssuedAt: r.now.Add(time.Minute)}, "citra")}
		}, want: "not_yet_valid"},
		{name: "clock unsynced", setup: func(r *rig) { r.s.synced = false }, in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{}, "citra")}
		}, want: "clock_unsynced"},
		{name: "retained", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{}, "citra"), Retained: true}
		}, want: "retained"},
		{name: "wrong door", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{}, "citra"), Door: "other"}
		}, want: "wrong_door"},
		{name: "unknown door", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{Door: "basement"}, "citra")}
		}, want: "unknown_door"},
		{name: "unlock in lockdown", setup: func(r *rig) { r.lockdown(true, "citra") },
			in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{}, "citra")} }, want: "lockdown"},
		{name: "revoked key", setup: func(r *rig) {
			st, _, err := r.s.revokeKey(r.now, remote.KeyID(pubOf(testKey("citra"))), root)
			r.must(st, err)
		}, in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{}, "citra")} }, want: "unknown_key"},
		{name: "unknown visit", in: func(r *rig) RemoteInput {
			return RemoteInput{Payload: r.sign(remote.Command{Visit: "V9999"}, "citra")}
		}, want: "unknown_visit"},
		{name: "visit not approved", setup: func(r *rig) {
			if _, err := r.submit(VisitForm{VisitorID: "vina", Purpose: "x"}, "adi"); err != nil {
				r.t.Fatal(err)
			}
		}, in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{Visit: "V0001"}, "citra")} }, want: "not_approved"},
		{name: "visit outside window", setup: func(r *rig) {
			r.approvedVisit("")
			r.advance(3 * time.Hour)
		}, in: func(r *rig) RemoteInput { return RemoteInput{Payload: r.sign(remote.Command{Visit: "V0001"}, "citra")} }, want: "outside_window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := remoteRig(t)
			if tt.setup != nil {
				tt.setup(r)
			}
			res := r.remote(tt.in(r))
			if res.Accepted || res.Reason != tt.want {
				t.Errorf("Remote = %+v, want refused %s", res, tt.want)
			}
			if r.strike() {
				t.Error("strike released by a refused command")
			}
			r.verify()
		})
	}
}

func wireOf(c remote.Command, sig []byte) []byte {
	// Build the wire form by hand: Sign would refuse the mismatched key id.
	return []byte(`{"cmd":{"id":"` + c.ID + `","door":"` + c.Door + `","action":"` + string(c.Action) +
		`","duration":"` + c.Duration.String() + `","reason":"` + c.Reason + `","issued_at":"` +
		c.IssuedAt.UTC().Format(time.RFC3339Nano) + `","expiry":"` + c.Expiry.UTC().Format(time.RFC3339Nano) +
		`","key_id":"` + c.KeyID + `"},"sig":"` + b64(sig) + `"}`)
}

func TestRemoteActions(t *testing.T) {
	r := remoteRig(t)
	unlock := r.sign(remote.Command{Duration: 10 * time.Second}, "citra")
	res := r.remote(RemoteInput{Payload: unlock, Door: "server-room", Via: "mqtt"})
	if !res.Accepted || res.Person != "citra" || res.Seq == 0 {
		t.Fatalf("Remote(unlock) = %+v, want accepted by citra with a seq", res)
	}
	if !r.strike() {
		t.Fatal("strike not released by an accepted unlock")
	}
	// The remote_command event comes before the unlock it explains.
	l := r.log()
	n := len(l)
	if l[n-2].Type != EventRemoteCommand || l[n-1].Type != EventUnlock || l[n-1].Detail != "10s" {
		t.Errorf("last events = %s, %s (%s); want remote_command, unlock 10s", l[n-2].Type, l[n-1].Type, l[n-1].Detail)
	}
	if got := r.remote(RemoteInput{Payload: unlock}); got.Reason != "replayed" {
		t.Errorf("Remote(same unlock again) = %+v, want replayed", got)
	}
	r.advance(time.Second)
	if got := r.remote(RemoteInput{Payload: r.sign(remote.Command{Action: remote.ActionLock}, "citra")}); !got.Accepted || r.strike() {
		t.Errorf("Remote(lock) = %+v, strike %v; want accepted and locked", got, r.strike())
	}
	r.advance(time.Second)
	if got := r.remote(RemoteInput{Payload: r.sign(remote.Command{Action: remote.ActionLockdown}, "citra")}); !got.Accepted || !r.s.doors["server-room"].rt.lockdown {
		t.Errorf("Remote(lockdown) = %+v; want accepted and lockdown on", got)
	}
	if got := r.tap("entry", "oki"); got.Reason != ReasonLockdown {
		t.Errorf("staff tap in lockdown = %+v, want denied lockdown", got)
	}
	if got := r.tap("exit", "oki"); got.Decision != Granted {
		t.Errorf("exit in lockdown = %+v, want granted (egress always works)", got)
	}
	r.advance(10 * time.Second)
	if got := r.remote(RemoteInput{Payload: r.sign(remote.Command{Action: remote.ActionReleaseLockdown}, "citra")}); !got.Accepted || r.s.doors["server-room"].rt.lockdown {
		t.Errorf("Remote(release-lockdown) = %+v; want accepted and lockdown off", got)
	}
	if got := r.tap("entry", "oki"); got.Decision != Granted {
		t.Errorf("staff tap after release = %+v, want granted", got)
	}
	// The replay cache forgets once a command can no longer be valid.
	if _, ok := r.s.seen[res.ID]; ok {
		r.advance(remote.MaxLifetime)
		r.remote(RemoteInput{Payload: []byte("x")})
		if _, ok := r.s.seen[res.ID]; ok {
			t.Errorf("replay record %s kept after its time", res.ID)
		}
	}
	r.verify()
}

// TestRemoteRoleCheckedAtVerification: a key stays on file, but a person who
// is no longer a coordinator cannot use it.
func TestRemoteRoleCheckedAtVerification(t *testing.T) {
	r := remoteRig(t)
	st, _, err := r.s.updatePerson(r.now, "citra", PersonUpdate{Roles: []Role{RoleOfficer}}, root)
	r.must(st, err)
	if got := r.remote(RemoteInput{Payload: r.sign(remote.Command{}, "citra")}); got.Reason != "not_coordinator" || got.Person != "citra" {
		t.Errorf("Remote by a former coordinator = %+v, want not_coordinator naming citra", got)
	}
	if _, _, err := r.s.addKey(r.now, "oki", pubOf(testKey("oki2")), root); !isErr(err, ErrWrongRole) {
		t.Errorf("addKey(officer) = %v, want ErrWrongRole", err)
	}
}

func TestRemoteVisit(t *testing.T) {
	t.Run("escort within window", func(t *testing.T) {
		r := remoteRig(t)
		v := r.approvedVisit("")
		res := r.remote(RemoteInput{Payload: r.sign(remote.Command{Visit: v}, "citra")})
		if !res.Accepted || !r.strike() {
			t.Fatalf("Remote(unlock for visit) = %+v, want accepted and released", res)
		}
		if r.inside("vina") {
			t.Fatal("visitor inside before any escort badged")
		}
		r.advance(10 * time.Second)
		r.tap("entry", "oki")
		if !r.inside("vina") || r.visitState(v) != StateInside || r.visit(v).EscortedBy != "oki" {
			t.Errorf("after escort: inside %v, state %s, escort %q; want inside, inside, oki", r.inside("vina"), r.visitState(v), r.visit(v).EscortedBy)
		}
		r.verify()
	})
	t.Run("escort first", func(t *testing.T) {
		r := remoteRig(t)
		v := r.approvedVisit("")
		r.tap("entry", "oki")
		r.advance(5 * time.Second)
		r.remote(RemoteInput{Payload: r.sign(remote.Command{Visit: v}, "citra")})
		if !r.inside("vina") {
			t.Error("visitor not inside though the escort badged within the window")
		}
	})
	t.Run("no escort", func(t *testing.T) {
		r := remoteRig(t)
		v := r.approvedVisit("")
		r.remote(RemoteInput{Payload: r.sign(remote.Command{Visit: v}, "citra")})
		r.advance(31 * time.Second)
		if r.inside("vina") || r.visitState(v) != StateApproved {
			t.Errorf("visitor inside %v, visit %s; want not inside, approved", r.inside("vina"), r.visitState(v))
		}
		last := r.last()
		found := false
		for _, e := range r.log() {
			if e.Type == EventAccess && e.Person == "vina" && e.Reason == ReasonEscortRequired {
				found = true
			}
		}
		if !found {
			t.Errorf("no escort_required denial for the visitor; last event %+v", last)
		}
	})
}

func TestCodeCommand(t *testing.T) {
	r := remoteRig(t)
	for _, tt := range []struct {
		person string
		want   string
	}{{"", "bad_code"}, {"nobody", "bad_code"}, {"oki", "not_coordinator"}, {"citra", ""}} {
		res, st := r.s.codeCommand(r.now, CodeInput{Door: "server-room", Person: tt.person, Action: remote.ActionUnlock, Via: "home_assistant"})
		r.commit(st)
		if res.Reason != tt.want || res.Accepted != (tt.want == "") {
			t.Errorf("codeCommand(%q) = %+v, want reason %q", tt.person, res, tt.want)
		}
	}
	if !r.strike() {
		t.Error("strike not released by an accepted code unlock")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
