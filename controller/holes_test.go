package controller_test

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pintu/pintu/controller"
)

// The regression tests of the access-rule holes found in review, one per
// hole, each with the memstore and with bbolt.

// TestHole1StaleEscort: a staff read pairs with a visitor only while the
// person has not left since: an exit read, a read at another door, or a REX
// at that door ends it. The log never names a read that did not happen.
func TestHole1StaleEscort(t *testing.T) {
	tests := []struct {
		name    string
		between func(h *harness) // after the officer's entry read
		paired  bool
	}{
		{"escort still there", func(h *harness) {}, true},
		{"escort left through the exit reader", func(h *harness) { h.out("oki") }, false},
		{"escort read at another door", func(h *harness) { h.tap("ups-room", "entry", "oki") }, false},
		{"escort left through another door's exit", func(h *harness) { h.tap("ups-room", "exit", "oki") }, false},
		{"REX at the door", func(h *harness) { h.must(h.c.RequestExit(h.ctx(), "server-room")) }, false},
		{"REX at another door", func(h *harness) { h.must(h.c.RequestExit(h.ctx(), "ups-room")) }, true},
		{"escort disabled", func(h *harness) {
			_, err := h.c.SetDisabled(h.ctx(), "oki", true, root)
			h.must(err)
		}, false},
		{"escort's card revoked", func(h *harness) { h.must(h.c.RevokeCard(h.ctx(), "card-oki", root)) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, twoDoors(), func(t *testing.T, h *harness) {
				h.cast()
				v := h.approve(controller.VisitForm{VisitorID: "vina"})
				if r := h.in("oki"); r.Decision != controller.Granted {
					t.Fatalf("officer = %+v", r)
				}
				h.advance(2 * time.Second)
				tt.between(h)
				h.advance(2 * time.Second)
				r := h.in("vina")
				if got := r.Decision == controller.Granted; got != tt.paired {
					t.Fatalf("visitor after %s = %+v, want granted %v", tt.name, r, tt.paired)
				}
				if !tt.paired {
					if r.Decision != controller.Pending || h.inside("vina") || h.visit(v).State != controller.StateApproved {
						t.Errorf("visitor = %+v, inside %v; want pending and outside", r, h.inside("vina"))
					}
					h.advance(time.Minute)
					if got := h.decisions("vina"); !slices.Equal(got, []string{"pending/waiting_for_escort", "denied/escort_required"}) {
						t.Errorf("visitor's decisions = %v, want pending then escort_required", got)
					}
				} else {
					grant := h.events()[r.Seq-1]
					if !strings.Contains(grant.Detail, "escorted by oki (read #") {
						t.Errorf("grant detail %q does not name the escort's read", grant.Detail)
					}
				}
				h.check()
			})
		})
	}
}

// TestHole1EscortWithoutRoomAccess: an escort whose own read was denied (the
// head, given escort rights but no room access) is recorded inside through
// that real read; no access event is invented for them.
func TestHole1EscortWithoutRoomAccess(t *testing.T) {
	cfg := controller.DefaultConfig()
	cfg.Escort = append(cfg.Escort, controller.RoleHead)
	for _, order := range []string{"escort first", "visitor first"} {
		t.Run(order, func(t *testing.T) {
			eachStore(t, cfg, func(t *testing.T, h *harness) {
				h.cast()
				h.approve(controller.VisitForm{VisitorID: "vina"})
				first, second := "hasan", "vina"
				if order == "visitor first" {
					first, second = second, first
				}
				h.in(first)
				h.advance(5 * time.Second)
				h.in(second)
				if !h.inside("vina") || !h.inside("hasan") {
					t.Fatalf("inside: vina %v, hasan %v; want both", h.inside("vina"), h.inside("hasan"))
				}
				var hasan []controller.Event
				for _, e := range h.events() {
					if e.Type == controller.EventAccess && e.Person == "hasan" {
						hasan = append(hasan, e)
					}
				}
				if len(hasan) != 1 || hasan[0].Card != "card-hasan" {
					t.Errorf("hasan's access events = %+v, want exactly his one read", hasan)
				}
				i := slices.IndexFunc(h.status().Inside, func(o controller.Occupant) bool { return o.Person == "hasan" })
				if o := h.status().Inside[i]; o.Seq != hasan[0].Seq {
					t.Errorf("hasan inside through event %d, want his read %d", o.Seq, hasan[0].Seq)
				}
				h.check()
			})
		})
	}
}

