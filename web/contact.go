package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
)

// timelinePage is how many timeline entries the contact page shows at once.
const timelinePage = 30

// maxReason matches the API's limit on a transition's reason.
const maxReason = 1000

// contactStore is what the contact page reads and writes.
type contactStore interface {
	Contact(ctx context.Context, id int64) (alinea.Contact, error)
	Account(ctx context.Context, id int64) (alinea.Account, error)
	Users(ctx context.Context) ([]alinea.User, error)
	Transitions(ctx context.Context, contactID int64) ([]alinea.Transition, error)
	Timeline(ctx context.Context, q alinea.TimelineQuery) ([]alinea.TimelineItem, error)
	ContactScore(ctx context.Context, contactID int64) (store.Score, error)
	ActiveAgreement(ctx context.Context) (agreement.Version, error)
	AddNote(ctx context.Context, contactID, authorID int64, body string) (alinea.Note, error)
	Transition(ctx context.Context, contactID int64, req alinea.TransitionRequest) (alinea.Transition, error)
}

// contactPage shows one contact with everything both teams know about it,
// and takes notes and manual stage changes.
type contactPage struct {
	store contactStore
	views *views
	now   func() time.Time
}

type contactData struct {
	ID         int64
	Name       string
	Initials   string
	JobTitle   string
	Company    string
	Stage      alinea.Stage
	Mode       alinea.Mode
	StageSince time.Time
	Owner      string
	Grade      string
	Details    []detail
	Custom     []detail
	Why        *whyView
	Score      *scoreView
	ScoreNote  string
	Timeline   []timelineEntry
	More       string
	Note       noteForm
	StageForm  stageForm
	Notice     string
}

type detail struct {
	Label, Value string
	// Href links a value (mailto:, tel:) built from validated fields only.
	Href template.URL
}

// noteForm and stageForm keep what was typed when a form comes back with
// an error.
type noteForm struct {
	Body, Error string
}

type stageForm struct {
	Options []option
	Reason  string
	Error   string
}

type whyView struct {
	Summary    string
	By         string
	At         time.Time
	Reason     string
	Definition string
	Expression string
	Rules      []whyRule
	Scores     string
}

type whyRule struct {
	Name, Axis, Points string
}

type scoreView struct {
	Version     int64
	Fit         int
	Engagement  int
	Grade       string
	FitRules    []scoreRule
	Engaged     []scoreRule
	Definitions []definitionView
}

type scoreRule struct {
	Name    string
	Points  string
	Detail  string
	Counted bool
}

type definitionView struct {
	Name    string
	Met     bool
	Next    bool
	Missing []missingItem
}

// missingItem is something a contact lacks for a definition: a sentence,
// or a rule's expression shown as code.
type missingItem struct {
	Text string
	Code bool
}

type timelineEntry struct {
	Kind      string
	KindLabel string
	At        time.Time
	Title     string
	Detail    string
	Body      string
}

func (h *contactPage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, id, noteForm{}, stageForm{})
}

func (h *contactPage) addNote(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	body := r.PostForm.Get("body")
	_, err = h.store.AddNote(r.Context(), id, v.User.ID, body)
	if alinea.ErrorCode(err) == alinea.EINVALID {
		form := noteForm{Body: body, Error: v.Lang.T("note.error_too_long", 20000)}
		if strings.TrimSpace(body) == "" {
			form.Error = v.Lang.T("note.error_required")
		}
		return h.render(w, r, v, http.StatusUnprocessableEntity, id, form, stageForm{})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d?saved=note#timeline", id), http.StatusSeeOther)
	return nil
}

func (h *contactPage) changeStage(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := h.store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	to := alinea.Stage(r.PostForm.Get("to"))
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	form := stageForm{Reason: r.PostForm.Get("reason")}
	status := http.StatusUnprocessableEntity
	switch {
	case to == "":
		form.Error = v.Lang.T("stage_form.error_choose")
	case !to.Valid():
		form.Error = v.Lang.T("stage_form.error_unknown")
	case utf8.RuneCountInString(reason) > maxReason:
		form.Error = v.Lang.T("stage_form.error_reason_too_long", maxReason)
	default:
		why, _ := json.Marshal(map[string]string{"via": "ui"})
		_, err = h.store.Transition(r.Context(), id, alinea.TransitionRequest{To: to, Reason: reason, Why: why,
			Actor: alinea.Actor{Type: alinea.ActorUser, UserID: v.User.ID, Role: v.User.Role}})
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/contacts/%d?saved=stage#stage", id), http.StatusSeeOther)
			return nil
		}
		switch alinea.ErrorCode(err) {
		case alinea.EFORBIDDEN:
			status = http.StatusForbidden
			form.Error = v.Lang.T("stage_form.error_forbidden", roleName(v.Lang, v.User.Role), stageName(v.Lang, to))
		case alinea.ECONFLICT:
			form.Error = v.Lang.T("stage_form.error_same", stageName(v.Lang, to))
		case alinea.EINVALID:
			if alinea.ErrorFields(err)["reason"] != "" {
				form.Error = v.Lang.T("stage_form.error_reason_required", stageName(v.Lang, to))
			} else {
				form.Error = v.Lang.T("stage_form.error_backwards", stageName(v.Lang, c.Stage), stageName(v.Lang, to))
			}
		default:
			return err
		}
	}
	form.Options = stageOptions(v.Lang, v.User.Role, c.Stage, to)
	return h.render(w, r, v, status, id, noteForm{}, form)
}

