package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/calendar"
	"github.com/alinea-crm/alinea/store"
)

// The sales inbox (DESIGN.md section 4): the MQLs routed to the signed-in
// rep, each with why it came to them and how much business time is left to
// accept or reject it; managers and admins also see the team's open leads
// and the fallback queue. Accepting is one click; rejecting asks for one of
// the agreement's reasons.

const (
	// inboxOpenLimit bounds each list of open leads the page reads.
	inboxOpenLimit = 200
	// decidedWindow is how far back the "recently decided" list looks.
	decidedWindow = 7 * 24 * time.Hour
	decidedShown  = 50
	// dueSoon marks a lead whose acceptance deadline is this close.
	dueSoon = time.Hour
)

// inboxRoles may open the inbox and decide leads (admin always may).
var inboxRoles = []alinea.Role{alinea.RoleSales, alinea.RoleManager}

// inboxStore is what the inbox reads and writes.
type inboxStore interface {
	Handoffs(ctx context.Context, f alinea.HandoffFilter) ([]alinea.Handoff, int64, error)
	Handoff(ctx context.Context, id int64) (alinea.Handoff, error)
	DecidedHandoffs(ctx context.Context, ownerID int64, since time.Time, n int) ([]alinea.Handoff, error)
	ContactOrigins(ctx context.Context, ids []int64) (map[int64]store.ContactOrigin, error)
	BusinessCalendar(ctx context.Context) (*calendar.Calendar, error)
	ActiveAgreement(ctx context.Context) (agreement.Version, error)
	AcceptHandoff(ctx context.Context, id int64, u alinea.User) (alinea.Handoff, error)
	RejectHandoff(ctx context.Context, id int64, u alinea.User, d alinea.HandoffDecision) (alinea.Handoff, error)
}

type inboxPage struct {
	store inboxStore
	views *views
	now   func() time.Time
}

type inboxData struct {
	// Team is set for managers and admins, who see everyone's leads.
	Team        bool
	NoAgreement bool
	Office      officeView
	// AcceptWithin is the agreement's acceptance term ("8 h"), if any.
	AcceptWithin string
	// Sections are the lists of open leads: the reader's own, then for
	// managers the fallback queue and the rest of the team's.
	Sections []leadSection
	// Truncated says a list was cut at inboxOpenLimit.
	Truncated bool
	OpenCount int
	Overdue   int
	Decided   []decidedRow
	Reasons   []option
	Formats   countdownFormats
	Notice    string
	// Error is shown on the card ErrorID when it is listed, else at the top
	// (PageError).
	Error     string
	ErrorID   int64
	PageError string
	Form      rejectForm
	// agreed are the active agreement's rejection reasons.
	agreed []agreement.RejectionReason
}

// officeView says whether the SLA clocks are running now (business hours)
// and when that changes, for the page and for inbox.js.
type officeView struct {
	Known bool
	Open  bool
	// ChangeIn is the seconds until the office closes (open) or opens.
	ChangeIn int64
	Change   string
	Zone     string
}

// countdownFormats are the catalog's duration patterns with {h} and {m}
// placeholders, so inbox.js writes the countdown as the server does.
type countdownFormats struct {
	Hours, HoursMinutes, Minutes, Under, Left, Overdue string
}

type leadSection struct {
	ID        string
	Title     string
	Empty     string
	ShowOwner bool
	Cards     []leadCard
}

type leadCard struct {
	ID        int64
	ContactID int64
	Name      string
	Company   string
	Country   string
	Source    string
	Stage     alinea.Stage
	Owner     string
	Why       string
	When      string
	Scores    string
	Assigned  time.Time
	// HasClock is false when the agreement sets no acceptance term.
	HasClock    bool
	Deadline    string
	DeadlineISO string
	// LeftSeconds is the business time left (negative: overdue by).
	LeftSeconds  int64
	TotalSeconds int64
	Countdown    string
	Overdue      bool
	Soon         bool
	// BarPct is the share of the term still left, 0-100.
	BarPct float64
}

