package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/smtp/smtptest"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
	"github.com/alinea-crm/alinea/webhook"
)

// webhookInbox is a webhook receiver that verifies signatures and records
// what it received.
type webhookInbox struct {
	secret string
	mu     sync.Mutex
	got    []webhook.Payload
	bad    []string
}

func (wi *webhookInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	wi.mu.Lock()
	defer wi.mu.Unlock()
	if err := webhook.Verify(wi.secret, r.Header.Get("Alinea-Signature"), body, 5*time.Minute); err != nil {
		wi.bad = append(wi.bad, err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		wi.bad = append(wi.bad, err.Error())
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	wi.got = append(wi.got, p)
}

func (wi *webhookInbox) received() ([]webhook.Payload, []string) {
	wi.mu.Lock()
	defer wi.mu.Unlock()
	return slices.Clone(wi.got), slices.Clone(wi.bad)
}

// TestTwoInstancesNotifyEachBreachOnce runs two `alinea serve` processes on
// one PostgreSQL database with the seed-003 agreement (its calendar made
// round-the-clock and its acceptance term a few seconds, so the test need
// not wait a business day). Leads become MQLs, are routed to a rep, nobody
// accepts them, and each late acceptance must produce exactly one breach
// email (to a real SMTP server) and one signed webhook, however the two
// instances share the work.
func TestTwoInstancesNotifyEachBreachOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two server processes")
	}
	if !slices.Contains(storetest.Backends(t), store.Postgres) {
		t.Skip("needs PostgreSQL (ALINEA_TEST_POSTGRES); CI sets ALINEA_TEST_REQUIRE_POSTGRES=1 so it never skips there")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t, store.Postgres)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	mkt := mustCreateUser(t, st, "marta.gomez@vertice.example", alinea.RoleMarketing, "es")
	carlos := mustCreateUser(t, st, "carlos.ruiz@vertice.example", alinea.RoleSales, "es")
	mustCreateUser(t, st, "ana.morales@vertice.example", alinea.RoleManager, "es")

	doc, err := agreement.Parse(agreement.Example)
	if err != nil {
		t.Fatal(err)
	}
	doc.Calendar.TimeZone = "UTC"
	doc.Calendar.WorkingDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	doc.Calendar.Hours = []string{"00:00-24:00"}
	doc.Calendar.Holidays = nil
	for i := range doc.SLAs {
		if doc.SLAs[i].Kind == "accept_within" {
			doc.SLAs[i].BusinessHours = 0.002 // 7.2 s
			doc.SLAs[i].EscalateAfterHours = 0
		}
	}
	src, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.CreateAgreement(ctx, src, 0, mkt.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := st.ProposeAgreement(ctx, v.ID, mkt.ID); return err },
		func() error { _, err := st.SignAgreement(ctx, v.ID, mkt); return err },
		func() error { _, err := st.SignAgreement(ctx, v.ID, carlos); return err },
		func() error { _, err := st.ActivateAgreement(ctx, v.ID, mkt.ID); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	inbox := &webhookInbox{}
	hooks := httptest.NewServer(inbox)
	defer hooks.Close()
	_, secret, err := st.CreateWebhook(ctx, store.NewWebhook{URL: hooks.URL, Types: []string{alinea.NotifySLABreached}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	inbox.secret = secret
	mail := smtptest.Start(t, smtptest.Options{})

	bin := buildBinary(t)
	for i := range 2 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--sla-sweep-interval", "1s",
			"--smtp-url", mail.URL("alinea@vertice.example"), "--base-url", "http://alinea.test", "--webhook-private-networks", "--log-level", "warn")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
			}
			if t.Failed() {
				t.Logf("instance %d log:\n%s", i, logs.String())
			}
		})
		waitReady(t, "http://"+addr+"/api/v1/openapi.json")
	}

	// Three Spanish leads become MQLs; the spain rule routes them to carlos.
	const leads = 3
	for i := range leads {
		email := []string{"lucia@cliente.es", "jorge@cliente.es", "sara@cliente.es"}[i]
		country := "ES"
		c, err := st.CreateContact(ctx, alinea.ContactFields{Email: &email, Country: &country}, alinea.Actor{Type: alinea.ActorUser, UserID: mkt.ID, Role: alinea.RoleMarketing})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageMQL, Actor: alinea.Actor{Type: alinea.ActorUser, UserID: mkt.ID, Role: alinea.RoleMarketing}}); err != nil {
			t.Fatal(err)
		}
	}

	// Each lead: one assignment email, then one breach email, to carlos.
	msgs := mail.Wait(t, 2*leads, 90*time.Second)
	// Let both instances sweep several more times: nothing new may arrive.
	time.Sleep(6 * time.Second)
	msgs = mail.Messages()
	var assigned, breached int
	for _, m := range msgs {
		if len(m.To) != 1 || m.To[0] != carlos.Email {
			t.Errorf("email to %v, want carlos only: %s", m.To, m.Subject)
		}
		switch m.Header.Get("X-Alinea-Event") {
		case alinea.NotifySLABreached:
			breached++
		case alinea.NotifyLeadAssigned:
			assigned++
		default:
			t.Errorf("email of event %q: %s", m.Header.Get("X-Alinea-Event"), m.Subject)
		}
	}
	if assigned != leads || breached != leads {
		for _, m := range msgs {
			t.Logf("email %q", m.Subject)
		}
		t.Fatalf("%d assignment and %d breach emails, want %d of each", assigned, breached, leads)
	}
	got, bad := inbox.received()
	if len(bad) > 0 {
		t.Errorf("webhook requests refused: %v", bad)
	}
	keys := map[string]int{}
	for _, p := range got {
		if p.Type != alinea.NotifySLABreached {
			t.Errorf("webhook of type %s; the subscription is to sla.breached only", p.Type)
		}
		keys[p.Key]++
	}
	if len(got) != leads || len(keys) != leads {
		t.Errorf("%d signed webhooks for %d distinct breaches, want %d and %d", len(got), len(keys), leads, leads)
	}

	// The delivery log agrees, and the report counts the breaches.
	ds, _, err := st.Deliveries(ctx, store.DeliveryFilter{Type: alinea.NotifySLABreached, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2*leads {
		t.Errorf("%d breach deliveries logged, want %d (email + webhook per breach)", len(ds), 2*leads)
	}
	for _, d := range ds {
		if d.State != "delivered" || d.Attempts != 1 {
			t.Errorf("delivery %d: state %s after %d attempts", d.ID, d.State, d.Attempts)
		}
	}
	r, err := st.SLAReport(ctx, time.Now().UTC().Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range r.Terms {
		if term.Term == "accept_mql" && term.Breached != leads {
			t.Errorf("report: accept_mql breached %d, want %d", term.Breached, leads)
		}
	}
}

func mustCreateUser(t *testing.T, st *store.Store, email string, role alinea.Role, locale string) alinea.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), alinea.NewUser{Email: email, Name: email, Role: role, Password: "a long enough password", Locale: locale})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