// render builds the contact page; the forms carry what was typed when one
// came back with an error.
func (h *contactPage) render(w http.ResponseWriter, r *http.Request, v *visit, status int, id int64, note noteForm, stage stageForm) error {
	ctx := r.Context()
	l := v.Lang
	c, err := h.store.Contact(ctx, id)
	if err != nil {
		return err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	names := userNames(users)
	var active *agreement.Version
	if a, err := h.store.ActiveAgreement(ctx); err == nil {
		active = &a
	} else if alinea.ErrorCode(err) != alinea.ENOTFOUND {
		return err
	}
	var reasons []agreement.RejectionReason
	if active != nil {
		reasons = active.Document.RejectionReasons
	}

	data := contactData{ID: c.ID, Name: displayName(c), Initials: initials(c), JobTitle: c.JobTitle, Stage: c.Stage, Mode: c.Mode, StageSince: c.StageChangedAt,
		Owner: names[c.OwnerID], Note: note, StageForm: stage}
	if c.AccountID != 0 {
		a, err := h.store.Account(ctx, c.AccountID)
		if err != nil && alinea.ErrorCode(err) != alinea.ENOTFOUND {
			return err
		}
		data.Company = a.Name
	}
	data.Details = contactDetails(l, c, data.Company)
	data.Custom = customProperties(l, c.Properties)

	history, err := h.store.Transitions(ctx, id)
	if err != nil {
		return err
	}
	if len(history) > 0 {
		data.Why = explainTransition(l, history[len(history)-1], names, active, reasons)
	}

	if active == nil {
		data.ScoreNote = l.T("score.no_agreement")
	} else {
		sc, err := h.store.ContactScore(ctx, id)
		switch {
		case err == nil:
			data.Score = explainScore(l, sc, c.Stage)
			data.Grade = sc.Result.Grade
		case alinea.ErrorCode(err) == alinea.ENOTFOUND:
			data.ScoreNote = l.T("score.no_agreement")
		default:
			return err
		}
	}

	q := alinea.TimelineQuery{ContactID: id, Limit: timelinePage + 1}
	if before := cursorParam(r.URL.Query().Get("before")); before > 0 {
		q.Before = time.UnixMilli(before)
	}
	items, err := h.store.Timeline(ctx, q)
	if err != nil {
		return err
	}
	if len(items) > timelinePage {
		items = items[:timelinePage]
		data.More = fmt.Sprintf("/contacts/%d?%s#timeline", id, url.Values{"before": {strconv.FormatInt(items[len(items)-1].At.UnixMilli(), 10)}}.Encode())
	}
	for _, it := range items {
		data.Timeline = append(data.Timeline, timelineItem(l, it, names, reasons))
	}

	if data.StageForm.Options == nil {
		data.StageForm.Options = stageOptions(l, v.User.Role, c.Stage, "")
	}
	switch r.URL.Query().Get("saved") {
	case "note":
		data.Notice = l.T("contact.saved_note")
	case "stage":
		data.Notice = l.T("contact.saved_stage", stageName(l, c.Stage))
	}
	return h.views.render(w, r, v, status, "contact", data.Name, data)
}

// stageOptions are the stages a role may move a contact to by hand, the
// current one left out.
func stageOptions(l *locale, role alinea.Role, current, selected alinea.Stage) []option {
	var out []option
	for _, s := range alinea.AllStages {
		if s == current || !alinea.CanMoveTo(role, s) {
			continue
		}
		out = append(out, option{Value: string(s), Label: stageName(l, s), Selected: s == selected})
	}
	return out
}

func contactDetails(l *locale, c alinea.Contact, company string) []detail {
	var out []detail
	add := func(label, value string, href template.URL) {
		if value != "" {
			out = append(out, detail{Label: label, Value: value, Href: href})
		}
	}
	// Emails and phones were validated on the way in (NormalizeEmail and
	// the phone's digits and + ( ) - . only), so these links are safe.
	add(l.T("contact.email"), c.Email, template.URL("mailto:"+c.Email))
	add(l.T("contact.phone"), c.Phone, template.URL("tel:"+strings.ReplaceAll(c.Phone, " ", "")))
	add(l.T("contact.job_title"), c.JobTitle, "")
	if company != "" {
		// The company links to its account page.
		add(l.T("contact.company"), company, template.URL(fmt.Sprintf("/accounts/%d", c.AccountID)))
	}
	add(l.T("contact.country"), l.Country(c.Country), "")
	add(l.T("contact.source"), c.Source, "")
	add(l.T("contact.consent"), l.T("consent."+string(c.Consent)), "")
	add(l.T("contact.external_id"), c.ExternalID, "")
	add(l.T("contact.created"), l.DateTime(c.CreatedAt), "")
	add(l.T("contact.updated"), l.DateTime(c.UpdatedAt), "")
	return out
}

// customProperties lists a contact's own properties, sorted by name.
func customProperties(l *locale, raw json.RawMessage) []detail {
	var props map[string]any
	if json.Unmarshal(raw, &props) != nil {
		return nil
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]detail, 0, len(keys))
	for _, k := range keys {
		var value string
		switch x := props[k].(type) {
		case string:
			value = x
		case float64:
			value = l.Decimal(x, 2)
		case bool:
			value = l.T("common.no")
			if x {
				value = l.T("common.yes")
			}
		case nil:
			continue
		default:
			b, _ := json.Marshal(x)
			value = string(b)
		}
		out = append(out, detail{Label: k, Value: value})
	}
	return out
}