type decidedRow struct {
	ContactID   int64
	Name        string
	Company     string
	Owner       string
	Status      alinea.HandoffStatus
	StatusLabel string
	Reason      string
	Comment     string
	DecidedAt   time.Time
	Took        string
	Late        bool
}

// rejectForm is what was typed in a card's reject form.
type rejectForm struct {
	Reason, Comment string
}

// sellers lets only the roles that decide leads through; anyone else is
// told so in their language and nothing changes.
func (h *inboxPage) sellers(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if v.User.Role != alinea.RoleAdmin && !slices.Contains(inboxRoles, v.User.Role) {
			page := errorPage{Message: v.Lang.T("inbox.forbidden", roleName(v.Lang, v.User.Role)), Status: http.StatusForbidden}
			return h.views.render(w, r, v, http.StatusForbidden, "error", v.Lang.T("error.title"), page)
		}
		return next(w, r, v)
	}
}

func (h *inboxPage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	data, err := h.inbox(ctx, v)
	if err != nil {
		return err
	}
	if id := cursorParam(r.URL.Query().Get("h")); id > 0 {
		// Only the one who decided is told, so the link names no one else's lead.
		if ho, err := h.store.Handoff(ctx, id); err == nil && ho.DecidedBy == v.User.ID {
			data.Notice = decidedNotice(v.Lang, ho, data.agreed)
		}
	}
	return h.views.render(w, r, v, http.StatusOK, "inbox", v.Lang.T("inbox.title"), data)
}

func (h *inboxPage) accept(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	_, err = h.store.AcceptHandoff(r.Context(), id, *v.User)
	return h.answer(w, r, v, id, err, rejectForm{})
}

func (h *inboxPage) reject(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	form := rejectForm{Reason: r.PostForm.Get("reason"), Comment: r.PostForm.Get("comment")}
	_, err = h.store.RejectHandoff(r.Context(), id, *v.User, alinea.HandoffDecision{Reason: form.Reason, Comment: form.Comment})
	return h.answer(w, r, v, id, err, form)
}

// answer sends a decided lead back to the inbox with a notice, or shows
// the inbox again with why the decision was refused; a refused decision
// changes nothing (the store checks everything in one transaction).
func (h *inboxPage) answer(w http.ResponseWriter, r *http.Request, v *visit, id int64, err error, form rejectForm) error {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/inbox?h=%d", id), http.StatusSeeOther)
		return nil
	}
	ctx := r.Context()
	l := v.Lang
	name := l.T("inbox.this_lead")
	ho, herr := h.store.Handoff(ctx, id)
	if herr == nil {
		name = ho.ContactName
	}
	var status int
	var msg string
	switch alinea.ErrorCode(err) {
	case alinea.ENOTFOUND:
		status, msg = http.StatusNotFound, l.T("inbox.error_not_found")
	case alinea.ECONFLICT:
		status, msg = http.StatusConflict, l.T("inbox.error_decided", name, handoffStatusName(l, ho.Status))
	case alinea.EFORBIDDEN:
		status = http.StatusForbidden
		msg = l.T("inbox.error_forbidden", roleName(l, v.User.Role))
		if v.User.Role == alinea.RoleSales && ho.OwnerName != "" {
			msg = l.T("inbox.error_other_rep", name, ho.OwnerName)
		}
	case alinea.EINVALID:
		status = http.StatusUnprocessableEntity
		fields := alinea.ErrorFields(err)
		switch {
		case fields["comment"] != "":
			msg = l.T("inbox.error_comment_too_long", alinea.MaxHandoffComment)
		case strings.TrimSpace(form.Reason) == "":
			msg = l.T("inbox.error_reason_required", name)
		default:
			msg = l.T("inbox.error_reason_unknown")
		}
	default:
		return err
	}
	data, derr := h.inbox(ctx, v)
	if derr != nil {
		return derr
	}
	data.Error, data.ErrorID, data.Form = msg, id, form
	if !data.lists(id) {
		data.PageError = msg
	}
	return h.views.render(w, r, v, status, "inbox", l.T("inbox.title"), data)
}

