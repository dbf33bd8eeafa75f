package web_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/alinea-crm/alinea"
)

// boardColumn is one column of the board as the page shows it.
type boardColumn struct {
	stage    int64
	kind     string
	count    int
	totals   map[string]int64
	weighted map[string]int64
	texts    map[string]string // currency -> the total as written
	cards    []int64
	late     []int64
}

var (
	columnStart = regexp.MustCompile(`<section class="col col-[a-z]+" id="stage-(\d+)" data-stage="\d+" data-kind="([a-z]+)" data-count="(\d+)"`)
	moneyData   = regexp.MustCompile(`<data value="(-?\d+)" data-currency="([A-Z]{3})">([^<]*)</data>`)
	cardStart   = regexp.MustCompile(`<li class="deal( is-late)?" id="deal-(\d+)"`)
	colTotal    = regexp.MustCompile(`(?s)<p class="col-total money-list">(.*?)</p>`)
	colWeighted = regexp.MustCompile(`(?s)<p class="col-weighted">(.*?)</p>`)
)

// readBoard reads the board's columns from a page or a fragment.
func readBoard(t *testing.T, page string) []boardColumn {
	t.Helper()
	starts := columnStart.FindAllStringSubmatchIndex(page, -1)
	var out []boardColumn
	for i, m := range starts {
		end := len(page)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		part := page[m[0]:end]
		stage, _ := strconv.ParseInt(page[m[2]:m[3]], 10, 64)
		count, _ := strconv.Atoi(page[m[6]:m[7]])
		col := boardColumn{stage: stage, kind: page[m[4]:m[5]], count: count,
			totals: map[string]int64{}, weighted: map[string]int64{}, texts: map[string]string{}}
		if tm := colTotal.FindStringSubmatch(part); tm != nil {
			for _, d := range moneyData.FindAllStringSubmatch(tm[1], -1) {
				v, _ := strconv.ParseInt(d[1], 10, 64)
				col.totals[d[2]], col.texts[d[2]] = v, d[3]
			}
		}
		if wm := colWeighted.FindStringSubmatch(part); wm != nil {
			for _, d := range moneyData.FindAllStringSubmatch(wm[1], -1) {
				v, _ := strconv.ParseInt(d[1], 10, 64)
				col.weighted[d[2]] = v
			}
		}
		for _, c := range cardStart.FindAllStringSubmatch(part, -1) {
			id, _ := strconv.ParseInt(c[2], 10, 64)
			col.cards = append(col.cards, id)
			if c[1] != "" {
				col.late = append(col.late, id)
			}
		}
		out = append(out, col)
	}
	if len(out) == 0 {
		t.Fatalf("no board columns in:\n%s", clip(page))
	}
	return out
}

func columnOf(t *testing.T, cols []boardColumn, stage int64) boardColumn {
	t.Helper()
	for _, c := range cols {
		if c.stage == stage {
			return c
		}
	}
	t.Fatalf("no column for stage %d", stage)
	return boardColumn{}
}

// pipelineStages returns the stages by name.
func (a *app) pipelineStages() map[string]alinea.PipelineStage {
	a.t.Helper()
	stages, err := a.store.PipelineStages(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	out := map[string]alinea.PipelineStage{}
	for _, s := range stages {
		out[s.Name] = s
	}
	return out
}

// allDeals reads every deal with a status straight from the store.
func (a *app) allDeals(status alinea.DealStatus, owner int64) []alinea.Deal {
	a.t.Helper()
	var out []alinea.Deal
	f := alinea.DealFilter{Status: status, OwnerID: owner, Limit: 500}
	for {
		page, next, err := a.store.Deals(context.Background(), f)
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, page...)
		if next == 0 {
			return out
		}
		f.After = next
	}
}

func (a *app) userID(role alinea.Role) int64 {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), a.user(role).Email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

// moneyWhole writes an amount of whole units as the pages do, built here
// from the language's number format and its currency symbol.
func moneyWhole(lang string, minor int64, currency string) string {
	tag := language.Spanish
	if lang == "en" {
		tag = language.English
	}
	n := message.NewPrinter(tag).Sprint(number.Decimal(math.Round(float64(minor)/100), number.MaxFractionDigits(0)))
	symbols := map[string]map[string]string{"es": {"EUR": "€", "USD": "US$", "GBP": "£"}, "en": {"EUR": "€", "USD": "$", "GBP": "£"}}
	sym, ok := symbols[lang][currency]
	switch {
	case lang == "es" && ok:
		return n + "\u00a0" + sym
	case lang == "es":
		return n + "\u00a0" + currency
	case ok:
		return sym + n
	}
	return currency + "\u00a0" + n
}

