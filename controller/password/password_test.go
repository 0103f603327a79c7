package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fast keeps the tests quick; the bench measures the real cost.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h := New(fast, 1)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "kopi tubruk 2026")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q, want a PHC argon2id string", phc)
	}
	again, _ := h.Hash(ctx, "kopi tubruk 2026")
	if again == phc {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"kopi tubruk 2026", true}, {"kopi tubruk 2027", false}, {"", false}} {
		if ok, err := h.Verify(ctx, tt.pw, phc); ok != tt.want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	// Verify reads the parameters from the hash, not the Hasher.
	if ok, _ := New(DefaultParams, 1).Verify(ctx, "kopi tubruk 2026", phc); !ok {
		t.Error("a Hasher with other parameters does not verify the hash")
	}
	// No credential never verifies.
	if ok, err := h.Verify(ctx, "not a password", ""); ok || err != nil {
		t.Errorf("Verify against no credential = %v, %v; want false", ok, err)
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	h := New(fast, 1)
	for _, phc := range []string{
		"plain",
		"$2a$10$bcrypt",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", // 4 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5",
	} {
		if _, err := h.Verify(context.Background(), "x", phc); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", phc, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		pw, want string
	}{
		{"correct horse", ""},
		{"short", "at least 10"},
		{"hasan12345", ""},
		{"HASAN.MAHDI", "may not be the person id"},
		{strings.Repeat("x", 129), "at most 128"},
		{"tab\tinside pw", "control character"},
	} {
		err := Check(tt.pw, "hasan.mahdi")
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Check(%q) = %v, want %q", tt.pw, err, tt.want)
		}
	}
}

// The Hasher runs at most its limit at once; a waiter gives up with its
// context.
func TestHasherBounds(t *testing.T) {
	h := New(fast, 1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "whatever pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash while full = %v, want the context's error", err)
	}
	h.release()
}

// BenchmarkVerify is one sign-in's cost with the default parameters.
func BenchmarkVerify(b *testing.B) {
	h := New(DefaultParams, 1)
	phc, err := h.Hash(context.Background(), "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := h.Verify(context.Background(), "correct horse battery", phc); !ok {
			b.Fatal("no match")
		}
	}
}
