package controller

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/pintu/pintu/controller/remote"
)

// FuzzRemote feeds payloads through the controller's whole command path:
// parse, verify, preconditions, audit. Whatever the payload, exactly one
// remote_command event is recorded (the rig checks), the log stays a valid
// chain, and nothing but a command citra signed ever moves the strike.
func FuzzRemote(f *testing.F) {
	seedRig := remoteRig(&testing.T{})
	for _, p := range [][]byte{
		seedRig.sign(remote.Command{ID: "fuzzseedunlock000001"}, "citra"),
		seedRig.sign(remote.Command{ID: "fuzzseedlockdown0001", Action: remote.ActionLockdown}, "citra"),
		seedRig.sign(remote.Command{ID: "fuzzseedvisit0000001", Visit: "V0001"}, "citra"),
		seedRig.sign(remote.Command{ID: "fuzzseedofficer00001"}, "oki"),
		seedRig.sign(remote.Command{ID: "fuzzseedexpired00001", IssuedAt: t0.Add(-time.Minute)}, "citra"),
		[]byte(`{"cmd":{},"sig":""}`),
		[]byte(`not json`),
		{},
	} {
		f.Add(p, false, "")
		f.Add(p, true, "server-room")
	}
	f.Fuzz(func(t *testing.T, payload []byte, retained bool, door string) {
		r := remoteRig(t)
		r.approvedVisit("")
		res := r.remote(RemoteInput{Payload: payload, Retained: retained, Door: door})
		if res.Accepted {
			c, sig, err := remote.Parse(payload)
			if err != nil {
				t.Fatalf("accepted a payload that does not parse: %v", err)
			}
			if !ed25519.Verify(pubOf(testKey("citra")), c.Canonical(), sig) {
				t.Fatal("accepted a command citra did not sign")
			}
			if retained || (door != "" && door != c.Door) {
				t.Fatalf("accepted a retained or misrouted command: %+v", res)
			}
		} else if r.strike() {
			t.Fatalf("strike released by a refused command: %+v", res)
		}
		r.verify()
	})
}
