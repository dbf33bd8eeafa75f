package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// Delivery channels and states.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"

	// DeliveryPending is waiting for its first attempt (or for SMTP to be
	// configured); DeliveryFailing has failed and will be tried again;
	// DeliveryFailed has used up its attempts (or cannot be made at all).
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailing   = "failing"
	DeliveryFailed    = "failed"
)

// DeliveryStates and DeliveryChannels list the values the delivery log
// filters accept.
var (
	DeliveryStates   = []string{DeliveryPending, DeliveryDelivered, DeliveryFailing, DeliveryFailed}
	DeliveryChannels = []string{ChannelEmail, ChannelWebhook}
)

const (
	// MaxDeliveryAttempts is how often a delivery is tried before it is
	// marked failed: with the backoff below, about three hours of retries.
	MaxDeliveryAttempts = 10
	// deliveryLease is how long a claimed delivery is kept from other
	// workers. It outlasts the webhook (10 s) and SMTP (30 s) timeouts; if
	// the worker dies, the delivery is due again when the lease ends.
	deliveryLease = 2 * time.Minute
	backoffBase   = 30 * time.Second
	backoffMax    = time.Hour
)

// Webhook is a subscription: Alinea POSTs the notifications of the listed
// types to URL, signed with a secret that is shown only when the
// subscription is created.
type Webhook struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Types       []string  `json:"types"`
	Description string    `json:"description"`
	Active      bool      `json:"active"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NewWebhook is the input to CreateWebhook.
type NewWebhook struct {
	URL         string
	Types       []string
	Description string
}

// WebhookChange changes a subscription; nil fields are left alone.
type WebhookChange struct {
	URL         *string
	Types       []string // nil: unchanged
	Description *string
	Active      *bool
}

// Delivery is one notification on its way to one recipient: an email to a
// user or a POST to a webhook.
type Delivery struct {
	ID        int64  `json:"id"`
	Channel   string `json:"channel"`
	UserID    int64  `json:"user_id,omitempty"`
	WebhookID int64  `json:"webhook_id,omitempty"`
	// Recipient is the user's email address or the webhook's URL, empty
	// once the user or webhook is deleted.
	Recipient     string          `json:"recipient"`
	Type          string          `json:"type"`
	Key           string          `json:"key"`
	Data          json.RawMessage `json:"data"`
	OccurredAt    time.Time       `json:"occurred_at"`
	State         string          `json:"state"`
	Attempts      int             `json:"attempts"`
	LastError     string          `json:"last_error"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	DeliveredAt   *time.Time      `json:"delivered_at"`
	CreatedAt     time.Time       `json:"created_at"`
}

// DeliveryAttempt is one try of a delivery, for the log.
type DeliveryAttempt struct {
	ID         int64     `json:"id"`
	DeliveryID int64     `json:"delivery_id"`
	At         time.Time `json:"at"`
	// StatusCode is the webhook endpoint's HTTP status; 0 for email and
	// when no response came.
	StatusCode int    `json:"status_code"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
}

// DeliveryFilter selects deliveries for the log, newest first.
type DeliveryFilter struct {
	State     string
	Channel   string
	Type      string
	WebhookID int64
	// Before is the cursor: only deliveries with a smaller id.
	Before int64
	Limit  int
}

// Outgoing is a claimed delivery with what the worker needs to make it.
type Outgoing struct {
	Delivery
	// Webhook deliveries: the endpoint, its signing secret and whether the
	// subscription still exists and is active.
	URL           string
	Secret        string
	WebhookActive bool
	// Email deliveries: the user's address, name and language.
	Email  string
	Name   string
	Locale string
}

// AttemptResult is the outcome of one delivery attempt. An empty Error
// means delivered.
type AttemptResult struct {
	StatusCode int
	Error      string
	Duration   time.Duration
	// Permanent failures (the webhook was deleted, the user has no
	// address) are not retried.
	Permanent bool
}

// QueueNotification queues the deliveries of n in a transaction of its
// own; see QueueNotificationTx.
func (s *Store) QueueNotification(ctx context.Context, n alinea.Notification) (created int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		created, err = s.QueueNotificationTx(ctx, tx, n)
		return err
	})
	return created, err
}

// QueueNotificationTx queues, in the caller's transaction, one email
// delivery per user in n.UserIDs and one webhook delivery per active
// subscription to n.Type, and returns how many were new. A delivery that
// already exists for n.Key and that recipient is left alone, so detecting
// the same occurrence twice, in one instance or in several, notifies once.
func (s *Store) QueueNotificationTx(ctx context.Context, tx *sql.Tx, n alinea.Notification) (created int, err error) {
	data, err := checkNotification(&n)
	if err != nil {
		return 0, err
	}
	if n.OccurredAt.IsZero() {
		n.OccurredAt = s.now()
	}
	users := slices.Clone(n.UserIDs)
	slices.Sort(users)
	users = slices.Compact(users)
	for _, id := range users {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM users WHERE id = ?`), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid notification",
				Fields: map[string]string{"user_ids": fmt.Sprintf("user %d does not exist", id)}}
		}
		if err != nil {
			return 0, fmt.Errorf("notification %s: %w", n.Key, err)
		}
	}
	hooks, err := s.subscribers(ctx, tx, n.Type)
	if err != nil {
		return 0, fmt.Errorf("notification %s: %w", n.Key, err)
	}
	now := ms(s.now())
	insert := s.q(`INSERT INTO deliveries (channel, recipient_id, user_id, webhook_id, type, key, payload, occurred_at, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key, channel, recipient_id) DO NOTHING`)
	add := func(channel string, recipient int64, user, hook any) error {
		res, err := tx.ExecContext(ctx, insert, channel, recipient, user, hook, n.Type, n.Key, data, ms(n.OccurredAt), now, now)
		if err != nil {
			return fmt.Errorf("queue %s delivery of %s to %d: %w", channel, n.Key, recipient, mapErr(err))
		}
		if k, _ := res.RowsAffected(); k > 0 {
			created++
		}
		return nil
	}
	for _, id := range users {
		if err := add(ChannelEmail, id, id, nil); err != nil {
			return 0, err
		}
	}
	for _, id := range hooks {
		if err := add(ChannelWebhook, id, nil, id); err != nil {
			return 0, err
		}
	}
	return created, nil
}

