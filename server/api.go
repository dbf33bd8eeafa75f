package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// apiRoutes is the REST API's table of contents. Handlers without roles are
// open to every authenticated user; admin may always write.
func (s *Server) apiRoutes() {
	editors := []alinea.Role{alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager}
	sellers := []alinea.Role{alinea.RoleSales, alinea.RoleManager}
	managers := []alinea.Role{alinea.RoleManager}

	s.handle("GET /api/v1/openapi.json", s.openAPI)
	s.handle("GET /api/v1/me", s.authed(s.me))

	s.handle("GET /api/v1/contacts", s.authed(s.listContacts))
	s.handle("POST /api/v1/contacts", s.authed(s.createContact, editors...))
	s.handle("GET /api/v1/contacts/{id}", s.authed(s.getContact))
	s.handle("PATCH /api/v1/contacts/{id}", s.authed(s.updateContact, editors...))
	s.handle("DELETE /api/v1/contacts/{id}", s.authed(s.deleteContact, managers...))
	s.handle("POST /api/v1/contacts/{id}/transitions", s.authed(s.createTransition))
	s.handle("GET /api/v1/contacts/{id}/transitions", s.authed(s.listTransitions))
	s.handle("GET /api/v1/contacts/{id}/timeline", s.authed(s.contactTimeline))
	s.handle("POST /api/v1/contacts/{id}/notes", s.authed(s.createNote))
	s.handle("GET /api/v1/contacts/{id}/activity", s.authed(s.contactActivity))

	s.handle("GET /api/v1/accounts", s.authed(s.listAccounts))
	s.handle("POST /api/v1/accounts", s.authed(s.createAccount, editors...))
	s.handle("GET /api/v1/accounts/{id}", s.authed(s.getAccount))
	s.handle("PATCH /api/v1/accounts/{id}", s.authed(s.updateAccount, editors...))
	s.handle("DELETE /api/v1/accounts/{id}", s.authed(s.deleteAccount, managers...))

	s.handle("GET /api/v1/pipeline/stages", s.authed(s.listPipelineStages))
	s.handle("GET /api/v1/deals", s.authed(s.listDeals))
	s.handle("POST /api/v1/deals", s.authed(s.createDeal, sellers...))
	s.handle("GET /api/v1/deals/{id}", s.authed(s.getDeal))
	s.handle("PATCH /api/v1/deals/{id}", s.authed(s.updateDeal, sellers...))
	s.handle("DELETE /api/v1/deals/{id}", s.authed(s.deleteDeal, managers...))
	s.handle("POST /api/v1/deals/{id}/stage", s.authed(s.moveDeal, sellers...))
	s.handle("GET /api/v1/deals/{id}/history", s.authed(s.dealHistory))

	s.handle("GET /api/v1/events", s.authed(s.listEvents))

	// CSV imports run in the background; the status shows progress and
	// every bad row.
	s.handle("POST /api/v1/imports", s.authed(s.createImport, editors...))
	s.handle("GET /api/v1/imports/{id}", s.authed(s.getImport))

	// The revenue agreement. Any user may sign: the store decides for which
	// team and refuses roles that cannot sign.
	s.handle("GET /api/v1/agreements", s.authed(s.listAgreements))
	s.handle("POST /api/v1/agreements", s.authed(s.createAgreement, editors...))
	s.handle("POST /api/v1/agreements/validate", s.authed(s.validateAgreement, editors...))
	s.handle("GET /api/v1/agreements/active", s.authed(s.activeAgreement))
	s.handle("GET /api/v1/agreements/{id}", s.authed(s.getAgreement))
	s.handle("PUT /api/v1/agreements/{id}", s.authed(s.updateAgreement, editors...))
	s.handle("POST /api/v1/agreements/{id}/propose", s.authed(s.proposeAgreement, editors...))
	s.handle("POST /api/v1/agreements/{id}/sign", s.authed(s.signAgreement))
	s.handle("POST /api/v1/agreements/{id}/activate", s.authed(s.activateAgreement, editors...))
	s.handle("GET /api/v1/agreements/{id}/reevaluation", s.authed(s.agreementReevaluation))
	s.handle("GET /api/v1/agreements/{id}/audit", s.authed(s.agreementAudit))
	s.handle("GET /api/v1/agreements/{id}/diff", s.authed(s.diffAgreement))
	s.handle("POST /api/v1/agreements/{id}/backtest", s.authed(s.backtestAgreement, editors...))
	s.handle("GET /api/v1/contacts/{id}/score", s.authed(s.contactScore))
	s.handle("GET /api/v1/goals/{period}", s.authed(s.goalPlan))

	// Notification webhooks and the delivery log (api_webhooks.go).
	s.webhookRoutes()

	// The handoff: routed MQLs, accept/reject, reps' settings, SLA report.
	s.handle("GET /api/v1/handoffs", s.authed(s.listHandoffs))
	s.handle("GET /api/v1/handoffs/{id}", s.authed(s.getHandoff))
	s.handle("POST /api/v1/handoffs/{id}/accept", s.authed(s.acceptHandoff, sellers...))
	s.handle("POST /api/v1/handoffs/{id}/reject", s.authed(s.rejectHandoff, sellers...))
	s.handle("GET /api/v1/reps", s.authed(s.listReps))
	s.handle("PUT /api/v1/reps/{id}", s.authed(s.updateRep, managers...))
	s.handle("POST /api/v1/reps/{id}/absences", s.authed(s.createAbsence, sellers...))
	s.handle("DELETE /api/v1/absences/{id}", s.authed(s.deleteAbsence, sellers...))
	s.handle("GET /api/v1/reports/sla/{period}", s.authed(s.slaReport))
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, userFrom(r.Context()))
	return nil
}