// TestHole2TwoPersonVisitor: on a two-person door a visitor needs an escort
// and a second staff member with room access; a visitor never counts as
// staff, and nobody counts twice. Every order of the three reads works.
func TestHole2TwoPersonVisitor(t *testing.T) {
	cfg := controller.DefaultConfig()
	cfg.Doors[0].TwoPerson = true
	orders := [][]string{
		{"vina", "oki", "citra"}, {"vina", "citra", "oki"}, {"oki", "vina", "citra"},
		{"oki", "citra", "vina"}, {"citra", "vina", "oki"}, {"citra", "oki", "vina"},
	}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			eachStore(t, cfg, func(t *testing.T, h *harness) {
				h.cast()
				h.approve(controller.VisitForm{VisitorID: "vina"})
				for i, p := range order {
					r := h.in(p)
					if i < 2 && r.Decision == controller.Granted && p == "vina" {
						t.Fatalf("read %d (%s) = %+v: a visitor granted with fewer than two staff", i, p, r)
					}
					if i == 1 && h.inside("vina") {
						t.Fatalf("visitor inside after two reads %v", order[:2])
					}
					h.advance(3 * time.Second)
				}
				for _, p := range order {
					if !h.inside(p) {
						t.Errorf("%s not inside after all three read", p)
					}
				}
				h.check()
			})
		})
	}
	bad := []struct {
		name  string
		reads []string
	}{
		{"visitor and one officer", []string{"vina", "oki"}},
		{"one officer and the visitor", []string{"oki", "vina"}},
		{"the officer twice", []string{"oki", "vina", "oki"}},
		{"a second visitor is no second", []string{"oki", "vina", "wawan"}},
		{"the head has no room access", []string{"oki", "vina", "hasan"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, cfg, func(t *testing.T, h *harness) {
				h.cast()
				h.approve(controller.VisitForm{VisitorID: "vina"})
				h.approve(controller.VisitForm{VisitorID: "wawan"})
				for _, p := range tt.reads {
					if r := h.in(p); p == "vina" && r.Decision == controller.Granted {
						t.Fatalf("visitor granted after %v", tt.reads)
					}
					h.advance(2 * time.Second)
				}
				h.advance(time.Minute)
				if h.inside("vina") || h.released("server-room") {
					t.Fatalf("visitor inside %v, strike released %v after %v", h.inside("vina"), h.released("server-room"), tt.reads)
				}
				d := h.decisions("vina")
				if last := d[len(d)-1]; last != "denied/two_person_required" && last != "denied/escort_required" {
					t.Errorf("visitor's last decision = %s, want denied two_person_required", last)
				}
				h.check()
			})
		})
	}
}

func (h *harness) released(door string) bool { return h.act.released(door) }

