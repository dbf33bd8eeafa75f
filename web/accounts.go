package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// accountsPerPage is the length of a page of the accounts list;
// accountContactsPerPage and accountDealsShown bound the account page.
const (
	accountsPerPage        = 50
	accountContactsPerPage = 25
	accountDealsShown      = 100
)

// industryName shows the usual industries (the demo's, and what imports
// mostly bring) in the reader's language; others are shown as written.
func industryName(l *locale, industry string) string {
	switch industry {
	case "software":
		return l.T("industry.software")
	case "retail":
		return l.T("industry.retail")
	case "manufacturing":
		return l.T("industry.manufacturing")
	case "logistics":
		return l.T("industry.logistics")
	case "healthcare":
		return l.T("industry.healthcare")
	case "education":
		return l.T("industry.education")
	case "finance":
		return l.T("industry.finance")
	case "hospitality":
		return l.T("industry.hospitality")
	case "food":
		return l.T("industry.food")
	case "construction":
		return l.T("industry.construction")
	}
	return industry
}

// accountsStore is what the accounts list reads.
type accountsStore interface {
	Accounts(ctx context.Context, f alinea.AccountFilter) ([]alinea.Account, int64, error)
	AccountTotals(ctx context.Context, ids []int64) (map[int64]store.AccountTotals, error)
	AccountFacets(ctx context.Context) (store.AccountFacets, error)
	Users(ctx context.Context) ([]alinea.User, error)
}

// accountList is the accounts list: search, filters and pages, newest
// accounts first. As on the contacts list, pages are cursors on the id and
// every filter has an index ending in id, so a page costs the same however
// many accounts there are.
type accountList struct {
	store accountsStore
	views *views
}

// accountFilters are the list's filters as they appear in the URL.
type accountFilters struct {
	Q, Industry, Country, Owner string
}

type accountsData struct {
	Filters    accountFilters
	Filtered   bool
	Industries []option
	Countries  []option
	Owners     []option
	Rows       []accountRow
	Newer      string
	Older      string
}

type accountRow struct {
	ID        int64
	Name      string
	Domain    string
	Industry  string
	Employees int
	Country   string
	Contacts  int64
	Open      string
}

func (h *accountList) list(w http.ResponseWriter, r *http.Request, v *visit) error {
	q := r.URL.Query()
	fs := accountFilters{Q: strings.TrimSpace(q.Get("q")), Industry: q.Get("industry"), Country: q.Get("country"), Owner: q.Get("owner")}
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
	filter.Limit = accountsPerPage
	ctx := r.Context()
	accounts, more, err := h.store.Accounts(ctx, filter)
	if err != nil {
		return err
	}
	if forward {
		slices.Reverse(accounts) // newest first either way
	}
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	totals, err := h.store.AccountTotals(ctx, ids)
	if err != nil {
		return err
	}
	facets, err := h.store.AccountFacets(ctx)
	if err != nil {
		return err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	l := v.Lang
	data := accountsData{Filters: fs, Filtered: fs != accountFilters{}}
	for _, a := range accounts {
		t := totals[a.ID]
		data.Rows = append(data.Rows, accountRow{ID: a.ID, Name: a.Name, Domain: a.Domain, Industry: industryName(l, a.Industry), Employees: a.Employees,
			Country: l.Country(a.Country), Contacts: t.Contacts, Open: amounts(l, t.Open)})
	}
	if len(accounts) > 0 {
		newest, oldest := accounts[0].ID, accounts[len(accounts)-1].ID
		if (forward && more != 0) || (!forward && before > 0) {
			data.Newer = fs.url("after", newest)
		}
		if (!forward && more != 0) || forward {
			data.Older = fs.url("before", oldest)
		}
	}
	data.Industries = []option{{Value: "", Label: l.T("accounts.any_industry")}}
	for _, ind := range facets.Industries {
		data.Industries = append(data.Industries, option{Value: ind, Label: industryName(l, ind), Selected: fs.Industry == ind})
	}
	data.Countries = []option{{Value: "", Label: l.T("accounts.any_country")}}
	for _, c := range facets.Countries {
		data.Countries = append(data.Countries, option{Value: c, Label: l.Country(c), Selected: strings.EqualFold(fs.Country, c)})
	}
	slices.SortStableFunc(data.Countries[1:], func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	data.Owners = []option{{Value: "", Label: l.T("accounts.any_owner")}}
	for _, u := range users {
		id := strconv.FormatInt(u.ID, 10)
		data.Owners = append(data.Owners, option{Value: id, Label: u.Name, Selected: fs.Owner == id})
	}
	return h.views.render(w, r, v, http.StatusOK, "accounts", l.T("accounts.title"), data)
}

// storeFilter checks the filters and turns them into the store's. A search
// typed as a web address looks for its domain ("https://www.acme.es/" finds
// acme.es).
func (fs accountFilters) storeFilter() (alinea.AccountFilter, error) {
	var f alinea.AccountFilter
	bad := alinea.FieldErrors{}
	if utf8.RuneCountInString(fs.Q) > 200 {
		bad.Add("q", "is longer than 200 characters")
	} else if d, err := alinea.NormalizeDomain(fs.Q); fs.Q != "" && err == nil && !strings.Contains(fs.Q, " ") {
		f.Search = d
	} else {
		f.Search = fs.Q
	}
	if utf8.RuneCountInString(fs.Industry) > 200 {
		bad.Add("industry", "is longer than 200 characters")
	}
	f.Industry = fs.Industry
	if fs.Country != "" {
		if len(fs.Country) != 2 {
			bad.Add("country", "is not a country code")
		}
		f.Country = strings.ToUpper(fs.Country)
	}
	if fs.Owner != "" {
		id, err := strconv.ParseInt(fs.Owner, 10, 64)
		if err != nil || id <= 0 {
			bad.Add("owner", "is not a user id")
		}
		f.OwnerID = id
	}
	return f, bad.Err("invalid account filters")
}

// url is the list with these filters at a cursor.
func (fs accountFilters) url(cursor string, id int64) string {
	q := url.Values{}
	for _, p := range [][2]string{{"q", fs.Q}, {"industry", fs.Industry}, {"country", fs.Country}, {"owner", fs.Owner}} {
		if p[1] != "" {
			q.Set(p[0], p[1])
		}
	}
	q.Set(cursor, strconv.FormatInt(id, 10))
	return "/accounts?" + q.Encode()
}

// amounts writes sums in several currencies, largest first (12.000 € · 5.000 US$).
func amounts(l *locale, as []store.Amount) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = l.Money(a.Minor, a.Currency)
	}
	return strings.Join(parts, " · ")
}