func TestPipelineBoardShowsDealsAndTotalsPerStage(t *testing.T) {
	a := newApp(t)
	stages := a.pipelineStages()
	open := a.allDeals(alinea.DealOpen, 0)
	var closed []alinea.Deal
	for _, st := range []alinea.DealStatus{alinea.DealWon, alinea.DealLost} {
		for _, d := range a.allDeals(st, 0) {
			if d.ClosedAt != nil && !d.ClosedAt.Before(anchor.Add(-90*24*time.Hour)) {
				closed = append(closed, d)
			}
		}
	}
	if len(open) == 0 || len(closed) == 0 {
		t.Fatalf("the demo has %d open deals and %d closed in the last 90 days; the test needs both", len(open), len(closed))
	}
	type want struct {
		count  int
		totals map[string]int64
		late   int
	}
	wants := map[int64]*want{}
	for _, s := range stages {
		wants[s.ID] = &want{totals: map[string]int64{}}
	}
	today := anchor.Format("2006-01-02")
	for _, d := range append(open, closed...) {
		w := wants[d.StageID]
		w.count++
		w.totals[d.Currency] += d.Amount
		if d.Status == alinea.DealOpen && d.ExpectedClose != "" && d.ExpectedClose < today {
			w.late++
		}
	}

	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := a.signedIn(alinea.RoleManager, lang)
			res := c.get("/pipeline")
			if res.status != http.StatusOK {
				t.Fatalf("GET /pipeline: %d\n%s", res.status, text(res.body))
			}
			cols := readBoard(t, res.body)
			var order []string
			for _, col := range cols {
				order = append(order, col.kind)
			}
			if got := strings.Join(order, " "); got != "open open open open won lost" {
				t.Errorf("columns by kind: %s, want the four open stages, then won and lost", got)
			}
			for name, s := range stages {
				col, w := columnOf(t, cols, s.ID), wants[s.ID]
				// Closed columns show the latest eight deals as cards.
				cards := w.count
				if s.Kind != alinea.DealOpen {
					cards = min(cards, 8)
				}
				if col.count != w.count || len(col.cards) != cards {
					t.Errorf("%s: count %d with %d cards, want %d with %d", name, col.count, len(col.cards), w.count, cards)
				}
				if !mapsEqual(col.totals, w.totals) {
					t.Errorf("%s: totals %v, want %v", name, col.totals, w.totals)
				}
				if len(col.late) != w.late {
					t.Errorf("%s: %d cards marked late, want %d", name, len(col.late), w.late)
				}
				if s.Kind != alinea.DealOpen {
					continue
				}
				weighted := map[string]int64{}
				for cur, v := range w.totals {
					weighted[cur] = v * int64(s.Probability) / 100
				}
				if !mapsEqual(col.weighted, weighted) {
					t.Errorf("%s: weighted %v, want %v at %d%%", name, col.weighted, weighted, s.Probability)
				}
				for cur, v := range w.totals {
					if got, want := col.texts[cur], moneyWhole(lang, v, cur); got != want {
						t.Errorf("%s: %s total written %q, want %q", name, cur, got, want)
					}
				}
			}
			page := text(res.body)
			heading := map[string][]string{
				"es": {"Pipeline", "Oportunidades abiertas", "Descubrimiento", "Negociación", "Ganada", "Perdida", "Últimos 90 días", "Ponderado al 50 %:"},
				"en": {"Pipeline", "Open deals", "Discovery", "Negotiation", "Won", "Lost", "Last 90 days", "Weighted at 50%:"},
			}
			mustContain(t, "board "+lang, page, heading[lang]...)
			mustContain(t, "navigation", res.body, `<a href="/pipeline" aria-current="page">`)
		})
	}
}

