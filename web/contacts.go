package web

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// contactsPerPage is the length of a page of the contacts list.
const contactsPerPage = 50

// grades are the grades an agreement gives: fit A-D by engagement 1-4.
var grades = []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "D1", "D2", "D3", "D4"}

// contactsStore is what the contacts list reads.
type contactsStore interface {
	Contacts(ctx context.Context, f alinea.ContactFilter) ([]alinea.Contact, int64, error)
	Users(ctx context.Context) ([]alinea.User, error)
	AccountNames(ctx context.Context, ids []int64) (map[int64]string, error)
	ContactGrades(ctx context.Context, contactIDs []int64) (map[int64]string, error)
}

// contactList is the contacts list: search, filters and pages, newest
// contacts first. Pages are cursors on the contact id, so every page costs
// the same however many contacts there are, and nothing counts them all.
type contactList struct {
	store contactsStore
	views *views
}

// contactFilters are the list's filters as they appear in the URL. Since
// (updated_since, RFC 3339) keeps contacts created or updated from then
// on: an import's page links to the list with the time it began.
type contactFilters struct {
	Q, Stage, Mode, Owner, Grade, Since string
}

type option struct {
	Value, Label string
	Selected     bool
}

type contactsData struct {
	Filters  contactFilters
	Filtered bool
	// SinceText is Filters.Since written for the reader, "" without it.
	SinceText string
	Stages    []option
	Modes     []option
	Owners    []option
	Grades    []option
	Rows      []contactRow
	Newer     string
	Older     string
}

type contactRow struct {
	ID        int64
	Name      string
	Email     string
	JobTitle  string
	Company   string
	AccountID int64
	Stage     alinea.Stage
	Mode      alinea.Mode
	Owner     string
	Grade     string
	UpdatedAt time.Time
}

func (h *contactList) list(w http.ResponseWriter, r *http.Request, v *visit) error {
	q := r.URL.Query()
	fs := contactFilters{Q: strings.TrimSpace(q.Get("q")), Stage: q.Get("stage"), Mode: q.Get("mode"), Owner: q.Get("owner"), Grade: q.Get("grade"),
		Since: strings.TrimSpace(q.Get("updated_since"))}
	filter, err := fs.storeFilter()
	if err != nil {
		return err
	}
	after, before := cursorParam(q.Get("after")), cursorParam(q.Get("before"))
	forward := after > 0 && before == 0
	if forward {
		filter.After = after
	} else {
		filter.Before = math.MaxInt64
		if before > 0 {
			filter.Before = before
		}
	}
	filter.Limit = contactsPerPage
	contacts, more, err := h.store.Contacts(r.Context(), filter)
	if err != nil {
		return err
	}
	if forward {
		// Paging towards newer contacts reads upwards; the list shows the
		// newest first either way.
		slices.Reverse(contacts)
	}
	users, err := h.store.Users(r.Context())
	if err != nil {
		return err
	}
	data := contactsData{Filters: fs, Filtered: fs != contactFilters{}}
	if !filter.UpdatedSince.IsZero() {
		data.SinceText = v.Lang.DateTime(filter.UpdatedSince)
	}
	data.Rows, err = h.rows(r.Context(), contacts, userNames(users))
	if err != nil {
		return err
	}
	if len(contacts) > 0 {
		newest, oldest := contacts[0].ID, contacts[len(contacts)-1].ID
		if (forward && more != 0) || (!forward && before > 0) {
			data.Newer = fs.url("after", newest)
		}
		if (!forward && more != 0) || forward {
			data.Older = fs.url("before", oldest)
		}
	}
	data.Stages = []option{{Value: "", Label: v.Lang.T("contacts.any_stage")}}
	for _, s := range alinea.AllStages {
		data.Stages = append(data.Stages, option{Value: string(s), Label: stageName(v.Lang, s), Selected: fs.Stage == string(s)})
	}
	data.Modes = []option{{Value: "", Label: v.Lang.T("contacts.any_mode")}}
	for _, m := range []alinea.Mode{alinea.ModeInformation, alinea.ModeBuy, alinea.ModeCustomer, alinea.ModeClosed} {
		data.Modes = append(data.Modes, option{Value: string(m), Label: modeName(v.Lang, m), Selected: fs.Mode == string(m)})
	}
	data.Owners = []option{{Value: "", Label: v.Lang.T("contacts.any_owner")}}
	for _, u := range users {
		id := strconv.FormatInt(u.ID, 10)
		data.Owners = append(data.Owners, option{Value: id, Label: u.Name, Selected: fs.Owner == id})
	}
	data.Grades = []option{{Value: "", Label: v.Lang.T("contacts.any_grade")}}
	for _, g := range grades {
		data.Grades = append(data.Grades, option{Value: g, Label: g, Selected: fs.Grade == g})
	}
	return h.views.render(w, r, v, http.StatusOK, "contacts", v.Lang.T("contacts.title"), data)
}

