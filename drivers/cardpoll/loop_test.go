package cardpoll

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	errHalted = errors.New("test: halted")
	errReader = errors.New("test: reader vanished")
	errCard   = errors.New("test: card answered badly")
	errReinit = errors.New("test: reader still not answering")
)

var (
	uidA = UID{0xDE, 0xAD, 0xBE, 0xEF}
	uidB = UID{0x01, 0x02, 0x03, 0x04}
	uid7 = UID{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6}
)

// answer is what one poll returns.
type answer struct {
	uid UID
	err error
}

// script is a reader that answers its reads in order, then finds no card.
// It records when each read and each re-initialisation started; its
// re-initialisations fail with reinitErrs in order, then succeed.
type script struct {
	answers    []answer
	reinitErrs []error
	polls      []time.Duration
	reinits    []time.Duration
	start      time.Time
	cost       time.Duration // time each read takes
}

func (s *script) read() (UID, error) {
	s.polls = append(s.polls, time.Since(s.start))
	time.Sleep(s.cost)
	if len(s.answers) == 0 {
		return nil, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a.uid, a.err
}

func (s *script) reinit() error {
	s.reinits = append(s.reinits, time.Since(s.start))
	if len(s.reinitErrs) == 0 {
		return nil
	}
	err := s.reinitErrs[0]
	s.reinitErrs = s.reinitErrs[1:]
	return err
}

// loop returns a Loop on s, polling every 20 ms.
func (s *script) loop() *Loop {
	s.start = time.Now()
	return &Loop{
		Read:      s.read,
		Reinit:    s.reinit,
		CardErr:   isCard,
		Interval:  20 * time.Millisecond,
		ErrHalted: errHalted,
	}
}

// repeat appends n polls answering a.
func repeat(n int, a answer) []answer {
	as := make([]answer, n)
	for i := range as {
		as[i] = a
	}
	return as
}

func concat(parts ...[]answer) []answer {
	var as []answer
	for _, p := range parts {
		as = append(as, p...)
	}
	return as
}

var none = answer{}

func card(u UID) answer { return answer{uid: u} }

func isCard(err error) bool { return errors.Is(err, errCard) }

// ms returns durations of ns milliseconds.
func ms(ns ...int) []time.Duration {
	ds := make([]time.Duration, len(ns))
	for i, n := range ns {
		ds[i] = time.Duration(n) * time.Millisecond
	}
	return ds
}

type read struct {
	At  time.Duration
	UID string
}

// run starts l.Run on s and collects what it sends until nothing has come
// for 30 s, then cancels it. It must run inside a synctest bubble.
func run(t *testing.T, l *Loop, s *script) []read {
	t.Helper()
	out := make(chan UID)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error)
	go func() { done <- l.Run(ctx, out) }()
	var got []read
	for {
		select {
		case u := <-out:
			got = append(got, read{time.Since(s.start), u.String()})
			continue
		case <-time.After(30 * time.Second):
		}
		break
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil on cancel", err)
	}
	return got
}

