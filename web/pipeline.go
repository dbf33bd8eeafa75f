package web

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

const (
	// closedWindow is how far back the won and lost columns look.
	closedWindow = 90 * 24 * time.Hour
	// cardsPerColumn bounds the cards a column shows, so that a large
	// pipeline still renders quickly; its count and totals cover every deal.
	cardsPerColumn = 100
	// closedCards is how many of the latest won (or lost) deals a closed
	// column shows as cards; its reasons and totals cover the 90 days.
	closedCards = 8
	// topReasons is how many reasons a closed column lists.
	topReasons = 4
	// dealsPage is the page size the board reads open deals in.
	dealsPage = 1000
	// fragmentHeader marks a request from pipeline.js that wants only the
	// board back, and the answer that is one.
	fragmentHeader = "X-Alinea-Fragment"
)

// lossReasons are the usual reasons a deal is lost, offered as choices
// when a deal moves to a lost stage (reason.<code> in the catalogs).
var lossReasons = []string{"price", "competitor", "timing", "no_decision", "no_budget"}

// pipelineStore is what the pipeline board reads and writes.
type pipelineStore interface {
	PipelineStages(ctx context.Context) ([]alinea.PipelineStage, error)
	Deals(ctx context.Context, f alinea.DealFilter) ([]alinea.Deal, int64, error)
	ClosedDealsSince(ctx context.Context, status alinea.DealStatus, since time.Time, ownerID int64) ([]alinea.Deal, error)
	Deal(ctx context.Context, id int64) (alinea.Deal, error)
	MoveDeal(ctx context.Context, id int64, m alinea.DealMove) (alinea.Deal, error)
	Users(ctx context.Context) ([]alinea.User, error)
	AccountNames(ctx context.Context, ids []int64) (map[int64]string, error)
	Contact(ctx context.Context, id int64) (alinea.Contact, error)
}

// pipelinePage is the board of deals by stage. Sales, managers and admins
// move deals on it (drag and drop or the keyboard with pipeline.js, a form
// on each card without it); marketing reads it.
type pipelinePage struct {
	store pipelineStore
	views *views
	now   func() time.Time
}

type boardData struct {
	CanMove bool
	// Owner is the owner filter as the URL writes it: mine, all or a user id.
	Owner  string
	Owners []option
	// Columns are the open stages, then the won and lost ones.
	Columns   []boardColumn
	Stages    []stageChoice
	Reasons   []option
	OpenCount int
	LateCount int
	Total     []moneyTotal
	Weighted  []moneyTotal
	Notice    string
	Error     string
	// ErrorDeal is the card whose form comes back with Error and what was
	// typed in it.
	ErrorDeal int64
	Form      moveForm
}

// boardColumn is one pipeline stage: its deals (open stages) or the deals
// closed in it during the last 90 days (won and lost stages).
type boardColumn struct {
	ID          int64
	Name        string
	Kind        alinea.DealStatus
	Probability string
	Count       int
	Totals      []moneyTotal
	Weighted    []moneyTotal
	Cards       []dealCard
	Hidden      int
	// Reasons are the most frequent reasons in a closed column.
	Reasons []reasonCount
}

type reasonCount struct {
	Label string
	Count int
}

// moneyTotal is a sum in one currency: amounts in different currencies are
// never added together.
type moneyTotal struct {
	Currency string
	Minor    int64
	Text     string
}

type dealCard struct {
	ID        int64
	Name      string
	StageID   int64
	AccountID int64
	Account   string
	ContactID int64
	Contact   string
	Owner     string
	Amount    string
	Close     string
	CloseISO  string
	Late      bool
	Closed    string
	Reason    string
}

type stageChoice struct {
	ID   int64
	Name string
	Kind alinea.DealStatus
}

// moveForm is what was typed in a card's move form.
type moveForm struct {
	Stage, ReasonCode, Reason string
}