// checkNotification validates n and returns its data as stored.
func checkNotification(n *alinea.Notification) (string, error) {
	fe := alinea.FieldErrors{}
	if !slices.Contains(alinea.NotificationTypes, n.Type) {
		fe.Add("type", fmt.Sprintf("must be one of %s; got %q", strings.Join(alinea.NotificationTypes, ", "), n.Type))
	}
	n.Key = strings.TrimSpace(n.Key)
	switch {
	case n.Key == "":
		fe.Add("key", "is required: it names the occurrence so that it is notified once")
	case len(n.Key) > 300:
		fe.Add("key", "is longer than 300 bytes")
	}
	data := strings.TrimSpace(string(n.Data))
	if data == "" {
		data = "{}"
	}
	if !json.Valid([]byte(data)) || data[0] != '{' {
		fe.Add("data", "must be a JSON object")
	}
	return data, fe.Err("invalid notification")
}

// subscribers returns the active webhooks subscribed to typ.
func (s *Store) subscribers(ctx context.Context, tx *sql.Tx, typ string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, types FROM webhooks WHERE active = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		var types string
		if err := rows.Scan(&id, &types); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		var list []string
		if err := json.Unmarshal([]byte(types), &list); err != nil {
			return nil, fmt.Errorf("webhook %d types: %w", id, err)
		}
		if slices.Contains(list, typ) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// Webhooks.

const webhookColumns = `id, url, types, description, active, created_by, created_at, updated_at`

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var types string
	var active int64
	var by sql.NullInt64
	var created, updated int64
	if err := row.Scan(&w.ID, &w.URL, &types, &w.Description, &active, &by, &created, &updated); err != nil {
		return w, err
	}
	w.Active, w.CreatedBy = active == 1, by.Int64
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
		return w, fmt.Errorf("webhook %d types: %w", w.ID, err)
	}
	return w, nil
}

// CreateWebhook adds an active subscription and returns it with its
// signing secret. The secret is returned only here: show it to the admin
// once.
func (s *Store) CreateWebhook(ctx context.Context, in NewWebhook, createdBy int64) (Webhook, string, error) {
	fe := alinea.FieldErrors{}
	u := checkWebhookURL(fe, in.URL)
	types := checkWebhookTypes(fe, in.Types)
	desc := checkWebhookDescription(fe, in.Description)
	if err := fe.Err("invalid webhook"); err != nil {
		return Webhook{}, "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Webhook{}, "", fmt.Errorf("webhook secret: %w", err)
	}
	secret := "whsec_" + hex.EncodeToString(raw)
	now := ms(s.now())
	row := s.db.QueryRowContext(ctx, s.q(`INSERT INTO webhooks (url, secret, types, description, active, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?) RETURNING `+webhookColumns), u, secret, types, desc, nullID(createdBy), now, now)
	w, err := scanWebhook(row)
	if err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", mapErr(err))
	}
	return w, secret, nil
}