// transitionWhy is the why of a transition as its writers store it: the
// agreement's evaluation (rules as objects with points), the demo and older
// rules (rule names), people through the UI (via) and creation (event).
type transitionWhy struct {
	Event            string            `json:"event"`
	Via              string            `json:"via"`
	Definition       string            `json:"definition"`
	When             string            `json:"when"`
	AgreementVersion int64             `json:"agreement_version"`
	Fit              *int              `json:"fit"`
	Engagement       *int              `json:"engagement"`
	Grade            string            `json:"grade"`
	Rules            []json.RawMessage `json:"rules"`
	DealLost         string            `json:"deal_lost"`
}

// explainTransition says in words why a contact is in its stage.
func explainTransition(l *locale, t alinea.Transition, names map[int64]string, active *agreement.Version, reasons []agreement.RejectionReason) *whyView {
	var why transitionWhy
	_ = json.Unmarshal(t.Why, &why) // an unreadable why leaves only who and when
	w := &whyView{At: t.At, By: actorName(l, t.Actor, t.AgreementVersion, names)}
	if t.From == "" || why.Event == "created" {
		w.Summary = l.T("why.created", stageName(l, t.To))
	} else {
		w.Summary = l.T("why.moved", stageName(l, t.From), stageName(l, t.To))
	}
	if t.Reason != "" && t.Actor.Type != alinea.ActorRule {
		w.Reason = reasonLabel(l, reasons, t.Reason)
	}
	if why.DealLost != "" {
		w.Reason = l.T("why.deal_lost", reasonLabel(l, reasons, why.DealLost))
	}
	switch why.Definition {
	case "":
	case "lead", "mql", "sql":
		w.Definition = l.T("why.definition_met", l.T("definition."+why.Definition))
		if active != nil && active.ID == t.AgreementVersion {
			if d := definitionOf(active.Document, why.Definition); d.Description != "" {
				w.Definition += " — " + d.Description
			}
		}
		w.Expression = why.When
	default:
		w.Definition = l.T("why.definition_text", why.Definition)
	}
	for _, raw := range why.Rules {
		var name string
		if json.Unmarshal(raw, &name) == nil {
			w.Rules = append(w.Rules, whyRule{Name: name})
			continue
		}
		var r struct {
			Rule   string  `json:"rule"`
			Axis   string  `json:"axis"`
			Points float64 `json:"points"`
		}
		if json.Unmarshal(raw, &r) == nil && r.Rule != "" {
			w.Rules = append(w.Rules, whyRule{Name: r.Rule, Axis: axisName(l, r.Axis), Points: signed(l, r.Points)})
		}
	}
	if why.Fit != nil && why.Engagement != nil {
		w.Scores = l.T("why.scores", *why.Fit, *why.Engagement, why.Grade)
	}
	return w
}

