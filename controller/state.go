package controller

import "time"

type state struct{ synced bool }

type strike struct {
	door     string
	unlocked bool
}

type txn struct {
	change    Change
	strikes   []strike
	egress    bool
	resultSeq uint64
}

func (t *txn) empty() bool { return len(t.change.Events) == 0 }

func newState(cfg Config, snap Snapshot) (*state, error)                            { panic("todo") }
func (s *state) start(now time.Time) *txn                                           { panic("todo") }
func (s *state) stop(now time.Time) *txn                                            { panic("todo") }
func (s *state) tick(now time.Time) *txn                                            { panic("todo") }
func (s *state) nextDeadline() (time.Time, bool)                                    { panic("todo") }
func (s *state) seal(tx *txn)                                                       { panic("todo") }
func (s *state) apply(tx *txn)                                                      { panic("todo") }
func (s *state) tap(now time.Time, door, reader, card string) (Result, *txn, error) { panic("todo") }
func (s *state) contact(now time.Time, door string, open bool) (*txn, error)        { panic("todo") }
func (s *state) rex(now time.Time, door string) (*txn, error)                       { panic("todo") }
func (s *state) lockdown(now time.Time, door, actor string, on bool) (*txn, error)  { panic("todo") }
func (s *state) addPerson(now time.Time, p Person, actor string) (*txn, error)      { panic("todo") }
func (s *state) assignCard(now time.Time, card, person, actor string) (*txn, error) { panic("todo") }
func (s *state) revokeCard(now time.Time, card, actor string) (*txn, error)         { panic("todo") }
func (s *state) submit(now time.Time, f VisitForm, by string) (*txn, error)         { panic("todo") }
func (s *state) step(now time.Time, visit string, a Action, by, note string) (*txn, error) {
	panic("todo")
}
func (s *state) person(id string) (Person, error) { panic("todo") }
func (s *state) people() []Person                 { panic("todo") }
func (s *state) cardList() []Card                 { panic("todo") }
func (s *state) visit(id string) (Visit, error)   { panic("todo") }
func (s *state) visitList(st VisitState) []Visit  { panic("todo") }
func (s *state) status(now time.Time) Status      { panic("todo") }
