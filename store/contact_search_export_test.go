package store

import (
	"context"

	"github.com/alinea-crm/alinea"
)

// ContactsWithWindow lets the search tests choose how many indexed contacts
// a search checks one by one before it asks the index: 0 asks it at once.
func (s *Store) ContactsWithWindow(ctx context.Context, f alinea.ContactFilter, window int) ([]alinea.Contact, int64, error) {
	return s.contacts(ctx, f, window)
}

// SearchWords and TSQuery expose how PostgreSQL searches are split and
// written, for their unit test.
var (
	SearchWords = searchWords
	TSQuery     = tsQuery
)