func definitionOf(doc agreement.Document, name string) agreement.Definition {
	switch name {
	case "lead":
		return doc.Definitions.Lead
	case "mql":
		return doc.Definitions.MQL
	case "sql":
		return doc.Definitions.SQL
	}
	return agreement.Definition{}
}

func axisName(l *locale, axis string) string {
	switch axis {
	case "fit":
		return l.T("score.fit")
	case "engagement":
		return l.T("score.engagement")
	}
	return axis
}

// actorName says who made a change: a person by name, the agreement (by
// version), the API, an import or Alinea itself.
func actorName(l *locale, a alinea.Actor, version int64, names map[int64]string) string {
	switch a.Type {
	case alinea.ActorUser:
		if n := names[a.UserID]; n != "" {
			return n
		}
		return l.T("actor.former_user")
	case alinea.ActorRule:
		if version > 0 {
			return l.T("actor.rule_version", version)
		}
		return l.T("actor.rule")
	case alinea.ActorAPI:
		return l.T("actor.api")
	case alinea.ActorImport:
		return l.T("actor.import")
	}
	return l.T("actor.system")
}

// signed writes points with their sign (+20, −30, +12,5).
func signed(l *locale, v float64) string {
	if v < 0 {
		return "−" + l.Decimal(-v, 1)
	}
	return "+" + l.Decimal(v, 1)
}

// explainScore turns an evaluation into the rules that gave points and,
// for each definition, what the contact still lacks. The next definition is
// the first unmet one ahead of the contact's stage.
func explainScore(l *locale, sc store.Score, stage alinea.Stage) *scoreView {
	res := sc.Result
	s := &scoreView{Version: sc.AgreementVersion, Fit: res.Fit, Engagement: res.Engagement, Grade: res.Grade}
	for _, f := range res.FitRules {
		s.FitRules = append(s.FitRules, scoreRule{Name: f.Rule, Points: signed(l, float64(f.Points)), Counted: f.Matched})
	}
	for _, e := range res.Engaged {
		r := scoreRule{Name: e.Rule, Points: signed(l, e.Points), Counted: e.Points != 0, Detail: l.T("score.events", e.Events, e.Event)}
		if e.Capped {
			r.Detail += " · " + l.T("score.capped")
		}
		s.Engaged = append(s.Engaged, r)
	}
	next := false
	for _, d := range res.Definitions {
		dv := definitionView{Name: l.T("definition." + d.Name), Met: d.Met}
		if ahead := alinea.Stage(d.Name).Rank() > stage.Rank(); !d.Met && !next && ahead {
			dv.Next, next = true, true
		}
		for _, m := range d.Missing {
			dv.Missing = append(dv.Missing, missingText(l, m))
		}
		s.Definitions = append(s.Definitions, dv)
	}
	return s
}

// missingText shows one missing part of a definition in the reader's
// language: the agreement package writes the score gaps as English
// sentences of a fixed shape and the unmet rules as their expressions.
func missingText(l *locale, m string) missingItem {
	var more, has, needs int
	if _, err := fmt.Sscanf(m, "%d more points of fit (has %d, needs %d)", &more, &has, &needs); err == nil {
		return missingItem{Text: l.T("score.missing_fit", more, has, needs)}
	}
	if _, err := fmt.Sscanf(m, "%d more points of engagement (has %d, needs %d)", &more, &has, &needs); err == nil {
		return missingItem{Text: l.T("score.missing_engagement", more, has, needs)}
	}
	if m == "an email address" {
		return missingItem{Text: l.T("score.missing_email")}
	}
	return missingItem{Text: m, Code: true}
}