// Webhook returns one subscription.
func (s *Store) Webhook(ctx context.Context, id int64) (Webhook, error) {
	w, err := scanWebhook(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, notFound("webhook", id)
	}
	if err != nil {
		return w, fmt.Errorf("webhook %d: %w", id, err)
	}
	return w, nil
}

// Webhooks lists every subscription, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateWebhook changes a subscription's URL, types, description or
// whether it is active. Deliveries already queued go to the new URL.
func (s *Store) UpdateWebhook(ctx context.Context, id int64, ch WebhookChange) (Webhook, error) {
	fe := alinea.FieldErrors{}
	var sets []string
	var args []any
	if ch.URL != nil {
		sets, args = append(sets, "url = ?"), append(args, checkWebhookURL(fe, *ch.URL))
	}
	if ch.Types != nil {
		sets, args = append(sets, "types = ?"), append(args, checkWebhookTypes(fe, ch.Types))
	}
	if ch.Description != nil {
		sets, args = append(sets, "description = ?"), append(args, checkWebhookDescription(fe, *ch.Description))
	}
	if ch.Active != nil {
		active := 0
		if *ch.Active {
			active = 1
		}
		sets, args = append(sets, "active = ?"), append(args, active)
	}
	if err := fe.Err("invalid webhook"); err != nil {
		return Webhook{}, err
	}
	sets, args = append(sets, "updated_at = ?"), append(args, ms(s.now()), id)
	w, err := scanWebhook(s.db.QueryRowContext(ctx, s.q(`UPDATE webhooks SET `+strings.Join(sets, ", ")+` WHERE id = ? RETURNING `+webhookColumns), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return w, notFound("webhook", id)
	}
	if err != nil {
		return w, fmt.Errorf("update webhook %d: %w", id, mapErr(err))
	}
	return w, nil
}

// DeleteWebhook removes a subscription. Its deliveries stay in the log;
// those not yet made fail, saying why.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "webhooks", "webhook", id)
}

func checkWebhookURL(fe alinea.FieldErrors, raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		fe.Add("url", "is required")
	case len(raw) > 2000:
		fe.Add("url", "is longer than 2000 bytes")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		fe.Add("url", fmt.Sprintf("must be an absolute http:// or https:// URL; got %q", raw))
	case u.User != nil:
		// The URL is shown in the UI and the log; the signature is what
		// authenticates Alinea to the receiver.
		fe.Add("url", "must not contain a user name or password; receivers check the Alinea-Signature header instead")
	case u.Fragment != "":
		fe.Add("url", "must not contain a #fragment")
	}
	return raw
}