// storeFilter checks the filters and turns them into the store's. A search
// that is a whole email address looks that address up, which the unique
// index answers at once; other searches match the words of names and
// emails by their beginnings (store.Contacts).
func (fs contactFilters) storeFilter() (alinea.ContactFilter, error) {
	var f alinea.ContactFilter
	bad := alinea.FieldErrors{}
	if utf8.RuneCountInString(fs.Q) > 200 {
		bad.Add("q", "is longer than 200 characters")
	} else if email, err := alinea.NormalizeEmail(fs.Q); fs.Q != "" && err == nil {
		f.Email = email
	} else {
		f.Search = fs.Q
	}
	if fs.Stage != "" {
		if !alinea.Stage(fs.Stage).Valid() {
			bad.Add("stage", "is not a lifecycle stage")
		}
		f.Stage = alinea.Stage(fs.Stage)
	}
	if fs.Mode != "" {
		if len(alinea.Mode(fs.Mode).Stages()) == 0 {
			bad.Add("mode", "is not a mode")
		}
		f.Mode = alinea.Mode(fs.Mode)
	}
	if fs.Owner != "" {
		id, err := strconv.ParseInt(fs.Owner, 10, 64)
		if err != nil || id <= 0 {
			bad.Add("owner", "is not a user id")
		}
		f.OwnerID = id
	}
	if fs.Grade != "" {
		if !slices.Contains(grades, fs.Grade) {
			bad.Add("grade", "is not a grade")
		}
		f.Grade = fs.Grade
	}
	if fs.Since != "" {
		t, err := time.Parse(time.RFC3339Nano, fs.Since)
		if err != nil {
			bad.Add("updated_since", "is not a date and time such as 2026-11-23T09:30:00Z")
		}
		f.UpdatedSince = t
	}
	return f, bad.Err("invalid contact filters")
}

// url is the list with these filters at a cursor.
func (fs contactFilters) url(cursor string, id int64) string {
	q := url.Values{}
	for _, p := range [][2]string{{"q", fs.Q}, {"stage", fs.Stage}, {"mode", fs.Mode}, {"owner", fs.Owner}, {"grade", fs.Grade}, {"updated_since", fs.Since}} {
		if p[1] != "" {
			q.Set(p[0], p[1])
		}
	}
	q.Set(cursor, strconv.FormatInt(id, 10))
	return "/contacts?" + q.Encode()
}

func cursorParam(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (h *contactList) rows(ctx context.Context, contacts []alinea.Contact, owners map[int64]string) ([]contactRow, error) {
	ids := make([]int64, len(contacts))
	accounts := make([]int64, len(contacts))
	for i, c := range contacts {
		ids[i], accounts[i] = c.ID, c.AccountID
	}
	companies, err := h.store.AccountNames(ctx, accounts)
	if err != nil {
		return nil, err
	}
	gradeOf, err := h.store.ContactGrades(ctx, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]contactRow, len(contacts))
	for i, c := range contacts {
		rows[i] = contactRow{ID: c.ID, Name: displayName(c), Email: c.Email, JobTitle: c.JobTitle, Company: companies[c.AccountID], AccountID: c.AccountID,
			Stage: c.Stage, Mode: c.Mode, Owner: owners[c.OwnerID], Grade: gradeOf[c.ID], UpdatedAt: c.UpdatedAt}
	}
	return rows, nil
}

// displayName is how a contact is called on a page: their name, else their
// email, else their external id.
func displayName(c alinea.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return c.ExternalID
}
