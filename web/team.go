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
	"github.com/alinea-crm/alinea/calendar"
	"github.com/alinea-crm/alinea/store"
)

// The sales team (DESIGN.md section 4, routing): who can receive leads, how
// many open leads each may hold, whose their manager is and when they are
// out of office. Managers and admins change anyone's settings and absences;
// a rep sees the page and records or removes their own absences only, the
// rules the API (server/api_handoffs.go) applies, except that a rep may
// also delete their own absence here.

const (
	// maxCapacity is the store's bound on a rep's open leads.
	maxCapacity = 10000
	// maxAbsenceNote is alinea.Absence's bound on a note.
	maxAbsenceNote = 500
)

// teamRoles may open the team page (admin always may).
var teamRoles = []alinea.Role{alinea.RoleSales, alinea.RoleManager}

// teamStore is what the team page reads and writes.
type teamStore interface {
	Reps(ctx context.Context) ([]alinea.Rep, error)
	Users(ctx context.Context) ([]alinea.User, error)
	BusinessCalendar(ctx context.Context) (*calendar.Calendar, error)
	SetRepSettings(ctx context.Context, userID int64, rs store.RepSettings) error
	AddAbsence(ctx context.Context, a alinea.Absence) (alinea.Absence, error)
	AbsenceByID(ctx context.Context, id int64) (alinea.Absence, error)
	DeleteAbsence(ctx context.Context, id int64) error
}

type teamPage struct {
	store teamStore
	views *views
	now   func() time.Time
}

type teamData struct {
	// Manage is set for managers and admins, who change anyone's settings.
	Manage bool
	Today  string
	Zone   string
	Away   int
	Notice string
	// Error is a refusal shown at the top of the page.
	Error string
	Reps  []repCard
}

// repCard is one rep with the forms the reader may use on them.
type repCard struct {
	ID        int64
	Name      string
	Email     string
	Role      alinea.Role
	Self      bool
	Open      int
	Capacity  int
	Full      bool
	Manager   string
	AwayToday bool
	// AwayUntil is the last day of the absence covering today.
	AwayUntil string
	Absences  []absenceRow
	// Settings is set when the reader may change capacity and manager;
	// AddAbsence when they may record an absence for this rep.
	Settings   *repSettingsForm
	AddAbsence *absenceForm
}

type absenceRow struct {
	ID       int64
	From, To string
	Days     int
	Note     string
	Now      bool
	// CanDelete says the reader may remove it.
	CanDelete bool
}

// repSettingsForm is the capacity and manager as stored or as typed.
type repSettingsForm struct {
	Capacity string
	Managers []option
	Errors   map[string]string
}

// absenceForm is a new absence as typed.
type absenceForm struct {
	StartsOn, EndsOn, Note string
	Errors                 map[string]string
}

// typed carries a form sent back with errors to the card it belongs to.
type typed struct {
	rep      int64
	settings *repSettingsForm
	absence  *absenceForm
}

// members lets only the roles that receive leads through; anyone else is
// told so in their language and nothing changes.
func (h *teamPage) members(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if v.User.Role != alinea.RoleAdmin && !slices.Contains(teamRoles, v.User.Role) {
			page := errorPage{Message: v.Lang.T("team.forbidden", roleName(v.Lang, v.User.Role)), Status: http.StatusForbidden}
			return h.views.render(w, r, v, http.StatusForbidden, "error", v.Lang.T("error.title"), page)
		}
		return next(w, r, v)
	}
}

func manages(u *alinea.User) bool {
	return u.Role == alinea.RoleAdmin || u.Role == alinea.RoleManager
}

func (h *teamPage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	return h.render(w, r, v, http.StatusOK, typed{}, "")
}