func TestRunHoldOff(t *testing.T) {
	// Polls are 20 ms apart: poll n runs at n*20 ms.
	tests := []struct {
		name    string
		holdOff time.Duration
		answers []answer
		want    []read
	}{
		{
			name:    "absent exactly the hold-off",
			holdOff: time.Second,
			answers: concat(
				repeat(5, card(uidA)), // 0-4: A rests on the reader: one read
				repeat(5, none),       // 5-9: gone 120 ms
				repeat(2, card(uidA)), // 10-11: back too soon: no read
				repeat(1, none),       // 12
				repeat(1, card(uidB)), // 13: another card: read
				repeat(48, none),      // 14-61
				repeat(1, card(uidA)), // 62 (1240 ms): A absent since 220 ms: read
				repeat(48, none),      // 63-110
				repeat(1, card(uidA)), // 111 (2220 ms): absent 980 ms: no read
				repeat(49, none),      // 112-160
				repeat(1, card(uidA)), // 161 (3220 ms): absent exactly 1 s: read
			),
			want: []read{{0, "DEADBEEF"}, {260 * time.Millisecond, "01020304"}, {1240 * time.Millisecond, "DEADBEEF"}, {3220 * time.Millisecond, "DEADBEEF"}},
		},
		{
			name:    "another card straight after",
			holdOff: time.Second,
			answers: concat(
				repeat(5, card(uid7)), // 0-4: resting on the reader: one read
				repeat(5, none),       // 5-9
				repeat(2, card(uid7)), // 10-11: back after 120 ms: no read
				repeat(1, card(uidB)), // 12: another card: read
				repeat(49, none),      // 13-61
				repeat(1, card(uid7)), // 62 (1240 ms): absent since 220 ms: read
				repeat(48, none),      // 63-110
				repeat(1, card(uid7)), // 111 (2220 ms): absent 980 ms: no read
			),
			want: []read{{0, "04A1B2C3D4E5F6"}, {240 * time.Millisecond, "01020304"}, {1240 * time.Millisecond, "04A1B2C3D4E5F6"}},
		},
		{
			name:    "card errors neither read nor end a presentation",
			holdOff: time.Second,
			answers: concat(
				repeat(2, card(uidA)),           // 0-1: read at 0
				repeat(3, answer{err: errCard}), // 2-4: dropped, polled 20 ms apart
				repeat(1, card(uidA)),           // 5: still resting: no read
				repeat(1, card(uidB)),           // 6 (120 ms): read
			),
			want: []read{{0, "DEADBEEF"}, {120 * time.Millisecond, "01020304"}},
		},
		{
			name:    "zero hold-off reads every poll",
			answers: concat(repeat(3, card(uidA)), repeat(1, none), repeat(1, card(uidA))),
			want:    []read{{0, "DEADBEEF"}, {20 * time.Millisecond, "DEADBEEF"}, {40 * time.Millisecond, "DEADBEEF"}, {80 * time.Millisecond, "DEADBEEF"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports []error
				sc := &script{answers: tc.answers}
				l := sc.loop()
				l.HoldOff = tc.holdOff
				l.OnError = func(err error) { reports = append(reports, err) }
				got := run(t, l, sc)
				if len(sc.reinits) != 0 {
					t.Errorf("re-initialised at %v, want never", sc.reinits)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("reads mismatch (-want +got):\n%s", diff)
				}
				if len(reports) != 0 {
					t.Errorf("OnError got %q, want no call", reports)
				}
			})
		})
	}
}