// lists says whether a handoff has a card on the page.
func (d *inboxData) lists(id int64) bool {
	for _, sec := range d.Sections {
		for _, c := range sec.Cards {
			if c.ID == id {
				return true
			}
		}
	}
	return false
}

// inbox reads everything the page shows.
func (h *inboxPage) inbox(ctx context.Context, v *visit) (*inboxData, error) {
	l := v.Lang
	now := h.now()
	u := v.User
	data := &inboxData{Team: u.Role == alinea.RoleManager || u.Role == alinea.RoleAdmin}
	data.Formats = countdownFormats{
		Hours: l.T("inbox.duration_h", "{h}"), HoursMinutes: l.T("inbox.duration_hm", "{h}", "{m}"), Minutes: l.T("inbox.duration_m", "{m}"),
		Under: l.T("inbox.duration_under"), Left: l.T("inbox.left", "{d}"), Overdue: l.T("inbox.overdue", "{d}"),
	}

	active, err := h.store.ActiveAgreement(ctx)
	switch {
	case err == nil:
		data.agreed = active.Document.RejectionReasons
		for _, t := range active.Document.SLAs {
			if t.Kind == "accept_within" && data.AcceptWithin == "" {
				data.AcceptWithin = l.T("inbox.hours", l.Decimal(t.BusinessHours, 1))
			}
		}
	case alinea.ErrorCode(err) == alinea.ENOTFOUND:
		data.NoAgreement = true
	default:
		return nil, err
	}
	for _, r := range data.agreed {
		data.Reasons = append(data.Reasons, option{Value: r.Code, Label: reasonLabel(l, data.agreed, r.Code)})
	}
	cal, err := h.store.BusinessCalendar(ctx)
	if err != nil {
		return nil, err
	}
	data.Office = office(l, cal, now)

	open := func(f alinea.HandoffFilter) ([]alinea.Handoff, error) {
		f.Status, f.Limit = alinea.HandoffOpen, inboxOpenLimit
		list, next, err := h.store.Handoffs(ctx, f)
		if next != 0 {
			data.Truncated = true
		}
		return list, err
	}
	var mine, queue, others []alinea.Handoff
	if data.Team {
		all, err := open(alinea.HandoffFilter{})
		if err != nil {
			return nil, err
		}
		for _, ho := range all {
			switch {
			case ho.OwnerID == u.ID:
				mine = append(mine, ho)
			case ho.OwnerID == 0:
				queue = append(queue, ho)
			default:
				others = append(others, ho)
			}
		}
	} else {
		if mine, err = open(alinea.HandoffFilter{OwnerID: u.ID}); err != nil {
			return nil, err
		}
		// Any rep may take a lead waiting in the fallback queue.
		if !data.NoAgreement {
			if queue, err = open(alinea.HandoffFilter{Queue: active.Document.Routing.Queue()}); err != nil {
				return nil, err
			}
		}
	}

	var ids []int64
	for _, list := range [][]alinea.Handoff{mine, queue, others} {
		for _, ho := range list {
			ids = append(ids, ho.ContactID)
		}
	}
	origins, err := h.store.ContactOrigins(ctx, ids)
	if err != nil {
		return nil, err
	}
	card := func(ho alinea.Handoff) leadCard {
		c := leadCard{ID: ho.ID, ContactID: ho.ContactID, Name: ho.ContactName, Company: ho.Company, Stage: ho.Stage, Owner: ho.OwnerName, Assigned: ho.AssignedAt}
		o := origins[ho.ContactID]
		c.Country, c.Source = l.Country(o.Country), o.Source
		c.Why, c.When, c.Scores = routedWhy(l, ho.Why)
		if clock, ok := acceptClock(ho); ok {
			c.HasClock = true
			left := businessLeft(cal, now, clock.Deadline)
			total := businessLeft(cal, clock.StartedAt, clock.Deadline)
			c.LeftSeconds, c.TotalSeconds = int64(left/time.Second), int64(total/time.Second)
			c.Overdue = left <= 0 || clock.Status == alinea.ClockBreached
			c.Soon = !c.Overdue && left <= dueSoon
			c.Countdown = countdownText(l, left)
			if total > 0 && left > 0 {
				c.BarPct = float64(left) / float64(total) * 100
			}
			c.Deadline, c.DeadlineISO = zonedDateTime(l, clock.Deadline, cal), clock.Deadline.UTC().Format(time.RFC3339)
		}
		if c.Overdue {
			data.Overdue++
		}
		data.OpenCount++
		return c
	}
	section := func(id, title, empty string, showOwner bool, list []alinea.Handoff) {
		sec := leadSection{ID: id, Title: title, Empty: empty, ShowOwner: showOwner}
		for _, ho := range list {
			sec.Cards = append(sec.Cards, card(ho))
		}
		data.Sections = append(data.Sections, sec)
	}
	if !data.Team {
		section("mine", l.T("inbox.mine"), l.T("inbox.mine_empty"), false, mine)
		if len(queue) > 0 {
			section("queue", l.T("inbox.queue", queue[0].Queue), "", false, queue)
		}
	} else {
		// Managers and admins rarely hold leads themselves.
		if len(mine) > 0 {
			section("mine", l.T("inbox.mine_team"), "", false, mine)
		}
		queueName := ""
		if len(queue) > 0 {
			queueName = queue[0].Queue
		} else if !data.NoAgreement {
			queueName = active.Document.Routing.Queue()
		}
		section("queue", l.T("inbox.queue", queueName), l.T("inbox.queue_empty"), false, queue)
		section("team", l.T("inbox.team"), l.T("inbox.team_empty"), true, others)
	}

	var owner int64
	if !data.Team {
		owner = u.ID
	}
	decided, err := h.store.DecidedHandoffs(ctx, owner, now.Add(-decidedWindow), decidedShown)
	if err != nil {
		return nil, err
	}
	for _, ho := range decided {
		row := decidedRow{ContactID: ho.ContactID, Name: ho.ContactName, Company: ho.Company, Owner: ho.OwnerName, Status: ho.Status,
			StatusLabel: handoffStatusName(l, ho.Status), Comment: ho.Comment}
		if ho.DecidedAt != nil {
			row.DecidedAt = *ho.DecidedAt
		}
		if ho.ReasonCode != "" {
			row.Reason = reasonLabel(l, data.agreed, ho.ReasonCode)
		}
		if clock, ok := acceptClock(ho); ok {
			row.Late = clock.Status == alinea.ClockBreached
			if clock.ElapsedBusinessSeconds != nil {
				row.Took = durationText(l, time.Duration(*clock.ElapsedBusinessSeconds)*time.Second)
			}
		}
		data.Decided = append(data.Decided, row)
	}
	return data, nil
}

