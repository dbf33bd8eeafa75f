package alinea

import (
	"encoding/json"
	"strings"
	"time"
)

// Account is a company that contacts belong to.
type Account struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Domain     string          `json:"domain,omitempty"`
	ExternalID string          `json:"external_id,omitempty"`
	Industry   string          `json:"industry,omitempty"`
	Employees  int             `json:"employees,omitempty"`
	Country    string          `json:"country,omitempty"`
	OwnerID    int64           `json:"owner_id,omitempty"`
	Properties json.RawMessage `json:"properties"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// AccountFields are the writable fields of an account; nil means unchanged.
type AccountFields struct {
	Name       *string         `json:"name,omitempty"`
	Domain     *string         `json:"domain,omitempty"`
	ExternalID *string         `json:"external_id,omitempty"`
	Industry   *string         `json:"industry,omitempty"`
	Employees  *int            `json:"employees,omitempty"`
	Country    *string         `json:"country,omitempty"`
	OwnerID    *int64          `json:"owner_id,omitempty"`
	Properties json.RawMessage `json:"properties,omitempty"`
}

// Validate normalises the fields and reports every problem by field name.
func (f *AccountFields) Validate(creating bool) error {
	fe := FieldErrors{}
	if f.Name != nil {
		n := strings.TrimSpace(*f.Name)
		f.Name = &n
	}
	if creating && (f.Name == nil || *f.Name == "") {
		fe.Add("name", "is required")
	}
	if f.Domain != nil {
		d, err := NormalizeDomain(*f.Domain)
		if err != nil {
			fe.Add("domain", err.Error())
		}
		f.Domain = &d
	}
	if f.Employees != nil && *f.Employees < 0 {
		fe.Add("employees", "must not be negative")
	}
	if f.Country != nil {
		c := strings.ToUpper(strings.TrimSpace(*f.Country))
		if c != "" && !validCountry(c) {
			fe.Add("country", "must be an ISO 3166-1 alpha-2 code such as ES or MX; got "+quote(*f.Country))
		}
		f.Country = &c
	}
	if len(f.Properties) > 0 {
		if err := checkObject(f.Properties); err != "" {
			fe.Add("properties", err)
		}
	}
	return fe.Err("invalid account")
}

// AccountFilter selects accounts. After pages upwards by id; Before pages
// downwards from an id (newest first).
type AccountFilter struct {
	Domain   string
	Search   string
	Industry string
	Country  string
	OwnerID  int64
	After    int64
	Before   int64
	Limit    int
}

// NormalizeDomain turns "https://www.Acme.es/about" into "acme.es".
func NormalizeDomain(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "www.")
	if !strings.Contains(s, ".") || strings.ContainsAny(s, " @:") {
		return s, Errorf(EINVALID, "is not a valid domain: %s", quote(s))
	}
	return s, nil
}
