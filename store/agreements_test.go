package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func exampleAgreement(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../agreement/agreement-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUser(t testing.TB, s *store.Store, email string, role alinea.Role) alinea.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), alinea.NewUser{Email: email, Name: email, Role: role, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAgreementLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		mkt := mustUser(t, s, "marta@example.com", alinea.RoleMarketing)
		sales := mustUser(t, s, "sergio@example.com", alinea.RoleSales)
		manager := mustUser(t, s, "mario@example.com", alinea.RoleManager)

		// A draft that does not parse is refused with the problem named.
		if _, err := s.CreateAgreement(ctx, []byte("name: [unclosed"), 0, mkt.ID); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Fatalf("malformed draft: got %v", err)
		}
		// A draft that parses but does not compile is stored, but cannot be proposed.
		bad, err := s.CreateAgreement(ctx, []byte("name: borrador\ncurrency: EUR\n"), 0, mkt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ProposeAgreement(ctx, bad.ID, mkt.ID); alinea.ErrorFields(err)["definitions.mql"] == "" {
			t.Fatalf("proposing an incomplete draft: got %v", err)
		}

		v, err := s.CreateAgreement(ctx, exampleAgreement(t), 0, mkt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != agreement.StatusDraft || v.Document.Definitions.MQL.When == "" {
			t.Fatalf("draft: %+v", v)
		}
		if _, err := s.SignAgreement(ctx, v.ID, sales); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("signing a draft: got %v", err)
		}
		if _, err := s.ProposeAgreement(ctx, v.ID, mkt.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateAgreementDraft(ctx, v.ID, exampleAgreement(t), mkt.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("editing a proposed version: got %v", err)
		}
		if _, err := s.SignAgreement(ctx, v.ID, manager); alinea.ErrorCode(err) != alinea.EFORBIDDEN {
			t.Fatalf("manager signing: got %v", err)
		}
		if _, err := s.SignAgreement(ctx, v.ID, mkt); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActivateAgreement(ctx, v.ID, mkt.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("activating with one signature: got %v", err)
		}
		if _, err := s.SignAgreement(ctx, v.ID, mkt); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("signing twice: got %v", err)
		}
		if _, err := s.SignAgreement(ctx, v.ID, sales); err != nil {
			t.Fatal(err)
		}
		active, err := s.ActivateAgreement(ctx, v.ID, sales.ID)
		if err != nil {
			t.Fatal(err)
		}
		if active.Status != agreement.StatusActive || len(active.Signatures) != 2 || active.ActivatedAt == nil {
			t.Fatalf("active: %+v", active)
		}

		// A second version supersedes the first.
		v2, err := s.CreateAgreement(ctx, exampleAgreement(t), v.ID, mkt.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []func() error{
			func() error { _, err := s.ProposeAgreement(ctx, v2.ID, mkt.ID); return err },
			func() error { _, err := s.SignAgreement(ctx, v2.ID, mkt); return err },
			func() error { _, err := s.SignAgreement(ctx, v2.ID, sales); return err },
			func() error { _, err := s.ActivateAgreement(ctx, v2.ID, mkt.ID); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := s.ActiveAgreement(ctx)
		if err != nil || cur.ID != v2.ID {
			t.Fatalf("active is %d (%v), want %d", cur.ID, err, v2.ID)
		}
		old, _ := s.Agreement(ctx, v.ID)
		if old.Status != agreement.StatusSuperseded {
			t.Fatalf("first version is %s, want superseded", old.Status)
		}
		audit, err := s.AgreementAudit(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action)
		}
		want := []string{"created", "proposed", "signed", "signed", "activated"}
		if len(actions) != len(want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("audit %v, want %v", actions, want)
			}
		}
	})
}
