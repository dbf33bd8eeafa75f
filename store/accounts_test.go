package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestAccountCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		a, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr(" Acme Iberia "), Domain: ptr("https://www.ACME.es/about"), Country: ptr("es"),
			Employees: ptr(120), Properties: json.RawMessage(`{"tier":"gold"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Name != "Acme Iberia" || a.Domain != "acme.es" || a.Country != "ES" || a.Employees != 120 {
			t.Fatalf("unexpected account %+v", a)
		}

		_, err = s.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Acme again"), Domain: ptr("acme.es")})
		if alinea.ErrorCode(err) != alinea.ECONFLICT || alinea.ErrorFields(err)["domain"] == "" {
			t.Fatalf("duplicate domain: got %v (%s)", err, alinea.ErrorCode(err))
		}
		// Accounts without a domain do not collide with each other.
		for _, name := range []string{"No Domain 1", "No Domain 2"} {
			if _, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr(name)}); err != nil {
				t.Fatalf("account without domain: %v", err)
			}
		}
		_, err = s.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Ghost"), OwnerID: ptr(int64(999))})
		if alinea.ErrorCode(err) != alinea.EINVALID || alinea.ErrorFields(err)["owner_id"] == "" {
			t.Fatalf("unknown owner: got %v", err)
		}
		_, err = s.CreateAccount(ctx, alinea.AccountFields{Domain: ptr("nameless.com")})
		if alinea.ErrorFields(err)["name"] == "" {
			t.Fatalf("missing name: got %v", err)
		}

		byDomain, err := s.AccountByDomain(ctx, "WWW.acme.ES")
		if err != nil || byDomain.ID != a.ID {
			t.Fatalf("by domain: %+v %v", byDomain, err)
		}
		if _, err := s.AccountByDomain(ctx, "nobody.org"); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("unknown domain: got %v", err)
		}

		upd, err := s.UpdateAccount(ctx, a.ID, alinea.AccountFields{Industry: ptr("software"), Properties: json.RawMessage(`{"tier":null,"region":"south"}`)})
		if err != nil {
			t.Fatal(err)
		}
		var props map[string]any
		_ = json.Unmarshal(upd.Properties, &props)
		if upd.Industry != "software" || upd.Name != "Acme Iberia" || props["tier"] != nil || props["region"] != "south" {
			t.Fatalf("update: %+v props %v", upd, props)
		}
		if _, err := s.UpdateAccount(ctx, a.ID, alinea.AccountFields{Name: ptr("  ")}); alinea.ErrorFields(err)["name"] == "" {
			t.Fatalf("blank name on update: got %v", err)
		}
		if _, err := s.UpdateAccount(ctx, 424242, alinea.AccountFields{Industry: ptr("x")}); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("update missing: got %v", err)
		}

		// Deleting an account keeps its contacts but unlinks them.
		c, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("eva@acme.es"), AccountID: &a.ID}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Account(ctx, a.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("deleted account still readable: %v", err)
		}
		if err := s.DeleteAccount(ctx, a.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("second delete: got %v", err)
		}
		c, err = s.Contact(ctx, c.ID)
		if err != nil || c.AccountID != 0 {
			t.Fatalf("contact after account delete: %+v %v", c, err)
		}
	})
}

func TestAccountsPaginationAndSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		names := []string{"Alfa Foods", "Beta Labs", "Gamma Foods", "Delta Bank", "Epsilon Foods", "Zeta Foods", "Eta Labs"}
		for _, n := range names {
			if _, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr(n)}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		var after int64
		pages := 0
		for {
			page, next, err := s.Accounts(ctx, alinea.AccountFilter{Search: "FOODS", Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, a := range page {
				got = append(got, a.Name)
			}
			if next == 0 {
				break
			}
			after = next
		}
		want := []string{"Alfa Foods", "Gamma Foods", "Epsilon Foods", "Zeta Foods"}
		if len(got) != len(want) || pages != 2 {
			t.Fatalf("got %v over %d pages, want %v over 2", got, pages, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v (id order)", got, want)
			}
		}
		all, next, err := s.Accounts(ctx, alinea.AccountFilter{})
		if err != nil || len(all) != len(names) || next != 0 {
			t.Fatalf("unfiltered: %d accounts, next %d, err %v", len(all), next, err)
		}
	})
}
