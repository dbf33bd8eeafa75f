package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
)

// agreementEditors may write drafts, propose, activate and backtest: the
// roles the API lets do so (admin always passes). Signing is open to every
// role at the route; the store decides for which team, or refuses.
var agreementEditors = []alinea.Role{alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager}

// maxGoalPlans bounds the reverse funnels the overview computes: each reads
// the stage history of a year.
const maxGoalPlans = 2

// agreementStore is what the agreement pages read and write: the same store
// methods the API and the CLI use, so the rules are the same everywhere.
type agreementStore interface {
	Agreements(ctx context.Context) ([]agreement.Version, error)
	Agreement(ctx context.Context, id int64) (agreement.Version, error)
	AgreementAudit(ctx context.Context, id int64) ([]agreement.AuditEntry, error)
	CreateAgreement(ctx context.Context, source []byte, basedOn, userID int64) (agreement.Version, error)
	UpdateAgreementDraft(ctx context.Context, id int64, source []byte, userID int64) (agreement.Version, error)
	ProposeAgreement(ctx context.Context, id, userID int64) (agreement.Version, error)
	SignAgreement(ctx context.Context, id int64, u alinea.User) (agreement.Version, error)
	GoalPlan(ctx context.Context, period string) (agreement.Plan, error)
	Backtest(ctx context.Context, b *agreement.Backtest) ([]agreement.Report, error)
	ReevaluationStatus(ctx context.Context, agreementID int64) (store.Reevaluation, error)
	Users(ctx context.Context) ([]alinea.User, error)
}

// agreementPages show the revenue agreement both teams signed, and let them
// write, check, compare, backtest, sign and activate new versions.
type agreementPages struct {
	store agreementStore
	views *views
	now   func() time.Time
	// activate makes a version signed by both teams the active one and
	// queues the re-evaluation of every contact; nil when this server has
	// no job queue, and then it cannot activate.
	activate func(ctx context.Context, id, userID int64) (agreement.Version, error)
}

// overviewData is the page at /agreement.
type overviewData struct {
	Active   *versionHead
	Doc      *docView
	Reeval   *reevalView
	Pending  []versionRow
	Versions []versionRow
	Notice   string
	CanEdit  bool
}

// versionData is the page of one version.
type versionData struct {
	Head       versionHead
	Doc        docView
	Editor     *editorView
	Sign       signView
	Steps      []stepView
	Compare    compareView
	Backtest   backtestView
	Versions   []versionRow
	Audit      []auditRow
	Notice     string
	Error      string
	CanEdit    bool
	CanPropose bool
}

// versionHead is what names a version and where it is in its life.
type versionHead struct {
	ID          int64
	Name        string
	Description string
	State       string
	StateLabel  string
	BasedOn     int64
	CreatedBy   string
	CreatedAt   time.Time
	ProposedAt  *time.Time
	ActivatedAt *time.Time
	Signatures  []signatureRow
}

type signatureRow struct {
	Team     string
	Signed   bool
	By       string
	SignedAt time.Time
}

// stepView is one step of a version's life, for the sign-off box.
type stepView struct {
	Label         string
	Done, Current bool
}

// signView is the sign-off box: who has signed, what this user may do.
type signView struct {
	Proposed    bool
	MyTeam      string
	CanSign     bool
	CanActivate bool
	Note        string
}

// editorView is a draft's source with what keeps it from being proposed.
type editorView struct {
	Source   string
	Problems []problemView
	// Checked means Problems is the full answer: none means the text is
	// valid and may be proposed.
	Checked bool
	Unsaved bool
	Error   string
}

type versionRow struct {
	ID         int64
	Name       string
	State      string
	StateLabel string
	Date       time.Time
	Signed     string
	Current    bool
}

type auditRow struct {
	Who, What string
	At        time.Time
}

type reevalView struct {
	Done     bool
	Failed   bool
	Text     string
	Progress float64
}

func newAgreementPages(cfg Config, views *views) *agreementPages {
	h := &agreementPages{store: cfg.Store, views: views, now: cfg.Now}
	if cfg.Jobs != nil {
		h.activate = func(ctx context.Context, id, userID int64) (agreement.Version, error) {
			return jobs.Activate(ctx, cfg.Store, cfg.Jobs, id, userID)
		}
	}
	return h
}

