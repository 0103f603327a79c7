package console

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pintu/pintu/controller"
)

// The live "today" screen: one goroutine (the hub, owned by Server.Run)
// watches the controller's commits and reads the state once per change;
// each open screen is a request goroutine that the hub wakes and that
// renders the state in its person's language and roles. A screen slower
// than the changes misses the states in between, never the last one.

// heartbeat keeps proxies from closing an idle live screen, and is when
// the screen checks that its session still holds.
const heartbeat = 25 * time.Second

// snapshot is the state every live screen renders.
type snapshot struct {
	st    controller.Status
	names map[string]string // person id -> name, of those the status names
}

type hub struct {
	ctrl *controller.Controller
	max  int
	log  *slog.Logger

	mu      sync.Mutex
	clients map[chan *snapshot]struct{}
	last    *snapshot
	closed  bool
}

var errTooManyLive = errors.New("too many live screens open")

func newHub(ctrl *controller.Controller, max int, log *slog.Logger) *hub {
	return &hub{ctrl: ctrl, max: max, log: log, clients: map[chan *snapshot]struct{}{}}
}

// run feeds the clients until ctx is done, then closes their channels.
func (h *hub) run(ctx context.Context) {
	watch, stop := h.ctrl.Watch()
	defer stop()
	defer func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.closed = true
		for c := range h.clients {
			close(c)
			delete(h.clients, c)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-watch:
			snap, err := h.read(ctx)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("console: read state for live screens", "err", err)
				}
				continue
			}
			h.publish(snap)
		}
	}
}

// read takes one snapshot of the state.
func (h *hub) read(ctx context.Context) (*snapshot, error) {
	st, err := h.ctrl.Status(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	want := func(id string) {
		if id == "" {
			return
		}
		if _, ok := names[id]; ok {
			return
		}
		names[id] = id
		if p, err := h.ctrl.Person(ctx, id); err == nil {
			names[id] = p.Name
		}
	}
	for _, o := range st.Inside {
		want(o.Person)
		want(o.Escort)
	}
	for _, a := range append(st.Alarms, st.AwaitingAck...) {
		want(a.Person)
		want(a.AckedBy)
	}
	for _, d := range st.Doors {
		want(d.LockdownBy)
	}
	return &snapshot{st: st, names: names}, nil
}

// publish hands snap to every client, replacing one it has not taken yet.
func (h *hub) publish(snap *snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = snap
	for c := range h.clients {
		select {
		case <-c: // drop the state it has not rendered: this one is newer
		default:
		}
		c <- snap // room for one: never blocks
	}
}

// join adds a client; its channel is closed when the hub stops.
func (h *hub) join() (chan *snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, context.Canceled
	}
	if len(h.clients) >= h.max {
		return nil, errTooManyLive
	}
	c := make(chan *snapshot, 1)
	h.clients[c] = struct{}{}
	return c, nil
}

func (h *hub) leave(c chan *snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// live streams the today screen's changing part as Server-Sent Events
// until the browser leaves, the session ends or the console stops.
func (s *Server) live(q *rq) error {
	rc := http.NewResponseController(q.w)
	c, err := s.hub.join()
	if err != nil {
		return err
	}
	defer s.hub.leave(c)
	// A stream outlives the server's write timeout.
	rc.SetWriteDeadline(time.Time{})
	h := q.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	q.w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(q.w)
	send := func(snap *snapshot) error {
		var buf bytes.Buffer
		if err := liveFragment(q, snap).Render(q.r.Context(), &buf); err != nil {
			return err
		}
		writeEvent(bw, "today", buf.Bytes())
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	// The page was rendered from a state that may be older than this
	// connection: start with the current one.
	first, err := s.hub.read(q.r.Context())
	if err != nil {
		return nil
	}
	if err := send(first); err != nil {
		return nil
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-q.r.Context().Done():
			return nil
		case snap, ok := <-c:
			if !ok {
				return nil
			}
			if err := send(snap); err != nil {
				return nil
			}
		case <-beat.C:
			if _, _, err := s.sessionTouch(q.r, false); err != nil {
				var buf bytes.Buffer
				sessionOver(q).Render(q.r.Context(), &buf)
				writeEvent(bw, "today", buf.Bytes())
				bw.Flush()
				rc.Flush()
				return nil
			}
			bw.WriteString(": keep-alive\n\n")
			if bw.Flush() != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}

// writeEvent writes one event: each line of data on a data: line of its
// own, as EventSource joins them back with newlines.
func writeEvent(w *bufio.Writer, name string, data []byte) {
	w.WriteString("event: " + name + "\n")
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		w.WriteString("data: ")
		w.Write(line)
		w.WriteByte('\n')
	}
	w.WriteByte('\n')
}
