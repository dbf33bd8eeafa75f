package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func notifyUser(t *testing.T, s *store.Store, email string, role alinea.Role, locale string) alinea.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), alinea.NewUser{Email: email, Name: strings.Split(email, "@")[0], Role: role, Password: "correct horse battery", Locale: locale})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func breach(key string, users ...int64) alinea.Notification {
	return alinea.Notification{Type: alinea.NotifySLABreached, Key: key, UserIDs: users,
		Data: json.RawMessage(`{"contact":{"id":1,"name":"Ana Ruiz"}}`), OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func TestWebhookSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		admin := notifyUser(t, s, "admin@example.com", alinea.RoleAdmin, "es")

		w, secret, err := s.CreateWebhook(ctx, store.NewWebhook{URL: " https://hooks.example.com/alinea ", Types: []string{alinea.NotifySLAEscalated, alinea.NotifySLABreached, alinea.NotifySLABreached}, Description: "CRM"}, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+64 {
			t.Errorf("secret %q: want whsec_ and 64 hex digits", secret)
		}
		if w.URL != "https://hooks.example.com/alinea" || !w.Active || w.CreatedBy != admin.ID || w.Description != "CRM" {
			t.Errorf("created %+v", w)
		}
		if got := strings.Join(w.Types, ","); got != "sla.breached,sla.escalated" {
			t.Errorf("types %q: want them once each, in the canonical order", got)
		}
		raw, _ := json.Marshal(w)
		if strings.Contains(string(raw), secret) {
			t.Errorf("the webhook's JSON carries its secret: %s", raw)
		}
		_, secret2, err := s.CreateWebhook(ctx, store.NewWebhook{URL: "http://127.0.0.1:9/x", Types: []string{alinea.NotifyLeadAssigned}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if secret2 == secret {
			t.Error("two webhooks got the same secret")
		}

		bad := []struct {
			in    store.NewWebhook
			field string
		}{
			{store.NewWebhook{URL: "", Types: []string{alinea.NotifySLABreached}}, "url"},
			{store.NewWebhook{URL: "ftp://example.com", Types: []string{alinea.NotifySLABreached}}, "url"},
			{store.NewWebhook{URL: "/relative", Types: []string{alinea.NotifySLABreached}}, "url"},
			{store.NewWebhook{URL: "https://user:pw@example.com/", Types: []string{alinea.NotifySLABreached}}, "url"},
			{store.NewWebhook{URL: "https://example.com/", Types: nil}, "types"},
			{store.NewWebhook{URL: "https://example.com/", Types: []string{"sla.missed"}}, "types"},
			{store.NewWebhook{URL: "https://example.com/", Types: []string{alinea.NotifySLABreached}, Description: strings.Repeat("x", 201)}, "description"},
		}
		for _, tc := range bad {
			_, _, err := s.CreateWebhook(ctx, tc.in, 0)
			if alinea.ErrorCode(err) != alinea.EINVALID || alinea.ErrorFields(err)[tc.field] == "" {
				t.Errorf("CreateWebhook(%+v): got %v, want EINVALID naming %s", tc.in, err, tc.field)
			}
		}

		off, url := false, "https://hooks.example.com/v2"
		got, err := s.UpdateWebhook(ctx, w.ID, store.WebhookChange{Active: &off, URL: &url, Types: []string{alinea.NotifyLeadAssigned}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Active || got.URL != url || strings.Join(got.Types, ",") != alinea.NotifyLeadAssigned || got.Description != "CRM" {
			t.Errorf("updated %+v", got)
		}
		if _, err := s.UpdateWebhook(ctx, w.ID, store.WebhookChange{Types: []string{}}); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Errorf("update to no types: got %v, want EINVALID", err)
		}
		if _, err := s.UpdateWebhook(ctx, 9999, store.WebhookChange{Active: &off}); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("update unknown: got %v, want ENOTFOUND", err)
		}
		list, err := s.Webhooks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != w.ID || list[0].Active {
			t.Errorf("list %+v", list)
		}
		if err := s.DeleteWebhook(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Webhook(ctx, w.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("deleted webhook: got %v, want ENOTFOUND", err)
		}
		if err := s.DeleteWebhook(ctx, w.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("delete twice: got %v, want ENOTFOUND", err)
		}
	})
}

func TestQueueNotificationOncePerRecipient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		rep := notifyUser(t, s, "rep@example.com", alinea.RoleSales, "es")
		boss := notifyUser(t, s, "boss@example.com", alinea.RoleManager, "en")
		_, _, _ = s.CreateWebhook(ctx, store.NewWebhook{URL: "https://a.example.com/", Types: []string{alinea.NotifySLABreached}}, 0)
		_, _, _ = s.CreateWebhook(ctx, store.NewWebhook{URL: "https://b.example.com/", Types: []string{alinea.NotifyLeadAssigned}}, 0)
		paused, _, _ := s.CreateWebhook(ctx, store.NewWebhook{URL: "https://c.example.com/", Types: []string{alinea.NotifySLABreached}}, 0)
		off := false
		if _, err := s.UpdateWebhook(ctx, paused.ID, store.WebhookChange{Active: &off}); err != nil {
			t.Fatal(err)
		}

		n, err := s.QueueNotification(ctx, breach("sla.breached:clock:1", rep.ID, boss.ID, rep.ID))
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("created %d deliveries, want 3 (two emails, one subscribed active webhook)", n)
		}
		// The same occurrence again — another instance, a re-run sweep —
		// creates nothing, even with one more recipient already covered.
		n, err = s.QueueNotification(ctx, breach("sla.breached:clock:1", boss.ID, rep.ID))
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("a repeated key created %d deliveries, want 0", n)
		}
		// The escalation of the same clock is another occurrence.
		esc := breach("sla.escalated:clock:1", boss.ID)
		esc.Type = alinea.NotifySLAEscalated
		if n, err = s.QueueNotification(ctx, esc); err != nil || n != 1 {
			t.Errorf("escalation: created %d, %v; want 1 (no webhook subscribes to it)", n, err)
		}

		all, next, err := s.Deliveries(ctx, store.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 || next != 0 {
			t.Fatalf("log has %d deliveries (next %d), want 4", len(all), next)
		}
		recipients := map[string]string{}
		for _, d := range all {
			recipients[d.Type+" "+d.Channel+" "+d.Recipient] = d.State
			if d.State != store.DeliveryPending || d.NextAttemptAt == nil || d.Attempts != 0 {
				t.Errorf("new delivery %+v: want pending, due, no attempts", d)
			}
		}
		for _, want := range []string{"sla.breached email rep@example.com", "sla.breached email boss@example.com", "sla.breached webhook https://a.example.com/", "sla.escalated email boss@example.com"} {
			if _, ok := recipients[want]; !ok {
				t.Errorf("no delivery %q in %v", want, recipients)
			}
		}
		if all[0].ID < all[1].ID {
			t.Error("the log is not newest first")
		}
		var data map[string]any
		if err := json.Unmarshal(all[3].Data, &data); err != nil || data["contact"] == nil {
			t.Errorf("stored data %s", all[3].Data)
		}
		if !all[3].OccurredAt.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("occurred at %v", all[3].OccurredAt)
		}

		// In the caller's transaction: rolled back, nothing stays.
		db, _ := s.Handles()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.QueueNotificationTx(ctx, tx, breach("sla.breached:clock:2", rep.ID)); err != nil || n != 2 {
			t.Fatalf("in a transaction: %d, %v; want 2", n, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.Deliveries(ctx, store.DeliveryFilter{}); len(got) != 4 {
			t.Errorf("after rollback the log has %d deliveries, want 4", len(got))
		}

		bad := []struct {
			n     alinea.Notification
			field string
		}{
			{alinea.Notification{Type: "sla.missed", Key: "k"}, "type"},
			{alinea.Notification{Type: alinea.NotifySLABreached, Key: " "}, "key"},
			{alinea.Notification{Type: alinea.NotifySLABreached, Key: "k", Data: json.RawMessage(`[1]`)}, "data"},
			{alinea.Notification{Type: alinea.NotifySLABreached, Key: "k", Data: json.RawMessage(`{`)}, "data"},
			{alinea.Notification{Type: alinea.NotifySLABreached, Key: "k", UserIDs: []int64{rep.ID, 4242}}, "user_ids"},
		}
		for _, tc := range bad {
			if _, err := s.QueueNotification(ctx, tc.n); alinea.ErrorCode(err) != alinea.EINVALID || alinea.ErrorFields(err)[tc.field] == "" {
				t.Errorf("QueueNotification(%+v): got %v, want EINVALID naming %s", tc.n, err, tc.field)
			}
		}
		if got, _, _ := s.Deliveries(ctx, store.DeliveryFilter{}); len(got) != 4 {
			t.Errorf("a refused notification left deliveries: %d, want 4", len(got))
		}
	})
}

func TestConcurrentQueueNotificationCreatesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		rep := notifyUser(t, s, "rep@example.com", alinea.RoleSales, "es")
		_, _, _ = s.CreateWebhook(ctx, store.NewWebhook{URL: "https://a.example.com/", Types: []string{alinea.NotifySLABreached}}, 0)
		var created atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				n, err := s.QueueNotification(ctx, breach("sla.breached:clock:7", rep.ID))
				if err != nil {
					t.Error(err)
				}
				created.Add(int64(n))
			})
		}
		wg.Wait()
		if got := created.Load(); got != 2 {
			t.Errorf("8 concurrent detections created %d deliveries, want 2 (one email, one webhook)", got)
		}
	})
}

func TestDeliveryLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		rep := notifyUser(t, s, "rep@example.com", alinea.RoleSales, "en")
		hook, secret, _ := s.CreateWebhook(ctx, store.NewWebhook{URL: "https://a.example.com/", Types: []string{alinea.NotifySLABreached}}, 0)
		if _, err := s.QueueNotification(ctx, breach("sla.breached:clock:1", rep.ID)); err != nil {
			t.Fatal(err)
		}
		due, err := s.DueDeliveries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 {
			t.Fatalf("due %v, want both deliveries", due)
		}
		byChannel := map[string]store.Outgoing{}
		for _, id := range due {
			out, ok, err := s.ClaimDelivery(ctx, id)
			if err != nil || !ok {
				t.Fatalf("claim %d: %v %v", id, ok, err)
			}
			byChannel[out.Channel] = out
			// Claimed: nobody else takes it, and it is not due.
			if _, ok, _ := s.ClaimDelivery(ctx, id); ok {
				t.Errorf("delivery %d claimed twice", id)
			}
		}
		if left, _ := s.DueDeliveries(ctx, 10); len(left) != 0 {
			t.Errorf("claimed deliveries still due: %v", left)
		}
		mail, post := byChannel[store.ChannelEmail], byChannel[store.ChannelWebhook]
		if mail.Email != "rep@example.com" || mail.Locale != "en" || mail.Name != "rep" || mail.UserID != rep.ID {
			t.Errorf("email delivery %+v", mail)
		}
		if post.URL != hook.URL || post.Secret != secret || !post.WebhookActive || post.WebhookID != hook.ID || post.Key != "sla.breached:clock:1" {
			t.Errorf("webhook delivery %+v", post)
		}

		// The webhook fails: failing, retried after the backoff.
		d, err := s.RecordDeliveryAttempt(ctx, post.ID, store.AttemptResult{StatusCode: 500, Error: "endpoint answered 500", Duration: 120 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d.State != store.DeliveryFailing || d.Attempts != 1 || d.LastError != "endpoint answered 500" || d.NextAttemptAt == nil {
			t.Fatalf("after a failure: %+v", d)
		}
		if wait := d.NextAttemptAt.Sub(clock.Now()); wait < 24*time.Second || wait > 36*time.Second {
			t.Errorf("first retry in %v, want 30 s ± 20%%", wait)
		}
		clock.Advance(40 * time.Second)
		if due, _ := s.DueDeliveries(ctx, 10); len(due) != 1 || due[0] != post.ID {
			t.Errorf("due after the backoff: %v, want [%d]", due, post.ID)
		}
		if _, ok, _ := s.ClaimDelivery(ctx, post.ID); !ok {
			t.Fatal("could not claim the retry")
		}
		d, err = s.RecordDeliveryAttempt(ctx, post.ID, store.AttemptResult{StatusCode: 204, Duration: 80 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d.State != store.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" || d.NextAttemptAt != nil || d.DeliveredAt == nil {
			t.Errorf("after success: %+v", d)
		}
		got, attempts, err := s.Delivery(ctx, post.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.DeliveryDelivered || len(attempts) != 2 || attempts[0].StatusCode != 500 || attempts[0].Error == "" || attempts[0].DurationMS != 120 || attempts[1].StatusCode != 204 || attempts[1].Error != "" {
			t.Errorf("log %+v", attempts)
		}
		if _, err := s.RetryDelivery(ctx, post.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Errorf("retry a delivered one: got %v, want ECONFLICT", err)
		}

		// The email keeps failing until it runs out of attempts.
		for i := 1; i <= store.MaxDeliveryAttempts; i++ {
			d, err = s.RecordDeliveryAttempt(ctx, mail.ID, store.AttemptResult{Error: "dial tcp: connection refused"})
			if err != nil {
				t.Fatal(err)
			}
			if i < store.MaxDeliveryAttempts && d.State != store.DeliveryFailing {
				t.Fatalf("attempt %d: state %s, want failing", i, d.State)
			}
		}
		if d.State != store.DeliveryFailed || d.NextAttemptAt != nil || d.Attempts != store.MaxDeliveryAttempts {
			t.Errorf("after %d attempts: %+v, want failed", store.MaxDeliveryAttempts, d)
		}
		// A person retries it by hand: due at once, one more attempt.
		d, err = s.RetryDelivery(ctx, mail.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != store.DeliveryFailing || d.NextAttemptAt == nil || d.NextAttemptAt.After(clock.Now()) {
			t.Errorf("retried: %+v", d)
		}
		if _, ok, _ := s.ClaimDelivery(ctx, mail.ID); !ok {
			t.Fatal("a retried delivery cannot be claimed")
		}
		if d, _ = s.RecordDeliveryAttempt(ctx, mail.ID, store.AttemptResult{Error: "still down"}); d.State != store.DeliveryFailed {
			t.Errorf("the extra attempt failed: state %s, want failed again", d.State)
		}

		// Deferring (no SMTP) keeps the state and counts no attempt.
		if _, err := s.QueueNotification(ctx, breach("sla.breached:clock:3", rep.ID)); err != nil {
			t.Fatal(err)
		}
		page, _, _ := s.Deliveries(ctx, store.DeliveryFilter{Channel: store.ChannelEmail, State: store.DeliveryPending})
		if len(page) != 1 {
			t.Fatalf("pending emails: %d, want 1", len(page))
		}
		if err := s.DeferDelivery(ctx, page[0].ID, "SMTP not configured", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		d, _, _ = s.Delivery(ctx, page[0].ID)
		if d.State != store.DeliveryPending || d.Attempts != 0 || d.LastError != "SMTP not configured" || !d.NextAttemptAt.Equal(clock.Now().Add(10*time.Minute)) {
			t.Errorf("deferred: %+v", d)
		}

		// Deleting the webhook keeps its deliveries in the log.
		if err := s.DeleteWebhook(ctx, hook.ID); err != nil {
			t.Fatal(err)
		}
		d, _, err = s.Delivery(ctx, post.ID)
		if err != nil || d.WebhookID != 0 || d.Recipient != "" || d.State != store.DeliveryDelivered {
			t.Errorf("delivery of a deleted webhook: %+v, %v", d, err)
		}
	})
}

func TestDeliveryLogFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		rep := notifyUser(t, s, "rep@example.com", alinea.RoleSales, "es")
		hook, _, _ := s.CreateWebhook(ctx, store.NewWebhook{URL: "https://a.example.com/", Types: alinea.NotificationTypes}, 0)
		for i := range 5 {
			n := breach("sla.breached:clock:"+string(rune('a'+i)), rep.ID)
			if i%2 == 1 {
				n.Type, n.Key = alinea.NotifyLeadAssigned, "lead.assigned:"+string(rune('a'+i))
			}
			if _, err := s.QueueNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		var seen []int64
		var cursor int64
		for {
			page, next, err := s.Deliveries(ctx, store.DeliveryFilter{Limit: 3, Before: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				seen = append(seen, d.ID)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		if len(seen) != 10 {
			t.Errorf("paged through %d deliveries, want 10", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("pages not in descending id order: %v", seen)
			}
		}
		count := func(f store.DeliveryFilter) int {
			t.Helper()
			page, _, err := s.Deliveries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(page)
		}
		if got := count(store.DeliveryFilter{Type: alinea.NotifyLeadAssigned}); got != 4 {
			t.Errorf("lead.assigned: %d, want 4", got)
		}
		if got := count(store.DeliveryFilter{Channel: store.ChannelWebhook, Type: alinea.NotifySLABreached}); got != 3 {
			t.Errorf("sla.breached webhooks: %d, want 3", got)
		}
		if got := count(store.DeliveryFilter{WebhookID: hook.ID}); got != 5 {
			t.Errorf("webhook %d: %d, want 5", hook.ID, got)
		}
		if got := count(store.DeliveryFilter{State: store.DeliveryDelivered}); got != 0 {
			t.Errorf("delivered: %d, want 0", got)
		}
		for _, f := range []store.DeliveryFilter{{State: "sent"}, {Channel: "sms"}, {Type: "x"}} {
			if _, _, err := s.Deliveries(ctx, f); alinea.ErrorCode(err) != alinea.EINVALID {
				t.Errorf("filter %+v: got %v, want EINVALID", f, err)
			}
		}
	})
}

func TestClaimDeliveryIsExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		rep := notifyUser(t, s, "rep@example.com", alinea.RoleSales, "es")
		if _, err := s.QueueNotification(ctx, breach("sla.breached:clock:1", rep.ID)); err != nil {
			t.Fatal(err)
		}
		due, _ := s.DueDeliveries(ctx, 10)
		var won atomic.Int64
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				_, ok, err := s.ClaimDelivery(ctx, due[0])
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if got := won.Load(); got != 1 {
			t.Errorf("%d of 10 concurrent workers claimed the delivery, want 1", got)
		}
	})
}

func TestRetryBackoffGrowsAndIsCapped(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 8; n++ {
		want := 30 * time.Second << (n - 1)
		if want > time.Hour {
			want = time.Hour
		}
		got := store.RetryBackoff(n)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("backoff after attempt %d = %v, want %v ± 20%%", n, got, want)
		}
		if n <= 6 && got <= prev*6/10 {
			t.Errorf("backoff after attempt %d = %v did not grow from %v", n, got, prev)
		}
		prev = got
	}
	if got := store.RetryBackoff(40); got > 72*time.Minute {
		t.Errorf("backoff after 40 attempts = %v, want at most an hour plus jitter", got)
	}
}