func (h *agreementPages) overview(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	l := v.Lang
	versions, err := h.store.Agreements(ctx)
	if err != nil {
		return err
	}
	names, err := h.userNames(ctx)
	if err != nil {
		return err
	}
	data := overviewData{CanEdit: roleMayUse(v.User.Role, agreementEditors)}
	var activeID int64
	for _, ver := range versions {
		if ver.Status == agreement.StatusActive {
			activeID = ver.ID
		}
	}
	if data.Versions, err = h.versionRows(ctx, l, versions); err != nil {
		return err
	}
	for _, row := range data.Versions {
		if row.State == "proposed" || row.State == "signed" {
			data.Pending = append(data.Pending, row)
		}
	}
	if activeID != 0 {
		active, err := h.store.Agreement(ctx, activeID)
		if err != nil {
			return err
		}
		head := newVersionHead(l, active, names)
		data.Active = &head
		doc := newDocView(l, active.Document)
		if err := h.addGoalPlans(ctx, l, &doc); err != nil {
			return err
		}
		data.Doc = &doc
		re, err := h.store.ReevaluationStatus(ctx, activeID)
		switch {
		case err == nil:
			data.Reeval = newReevalView(l, re)
		case alinea.ErrorCode(err) != alinea.ENOTFOUND:
			return err
		}
	}
	if id, _ := strconv.ParseInt(r.URL.Query().Get("activated"), 10, 64); id > 0 {
		data.Notice = l.T("agreement.notice_activated", id)
	}
	return h.views.render(w, r, v, http.StatusOK, "agreement", l.T("agreement.title"), data)
}

// addGoalPlans adds the reverse funnel of the current and next goals under
// the active agreement, with rates measured from history.
func (h *agreementPages) addGoalPlans(ctx context.Context, l *locale, doc *docView) error {
	now := h.now()
	planned := 0
	for i := range doc.Goals {
		g := &doc.Goals[i]
		if planned == maxGoalPlans || !g.period.To.After(now) {
			continue
		}
		plan, err := h.store.GoalPlan(ctx, g.Period)
		if alinea.ErrorCode(err) == alinea.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		g.Plan = newPlanView(l, plan, true)
		planned++
	}
	return nil
}

func (h *agreementPages) version(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	notice := ""
	q := r.URL.Query()
	switch {
	case q.Has("created"):
		notice = v.Lang.T("agreement.notice_created")
	case q.Has("saved"):
		notice = v.Lang.T("agreement.notice_saved")
	case q.Has("proposed"):
		notice = v.Lang.T("agreement.notice_proposed")
	case q.Has("signed"):
		notice = v.Lang.T("agreement.notice_signed")
	}
	return h.render(w, r, v, http.StatusOK, id, pageState{notice: notice})
}

// pageState is what an action leaves for the version page to show: a
// notice, an error, or the editor's unsaved text with its problems.
type pageState struct {
	notice string
	err    string
	editor *editorView
}

// save stores a draft's new text. Text that does not even parse is not
// stored: the page comes back with it and where it breaks.
func (h *agreementPages) save(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src := formSource(r)
	_, err = h.store.UpdateAgreementDraft(r.Context(), id, []byte(src), v.User.ID)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/agreement/versions/%d?saved=1#editor", id), http.StatusSeeOther)
		return nil
	}
	ed := &editorView{Source: src, Unsaved: true, Checked: true}
	switch alinea.ErrorCode(err) {
	case alinea.EINVALID:
		_, perr := agreement.Parse([]byte(src))
		ed.Problems = problemViews(v.Lang, []byte(src), perr)
		ed.Error = v.Lang.T("agreement.error_not_saved")
		return h.render(w, r, v, http.StatusUnprocessableEntity, id, pageState{editor: ed})
	case alinea.ECONFLICT:
		return h.render(w, r, v, http.StatusConflict, id, pageState{editor: ed, err: v.Lang.T("agreement.error_not_draft")})
	}
	return err
}

