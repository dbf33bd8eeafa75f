package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

const testPassword = "correct horse battery"

func newUser(t *testing.T, s *store.Store, email string, role alinea.Role) alinea.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), alinea.NewUser{Email: email, Name: email, Role: role, Password: testPassword})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestSetUserRoleKeepsAnAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		admin := newUser(t, s, "admin@example.com", alinea.RoleAdmin)
		marta := newUser(t, s, "marta@example.com", alinea.RoleMarketing)

		if _, err := s.SetUserRole(ctx, admin.ID, alinea.RoleSales); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("demoting the only admin: got %v, want a conflict", err)
		}
		if _, err := s.SetUserRole(ctx, marta.ID, "boss"); alinea.ErrorFields(err)["role"] == "" {
			t.Fatalf("unknown role: got %v, want a problem with role", err)
		}
		if _, err := s.SetUserRole(ctx, 9999, alinea.RoleSales); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("unknown user: got %v", err)
		}

		promoted, err := s.SetUserRole(ctx, marta.ID, alinea.RoleAdmin)
		if err != nil || promoted.Role != alinea.RoleAdmin {
			t.Fatalf("promote: %+v %v", promoted, err)
		}
		// With a second admin the first may step down.
		demoted, err := s.SetUserRole(ctx, admin.ID, alinea.RoleManager)
		if err != nil || demoted.Role != alinea.RoleManager {
			t.Fatalf("demote with another admin: %+v %v", demoted, err)
		}
		if got, _ := s.User(ctx, admin.ID); got.Role != alinea.RoleManager {
			t.Errorf("stored role %s, want manager", got.Role)
		}
		if _, err := s.SetUserRole(ctx, marta.ID, alinea.RoleMarketing); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("demoting the new only admin: got %v", err)
		}
		// Setting the role a user already has is not a change.
		if u, err := s.SetUserRole(ctx, marta.ID, alinea.RoleAdmin); err != nil || u.Role != alinea.RoleAdmin {
			t.Fatalf("same role: %+v %v", u, err)
		}

		// A deactivated admin does not count as one.
		other := newUser(t, s, "other@example.com", alinea.RoleAdmin)
		if _, err := s.DeactivateUser(ctx, other.ID, marta.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserRole(ctx, marta.ID, alinea.RoleSales); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("demoting the only active admin: got %v", err)
		}
	})
}

// Two admins demoting each other at the same moment: one of them must stay.
func TestConcurrentDemotionsLeaveAnAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		for round := range 5 {
			a := newUser(t, s, "a"+string(rune('0'+round))+"@example.com", alinea.RoleAdmin)
			c := newUser(t, s, "c"+string(rune('0'+round))+"@example.com", alinea.RoleAdmin)
			// Any admin left from an earlier round steps aside first.
			users, err := s.Users(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				if u.ID != a.ID && u.ID != c.ID && u.Role == alinea.RoleAdmin {
					if _, err := s.SetUserRole(ctx, u.ID, alinea.RoleSales); err != nil {
						t.Fatal(err)
					}
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []int64{a.ID, c.ID} {
				wg.Go(func() { _, errs[i] = s.SetUserRole(ctx, id, alinea.RoleSales) })
			}
			wg.Wait()
			failed := 0
			for _, err := range errs {
				if err != nil {
					if alinea.ErrorCode(err) != alinea.ECONFLICT {
						t.Fatalf("round %d: unexpected error %v", round, err)
					}
					failed++
				}
			}
			if failed != 1 {
				t.Fatalf("round %d: %d of 2 demotions failed, want exactly 1 (errors %v)", round, failed, errs)
			}
		}
	})
}