// acceptClock is a handoff's acceptance clock, if the agreement set one.
func acceptClock(ho alinea.Handoff) (alinea.SLAClock, bool) {
	for _, c := range ho.Clocks {
		if c.Kind == "accept_within" {
			return c, true
		}
	}
	return alinea.SLAClock{}, false
}

// businessLeft is the business time from now to a deadline, negative when
// it has passed: store.BusinessTimeLeft's arithmetic, on a calendar read
// once per page. Without a calendar it is wall-clock time.
func businessLeft(cal *calendar.Calendar, now, deadline time.Time) time.Duration {
	switch {
	case cal == nil:
		return deadline.Sub(now)
	case deadline.Before(now):
		return -cal.Between(deadline, now)
	}
	return cal.Between(now, deadline)
}

// office says whether business hours are running now and when that
// changes: the next closing (found by halving, to the second, within a
// day) or the next opening.
func office(l *locale, cal *calendar.Calendar, now time.Time) officeView {
	if cal == nil {
		return officeView{}
	}
	o := officeView{Known: true, Zone: cal.Location().String()}
	var change time.Time
	if cal.Between(now, now.Add(time.Second)) > 0 {
		o.Open = true
		lo, hi := now, now.Add(24*time.Hour)
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			if cal.Between(now, mid) == mid.Sub(now) {
				lo = mid
			} else {
				hi = mid
			}
		}
		// The closing lies within the last second searched.
		change = lo.Add(time.Second - 1).Truncate(time.Second)
	} else {
		change = cal.Add(now, 0)
	}
	o.ChangeIn = int64(change.Sub(now).Round(time.Second) / time.Second)
	o.Change = zonedDateTime(l, change, cal)
	return o
}

