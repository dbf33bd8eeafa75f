package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// testClock is a store clock that tests move by hand.
type testClock struct{ ms atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *testClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: "marta@example.com", Name: "Marta", Role: alinea.RoleMarketing, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		const idle = 12 * time.Hour
		start := clock.Now()
		sess, token, err := s.CreateSession(ctx, u.ID, start.Add(7*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if token == "" || sess.CSRFSecret == "" || sess.CSRFSecret == token {
			t.Fatalf("session needs distinct token and CSRF secret: token %q, csrf %q", token, sess.CSRFSecret)
		}

		got, gotUser, err := s.SessionByToken(ctx, token, idle)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != sess.ID || got.CSRFSecret != sess.CSRFSecret || gotUser.ID != u.ID || gotUser.Role != alinea.RoleMarketing {
			t.Fatalf("lookup returned %+v / %+v, want session %d of user %d", got, gotUser, sess.ID, u.ID)
		}
		if _, _, err := s.SessionByToken(ctx, token+"x", idle); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Fatalf("unknown token: got %v, want %s", err, alinea.EUNAUTHORIZED)
		}

		// Use within the idle window keeps the session alive past 12 hours
		// from its start.
		clock.Advance(11 * time.Hour)
		if got, _, err = s.SessionByToken(ctx, token, idle); err != nil {
			t.Fatal(err)
		}
		if !got.LastSeenAt.Equal(clock.Now()) {
			t.Errorf("last seen %v, want it touched to %v", got.LastSeenAt, clock.Now())
		}
		clock.Advance(11 * time.Hour)
		if _, _, err = s.SessionByToken(ctx, token, idle); err != nil {
			t.Fatalf("session used 11 hours ago: %v", err)
		}
		// A touch within the minute is not written again.
		clock.Advance(30 * time.Second)
		if got, _, err = s.SessionByToken(ctx, token, idle); err != nil {
			t.Fatal(err)
		}
		if want := clock.Now().Add(-30 * time.Second); !got.LastSeenAt.Equal(want) {
			t.Errorf("last seen %v, want %v (no touch within a minute)", got.LastSeenAt, want)
		}

		// Idle for 12 hours: ended.
		clock.Advance(idle)
		if _, _, err := s.SessionByToken(ctx, token, idle); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Fatalf("idle session: got %v, want %s", err, alinea.EUNAUTHORIZED)
		}

		// The absolute end holds however active a session is.
		sess2, token2, err := s.CreateSession(ctx, u.ID, clock.Now().Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, _, err := s.SessionByToken(ctx, token2, idle); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, _, err := s.SessionByToken(ctx, token2, idle); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Fatalf("session %d past its absolute end: got %v", sess2.ID, err)
		}

		if _, _, err := s.CreateSession(ctx, u.ID, clock.Now()); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Fatalf("session ending when it starts: got %v, want %s", err, alinea.EINVALID)
		}

		// Both ended sessions are removed; a live one stays.
		_, live, err := s.CreateSession(ctx, u.ID, clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredSessions(ctx, idle)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("deleted %d expired sessions, want 2", n)
		}
		if _, _, err := s.SessionByToken(ctx, live, idle); err != nil {
			t.Fatalf("live session after cleanup: %v", err)
		}

		if err := s.DeleteSession(ctx, live); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, live, idle); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
			t.Fatalf("signed-out session: got %v", err)
		}
		if err := s.DeleteSession(ctx, live); err != nil {
			t.Fatalf("signing out twice: %v", err)
		}
	})
}

func TestSetUserLocale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: "sam@example.com", Name: "Sam", Role: alinea.RoleSales, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserLocale(ctx, u.ID, "en"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, u.ID); got.Locale != "en" {
			t.Errorf("locale %q, want en", got.Locale)
		}
		if err := s.SetUserLocale(ctx, u.ID, "fr"); alinea.ErrorFields(err)["locale"] == "" {
			t.Errorf("locale fr: got %v, want a locale field error", err)
		}
		if err := s.SetUserLocale(ctx, u.ID+100, "es"); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("unknown user: got %v", err)
		}
	})
}