// accountStore is what the account page reads.
type accountStore interface {
	Account(ctx context.Context, id int64) (alinea.Account, error)
	AccountSummary(ctx context.Context, id int64) (store.AccountSummary, error)
	Contacts(ctx context.Context, f alinea.ContactFilter) ([]alinea.Contact, int64, error)
	ContactGrades(ctx context.Context, contactIDs []int64) (map[int64]string, error)
	Deals(ctx context.Context, f alinea.DealFilter) ([]alinea.Deal, int64, error)
	PipelineStages(ctx context.Context) ([]alinea.PipelineStage, error)
	Users(ctx context.Context) ([]alinea.User, error)
}

// accountPage shows one company: what is known about it, its people with
// their stages, and its deals, so both teams see the whole account.
type accountPage struct {
	store accountStore
	views *views
}

type accountData struct {
	ID       int64
	Name     string
	Initial  string
	Domain   string
	Website  string
	Industry string
	Owner    string
	Details  []detail
	Custom   []detail
	Summary  accountSummaryView
	Contacts []accountContactRow
	// ContactsNewer and ContactsOlder page through the contacts.
	ContactsNewer string
	ContactsOlder string
	Deals         []accountDealRow
	// DealsMore says how many deals the page leaves out.
	DealsMore int64
}

type accountSummaryView struct {
	Contacts  int64
	Stages    []stageCount
	Open      string
	OpenDeals int64
	Won       string
	WonDeals  int64
	LostDeals int64
}

// stageCount is one stage's share of the account's contacts; Width is the
// bar's length in percent of the largest stage.
type stageCount struct {
	Stage alinea.Stage
	Mode  alinea.Mode
	Count int64
	Width int
}

type accountContactRow struct {
	ID        int64
	Name      string
	Email     string
	JobTitle  string
	Stage     alinea.Stage
	Mode      alinea.Mode
	Owner     string
	Grade     string
	UpdatedAt time.Time
}

type accountDealRow struct {
	Name     string
	Stage    string
	Status   alinea.DealStatus
	Won      bool
	Amount   string
	Owner    string
	Expected string
	ClosedAt *time.Time
	Reason   string
}