func TestDeactivatedUsersCannotSignInOrUseKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		admin := newUser(t, s, "admin@example.com", alinea.RoleAdmin)
		carlos := newUser(t, s, "carlos@example.com", alinea.RoleSales)
		_, apiKey, err := s.CreateAPIKey(ctx, carlos.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := s.CreateSession(ctx, carlos.ID, clock.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}

		if _, err := s.DeactivateUser(ctx, admin.ID, admin.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("deactivating oneself: got %v", err)
		}
		if _, err := s.DeactivateUser(ctx, 9999, admin.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("unknown user: got %v", err)
		}
		// The only admin cannot be deactivated by anyone (a script, another role).
		if _, err := s.DeactivateUser(ctx, admin.ID, carlos.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("deactivating the last admin: got %v", err)
		}

		clock.Advance(time.Hour)
		off, err := s.DeactivateUser(ctx, carlos.ID, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if off.Active() || !off.DeactivatedAt.Equal(clock.Now()) {
			t.Fatalf("deactivated user %+v, want deactivated at %s", off, clock.Now())
		}
		if _, err := s.Authenticate(ctx, "carlos@example.com", testPassword); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("sign-in of a deactivated user: got %v", err)
		}
		if _, _, err := s.SessionByToken(ctx, token, 12*time.Hour); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("session of a deactivated user: got %v", err)
		}
		if _, err := s.UserByAPIKey(ctx, apiKey); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("API key of a deactivated user: got %v", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, carlos.ID, "another"); alinea.ErrorFields(err)["user_id"] == "" {
			t.Errorf("new API key for a deactivated user: got %v", err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 2 || users[1].Active() {
			t.Fatalf("users after deactivation: %+v %v", users, err)
		}
		// Twice is the same as once.
		again, err := s.DeactivateUser(ctx, carlos.ID, admin.ID)
		if err != nil || !again.DeactivatedAt.Equal(*off.DeactivatedAt) {
			t.Fatalf("deactivating again: %+v %v", again, err)
		}

		on, err := s.ReactivateUser(ctx, carlos.ID)
		if err != nil || !on.Active() {
			t.Fatalf("reactivate: %+v %v", on, err)
		}
		if _, err := s.Authenticate(ctx, "carlos@example.com", testPassword); err != nil {
			t.Errorf("sign-in after reactivation: %v", err)
		}
		if u, err := s.UserByAPIKey(ctx, apiKey); err != nil || u.ID != carlos.ID {
			t.Errorf("API key after reactivation: %+v %v", u, err)
		}
		// The sessions ended with the deactivation stay ended.
		if _, _, err := s.SessionByToken(ctx, token, 12*time.Hour); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("old session after reactivation: got %v", err)
		}
		if _, err := s.ReactivateUser(ctx, 9999); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("reactivating an unknown user: got %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		admin := newUser(t, s, "admin@example.com", alinea.RoleAdmin)
		ana := newUser(t, s, "ana@example.com", alinea.RoleManager)

		if _, _, err := s.CreateAPIKey(ctx, ana.ID, "  "); alinea.ErrorFields(err)["name"] == "" {
			t.Errorf("blank name: got %v", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, 9999, "ghost"); alinea.ErrorFields(err)["user_id"] == "" {
			t.Errorf("unknown user: got %v", err)
		}
		first, secret1, err := s.CreateAPIKey(ctx, admin.ID, " deploy script ")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		second, secret2, err := s.CreateAPIKey(ctx, ana.ID, "reports")
		if err != nil {
			t.Fatal(err)
		}
		if first.Name != "deploy script" || first.Prefix == "" || secret1 == secret2 {
			t.Fatalf("keys %+v / %+v", first, second)
		}

		keys, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].ID != second.ID || keys[0].UserID != ana.ID || keys[1].Name != "deploy script" || keys[1].LastUsedAt != nil {
			t.Fatalf("listed keys %+v", keys)
		}

		// Use is recorded, at most once a minute.
		used := clock.Now()
		if u, err := s.UserByAPIKey(ctx, secret1); err != nil || u.ID != admin.ID {
			t.Fatalf("lookup: %+v %v", u, err)
		}
		clock.Advance(30 * time.Second)
		if _, err := s.UserByAPIKey(ctx, secret1); err != nil {
			t.Fatal(err)
		}
		if k := keyByID(t, s, first.ID); k.LastUsedAt == nil || !k.LastUsedAt.Equal(used) {
			t.Fatalf("last used %v, want %s", k.LastUsedAt, used)
		}
		clock.Advance(time.Minute)
		if _, err := s.UserByAPIKey(ctx, secret1); err != nil {
			t.Fatal(err)
		}
		if k := keyByID(t, s, first.ID); !k.LastUsedAt.Equal(clock.Now()) {
			t.Fatalf("last used %v, want %s", k.LastUsedAt, clock.Now())
		}

		revoked, err := s.RevokeAPIKey(ctx, first.ID)
		if err != nil || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(clock.Now()) {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		if _, err := s.UserByAPIKey(ctx, secret1); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("revoked key: got %v", err)
		}
		if u, err := s.UserByAPIKey(ctx, secret2); err != nil || u.ID != ana.ID {
			t.Errorf("the other key stopped working: %+v %v", u, err)
		}
		clock.Advance(time.Hour)
		if again, err := s.RevokeAPIKey(ctx, first.ID); err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
			t.Errorf("revoking again: %+v %v", again, err)
		}
		if _, err := s.RevokeAPIKey(ctx, 9999); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("unknown key: got %v", err)
		}
	})
}

func keyByID(t *testing.T, s *store.Store, id int64) alinea.APIKey {
	t.Helper()
	keys, err := s.APIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no API key %d", id)
	return alinea.APIKey{}
}

func TestWriteKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		if _, _, err := s.CreateWriteKey(ctx, ""); alinea.ErrorFields(err)["name"] == "" {
			t.Errorf("blank name: got %v", err)
		}
		site, siteSecret, err := s.CreateWriteKey(ctx, "website")
		if err != nil {
			t.Fatal(err)
		}
		app, appSecret, err := s.CreateWriteKey(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		keys, err := s.WriteKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0].ID != app.ID || keys[1].Name != "website" || keys[1].RevokedAt != nil {
			t.Fatalf("listed keys %+v %v", keys, err)
		}
		if k, err := s.WriteKeyBySecret(ctx, siteSecret); err != nil || k.ID != site.ID {
			t.Fatalf("lookup: %+v %v", k, err)
		}

		before := s.WriteKeyRevocations()
		revoked, err := s.RevokeWriteKey(ctx, site.ID)
		if err != nil || revoked.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		if s.WriteKeyRevocations() == before {
			t.Error("a revocation did not change the revocation count, so caches would keep the key")
		}
		if _, err := s.WriteKeyBySecret(ctx, siteSecret); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Errorf("revoked key: got %v", err)
		}
		if k, err := s.WriteKeyBySecret(ctx, appSecret); err != nil || k.ID != app.ID {
			t.Errorf("the other key: %+v %v", k, err)
		}
		if _, err := s.RevokeWriteKey(ctx, 9999); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("unknown key: got %v", err)
		}
		keys, _ = s.WriteKeys(ctx)
		if keys[1].RevokedAt == nil || keys[0].RevokedAt != nil {
			t.Errorf("listed after revocation: %+v", keys)
		}
	})
}
