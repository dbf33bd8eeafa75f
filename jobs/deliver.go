package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/notify"
	"github.com/alinea-crm/alinea/smtp"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/webhook"
)

// DeliverySweepInterval is how often the leader looks for deliveries that
// are due: new ones whose immediate job was lost, and retries. It keeps a
// breach notified within a minute of its detection even then.
const DeliverySweepInterval = 10 * time.Second

// noSMTPWait is how long an email waits when SMTP is not configured
// before it is looked at again (e.g. after a restart with --smtp-url).
const noSMTPWait = 10 * time.Minute

// ErrNoSMTP is the last error of email deliveries made without SMTP.
const ErrNoSMTP = "SMTP not configured: start alinea serve with --smtp-url or ALINEA_SMTP_URL"

// DeliverArgs makes one delivery: one email or one webhook request.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job in River's tables.
func (DeliverArgs) Kind() string { return "notification_delivery" }

// InsertOpts: at most one job per delivery waiting or running, so that a
// delivery is never worked twice at once; a finished one may be enqueued
// again for its retry.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeliveries, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingOrRunning}}
}

var waitingOrRunning = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// DeliverDueArgs enqueues a DeliverArgs job for every due delivery.
type DeliverDueArgs struct{}

// Kind names the job in River's tables.
func (DeliverDueArgs) Kind() string { return "notification_delivery_sweep" }

// InsertOpts: one sweep waiting at a time is enough.
func (DeliverDueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}

// DeliverySweep is the periodic job that enqueues due deliveries; pass it
// in Config.Periodic. River's leader schedules it, so with several
// instances it runs once per interval.
func DeliverySweep(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return DeliverDueArgs{}, nil
	}, &river.PeriodicJobOpts{ID: DeliverDueArgs{}.Kind(), RunOnStart: true})
}

// KickDeliveries asks for due deliveries to be sent now rather than at the
// next sweep: call it after committing a transaction that queued
// notifications (store.QueueNotificationTx).
func KickDeliveries(ctx context.Context, q *Queue) error {
	_, err := q.Insert(ctx, DeliverDueArgs{}, nil)
	return err
}

// Notify queues a notification's deliveries and has them sent at once;
// it returns how many deliveries were new.
func Notify(ctx context.Context, st *store.Store, q *Queue, n alinea.Notification) (int, error) {
	created, err := st.QueueNotification(ctx, n)
	if err != nil || created == 0 {
		return created, err
	}
	return created, KickDeliveries(ctx, q)
}

// Mailer sends an email (smtp.Mailer).
type Mailer interface {
	Send(ctx context.Context, msg smtp.Message) error
}

// WebhookSender posts a webhook (webhook.Sender).
type WebhookSender interface {
	Send(ctx context.Context, url, secret string, p webhook.Payload) (webhook.Result, error)
}

// DeliverWorker makes one delivery and records the attempt. A failed
// attempt is not a failed job: the delivery's own backoff schedules the
// retry and the sweep enqueues it, so River retries only when the
// database itself failed.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	Store *store.Store
	// Mailer is nil when SMTP is not configured: emails then wait, saying
	// so in their last error.
	Mailer   Mailer
	Webhooks WebhookSender
	Render   *notify.Renderer
	Log      *slog.Logger
}

// Timeout leaves room for the SMTP dialogue's own 30 s limit.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

// Work claims the delivery, makes it and records the outcome.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	id := job.Args.DeliveryID
	out, ok, err := w.Store.ClaimDelivery(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return nil // made, failed for good, or taken by another worker
	}
	var res store.AttemptResult
	switch out.Channel {
	case store.ChannelEmail:
		if w.Mailer == nil {
			return w.Store.DeferDelivery(ctx, id, ErrNoSMTP, noSMTPWait)
		}
		res = w.email(ctx, out)
	case store.ChannelWebhook:
		res = w.webhook(ctx, out)
	default:
		res = store.AttemptResult{Error: fmt.Sprintf("unknown channel %q", out.Channel), Permanent: true}
	}
	if ctx.Err() != nil {
		// Stopped mid-attempt (shutdown): the lease runs out and the sweep
		// enqueues the delivery again.
		return ctx.Err()
	}
	d, err := w.Store.RecordDeliveryAttempt(ctx, id, res)
	if err != nil {
		return err
	}
	w.log(d, res)
	return nil
}

