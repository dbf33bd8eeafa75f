package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
)

// deliveriesPerPage is the length of a page of the delivery log.
const deliveriesPerPage = 50

// notificationStore is what the webhook and delivery pages read and write.
type notificationStore interface {
	Webhooks(ctx context.Context) ([]store.Webhook, error)
	CreateWebhook(ctx context.Context, in store.NewWebhook, createdBy int64) (store.Webhook, string, error)
	UpdateWebhook(ctx context.Context, id int64, ch store.WebhookChange) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, id int64) error
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, int64, error)
	Delivery(ctx context.Context, id int64) (store.Delivery, []store.DeliveryAttempt, error)
	RetryDelivery(ctx context.Context, id int64) (store.Delivery, error)
}

// notificationPages are /settings/webhooks (admins subscribe endpoints to
// notifications) and /settings/deliveries (admins and managers see every
// email and webhook delivery, why one failed, and retry it).
type notificationPages struct {
	store notificationStore
	// jobs, when set, sends a retried delivery at once instead of at the
	// next sweep.
	jobs  *jobs.Queue
	views *views
}

// notificationTabs are the settings tabs with the notification pages; a
// manager, who may only read the delivery log, sees just that.
func notificationTabs(l *locale, role alinea.Role, path string) []navLink {
	log := navLink{Label: l.T("notifications.tab_deliveries"), Href: "/settings/deliveries", Current: strings.HasPrefix(path, "/settings/deliveries")}
	if role != alinea.RoleAdmin {
		return []navLink{log}
	}
	return settingsTabs(l, path)
}

type webhooksData struct {
	Tabs    []navLink
	Rows    []webhookRow
	Form    webhookForm
	Created *webhookSecret
	Notice  string
}

type webhookRow struct {
	ID          int64
	URL         string
	Description string
	Types       []string
	Active      bool
	CreatedAt   time.Time
	Log         string
}

type webhookForm struct {
	URL         string
	Description string
	Types       []checkOption
	Errors      map[string]string
}

type checkOption struct {
	Value, Label string
	Checked      bool
}

type webhookSecret struct {
	URL    string
	Secret string
}

func (h *notificationPages) webhooks(w http.ResponseWriter, r *http.Request, v *visit) error {
	var notice string
	switch r.URL.Query().Get("saved") {
	case "paused":
		notice = v.Lang.T("notifications.saved_paused")
	case "resumed":
		notice = v.Lang.T("notifications.saved_resumed")
	case "deleted":
		notice = v.Lang.T("notifications.saved_deleted")
	}
	form := webhookForm{Types: typeChecks(v.Lang, alinea.NotificationTypes)}
	return h.renderWebhooks(w, r, v, http.StatusOK, form, nil, notice)
}

func (h *notificationPages) createWebhook(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	in := store.NewWebhook{URL: strings.TrimSpace(r.PostForm.Get("url")), Types: r.PostForm["types"], Description: r.PostForm.Get("description")}
	hook, secret, err := h.store.CreateWebhook(r.Context(), in, v.User.ID)
	if err == nil {
		return h.renderWebhooks(w, r, v, http.StatusCreated, webhookForm{Types: typeChecks(l, alinea.NotificationTypes)},
			&webhookSecret{URL: hook.URL, Secret: secret}, l.T("notifications.saved_created"))
	}
	if alinea.ErrorCode(err) != alinea.EINVALID {
		return err
	}
	form := webhookForm{URL: r.PostForm.Get("url"), Description: r.PostForm.Get("description"), Types: typeChecks(l, in.Types), Errors: map[string]string{}}
	for field := range alinea.ErrorFields(err) {
		switch field {
		case "url":
			form.Errors["url"] = l.T("notifications.error_url")
		case "types":
			form.Errors["types"] = l.T("notifications.error_types")
		case "description":
			form.Errors["description"] = l.T("notifications.error_description", 200)
		}
	}
	return h.renderWebhooks(w, r, v, http.StatusUnprocessableEntity, form, nil, "")
}