// timelineItem turns one timeline entry into a sentence and its details.
func timelineItem(l *locale, it alinea.TimelineItem, names map[int64]string, reasons []agreement.RejectionReason) timelineEntry {
	e := timelineEntry{Kind: it.Kind, At: it.At}
	switch it.Kind {
	case "event":
		e.KindLabel = l.T("timeline.kind_event")
		var ev alinea.Event
		if json.Unmarshal(it.Data, &ev) != nil {
			break
		}
		e.Title, e.Detail = eventText(l, ev)
	case "transition":
		e.KindLabel = l.T("timeline.kind_transition")
		var t alinea.Transition
		if json.Unmarshal(it.Data, &t) != nil {
			break
		}
		if t.From == "" {
			e.Title = l.T("timeline.created", stageName(l, t.To))
		} else {
			e.Title = l.T("timeline.transition", stageName(l, t.From), stageName(l, t.To))
		}
		e.Detail = l.T("timeline.by", actorName(l, t.Actor, t.AgreementVersion, names))
		if t.Reason != "" && t.Actor.Type != alinea.ActorRule {
			e.Detail += " · " + reasonLabel(l, reasons, t.Reason)
		}
	case "note":
		e.KindLabel = l.T("timeline.kind_note")
		var n alinea.Note
		if json.Unmarshal(it.Data, &n) != nil {
			break
		}
		author := names[n.AuthorID]
		if author == "" {
			author = l.T("actor.former_user")
		}
		e.Title, e.Body = l.T("timeline.note", author), n.Body
	case "deal":
		e.KindLabel = l.T("timeline.kind_deal")
		var d struct {
			DealName    string `json:"deal_name"`
			ToStage     string `json:"to_stage"`
			ActorUserID int64  `json:"actor_user_id"`
			Reason      string `json:"reason"`
		}
		if json.Unmarshal(it.Data, &d) != nil {
			break
		}
		e.Title = l.T("timeline.deal", d.DealName, pipelineStageName(l, d.ToStage))
		if d.ActorUserID != 0 {
			e.Detail = l.T("timeline.by", actorName(l, alinea.Actor{Type: alinea.ActorUser, UserID: d.ActorUserID}, 0, names))
		}
		if d.Reason != "" {
			e.Detail = strings.TrimPrefix(e.Detail+" · "+reasonLabel(l, reasons, d.Reason), " · ")
		}
	}
	if e.Title == "" {
		e.Title = it.Kind
	}
	return e
}

// eventText describes an event: a page by its title, a track call by its
// name (as the sender wrote it), and the campaign that brought it.
func eventText(l *locale, ev alinea.Event) (title, detail string) {
	var props struct {
		Title string `json:"title"`
		Path  string `json:"path"`
	}
	_ = json.Unmarshal(ev.Properties, &props)
	switch ev.Type {
	case "page", "screen":
		name := props.Title
		if name == "" {
			name = ev.Name
		}
		if name == "" {
			name = props.Path
		}
		title, detail = l.T("timeline.page", name), props.Path
	case "track":
		title = l.T("timeline.track", ev.Name)
	case "identify":
		title = l.T("timeline.identify")
	case "group":
		title = l.T("timeline.group")
	case "alias":
		title = l.T("timeline.alias")
	default:
		title = ev.Type
	}
	if ev.UTM.Campaign != "" {
		campaign := l.T("timeline.campaign", ev.UTM.Campaign)
		if ev.UTM.Source != "" {
			campaign += " (" + ev.UTM.Source + ")"
		}
		detail = strings.TrimPrefix(detail+" · "+campaign, " · ")
	}
	return title, detail
}

// initials are the letters of the contact's avatar.
func initials(c alinea.Contact) string {
	var out []rune
	for _, part := range []string{c.FirstName, c.LastName} {
		if r, _ := utf8.DecodeRuneInString(strings.TrimSpace(part)); r != utf8.RuneError {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		if r, _ := utf8.DecodeRuneInString(displayName(c)); r != utf8.RuneError {
			out = append(out, r)
		}
	}
	return strings.ToUpper(string(out))
}

// pathID reads the {id} of a page's path; anything else is a page that
// does not exist.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, alinea.Errorf(alinea.ENOTFOUND, "no page %s", r.URL.Path)
	}
	return id, nil
}
