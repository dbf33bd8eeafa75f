package alinea

import (
	"encoding/json"
	"time"
)

// Stage is a lifecycle stage of the shared funnel (DESIGN.md section 2).
type Stage string

// The funnel, in order, then the two side states.
const (
	StageSubscriber   Stage = "subscriber"
	StageLead         Stage = "lead"
	StageMQL          Stage = "mql"
	StageSAL          Stage = "sal"
	StageSQL          Stage = "sql"
	StageOpportunity  Stage = "opportunity"
	StageCustomer     Stage = "customer"
	StageEvangelist   Stage = "evangelist"
	StageRecycled     Stage = "recycled"
	StageDisqualified Stage = "disqualified"
)

// FunnelStages lists the ordered stages, first to last.
var FunnelStages = []Stage{StageSubscriber, StageLead, StageMQL, StageSAL, StageSQL, StageOpportunity, StageCustomer, StageEvangelist}

// AllStages lists every stage, the side states last.
var AllStages = append(append([]Stage{}, FunnelStages...), StageRecycled, StageDisqualified)

// Rank is the position of an ordered stage (0 for subscriber), or -1 for a
// side state or an unknown stage.
func (s Stage) Rank() int {
	for i, f := range FunnelStages {
		if f == s {
			return i
		}
	}
	return -1
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	return s.Rank() >= 0 || s == StageRecycled || s == StageDisqualified
}

// ParseStage validates a stage name.
func ParseStage(v string) (Stage, error) {
	s := Stage(v)
	if !s.Valid() {
		return "", &Error{Code: EINVALID, Message: "unknown lifecycle stage", Fields: map[string]string{"stage": "must be one of subscriber, lead, mql, sal, sql, opportunity, customer, evangelist, recycled, disqualified; got " + quote(v)}}
	}
	return s, nil
}

// Mode is derived from the stage: who owns the contact and what it needs.
type Mode string

const (
	ModeInformation Mode = "information"
	ModeBuy         Mode = "buy"
	ModeCustomer    Mode = "customer"
	ModeClosed      Mode = "disqualified"
)

// Mode returns the mode of a stage (seed 004: information vs buy mode).
func (s Stage) Mode() Mode {
	switch s {
	case StageSAL, StageSQL, StageOpportunity:
		return ModeBuy
	case StageCustomer, StageEvangelist:
		return ModeCustomer
	case StageDisqualified:
		return ModeClosed
	default:
		return ModeInformation
	}
}

// Stages returns the stages of a mode, in funnel order.
func (m Mode) Stages() []Stage {
	var out []Stage
	for _, s := range AllStages {
		if s.Mode() == m {
			out = append(out, s)
		}
	}
	return out
}

// ActorType says who made a change.
type ActorType string

const (
	ActorUser   ActorType = "user"
	ActorRule   ActorType = "rule"
	ActorAPI    ActorType = "api"
	ActorImport ActorType = "import"
	ActorSystem ActorType = "system"
)

// Actor is who made a change: a user (through UI or API key), a rule, the
// importer or the system itself.
type Actor struct {
	Type   ActorType `json:"type"`
	UserID int64     `json:"user_id,omitempty"`
	Role   Role      `json:"-"`
}

// Transition is one recorded move of a contact through the funnel. Transitions
// are never updated: reports are computed from this history.
type Transition struct {
	ID               int64           `json:"id"`
	ContactID        int64           `json:"contact_id"`
	From             Stage           `json:"from"`
	To               Stage           `json:"to"`
	At               time.Time       `json:"at"`
	Actor            Actor           `json:"actor"`
	AgreementVersion int64           `json:"agreement_version,omitempty"`
	Reason           string          `json:"reason,omitempty"`
	Why              json.RawMessage `json:"why,omitempty"`
}

// TransitionRequest asks to move a contact to another stage.
type TransitionRequest struct {
	To               Stage
	Reason           string
	Why              json.RawMessage
	Actor            Actor
	AgreementVersion int64
}

// CheckTransition enforces the funnel's rules: forward moves (skipping is
// fine) need nothing; going backwards is only possible through recycled or
// disqualified, and those always need a reason; leaving a side state for the
// funnel again (re-qualifying) is allowed.
func CheckTransition(from, to Stage, reason string) error {
	if !to.Valid() {
		_, err := ParseStage(string(to))
		return err
	}
	if from == to {
		return &Error{Code: ECONFLICT, Message: "contact is already in stage " + string(to), Fields: map[string]string{"to": "equals the current stage"}}
	}
	if to == StageRecycled || to == StageDisqualified {
		if reason == "" {
			return &Error{Code: EINVALID, Message: "moving a contact to " + string(to) + " needs a reason", Fields: map[string]string{"reason": "is required when moving to " + string(to)}}
		}
		return nil
	}
	if from == "" || from == StageRecycled || from == StageDisqualified {
		return nil
	}
	if to.Rank() < from.Rank() {
		return &Error{Code: EINVALID, Message: "a contact cannot move backwards from " + string(from) + " to " + string(to), Fields: map[string]string{"to": "is behind " + string(from) + "; send the contact back through recycled or disqualified with a reason"}}
	}
	return nil
}

// CanMoveTo says whether a role may move contacts into a stage by hand:
// marketing owns information mode, sales owns buy mode and the close, and
// sales sends leads back (recycled) when rejecting them.
func CanMoveTo(role Role, to Stage) bool {
	switch role {
	case RoleAdmin, RoleManager:
		return true
	case RoleMarketing:
		return to.Mode() == ModeInformation || to == StageDisqualified
	case RoleSales:
		return to != StageSubscriber && to != StageLead
	}
	return false
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