// checkWebhookTypes returns the types as stored: a JSON array in the order
// of alinea.NotificationTypes, without repeats.
func checkWebhookTypes(fe alinea.FieldErrors, types []string) string {
	if len(types) == 0 {
		fe.Add("types", "must name at least one of "+strings.Join(alinea.NotificationTypes, ", "))
		return "[]"
	}
	for _, t := range types {
		if !slices.Contains(alinea.NotificationTypes, t) {
			fe.Add("types", fmt.Sprintf("%q is not a notification type; known: %s", t, strings.Join(alinea.NotificationTypes, ", ")))
			return "[]"
		}
	}
	var out []string
	for _, t := range alinea.NotificationTypes {
		if slices.Contains(types, t) {
			out = append(out, t)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func checkWebhookDescription(fe alinea.FieldErrors, d string) string {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > 200 {
		fe.Add("description", "is longer than 200 characters")
	}
	return d
}

// Deliveries.

const deliveryColumns = `d.id, d.channel, d.user_id, d.webhook_id, COALESCE(u.email, w.url, ''), d.type, d.key, d.payload, d.occurred_at,
	d.state, d.attempts, d.last_error, d.next_attempt_at, d.delivered_at, d.created_at`

const deliveryFrom = ` FROM deliveries d LEFT JOIN users u ON u.id = d.user_id LEFT JOIN webhooks w ON w.id = d.webhook_id`

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var user, hook, next, delivered sql.NullInt64
	var payload string
	var occurred, created int64
	err := row.Scan(&d.ID, &d.Channel, &user, &hook, &d.Recipient, &d.Type, &d.Key, &payload, &occurred,
		&d.State, &d.Attempts, &d.LastError, &next, &delivered, &created)
	if err != nil {
		return d, err
	}
	d.UserID, d.WebhookID = user.Int64, hook.Int64
	d.Data = json.RawMessage(payload)
	d.OccurredAt, d.CreatedAt = fromMS(occurred), fromMS(created)
	d.NextAttemptAt, d.DeliveredAt = nullMS(next), nullMS(delivered)
	return d, nil
}

// Deliveries lists the delivery log, newest first; the returned cursor is
// 0 on the last page.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, int64, error) {
	fe := alinea.FieldErrors{}
	var where []string
	var args []any
	if f.State != "" {
		if !slices.Contains(DeliveryStates, f.State) {
			fe.Add("state", fmt.Sprintf("must be one of %s; got %q", strings.Join(DeliveryStates, ", "), f.State))
		}
		where, args = append(where, "d.state = ?"), append(args, f.State)
	}
	if f.Channel != "" {
		if !slices.Contains(DeliveryChannels, f.Channel) {
			fe.Add("channel", fmt.Sprintf("must be one of %s; got %q", strings.Join(DeliveryChannels, ", "), f.Channel))
		}
		where, args = append(where, "d.channel = ?"), append(args, f.Channel)
	}
	if f.Type != "" {
		if !slices.Contains(alinea.NotificationTypes, f.Type) {
			fe.Add("type", fmt.Sprintf("must be one of %s; got %q", strings.Join(alinea.NotificationTypes, ", "), f.Type))
		}
		where, args = append(where, "d.type = ?"), append(args, f.Type)
	}
	if f.WebhookID > 0 {
		where, args = append(where, "d.webhook_id = ?"), append(args, f.WebhookID)
	}
	if f.Before > 0 {
		where, args = append(where, "d.id < ?"), append(args, f.Before)
	}
	if err := fe.Err("invalid filter"); err != nil {
		return nil, 0, err
	}
	q := `SELECT ` + deliveryColumns + deliveryFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY d.id DESC"
	return listPage(ctx, s, "deliveries", q, args, limit(f.Limit, 50, 1000), scanDelivery, func(d Delivery) int64 { return d.ID })
}

// Delivery returns one delivery and its attempts, oldest first.
func (s *Store) Delivery(ctx context.Context, id int64) (Delivery, []DeliveryAttempt, error) {
	d, err := scanDelivery(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil, notFound("delivery", id)
	}
	if err != nil {
		return d, nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, delivery_id, at, status_code, error, duration_ms FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`), id)
	if err != nil {
		return d, nil, fmt.Errorf("delivery %d attempts: %w", id, err)
	}
	defer rows.Close()
	attempts := []DeliveryAttempt{}
	for rows.Next() {
		var a DeliveryAttempt
		var at int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &at, &a.StatusCode, &a.Error, &a.DurationMS); err != nil {
			return d, nil, fmt.Errorf("delivery %d attempts: %w", id, err)
		}
		a.At = fromMS(at)
		attempts = append(attempts, a)
	}
	return d, attempts, rows.Err()
}

// DueDeliveries returns the ids of deliveries whose next attempt is due,
// oldest due first, at most n.
func (s *Store) DueDeliveries(ctx context.Context, n int) ([]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(fmt.Sprintf(`SELECT id FROM deliveries WHERE state IN ('pending', 'failing') AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT %d`, limit(n, 100, 10000))), ms(s.now()))
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("due deliveries: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ClaimDelivery takes a due delivery for one attempt: it pushes the next
// attempt a lease away, so no other worker takes it meanwhile, and returns
// what the attempt needs. ok is false when the delivery is not due (made,
// failed, or being made by another worker). On PostgreSQL a delivery being
// claimed elsewhere is skipped (FOR UPDATE SKIP LOCKED) rather than waited
// for; SQLite's single writer does the same by taking turns.
func (s *Store) ClaimDelivery(ctx context.Context, id int64) (out Outgoing, ok bool, err error) {
	lock := ""
	if s.backend == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM deliveries WHERE id = ? AND state IN ('pending', 'failing') AND next_attempt_at <= ?`+lock), id, ms(now)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim delivery %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ?`), ms(now.Add(deliveryLease)), id); err != nil {
			return fmt.Errorf("claim delivery %d: %w", id, err)
		}
		var secret, email, name, locale sql.NullString
		var active sql.NullInt64
		row := tx.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+`, w.secret, w.active, u.email, u.name, u.locale`+deliveryFrom+` WHERE d.id = ?`), id)
		var d Delivery
		var user, hook, next, delivered sql.NullInt64
		var payload string
		var occurred, created int64
		err = row.Scan(&d.ID, &d.Channel, &user, &hook, &d.Recipient, &d.Type, &d.Key, &payload, &occurred,
			&d.State, &d.Attempts, &d.LastError, &next, &delivered, &created, &secret, &active, &email, &name, &locale)
		if err != nil {
			return fmt.Errorf("claim delivery %d: %w", id, err)
		}
		d.UserID, d.WebhookID = user.Int64, hook.Int64
		d.Data = json.RawMessage(payload)
		d.OccurredAt, d.CreatedAt = fromMS(occurred), fromMS(created)
		d.NextAttemptAt, d.DeliveredAt = nullMS(next), nullMS(delivered)
		out = Outgoing{Delivery: d, Secret: secret.String, WebhookActive: active.Int64 == 1,
			Email: email.String, Name: name.String, Locale: locale.String}
		if d.Channel == ChannelWebhook {
			out.URL = d.Recipient
		}
		ok = true
		return nil
	})
	return out, ok, err
}

// RecordDeliveryAttempt logs an attempt and moves the delivery on:
// delivered; or failing, with the next attempt after an exponential
// backoff with jitter; or failed, after MaxDeliveryAttempts or a permanent
// failure.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id int64, r AttemptResult) (Delivery, error) {
	var d Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var attempts int
		err := tx.QueryRowContext(ctx, s.q(`SELECT attempts FROM deliveries WHERE id = ?`), id).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("delivery", id)
		}
		if err != nil {
			return fmt.Errorf("record attempt of delivery %d: %w", id, err)
		}
		now := s.now()
		msg := truncate(r.Error, 2000)
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO delivery_attempts (delivery_id, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?)`),
			id, ms(now), r.StatusCode, msg, r.Duration.Milliseconds()); err != nil {
			return fmt.Errorf("record attempt of delivery %d: %w", id, err)
		}
		attempts++
		var upd string
		var args []any
		switch {
		case r.Error == "":
			upd, args = `state = 'delivered', last_error = '', next_attempt_at = NULL, delivered_at = ?`, []any{ms(now)}
		case r.Permanent || attempts >= MaxDeliveryAttempts:
			upd, args = `state = 'failed', last_error = ?, next_attempt_at = NULL`, []any{msg}
		default:
			upd, args = `state = 'failing', last_error = ?, next_attempt_at = ?`, []any{msg, ms(now.Add(RetryBackoff(attempts)))}
		}
		args = append([]any{attempts}, append(args, id)...)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET attempts = ?, `+upd+` WHERE id = ?`), args...); err != nil {
			return fmt.Errorf("record attempt of delivery %d: %w", id, err)
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = ?`), id))
		return err
	})
	return d, err
}

