package mqttlink

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pintu/pintu/controller/remote"
)

// TestDropsRecordedOncePerMinute: payloads dropped over three minutes on two
// topics are recorded as one report per topic and minute, with their
// counts; a report that fails is carried into the next one; what is left
// when the link stops is recorded then.
func TestDropsRecordedOncePerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, _ := capture(t)
		cond := &conditions{}
		d := newDrops(cond, log, time.Now())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { d.run(ctx); close(done) }()

		const a, b = "pintu/x/server-room/cmd", "pintu/x/+/cmd"
		// Minute 1: 3,000 on a, 10 on b.
		for i := range 3000 {
			d.add(a)
			if i%300 == 0 {
				d.add(b)
			}
			time.Sleep(10 * time.Millisecond) // 30s in all
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		// Minute 2: 5 on a, and the controller fails.
		cond.fail(errors.New("storage failure"))
		for range 5 {
			d.add(a)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		cond.fail(nil)
		// Minute 3: nothing, so the 5 are recorded again.
		time.Sleep(time.Minute)
		synctest.Wait()
		// Stopping: 7 more.
		for range 7 {
			d.add(b)
		}
		cancel()
		<-done

		_, got := cond.reports()
		want := []dropReport{
			{b, 10, time.Minute}, {a, 3000, time.Minute},
			{a, 5, time.Minute},     // failed
			{a, 5, 2 * time.Minute}, // carried over
			{b, 7, 0},               // at stop, in the same instant
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(dropReport{})); diff != "" {
			t.Errorf("reports mismatch (-want +got):\n%s", diff)
		}
		if d.total.Load() != 3022 {
			t.Errorf("total = %d, want 3022", d.total.Load())
		}
	})
}

func TestRetainedSeen(t *testing.T) {
	var r retainedSeen
	if !r.first("a") || r.first("a") {
		t.Fatal("first(a) twice = true, false not given")
	}
	for i := range maxRetained {
		if !r.first(fmt.Sprint(i)) {
			t.Fatalf("first(%d) = false on first sight", i)
		}
	}
	if len(r.seen) != maxRetained || len(r.order) != maxRetained {
		t.Errorf("remembers %d (%d in order), want at most %d", len(r.seen), len(r.order), maxRetained)
	}
	// "a" was the oldest and is forgotten; the newest is remembered.
	if !r.first("a") || r.first(fmt.Sprint(maxRetained-1)) {
		t.Error("not the oldest forgotten")
	}
}

func TestRetainedKey(t *testing.T) {
	p, id := sign(t, "citra", remote.Command{})
	if got, want := retainedKey("T", p), "T id:"+id; got != want {
		t.Errorf("retainedKey(command) = %q, want %q", got, want)
	}
	if retainedKey("T", []byte("x")) == retainedKey("T", []byte("y")) || retainedKey("T", []byte("x")) == retainedKey("U", []byte("x")) {
		t.Error("different payloads or topics share a key")
	}
}
