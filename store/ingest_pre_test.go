package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestIngestStaleLookup: a batch looked up before the writer takes it must
// not be stored with what the look-up found when a contact was deleted or
// a contact's user id or email changed meanwhile.
func TestIngestStaleLookup(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	identify := alinea.Message{Type: "identify", MessageID: "seed", UserID: "u1", AnonymousID: "a1",
		Traits: json.RawMessage(`{"email":"lucia@example.es"}`), ReceivedAt: now}
	cases := []struct {
		name string
		msg  alinea.Message // the batch looked up before the change
		// change is made between the look-up and the writer.
		change func(t *testing.T, s *Store, contact int64)
		// old says which contact the message must end up with: the one
		// looked up (true) or another (false).
		old bool
	}{
		{"user id of a deleted contact", alinea.Message{Type: "track", MessageID: "m", UserID: "u1", Event: "Seen"},
			func(t *testing.T, s *Store, c int64) { mustDo(t, s.DeleteContact(context.Background(), c)) }, false},
		{"anonymous id of a deleted contact", alinea.Message{Type: "page", MessageID: "m", AnonymousID: "a1", Event: "Pricing"},
			func(t *testing.T, s *Store, c int64) { mustDo(t, s.DeleteContact(context.Background(), c)) }, false},
		{"user id moved to another value", alinea.Message{Type: "track", MessageID: "m", UserID: "u1", Event: "Seen"},
			func(t *testing.T, s *Store, c int64) {
				_, err := s.UpdateContact(context.Background(), c, alinea.ContactFields{ExternalID: strPtr("u2")})
				mustDo(t, err)
			}, false},
		{"email moved to another value", alinea.Message{Type: "identify", MessageID: "m", AnonymousID: "a9",
			Traits: json.RawMessage(`{"email":"lucia@example.es"}`)},
			func(t *testing.T, s *Store, c int64) {
				_, err := s.UpdateContact(context.Background(), c, alinea.ContactFields{Email: strPtr("lucia@other.es")})
				mustDo(t, err)
			}, false},
		{"unrelated change", alinea.Message{Type: "track", MessageID: "m", UserID: "u1", Event: "Seen"},
			func(t *testing.T, s *Store, c int64) {
				_, err := s.UpdateContact(context.Background(), c, alinea.ContactFields{FirstName: strPtr("Lucía")})
				mustDo(t, err)
			}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(t.TempDir(), "stale.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A later contact, so that a new contact cannot reuse the
			// deleted one's id.
			later := alinea.Message{Type: "track", MessageID: "later", UserID: "u-later", Event: "Seen", ReceivedAt: now}
			if _, err := s.Ingest(ctx, 0, []alinea.Message{identify, later}); err != nil {
				t.Fatal(err)
			}
			var old int64
			mustDo(t, s.db.QueryRowContext(ctx, `SELECT id FROM contacts WHERE external_id = 'u1'`).Scan(&old))

			msg := tc.msg
			msg.ReceivedAt = now
			batch := s.prepareBatch(0, []alinea.Message{msg})
			s.preResolve(ctx, batch)
			if batch.pre == nil {
				t.Fatal("no look-up was made before the writer")
			}
			tc.change(t, s, old)
			if _, err := s.ingest.submit(ctx, batch); err != nil {
				t.Fatal(err)
			}
			var got int64
			mustDo(t, s.db.QueryRowContext(ctx, `SELECT coalesce(contact_id, 0) FROM events WHERE message_id = 'm'`).Scan(&got))
			switch {
			case tc.old && got != old:
				t.Fatalf("event stored for contact %d, want %d", got, old)
			case !tc.old && got == old:
				t.Fatalf("event stored for contact %d, which the change made stale", got)
			}
			var orphans int
			mustDo(t, s.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE contact_id IS NOT NULL AND contact_id NOT IN (SELECT id FROM contacts)`).Scan(&orphans))
			if orphans != 0 {
				t.Fatalf("%d events refer to a missing contact", orphans)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