// list is the shape of every list response. NextCursor is null on the last
// page; otherwise it is passed back as ?cursor= for the next one.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](data []T, next int64) list[T] {
	if data == nil {
		data = []T{}
	}
	l := list[T]{Data: data}
	if next != 0 {
		c := encodeCursor(next)
		l.NextCursor = &c
	}
	return l
}

// items wraps an unpaged collection so that every collection is {"data": [...]}.
func items[T any](data []T) map[string][]T {
	if data == nil {
		data = []T{}
	}
	return map[string][]T{"data": data}
}

// Cursors are opaque to clients so that the paging key can change without
// breaking them; today they wrap the last id seen.
const cursorPrefix = "id:"

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}

// pathID parses the {id} path segment.
func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid id in path", Fields: map[string]string{"id": fmt.Sprintf("must be a positive integer; got %q", v)}}
	}
	return id, nil
}

// query reads query parameters, collecting a problem per bad parameter so
// that one response names all of them. Parameters a handler does not know
// are rejected: a misspelt filter must not silently return everything.
type query struct {
	values url.Values
	fe     alinea.FieldErrors
}

func newQuery(r *http.Request, known ...string) *query {
	q := &query{values: r.URL.Query(), fe: alinea.FieldErrors{}}
	for name, vs := range q.values {
		if !slices.Contains(known, name) {
			q.fe.Add(name, "is not a known query parameter; known: "+strings.Join(known, ", "))
		} else if len(vs) > 1 {
			q.fe.Add(name, "is given more than once")
		}
	}
	return q
}

func (q *query) str(name string, maxLen int) string {
	v := strings.TrimSpace(q.values.Get(name))
	if len(v) > maxLen {
		q.fe.Add(name, fmt.Sprintf("is longer than %d bytes", maxLen))
		return ""
	}
	return v
}

func (q *query) id(name string) int64 {
	v := q.values.Get(name)
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		q.fe.Add(name, fmt.Sprintf("must be a positive integer id; got %q", v))
		return 0
	}
	return id
}

func (q *query) time(name string) time.Time {
	v := q.values.Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.fe.Add(name, fmt.Sprintf("must be an RFC 3339 time such as 2025-01-31T09:00:00Z; got %q", v))
		return time.Time{}
	}
	return t
}

// limit reads ?limit=, 0 meaning the store's default.
func (q *query) limit(maxN int) int {
	v := q.values.Get("limit")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxN {
		q.fe.Add("limit", fmt.Sprintf("must be an integer from 1 to %d; got %q", maxN, v))
		return 0
	}
	return n
}

func (q *query) cursor() int64 {
	v := q.values.Get("cursor")
	if v == "" {
		return 0
	}
	id, ok := decodeCursor(v)
	if !ok {
		q.fe.Add("cursor", "is not a cursor returned by this API; pass next_cursor from the previous page")
	}
	return id
}

func (q *query) err() error {
	return q.fe.Err("invalid query parameters")
}
