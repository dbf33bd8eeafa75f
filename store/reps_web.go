package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/alinea-crm/alinea"
)

// What the web team page reads besides Reps: one absence, so that a rep
// may be let delete their own and no one else's.

// AbsenceByID returns one recorded absence.
func (s *Store) AbsenceByID(ctx context.Context, id int64) (alinea.Absence, error) {
	var a alinea.Absence
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT id, user_id, starts_on, ends_on, note FROM rep_absences WHERE id = ?`), id).
		Scan(&a.ID, &a.UserID, &a.StartsOn, &a.EndsOn, &a.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("absence", id)
	}
	if err != nil {
		return a, fmt.Errorf("absence %d: %w", id, err)
	}
	return a, nil
}
