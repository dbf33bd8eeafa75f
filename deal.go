package alinea

import (
	"strings"
	"time"
)

// DealStatus is whether a deal is still being worked.
type DealStatus string

const (
	DealOpen DealStatus = "open"
	DealWon  DealStatus = "won"
	DealLost DealStatus = "lost"
)

// PipelineStage is one configurable column of the deal pipeline.
type PipelineStage struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Position    int        `json:"position"`
	Probability int        `json:"probability"`
	Kind        DealStatus `json:"kind"`
}

// Deal is a sales opportunity with an amount in minor units (cents).
type Deal struct {
	ID            int64         `json:"id"`
	Name          string        `json:"name"`
	AccountID     int64         `json:"account_id,omitempty"`
	OwnerID       int64         `json:"owner_id,omitempty"`
	StageID       int64         `json:"stage_id"`
	Status        DealStatus    `json:"status"`
	Amount        int64         `json:"amount"`
	Currency      string        `json:"currency"`
	ExpectedClose string        `json:"expected_close,omitempty"`
	ClosedAt      *time.Time    `json:"closed_at,omitempty"`
	CloseReason   string        `json:"close_reason,omitempty"`
	Contacts      []DealContact `json:"contacts"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
}

// DealContact is a member of a deal's buying committee.
type DealContact struct {
	ContactID int64  `json:"contact_id"`
	Role      string `json:"role"`
}

// DealFields are the writable fields of a deal; nil means unchanged.
type DealFields struct {
	Name          *string        `json:"name,omitempty"`
	AccountID     *int64         `json:"account_id,omitempty"`
	OwnerID       *int64         `json:"owner_id,omitempty"`
	StageID       *int64         `json:"stage_id,omitempty"`
	Amount        *int64         `json:"amount,omitempty"`
	Currency      *string        `json:"currency,omitempty"`
	ExpectedClose *string        `json:"expected_close,omitempty"`
	Contacts      *[]DealContact `json:"contacts,omitempty"`
}

// Validate normalises the fields and reports every problem by field name.
func (f *DealFields) Validate(creating bool) error {
	fe := FieldErrors{}
	if f.Name != nil {
		n := strings.TrimSpace(*f.Name)
		f.Name = &n
	}
	if creating && (f.Name == nil || *f.Name == "") {
		fe.Add("name", "is required")
	}
	if f.Amount != nil && *f.Amount < 0 {
		fe.Add("amount", "must not be negative")
	}
	if f.Currency != nil {
		c := strings.ToUpper(strings.TrimSpace(*f.Currency))
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			fe.Add("currency", "must be an ISO 4217 code such as EUR or USD")
		}
		f.Currency = &c
	}
	if f.ExpectedClose != nil && *f.ExpectedClose != "" {
		if _, err := time.Parse("2006-01-02", *f.ExpectedClose); err != nil {
			fe.Add("expected_close", "must be a date as YYYY-MM-DD")
		}
	}
	if f.Contacts != nil {
		for i, c := range *f.Contacts {
			if c.ContactID <= 0 {
				fe.Add("contacts["+itoa(i)+"].contact_id", "is required")
			}
		}
	}
	return fe.Err("invalid deal")
}

// DealFilter selects deals; After is the id cursor.
type DealFilter struct {
	Status    DealStatus
	StageID   int64
	OwnerID   int64
	AccountID int64
	ContactID int64
	After     int64
	Limit     int
}

// DealMove moves a deal to another pipeline stage; moving into a won or lost
// stage closes it, and a lost deal needs a reason.
type DealMove struct {
	StageID int64
	Reason  string
	Actor   Actor
}

// DealStageChange is one entry of a deal's stage history.
type DealStageChange struct {
	ID          int64     `json:"id"`
	DealID      int64     `json:"deal_id"`
	FromStageID int64     `json:"from_stage_id,omitempty"`
	ToStageID   int64     `json:"to_stage_id"`
	At          time.Time `json:"at"`
	ActorUserID int64     `json:"actor_user_id,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}
