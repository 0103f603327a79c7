package mqttlink

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/boltstore"
	"github.com/pintu/pintu/controller/remote"
	"github.com/pintu/pintu/controller/storetest"
	"github.com/pintu/pintu/internal/mosquittotest"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRemoteUnlock: command published to result received over a
// loopback Mosquitto, and command received (out of paho) to relay write.
// Commands alternate unlock and lock, so each one writes the relay.
//
// The benchmark has limits of its own, so that it runs at any -benchtime
// under the real limiters: the link's per-topic limit is lifted, and the
// controller's clock moves one token's worth of the key's bucket
// (remote.DefaultPer/remote.DefaultBurst) per command, so one key never
// runs dry. Commands are signed on that clock.
//
// "fsync" is pintud as it runs; "nosync" skips the disk's sync, to show
// what the link, the broker and the controller cost without it.
func BenchmarkRemoteUnlock(b *testing.B) {
	for _, sync := range []bool{true, false} {
		name := "fsync"
		if !sync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) { benchRemoteUnlock(b, !sync) })
	}
}

func benchRemoteUnlock(b *testing.B, noSync bool) {
	br := startBroker(b)
	e := newEnv(b, br)
	e.noSync = noSync
	e.cfg.Logger = nil
	e.cfg.CommandBurst, e.cfg.CommandPer = 1<<30, time.Second
	e.startCtrl()
	// The relay notes the time of each write and nothing else: it runs in
	// the controller's goroutine, inside what is measured.
	e.act.mu.Lock()
	e.act.log = nil
	e.act.mu.Unlock()
	var recv atomic.Int64
	l, err := New(e.cfg, e.ctrl, e.store)
	if err != nil {
		b.Fatal(err)
	}
	l.received = func(t time.Time) { recv.Store(t.UnixNano()) }
	e.link = l
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	e.ready()

	results := make(chan controller.RemoteResult, 16)
	o := mqtt.NewClientOptions().AddBroker(br.URL()).SetClientID("bench-coord").
		SetUsername(mosquittotest.UserCoordinator).SetPassword(br.Users[mosquittotest.UserCoordinator])
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer cl.Disconnect(100)
	tok := cl.Subscribe(prefix+"/+/cmd/result", 1, func(_ mqtt.Client, m mqtt.Message) {
		var r controller.RemoteResult
		if json.Unmarshal(m.Payload(), &r) == nil {
			results <- r
		}
	})
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}

	var rtt, toRelay []time.Duration
	k := key("citra")
	i := 0
	for b.Loop() {
		e.offset.Add(int64(remote.DefaultPer / remote.DefaultBurst))
		a := remote.ActionUnlock
		if i%2 == 1 {
			a = remote.ActionLock
		}
		c := remote.Command{Door: door, Action: a, Reason: "bench", IssuedAt: time.Now().Add(time.Duration(e.offset.Load()))}.WithDefaults()
		p, err := remote.Sign(c, k)
		if err != nil {
			b.Fatal(err)
		}
		_, writes := e.act.state()
		start := time.Now()
		if tok := cl.Publish(prefix+"/"+door+"/cmd", 1, false, p); !tok.WaitTimeout(wait) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		select {
		case r := <-results:
			if !r.Accepted || r.ID != c.ID {
				b.Fatalf("result %+v, want %s accepted", r, c.ID)
			}
		case <-time.After(wait):
			b.Fatal("no result")
		}
		rtt = append(rtt, time.Since(start))
		e.act.mu.Lock()
		if len(e.act.at) > writes {
			toRelay = append(toRelay, e.act.at[writes].Sub(time.Unix(0, recv.Load())))
		}
		e.act.mu.Unlock()
		i++
	}
	b.ReportMetric(ms(percentile(rtt, 0.50)), "rtt-p50-ms")
	b.ReportMetric(ms(percentile(rtt, 0.99)), "rtt-p99-ms")
	b.ReportMetric(ms(percentile(toRelay, 0.50)), "recv-to-relay-p50-ms")
	b.ReportMetric(ms(percentile(toRelay, 0.99)), "recv-to-relay-p99-ms")
}

// BenchmarkOutbox: b.N events queued in the outbox (the broker was down)
// drain to the broker; a viewer counts them. Meanwhile a card is read every
// 5ms, and its read-to-relay time is compared with the same reads before the
// link starts.
func BenchmarkOutbox(b *testing.B) {
	br := startBroker(b)
	e := newEnv(b, br)
	e.cfg.Logger = nil
	s, err := boltstore.Open(e.path, &boltstore.Options{Outbox: true})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	var last controller.Event
	for n > 0 {
		k := min(n, 5000)
		evs := storetest.Chain(last, k)
		if err := s.Commit(controller.Change{Events: evs}); err != nil {
			b.Fatal(err)
		}
		last, n = evs[k-1], n-k
	}
	s.Close()
	e.startCtrl()
	e.act.mu.Lock()
	e.act.log = nil // as in BenchmarkRemoteUnlock: the taps measure pintud
	e.act.mu.Unlock()

	taps := func(stop <-chan struct{}) []time.Duration {
		var ds []time.Duration
		for i := 0; ; i++ {
			select {
			case <-stop:
				return ds
			case <-time.After(5 * time.Millisecond):
			}
			reader := []string{"entry", "exit"}[i%2]
			start := time.Now()
			if _, err := e.ctrl.Tap(context.Background(), door, reader, "card-citra"); err != nil {
				b.Error(err)
				return ds
			}
			ds = append(ds, time.Since(start))
		}
	}
	stop := make(chan struct{})
	time.AfterFunc(time.Second, func() { close(stop) })
	idle := taps(stop)

	var got atomic.Uint64
	all := make(chan struct{})
	var once sync.Once
	o := mqtt.NewClientOptions().AddBroker(br.URL()).SetClientID("bench-viewer").
		SetUsername(mosquittotest.UserViewer).SetPassword(br.Users[mosquittotest.UserViewer])
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer cl.Disconnect(100)
	cl.Subscribe(prefix+"/+/events", 1, func(_ mqtt.Client, m mqtt.Message) {
		var ev controller.Event
		if json.Unmarshal(m.Payload(), &ev) == nil && ev.Seq <= last.Seq && got.Add(1) >= last.Seq {
			once.Do(func() { close(all) })
		}
	}).WaitTimeout(wait)

	b.ResetTimer()
	start := time.Now()
	e.startLink()
	busyStop := make(chan struct{})
	busyDone := make(chan []time.Duration)
	go func() { busyDone <- taps(busyStop) }()
	select {
	case <-all:
	case <-time.After(time.Duration(b.N)*time.Millisecond + time.Minute):
		b.Fatalf("viewer got %d of %d events", got.Load(), last.Seq)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(busyStop)
	busy := <-busyDone
	b.ReportMetric(float64(last.Seq)/elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(percentile(idle, 0.99)), "tap-p99-idle-ms")
	b.ReportMetric(ms(percentile(busy, 0.99)), "tap-p99-draining-ms")
	b.ReportMetric(float64(len(busy)), "taps-while-draining")
}
