package agreement

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/alinea-crm/alinea"
)

// Status is where a version is in its lifecycle:
// draft -> proposed (immutable from here) -> active -> superseded.
type Status string

const (
	StatusDraft      Status = "draft"
	StatusProposed   Status = "proposed"
	StatusActive     Status = "active"
	StatusSuperseded Status = "superseded"
)

// Version is one stored version of the agreement.
type Version struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Status      Status      `json:"status"`
	Document    Document    `json:"document"`
	Source      string      `json:"source"`
	BasedOn     int64       `json:"based_on,omitempty"`
	CreatedBy   int64       `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	ProposedAt  *time.Time  `json:"proposed_at,omitempty"`
	ActivatedAt *time.Time  `json:"activated_at,omitempty"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one team lead's sign-off on a proposed version.
type Signature struct {
	UserID   int64     `json:"user_id"`
	UserName string    `json:"user_name"`
	Team     string    `json:"team"` // marketing or sales
	SignedAt time.Time `json:"signed_at"`
}

// SignedBy reports whether the team has signed.
func (v Version) SignedBy(team string) bool {
	for _, s := range v.Signatures {
		if s.Team == team {
			return true
		}
	}
	return false
}

// AuditEntry records one step in a version's life.
type AuditEntry struct {
	ID        int64     `json:"id"`
	VersionID int64     `json:"version_id"`
	Action    string    `json:"action"`
	UserID    int64     `json:"user_id,omitempty"`
	At        time.Time `json:"at"`
	Detail    string    `json:"detail,omitempty"`
}

// Change is one field that differs between two versions.
type Change struct {
	Path string `json:"path"`
	From any    `json:"from,omitempty"`
	To   any    `json:"to,omitempty"`
}

// Diff compares two documents field by field. Lists of named items (rules,
// reasons, SLAs, playbooks, goals) are matched by name so that reordering
// is not reported as a change of every item.
func Diff(a, b Document) []Change {
	fa, fb := flatten(a), flatten(b)
	var out []Change
	for p, va := range fa {
		vb, ok := fb[p]
		if !ok {
			out = append(out, Change{Path: p, From: va})
		} else if !reflect.DeepEqual(va, vb) {
			out = append(out, Change{Path: p, From: va, To: vb})
		}
	}
	for p, vb := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, Change{Path: p, To: vb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten turns a document into path -> scalar, keying named list items by
// their name ("scoring.fit[target_country].points").
func flatten(d Document) map[string]any {
	raw, _ := json.Marshal(d)
	var v any
	_ = json.Unmarshal(raw, &v)
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, child)
			}
		case []any:
			for i, child := range x {
				key := fmt.Sprint(i)
				if m, ok := child.(map[string]any); ok {
					for _, idField := range []string{"name", "code", "period"} {
						if id, ok := m[idField].(string); ok && id != "" {
							key = id
							break
						}
					}
				}
				walk(fmt.Sprintf("%s[%s]", prefix, key), child)
			}
		default:
			out[prefix] = x
		}
	}
	walk("", v)
	return out
}

// SigningTeam is the team a role signs the agreement for: marketing (an
// admin may sign as the marketing lead) or sales; "" for a role that cannot
// sign. The store enforces it and the UI shows the matching button.
func SigningTeam(role alinea.Role) string {
	switch role {
	case alinea.RoleMarketing, alinea.RoleAdmin:
		return "marketing"
	case alinea.RoleSales:
		return "sales"
	}
	return ""
}
