package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// On PostgreSQL, ingestion appends its changes to the activity summaries
// to contact_activity_deltas instead of upserting contact_activity:
// concurrent batches about the same contacts no longer wait for each
// other's row locks (migration 00021). A fold in the background moves the
// deltas into contact_activity, one fold at a time across every process
// sharing the database (an advisory lock), and Store.Activity adds both
// in one statement, so readers see every committed event at once.

const (
	// A fold costs about what the upserts it replaces did, less what it
	// aggregates: every delta of a contact and event type becomes one
	// update. So it waits: for ingestion to pause (activityFoldIdle), or
	// for a backlog of activityFoldBacklog rows under sustained load, or
	// at most activityFoldEvery for deltas other processes left.
	// Measured in docs/BENCHMARKS.md: folding every second cost a fifth
	// of PostgreSQL's ingestion throughput.
	activityFoldIdle    = 2 * time.Second
	activityFoldBacklog = 1_000_000
	activityFoldEvery   = 5 * time.Minute
	// activityFoldTick is how often the folder checks those conditions.
	activityFoldTick = 500 * time.Millisecond
	// activityFoldRows bounds one fold transaction (about a second of
	// work); rows are aggregated within a transaction.
	activityFoldRows = 200_000
)

// activityFoldLockKey is the advisory lock the fold holds.
const activityFoldLockKey = `hashtextextended('alinea activity fold ' || 'contact_activity_deltas'::regclass::oid::text, 0)`

type activityFolder struct {
	s        *Store
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	// pending counts delta rows this process appended since its last
	// fold began; lastAppend is when (Unix nanoseconds).
	pending    atomic.Int64
	lastAppend atomic.Int64
}

func newActivityFolder(s *Store) *activityFolder {
	f := &activityFolder{s: s, stop: make(chan struct{})}
	if s.backend == Postgres {
		f.wg.Add(1)
		go f.run()
	}
	return f
}

// appended records rows added to contact_activity_deltas.
func (f *activityFolder) appended(rows int) {
	f.pending.Add(int64(rows))
	f.lastAppend.Store(time.Now().UnixNano())
}

func (f *activityFolder) close() {
	f.stopOnce.Do(func() { close(f.stop) })
	f.wg.Wait()
}

func (f *activityFolder) run() {
	defer f.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-f.stop
		cancel()
	}()
	tick := time.NewTicker(activityFoldTick)
	defer tick.Stop()
	// The first tick folds what an earlier run left.
	var lastFold time.Time
	for {
		select {
		case <-f.stop:
			// What is left is folded by a later fold; readers add it
			// meanwhile.
			return
		case <-tick.C:
		}
		pending := f.pending.Load()
		idle := time.Since(time.Unix(0, f.lastAppend.Load())) >= activityFoldIdle
		if !(pending >= activityFoldBacklog || pending > 0 && idle || time.Since(lastFold) >= activityFoldEvery) {
			continue
		}
		lastFold = time.Now()
		f.pending.Add(-pending)
		if _, err := f.s.foldAllActivity(ctx, false); err != nil && ctx.Err() == nil {
			f.s.log.Warn("fold activity deltas", "err", err)
		}
	}
}

// FoldActivity moves pending activity deltas into the contacts' activity
// summaries and returns how many delta rows it moved. The store does this
// in the background on PostgreSQL (see activityFoldIdle); readers never
// need it (they add the deltas), but tests and benchmarks call it to leave
// nothing pending, waiting for a fold running elsewhere. It does nothing
// on SQLite.
func (s *Store) FoldActivity(ctx context.Context) (int, error) {
	return s.foldAllActivity(ctx, true)
}

// foldAllActivity folds until no delta is left; without wait it leaves
// them to a fold that is running elsewhere.
func (s *Store) foldAllActivity(ctx context.Context, wait bool) (int, error) {
	if s.backend != Postgres {
		return 0, nil
	}
	total := 0
	for {
		n, err := s.foldActivity(ctx, activityFoldRows, wait)
		total += n
		if err != nil || n < activityFoldRows {
			return total, err
		}
	}
}

// foldActivity folds up to limit delta rows in one transaction.
func (s *Store) foldActivity(ctx context.Context, limit int, wait bool) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Advisory locks are per database; the key is the deltas
		// table's own (its oid), so stores in other schemas fold apart.
		mine := true
		if wait {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+activityFoldLockKey+`)`); err != nil {
				return fmt.Errorf("fold lock: %w", err)
			}
		} else if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(`+activityFoldLockKey+`)`).Scan(&mine); err != nil {
			return fmt.Errorf("fold lock: %w", err)
		}
		if !mine {
			return nil
		}
		// In the order deleting contacts locks them (SHARE on events,
		// contact_activity, contact_activity_deltas), so the two wait
		// for each other instead of deadlocking.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE contact_activity, contact_activity_deltas IN ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock activity: %w", err)
		}
		// Rows are taken by ctid: the table has no key, and a batch that
		// commits meanwhile only adds rows the next fold takes. Sorting
		// the upsert keeps its row locks in one order.
		err := tx.QueryRowContext(ctx, `WITH moved AS (
				DELETE FROM contact_activity_deltas
				WHERE ctid = ANY(ARRAY(SELECT ctid FROM contact_activity_deltas LIMIT $1))
				RETURNING contact_id, event_type, count, first_at, last_at
			), folded AS (
				INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at)
				SELECT contact_id, event_type, sum(count), min(first_at), max(last_at) FROM moved
				GROUP BY contact_id, event_type ORDER BY contact_id, event_type
				ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
					first_at = LEAST(contact_activity.first_at, excluded.first_at), last_at = GREATEST(contact_activity.last_at, excluded.last_at)
				RETURNING 1
			)
			SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM folded)`, limit).Scan(&n, new(int))
		if err != nil {
			return fmt.Errorf("fold %d rows: %w", limit, err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fold activity deltas: %w", err)
	}
	return n, nil
}
