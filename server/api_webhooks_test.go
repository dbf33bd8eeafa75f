package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestAPIWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		body := `{"url":"https://hooks.example.com/alinea","types":["sla.breached","sla.escalated"],"description":"CRM"}`
		for _, role := range []alinea.Role{alinea.RoleManager, alinea.RoleSales, alinea.RoleMarketing} {
			if e := a.fail(role, "POST", "/api/v1/webhooks", body); e.status != http.StatusForbidden {
				t.Errorf("%s created a webhook: %d", role, e.status)
			}
			if e := a.fail(role, "GET", "/api/v1/webhooks", ""); e.status != http.StatusForbidden {
				t.Errorf("%s listed webhooks: %d", role, e.status)
			}
		}
		var created struct {
			store.Webhook
			Secret string `json:"secret"`
		}
		a.must(alinea.RoleAdmin, "POST", "/api/v1/webhooks", body, http.StatusCreated, &created)
		if !strings.HasPrefix(created.Secret, "whsec_") || !created.Active || created.CreatedBy != a.users[alinea.RoleAdmin].ID || len(created.Types) != 2 {
			t.Errorf("created %+v", created)
		}
		status, raw := a.call(alinea.RoleAdmin, "GET", "/api/v1/webhooks", "")
		if status != http.StatusOK || strings.Contains(string(raw), created.Secret) || strings.Contains(string(raw), `"secret"`) {
			t.Errorf("list: %d %s (the secret must not be listed)", status, raw)
		}
		var list page[store.Webhook]
		_ = json.Unmarshal(raw, &list)
		if len(list.Data) != 1 || list.Data[0].ID != created.ID {
			t.Errorf("list %+v", list)
		}

		e := a.fail(alinea.RoleAdmin, "POST", "/api/v1/webhooks", `{"url":"ftp://x","types":["sla.missed"]}`)
		if e.status != http.StatusBadRequest || e.Error.Fields["url"] == "" || e.Error.Fields["types"] == "" {
			t.Errorf("invalid webhook: %+v", e)
		}
		if e := a.fail(alinea.RoleAdmin, "POST", "/api/v1/webhooks", `{"url":"https://x.example.com","types":["sla.breached"],"secret":"mine"}`); e.status != http.StatusBadRequest {
			t.Errorf("unknown field accepted: %+v", e)
		}

		path := fmt.Sprintf("/api/v1/webhooks/%d", created.ID)
		var updated store.Webhook
		a.must(alinea.RoleAdmin, "PATCH", path, `{"active":false}`, http.StatusOK, &updated)
		if updated.Active || updated.URL != created.URL || len(updated.Types) != 2 {
			t.Errorf("paused %+v", updated)
		}
		a.must(alinea.RoleAdmin, "PATCH", path, `{"types":["lead.assigned"],"url":"https://hooks.example.com/v2"}`, http.StatusOK, &updated)
		if updated.Active || updated.URL != "https://hooks.example.com/v2" || len(updated.Types) != 1 || updated.Types[0] != alinea.NotifyLeadAssigned {
			t.Errorf("updated %+v", updated)
		}
		if e := a.fail(alinea.RoleAdmin, "PATCH", path, `{"types":[]}`); e.status != http.StatusBadRequest || e.Error.Fields["types"] == "" {
			t.Errorf("no types: %+v", e)
		}
		if e := a.fail(alinea.RoleManager, "DELETE", path, ""); e.status != http.StatusForbidden {
			t.Errorf("manager deleted: %+v", e)
		}
		a.must(alinea.RoleAdmin, "DELETE", path, "", http.StatusNoContent, nil)
		if e := a.fail(alinea.RoleAdmin, "PATCH", path, `{"active":true}`); e.status != http.StatusNotFound {
			t.Errorf("patch deleted: %+v", e)
		}
	})
}

func TestAPIDeliveryLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		ctx := context.Background()
		hook, _, err := a.st.CreateWebhook(ctx, store.NewWebhook{URL: "https://hooks.example.com/", Types: alinea.NotificationTypes}, 0)
		if err != nil {
			t.Fatal(err)
		}
		rep := a.users[alinea.RoleSales]
		for i, typ := range []string{alinea.NotifyLeadAssigned, alinea.NotifySLABreached, alinea.NotifySLAEscalated} {
			n := alinea.Notification{Type: typ, Key: fmt.Sprintf("%s:clock:%d", typ, i), UserIDs: []int64{rep.ID}, Data: json.RawMessage(`{"contact":{"id":1}}`)}
			if _, err := a.st.QueueNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, role := range []alinea.Role{alinea.RoleSales, alinea.RoleMarketing} {
			if e := a.fail(role, "GET", "/api/v1/deliveries", ""); e.status != http.StatusForbidden {
				t.Errorf("%s read the delivery log: %d", role, e.status)
			}
		}
		var all page[store.Delivery]
		a.must(alinea.RoleManager, "GET", "/api/v1/deliveries", "", http.StatusOK, &all)
		if len(all.Data) != 6 || all.NextCursor != nil {
			t.Fatalf("log: %d deliveries, want 6", len(all.Data))
		}
		var first page[store.Delivery]
		a.must(alinea.RoleAdmin, "GET", "/api/v1/deliveries?limit=4", "", http.StatusOK, &first)
		if len(first.Data) != 4 || first.NextCursor == nil {
			t.Fatalf("first page %d, cursor %v", len(first.Data), first.NextCursor)
		}
		var second page[store.Delivery]
		a.must(alinea.RoleAdmin, "GET", "/api/v1/deliveries?limit=4&cursor="+*first.NextCursor, "", http.StatusOK, &second)
		if len(second.Data) != 2 || second.Data[0].ID >= first.Data[3].ID {
			t.Errorf("second page %+v", second.Data)
		}
		var hooks page[store.Delivery]
		a.must(alinea.RoleManager, "GET", fmt.Sprintf("/api/v1/deliveries?channel=webhook&type=sla.breached&webhook=%d&state=pending", hook.ID), "", http.StatusOK, &hooks)
		if len(hooks.Data) != 1 || hooks.Data[0].Recipient != "https://hooks.example.com/" || hooks.Data[0].Type != alinea.NotifySLABreached {
			t.Errorf("filtered %+v", hooks.Data)
		}
		e := a.fail(alinea.RoleManager, "GET", "/api/v1/deliveries?state=sent&channel=sms&colour=red", "")
		if e.status != http.StatusBadRequest || e.Error.Fields["colour"] == "" {
			t.Errorf("bad query: %+v", e)
		}
		if e := a.fail(alinea.RoleManager, "GET", "/api/v1/deliveries?state=sent", ""); e.status != http.StatusBadRequest || e.Error.Fields["state"] == "" {
			t.Errorf("bad state: %+v", e)
		}

		id := hooks.Data[0].ID
		if _, ok, err := a.st.ClaimDelivery(ctx, id); err != nil || !ok {
			t.Fatal("claim", ok, err)
		}
		if _, err := a.st.RecordDeliveryAttempt(ctx, id, store.AttemptResult{StatusCode: 503, Error: "endpoint answered 503", Permanent: true}); err != nil {
			t.Fatal(err)
		}
		var detail struct {
			store.Delivery
			Log []store.DeliveryAttempt `json:"log"`
		}
		a.must(alinea.RoleManager, "GET", fmt.Sprintf("/api/v1/deliveries/%d", id), "", http.StatusOK, &detail)
		if detail.State != store.DeliveryFailed || len(detail.Log) != 1 || detail.Log[0].StatusCode != 503 || detail.Log[0].Error == "" {
			t.Errorf("detail %+v", detail)
		}
		var retried store.Delivery
		a.must(alinea.RoleManager, "POST", fmt.Sprintf("/api/v1/deliveries/%d/retry", id), "", http.StatusAccepted, &retried)
		if retried.State != store.DeliveryFailing || retried.NextAttemptAt == nil {
			t.Errorf("retried %+v", retried)
		}
		if e := a.fail(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/deliveries/%d/retry", id), ""); e.status != http.StatusForbidden {
			t.Errorf("sales retried: %+v", e)
		}
		if e := a.fail(alinea.RoleManager, "GET", "/api/v1/deliveries/99999", ""); e.status != http.StatusNotFound {
			t.Errorf("unknown delivery: %+v", e)
		}
	})
}