// TestRunOutage: after a reader error Run polls again with a backoff from
// 100 ms doubling to 5 s, reports the outage once and its end once, and
// goes back to the poll interval.
func TestRunOutage(t *testing.T) {
	fail := answer{err: errReader}
	tests := []struct {
		name        string
		answers     []answer
		cost        time.Duration
		reinitErrs  []error
		cardErr     func(error) bool
		wantPolls   []time.Duration // the first reads' start times
		wantReinits []time.Duration // every re-initialisation's start time
		wantReports []error
		wantReads   []read
	}{
		{
			name:        "backoff doubles to 5 s",
			answers:     concat(repeat(1, none), repeat(9, fail)),
			wantPolls:   ms(0, 20, 120, 320, 720, 1520, 3120, 6320, 11320, 16320, 21320, 21340),
			wantReinits: ms(120, 320, 720, 1520, 3120, 6320, 11320, 16320, 21320),
			wantReports: []error{errReader, nil},
		},
		{
			name:        "backoff starts again after recovery",
			answers:     concat(repeat(3, fail), repeat(1, card(uidA)), repeat(2, fail)),
			wantPolls:   ms(0, 100, 300, 700, 720, 820, 1020, 1040),
			wantReinits: ms(100, 300, 700, 820, 1020),
			wantReports: []error{errReader, nil, errReader, nil},
			wantReads:   []read{{700 * time.Millisecond, "DEADBEEF"}},
		},
		{
			name:        "schedule runs from the start of a poll",
			answers:     concat(repeat(2, none), repeat(2, fail)),
			cost:        5 * time.Millisecond,
			wantPolls:   ms(0, 20, 40, 140, 340, 360),
			wantReinits: ms(140, 340),
			wantReports: []error{errReader, nil},
		},
		{
			name:        "failed re-initialisations are the same outage",
			answers:     concat(repeat(1, fail)),
			reinitErrs:  []error{errReinit, errReinit},
			wantPolls:   ms(0, 700, 720),
			wantReinits: ms(100, 300, 700),
			wantReports: []error{errReader, nil},
		},
		{
			name:      "card errors keep the reader",
			answers:   concat(repeat(2, answer{err: errCard}), repeat(1, card(uidA))),
			wantPolls: ms(0, 20, 40, 60),
			wantReads: []read{{40 * time.Millisecond, "DEADBEEF"}},
		},
		{
			name:        "every error is a reader error without CardErr",
			answers:     concat(repeat(1, answer{err: errCard}), repeat(1, none)),
			cardErr:     func(error) bool { return false },
			wantPolls:   ms(0, 100, 120),
			wantReinits: ms(100),
			wantReports: []error{errCard, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports []error
				s := &script{answers: tc.answers, reinitErrs: tc.reinitErrs, cost: tc.cost}
				l := s.loop()
				if tc.cardErr != nil {
					l.CardErr = tc.cardErr
				}
				l.HoldOff = time.Second
				l.OnError = func(err error) { reports = append(reports, err) }
				got := run(t, l, s)
				if diff := cmp.Diff(tc.wantReads, got); diff != "" {
					t.Errorf("reads mismatch (-want +got):\n%s", diff)
				}
				if len(s.polls) < len(tc.wantPolls) {
					t.Fatalf("polls at %v, want at least %v", s.polls, tc.wantPolls)
				}
				if diff := cmp.Diff(tc.wantPolls, s.polls[:len(tc.wantPolls)]); diff != "" {
					t.Errorf("poll times mismatch (-want +got):\n%s", diff)
				}
				if !slices.Equal(tc.wantReinits, s.reinits) {
					t.Errorf("re-initialised at %v, want %v", s.reinits, tc.wantReinits)
				}
				if diff := cmp.Diff(tc.wantReports, reports, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
					t.Errorf("OnError calls mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestRunStop: Run returns nil when ctx is done and ErrHalted after Halt,
// whether it sleeps, polls or waits to send.
func TestRunStop(t *testing.T) {
	wrapped := fmt.Errorf("read: %w", errHalted)
	tests := []struct {
		name    string
		answers []answer
		halt    bool // else cancel
		want    error
	}{
		{name: "cancel while sleeping", want: nil},
		{name: "halt while sleeping", halt: true, want: errHalted},
		{name: "cancel while sending", answers: repeat(1, card(uidA)), want: nil},
		{name: "halt while sending", answers: repeat(1, card(uidA)), halt: true, want: errHalted},
		{name: "read says halted", answers: repeat(1, answer{err: wrapped}), want: wrapped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports []error
				s := &script{answers: tc.answers}
				l := s.loop()
				l.OnError = func(err error) { reports = append(reports, err) }
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				done := make(chan error)
				go func() { done <- l.Run(ctx, make(chan UID)) }() // nobody receives
				synctest.Wait()                                    // Run has polled once and sleeps, sends or returned
				if tc.halt {
					powerDowns := 0
					for range 2 {
						if err := l.Halt(func() error { powerDowns++; return nil }); err != nil {
							t.Errorf("Halt() = %v", err)
						}
					}
					if powerDowns != 1 {
						t.Errorf("Halt() powered down %d times, want 1", powerDowns)
					}
				} else {
					cancel()
				}
				if err := <-done; err != tc.want {
					t.Errorf("Run() = %v, want %v", err, tc.want)
				}
				if len(s.polls) != 1 {
					t.Errorf("polled %d times, want 1", len(s.polls))
				}
				if len(reports) != 0 {
					t.Errorf("OnError got %q, want no call", reports)
				}
			})
		})
	}
}

// TestHalt: Halt waits for a poll in progress, returns powerDown's error,
// and no poll runs after it.
func TestHalt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{}
		l := s.loop()
		var events []string
		release := make(chan struct{})
		l.Read = func() (UID, error) { <-release; events = append(events, "read"); return nil, nil }
		go func() { _, _ = l.Poll() }()
		synctest.Wait() // the read has started and waits for release
		errPowerDown := errors.New("test: power down failed")
		halted := make(chan error)
		go func() { halted <- l.Halt(func() error { events = append(events, "power down"); return errPowerDown }) }()
		<-l.doneChan() // Halt has begun and waits for the poll
		close(release)
		if err := <-halted; err != errPowerDown {
			t.Errorf("Halt() = %v, want %v", err, errPowerDown)
		}
		if want := []string{"read", "power down"}; !slices.Equal(events, want) {
			t.Errorf("events %q, want %q", events, want)
		}
		if err := l.Halt(func() error { panic("second power down") }); err != nil {
			t.Errorf("second Halt() = %v, want nil", err)
		}
		if _, err := l.Poll(); err != errHalted {
			t.Errorf("Poll() after Halt = %v, want %v", err, errHalted)
		}
		if err := l.Run(t.Context(), make(chan UID)); err != errHalted {
			t.Errorf("Run() after Halt = %v, want %v", err, errHalted)
		}
	})
}

func TestRunCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{}
		l := s.loop()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := l.Run(ctx, make(chan UID)); err != nil {
			t.Errorf("Run() with ctx done = %v, want nil", err)
		}
		if len(s.polls) != 0 {
			t.Errorf("polled %d times, want none", len(s.polls))
		}
	})
}

func TestWait(t *testing.T) {
	tests := []struct {
		name    string
		answers []answer
		halt    bool
		timeout time.Duration
		want    UID
		wantErr error
		wantAt  time.Duration
	}{
		{name: "card", answers: repeat(1, card(uid7)), want: uid7},
		{name: "three empty polls 20 ms apart", answers: concat(repeat(3, none), repeat(1, card(uid7))), want: uid7, wantAt: 60 * time.Millisecond},
		{name: "card error", answers: concat(repeat(1, none), repeat(1, answer{err: errCard})), wantErr: errCard, wantAt: 20 * time.Millisecond},
		{name: "reader error", answers: repeat(1, answer{err: errReader}), wantErr: errReader},
		{name: "deadline", timeout: 10 * time.Millisecond, wantErr: context.DeadlineExceeded, wantAt: 10 * time.Millisecond},
		{name: "halted", halt: true, wantErr: errHalted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &script{answers: tc.answers}
				l := s.loop()
				if tc.halt {
					if err := l.Halt(func() error { return nil }); err != nil {
						t.Fatal(err)
					}
				}
				ctx := t.Context()
				if tc.timeout != 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.timeout)
					defer cancel()
				}
				got, err := l.Wait(ctx)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Wait() error = %v, want %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Wait() mismatch (-want +got):\n%s", diff)
				}
				if at := time.Since(s.start); at != tc.wantAt {
					t.Errorf("Wait() returned after %v, want %v", at, tc.wantAt)
				}
			})
		})
	}
}

// TestWaitReinit: after a reader error, the next Wait re-initialises the
// reader before it reads; a failed re-initialisation is returned and tried
// again by the next call. Card errors need no re-initialisation.
func TestWaitReinit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{
			answers:    concat(repeat(1, answer{err: errReader}), repeat(1, answer{err: errCard}), repeat(1, card(uidA))),
			reinitErrs: []error{errReinit},
		}
		l := s.loop()
		for i, want := range []error{errReader, errReinit, errCard, nil} {
			if _, err := l.Wait(t.Context()); err != want {
				t.Fatalf("Wait() #%d = %v, want %v", i+1, err, want)
			}
		}
		if want := ms(0, 0); !slices.Equal(s.reinits, want) {
			t.Errorf("re-initialised at %v, want %v", s.reinits, want)
		}
		if len(s.polls) != 3 {
			t.Errorf("%d reads, want 3", len(s.polls))
		}
	})
}