// validate checks the text in the editor without storing it.
func (h *agreementPages) validate(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src := formSource(r)
	doc, err := agreement.Parse([]byte(src))
	if err == nil {
		_, err = agreement.Compile(doc)
	}
	ed := &editorView{Source: src, Unsaved: true, Checked: true, Problems: problemViews(v.Lang, []byte(src), err)}
	return h.render(w, r, v, http.StatusOK, id, pageState{editor: ed})
}

// newDraft starts a draft from a version's text, or from the commented
// example when there is no version to start from.
func (h *agreementPages) newDraft(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	basedOn, _ := strconv.ParseInt(r.PostForm.Get("based_on"), 10, 64)
	src := agreement.Example
	if basedOn > 0 {
		base, err := h.store.Agreement(ctx, basedOn)
		if err != nil {
			return err
		}
		src = []byte(base.Source)
	}
	draft, err := h.store.CreateAgreement(ctx, src, max(basedOn, 0), v.User.ID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/agreement/versions/%d?created=1#editor", draft.ID), http.StatusSeeOther)
	return nil
}

func (h *agreementPages) propose(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	_, err = h.store.ProposeAgreement(r.Context(), id, v.User.ID)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/agreement/versions/%d?proposed=1", id), http.StatusSeeOther)
		return nil
	}
	switch alinea.ErrorCode(err) {
	case alinea.EINVALID:
		return h.render(w, r, v, http.StatusUnprocessableEntity, id, pageState{err: v.Lang.T("agreement.error_cannot_propose")})
	case alinea.ECONFLICT:
		return h.render(w, r, v, http.StatusConflict, id, pageState{err: v.Lang.T("agreement.error_propose_not_draft")})
	}
	return err
}

// sign signs as the user: the store decides for which team, and refuses
// roles that do not sign, a second signature of a team and versions that
// are not proposed. Each refusal is explained in the user's language.
func (h *agreementPages) sign(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	_, err = h.store.SignAgreement(ctx, id, *v.User)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/agreement/versions/%d?signed=1#signoff", id), http.StatusSeeOther)
		return nil
	}
	code := alinea.ErrorCode(err)
	if code != alinea.EFORBIDDEN && code != alinea.ECONFLICT {
		return err
	}
	cur, gerr := h.store.Agreement(ctx, id)
	if gerr != nil {
		return gerr
	}
	l := v.Lang
	team := agreement.SigningTeam(v.User.Role)
	msg := l.T("agreement.error_sign_other")
	status := http.StatusConflict
	switch {
	case team == "":
		msg, status = l.T("agreement.error_role_cannot_sign", roleName(l, v.User.Role)), http.StatusForbidden
	case cur.Status != agreement.StatusProposed:
		msg = l.T("agreement.error_sign_not_proposed", stateLabel(l, displayState(cur)))
	case cur.SignedBy(team):
		msg = l.T("agreement.error_team_signed", teamName(l, team), signerOf(cur, team))
	case code == alinea.EFORBIDDEN:
		msg, status = l.T("agreement.error_signed_other_team"), http.StatusForbidden
	}
	return h.render(w, r, v, status, id, pageState{err: msg})
}

func (h *agreementPages) activateVersion(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l := v.Lang
	if h.activate == nil {
		return h.render(w, r, v, http.StatusServiceUnavailable, id, pageState{err: l.T("agreement.error_no_queue")})
	}
	_, err = h.activate(r.Context(), id, v.User.ID)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/agreement?activated=%d", id), http.StatusSeeOther)
		return nil
	}
	if alinea.ErrorCode(err) != alinea.ECONFLICT {
		return err
	}
	cur, gerr := h.store.Agreement(r.Context(), id)
	if gerr != nil {
		return gerr
	}
	msg := l.T("agreement.error_activate_not_proposed", stateLabel(l, displayState(cur)))
	if cur.Status == agreement.StatusProposed {
		var missing []string
		for _, team := range []string{"marketing", "sales"} {
			if !cur.SignedBy(team) {
				missing = append(missing, teamName(l, team))
			}
		}
		msg = l.T("agreement.error_activate_unsigned", strings.Join(missing, " · "))
	}
	return h.render(w, r, v, http.StatusConflict, id, pageState{err: msg})
}

