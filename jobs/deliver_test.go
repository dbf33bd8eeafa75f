package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/smtp/smtptest"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
	"github.com/alinea-crm/alinea/webhook"
)

// clock is the store's clock; tests move it to make retries due without
// waiting for the backoff.
type clock struct{ ms atomic.Int64 }

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// receiver is a webhook endpoint that verifies every request's signature
// and answers with the statuses it is given, then 200.
type receiver struct {
	secret   atomic.Pointer[string]
	mu       sync.Mutex
	statuses []int
	got      []webhook.Payload
	headers  []http.Header
	bad      []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if s := rc.secret.Load(); s != nil {
		if err := webhook.Verify(*s, r.Header.Get(webhook.SignatureHeader), body, webhook.DefaultTolerance); err != nil {
			rc.bad = append(rc.bad, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	if status == http.StatusOK {
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		rc.got = append(rc.got, p)
		rc.headers = append(rc.headers, r.Header.Clone())
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("answer " + http.StatusText(status)))
}

func (rc *receiver) received() ([]webhook.Payload, []http.Header, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhook.Payload(nil), rc.got...), append([]http.Header(nil), rc.headers...), append([]error(nil), rc.bad...)
}

type deliveryEnv struct {
	st    *store.Store
	q     *jobs.Queue
	clock *clock
}

// startDelivery runs the delivery workers and a fast sweep on st.
// Webhooks may go to the tests' loopback receivers.
func startDelivery(t *testing.T, st *store.Store, c *clock, smtpURL string) *deliveryEnv {
	t.Helper()
	return startDeliveryWith(t, st, c, jobs.DeliveryConfig{SMTPURL: smtpURL, BaseURL: "https://alinea.example.com", Version: "test",
		WebhookPrivateNetworks: true})
}

func startDeliveryWith(t *testing.T, st *store.Store, c *clock, cfg jobs.DeliveryConfig) *deliveryEnv {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	deliver, due, err := jobs.DeliveryWorkers(st, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, deliver)
	river.AddWorker(workers, due)
	q, err := jobs.New(st, jobs.Config{Workers: workers, MaxWorkers: 4, PollInterval: 50 * time.Millisecond,
		Periodic: []*river.PeriodicJob{jobs.DeliverySweep(200 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
	})
	return &deliveryEnv{st: st, q: q, clock: c}
}

// waitState polls a delivery until cond holds, failing after 30 s.
func (e *deliveryEnv) waitState(t *testing.T, id int64, what string, cond func(store.Delivery) bool) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, _, err := e.st.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d (%s to %s) never became %s: %+v", id, d.Channel, d.Recipient, what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *deliveryEnv) deliveries(t *testing.T, f store.DeliveryFilter) map[string]store.Delivery {
	t.Helper()
	list, _, err := e.st.Deliveries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Delivery{}
	for _, d := range list {
		out[d.Channel+" "+d.Recipient] = d
	}
	return out
}

const breachData = `{"contact":{"id":1,"name":"Ana Ruiz","email":"ana@x.es","company":"Textiles Ruiz"},"sla":{"name":"accept_mql","kind":"accept_within","business_hours":8},"owner":{"id":%d,"name":"Rafa Gil","email":"rafa@example.com"},"deadline":"2026-03-03T09:30:00Z","breached_at":"2026-03-03T09:30:20Z"}`

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Now().UnixMilli())
	return c
}

func TestDeliverEmailAndSignedWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		c := newClock()
		st := storetest.Open(t, b, store.Options{Now: c.Now})
		rafa, err := st.CreateUser(ctx, alinea.NewUser{Email: "rafa@example.com", Name: "Rafa Gil", Role: alinea.RoleSales, Password: "correct horse battery", Locale: "es"})
		if err != nil {
			t.Fatal(err)
		}
		marta, err := st.CreateUser(ctx, alinea.NewUser{Email: "marta@example.com", Name: "Marta Sanz", Role: alinea.RoleManager, Password: "correct horse battery", Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		rc := &receiver{}
		endpoint := httptest.NewServer(rc)
		defer endpoint.Close()
		hook, secret, err := st.CreateWebhook(ctx, store.NewWebhook{URL: endpoint.URL + "/alinea", Types: []string{alinea.NotifySLABreached}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		rc.secret.Store(&secret)
		mail := smtptest.Start(t, smtptest.Options{})
		env := startDelivery(t, st, c, mail.URL("Alinea <alinea@example.com>"))

		n := alinea.Notification{Type: alinea.NotifySLABreached, Key: "sla.breached:clock:1", UserIDs: []int64{rafa.ID, marta.ID},
			Data: json.RawMessage(fmt.Sprintf(breachData, rafa.ID)), OccurredAt: time.Date(2026, 3, 3, 9, 30, 20, 0, time.UTC)}
		created, err := jobs.Notify(ctx, st, env.q, n)
		if err != nil || created != 3 {
			t.Fatalf("Notify: %d, %v; want 3 deliveries", created, err)
		}

		msgs := mail.Wait(t, 2, 30*time.Second)
		byTo := map[string]smtptest.Message{}
		for _, m := range msgs {
			byTo[m.To[0]] = m
		}
		es, en := byTo["rafa@example.com"], byTo["marta@example.com"]
		if es.Subject != "SLA incumplido: Ana Ruiz (Textiles Ruiz)" || !strings.Contains(es.Text, "Ha vencido el plazo de tu compromiso") || !strings.Contains(es.HTML, "aceptar o rechazar en 8 horas laborables") {
			t.Errorf("Spanish email to Rafa: subject %q\n%s", es.Subject, es.Text)
		}
		if en.Subject != "SLA breached: Ana Ruiz (Textiles Ruiz)" || !strings.Contains(en.Text, "Rafa Gil has missed the deadline") || !strings.Contains(en.HTML, "accept or reject within 8 business hours") {
			t.Errorf("English email to Marta: subject %q\n%s", en.Subject, en.Text)
		}
		if !strings.Contains(es.Text, "https://alinea.example.com/contacts/1") {
			t.Errorf("no link to the contact:\n%s", es.Text)
		}
		if to, _ := es.Header.AddressList("To"); len(to) != 1 || to[0].Name != "Rafa Gil" {
			t.Errorf("To: %v", to)
		}

		all := env.deliveries(t, store.DeliveryFilter{})
		post := env.waitState(t, all["webhook "+hook.URL].ID, "delivered", func(d store.Delivery) bool { return d.State == store.DeliveryDelivered })
		got, headers, bad := rc.received()
		if len(bad) > 0 {
			t.Fatalf("the receiver could not verify: %v", bad)
		}
		if len(got) != 1 || got[0].ID != post.ID || got[0].Type != alinea.NotifySLABreached || got[0].Key != "sla.breached:clock:1" || !got[0].OccurredAt.Equal(n.OccurredAt) {
			t.Fatalf("webhook received %+v", got)
		}
		if headers[0].Get(webhook.DeliveryHeader) != itoa(post.ID) || headers[0].Get(webhook.EventHeader) != alinea.NotifySLABreached {
			t.Errorf("headers %v", headers[0])
		}
		var data map[string]any
		if err := json.Unmarshal(got[0].Data, &data); err != nil || data["sla"] == nil {
			t.Errorf("data %s", got[0].Data)
		}
		for _, d := range env.deliveries(t, store.DeliveryFilter{Channel: store.ChannelEmail}) {
			d = env.waitState(t, d.ID, "delivered", func(d store.Delivery) bool { return d.State == store.DeliveryDelivered })
			if d.Attempts != 1 || d.DeliveredAt == nil {
				t.Errorf("email delivery %+v", d)
			}
		}

		// The same breach noticed again (another instance, a re-run sweep)
		// sends nothing more.
		if created, err := jobs.Notify(ctx, st, env.q, n); err != nil || created != 0 {
			t.Errorf("repeated Notify: %d, %v; want 0", created, err)
		}
		if err := jobs.KickDeliveries(ctx, env.q); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // two sweeps: a duplicate would have gone out by now
		if got, _, _ := rc.received(); len(got) != 1 {
			t.Errorf("the webhook received %d requests, want 1", len(got))
		}
		if n := len(mail.Messages()); n != 2 {
			t.Errorf("%d emails, want 2", n)
		}
	})
}

func TestDeliverRetriesAFailingEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		c := newClock()
		st := storetest.Open(t, b, store.Options{Now: c.Now})
		rc := &receiver{statuses: []int{http.StatusInternalServerError}}
		endpoint := httptest.NewServer(rc)
		defer endpoint.Close()
		_, secret, err := st.CreateWebhook(ctx, store.NewWebhook{URL: endpoint.URL, Types: []string{alinea.NotifyLeadAssigned}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		rc.secret.Store(&secret)
		env := startDelivery(t, st, c, "")
		if _, err := jobs.Notify(ctx, st, env.q, alinea.Notification{Type: alinea.NotifyLeadAssigned, Key: "lead.assigned:contact:9:1", Data: json.RawMessage(`{"contact":{"id":9}}`)}); err != nil {
			t.Fatal(err)
		}
		var id int64
		for _, d := range env.deliveries(t, store.DeliveryFilter{}) {
			id = d.ID
		}
		d := env.waitState(t, id, "failing", func(d store.Delivery) bool { return d.State == store.DeliveryFailing })
		if d.Attempts != 1 || !strings.Contains(d.LastError, "500") || d.NextAttemptAt == nil || d.NextAttemptAt.Sub(c.Now()) < 20*time.Second {
			t.Errorf("after the 500: %+v", d)
		}
		// The backoff passes; the sweep finds it due and it goes through.
		c.Advance(time.Minute)
		d = env.waitState(t, id, "delivered", func(d store.Delivery) bool { return d.State == store.DeliveryDelivered })
		if d.Attempts != 2 || d.LastError != "" {
			t.Errorf("after the retry: %+v", d)
		}
		_, log, err := st.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].StatusCode != 500 || !strings.Contains(log[0].Error, "answer Internal Server Error") || log[1].StatusCode != 200 || log[1].Error != "" {
			t.Errorf("attempt log %+v", log)
		}
		got, headers, bad := rc.received()
		if len(got) != 1 || len(bad) != 0 || headers[0].Get(webhook.DeliveryHeader) != itoa(id) {
			t.Errorf("received %+v (bad signatures %v)", got, bad)
		}
	})
}

