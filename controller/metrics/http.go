package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Handler serves /metrics, /livez and /readyz.
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		c.set.WritePrometheus(w)
		vm.WriteProcessMetrics(w)
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", c.readyz)
	return mux
}

// Readiness is the body of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Store is "ok" or why the store is not ready.
	Store string `json:"store"`
	// Controller is "ok" or why the controller did not answer.
	Controller string `json:"controller"`
	// MQTT is "connected", "disconnected" or "off"; it does not decide
	// readiness: the door works without a broker.
	MQTT string `json:"mqtt"`
}

// Ready checks the store and asks the controller for its status.
func (c *Collector) Ready(ctx context.Context) Readiness {
	r := Readiness{Store: "ok", Controller: "ok", MQTT: "off"}
	if c.opts.StoreCheck != nil {
		if err := c.opts.StoreCheck(); err != nil {
			r.Store = err.Error()
		}
	}
	if _, err := c.status(ctx); err != nil {
		r.Controller = fmt.Sprintf("no answer within %v: %v", c.opts.ProbeTimeout, err)
	}
	if c.opts.MQTT != nil {
		r.MQTT = "disconnected"
		if c.opts.MQTT.Connected() {
			r.MQTT = "connected"
		}
	}
	r.Ready = r.Store == "ok" && r.Controller == "ok"
	return r
}

func (c *Collector) readyz(w http.ResponseWriter, req *http.Request) {
	r := c.Ready(req.Context())
	b, _ := json.Marshal(r)
	w.Header().Set("Content-Type", "application/json")
	if !r.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(append(b, '\n'))
}

// Listen opens the metrics address, for Serve.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	return ln, nil
}

// Serve answers on ln until ctx is done, then closes it and returns nil.
func (c *Collector) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc // http.ErrServerClosed
	return nil
}