// TestHole3WaitingVisitorRechecked: when the escort's read arrives, a waiting
// visitor is checked again in full, as if they had just read.
func TestHole3WaitingVisitorRechecked(t *testing.T) {
	tests := []struct {
		name   string
		until  time.Duration // the visit window's end after now; default 2h
		change func(h *harness)
		want   controller.Reason
	}{
		{"nothing changed", 0, func(h *harness) {}, ""},
		{"card revoked", 0, func(h *harness) { h.must(h.c.RevokeCard(h.ctx(), "card-vina", root)) }, controller.ReasonRevoked},
		{"visitor disabled", 0, func(h *harness) {
			_, err := h.c.SetDisabled(h.ctx(), "vina", true, root)
			h.must(err)
		}, controller.ReasonRevoked},
		{"window ended", 20 * time.Second, func(h *harness) {}, controller.ReasonOutsideWindow},
		{"clock lost sync", 0, func(h *harness) { h.setClock(0, false) }, controller.ReasonClockUnsynced},
		{"clock stepped behind the log", 0, func(h *harness) { h.setClock(-time.Hour, true) }, controller.ReasonClockUnsynced},
		{"lockdown", 0, func(h *harness) {
			_, err := h.c.Lockdown(h.ctx(), "server-room", as("citra"), true)
			h.must(err)
			_, err = h.c.Lockdown(h.ctx(), "server-room", as("citra"), false)
			h.must(err)
		}, controller.ReasonLockdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
				h.cast()
				f := controller.VisitForm{VisitorID: "vina"}
				if tt.until > 0 {
					f.From, f.Until = time.Now(), time.Now().Add(tt.until)
				}
				h.approve(f)
				h.advance(5 * time.Second)
				if r := h.in("vina"); r.Decision != controller.Pending {
					t.Fatalf("visitor = %+v, want pending", r)
				}
				h.advance(10 * time.Second)
				tt.change(h)
				h.advance(10 * time.Second)
				h.in("oki")
				d := h.decisions("vina")
				want := "granted/"
				if tt.want != "" {
					want = "denied/" + string(tt.want)
				}
				if d[len(d)-1] != want || h.inside("vina") != (tt.want == "") {
					t.Errorf("visitor's decisions %v, inside %v; want the last %s", d, h.inside("vina"), want)
				}
				h.check()
			})
		})
	}
}

// TestHole4EgressBeforeCommit: an exit read or REX releases the strike at
// once, however long the disk stalls, even while another input's commit is
// stalled; an entry grant still waits for its commit.
func TestHole4EgressBeforeCommit(t *testing.T) {
	tests := []struct {
		name   string
		egress func(h *harness) error
	}{
		{"REX", func(h *harness) error { return h.c.RequestExit(h.ctx(), "server-room") }},
		{"exit read", func(h *harness) error { _, err := h.c.Tap(h.ctx(), "server-room", "exit", "card-oki"); return err }},
		{"exit read of an unknown card", func(h *harness) error { _, err := h.c.Tap(h.ctx(), "server-room", "exit", "card-x"); return err }},
	}
	for _, tt := range tests {
		for _, behind := range []bool{false, true} {
			name := tt.name + ", own commit stalls"
			if behind {
				name = tt.name + ", behind a stalled entry grant"
			}
			t.Run(name, func(t *testing.T) {
				eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
					h.cast()
					h.advance(10 * time.Second)
					h.inputs = append(h.inputs, input{"server-room", "entry", "card-citra"}, input{"server-room", "exit", "card-oki"},
						input{"server-room", "exit", "card-x"})
					release := h.store.stallCommits()
					var wg sync.WaitGroup
					if behind {
						wg.Go(func() { h.c.Tap(h.ctx(), "server-room", "entry", "card-citra") })
						synctest.Wait()
						if h.released("server-room") {
							t.Fatal("entry grant released the strike before its commit")
						}
					}
					wg.Go(func() {
						if err := tt.egress(h); err != nil {
							t.Errorf("egress = %v", err)
						}
					})
					synctest.Wait() // every goroutine is blocked on the stalled disk
					if !h.released("server-room") {
						t.Fatal("egress waits for a stalled disk")
					}
					release()
					wg.Wait()
					if st := h.status(); st.Doors[0].Lock != "unlocked" {
						t.Errorf("after the stall: door %+v, want unlocked", st.Doors[0])
					}
					h.advance(6 * time.Second)
					if h.released("server-room") {
						t.Error("strike not relocked after the unlock time")
					}
					h.check()
				})
			})
		}
	}
}

