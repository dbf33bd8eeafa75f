package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"time"
)

// On SQLite, ingestion de-duplicates events by message id without a unique
// index on events.message_id (migration 00019). Segment's libraries send
// random UUIDs, and such an index made every stored event dirty a random
// page, written again to the WAL at every group commit: it held the single
// writer to ~39k events/s, against 54k without it (docs/BENCHMARKS.md).
//
// Instead, every message id ever stored is either
//   - in event_message_ids, a table written in large sorted runs, where
//     one page write serves many ids, for the events up to
//     event_message_id_index.event_id; or
//   - in the writer's memory (messageIDs.recent), for the later events.
//
// A message is a duplicate when its id is in either. The table is looked up
// for a batch on a read connection before the batch is queued, with the
// ids the writer moved out of memory by then (preResolve); the writer looks
// it up again only when it has moved ids since. The writer moves its ids
// into the table when it has been idle for a moment or when it holds
// maxRecentMessageIDs of them. At the start of each group commit it reads
// into memory the ids of any events it did not store itself (another
// process or a write outside ingestion), and after a restart those of the
// events that were never moved. So the check is as complete as the unique
// index was, for every stored event, however long ago.
//
// A message id stays spent when its event is deleted with its contact,
// until the next move takes the deleted event's id out of memory: from
// then on only stored events count, as with the unique index.

// maxRecentMessageIDs bounds the message ids the writer keeps in memory
// (about 20 MB at this size); past it, they are moved to the table between
// two group commits.
const maxRecentMessageIDs = 1 << 19

// moveMessageIDsIdle is how long the writer waits without a request before
// it moves the ids it holds into the table.
const moveMessageIDsIdle = 500 * time.Millisecond

// messageIDKey is a 128-bit hash of a message id: two ids share one with
// a probability of about 2^-128 per pair, and it takes a fixed 16 bytes
// whatever the id's length.
type messageIDKey [2]uint64

// messageIDs is the writer's part of the duplicate check. Only the writer
// goroutine uses it, but for moves, which readers check.
type messageIDs struct {
	seeds [2]maphash.Seed
	// recent holds the ids of the events after event_message_id_index's
	// event_id, up to known (the largest events.id the writer has read or
	// stored); known is -1 until the writer has read the index.
	recent map[messageIDKey]struct{}
	known  int64
	// added lists what the group being committed added to recent, to
	// take out again when a request or the group is rolled back.
	added []messageIDKey
	// moves counts the moves of recent into the table; a look-up of the
	// table made before the last move may miss ids that were only in
	// memory when it ran.
	moves atomic.Int64
}

func newMessageIDs() *messageIDs {
	return &messageIDs{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		recent: map[messageIDKey]struct{}{}, known: -1}
}

func (d *messageIDs) key(id string) messageIDKey {
	return messageIDKey{maphash.String(d.seeds[0], id), maphash.String(d.seeds[1], id)}
}

// catchUp runs at the start of a group commit: it reads into memory the
// ids of the events stored since the writer last looked, by anyone else.
// It reads the index first when the writer has not yet.
func (d *messageIDs) catchUp(ctx context.Context, tx *sql.Tx) error {
	if d.known < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT event_id FROM event_message_id_index`).Scan(&d.known); err != nil {
			return fmt.Errorf("read which events' message ids are indexed: %w", err)
		}
	}
	last, err := lastEventID(ctx, tx)
	if err != nil || last <= d.known {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT message_id FROM events WHERE id > ? AND id <= ?`, d.known, last)
	if err != nil {
		return fmt.Errorf("read the message ids of new events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("read the message ids of new events: %w", err)
		}
		d.recent[d.key(id)] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the message ids of new events: %w", err)
	}
	d.known = last
	return nil
}

func lastEventID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM events`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read the last event id: %w", err)
	}
	return last, nil
}

// fresh marks which of ids are new — in neither memory nor the table, nor
// earlier in ids — and adds those to memory. indexed says which ids a
// look-up of the table found; nil means it has to be looked up here.
func (d *messageIDs) fresh(ctx context.Context, tx *sql.Tx, ids []string, indexed map[string]bool) ([]bool, error) {
	if indexed == nil {
		var err error
		if indexed, err = lookUpMessageIDs(ctx, tx, ids); err != nil {
			return nil, err
		}
	}
	fresh := make([]bool, len(ids))
	for i, id := range ids {
		if indexed[id] {
			continue
		}
		k := d.key(id)
		if _, seen := d.recent[k]; seen {
			continue
		}
		d.recent[k] = struct{}{}
		d.added = append(d.added, k)
		fresh[i] = true
	}
	return fresh, nil
}

// forget takes out of memory what was added since mark (a length of added):
// ids whose events were rolled back.
func (d *messageIDs) forget(mark int) {
	for _, k := range d.added[mark:] {
		delete(d.recent, k)
	}
	d.added = d.added[:mark]
}

// committed records that the group was committed with last as the largest
// event id.
func (d *messageIDs) committed(last int64) {
	d.added = d.added[:0]
	d.known = max(d.known, last)
}

// move writes the ids of the events not yet indexed into event_message_ids,
// in one sorted run, and empties memory.
func (d *messageIDs) move(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("move message ids: begin: %w", err)
	}
	defer tx.Rollback()
	var indexed int64
	if err := tx.QueryRowContext(ctx, `SELECT event_id FROM event_message_id_index`).Scan(&indexed); err != nil {
		return fmt.Errorf("move message ids: %w", err)
	}
	last, err := lastEventID(ctx, tx)
	if err != nil {
		return fmt.Errorf("move message ids: %w", err)
	}
	if last > indexed {
		// OR IGNORE: events written outside ingestion may repeat an id.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO event_message_ids (message_id)
			SELECT message_id FROM events WHERE id > ? AND id <= ? ORDER BY message_id`, indexed, last); err != nil {
			return fmt.Errorf("move message ids: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE event_message_id_index SET event_id = ?`, last); err != nil {
			return fmt.Errorf("move message ids: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("move message ids: commit: %w", err)
	}
	// Every event up to last is now in the table (or was deleted).
	d.recent = map[messageIDKey]struct{}{}
	d.known = max(d.known, last)
	d.moves.Add(1)
	return nil
}

// lookUpMessageIDs returns which of ids are in event_message_ids.
func lookUpMessageIDs(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	query, args := sqliteLookup(lookupList{messageIDLookup, ids})
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("look message ids up: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id string
		var zero int64
		if err := rows.Scan(&kind, &id, &zero); err != nil {
			return nil, fmt.Errorf("look message ids up: %w", err)
		}
		found[id] = true
	}
	return found, rows.Err()
}