func TestPipelineCardsLinkAndExplain(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleManager, "en")
	page := c.get("/pipeline").body
	var open alinea.Deal
	for _, d := range a.allDeals(alinea.DealOpen, 0) {
		if d.AccountID != 0 && len(d.Contacts) > 0 {
			open = d
			break
		}
	}
	if open.ID == 0 {
		t.Fatal("no open deal with an account and a contact in the demo")
	}
	card := cardHTML(t, page, open.ID)
	contact, err := a.store.Contact(context.Background(), open.Contacts[0].ContactID)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "open card", card, fmt.Sprintf(`href="/accounts/%d"`, open.AccountID), fmt.Sprintf(`href="/contacts/%d"`, contact.ID))
	mustContain(t, "open card", text(card), open.Name, strings.TrimSpace(contact.FirstName+" "+contact.LastName))

	// The lost column counts its reasons, in the reader's language, and
	// its latest deal shows its own.
	lost := a.pipelineStages()["lost"]
	reasons := map[string]int{}
	var latest alinea.Deal
	for _, d := range a.allDeals(alinea.DealLost, 0) {
		if d.ClosedAt == nil || d.ClosedAt.Before(anchor.Add(-90*24*time.Hour)) {
			continue
		}
		reasons[d.CloseReason]++
		if latest.ID == 0 || d.ClosedAt.After(*latest.ClosedAt) || (d.ClosedAt.Equal(*latest.ClosedAt) && d.ID > latest.ID) {
			latest = d
		}
	}
	names := map[string]string{"price": "Price", "competitor": "Competitor", "timing": "Timing", "no_decision": "No decision"}
	column := page[strings.Index(page, fmt.Sprintf(`id="stage-%d"`, lost.ID)):]
	listed := regexp.MustCompile(`<span class="reason-name">([^<]+)</span> <span class="reason-count">(\d+)</span>`).FindAllStringSubmatch(column, -1)
	if len(listed) == 0 || len(listed) > 4 {
		t.Fatalf("the lost column lists %d reasons, want 1 to 4", len(listed))
	}
	previous := math.MaxInt
	for _, r := range listed {
		var code string
		for c, n := range names {
			if n == r[1] {
				code = c
			}
		}
		got, _ := strconv.Atoi(r[2])
		if code == "" || got != reasons[code] {
			t.Errorf("lost reason %q counted %d, want %d (all: %v)", r[1], got, reasons[code], reasons)
		}
		if got > previous {
			t.Errorf("reasons not most frequent first: %v", listed)
		}
		previous = got
	}
	mustContain(t, "latest lost card", text(cardHTML(t, page, latest.ID)), "Reason: "+names[latest.CloseReason])
}

// cardHTML is one deal's card on the board.
func cardHTML(t *testing.T, page string, id int64) string {
	t.Helper()
	start := strings.Index(page, fmt.Sprintf(`id="deal-%d"`, id))
	if start < 0 {
		t.Fatalf("no card for deal %d", id)
	}
	end := strings.Index(page[start:], "</li>")
	return page[start : start+end]
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPipelineOwnerFilter(t *testing.T) {
	a := newApp(t)
	rep := a.userID(alinea.RoleSales)
	mine := a.allDeals(alinea.DealOpen, rep)
	all := a.allDeals(alinea.DealOpen, 0)
	if len(mine) == 0 || len(mine) == len(all) {
		t.Fatalf("the sales user owns %d of %d open deals; the test needs some, not all", len(mine), len(all))
	}
	openCount := func(page string) int {
		n, _ := strconv.Atoi(regexpFind(`data-open-count="(\d+)"`, page))
		return n
	}
	c := a.signedIn(alinea.RoleSales, "es")
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/pipeline", len(mine)},
		{"/pipeline?owner=mine", len(mine)},
		{fmt.Sprintf("/pipeline?owner=%d", rep), len(mine)},
		{"/pipeline?owner=all", len(all)},
	} {
		res := c.get(tc.path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", tc.path, res.status)
		}
		if got := openCount(res.body); got != tc.want {
			t.Errorf("GET %s shows %d open deals, want %d", tc.path, got, tc.want)
		}
	}
	if res := c.get("/pipeline?owner=nobody"); res.status != http.StatusBadRequest {
		t.Errorf("an unknown owner filter: %d, want 400", res.status)
	}
	// A manager sees everyone's deals by default.
	if got := openCount(a.signedIn(alinea.RoleManager, "es").get("/pipeline").body); got != len(all) {
		t.Errorf("manager's board shows %d open deals, want %d", got, len(all))
	}
}

