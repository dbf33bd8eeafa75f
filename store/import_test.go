package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

var importActor = alinea.Actor{Type: alinea.ActorImport}

func contactByEmail(t *testing.T, s *store.Store, email string) alinea.Contact {
	t.Helper()
	list, _, err := s.Contacts(context.Background(), alinea.ContactFilter{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("contacts with email %s: %d, want 1", email, len(list))
	}
	return list[0]
}

func TestUpsertContactsCreatesWithFirstTransition(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		res, err := s.UpsertContacts(ctx, []alinea.ContactFields{
			{Email: ptr("Ana@Example.es"), FirstName: ptr("Ana"), Country: ptr("es"), Consent: ptr(alinea.ConsentGranted),
				Properties: json.RawMessage(`{"company":"Acme"}`)},
			{Email: ptr("luis@example.mx"), Stage: ptr(alinea.StageMQL)},
		}, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 || res.Updated != 0 || len(res.Rejected) != 0 || len(res.Warnings) != 0 {
			t.Fatalf("result %+v", res)
		}
		ana := contactByEmail(t, s, "ana@example.es")
		if ana.FirstName != "Ana" || ana.Country != "ES" || ana.Consent != alinea.ConsentGranted || ana.Stage != alinea.StageSubscriber {
			t.Fatalf("ana %+v", ana)
		}
		var props map[string]any
		if err := json.Unmarshal(ana.Properties, &props); err != nil || props["company"] != "Acme" {
			t.Fatalf("properties %s", ana.Properties)
		}
		luis := contactByEmail(t, s, "luis@example.mx")
		hist, err := s.Transitions(ctx, luis.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].From != "" || hist[0].To != alinea.StageMQL || hist[0].Actor.Type != alinea.ActorImport {
			t.Fatalf("history of luis %+v", hist)
		}
	})
}

func TestUpsertContactsUpdatesByEmailCaseInsensitively(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		orig, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("marta@acme.es"), FirstName: ptr("Marta"), LastName: ptr("Ruiz"),
			Phone: ptr("+34 600 000 000"), Consent: ptr(alinea.ConsentGranted), Properties: json.RawMessage(`{"plan":"pro","seats":3}`)}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.UpsertContacts(ctx, []alinea.ContactFields{{
			Email: ptr(" MARTA@Acme.ES "), LastName: ptr("Ruiz Pérez"), FirstName: ptr(""), Consent: ptr(alinea.ConsentUnknown),
			JobTitle: ptr("CMO"), Properties: json.RawMessage(`{"seats":"5","region":"norte"}`),
		}}, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 0 || res.Updated != 1 {
			t.Fatalf("result %+v", res)
		}
		got := contactByEmail(t, s, "marta@acme.es")
		if got.ID != orig.ID {
			t.Fatalf("upsert made a new contact %d, want %d", got.ID, orig.ID)
		}
		// Empty values and an unknown consent leave the stored values alone.
		if got.FirstName != "Marta" || got.LastName != "Ruiz Pérez" || got.JobTitle != "CMO" || got.Phone != "+34 600 000 000" || got.Consent != alinea.ConsentGranted {
			t.Fatalf("updated contact %+v", got)
		}
		var props map[string]any
		if err := json.Unmarshal(got.Properties, &props); err != nil {
			t.Fatal(err)
		}
		if props["plan"] != "pro" || props["seats"] != "5" || props["region"] != "norte" {
			t.Fatalf("properties not merged: %s", got.Properties)
		}
		if got.Stage != alinea.StageSubscriber {
			t.Fatalf("stage changed to %s without being asked", got.Stage)
		}
	})
}

func TestUpsertContactsStageOnExistingContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		api := alinea.Actor{Type: alinea.ActorAPI}
		fwd, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("fwd@acme.es"), Stage: ptr(alinea.StageLead)}, api)
		if err != nil {
			t.Fatal(err)
		}
		back, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("back@acme.es"), Stage: ptr(alinea.StageSQL)}, api)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.UpsertContacts(ctx, []alinea.ContactFields{
			{Email: ptr("fwd@acme.es"), Stage: ptr(alinea.StageSAL)},
			{Email: ptr("back@acme.es"), Stage: ptr(alinea.StageLead), JobTitle: ptr("CEO")},
		}, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Updated != 2 || len(res.Rejected) != 0 {
			t.Fatalf("result %+v", res)
		}
		if len(res.Warnings) != 1 || res.Warnings[0].Index != 1 || res.Warnings[0].Field != "stage" {
			t.Fatalf("warnings %+v, want one about the stage of row 1", res.Warnings)
		}

		got := contactByEmail(t, s, "fwd@acme.es")
		if got.Stage != alinea.StageSAL {
			t.Fatalf("forward move not applied: %s", got.Stage)
		}
		hist, _ := s.Transitions(ctx, fwd.ID)
		if len(hist) != 2 || hist[1].From != alinea.StageLead || hist[1].To != alinea.StageSAL || hist[1].Actor.Type != alinea.ActorImport {
			t.Fatalf("history %+v", hist)
		}

		got = contactByEmail(t, s, "back@acme.es")
		if got.Stage != alinea.StageSQL || got.JobTitle != "CEO" {
			t.Fatalf("backwards row: stage %s (want sql), job title %q (want the rest of the row written)", got.Stage, got.JobTitle)
		}
		if got.StageChangedAt.IsZero() || got.StageChangedAt.After(got.UpdatedAt) {
			t.Fatalf("stage_changed_at %v", got.StageChangedAt)
		}
		hist, _ = s.Transitions(ctx, back.ID)
		if len(hist) != 1 {
			t.Fatalf("a refused move was recorded: %+v", hist)
		}
	})
}

func TestUpsertContactsRejectsBadRowsKeepsGoodOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		if _, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("taken@acme.es"), ExternalID: ptr("crm-1")}, alinea.Actor{Type: alinea.ActorAPI}); err != nil {
			t.Fatal(err)
		}
		batch := []alinea.ContactFields{
			{Email: ptr("ok1@acme.es")},
			{Email: ptr("not-an-email")},
			{Email: ptr("thief@acme.es"), ExternalID: ptr("crm-1")}, // external_id of another contact
			{Email: ptr("ghost@acme.es"), OwnerID: ptr(int64(999))}, // no such user
			{ExternalID: ptr("crm-2")},                              // no email to match on
			{Email: ptr("ok2@acme.es"), Country: ptr("ES")},
		}
		res, err := s.UpsertContacts(ctx, batch, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 {
			t.Fatalf("created %d, want 2: %+v", res.Created, res)
		}
		rejected := map[int]string{}
		for _, p := range res.Rejected {
			rejected[p.Index] = p.Field
		}
		want := map[int]string{1: "email", 2: "external_id", 3: "", 4: "email"}
		if fmt.Sprint(rejected) != fmt.Sprint(want) {
			t.Fatalf("rejected %v (%+v), want %v", rejected, res.Rejected, want)
		}
		contactByEmail(t, s, "ok1@acme.es")
		contactByEmail(t, s, "ok2@acme.es")
		list, _, _ := s.Contacts(ctx, alinea.ContactFilter{Email: "thief@acme.es"})
		if len(list) != 0 {
			t.Fatalf("rejected row was stored: %+v", list)
		}
	})
}

func TestUpsertContactsLaterDuplicateWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		res, err := s.UpsertContacts(ctx, []alinea.ContactFields{
			{Email: ptr("dup@acme.es"), FirstName: ptr("First"), Stage: ptr(alinea.StageLead)},
			{Email: ptr("other@acme.es")},
			{Email: ptr("DUP@acme.es"), FirstName: ptr("Second"), Stage: ptr(alinea.StageMQL)},
		}, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 || res.Updated != 1 {
			t.Fatalf("result %+v", res)
		}
		got := contactByEmail(t, s, "dup@acme.es")
		if got.FirstName != "Second" || got.Stage != alinea.StageMQL {
			t.Fatalf("duplicate: %+v", got)
		}
		hist, _ := s.Transitions(ctx, got.ID)
		if len(hist) != 2 || hist[0].To != alinea.StageLead || hist[1].To != alinea.StageMQL {
			t.Fatalf("history %+v", hist)
		}
	})
}

func TestUpsertContactsLargeBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		// More rows than one multi-row statement holds, half of them already stored.
		const n = 1234
		batch := make([]alinea.ContactFields, n)
		for i := range batch {
			batch[i] = alinea.ContactFields{Email: ptr(fmt.Sprintf("c%d@example.com", i)), FirstName: ptr("v1")}
		}
		if res, err := s.UpsertContacts(ctx, batch[:n/2], importActor); err != nil || res.Created != n/2 {
			t.Fatalf("first half: %+v %v", res, err)
		}
		for i := range batch {
			batch[i].FirstName = ptr("v2")
		}
		res, err := s.UpsertContacts(ctx, batch, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != n-n/2 || res.Updated != n/2 {
			t.Fatalf("result %+v", res)
		}
		if c := contactByEmail(t, s, "c7@example.com"); c.FirstName != "v2" {
			t.Fatalf("not updated: %+v", c)
		}
		if c := contactByEmail(t, s, fmt.Sprintf("c%d@example.com", n-1)); c.FirstName != "v2" {
			t.Fatalf("not created: %+v", c)
		}
	})
}

func TestUpsertContactsReimportLooksUpFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		// 1,200 stored contacts, then a batch with all of them (most chunks
		// entirely existing, so later chunks are looked up before inserting)
		// followed, in email order, by 300 new ones.
		old := make([]alinea.ContactFields, 1200)
		for i := range old {
			old[i] = alinea.ContactFields{Email: ptr(fmt.Sprintf("c%04d@example.com", i)), Stage: ptr(alinea.StageLead)}
		}
		if res, err := s.UpsertContacts(ctx, old, importActor); err != nil || res.Created != 1200 {
			t.Fatalf("setup: %+v %v", res, err)
		}
		var batch []alinea.ContactFields
		for i := range 1200 {
			batch = append(batch, alinea.ContactFields{Email: ptr(fmt.Sprintf("c%04d@example.com", i)), JobTitle: ptr("CTO"), Stage: ptr(alinea.StageMQL)})
		}
		for i := range 300 {
			batch = append(batch, alinea.ContactFields{Email: ptr(fmt.Sprintf("n%04d@example.com", i)), JobTitle: ptr("CFO")})
		}
		res, err := s.UpsertContacts(ctx, batch, importActor)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 300 || res.Updated != 1200 || len(res.Rejected) != 0 || len(res.Warnings) != 0 {
			t.Fatalf("result %+v", res)
		}
		upd := contactByEmail(t, s, "c1199@example.com")
		if upd.JobTitle != "CTO" || upd.Stage != alinea.StageMQL {
			t.Fatalf("updated contact %+v", upd)
		}
		if hist, _ := s.Transitions(ctx, upd.ID); len(hist) != 2 || hist[1].From != alinea.StageLead || hist[1].To != alinea.StageMQL {
			t.Fatalf("updated contact history %+v", hist)
		}
		c := contactByEmail(t, s, "n0299@example.com")
		if c.JobTitle != "CFO" || c.Stage != alinea.StageSubscriber {
			t.Fatalf("new contact %+v", c)
		}
		if hist, _ := s.Transitions(ctx, c.ID); len(hist) != 1 || hist[0].To != alinea.StageSubscriber {
			t.Fatalf("new contact history %+v", hist)
		}
	})
}