// render builds a version's page.
func (h *agreementPages) render(w http.ResponseWriter, r *http.Request, v *visit, status int, id int64, st pageState) error {
	ctx := r.Context()
	l := v.Lang
	ver, err := h.store.Agreement(ctx, id)
	if err != nil {
		return err
	}
	versions, err := h.store.Agreements(ctx)
	if err != nil {
		return err
	}
	names, err := h.userNames(ctx)
	if err != nil {
		return err
	}
	var active *agreement.Version
	for i := range versions {
		if versions[i].Status == agreement.StatusActive {
			active = &versions[i]
		}
	}
	data := versionData{Head: newVersionHead(l, ver, names), Doc: newDocView(l, ver.Document), Notice: st.notice, Error: st.err,
		CanEdit: roleMayUse(v.User.Role, agreementEditors)}
	// A version that stopped being a draft while someone edited it still
	// shows their text, so that nothing typed is lost.
	if ver.Status == agreement.StatusDraft || st.editor != nil {
		data.CanPropose = data.CanEdit && ver.Status == agreement.StatusDraft
		ed := st.editor
		if ed == nil {
			_, cerr := agreement.Compile(ver.Document)
			ed = &editorView{Source: ver.Source, Checked: true, Problems: problemViews(l, []byte(ver.Source), cerr)}
		}
		if !data.CanEdit {
			ed = nil
		}
		data.Editor = ed
	}
	if ver.Status == agreement.StatusActive {
		if err := h.addGoalPlans(ctx, l, &data.Doc); err != nil {
			return err
		}
	} else {
		data.Doc.addAssumedPlans(l, h.now())
	}
	data.Sign = newSignView(l, v.User.Role, ver)
	data.Steps = lifecycleSteps(l, data.Head.State)
	data.Sign.CanActivate = data.Sign.CanActivate && roleMayUse(v.User.Role, agreementEditors)
	if data.Versions, err = h.versionRows(ctx, l, versions); err != nil {
		return err
	}
	for i := range data.Versions {
		data.Versions[i].Current = data.Versions[i].ID == id
	}
	audit, err := h.store.AgreementAudit(ctx, id)
	if err != nil {
		return err
	}
	for _, e := range audit {
		data.Audit = append(data.Audit, auditRow{Who: agreementUser(l, names, e.UserID), What: auditText(l, e), At: e.At})
	}
	slices.Reverse(data.Audit)
	data.Compare = compareWith(l, ver, versions, active, r.URL.Query().Get("with"))
	data.Backtest = h.backtest(r, l, ver, active)
	return h.views.render(w, r, v, status, "agreement_version", l.T("agreement.version_title", ver.ID), data)
}

// backtest runs the backtest the page asked for (?backtest=1), of this
// version and the active one side by side. It runs on request only: at a
// million contacts it takes tens of seconds.
func (h *agreementPages) backtest(r *http.Request, l *locale, ver agreement.Version, active *agreement.Version) backtestView {
	q := r.URL.Query()
	now := h.now()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	bt := backtestView{From: thisMonth.AddDate(-1, 0, 0).Format("2006-01"), To: thisMonth.AddDate(0, -1, 0).Format("2006-01")}
	if !q.Has("backtest") {
		return bt
	}
	if s := q.Get("from"); s != "" {
		bt.From = s
	}
	if s := q.Get("to"); s != "" {
		bt.To = s
	}
	from, ferr := time.Parse("2006-01", bt.From)
	to, terr := time.Parse("2006-01", bt.To)
	switch {
	case ferr != nil || terr != nil:
		bt.Error = l.T("agreement.backtest_bad_month")
		return bt
	case to.Before(from):
		bt.Error = l.T("agreement.backtest_bad_range")
		return bt
	case to.Sub(from) > 5*366*24*time.Hour:
		bt.Error = l.T("agreement.backtest_too_long")
		return bt
	}
	c, err := agreement.Compile(ver.Document)
	if err != nil {
		bt.Error = l.T("agreement.backtest_invalid")
		return bt
	}
	labels := []string{l.T("agreement.backtest_this", ver.ID)}
	compiled := []*agreement.Compiled{c}
	if active != nil && active.ID != ver.ID {
		if ac, err := agreement.Compile(active.Document); err == nil {
			labels = append(labels, l.T("agreement.backtest_active", active.ID))
			compiled = append(compiled, ac)
		}
	}
	reports, err := h.store.Backtest(r.Context(), agreement.NewBacktest(from, to.AddDate(0, 1, 0), labels, compiled))
	if err != nil {
		bt.Error = l.T("agreement.backtest_failed")
		return bt
	}
	bt.fill(l, reports, ver.Document.Currency)
	return bt
}

