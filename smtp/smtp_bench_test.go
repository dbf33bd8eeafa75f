package smtp_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alinea-crm/alinea/smtp"
	"github.com/alinea-crm/alinea/smtp/smtptest"
)

// BenchmarkSend measures messages/s from Mailer to a local SMTP server
// (DESIGN.md section 10: at least 500 messages/s): a bilingual
// notification with text and HTML parts, 8 at a time (the delivery
// workers' concurrency), one SMTP session each, the server in this
// process. Run it with
//
//	go test -run '^$' -bench Send -benchtime 5000x ./smtp/
func BenchmarkSend(b *testing.B) {
	srv := smtptest.Start(b, smtptest.Options{})
	m, err := smtp.Open(srv.URL("Alinea <alinea@example.com>"))
	if err != nil {
		b.Fatal(err)
	}
	const senders = 8
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) && failed.Load() == nil {
				if err := m.Send(context.Background(), message()); err != nil {
					failed.Store(&err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	if got := len(srv.Wait(b, b.N, 30*time.Second)); got < b.N {
		b.Fatalf("the server received %d messages, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "messages/s")
}
