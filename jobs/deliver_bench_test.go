package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/smtp/smtptest"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// BenchmarkDeliverEmails measures notification emails/s through the job
// queue (DESIGN.md section 10: at least 500 messages/s to a local SMTP
// server): b.N notifications to one user are queued, then the queue
// starts, and the clock stops when the SMTP server (in this process) has
// received every email. The
// queue runs as `alinea serve` runs it (jobs.ServeConfig, the periodic
// delivery sweep). Run it with
//
//	go test -run '^$' -bench DeliverEmails -benchtime 3000x ./jobs/
//
// PostgreSQL is measured too when ALINEA_TEST_POSTGRES is set.
func BenchmarkDeliverEmails(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchDeliverEmails(b, store.SQLite) })
	if os.Getenv("ALINEA_TEST_POSTGRES") != "" {
		b.Run("postgres", func(b *testing.B) { benchDeliverEmails(b, store.Postgres) })
	}
}

const assignedData = `{"contact":{"id":%d,"name":"Ana Ruiz","email":"ana@x.es","company":"Textiles Ruiz"},"owner":{"id":%d,"name":"Rafa Gil","email":"rafa@example.com"},"reason":"Territorio ES","deadline":"2026-03-03T09:30:00Z","url":"/contacts/1"}`

func benchDeliverEmails(b *testing.B, backend store.Backend) {
	ctx := context.Background()
	st := storetest.Open(b, backend, store.Options{})
	if err := jobs.Migrate(ctx, st); err != nil {
		b.Fatal(err)
	}
	u, err := st.CreateUser(ctx, alinea.NewUser{Email: "rafa@example.com", Name: "Rafa Gil", Role: alinea.RoleSales, Password: "correct horse battery", Locale: "es"})
	if err != nil {
		b.Fatal(err)
	}
	mail := smtptest.Start(b, smtptest.Options{})
	deliver, due, err := jobs.DeliveryWorkers(st, jobs.DeliveryConfig{SMTPURL: mail.URL("Alinea <alinea@example.com>"), BaseURL: "https://alinea.example.com", Version: "bench"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, deliver)
	river.AddWorker(workers, due)
	cfg := jobs.ServeConfig()
	cfg.Workers = workers
	cfg.Periodic = []*river.PeriodicJob{jobs.DeliverySweep(jobs.DeliverySweepInterval)}
	q, err := jobs.New(st, cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Queued before the clock starts, as a burst of notifications (say,
	// a sweep that found many breaches) would be: what is measured is how
	// fast the workers send what is waiting.
	for i := range b.N {
		n := alinea.Notification{Type: alinea.NotifyLeadAssigned, Key: fmt.Sprintf("lead.assigned:contact:%d:1", i), UserIDs: []int64{u.ID},
			Data: json.RawMessage(fmt.Sprintf(assignedData, i, u.ID)), OccurredAt: time.Now()}
		if _, err := jobs.Notify(ctx, st, q, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	if err := q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
	}()
	mail.Wait(b, b.N, 2*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "emails/s")
}