// RetryBackoff is how long to wait after the n-th failed attempt: 30 s
// doubling up to an hour, give or take a fifth so that deliveries that
// failed together (an endpoint that was down) do not retry in lockstep.
func RetryBackoff(n int) time.Duration {
	d := backoffMax
	if n < 12 {
		d = min(backoffMax, backoffBase<<max(0, n-1))
	}
	jitter := 0.8 + 0.4*mathrand.Float64()
	return time.Duration(float64(d) * jitter)
}

// DeferDelivery puts a delivery off without counting an attempt, saying
// why (e.g. "SMTP not configured"): it stays in its state and is tried
// again after wait.
func (s *Store) DeferDelivery(ctx context.Context, id int64, reason string, wait time.Duration) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ? AND state IN ('pending', 'failing')`),
		truncate(reason, 2000), ms(s.now().Add(wait)), id)
	if err != nil {
		return fmt.Errorf("defer delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alinea.Errorf(alinea.ECONFLICT, "delivery %d is not waiting to be made", id)
	}
	return nil
}

// RetryDelivery makes a failing or failed delivery due now. A failed one
// gets one more attempt.
func (s *Store) RetryDelivery(ctx context.Context, id int64) (Delivery, error) {
	var d Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, s.q(`SELECT state FROM deliveries WHERE id = ?`), id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("delivery", id)
		}
		if err != nil {
			return fmt.Errorf("retry delivery %d: %w", id, err)
		}
		if state == DeliveryDelivered {
			return alinea.Errorf(alinea.ECONFLICT, "delivery %d was already delivered", id)
		}
		if state == DeliveryFailed {
			state = DeliveryFailing
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET state = ?, next_attempt_at = ? WHERE id = ?`), state, ms(s.now()), id); err != nil {
			return fmt.Errorf("retry delivery %d: %w", id, err)
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = ?`), id))
		return err
	})
	return d, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
