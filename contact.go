package alinea

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Consent says whether a contact agreed to receive marketing email.
type Consent string

const (
	ConsentUnknown Consent = "unknown"
	ConsentGranted Consent = "granted"
	ConsentDenied  Consent = "denied"
)

// Contact is a person moving through the shared funnel.
type Contact struct {
	ID             int64           `json:"id"`
	Email          string          `json:"email,omitempty"`
	ExternalID     string          `json:"external_id,omitempty"`
	FirstName      string          `json:"first_name,omitempty"`
	LastName       string          `json:"last_name,omitempty"`
	Phone          string          `json:"phone,omitempty"`
	JobTitle       string          `json:"job_title,omitempty"`
	AccountID      int64           `json:"account_id,omitempty"`
	Country        string          `json:"country,omitempty"`
	Source         string          `json:"source,omitempty"`
	OwnerID        int64           `json:"owner_id,omitempty"`
	Consent        Consent         `json:"consent"`
	Stage          Stage           `json:"stage"`
	Mode           Mode            `json:"mode"`
	StageChangedAt time.Time       `json:"stage_changed_at"`
	Properties     json.RawMessage `json:"properties"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// ContactFields are the writable fields of a contact. A nil field is left
// alone on update; on create, Email or ExternalID is required.
type ContactFields struct {
	Email      *string         `json:"email,omitempty"`
	ExternalID *string         `json:"external_id,omitempty"`
	FirstName  *string         `json:"first_name,omitempty"`
	LastName   *string         `json:"last_name,omitempty"`
	Phone      *string         `json:"phone,omitempty"`
	JobTitle   *string         `json:"job_title,omitempty"`
	AccountID  *int64          `json:"account_id,omitempty"`
	Country    *string         `json:"country,omitempty"`
	Source     *string         `json:"source,omitempty"`
	OwnerID    *int64          `json:"owner_id,omitempty"`
	Consent    *Consent        `json:"consent,omitempty"`
	Properties json.RawMessage `json:"properties,omitempty"`
	// Stage is only honoured on create (the first transition); later moves go
	// through transitions so that history is kept.
	Stage *Stage `json:"stage,omitempty"`
}

// Validate normalises the fields and reports every problem by field name.
func (f *ContactFields) Validate(creating bool) error {
	fe := FieldErrors{}
	if f.Email != nil {
		if *f.Email == "" && !creating {
			// Clearing an email is allowed only when the contact keeps an external id; the store checks.
		} else if email, err := NormalizeEmail(*f.Email); err != nil {
			fe.Add("email", err.Error())
		} else {
			f.Email = &email
		}
	}
	if creating && (f.Email == nil || *f.Email == "") && (f.ExternalID == nil || *f.ExternalID == "") {
		fe.Add("email", "is required (or external_id)")
	}
	trim := func(name string, p *string, max int) {
		if p == nil {
			return
		}
		*p = strings.TrimSpace(*p)
		if !utf8.ValidString(*p) {
			fe.Add(name, "is not valid UTF-8")
		} else if utf8.RuneCountInString(*p) > max {
			fe.Add(name, "is longer than "+itoa(max)+" characters")
		}
	}
	trim("external_id", f.ExternalID, 200)
	trim("first_name", f.FirstName, 200)
	trim("last_name", f.LastName, 200)
	trim("phone", f.Phone, 50)
	trim("job_title", f.JobTitle, 200)
	trim("source", f.Source, 200)
	if f.Phone != nil && *f.Phone != "" && !validPhone(*f.Phone) {
		fe.Add("phone", "may only contain digits, spaces and + ( ) - .")
	}
	if f.Country != nil {
		c := strings.ToUpper(strings.TrimSpace(*f.Country))
		if c != "" && !validCountry(c) {
			fe.Add("country", "must be an ISO 3166-1 alpha-2 code such as ES or MX; got "+quote(*f.Country))
		}
		f.Country = &c
	}
	if f.Consent != nil {
		switch *f.Consent {
		case ConsentUnknown, ConsentGranted, ConsentDenied:
		default:
			fe.Add("consent", "must be unknown, granted or denied")
		}
	}
	if f.AccountID != nil && *f.AccountID < 0 {
		fe.Add("account_id", "must be a positive id")
	}
	if f.OwnerID != nil && *f.OwnerID < 0 {
		fe.Add("owner_id", "must be a positive id")
	}
	if len(f.Properties) > 0 {
		if err := checkObject(f.Properties); err != "" {
			fe.Add("properties", err)
		}
	}
	if f.Stage != nil {
		if !creating {
			fe.Add("stage", "cannot be changed here; use POST /api/v1/contacts/{id}/transitions")
		} else if !f.Stage.Valid() {
			fe.Add("stage", "must be one of subscriber, lead, mql, sal, sql, opportunity, customer, evangelist, recycled, disqualified")
		} else if *f.Stage == StageRecycled || *f.Stage == StageDisqualified {
			fe.Add("stage", "a new contact cannot start as "+string(*f.Stage))
		}
	}
	return fe.Err("invalid contact")
}

// ContactFilter selects contacts for lists and exports. Results are ordered by
// id; After is the cursor (the last id seen). Before pages the other way:
// ids below it, highest first. Mode selects the stages of one mode; Grade is
// a grade under the active agreement, such as "A1".
type ContactFilter struct {
	Email        string
	Stage        Stage
	Mode         Mode
	OwnerID      int64
	AccountID    int64
	UpdatedSince time.Time
	Search       string
	Grade        string
	After        int64
	Before       int64
	Limit        int
}

// checkObject accepts exactly what unmarshalling into a map accepts, without
// building the map: imports validate a million of these.
func checkObject(raw json.RawMessage) string {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(raw) {
		return "must be a JSON object"
	}
	return ""
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +()-.", r):
		default:
			return false
		}
	}
	return digits >= 5
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// UpsertResult says what one import batch did. Index in a RowProblem is the
// position of the row in the batch that was passed in.
type UpsertResult struct {
	Created int
	Updated int
	// Rejected rows were not written (e.g. an external_id that belongs to
	// another contact); the rest of the batch was.
	Rejected []RowProblem
	// Warnings are about rows that were written, minus the part named.
	Warnings []RowProblem
}

// RowProblem is what went wrong with one row of a batch, by field.
type RowProblem struct {
	Index   int
	Field   string
	Message string
}
