package console_test

import (
	"bufio"
	"net/http"

	"github.com/pintu/pintu/controller/console"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pintu/pintu/controller"
)

// The audit log pages newest first, by sequence number: following "older"
// shows every matching event once, in order, with nothing skipped.
func TestEventsPaging(t *testing.T) {
	s := newSite(t)
	for range 60 {
		s.tap("entry", "oki")
		s.tap("exit", "oki")
	}
	var want []uint64
	for _, e := range s.events() {
		if e.Type == controller.EventAccess && e.Person == "oki" {
			want = append(want, e.Seq)
		}
	}
	b := s.browser().login("citra")
	seqRe := regexp.MustCompile(`<td data-label="Seq">(\d+)</td>`)
	olderRe := regexp.MustCompile(`href="(/events\?[^"]+)"[^>]*>Peristiwa lebih lama`)
	var got []uint64
	path, pages := "/events?type=access&person=oki", 0
	for path != "" {
		p := b.get(path)
		pages++
		for _, m := range seqRe.FindAllStringSubmatch(p.body, -1) {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			got = append(got, n)
		}
		path = ""
		if m := olderRe.FindStringSubmatch(p.body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if pages > 5 {
			t.Fatal("more pages than matches")
		}
	}
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if len(got) != len(want) || pages != 2 {
		t.Fatalf("%d pages showed %d events, want 2 pages of the %d access events", pages, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d on the pages is seq %d, want %d", i, got[i], want[i])
		}
	}
	// A bad cursor is refused, not guessed at.
	if p := b.get("/events?before=x"); p.status != 400 || !strings.Contains(p.body, "Ada isian formulir yang tidak sesuai") {
		t.Errorf("a bad cursor = %d", p.status)
	}
}

// The live screens are bounded: one past the limit is refused, and a
// change reaches the open one.
func TestLiveBounded(t *testing.T) {
	s := newSite(t, func(o *console.Options) { o.MaxLive = 1 })
	b := s.browser().login("citra")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+"/today/live", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if p := b.get("/today/live"); p.status != http.StatusServiceUnavailable {
		t.Errorf("a second live screen with a limit of one = %d, want 503", p.status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	s.tap("entry", "oki")
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Oki Pratama") {
			return
		}
	}
	t.Fatalf("the live screen never showed oki inside: %v", sc.Err())
}