// canMoveDeals says whether a role may move deals, as the API's
// POST /deals/{id}/stage allows.
func canMoveDeals(r alinea.Role) bool {
	return r == alinea.RoleSales || r == alinea.RoleManager || r == alinea.RoleAdmin
}

func (h *pipelinePage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	data, err := h.board(r.Context(), v, r.URL.Query().Get("owner"))
	if err != nil {
		return err
	}
	if moved := cursorParam(r.URL.Query().Get("moved")); moved > 0 {
		if d, err := h.store.Deal(r.Context(), moved); err == nil {
			data.Notice = h.movedNotice(r.Context(), v.Lang, d)
		}
	}
	return h.views.render(w, r, v, http.StatusOK, "pipeline", v.Lang.T("pipeline.title"), data)
}

// move moves a deal to the stage a form names. pipeline.js asks for the
// board back (fragmentHeader) and swaps it in; a plain form is sent back
// to the board. A refused move changes nothing and says why, next to the
// card's form.
func (h *pipelinePage) move(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	l := v.Lang
	id, err := pathID(r)
	if err != nil {
		return err
	}
	partial := r.Header.Get(fragmentHeader) == "board"
	owner := r.PostForm.Get("owner")
	if _, _, err := ownerFilter(owner, v.User); err != nil {
		owner = "" // a mangled filter must not cost the move
	}
	form := moveForm{Stage: r.PostForm.Get("stage"), ReasonCode: r.PostForm.Get("reason_code"), Reason: r.PostForm.Get("reason")}
	refuse := func(status int, msg string) error {
		data, err := h.board(ctx, v, owner)
		if err != nil {
			return err
		}
		data.Error, data.ErrorDeal, data.Form = msg, id, form
		return h.answer(w, r, v, status, partial, data)
	}

	if !canMoveDeals(v.User.Role) {
		return refuse(http.StatusForbidden, l.T("pipeline.error_forbidden", roleName(l, v.User.Role)))
	}
	deal, err := h.store.Deal(ctx, id)
	if alinea.ErrorCode(err) == alinea.ENOTFOUND {
		return refuse(http.StatusNotFound, l.T("pipeline.error_no_deal"))
	}
	if err != nil {
		return err
	}
	stages, err := h.store.PipelineStages(ctx)
	if err != nil {
		return err
	}
	if strings.TrimSpace(form.Stage) == "" {
		return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_choose", deal.Name))
	}
	stageID, err := strconv.ParseInt(strings.TrimSpace(form.Stage), 10, 64)
	i := slices.IndexFunc(stages, func(s alinea.PipelineStage) bool { return s.ID == stageID })
	if err != nil || i < 0 {
		return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_unknown_stage"))
	}
	to := stages[i]
	toName := pipelineStageName(l, to.Name)
	reason := strings.TrimSpace(form.Reason)
	if to.Kind == alinea.DealLost && slices.Contains(lossReasons, form.ReasonCode) {
		// A listed reason is stored as its code, so every language names
		// it; the text is for reasons the list lacks.
		reason = form.ReasonCode
	}
	switch {
	case deal.StageID == to.ID:
		return refuse(http.StatusConflict, l.T("pipeline.error_same", deal.Name, toName))
	case utf8.RuneCountInString(reason) > maxReason:
		return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_reason_too_long", maxReason))
	case to.Kind == alinea.DealLost && reason == "":
		return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_reason_required", deal.Name, toName))
	}
	moved, err := h.store.MoveDeal(ctx, id, alinea.DealMove{StageID: to.ID, Reason: reason,
		Actor: alinea.Actor{Type: alinea.ActorUser, UserID: v.User.ID, Role: v.User.Role}})
	if err != nil {
		// Someone else may have moved or deleted the deal since the board
		// was drawn; the store has the last word.
		switch alinea.ErrorCode(err) {
		case alinea.ECONFLICT:
			return refuse(http.StatusConflict, l.T("pipeline.error_same", deal.Name, toName))
		case alinea.ENOTFOUND:
			return refuse(http.StatusNotFound, l.T("pipeline.error_no_deal"))
		case alinea.EFORBIDDEN:
			return refuse(http.StatusForbidden, l.T("pipeline.error_forbidden", roleName(l, v.User.Role)))
		case alinea.EINVALID:
			if alinea.ErrorFields(err)["reason"] != "" {
				return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_reason_required", deal.Name, toName))
			}
			return refuse(http.StatusUnprocessableEntity, l.T("pipeline.error_unknown_stage"))
		}
		return err
	}
	if !partial {
		http.Redirect(w, r, boardURL(owner, url.Values{"moved": {strconv.FormatInt(id, 10)}})+"#deal-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	}
	data, err := h.board(ctx, v, owner)
	if err != nil {
		return err
	}
	data.Notice = h.movedNotice(ctx, l, moved)
	return h.answer(w, r, v, http.StatusOK, true, data)
}

// movedNotice says where a deal is now.
func (h *pipelinePage) movedNotice(ctx context.Context, l *locale, d alinea.Deal) string {
	stages, err := h.store.PipelineStages(ctx)
	if err != nil {
		return ""
	}
	for _, s := range stages {
		if s.ID == d.StageID {
			return l.T("pipeline.moved", d.Name, pipelineStageName(l, s.Name))
		}
	}
	return ""
}

// boardURL is the board with an owner filter and more parameters.
func boardURL(owner string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	if owner != "" {
		q.Set("owner", owner)
	}
	if len(q) == 0 {
		return "/pipeline"
	}
	return "/pipeline?" + q.Encode()
}

// answer writes the board after a move: the whole page for a form, or
// only the board for pipeline.js.
func (h *pipelinePage) answer(w http.ResponseWriter, r *http.Request, v *visit, status int, partial bool, data boardData) error {
	if !partial {
		// The page stands for the board it shows: the language switch and
		// the navigation lead back to it, not to the form's address.
		page := r.Clone(r.Context())
		page.URL = &url.URL{Path: "/pipeline", RawQuery: url.Values{"owner": {data.Owner}}.Encode()}
		return h.views.render(w, page, v, status, "pipeline", v.Lang.T("pipeline.title"), data)
	}
	t := h.views.sets[v.Lang.Code]["pipeline"]
	if t == nil {
		return fmt.Errorf("no template %q", "pipeline")
	}
	var buf bytes.Buffer
	f := frame{Lang: v.Lang, User: v.User, CSRF: v.CSRF}
	if err := t.ExecuteTemplate(&buf, "pipeline-board", pageData{Frame: f, Page: data}); err != nil {
		return fmt.Errorf("render pipeline board: %w", err)
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", v.Lang.Code)
	hd.Set("Cache-Control", "no-store")
	hd.Set(fragmentHeader, "board")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// ownerFilter reads the owner filter: sales reps see their own deals
// unless they ask for everyone's; other roles see everyone's.
func ownerFilter(raw string, u *alinea.User) (value string, ownerID int64, err error) {
	switch raw {
	case "":
		if u.Role == alinea.RoleSales {
			return "mine", u.ID, nil
		}
		return "all", 0, nil
	case "mine":
		return raw, u.ID, nil
	case "all":
		return raw, 0, nil
	}
	id, perr := strconv.ParseInt(raw, 10, 64)
	if perr != nil || id <= 0 {
		return "", 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid pipeline filter", Fields: map[string]string{"owner": "must be mine, all or a user id"}}
	}
	return raw, id, nil
}

// board reads everything the board shows for an owner filter.
func (h *pipelinePage) board(ctx context.Context, v *visit, ownerParam string) (boardData, error) {
	l := v.Lang
	owner, ownerID, err := ownerFilter(ownerParam, v.User)
	if err != nil {
		return boardData{}, err
	}
	now := h.now()
	today := now.UTC().Format(time.DateOnly)
	data := boardData{CanMove: canMoveDeals(v.User.Role), Owner: owner}

	stages, err := h.store.PipelineStages(ctx)
	if err != nil {
		return data, err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return data, err
	}
	names := userNames(users)
	data.Owners = []option{{Value: "all", Label: l.T("pipeline.owner_all"), Selected: owner == "all"}, {Value: "mine", Label: l.T("pipeline.owner_mine"), Selected: owner == "mine"}}
	for _, u := range users {
		if u.Role == alinea.RoleMarketing {
			continue // marketing does not own deals
		}
		id := strconv.FormatInt(u.ID, 10)
		data.Owners = append(data.Owners, option{Value: id, Label: u.Name, Selected: owner == id})
	}
	for _, code := range lossReasons {
		data.Reasons = append(data.Reasons, option{Value: code, Label: l.T("reason." + code)})
	}

	open, err := h.openDeals(ctx, ownerID)
	if err != nil {
		return data, err
	}
	// Every deal closed in the window, of the owner shown: the closed
	// columns' counts, totals and reasons cover all of them.
	since := now.Add(-closedWindow)
	var closed []alinea.Deal
	for _, status := range []alinea.DealStatus{alinea.DealWon, alinea.DealLost} {
		ds, err := h.store.ClosedDealsSince(ctx, status, since, ownerID)
		if err != nil {
			return data, err
		}
		closed = append(closed, ds...)
	}

	byStage := map[int64][]alinea.Deal{}
	for _, d := range append(open, closed...) {
		byStage[d.StageID] = append(byStage[d.StageID], d)
	}
	var shown []alinea.Deal
	var closedColumns []boardColumn
	for _, s := range stages {
		col := boardColumn{ID: s.ID, Name: pipelineStageName(l, s.Name), Kind: s.Kind, Probability: l.Percent(float64(s.Probability) / 100)}
		data.Stages = append(data.Stages, stageChoice{ID: s.ID, Name: col.Name, Kind: s.Kind})
		deals := byStage[s.ID]
		if s.Kind == alinea.DealOpen {
			slices.SortFunc(deals, func(a, b alinea.Deal) int {
				// Soonest expected close first; deals without a date last.
				if a.ExpectedClose != b.ExpectedClose {
					if a.ExpectedClose == "" || b.ExpectedClose == "" {
						return cmp.Compare(b.ExpectedClose, a.ExpectedClose)
					}
					return cmp.Compare(a.ExpectedClose, b.ExpectedClose)
				}
				return cmp.Compare(a.ID, b.ID)
			})
		} else {
			slices.SortFunc(deals, func(a, b alinea.Deal) int {
				return cmp.Or(b.ClosedAt.Compare(*a.ClosedAt), cmp.Compare(b.ID, a.ID))
			})
		}
		col.Count = len(deals)
		col.Totals = sumByCurrency(l, deals, 100)
		if s.Kind == alinea.DealOpen {
			col.Weighted = sumByCurrency(l, deals, s.Probability)
		}
		shownMax := cardsPerColumn
		if s.Kind != alinea.DealOpen {
			shownMax = closedCards
			col.Reasons = reasonCounts(l, deals)
		}
		if len(deals) > shownMax {
			col.Hidden = len(deals) - shownMax
			deals = deals[:shownMax]
		}
		for _, d := range deals {
			col.Cards = append(col.Cards, dealCard{ID: d.ID})
		}
		shown = append(shown, deals...)
		if s.Kind == alinea.DealOpen {
			data.Columns = append(data.Columns, col)
		} else {
			closedColumns = append(closedColumns, col)
		}
	}
	openColumns := len(data.Columns)
	data.Columns = append(data.Columns, closedColumns...)

	cards, err := h.cards(ctx, l, shown, names, today)
	if err != nil {
		return data, err
	}
	for i := range data.Columns {
		for j, c := range data.Columns[i].Cards {
			data.Columns[i].Cards[j] = cards[c.ID]
		}
	}

	data.OpenCount = len(open)
	for _, d := range open {
		if d.ExpectedClose != "" && d.ExpectedClose < today {
			data.LateCount++
		}
	}
	data.Total = sumByCurrency(l, open, 100)
	// The board's weighted value is its columns' added up, so the numbers
	// on the page agree with each other to the cent.
	weighted := map[string]int64{}
	for _, col := range data.Columns[:openColumns] {
		for _, t := range col.Weighted {
			weighted[t.Currency] += t.Minor
		}
	}
	data.Weighted = moneyTotals(l, weighted)
	return data, nil
}

// openDeals reads every open deal (of an owner, when one is given).
func (h *pipelinePage) openDeals(ctx context.Context, ownerID int64) ([]alinea.Deal, error) {
	var out []alinea.Deal
	f := alinea.DealFilter{Status: alinea.DealOpen, OwnerID: ownerID, Limit: dealsPage}
	for {
		page, next, err := h.store.Deals(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == 0 {
			return out, nil
		}
		f.After = next
	}
}

// cards builds the cards of the deals shown, with their accounts and first
// contacts named.
func (h *pipelinePage) cards(ctx context.Context, l *locale, deals []alinea.Deal, owners map[int64]string, today string) (map[int64]dealCard, error) {
	accountIDs := make([]int64, 0, len(deals))
	for _, d := range deals {
		accountIDs = append(accountIDs, d.AccountID)
	}
	accounts, err := h.store.AccountNames(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]dealCard, len(deals))
	for _, d := range deals {
		c := dealCard{ID: d.ID, Name: d.Name, StageID: d.StageID, AccountID: d.AccountID, Account: accounts[d.AccountID],
			Owner: owners[d.OwnerID], Amount: l.Money(d.Amount, d.Currency)}
		if c.Account == "" {
			c.AccountID = 0
		}
		if d.Status == alinea.DealOpen && len(d.Contacts) > 0 {
			contact, err := h.store.Contact(ctx, d.Contacts[0].ContactID)
			switch {
			case err == nil:
				c.ContactID, c.Contact = contact.ID, displayName(contact)
			case alinea.ErrorCode(err) != alinea.ENOTFOUND:
				return nil, err
			}
		}
		if day, err := time.Parse(time.DateOnly, d.ExpectedClose); err == nil && d.Status == alinea.DealOpen {
			c.Close, c.CloseISO, c.Late = l.Date(day), d.ExpectedClose, d.ExpectedClose < today
		}
		if d.ClosedAt != nil && d.Status != alinea.DealOpen {
			c.Closed = l.Date(*d.ClosedAt)
			if d.CloseReason != "" {
				c.Reason = reasonLabel(l, nil, d.CloseReason)
			}
		}
		out[d.ID] = c
	}
	return out, nil
}

// reasonCounts are the most given reasons among closed deals, most
// frequent first; deals closed without a reason are left out.
func reasonCounts(l *locale, deals []alinea.Deal) []reasonCount {
	counts := map[string]int{}
	for _, d := range deals {
		if d.CloseReason != "" {
			counts[reasonLabel(l, nil, d.CloseReason)]++
		}
	}
	out := make([]reasonCount, 0, len(counts))
	for label, n := range counts {
		out = append(out, reasonCount{Label: label, Count: n})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Label, b.Label))
	})
	if len(out) > topReasons {
		out = out[:topReasons]
	}
	return out
}

// sumByCurrency adds up amounts per currency at a probability in percent,
// in currency order; each total is written in whole units.
func sumByCurrency(l *locale, deals []alinea.Deal, probability int) []moneyTotal {
	sums := map[string]int64{}
	for _, d := range deals {
		sums[d.Currency] += d.Amount
	}
	for c := range sums {
		sums[c] = sums[c] * int64(probability) / 100
	}
	return moneyTotals(l, sums)
}

func moneyTotals(l *locale, sums map[string]int64) []moneyTotal {
	out := make([]moneyTotal, 0, len(sums))
	for c, v := range sums {
		out = append(out, moneyTotal{Currency: c, Minor: v, Text: l.MoneyMajor(float64(v)/100, c)})
	}
	slices.SortFunc(out, func(a, b moneyTotal) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}