// settings changes a rep's capacity and manager (managers and admins).
func (h *teamPage) settings(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l := v.Lang
	if !manages(v.User) {
		return h.render(w, r, v, http.StatusForbidden, typed{}, l.T("team.error_settings_forbidden", roleName(l, v.User.Role)))
	}
	rep, users, err := h.repAndUsers(r.Context(), id)
	if err != nil {
		return err
	}
	form := &repSettingsForm{Capacity: r.PostForm.Get("capacity"), Errors: map[string]string{}}
	managerRaw := strings.TrimSpace(r.PostForm.Get("manager"))
	form.Managers = managerOptions(l, users, rep.ManagerID, managerRaw)

	capacity := 0
	if s := strings.TrimSpace(form.Capacity); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			form.Errors["capacity"] = l.T("team.error_capacity_number")
		case n < 0:
			form.Errors["capacity"] = l.T("team.error_capacity_negative")
		case n > maxCapacity:
			form.Errors["capacity"] = l.T("team.error_capacity_max", maxCapacity)
		default:
			capacity = n
		}
	}
	var managerID int64
	if managerRaw != "" {
		n, err := strconv.ParseInt(managerRaw, 10, 64)
		switch {
		case err != nil || n < 0:
			form.Errors["manager"] = l.T("team.error_manager_unknown")
		case n == id:
			form.Errors["manager"] = l.T("team.error_manager_self", rep.Name)
		case !slices.ContainsFunc(form.Managers, func(o option) bool { return o.Value == managerRaw }):
			form.Errors["manager"] = l.T("team.error_manager_unknown")
		default:
			managerID = n
		}
	}
	if len(form.Errors) == 0 {
		err := h.store.SetRepSettings(r.Context(), id, store.RepSettings{Capacity: capacity, ManagerID: managerID})
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/team?saved=settings&rep=%d#rep-%d", id, id), http.StatusSeeOther)
			return nil
		}
		if alinea.ErrorCode(err) != alinea.EINVALID {
			return err
		}
		// The store's own checks, should a rule change there first.
		fields := alinea.ErrorFields(err)
		if fields["capacity"] != "" {
			form.Errors["capacity"] = l.T("team.error_capacity_max", maxCapacity)
		}
		if fields["manager_id"] != "" || len(form.Errors) == 0 {
			form.Errors["manager"] = l.T("team.error_manager_unknown")
		}
	}
	return h.render(w, r, v, http.StatusUnprocessableEntity, typed{rep: id, settings: form}, "")
}

// addAbsence records days a rep is away: anyone's for managers and admins,
// their own for a rep.
func (h *teamPage) addAbsence(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l := v.Lang
	if id != v.User.ID && !manages(v.User) {
		return h.render(w, r, v, http.StatusForbidden, typed{}, l.T("team.error_absence_forbidden"))
	}
	ctx := r.Context()
	rep, _, err := h.repAndUsers(ctx, id)
	if err != nil {
		return err
	}
	form := &absenceForm{StartsOn: r.PostForm.Get("starts_on"), EndsOn: r.PostForm.Get("ends_on"), Note: r.PostForm.Get("note"), Errors: map[string]string{}}
	from, err1 := time.Parse(time.DateOnly, strings.TrimSpace(form.StartsOn))
	to, err2 := time.Parse(time.DateOnly, strings.TrimSpace(form.EndsOn))
	if err1 != nil {
		form.Errors["starts_on"] = l.T("team.error_date")
	}
	if err2 != nil {
		form.Errors["ends_on"] = l.T("team.error_date")
	}
	today, _, err := h.today(ctx)
	if err != nil {
		return err
	}
	switch {
	case err1 != nil || err2 != nil:
	case to.Before(from):
		form.Errors["ends_on"] = l.T("team.error_end_before_start")
	case to.Format(time.DateOnly) < today:
		// It would be stored and never shown: the page lists absences that
		// have not ended.
		form.Errors["ends_on"] = l.T("team.error_ended")
	}
	note := strings.TrimSpace(form.Note)
	// The store counts bytes.
	if len(note) > maxAbsenceNote {
		form.Errors["note"] = l.T("team.error_note_too_long", maxAbsenceNote)
	}
	if len(form.Errors) == 0 {
		_, err := h.store.AddAbsence(ctx, alinea.Absence{UserID: rep.UserID, StartsOn: from.Format(time.DateOnly), EndsOn: to.Format(time.DateOnly), Note: note})
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/team?saved=absence&rep=%d#rep-%d", id, id), http.StatusSeeOther)
			return nil
		}
		if alinea.ErrorCode(err) != alinea.EINVALID {
			return err
		}
		for field := range alinea.ErrorFields(err) {
			form.Errors[field] = l.T("team.error_absence_invalid")
		}
		if len(form.Errors) == 0 {
			form.Errors["ends_on"] = l.T("team.error_absence_invalid")
		}
	}
	return h.render(w, r, v, http.StatusUnprocessableEntity, typed{rep: id, absence: form}, "")
}

