package alinea

import (
	"net/mail"
	"strings"
	"time"
)

// Role decides what a user may change.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleMarketing Role = "marketing"
	RoleSales     Role = "sales"
	RoleManager   Role = "manager"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleMarketing, RoleSales, RoleManager:
		return true
	}
	return false
}

// User is a person who signs in to Alinea.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Locale    string    `json:"locale"`
	CreatedAt time.Time `json:"created_at"`
	// DeactivatedAt is set while the user may not sign in or use API keys.
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DeactivatedAt == nil }

// NewUser is the input to create a user.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string
	Locale   string
}

// Validate normalises and checks a new user.
func (u *NewUser) Validate() error {
	fe := FieldErrors{}
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		fe.Add("email", err.Error())
	}
	u.Email = email
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		fe.Add("name", "is required")
	}
	if !u.Role.Valid() {
		fe.Add("role", "must be one of admin, marketing, sales, manager; got "+quote(string(u.Role)))
	}
	if len(u.Password) < 10 {
		fe.Add("password", "must be at least 10 characters")
	}
	if u.Locale == "" {
		u.Locale = "es"
	}
	if u.Locale != "es" && u.Locale != "en" {
		fe.Add("locale", "must be es or en")
	}
	return fe.Err("invalid user")
}

// APIKey is a secret bound to a user for the REST API; only its hash is stored.
type APIKey struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// WriteKey authorises event ingestion from one source (a site, an app).
type WriteKey struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NormalizeEmail lower-cases and trims an address and checks its syntax, so
// that uniqueness is case-insensitive.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", Errorf(EINVALID, "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return s, Errorf(EINVALID, "is not a valid email address: %s", quote(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") {
		return s, Errorf(EINVALID, "is not a valid email address: %s", quote(s))
	}
	return s, nil
}