// openDealOf returns an open deal of an owner in an open stage other than
// the last, and the stage after it.
func (a *app) openDealOf(owner int64) (alinea.Deal, alinea.PipelineStage) {
	a.t.Helper()
	stages, err := a.store.PipelineStages(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	for _, d := range a.allDeals(alinea.DealOpen, owner) {
		for i, s := range stages[:len(stages)-1] {
			if s.ID == d.StageID && stages[i+1].Kind == alinea.DealOpen {
				return d, stages[i+1]
			}
		}
	}
	a.t.Fatalf("user %d has no open deal that can move one stage on", owner)
	return alinea.Deal{}, alinea.PipelineStage{}
}

func TestPipelineMoveWithoutJavaScript(t *testing.T) {
	for _, tc := range []struct {
		lang, moved, lostLabel string
	}{
		{"es", "ha pasado a", "Competidor"},
		{"en", "moved to", "Competitor"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := context.Background()
			a := newApp(t)
			rep := a.userID(alinea.RoleSales)
			deal, next := a.openDealOf(rep)
			c := a.signedIn(alinea.RoleSales, tc.lang)
			path := fmt.Sprintf("/pipeline/deals/%d/stage", deal.ID)
			before := readBoard(t, c.get("/pipeline").body)

			res := c.postForm("/pipeline", path, url.Values{"stage": {strconv.FormatInt(next.ID, 10)}, "owner": {"mine"}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("move: %d\n%s", res.status, text(res.body))
			}
			if want := fmt.Sprintf("/pipeline?moved=%d&owner=mine#deal-%d", deal.ID, deal.ID); res.location != want {
				t.Errorf("redirect to %s, want %s", res.location, want)
			}
			board := c.get(res.location)
			mustContain(t, "after the move", text(board.body), tc.moved)
			after := readBoard(t, board.body)
			if got, was := columnOf(t, after, deal.StageID).count, columnOf(t, before, deal.StageID).count; got != was-1 {
				t.Errorf("the column left has %d deals, was %d", got, was)
			}
			if got, was := columnOf(t, after, next.ID).count, columnOf(t, before, next.ID).count; got != was+1 {
				t.Errorf("the column entered has %d deals, was %d", got, was)
			}
			if !slices.Contains(columnOf(t, after, next.ID).cards, deal.ID) {
				t.Errorf("deal %d is not in its new column", deal.ID)
			}
			history, err := a.store.DealHistory(ctx, deal.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := history[len(history)-1]
			if last.FromStageID != deal.StageID || last.ToStageID != next.ID || last.ActorUserID != rep {
				t.Errorf("last history entry %+v, want from %d to %d by user %d", last, deal.StageID, next.ID, rep)
			}

			// Lost with a listed reason: the deal closes with the reason's code
			// and shows in the lost column in the reader's language.
			lost := a.pipelineStages()["lost"]
			res = c.postForm("/pipeline", path, url.Values{"stage": {strconv.FormatInt(lost.ID, 10)}, "reason_code": {"competitor"}, "owner": {"mine"}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("lose: %d\n%s", res.status, text(res.body))
			}
			stored, err := a.store.Deal(ctx, deal.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != alinea.DealLost || stored.CloseReason != "competitor" {
				t.Errorf("after losing: status %s, reason %q", stored.Status, stored.CloseReason)
			}
			board = c.get(res.location)
			if !slices.Contains(columnOf(t, readBoard(t, board.body), lost.ID).cards, deal.ID) {
				t.Errorf("the lost deal is not in the lost column")
			}
			mustContain(t, "lost card", text(cardHTML(t, board.body, deal.ID)), tc.lostLabel)
		})
	}
}

func TestPipelineRefusedMovesChangeNothing(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	stages := a.pipelineStages()
	deal, next := a.openDealOf(a.userID(alinea.RoleSales))
	path := fmt.Sprintf("/pipeline/deals/%d/stage", deal.ID)
	id := func(name string) string { return strconv.FormatInt(stages[name].ID, 10) }
	initial, err := a.store.DealHistory(ctx, deal.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		role   alinea.Role
		lang   string
		form   url.Values
		status int
		msg    string
		kept   []string
	}{
		{"lost without reason es", alinea.RoleSales, "es", url.Values{"stage": {id("lost")}, "reason": {"  "}}, http.StatusUnprocessableEntity,
			fmt.Sprintf("«%s» no puede pasar a Perdida sin un motivo: indica por qué se ha perdido la oportunidad.", deal.Name),
			[]string{`<option value="` + id("lost") + `" data-kind="lost" selected>`}},
		{"lost without reason en", alinea.RoleManager, "en", url.Values{"stage": {id("lost")}}, http.StatusUnprocessableEntity,
			fmt.Sprintf("“%s” cannot move to Lost without a reason: say why the deal was lost.", deal.Name), nil},
		{"unknown stage", alinea.RoleSales, "en", url.Values{"stage": {"99999"}, "reason": {"pushed by the client"}}, http.StatusUnprocessableEntity,
			"That stage is not part of the pipeline.", []string{`value="pushed by the client"`}},
		{"not a stage", alinea.RoleSales, "es", url.Values{"stage": {"propuesta"}}, http.StatusUnprocessableEntity,
			"Esa etapa no forma parte del pipeline.", nil},
		{"no stage", alinea.RoleSales, "es", url.Values{"stage": {""}}, http.StatusUnprocessableEntity,
			fmt.Sprintf("Elige la etapa a la que mover «%s».", deal.Name), nil},
		{"same stage", alinea.RoleSales, "en", url.Values{"stage": {strconv.FormatInt(deal.StageID, 10)}}, http.StatusConflict,
			fmt.Sprintf("“%s” is already in", deal.Name), nil},
		{"marketing es", alinea.RoleMarketing, "es", url.Values{"stage": {strconv.FormatInt(next.ID, 10)}}, http.StatusForbidden,
			"Tu rol (Marketing) puede ver el pipeline pero no mover oportunidades.", nil},
		{"marketing en", alinea.RoleMarketing, "en", url.Values{"stage": {id("won")}, "reason": {"signed"}}, http.StatusForbidden,
			"Your role (Marketing) can see the pipeline but not move deals.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a.signedIn(tc.role, tc.lang)
			tc.form.Set("owner", "all")
			res := c.postForm("/pipeline", path, tc.form)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", res.status, tc.status, text(res.body))
			}
			mustContain(t, tc.name, text(res.body), tc.msg)
			mustContain(t, tc.name, res.body, tc.kept...)
			if tc.role != alinea.RoleMarketing {
				// The card whose move failed opens its form with the error.
				mustContain(t, tc.name, cardHTML(t, res.body, deal.ID), `<details class="deal-move" open>`, `class="form-error" id="move-error-`)
			}
			stored, err := a.store.Deal(ctx, deal.ID)
			if err != nil {
				t.Fatal(err)
			}
			history, err := a.store.DealHistory(ctx, deal.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.StageID != deal.StageID || stored.Status != alinea.DealOpen || len(history) != len(initial) {
				t.Errorf("the deal changed: stage %d, status %s, %d history entries (was %d)", stored.StageID, stored.Status, len(history), len(initial))
			}
		})
	}
}

func TestPipelineIsReadOnlyForMarketing(t *testing.T) {
	a := newApp(t)
	page := a.signedIn(alinea.RoleMarketing, "en").get("/pipeline")
	if page.status != http.StatusOK {
		t.Fatalf("marketing's board: %d", page.status)
	}
	if len(readBoard(t, page.body)) != 6 {
		t.Errorf("marketing does not see every column")
	}
	mustNotContain(t, "marketing's board", page.body, `draggable="true"`, `class="move-form"`, `data-movable`, `<dialog`, `class="grip"`, "data-drop-stage")
	mustContain(t, "marketing's board", text(page.body), "this view is read-only for your role")

	sales := a.signedIn(alinea.RoleSales, "en").get("/pipeline?owner=all")
	mustContain(t, "sales' board", sales.body, `draggable="true"`, `class="move-form"`, `data-movable`, `<dialog id="move-dialog"`)
}

// postFragment sends a move as pipeline.js does and returns the board it
// gets back.
func postFragment(t *testing.T, c *client, path string, form url.Values) response {
	t.Helper()
	form.Set("csrf_token", c.csrf("/pipeline"))
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("X-Alinea-Fragment", "board")
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, body: string(b), header: res.Header}
}

func TestPipelineMoveAnswersWithTheBoard(t *testing.T) {
	a := newApp(t)
	deal, next := a.openDealOf(a.userID(alinea.RoleSales))
	c := a.signedIn(alinea.RoleSales, "es")
	before := readBoard(t, c.get("/pipeline?owner=all").body)
	path := fmt.Sprintf("/pipeline/deals/%d/stage", deal.ID)

	res := postFragment(t, c, path, url.Values{"stage": {strconv.FormatInt(next.ID, 10)}, "owner": {"all"}})
	if res.status != http.StatusOK || res.header.Get("X-Alinea-Fragment") != "board" {
		t.Fatalf("fragment move: %d, %v\n%s", res.status, res.header, text(res.body))
	}
	if !strings.HasPrefix(strings.TrimSpace(res.body), `<div id="pipeline-board"`) || strings.Contains(res.body, "<html") {
		t.Errorf("the answer is not just the board:\n%s", clip(res.body))
	}
	mustContain(t, "fragment notice", text(res.body), fmt.Sprintf("«%s» ha pasado a", deal.Name))
	after := readBoard(t, res.body)
	if got, was := columnOf(t, after, next.ID), columnOf(t, before, next.ID); got.count != was.count+1 ||
		got.totals[deal.Currency] != was.totals[deal.Currency]+deal.Amount {
		t.Errorf("column entered: %d deals, %v; was %d, %v; deal of %d %s", got.count, got.totals, was.count, was.totals, deal.Amount, deal.Currency)
	}
	if got, was := columnOf(t, after, deal.StageID), columnOf(t, before, deal.StageID); got.count != was.count-1 {
		t.Errorf("column left: %d deals, was %d", got.count, was.count)
	}

	// A refused move answers with the board and the reason, in Spanish.
	lost := a.pipelineStages()["lost"]
	res = postFragment(t, c, path, url.Values{"stage": {strconv.FormatInt(lost.ID, 10)}, "owner": {"all"}})
	if res.status != http.StatusUnprocessableEntity || res.header.Get("X-Alinea-Fragment") != "board" {
		t.Fatalf("refused fragment move: %d", res.status)
	}
	mustContain(t, "refused fragment", text(res.body), "sin un motivo")
	if stored, _ := a.store.Deal(context.Background(), deal.ID); stored.StageID != next.ID {
		t.Errorf("a refused move changed the stage to %d", stored.StageID)
	}
}

// TestPipelineClosedColumnsCountEveryClosedDeal closes more deals than the
// board once read (the latest 100 of everyone, filtered afterwards) and
// checks that the won column counts every deal won in the 90 days, for
// everyone and for one owner.
func TestPipelineClosedColumnsCountEveryClosedDeal(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	stages := a.pipelineStages()
	var first, won alinea.PipelineStage
	for _, s := range stages {
		switch {
		case s.Kind == alinea.DealWon:
			won = s
		case s.Kind == alinea.DealOpen && (first.ID == 0 || s.Position < first.Position):
			first = s
		}
	}
	rep := a.userID(alinea.RoleSales)
	actor := alinea.Actor{Type: alinea.ActorUser, UserID: rep}
	for i := range 110 {
		name, amount, cur := fmt.Sprintf("Renovación %d", i), int64(1000_00), "EUR"
		d, err := a.store.CreateDeal(ctx, alinea.DealFields{Name: &name, OwnerID: &rep, StageID: &first.ID, Amount: &amount, Currency: &cur}, actor)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.MoveDeal(ctx, d.ID, alinea.DealMove{StageID: won.ID, Actor: actor}); err != nil {
			t.Fatal(err)
		}
	}
	wonSince := func(owner int64) int {
		n := 0
		for _, d := range a.allDeals(alinea.DealWon, owner) {
			if d.ClosedAt != nil && !d.ClosedAt.Before(anchor.Add(-90*24*time.Hour)) {
				n++
			}
		}
		return n
	}
	c := a.signedIn(alinea.RoleManager, "en")
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/pipeline?owner=all", wonSince(0)},
		{fmt.Sprintf("/pipeline?owner=%d", rep), wonSince(rep)},
	} {
		if tc.want <= 100 {
			t.Fatalf("%s: %d deals won in 90 days; the test needs more than 100", tc.path, tc.want)
		}
		res := c.get(tc.path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", tc.path, res.status)
		}
		if got := columnOf(t, readBoard(t, res.body), won.ID).count; got != tc.want {
			t.Errorf("GET %s: the won column counts %d deals, want %d", tc.path, got, tc.want)
		}
	}
}