// TestEgressBadInputRelocks: an exit read refused as bad input (an empty
// card number) released the strike early; the relay locks again at once,
// since no step will.
func TestEgressBadInputRelocks(t *testing.T) {
	eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
		if _, err := h.c.Tap(h.ctx(), "server-room", "exit", " "); !errors.Is(err, controller.ErrInvalid) {
			t.Fatalf("exit read of an empty card = %v, want ErrInvalid", err)
		}
		if h.released("server-room") {
			t.Error("strike left released after a refused exit read")
		}
	})
}

// TestHole5StoreFailingBacksOff: with a deadline due and every commit
// failing, the controller backs off instead of retrying in a tight loop,
// raises one storage_failure alarm, logs once, and clears the alarm (writing
// it to the log) once a commit succeeds.
func TestHole5StoreFailingBacksOff(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
	}{
		{"door held open", func(h *harness) {
			h.in("oki")
			h.must(h.c.SetContact(h.ctx(), "server-room", true))
		}},
		{"pending read expiring", func(h *harness) {
			h.approve(controller.VisitForm{VisitorID: "vina"})
			h.in("vina")
		}},
		{"overstay due", func(h *harness) {
			h.approve(controller.VisitForm{VisitorID: "vina", From: time.Now(), Until: time.Now().Add(time.Minute)})
			h.in("oki")
			h.in("vina")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
				h.cast()
				tt.setup(h)
				h.advance(time.Second)
				h.store.setFail(errors.New("disk gone"))
				before := h.store.count()
				h.advance(2 * time.Minute)
				n := h.store.count() - before
				// 100ms doubling to 5s: about 30 tries in two minutes.
				if n < 5 || n > 40 {
					t.Errorf("%d commits in two minutes with a failing store, want 5 to 40", n)
				}
				if got := h.logs.n(slog.LevelError); got != 1 {
					t.Errorf("%d error lines, want 1", got)
				}
				st := h.status()
				if !slices.ContainsFunc(st.Alarms, func(a controller.Alarm) bool { return a.Kind == controller.AlarmStorageFailure && a.Active }) {
					t.Fatalf("status alarms = %+v, want storage_failure", st.Alarms)
				}
				if r := h.in("citra"); r.Reason != controller.ReasonStorageFailure {
					t.Errorf("entry read with a failing store = %+v, want storage_failure", r)
				}
				h.store.setFail(nil)
				h.advance(6 * time.Second)
				a, ok := h.listed(controller.AlarmStorageFailure)
				if !ok || a.Active || !a.NeedsAck {
					t.Fatalf("storage_failure after recovery = %+v (listed %v), want cleared, awaiting ack", a, ok)
				}
				var raised, cleared bool
				for _, e := range h.events() {
					raised = raised || (e.Type == controller.EventAlarmRaised && e.Detail != "" && strings.HasPrefix(e.Detail, a.ID+" storage_failure"))
					cleared = cleared || (e.Type == controller.EventAlarmCleared && strings.HasPrefix(e.Detail, a.ID+" storage_failure"))
				}
				if !raised || !cleared || h.events()[seqOf(a.ID)-1].Type != controller.EventAlarmRaised {
					t.Errorf("log after recovery: raised %v, cleared %v; want both, the raise at the alarm's id", raised, cleared)
				}
				if _, err := h.c.AckAlarm(h.ctx(), a.ID, as("hasan"), "disk replaced"); err != nil {
					t.Fatal(err)
				}
				if _, ok := h.listed(controller.AlarmStorageFailure); ok {
					t.Error("storage_failure listed after its acknowledgement")
				}
				h.check()
			})
		})
	}
}

func seqOf(id string) int {
	var n int
	fmt.Sscanf(id, "A%d", &n)
	return n
}