func TestHoldOffWindow(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := UID{1}, UID{2}
	type step struct {
		at   time.Duration
		uid  UID
		want bool
	}
	tests := []struct {
		name     string
		steps    []step
		wantSeen int
	}{
		{
			name: "two cards",
			steps: []step{
				{0, a, true},
				{20 * time.Millisecond, a, false},
				{30 * time.Millisecond, b, true},
				{500 * time.Millisecond, a, false},
				{1499 * time.Millisecond, a, false},
				{2499 * time.Millisecond, a, true},
				{2500 * time.Millisecond, b, true},
			},
			wantSeen: 2,
		},
		{
			name: "seen just within the hold-off",
			steps: []step{
				{0, a, true},
				{999 * time.Millisecond, a, false},
				{1998 * time.Millisecond, a, false},
				{2998 * time.Millisecond, a, true},
			},
			wantSeen: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHoldOff(time.Second)
			for _, s := range tc.steps {
				now := t0.Add(s.at)
				h.forget(now)
				if got := h.see(s.uid, now); got != s.want {
					t.Errorf("see(%v) at %v = %v, want %v", s.uid, s.at, got, s.want)
				}
			}
			if len(h.seen) != tc.wantSeen {
				t.Errorf("hold-off remembers %d UIDs, want %d", len(h.seen), tc.wantSeen)
			}
			h.forget(t0.Add(time.Hour))
			if len(h.seen) != 0 {
				t.Errorf("hold-off remembers %d UIDs after an hour, want 0", len(h.seen))
			}
		})
	}
}

func TestUIDString(t *testing.T) {
	for _, tc := range []struct {
		uid  UID
		want string
	}{
		{uid7, "04A1B2C3D4E5F6"},
		{UID{0x0a, 0xbc, 0x01, 0x00}, "0ABC0100"},
		{UID{}, ""},
	} {
		if got := tc.uid.String(); got != tc.want {
			t.Errorf("% X .String() = %q, want %q", []byte(tc.uid), got, tc.want)
		}
	}
}

// TestRunCardErrors: every card error goes to OnCardError, none to
// OnError; the reader is not re-initialised and reads go on on schedule. A
// card that answers half an anticollision for 20 s costs the
// reader nothing.
func TestRunCardErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cardErrs, reports []error
		s := &script{answers: concat(
			repeat(1000, answer{err: errCard}), // 0-19.98 s: a card at the edge of the field
			repeat(1, card(uidA)),              // 20 s: presented properly
		)}
		l := s.loop()
		l.HoldOff = time.Second
		l.OnError = func(err error) { reports = append(reports, err) }
		l.OnCardError = func(err error) { cardErrs = append(cardErrs, err) }
		got := run(t, l, s)
		if want := []read{{20 * time.Second, "DEADBEEF"}}; !slices.Equal(got, want) {
			t.Errorf("reads = %v, want %v", got, want)
		}
		if len(cardErrs) != 1000 || !errors.Is(cardErrs[0], errCard) {
			t.Errorf("OnCardError called %d times, want 1000 with %v", len(cardErrs), errCard)
		}
		if len(reports) != 0 || len(s.reinits) != 0 {
			t.Errorf("OnError got %v, re-initialised at %v; want neither for card errors", reports, s.reinits)
		}
	})
}

// TestRunReadersIndependent: one reader whose chip never comes back (every
// poll and every re-initialisation fails) and a healthy one, each on its
// own Loop: the healthy one reads on its own schedule, and the failing one
// reports its outage once.
func TestRunReadersIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reports []error
		bad := &script{answers: repeat(1, answer{err: errReader})}
		for range 1000 {
			bad.reinitErrs = append(bad.reinitErrs, errReinit)
		}
		good := &script{answers: concat(repeat(50, none), repeat(1, card(uidA)), repeat(100, none), repeat(1, card(uidB)))}
		lb, lg := bad.loop(), good.loop()
		lb.OnError = func(err error) { reports = append(reports, err) }
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		badDone := make(chan error)
		go func() { badDone <- lb.Run(ctx, make(chan UID)) }()
		got := run(t, lg, good)
		want := []read{{time.Second, "DEADBEEF"}, {3020 * time.Millisecond, "01020304"}}
		if !slices.Equal(got, want) {
			t.Errorf("healthy reader's reads = %v, want %v", got, want)
		}
		cancel()
		if err := <-badDone; err != nil {
			t.Errorf("failing reader's Run() = %v, want nil on cancel", err)
		}
		if len(reports) != 1 || !errors.Is(reports[0], errReader) {
			t.Errorf("failing reader's OnError got %v, want one report of %v", reports, errReader)
		}
		if len(bad.reinits) < 5 {
			t.Errorf("failing reader re-initialised %d times, want it to keep trying", len(bad.reinits))
		}
	})
}
