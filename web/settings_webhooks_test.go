package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

func TestWebhookSettings(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	for _, role := range []alinea.Role{alinea.RoleManager, alinea.RoleSales, alinea.RoleMarketing} {
		c := a.signedIn(role, "es")
		if res := c.get("/settings/webhooks"); res.status != http.StatusForbidden {
			t.Errorf("%s GET /settings/webhooks: %d, want 403", role, res.status)
		}
		if res := c.postForm("/", "/settings/webhooks", url.Values{"url": {"https://evil.example.com"}, "types": {"sla.breached"}}); res.status != http.StatusForbidden {
			t.Errorf("%s created a webhook: %d", role, res.status)
		}
	}

	c := a.signedIn(alinea.RoleAdmin, "es")
	res := c.get("/settings/webhooks")
	if res.status != http.StatusOK {
		t.Fatalf("GET /settings/webhooks: %d", res.status)
	}
	mustContain(t, "empty page", text(res.body), "Todavía no hay webhooks", "Añadir un webhook", "SLA incumplido", "Lead asignado")

	// A bad form comes back in Spanish with what was typed.
	res = c.postForm("/settings/webhooks", "/settings/webhooks", url.Values{"url": {"ftp://crm.example.com/x"}, "description": {"CRM de ventas"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid form: %d", res.status)
	}
	mustContain(t, "invalid form", text(res.body), "Revisa los campos marcados", "Escribe una dirección completa", "Elige al menos un tipo de aviso")
	if !strings.Contains(res.body, `value="ftp://crm.example.com/x"`) || !strings.Contains(res.body, `value="CRM de ventas"`) {
		t.Error("the form lost what was typed")
	}

	res = c.postForm("/settings/webhooks", "/settings/webhooks", url.Values{"url": {"https://crm.example.com/alinea"}, "description": {"CRM de ventas"}, "types": {"sla.breached", "sla.escalated"}})
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d", res.status)
	}
	secret := regexp.MustCompile(`value="(whsec_[0-9a-f]{64})"`).FindStringSubmatch(res.body)
	if secret == nil {
		t.Fatalf("the new secret is not shown:\n%s", clip(text(res.body)))
	}
	mustContain(t, "created", text(res.body), "Webhook creado", "no se volverá a mostrar", "https://crm.example.com/alinea", "CRM de ventas", "Activo")
	hooks, _ := a.store.Webhooks(ctx)
	if len(hooks) != 1 || len(hooks[0].Types) != 2 || hooks[0].Description != "CRM de ventas" {
		t.Fatalf("stored %+v", hooks)
	}
	id := hooks[0].ID
	if page := c.get("/settings/webhooks"); strings.Contains(page.body, secret[1]) {
		t.Error("the secret is shown again")
	}

	res = c.postForm("/settings/webhooks", fmt.Sprintf("/settings/webhooks/%d/active", id), url.Values{"active": {"false"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", res.status)
	}
	mustContain(t, "paused", text(c.get(res.location).body), "Webhook en pausa", "En pausa", "Reanudar")
	if h, _ := a.store.Webhook(ctx, id); h.Active {
		t.Error("still active")
	}
	res = c.postForm("/settings/webhooks", fmt.Sprintf("/settings/webhooks/%d/delete", id), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	if _, err := a.store.Webhook(ctx, id); alinea.ErrorCode(err) != alinea.ENOTFOUND {
		t.Errorf("not deleted: %v", err)
	}
}

func TestDeliveryLogPage(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	rep := a.user(alinea.RoleSales)
	u, err := a.store.UserByEmail(ctx, rep.Email)
	if err != nil {
		t.Fatal(err)
	}
	hook, _, err := a.store.CreateWebhook(ctx, store.NewWebhook{URL: "https://crm.example.com/alinea", Types: alinea.NotificationTypes}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.QueueNotification(ctx, alinea.Notification{Type: alinea.NotifySLABreached, Key: "sla.breached:clock:1", UserIDs: []int64{u.ID},
		Data: json.RawMessage(`{"contact":{"id":1,"name":"Ana Ruiz"}}`)}); err != nil {
		t.Fatal(err)
	}
	list, _, _ := a.store.Deliveries(ctx, store.DeliveryFilter{Channel: store.ChannelWebhook})
	post := list[0]
	if _, ok, err := a.store.ClaimDelivery(ctx, post.ID); err != nil || !ok {
		t.Fatal("claim", ok, err)
	}
	if _, err := a.store.RecordDeliveryAttempt(ctx, post.ID, store.AttemptResult{StatusCode: 500, Error: "POST https://crm.example.com/alinea: endpoint answered 500 Internal Server Error"}); err != nil {
		t.Fatal(err)
	}

	if res := a.signedIn(alinea.RoleSales, "es").get("/settings/deliveries"); res.status != http.StatusForbidden {
		t.Errorf("sales opened the delivery log: %d", res.status)
	}
	m := a.signedIn(alinea.RoleManager, "en")
	res := m.get("/settings/deliveries")
	if res.status != http.StatusOK {
		t.Fatalf("manager: %d", res.status)
	}
	mustContain(t, "log", text(res.body), "Delivery log", "SLA breached", "Failing", "endpoint answered 500", "Pending", rep.Email, "https://crm.example.com/alinea")
	if strings.Contains(res.body, `href="/settings/users"`) {
		t.Error("a manager is offered the admin-only settings tabs")
	}
	res = m.get("/settings/deliveries?state=failing")
	mustContain(t, "filtered", text(res.body), "endpoint answered 500")
	mustNotContain(t, "filtered", text(res.body), rep.Email)
	res = m.get(fmt.Sprintf("/settings/deliveries?webhook=%d&channel=email", hook.ID))
	mustContain(t, "no match", text(res.body), "No delivery matches the filters.")

	res = m.get(fmt.Sprintf("/settings/deliveries/%d", post.ID))
	if res.status != http.StatusOK {
		t.Fatalf("detail: %d", res.status)
	}
	mustContain(t, "detail", text(res.body), "Delivery "+fmt.Sprint(post.ID), "sla.breached:clock:1", "HTTP 500", "Retry now", "Ana Ruiz")
	res = m.postForm(fmt.Sprintf("/settings/deliveries/%d", post.ID), fmt.Sprintf("/settings/deliveries/%d/retry", post.ID), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("retry: %d", res.status)
	}
	mustContain(t, "retried", text(m.get(res.location).body), "Delivery scheduled")
	d, _, _ := a.store.Delivery(ctx, post.ID)
	if d.NextAttemptAt == nil || d.NextAttemptAt.After(a.clock.Now()) {
		t.Errorf("retry did not make it due: %+v", d)
	}
	es := a.signedIn(alinea.RoleAdmin, "es").get("/settings/deliveries")
	mustContain(t, "Spanish log", text(es.body), "Registro de envíos", "SLA incumplido", "Fallando", "Webhooks", "Usuarios")
}