// TestHole6SeparationOfDuties: steps 1, 2 and 3 of a visit are taken by
// three different people, and steps 6 and 7 by two.
func TestHole6SeparationOfDuties(t *testing.T) {
	boss := controller.Person{ID: "boss", Name: "Boss", Roles: []controller.Role{controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead}}
	tests := []struct {
		name      string
		submit    string
		check     string
		approve   string
		report    string
		archive   string // order-archive
		refusedAt controller.Action
	}{
		{"all different", "adi", "citra", "hasan", "citra", "hasan", ""},
		{"submitter checks", "boss", "boss", "", "", "", controller.ActionCheck},
		{"checker approves", "adi", "boss", "boss", "", "", controller.ActionApprove},
		{"submitter approves", "boss", "citra", "boss", "", "", controller.ActionApprove},
		{"reporter orders the archive", "adi", "citra", "hasan", "boss", "boss", controller.ActionOrderArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, controller.DefaultConfig(), func(t *testing.T, h *harness) {
				h.cast()
				h.must(h.c.AddPerson(h.ctx(), boss, root))
				v, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "vina", Purpose: "x"}, as(tt.submit))
				h.must(err)
				type step struct {
					a  controller.Action
					by string
				}
				steps := []step{{controller.ActionCheck, tt.check}, {controller.ActionApprove, tt.approve}}
				if tt.report != "" {
					steps = append(steps, step{controller.ActionReport, tt.report}, step{controller.ActionOrderArchive, tt.archive})
				}
				for _, s := range steps {
					if s.a == controller.ActionReport {
						h.in("oki")
						h.in("vina")
						_, err := h.c.Step(h.ctx(), v.ID, controller.ActionReturnID, as("adi"), "")
						h.must(err)
					}
					n := len(h.events())
					_, err := h.c.Step(h.ctx(), v.ID, s.a, as(s.by), "work done")
					if s.a == tt.refusedAt {
						if !errors.Is(err, controller.ErrSeparation) || !strings.Contains(err.Error(), "separation of duties") {
							t.Fatalf("%s by %s = %v, want separation of duties", s.a, s.by, err)
						}
						if evs := h.events()[n:]; len(evs) != 1 || evs[0].Type != controller.EventRefused || evs[0].Actor != s.by ||
							!strings.Contains(evs[0].Detail, "separation of duties") {
							t.Errorf("a refused step wrote %+v, want one refused event by %s naming the separation of duties", evs, s.by)
						}
						return
					}
					h.must(err)
				}
				if tt.refusedAt != "" {
					t.Fatalf("no refusal, want one at %s", tt.refusedAt)
				}
			})
		})
	}
}

// TestHole7VisitWindow: a window that ends in the past, or is longer than
// sop.max_visit_window, is refused.
func TestHole7VisitWindow(t *testing.T) {
	cfg := controller.DefaultConfig()
	cfg.MaxVisitWindow = 8 * time.Hour
	tests := []struct {
		name        string
		from, until time.Duration // after now
		want        string
	}{
		{"two hours", 0, 2 * time.Hour, ""},
		{"exactly the maximum", time.Hour, 9 * time.Hour, ""},
		{"longer than the maximum", time.Hour, 9*time.Hour + time.Second, "visit window of 8h0m1s is longer than the 8h0m0s allowed (sop.max_visit_window)"},
		{"started yesterday, ends soon", -20 * time.Hour, time.Hour, "visit window of 21h0m0s is longer"},
		{"ended an hour ago", -2 * time.Hour, -time.Hour, "in the past"},
		{"ends now", -time.Hour, 0, "in the past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, cfg, func(t *testing.T, h *harness) {
				h.cast()
				n := len(h.events())
				now := time.Now()
				_, err := h.c.SubmitVisit(h.ctx(), controller.VisitForm{VisitorID: "vina", Purpose: "x",
					From: now.Add(tt.from), Until: now.Add(tt.until)}, as("adi"))
				if tt.want == "" {
					h.must(err)
					return
				}
				if !errors.Is(err, controller.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("submit = %v, want ErrInvalid with %q", err, tt.want)
				}
				if len(h.events()) != n {
					t.Error("a refused submission wrote events")
				}
			})
		})
	}
}