// Without WebhookPrivateNetworks a webhook to a loopback address is not
// sent: the delivery fails, saying why, and the receiver hears nothing.
func TestWebhookToPrivateAddressRefusedByDefault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		c := newClock()
		st := storetest.Open(t, b, store.Options{Now: c.Now})
		rc := &receiver{}
		endpoint := httptest.NewServer(rc)
		defer endpoint.Close()
		if _, _, err := st.CreateWebhook(ctx, store.NewWebhook{URL: endpoint.URL, Types: []string{alinea.NotifyLeadAssigned}}, 0); err != nil {
			t.Fatal(err)
		}
		env := startDeliveryWith(t, st, c, jobs.DeliveryConfig{Version: "test"})
		if _, err := jobs.Notify(ctx, st, env.q, alinea.Notification{Type: alinea.NotifyLeadAssigned, Key: "lead.assigned:contact:9:1", Data: json.RawMessage(`{"contact":{"id":9}}`)}); err != nil {
			t.Fatal(err)
		}
		var id int64
		for _, d := range env.deliveries(t, store.DeliveryFilter{}) {
			id = d.ID
		}
		d := env.waitState(t, id, "failing", func(d store.Delivery) bool { return d.State == store.DeliveryFailing })
		if !strings.Contains(d.LastError, "not a public address") || !strings.Contains(d.LastError, "--webhook-private-networks") {
			t.Errorf("last error %q, want the refusal and the setting", d.LastError)
		}
		if got, _, _ := rc.received(); len(got) != 0 {
			t.Errorf("the loopback receiver got %d webhooks", len(got))
		}
	})
}

func TestUnreachableSMTPDoesNotBlockWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		c := newClock()
		st := storetest.Open(t, b, store.Options{Now: c.Now})
		rep, err := st.CreateUser(ctx, alinea.NewUser{Email: "rep@example.com", Name: "Rep", Role: alinea.RoleSales, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		rc := &receiver{}
		endpoint := httptest.NewServer(rc)
		defer endpoint.Close()
		if _, _, err := st.CreateWebhook(ctx, store.NewWebhook{URL: endpoint.URL, Types: []string{alinea.NotifySLABreached}}, 0); err != nil {
			t.Fatal(err)
		}
		// An SMTP server that is not there.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := ln.Addr().String()
		ln.Close()
		env := startDelivery(t, st, c, "smtp://"+dead+"?from=alinea@example.com&tls=none")
		if _, err := jobs.Notify(ctx, st, env.q, alinea.Notification{Type: alinea.NotifySLABreached, Key: "sla.breached:clock:5", UserIDs: []int64{rep.ID}}); err != nil {
			t.Fatal(err)
		}
		all := env.deliveries(t, store.DeliveryFilter{})
		post := env.waitState(t, all["webhook "+endpoint.URL].ID, "delivered", func(d store.Delivery) bool { return d.State == store.DeliveryDelivered })
		mail := env.waitState(t, all["email rep@example.com"].ID, "failing", func(d store.Delivery) bool { return d.State == store.DeliveryFailing })
		if post.Attempts != 1 {
			t.Errorf("webhook attempts %d", post.Attempts)
		}
		if mail.Attempts != 1 || !strings.Contains(mail.LastError, "connect") || !strings.Contains(mail.LastError, dead) || mail.NextAttemptAt == nil {
			t.Errorf("email to an unreachable server: %+v", mail)
		}
	})
}

func TestEmailWaitsWithoutSMTP(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := storetest.Open(t, store.SQLite, store.Options{Now: c.Now})
	rep, err := st.CreateUser(ctx, alinea.NewUser{Email: "rep@example.com", Name: "Rep", Role: alinea.RoleSales, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	env := startDelivery(t, st, c, "")
	if _, err := jobs.Notify(ctx, st, env.q, alinea.Notification{Type: alinea.NotifySLABreached, Key: "sla.breached:clock:5", UserIDs: []int64{rep.ID}}); err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, d := range env.deliveries(t, store.DeliveryFilter{}) {
		id = d.ID
	}
	d := env.waitState(t, id, "deferred", func(d store.Delivery) bool { return d.LastError != "" })
	if d.State != store.DeliveryPending || d.Attempts != 0 || d.LastError != jobs.ErrNoSMTP || d.NextAttemptAt == nil || d.NextAttemptAt.Sub(c.Now()) < 5*time.Minute {
		t.Errorf("email without SMTP: %+v", d)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A burst of notifications larger than one page of due deliveries goes out
// in one sweep, without waiting for the next periodic one (here an hour
// away), on the queue as `alinea serve` configures it.
func TestBurstOfNotificationsDrainsInOneSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		const n = 1200
		bu := queueBurst(t, b, n, time.Hour)
		bu.start(t)
		bu.mail.Wait(t, n, 60*time.Second)
	})
}
