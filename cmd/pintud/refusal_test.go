package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/pintu/pintu/controller/boltstore"
)

// TestRefusal: which errors make pintud refuse to start (exit status 3, no
// restart) and what it tells the person who must act.
func TestRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // "" when pintud does not refuse, and exits 1
	}{
		{"damaged state file", fmt.Errorf("boltstore: open /var/lib/pintu/pintu.db: %w: free list", boltstore.ErrCorrupt), "restore a backup of pintu.db"},
		{"newer state file", fmt.Errorf("boltstore: open /var/lib/pintu/pintu.db: %w", boltstore.ErrNewerSchema), "run the newer pintud"},
		{"ext4 checksum failure", fmt.Errorf("create state directory: %w", &os.PathError{Op: "mkdir", Path: "/var/lib/pintu", Err: syscall.EBADMSG}), "file system holding the state directory is damaged"},
		{"ext4 corruption", fmt.Errorf("boltstore: open /var/lib/pintu/pintu.db: %w", &os.PathError{Op: "open", Path: "/var/lib/pintu/pintu.db", Err: syscall.EUCLEAN}), "repair it (fsck)"},
		{"another pintud", fmt.Errorf("boltstore: open x: %w", boltstore.ErrLocked), ""},
		{"an I/O error, which may pass", fmt.Errorf("read: %w", syscall.EIO), ""},
		{"a config error", errors.New("config: doors: empty"), ""},
	}
	for _, tt := range tests {
		msg, ok := refusal(tt.err)
		if ok != (tt.want != "") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: refusal() = %q, %v; want a refusal: %v, one line saying %q", tt.name, msg, ok, tt.want != "", tt.want)
		}
		if ok && !strings.Contains(msg, tt.err.Error()) {
			t.Errorf("%s: refusal() = %q, want it to carry the error %q", tt.name, msg, tt.err)
		}
	}
}
