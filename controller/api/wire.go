package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pintu/pintu/controller"
)

// The API's JSON shows times in UTC (RFC 3339) and durations as Go writes
// them ("5m0s"), never as nanoseconds. The domain's own JSON is left as it
// is: stored records are encoded with it.

// Duration is a time.Duration that is a string in JSON: "5m0s", "1h30m0s".
type Duration time.Duration

// MarshalJSON writes d as time.Duration.String does.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads what time.ParseDuration reads.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"5m0s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Step is one SOP step of a visit as the API shows it.
type Step struct {
	Step   int                   `json:"step"`
	Action controller.Action     `json:"action"`
	State  controller.VisitState `json:"state"` // the visit state after the step
	Actor  string                `json:"actor"`
	// Started is when the step could begin: when the step before it was
	// taken. For step 1 it is the submission instant, as At: the paper
	// form is filled in before anything is recorded, so step 1 is not
	// timed (Timed is false).
	Started time.Time `json:"started"`
	// At is when the step was taken; zero while step 4 runs (the visitor
	// is inside).
	At       time.Time `json:"at,omitzero"`
	Standard Duration  `json:"standard"` // the SOP's mutu baku for the step
	// Took is At - Started, for a timed step that is over.
	Took  Duration `json:"took"`
	Timed bool     `json:"timed"`
	Note  string   `json:"note,omitempty"`
}

// Over reports whether a timed step took longer than its standard.
func (s Step) Over() bool { return s.Timed && s.Standard > 0 && s.Took > s.Standard }

// StepTimed reports whether SOP step n is measured against its standard.
// Step 1 is recorded at the instant the form is submitted.
func StepTimed(n int) bool { return n != 1 }

// Visit is a visit as the API shows it: the domain's visit with its steps
// as Step.
type Visit struct {
	controller.Visit
	Steps []Step `json:"steps"` // shadows Visit.Steps, which stays nil
}

// wireVisit converts v for the API, in UTC.
func wireVisit(v controller.Visit) Visit {
	v.From, v.Until = v.From.UTC(), v.Until.UTC()
	v.EnteredAt, v.ExitedAt = v.EnteredAt.UTC(), v.ExitedAt.UTC()
	steps := make([]Step, len(v.Steps))
	for i, s := range v.Steps {
		steps[i] = Step{Step: s.Step, Action: s.Action, State: s.State, Actor: s.Actor,
			Started: s.Started.UTC(), At: s.At.UTC(), Standard: Duration(s.Standard), Note: s.Note,
			Timed: StepTimed(s.Step) && !s.At.IsZero()}
		if steps[i].Timed {
			steps[i].Took = Duration(s.At.Sub(s.Started))
		}
	}
	v.Steps = nil
	return Visit{Visit: v, Steps: steps}
}

func wireVisits(vs []controller.Visit) []Visit {
	out := make([]Visit, len(vs))
	for i, v := range vs {
		out[i] = wireVisit(v)
	}
	return out
}
