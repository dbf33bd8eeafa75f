package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// On SQLite, the writer adds stored events to the per-contact activity
// summaries (contact_activity) in large runs, not at every group commit:
// a commit serves ~800 events of as many contacts, and writing their
// summaries rewrote a random page per contact to the WAL each time — with
// the contact index of events, most of what the writer did per event at a
// million events (docs/BENCHMARKS.md). In a run of tens of thousands of
// events each page is written once.
//
// contact_activity counts every event up to contact_activity_index.event_id
// (migration 00020); Activity adds the contact's later events, read from
// the events themselves in the same statement, so a summary read right
// after a 200 includes the batch. The writer keeps the later events'
// activity in memory (pendingActivity) and writes it when it holds
// activityFlushEvents events' worth, when idle and when closing. Memory is
// only a shortcut: when it may not be exact — after a start, when other
// writers added events, or when a contact was deleted meanwhile (its
// events went with it) — the run counts the events again from the table.
// Anonymous events merged into a contact on identify count at once when
// they are older than the index, and with the run otherwise.

// activityFlushEvents is how many events' activity the writer holds before
// writing it.
const activityFlushEvents = 1 << 15

// activityKeySQL is alinea.Message.ActivityKey over the events table.
const activityKeySQL = `CASE WHEN type = 'track' AND name <> '' THEN name ELSE type END`

// pendingActivity is the activity of the events the summaries do not count
// yet, as far as the writer knows it.
type pendingActivity struct {
	deltas activity
	events int
	// The deltas are exactly the activity of the events in (through,
	// the writer's last event] if complete, and no contact was deleted
	// since generation (00017's counter) was read.
	through, generation int64
	complete            bool
}

// add records a committed group's activity.
func (p *pendingActivity) add(act activity, events int) {
	p.deltas = p.deltas.merge(act)
	p.events += events
}

// due reports whether a run is worth writing when the writer is idle.
func (p *pendingActivity) due() bool { return p.events > 0 || !p.complete }

// flush writes the pending activity into contact_activity and moves the
// index to the last event. last is the writer's last event id.
func (p *pendingActivity) flush(ctx context.Context, s *Store, last int64) error {
	var through, generation int64
	err := relaxedWrite(ctx, s.db, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT event_id FROM contact_activity_index), (SELECT n FROM ingest_generation)`).Scan(&through, &generation); err != nil {
			return err
		}
		stored, err := lastEventID(ctx, tx)
		if err != nil {
			return err
		}
		if p.complete && through == p.through && generation == p.generation && stored == last {
			if err := s.flushActivity(ctx, tx, p.deltas); err != nil {
				return err
			}
		} else if stored > through {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at)
				SELECT contact_id, `+activityKeySQL+`, count(*), min(occurred_at), max(occurred_at)
				FROM events WHERE id > ? AND id <= ? AND contact_id IS NOT NULL
				GROUP BY 1, 2
				ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
					first_at = min(contact_activity.first_at, excluded.first_at), last_at = max(contact_activity.last_at, excluded.last_at)`,
				through, stored); err != nil {
				return fmt.Errorf("count events %d-%d: %w", through+1, stored, err)
			}
		}
		through = max(through, stored)
		_, err = tx.ExecContext(ctx, `UPDATE contact_activity_index SET event_id = ?`, through)
		return err
	})
	if err != nil {
		return fmt.Errorf("write activity summaries: %w", err)
	}
	*p = pendingActivity{through: through, generation: generation, complete: true}
	return nil
}

// relaxedWrite runs f in a transaction on the writer's connection that
// commits without waiting for the disk: for derived data the writer can
// rebuild after a crash (moves of message ids, activity runs). The WAL keeps
// commits in order, so a later synced commit makes it durable too.
func relaxedWrite(ctx context.Context, db *sql.DB, f func(tx *sql.Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return err
	}
	// The connection is the store's only writer: back to FULL after.
	defer func() {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}