// zonedDateTime writes a moment as the clock on the office wall shows it
// (the calendar's time zone, named), where the other dates of the UI are
// in UTC.
func zonedDateTime(l *locale, t time.Time, cal *calendar.Calendar) string {
	if cal == nil {
		return l.DateTime(t) + " UTC"
	}
	wall := t.In(cal.Location())
	asUTC := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
	return l.DateTime(asUTC) + " " + wall.Format("MST")
}

// countdownText is the time left to decide ("3 h 20 min hábiles"),
// rounded up as countdowns are, or how late the decision is ("vencido
// hace 1 h"), rounded down; inbox.js writes it the same way.
func countdownText(l *locale, left time.Duration) string {
	if left > 0 {
		return l.T("inbox.left", durationText(l, (left+time.Minute-1).Truncate(time.Minute)))
	}
	return l.T("inbox.overdue", durationText(l, -left))
}

// durationText writes hours and minutes, rounded down.
func durationText(l *locale, d time.Duration) string {
	mins := int64(d / time.Minute)
	h, m := strconv.FormatInt(mins/60, 10), strconv.FormatInt(mins%60, 10)
	switch {
	case mins < 1:
		return l.T("inbox.duration_under")
	case mins < 60:
		return l.T("inbox.duration_m", m)
	case mins%60 == 0:
		return l.T("inbox.duration_h", h)
	}
	return l.T("inbox.duration_hm", h, m)
}

// routedWhy reads an assignment's recorded explanation: why the lead came
// here, the rule's expression, and the scores it had when routed.
func routedWhy(l *locale, raw json.RawMessage) (why, when, scores string) {
	var w struct {
		Fit        *int   `json:"fit"`
		Engagement *int   `json:"engagement"`
		Rule       string `json:"rule"`
		When       string `json:"when"`
		Fallback   string `json:"fallback"`
		Queue      string `json:"queue"`
		Considered []struct {
			Eligible bool `json:"eligible"`
		} `json:"considered"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return "", "", ""
	}
	switch {
	case w.Fallback == "no_rule_matched":
		why = l.T("inbox.why_no_rule", w.Queue)
	case w.Fallback == "no_rep_available":
		why = l.T("inbox.why_no_rep", w.Rule, w.Queue)
	case w.Rule != "":
		why, when = l.T("inbox.why_rule", w.Rule), w.When
		eligible := 0
		for _, c := range w.Considered {
			if c.Eligible {
				eligible++
			}
		}
		if eligible > 1 {
			why = l.T("inbox.why_round_robin", w.Rule, eligible)
		}
	}
	if w.Fit != nil && w.Engagement != nil {
		scores = l.T("inbox.scores", *w.Fit, *w.Engagement)
	}
	return why, when, scores
}

func handoffStatusName(l *locale, s alinea.HandoffStatus) string {
	switch s {
	case alinea.HandoffOpen:
		return l.T("inbox.status_open")
	case alinea.HandoffAccepted:
		return l.T("inbox.status_accepted")
	case alinea.HandoffRejected:
		return l.T("inbox.status_rejected")
	case alinea.HandoffClosed:
		return l.T("inbox.status_closed")
	}
	return string(s)
}

// decidedNotice confirms a decision just taken.
func decidedNotice(l *locale, ho alinea.Handoff, reasons []agreement.RejectionReason) string {
	switch ho.Status {
	case alinea.HandoffAccepted:
		return l.T("inbox.accepted", ho.ContactName, stageName(l, ho.Stage))
	case alinea.HandoffRejected:
		return l.T("inbox.rejected", ho.ContactName, reasonLabel(l, reasons, ho.ReasonCode))
	}
	return ""
}
