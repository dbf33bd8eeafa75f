package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/smtp/smtptest"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

const assignedData = `{"contact":{"id":%d,"name":"Ana Ruiz","email":"ana@x.es","company":"Textiles Ruiz"},"owner":{"id":%d,"name":"Rafa Gil","email":"rafa@example.com"},"reason":"Territorio ES","deadline":"2026-03-03T09:30:00Z","url":"/contacts/1"}`

// burst is a job queue set up as `alinea serve` runs it (jobs.ServeConfig,
// the periodic delivery sweep) with a burst of notification emails already
// queued for it, and the SMTP server (in this process) they go to.
type burst struct {
	q    *jobs.Queue
	mail *smtptest.Server
}

// queueBurst queues n lead.assigned notifications to one user on a fresh
// store of backend, the sweep running every sweepEvery; the queue is not
// started yet (start).
func queueBurst(tb testing.TB, backend store.Backend, n int, sweepEvery time.Duration) *burst {
	tb.Helper()
	ctx := context.Background()
	st := storetest.Open(tb, backend, store.Options{})
	if err := jobs.Migrate(ctx, st); err != nil {
		tb.Fatal(err)
	}
	u, err := st.CreateUser(ctx, alinea.NewUser{Email: "rafa@example.com", Name: "Rafa Gil", Role: alinea.RoleSales, Password: "correct horse battery", Locale: "es"})
	if err != nil {
		tb.Fatal(err)
	}
	mail := smtptest.Start(tb, smtptest.Options{})
	deliver, due, err := jobs.DeliveryWorkers(st, jobs.DeliveryConfig{SMTPURL: mail.URL("Alinea <alinea@example.com>"), BaseURL: "https://alinea.example.com", Version: "test"}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, deliver)
	river.AddWorker(workers, due)
	cfg := jobs.ServeConfig()
	cfg.Workers = workers
	cfg.Periodic = []*river.PeriodicJob{jobs.DeliverySweep(sweepEvery)}
	q, err := jobs.New(st, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		note := alinea.Notification{Type: alinea.NotifyLeadAssigned, Key: fmt.Sprintf("lead.assigned:contact:%d:1", i), UserIDs: []int64{u.ID},
			Data: json.RawMessage(fmt.Sprintf(assignedData, i, u.ID)), OccurredAt: time.Now()}
		if _, err := jobs.Notify(ctx, st, q, note); err != nil {
			tb.Fatal(err)
		}
	}
	return &burst{q: q, mail: mail}
}

// start starts the queue, and stops it when the test ends.
func (bu *burst) start(tb testing.TB) {
	tb.Helper()
	if err := bu.q.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = bu.q.Stop(ctx)
	})
}