// formSource is the editor's text with the browser's CRLF line ends made
// LF again, as the text was written.
func formSource(r *http.Request) string {
	return strings.ReplaceAll(r.PostForm.Get("source"), "\r\n", "\n")
}

func (h *agreementPages) userNames(ctx context.Context) (map[int64]string, error) {
	users, err := h.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	return userNames(users), nil
}

// versionRows lists versions for the side list; proposed versions are read
// with their signatures to tell "waiting" from "signed by both".
func (h *agreementPages) versionRows(ctx context.Context, l *locale, versions []agreement.Version) ([]versionRow, error) {
	out := make([]versionRow, 0, len(versions))
	for _, ver := range versions {
		if ver.Status == agreement.StatusProposed {
			full, err := h.store.Agreement(ctx, ver.ID)
			if err != nil {
				return nil, err
			}
			ver = full
		}
		row := versionRow{ID: ver.ID, Name: ver.Name, State: displayState(ver), Date: ver.UpdatedAt}
		row.StateLabel = stateLabel(l, row.State)
		if ver.ActivatedAt != nil && ver.Status == agreement.StatusActive {
			row.Date = *ver.ActivatedAt
		}
		if ver.Status == agreement.StatusProposed {
			row.Signed = l.T("agreement.signatures_count", len(ver.Signatures))
		}
		out = append(out, row)
	}
	return out, nil
}

func newVersionHead(l *locale, ver agreement.Version, names map[int64]string) versionHead {
	head := versionHead{ID: ver.ID, Name: ver.Name, Description: strings.TrimSpace(ver.Document.Description), State: displayState(ver),
		BasedOn: ver.BasedOn, CreatedBy: agreementUser(l, names, ver.CreatedBy), CreatedAt: ver.CreatedAt,
		ProposedAt: ver.ProposedAt, ActivatedAt: ver.ActivatedAt}
	head.StateLabel = stateLabel(l, head.State)
	for _, team := range []string{"marketing", "sales"} {
		row := signatureRow{Team: teamName(l, team)}
		for _, s := range ver.Signatures {
			if s.Team == team {
				row.Signed, row.By, row.SignedAt = true, s.UserName, s.SignedAt
			}
		}
		head.Signatures = append(head.Signatures, row)
	}
	return head
}

func newSignView(l *locale, role alinea.Role, ver agreement.Version) signView {
	sv := signView{Proposed: ver.Status == agreement.StatusProposed, MyTeam: agreement.SigningTeam(role)}
	if !sv.Proposed {
		return sv
	}
	both := ver.SignedBy("marketing") && ver.SignedBy("sales")
	switch {
	case sv.MyTeam == "":
		sv.Note = l.T("agreement.sign_role_cannot", roleName(l, role))
	case ver.SignedBy(sv.MyTeam):
		sv.Note = l.T("agreement.sign_team_done", teamName(l, sv.MyTeam))
	default:
		sv.CanSign = true
	}
	sv.CanActivate = both
	if sv.MyTeam != "" {
		sv.MyTeam = teamName(l, sv.MyTeam)
	}
	return sv
}

// lifecycleSteps are draft, proposed, signed by both, active; a superseded
// version went through all of them.
func lifecycleSteps(l *locale, state string) []stepView {
	order := []string{"draft", "proposed", "signed", "active"}
	at := slices.Index(order, state)
	if state == "superseded" {
		at = len(order)
	}
	out := make([]stepView, len(order))
	for i, st := range order {
		out[i] = stepView{Label: stateLabel(l, st), Done: i < at || (i == at && st == "active"), Current: i == at}
	}
	return out
}

