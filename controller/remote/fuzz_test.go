package remote

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseVerify feeds arbitrary payloads to Parse and the Verifier. It
// must never panic, and never accept a payload whose signature does not
// verify, by the test's own reading of the documentation, over the canonical
// bytes with the key the command names. A payload that parses must survive a
// round trip through the wire form unchanged.
func FuzzParseVerify(f *testing.F) {
	for _, c := range goldenCommands() {
		f.Add(mustSign(f, c, testKey()))
		f.Add(mustSign(f, c, otherKey("officer")))
	}
	for _, tc := range parseCases() {
		if tc.field != "" {
			f.Add(tc.payload(f))
		}
	}
	for name := range goldenCommands() {
		if p, err := os.ReadFile(filepath.Join("testdata", name+".json")); err == nil {
			f.Add(p)
		}
	}
	keys := testKeys()
	now := t0().Add(time.Second)
	f.Fuzz(func(t *testing.T, payload []byte) {
		v := newVerifier(t, VerifierOptions{Keys: keys.lookup})
		c, verdict := v.CheckPayload(now, payload)
		pc, sig, err := Parse(payload)
		if (err != nil) != (verdict.Reason == ReasonMalformed || verdict.Reason == ReasonTooLarge) {
			t.Fatalf("Parse error %v but verdict %+v", err, verdict)
		}
		if verdict.Accepted() {
			k, ok := keys[pc.KeyID]
			if !ok || !k.coordinator {
				t.Fatalf("accepted a command with key %q that is not a coordinator's", pc.KeyID)
			}
			if !ed25519.Verify(k.pub, specCanonical(pc), sig) {
				t.Fatalf("accepted a payload whose signature does not verify:\n%s", payload)
			}
			if !cmp.Equal(c, pc) {
				t.Fatalf("CheckPayload returned %+v, Parse %+v", c, pc)
			}
		}
		if err != nil {
			return
		}
		if !bytes.Equal(pc.Canonical(), specCanonical(pc)) {
			t.Fatalf("Canonical() differs from the documentation for %+v", pc)
		}
		again, err := marshal(pc, sig)
		if err != nil {
			t.Fatalf("marshal(%+v) = %v", pc, err)
		}
		rc, rsig, err := Parse(again)
		if err != nil {
			t.Fatalf("Parse(marshal(Parse(%q))) = %v", payload, err)
		}
		if !cmp.Equal(pc, rc) || !bytes.Equal(sig, rsig) {
			t.Fatalf("round trip changed the command: %+v -> %+v", pc, rc)
		}
	})
}