func (w *DeliverWorker) email(ctx context.Context, out store.Outgoing) store.AttemptResult {
	if out.UserID == 0 || out.Email == "" {
		return store.AttemptResult{Error: "the user was deleted", Permanent: true}
	}
	e, err := w.Render.Render(out.Type, out.Data, notify.Recipient{UserID: out.UserID, Name: out.Name, Lang: out.Locale})
	if err != nil {
		return store.AttemptResult{Error: err.Error(), Permanent: true}
	}
	start := time.Now()
	err = w.Mailer.Send(ctx, smtp.Message{
		To:       mail.Address{Name: out.Name, Address: out.Email},
		Subject:  e.Subject,
		Text:     e.Text,
		HTML:     e.HTML,
		Language: out.Locale,
		Headers:  map[string]string{"X-Alinea-Delivery": strconv.FormatInt(out.ID, 10), "X-Alinea-Event": out.Type},
	})
	res := store.AttemptResult{Duration: time.Since(start)}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

func (w *DeliverWorker) webhook(ctx context.Context, out store.Outgoing) store.AttemptResult {
	switch {
	case out.WebhookID == 0:
		return store.AttemptResult{Error: "the webhook subscription was deleted", Permanent: true}
	case !out.WebhookActive:
		return store.AttemptResult{Error: "the webhook subscription is paused; retry the delivery after turning it back on", Permanent: true}
	}
	r, err := w.Webhooks.Send(ctx, out.URL, out.Secret, webhook.Payload{ID: out.ID, Type: out.Type, Key: out.Key, OccurredAt: out.OccurredAt, Data: out.Data})
	res := store.AttemptResult{StatusCode: r.StatusCode, Duration: r.Duration}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

func (w *DeliverWorker) log(d store.Delivery, res store.AttemptResult) {
	if w.Log == nil {
		return
	}
	if res.Error == "" {
		w.Log.Info("notification delivered", "delivery", d.ID, "channel", d.Channel, "type", d.Type, "attempts", d.Attempts)
		return
	}
	attrs := []any{"delivery", d.ID, "channel", d.Channel, "type", d.Type, "attempts", d.Attempts, "state", d.State, "err", res.Error}
	if d.NextAttemptAt != nil {
		attrs = append(attrs, "next_attempt_at", d.NextAttemptAt.Format(time.RFC3339))
	}
	w.Log.Warn("notification not delivered", attrs...)
}

// DeliverDueWorker enqueues a delivery job for every due delivery.
type DeliverDueWorker struct {
	river.WorkerDefaults[DeliverDueArgs]
	Store *store.Store
	// Batch bounds the deliveries enqueued per look (default 10,000, the
	// most DueDeliveries returns). At 500, a burst of a few thousand
	// notifications drained at 500 per periodic sweep: ~70 emails/s.
	Batch int
}

// Work enqueues the due deliveries; those already enqueued or being made
// are skipped by the delivery job's uniqueness.
func (w *DeliverDueWorker) Work(ctx context.Context, job *river.Job[DeliverDueArgs]) error {
	n := w.Batch
	if n <= 0 {
		n = 10000
	}
	// Notifications queued while this sweep runs cannot enqueue another
	// (one sweep waiting or running at a time), so it looks again until a
	// look finds nothing it has not enqueued: they go out now rather than
	// at the next periodic sweep. A few looks at most, so that a steady
	// stream of notifications does not keep one sweep running; the next
	// notification's kick starts another.
	enqueued := map[int64]bool{}
	for range maxSweepLooks {
		ids, err := w.Store.DueDeliveries(ctx, n)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for _, id := range ids {
			if !enqueued[id] {
				enqueued[id] = true
				params = append(params, river.InsertManyParams{Args: DeliverArgs{DeliveryID: id}})
			}
		}
		if len(params) == 0 {
			return nil
		}
		if err := insertMany(ctx, params); err != nil {
			return err
		}
	}
	return nil
}

// maxSweepLooks bounds the looks for due deliveries in one sweep.
const maxSweepLooks = 10

// insertMany inserts jobs through the River client that runs the current
// job, whichever backend's it is.
func insertMany(ctx context.Context, params []river.InsertManyParams) error {
	var err error
	if c, cerr := river.ClientFromContextSafely[pgx.Tx](ctx); cerr == nil {
		_, err = c.InsertMany(ctx, params)
	} else if c, cerr := river.ClientFromContextSafely[*sql.Tx](ctx); cerr == nil {
		_, err = c.InsertMany(ctx, params)
	} else {
		return errors.New("enqueue deliveries: no job queue client in the context")
	}
	if err != nil {
		return fmt.Errorf("enqueue %d deliveries: %w", len(params), err)
	}
	return nil
}

// DeliveryConfig says how notifications leave.
type DeliveryConfig struct {
	// SMTPURL is the mail server (smtp package); empty: no email.
	SMTPURL string
	// BaseURL makes the links in emails absolute.
	BaseURL string
	// Version is Alinea's, for the webhooks' User-Agent.
	Version string
	// WebhookPrivateNetworks lets webhooks go to addresses that are not
	// public (webhook.Options.PrivateNetworks).
	WebhookPrivateNetworks bool
}

// DeliveryWorkers builds the delivery workers.
func DeliveryWorkers(st *store.Store, c DeliveryConfig, log *slog.Logger) (*DeliverWorker, *DeliverDueWorker, error) {
	render, err := notify.New(c.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	sender := webhook.NewSender(webhook.Options{Version: c.Version, PrivateNetworks: c.WebhookPrivateNetworks})
	w := &DeliverWorker{Store: st, Webhooks: sender, Render: render, Log: log}
	if c.SMTPURL != "" {
		m, err := smtp.Open(c.SMTPURL)
		if err != nil {
			return nil, nil, err
		}
		w.Mailer = m
	}
	return w, &DeliverDueWorker{Store: st}, nil
}