func (h *accountPage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	l := v.Lang
	a, err := h.store.Account(ctx, id)
	if err != nil {
		return err
	}
	sum, err := h.store.AccountSummary(ctx, id)
	if err != nil {
		return err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	names := userNames(users)
	data := accountData{ID: a.ID, Name: a.Name, Domain: a.Domain, Industry: industryName(l, a.Industry), Owner: names[a.OwnerID]}
	if r, _ := utf8.DecodeRuneInString(a.Name); r != utf8.RuneError {
		data.Initial = strings.ToUpper(string(r))
	}
	if a.Domain != "" {
		data.Website = "https://" + a.Domain
	}
	data.Details = accountDetails(l, a, data.Owner)
	data.Custom = customProperties(l, a.Properties)
	data.Summary = summaryView(l, sum)

	if err := h.contacts(ctx, r, &data, names); err != nil {
		return err
	}
	if err := h.deals(ctx, l, &data, sum, names); err != nil {
		return err
	}
	return h.views.render(w, r, v, http.StatusOK, "account", a.Name, data)
}

func accountDetails(l *locale, a alinea.Account, owner string) []detail {
	var out []detail
	add := func(label, value string) {
		if value != "" {
			out = append(out, detail{Label: label, Value: value})
		}
	}
	add(l.T("account.domain"), a.Domain)
	add(l.T("account.industry"), industryName(l, a.Industry))
	if a.Employees > 0 {
		add(l.T("account.employees"), l.Int(int64(a.Employees)))
	}
	add(l.T("account.country"), l.Country(a.Country))
	add(l.T("account.owner"), owner)
	add(l.T("account.external_id"), a.ExternalID)
	add(l.T("account.created"), l.DateTime(a.CreatedAt))
	add(l.T("account.updated"), l.DateTime(a.UpdatedAt))
	return out
}

func summaryView(l *locale, sum store.AccountSummary) accountSummaryView {
	s := accountSummaryView{Contacts: sum.Contacts, Open: amounts(l, sum.Open), OpenDeals: sum.OpenDeals, Won: amounts(l, sum.Won),
		WonDeals: sum.WonDeals, LostDeals: sum.LostDeals}
	var most int64
	for _, n := range sum.Stages {
		most = max(most, n)
	}
	for _, st := range alinea.AllStages {
		n := sum.Stages[st]
		if n == 0 {
			continue
		}
		s.Stages = append(s.Stages, stageCount{Stage: st, Mode: st.Mode(), Count: n, Width: int(math.Ceil(float64(n) * 100 / float64(most)))})
	}
	return s
}

// contacts fills in a page of the account's contacts, newest first, with
// the same cursors as the contacts list (?before= and ?after=).
func (h *accountPage) contacts(ctx context.Context, r *http.Request, data *accountData, names map[int64]string) error {
	q := r.URL.Query()
	f := alinea.ContactFilter{AccountID: data.ID, Limit: accountContactsPerPage}
	after, before := cursorParam(q.Get("after")), cursorParam(q.Get("before"))
	forward := after > 0 && before == 0
	if forward {
		f.After = after
	} else {
		f.Before = math.MaxInt64
		if before > 0 {
			f.Before = before
		}
	}
	contacts, more, err := h.store.Contacts(ctx, f)
	if err != nil {
		return err
	}
	if forward {
		slices.Reverse(contacts)
	}
	ids := make([]int64, len(contacts))
	for i, c := range contacts {
		ids[i] = c.ID
	}
	grades, err := h.store.ContactGrades(ctx, ids)
	if err != nil {
		return err
	}
	for _, c := range contacts {
		data.Contacts = append(data.Contacts, accountContactRow{ID: c.ID, Name: displayName(c), Email: c.Email, JobTitle: c.JobTitle, Stage: c.Stage,
			Mode: c.Mode, Owner: names[c.OwnerID], Grade: grades[c.ID], UpdatedAt: c.UpdatedAt})
	}
	if len(contacts) > 0 {
		page := func(cursor string, id int64) string {
			return fmt.Sprintf("/accounts/%d?%s=%d#contacts", data.ID, cursor, id)
		}
		newest, oldest := contacts[0].ID, contacts[len(contacts)-1].ID
		if (forward && more != 0) || (!forward && before > 0) {
			data.ContactsNewer = page("after", newest)
		}
		if (!forward && more != 0) || forward {
			data.ContactsOlder = page("before", oldest)
		}
	}
	return nil
}

// deals lists the account's deals: open ones first, largest first, then
// the closed ones, latest first.
func (h *accountPage) deals(ctx context.Context, l *locale, data *accountData, sum store.AccountSummary, names map[int64]string) error {
	deals, _, err := h.store.Deals(ctx, alinea.DealFilter{AccountID: data.ID, Limit: accountDealsShown})
	if err != nil {
		return err
	}
	stages, err := h.store.PipelineStages(ctx)
	if err != nil {
		return err
	}
	stageName := map[int64]string{}
	for _, s := range stages {
		stageName[s.ID] = s.Name
	}
	slices.SortStableFunc(deals, func(a, b alinea.Deal) int {
		if (a.Status == alinea.DealOpen) != (b.Status == alinea.DealOpen) {
			if a.Status == alinea.DealOpen {
				return -1
			}
			return 1
		}
		if a.Status == alinea.DealOpen {
			return cmp.Compare(b.Amount, a.Amount)
		}
		var at, bt time.Time
		if a.ClosedAt != nil {
			at = *a.ClosedAt
		}
		if b.ClosedAt != nil {
			bt = *b.ClosedAt
		}
		return bt.Compare(at)
	})
	for _, d := range deals {
		row := accountDealRow{Name: d.Name, Stage: pipelineStageName(l, stageName[d.StageID]), Status: d.Status, Won: d.Status == alinea.DealWon, Amount: l.Money(d.Amount, d.Currency),
			Owner: names[d.OwnerID], ClosedAt: d.ClosedAt}
		if day, err := time.Parse(time.DateOnly, d.ExpectedClose); err == nil {
			row.Expected = l.Date(day)
		}
		if d.CloseReason != "" {
			row.Reason = reasonLabel(l, nil, d.CloseReason)
		}
		data.Deals = append(data.Deals, row)
	}
	if total := sum.OpenDeals + sum.WonDeals + sum.LostDeals; total > int64(len(deals)) {
		data.DealsMore = total - int64(len(deals))
	}
	return nil
}
