package alinea

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// HandoffStatus is where a handoff of a lead from marketing to sales stands.
type HandoffStatus string

const (
	// HandoffOpen waits for the rep (or, in the fallback queue, anyone in
	// sales) to accept or reject it.
	HandoffOpen     HandoffStatus = "open"
	HandoffAccepted HandoffStatus = "accepted"
	// HandoffRejected sent the lead back to marketing (recycled) with a reason.
	HandoffRejected HandoffStatus = "rejected"
	// HandoffClosed ended without a decision: the contact left the
	// handoff stages some other way (disqualified, moved by hand).
	HandoffClosed HandoffStatus = "closed"
)

// Handoff is one assignment of a contact to a sales rep, or to the fallback
// queue when no rep could take it, with the explanation and its outcome.
type Handoff struct {
	ID           int64           `json:"id"`
	ContactID    int64           `json:"contact_id"`
	ContactName  string          `json:"contact_name"`
	ContactEmail string          `json:"contact_email"`
	Company      string          `json:"company,omitempty"`
	Stage        Stage           `json:"stage"`
	OwnerID      int64           `json:"owner_id,omitempty"`
	OwnerName    string          `json:"owner_name,omitempty"`
	Queue        string          `json:"queue,omitempty"`
	Rule         string          `json:"rule,omitempty"`
	Why          json.RawMessage `json:"why"`
	Version      int64           `json:"agreement_version,omitempty"`
	Status       HandoffStatus   `json:"status"`
	AssignedAt   time.Time       `json:"assigned_at"`
	DecidedAt    *time.Time      `json:"decided_at,omitempty"`
	DecidedBy    int64           `json:"decided_by,omitempty"`
	ReasonCode   string          `json:"reason_code,omitempty"`
	Comment      string          `json:"comment,omitempty"`
	Clocks       []SLAClock      `json:"clocks"`
}

// ClockStatus is where an SLA clock stands.
type ClockStatus string

const (
	ClockRunning   ClockStatus = "running"
	ClockMet       ClockStatus = "met"
	ClockBreached  ClockStatus = "breached"
	ClockCancelled ClockStatus = "cancelled"
)

// SLAClock measures one SLA term of the agreement for one handoff.
type SLAClock struct {
	ID        int64       `json:"id"`
	Term      string      `json:"term"`
	Kind      string      `json:"kind"`
	OwnerID   int64       `json:"owner_id,omitempty"`
	StartedAt time.Time   `json:"started_at"`
	Deadline  time.Time   `json:"deadline"`
	Target    int         `json:"target"`
	Done      int         `json:"done"`
	Status    ClockStatus `json:"status"`
	// StoppedAt is when the awaited thing happened (acceptance, first
	// touch), recorded even after a breach.
	StoppedAt   *time.Time `json:"stopped_at,omitempty"`
	BreachedAt  *time.Time `json:"breached_at,omitempty"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	// ElapsedBusinessSeconds is the business time from start to stop.
	ElapsedBusinessSeconds *int64 `json:"elapsed_business_seconds,omitempty"`
}

// HandoffFilter selects handoffs; zero fields select everything.
type HandoffFilter struct {
	Status    HandoffStatus
	OwnerID   int64
	Queue     string
	ContactID int64
	// Cursor is the last id of the previous page (newest first).
	Cursor int64
	Limit  int
}

// HandoffDecision is a rep's answer to a handoff.
type HandoffDecision struct {
	// Reason is one of the active agreement's rejection reason codes;
	// required to reject.
	Reason  string `json:"reason"`
	Comment string `json:"comment"`
}

// MaxHandoffComment bounds a rejection comment.
const MaxHandoffComment = 2000

// Rep is a user's routing settings: how many open MQLs they may hold (0
// means no limit), whose their manager is, when they are away.
type Rep struct {
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	Capacity  int       `json:"capacity"`
	ManagerID int64     `json:"manager_id,omitempty"`
	Open      int       `json:"open"`
	Absences  []Absence `json:"absences"`
}

// Absence is a span of days (inclusive, YYYY-MM-DD in the agreement's time
// zone) a rep is out of office and receives no new leads.
type Absence struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"user_id"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
	Note     string `json:"note,omitempty"`
}

// Validate checks an absence's dates.
func (a Absence) Validate() error {
	fe := FieldErrors{}
	from, err1 := time.Parse(time.DateOnly, a.StartsOn)
	to, err2 := time.Parse(time.DateOnly, a.EndsOn)
	if err1 != nil {
		fe["starts_on"] = "must be a date YYYY-MM-DD"
	}
	if err2 != nil {
		fe["ends_on"] = "must be a date YYYY-MM-DD"
	}
	if err1 == nil && err2 == nil && to.Before(from) {
		fe["ends_on"] = "must not be before starts_on"
	}
	if utf8.RuneCountInString(a.Note) > 500 {
		fe["note"] = "must be at most 500 characters"
	}
	return fe.Err("invalid absence")
}
