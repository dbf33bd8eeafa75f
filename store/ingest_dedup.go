package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// On SQLite, ingestion de-duplicates events by message id without a unique
// index on events.message_id (migration 00019). Segment's libraries send
// random UUIDs, and such an index made every stored event dirty a random
// page, written again to the WAL at every group commit: it held the single
// writer to 35-40k events/s, against 45-54k without it (docs/BENCHMARKS.md).
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
// into the table, sorted and in chunks, when it has been idle for a moment
// or when it holds maxRecentMessageIDs of them. At the start of each group
// commit it reads into memory the ids of any events it did not store itself
// (another process or a write outside ingestion), and after a restart those
// of the events that were never moved. So the check is as complete as the
// unique index was, for every stored event, however long ago.
//
// Unlike with the unique index, a message id stays spent when its event is
// deleted with its contact: moves write the ids from memory, and the table
// keeps them.

// maxRecentMessageIDs bounds the message ids the writer keeps in memory
// outside a move (about 60 MB with their hashes at this size); past it,
// they are moved to the table, a chunk between two group commits.
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
	// recent holds the hashes of ids, the message ids of the events after
	// event_message_id_index's event_id up to known (the largest events.id
	// the writer has read or stored), in the order they came; known is -1
	// until the writer has read the index.
	recent map[messageIDKey]struct{}
	ids    []string
	known  int64
	// moving are the ids of a move under way, sorted, of which the first
	// moved are in the table; once all are, the table covers the events
	// up to movingThrough. Their hashes stay in recent until then.
	moving        []string
	moved         int
	movingThrough int64
	// chunk is how many ids one transaction of a move writes.
	chunk int
	// moves counts the moves of ids into the table; a look-up of the table
	// made before the last move may miss ids that were only in memory
	// when it ran.
	moves atomic.Int64
}

func newMessageIDs() *messageIDs {
	return &messageIDs{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		recent: map[messageIDKey]struct{}{}, known: -1, chunk: moveChunkIDs}
}

func (d *messageIDs) key(id string) messageIDKey {
	return messageIDKey{maphash.String(d.seeds[0], id), maphash.String(d.seeds[1], id)}
}

// add remembers id, which must be new. The id is copied: it may point into
// a request's whole body.
func (d *messageIDs) add(k messageIDKey, id string) {
	d.recent[k] = struct{}{}
	d.ids = append(d.ids, strings.Clone(id))
}

// catchUp runs at the start of a group commit, with last the largest event
// id: it reads into memory the ids of the events stored since the writer
// last looked, by anyone else, and reports whether there were any. It
// reads the index first when the writer has not yet.
func (d *messageIDs) catchUp(ctx context.Context, tx *sql.Tx, last int64) (bool, error) {
	if d.known < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT event_id FROM event_message_id_index`).Scan(&d.known); err != nil {
			return false, fmt.Errorf("read which events' message ids are indexed: %w", err)
		}
	}
	if last <= d.known {
		return false, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT message_id FROM events WHERE id > ? AND id <= ?`, d.known, last)
	if err != nil {
		return false, fmt.Errorf("read the message ids of new events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return false, fmt.Errorf("read the message ids of new events: %w", err)
		}
		// Events written outside ingestion may repeat an id.
		if k := d.key(id); !d.has(k) {
			d.add(k, id)
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read the message ids of new events: %w", err)
	}
	d.known = last
	return true, nil
}

func (d *messageIDs) has(k messageIDKey) bool {
	_, ok := d.recent[k]
	return ok
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
		if k := d.key(id); !d.has(k) {
			d.add(k, id)
			fresh[i] = true
		}
	}
	return fresh, nil
}

// mark returns what forget takes memory back to.
func (d *messageIDs) mark() int { return len(d.ids) }

// forget takes out of memory the ids added since mark: ids whose events
// were rolled back.
func (d *messageIDs) forget(mark int) {
	for _, id := range d.ids[mark:] {
		delete(d.recent, d.key(id))
	}
	clear(d.ids[mark:])
	d.ids = d.ids[:mark]
}

// committed records that a group was committed with last as the largest
// event id.
func (d *messageIDs) committed(last int64) {
	d.known = max(d.known, last)
}

// moveStatementIDs is how many ids one insert of a move writes.
const moveStatementIDs = 500

// moveChunkIDs is how many ids one transaction of a move writes: a move of
// a full memory takes eight, and ingestion goes on between them. A chunk
// of sorted ids writes only the table's pages in its range of keys, so
// cutting a move in chunks costs little; it bounds how long ingestion
// waits (docs/BENCHMARKS.md).
const moveChunkIDs = 1 << 16

// moving reports whether a move is under way.
func (d *messageIDs) movingIDs() bool { return d.moving != nil }

// startMove begins moving the ids held in memory into event_message_ids,
// sorted so that each page of the table is written once per chunk. Ids
// stored meanwhile wait for the next move. The ids of events deleted
// meanwhile (with their contact) go too: an id once stored stays spent.
func (d *messageIDs) startMove() {
	if d.moving != nil || d.known < 0 || len(d.ids) == 0 {
		return
	}
	slices.Sort(d.ids)
	d.moving, d.moved, d.movingThrough = d.ids, 0, d.known
	d.ids = nil
}

// moveChunk writes the next chunk of the move under way, and when it is
// the last, records how far the table covers and drops the moved ids from
// memory. A failure leaves the chunk to be written again.
func (d *messageIDs) moveChunk(ctx context.Context, db *sql.DB) error {
	if d.moving == nil {
		return nil
	}
	end := min(d.moved+d.chunk, len(d.moving))
	last := end == len(d.moving)
	// A lost move is only redone (a writer reads the ids of the events
	// the table does not cover at start): relaxedWrite.
	err := relaxedWrite(ctx, db, func(tx *sql.Tx) error {
		args := make([]any, 0, moveStatementIDs)
		for start := d.moved; start < end; start += moveStatementIDs {
			part := d.moving[start:min(start+moveStatementIDs, end)]
			args = args[:0]
			for _, id := range part {
				args = append(args, id)
			}
			// OR IGNORE: a move cut short by a crash, or another
			// process, may have written the id already.
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO event_message_ids (message_id) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?),", len(part)), ","), args...); err != nil {
				return err
			}
		}
		if !last {
			return nil
		}
		// The index only goes forward: another process may have moved
		// further.
		_, err := tx.ExecContext(ctx, `UPDATE event_message_id_index SET event_id = max(event_id, ?)`, d.movingThrough)
		return err
	})
	if err != nil {
		return fmt.Errorf("move message ids: %w", err)
	}
	d.moved = end
	if last {
		// Memory keeps only the ids stored during the move.
		d.recent = make(map[messageIDKey]struct{}, len(d.ids))
		for _, id := range d.ids {
			d.recent[d.key(id)] = struct{}{}
		}
		d.moving = nil
		d.moves.Add(1)
	}
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