// deleteAbsence removes an absence: anyone's for managers and admins, their
// own for a rep.
func (h *teamPage) deleteAbsence(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := h.store.AbsenceByID(ctx, id)
	if alinea.ErrorCode(err) == alinea.ENOTFOUND {
		return h.render(w, r, v, http.StatusNotFound, typed{}, v.Lang.T("team.error_absence_gone"))
	}
	if err != nil {
		return err
	}
	if a.UserID != v.User.ID && !manages(v.User) {
		return h.render(w, r, v, http.StatusForbidden, typed{}, v.Lang.T("team.error_delete_forbidden"))
	}
	if err := h.store.DeleteAbsence(ctx, id); err != nil {
		if alinea.ErrorCode(err) == alinea.ENOTFOUND {
			return h.render(w, r, v, http.StatusNotFound, typed{}, v.Lang.T("team.error_absence_gone"))
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/team?saved=absence_deleted&rep=%d#rep-%d", a.UserID, a.UserID), http.StatusSeeOther)
	return nil
}

// repAndUsers finds a rep among those who receive leads, and every user
// (for the manager list); a user who is not a rep is not found.
func (h *teamPage) repAndUsers(ctx context.Context, id int64) (alinea.Rep, []alinea.User, error) {
	reps, err := h.store.Reps(ctx)
	if err != nil {
		return alinea.Rep{}, nil, err
	}
	i := slices.IndexFunc(reps, func(r alinea.Rep) bool { return r.UserID == id })
	if i < 0 {
		return alinea.Rep{}, nil, alinea.Errorf(alinea.ENOTFOUND, "user %d is not an active sales rep or manager", id)
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return alinea.Rep{}, nil, err
	}
	return reps[i], users, nil
}

// today is the date in the active agreement's business calendar, where
// absences are counted, and that calendar's zone (UTC without one).
func (h *teamPage) today(ctx context.Context) (string, string, error) {
	cal, err := h.store.BusinessCalendar(ctx)
	if err != nil {
		return "", "", err
	}
	loc := time.UTC
	if cal != nil {
		loc = cal.Location()
	}
	return h.now().In(loc).Format(time.DateOnly), loc.String(), nil
}

// managerOptions are the users a rep may escalate to: active managers and
// admins, plus the current manager whoever they are, so that saving
// without touching the list keeps them. selected is the typed value.
func managerOptions(l *locale, users []alinea.User, current int64, selected string) []option {
	out := []option{{Value: "0", Label: l.T("team.no_manager"), Selected: selected == "0" || selected == ""}}
	for _, u := range users {
		if u.ID != current && (!u.Active() || (u.Role != alinea.RoleManager && u.Role != alinea.RoleAdmin)) {
			continue
		}
		v := strconv.FormatInt(u.ID, 10)
		out = append(out, option{Value: v, Label: fmt.Sprintf("%s (%s)", u.Name, roleName(l, u.Role)), Selected: v == selected})
	}
	return out
}

func (h *teamPage) render(w http.ResponseWriter, r *http.Request, v *visit, status int, form typed, pageErr string) error {
	ctx := r.Context()
	l := v.Lang
	reps, err := h.store.Reps(ctx)
	if err != nil {
		return err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
	}
	today, zone, err := h.today(ctx)
	if err != nil {
		return err
	}
	data := teamData{Manage: manages(v.User), Today: l.Date(mustDay(today)), Zone: zone, Error: pageErr}
	q := r.URL.Query()
	if saved := q.Get("saved"); saved != "" && status == http.StatusOK {
		if rep, err := strconv.ParseInt(q.Get("rep"), 10, 64); err == nil && names[rep] != "" {
			switch saved {
			case "settings":
				data.Notice = l.T("team.saved_settings", names[rep])
			case "absence":
				data.Notice = l.T("team.saved_absence", names[rep])
			case "absence_deleted":
				data.Notice = l.T("team.saved_absence_deleted", names[rep])
			}
		}
	}
	for _, rep := range reps {
		c := repCard{ID: rep.UserID, Name: rep.Name, Email: rep.Email, Role: rep.Role, Self: rep.UserID == v.User.ID,
			Open: rep.Open, Capacity: rep.Capacity, Full: rep.Capacity > 0 && rep.Open >= rep.Capacity, Manager: names[rep.ManagerID]}
		awayUntil := ""
		for _, a := range rep.Absences {
			if a.EndsOn < today {
				continue
			}
			from, to := mustDay(a.StartsOn), mustDay(a.EndsOn)
			row := absenceRow{ID: a.ID, From: l.Date(from), To: l.Date(to), Days: int(to.Sub(from)/(24*time.Hour)) + 1, Note: a.Note,
				Now: a.StartsOn <= today, CanDelete: data.Manage || c.Self}
			if row.Now {
				c.AwayToday = true
				if a.EndsOn > awayUntil {
					awayUntil, c.AwayUntil = a.EndsOn, row.To
				}
			}
			c.Absences = append(c.Absences, row)
		}
		if c.AwayToday {
			data.Away++
		}
		if data.Manage {
			c.Settings = &repSettingsForm{Capacity: strconv.Itoa(rep.Capacity), Managers: managerOptions(l, users, rep.ManagerID, strconv.FormatInt(rep.ManagerID, 10))}
		}
		if data.Manage || c.Self {
			c.AddAbsence = &absenceForm{}
		}
		if form.rep == rep.UserID {
			if form.settings != nil {
				c.Settings = form.settings
			}
			if form.absence != nil {
				c.AddAbsence = form.absence
			}
		}
		data.Reps = append(data.Reps, c)
	}
	return h.views.render(w, r, v, status, "team", l.T("team.title"), data)
}

// mustDay reads a stored YYYY-MM-DD date; the store only holds valid ones.
func mustDay(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}