func newReevalView(l *locale, re store.Reevaluation) *reevalView {
	rv := &reevalView{}
	if re.Total > 0 {
		rv.Progress = min(1, float64(re.Done)/float64(re.Total))
	}
	switch re.Status {
	case "done":
		rv.Done, rv.Progress = true, 1
		rv.Text = l.T("agreement.reeval_done", l.Int(re.Total))
	case "failed":
		rv.Failed = true
		rv.Text = l.T("agreement.reeval_failed")
	default:
		rv.Text = l.T("agreement.reeval_running", l.Int(re.Done), l.Int(re.Total), l.Percent(rv.Progress))
	}
	return rv
}

func signerOf(v agreement.Version, team string) string {
	for _, s := range v.Signatures {
		if s.Team == team {
			return s.UserName
		}
	}
	return ""
}

// roleMayUse reports whether a role is among those a route admits (admin always).
func roleMayUse(role alinea.Role, roles []alinea.Role) bool {
	return role == alinea.RoleAdmin || slices.Contains(roles, role)
}

// displayState is a version's state as people say it: a proposed version
// both teams signed is "signed", waiting to be activated.
func displayState(v agreement.Version) string {
	if v.Status == agreement.StatusProposed && v.SignedBy("marketing") && v.SignedBy("sales") {
		return "signed"
	}
	return string(v.Status)
}

func stateLabel(l *locale, state string) string {
	switch state {
	case "draft":
		return l.T("agreement.state_draft")
	case "proposed":
		return l.T("agreement.state_proposed")
	case "signed":
		return l.T("agreement.state_signed")
	case "active":
		return l.T("agreement.state_active")
	case "superseded":
		return l.T("agreement.state_superseded")
	}
	return state
}

func teamName(l *locale, team string) string {
	switch team {
	case "marketing":
		return l.T("agreement.team_marketing")
	case "sales":
		return l.T("agreement.team_sales")
	}
	return team
}

func agreementUser(l *locale, names map[int64]string, id int64) string {
	if n, ok := names[id]; ok {
		return n
	}
	if id == 0 {
		return l.T("agreement.audit_system")
	}
	return l.T("actor.former_user")
}

func auditText(l *locale, e agreement.AuditEntry) string {
	switch e.Action {
	case "created":
		return l.T("agreement.audit_created")
	case "edited":
		return l.T("agreement.audit_edited")
	case "proposed":
		return l.T("agreement.audit_proposed")
	case "signed":
		return l.T("agreement.audit_signed", teamName(l, e.Detail))
	case "activated":
		return l.T("agreement.audit_activated")
	}
	return e.Action
}

// compareView is the table of changes from another version to this one.
type compareView struct {
	With    int64
	Options []option
	Changes []changeRow
	Note    string
}

// compareWith diffs this version against ?with=, else the active version,
// else the version it was based on, else the one before it.
func compareWith(l *locale, ver agreement.Version, versions []agreement.Version, active *agreement.Version, with string) compareView {
	cv := compareView{}
	withID, _ := strconv.ParseInt(with, 10, 64)
	byID := map[int64]*agreement.Version{}
	for i := range versions {
		byID[versions[i].ID] = &versions[i]
	}
	if byID[withID] == nil || withID == ver.ID {
		withID = 0
		switch {
		case active != nil && active.ID != ver.ID:
			withID = active.ID
		case byID[ver.BasedOn] != nil && ver.BasedOn != ver.ID:
			withID = ver.BasedOn
		default:
			for _, o := range versions { // newest first
				if o.ID < ver.ID {
					withID = o.ID
					break
				}
			}
		}
	}
	for _, o := range versions {
		if o.ID == ver.ID {
			continue
		}
		label := l.T("agreement.compare_option", o.ID, stateLabel(l, string(o.Status)))
		cv.Options = append(cv.Options, option{Value: strconv.FormatInt(o.ID, 10), Label: label, Selected: o.ID == withID})
	}
	if withID == 0 {
		cv.Note = l.T("agreement.compare_none")
		return cv
	}
	cv.With = withID
	cv.Changes = changeRows(l, agreement.Diff(byID[withID].Document, ver.Document))
	if len(cv.Changes) == 0 {
		cv.Note = l.T("agreement.compare_same", withID)
	}
	return cv
}
