package store

import (
	"context"
	"database/sql"
	"fmt"
)

// listPage runs a list query that ends in its ORDER BY, reading one row
// more than the page holds to know whether another page follows. It returns
// at most n rows and the id of the last one as the next cursor, or 0 on the
// last page.
func listPage[T any](ctx context.Context, s *Store, what, query string, args []any, n int, scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64) ([]T, int64, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(fmt.Sprintf("%s LIMIT %d", query, n+1)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	out := make([]T, 0, n)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	var next int64
	if len(out) > n {
		out = out[:n]
		next = id(out[n-1])
	}
	return out, next, nil
}

// deleteByID deletes one row of table by id; table is always a constant of
// the caller, never input. Rows that refer to it go by ON DELETE rules.
func (s *Store) deleteByID(ctx context.Context, table, what string, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("delete %s %d: %w", what, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(what, id)
		}
		return nil
	})
}