func (h *notificationPages) setWebhookActive(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	active := r.PostForm.Get("active") == "true"
	if _, err := h.store.UpdateWebhook(r.Context(), id, store.WebhookChange{Active: &active}); err != nil {
		return err
	}
	saved := "paused"
	if active {
		saved = "resumed"
	}
	http.Redirect(w, r, fmt.Sprintf("/settings/webhooks?saved=%s#webhook-%d", saved, id), http.StatusSeeOther)
	return nil
}

func (h *notificationPages) deleteWebhook(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhook(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/webhooks?saved=deleted", http.StatusSeeOther)
	return nil
}

func (h *notificationPages) renderWebhooks(w http.ResponseWriter, r *http.Request, v *visit, status int, form webhookForm, created *webhookSecret, notice string) error {
	hooks, err := h.store.Webhooks(r.Context())
	if err != nil {
		return err
	}
	l := v.Lang
	data := webhooksData{Tabs: notificationTabs(l, v.User.Role, "/settings/webhooks"), Form: form, Created: created, Notice: notice}
	for _, hk := range hooks {
		row := webhookRow{ID: hk.ID, URL: hk.URL, Description: hk.Description, Active: hk.Active, CreatedAt: hk.CreatedAt,
			Log: "/settings/deliveries?" + url.Values{"webhook": {strconv.FormatInt(hk.ID, 10)}}.Encode()}
		for _, t := range hk.Types {
			row.Types = append(row.Types, typeName(l, t))
		}
		data.Rows = append(data.Rows, row)
	}
	return h.views.render(w, r, v, status, "settings_webhooks", l.T("notifications.webhooks_title"), data)
}

// typeChecks are the notification types as checkboxes, the given ones
// checked.
func typeChecks(l *locale, checked []string) []checkOption {
	out := make([]checkOption, 0, len(alinea.NotificationTypes))
	for _, t := range alinea.NotificationTypes {
		out = append(out, checkOption{Value: t, Label: typeName(l, t), Checked: slices.Contains(checked, t)})
	}
	return out
}

// typeName, stateName and channelName show the notification vocabulary
// in l's language; a value outside it shows as it is.
func typeName(l *locale, t string) string {
	switch t {
	case alinea.NotifyLeadAssigned:
		return l.T("notifications.type_lead_assigned")
	case alinea.NotifySLABreached:
		return l.T("notifications.type_sla_breached")
	case alinea.NotifySLAEscalated:
		return l.T("notifications.type_sla_escalated")
	}
	return t
}

func stateName(l *locale, s string) string {
	switch s {
	case store.DeliveryPending:
		return l.T("notifications.state_pending")
	case store.DeliveryDelivered:
		return l.T("notifications.state_delivered")
	case store.DeliveryFailing:
		return l.T("notifications.state_failing")
	case store.DeliveryFailed:
		return l.T("notifications.state_failed")
	}
	return s
}

func channelName(l *locale, c string) string {
	switch c {
	case store.ChannelEmail:
		return l.T("notifications.channel_email")
	case store.ChannelWebhook:
		return l.T("notifications.channel_webhook")
	}
	return c
}

type deliveriesData struct {
	Tabs     []navLink
	States   []option
	Channels []option
	Types    []option
	Webhook  int64
	Filtered bool
	Rows     []deliveryRow
	Older    string
	Newest   string
	Detail   *deliveryDetail
	Notice   string
}

type deliveryRow struct {
	ID          int64
	CreatedAt   time.Time
	Type        string
	Channel     string
	Recipient   string
	State       string
	StateLabel  string
	Attempts    int
	LastError   string
	NextAttempt *time.Time
	DeliveredAt *time.Time
	Href        string
}

type deliveryDetail struct {
	deliveryRow
	Key        string
	OccurredAt time.Time
	Data       string
	Attempts   []attemptRow
	CanRetry   bool
}

type attemptRow struct {
	At         time.Time
	StatusCode int
	Error      string
	Duration   string
}

func (h *notificationPages) deliveries(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	q := r.URL.Query()
	f := store.DeliveryFilter{Limit: deliveriesPerPage}
	data := deliveriesData{Tabs: notificationTabs(l, v.User.Role, "/settings/deliveries")}
	// Values the lists do not offer are ignored, like a filter left blank.
	if s := q.Get("state"); slices.Contains(store.DeliveryStates, s) {
		f.State = s
	}
	if c := q.Get("channel"); slices.Contains(store.DeliveryChannels, c) {
		f.Channel = c
	}
	if t := q.Get("type"); slices.Contains(alinea.NotificationTypes, t) {
		f.Type = t
	}
	f.WebhookID = cursorParam(q.Get("webhook"))
	f.Before = cursorParam(q.Get("before"))
	data.Webhook = f.WebhookID
	data.Filtered = f.State != "" || f.Channel != "" || f.Type != "" || f.WebhookID != 0
	data.States = filterOptions(l.T("notifications.all_states"), f.State, store.DeliveryStates, func(s string) string { return stateName(l, s) })
	data.Channels = filterOptions(l.T("notifications.all_channels"), f.Channel, store.DeliveryChannels, func(c string) string { return channelName(l, c) })
	data.Types = filterOptions(l.T("notifications.all_types"), f.Type, alinea.NotificationTypes, func(t string) string { return typeName(l, t) })
	list, next, err := h.store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	for _, d := range list {
		data.Rows = append(data.Rows, h.row(l, d))
	}
	page := func(before int64) string {
		v := url.Values{}
		for k, val := range map[string]string{"state": f.State, "channel": f.Channel, "type": f.Type} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if f.WebhookID != 0 {
			v.Set("webhook", strconv.FormatInt(f.WebhookID, 10))
		}
		if before != 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(v) == 0 {
			return "/settings/deliveries"
		}
		return "/settings/deliveries?" + v.Encode()
	}
	if next != 0 {
		data.Older = page(next)
	}
	if f.Before != 0 {
		data.Newest = page(0)
	}
	return h.views.render(w, r, v, http.StatusOK, "deliveries", l.T("notifications.deliveries_title"), data)
}

func (h *notificationPages) delivery(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l := v.Lang
	d, attempts, err := h.store.Delivery(r.Context(), id)
	if err != nil {
		return err
	}
	detail := &deliveryDetail{deliveryRow: h.row(l, d), Key: d.Key, OccurredAt: d.OccurredAt, Data: string(d.Data),
		CanRetry: d.State == store.DeliveryFailing || d.State == store.DeliveryFailed}
	for _, a := range attempts {
		detail.Attempts = append(detail.Attempts, attemptRow{At: a.At, StatusCode: a.StatusCode, Error: a.Error,
			Duration: l.T("notifications.duration_ms", a.DurationMS)})
	}
	data := deliveriesData{Tabs: notificationTabs(l, v.User.Role, "/settings/deliveries"), Detail: detail}
	if r.URL.Query().Get("saved") == "retry" {
		data.Notice = l.T("notifications.saved_retry")
	}
	return h.views.render(w, r, v, http.StatusOK, "deliveries", l.T("notifications.delivery_title", d.ID), data)
}

func (h *notificationPages) retry(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := h.store.RetryDelivery(r.Context(), id); err != nil {
		return err
	}
	if h.jobs != nil {
		// Best effort: the periodic sweep finds the delivery due anyway.
		_ = jobs.KickDeliveries(r.Context(), h.jobs)
	}
	http.Redirect(w, r, fmt.Sprintf("/settings/deliveries/%d?saved=retry", id), http.StatusSeeOther)
	return nil
}

func (h *notificationPages) row(l *locale, d store.Delivery) deliveryRow {
	return deliveryRow{ID: d.ID, CreatedAt: d.CreatedAt, Type: typeName(l, d.Type), Channel: channelName(l, d.Channel),
		Recipient: d.Recipient, State: d.State, StateLabel: stateName(l, d.State), Attempts: d.Attempts, LastError: d.LastError,
		NextAttempt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt, Href: fmt.Sprintf("/settings/deliveries/%d", d.ID)}
}

// filterOptions is a filter's select: "all" first, then the values.
func filterOptions(all, selected string, values []string, label func(string) string) []option {
	out := []option{{Value: "", Label: all, Selected: selected == ""}}
	for _, val := range values {
		out = append(out, option{Value: val, Label: label(val), Selected: val == selected})
	}
	return out
}
