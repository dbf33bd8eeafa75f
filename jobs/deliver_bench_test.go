package jobs_test

import (
	"os"
	"testing"
	"time"

	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
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

func benchDeliverEmails(b *testing.B, backend store.Backend) {
	// Queued before the clock starts, as a burst of notifications (say,
	// a sweep that found many breaches) would be: what is measured is how
	// fast the workers send what is waiting.
	bu := queueBurst(b, backend, b.N, jobs.DeliverySweepInterval)
	b.ResetTimer()
	start := time.Now()
	bu.start(b)
	bu.mail.Wait(b, b.N, 2*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "emails/s")
}
