package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alinea-crm/alinea"
)

// SQLite has one writer at a time, so ingestion on SQLite runs through one
// goroutine that group-commits concurrent batches: a transaction serves
// many requests, each under its own savepoint so that a failing batch does
// not take the others with it.
//
// The commit itself does not wait for the disk. The writer's connection
// commits with synchronous=NORMAL (the WAL is written but not synced) and
// hands the group to the syncer, which fsyncs the WAL file and only then
// answers the requests — so a request still hears of its batch only once
// it is durable, as with synchronous=FULL, while the writer already works
// on the next group instead of waiting for (and spending its CPU time on)
// the sync. One sync serves every group committed while the previous sync
// ran. Readers may see a group a few milliseconds before it is durable.

// syncJob is a committed group waiting for its WAL to be synced.
type syncJob struct {
	group   []*ingestRequest
	wal     *os.File
	retired []*os.File
}

type ingestRequest struct {
	ctx   context.Context
	batch *ingestBatch
	res   alinea.IngestResult
	err   error
	done  chan struct{}
}

// ingester is SQLite's single writer for event batches.
type ingester struct {
	s    *Store
	reqs chan *ingestRequest
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	// synced takes committed groups to the syncer. wal is the WAL file
	// (nil until opened, and when it cannot be: commits then sync
	// themselves); retired are WAL files SQLite replaced, for the syncer
	// to close once it has synced what was committed to them.
	synced  chan syncJob
	wal     *os.File
	retired []*os.File

	// checkpoint wakes the checkpointer after a commit; walFrames is the
	// size of the WAL it last saw.
	checkpoint chan struct{}
	walFrames  atomic.Int64

	// events and writerCPU count the events the writer committed and the
	// CPU time its thread spent on their groups (see IngestWriterStats).
	events     atomic.Int64
	writerCPU  atomic.Int64
	writerBusy atomic.Int64

	// ids is the writer's part of the duplicate check by message id
	// (ingest_dedup.go).
	ids *messageIDs
	// activity is the activity of stored events not yet written to the
	// summaries (ingest_activity.go), written once it counts activityRun
	// events (activityFlushEvents).
	activity    pendingActivity
	activityRun int
	// moveIdle is how long the writer waits without a request before it
	// moves the message ids it holds and writes the pending activity
	// (moveMessageIDsIdle).
	moveIdle time.Duration

	// unfavoured is set once the writer's thread may not be given a
	// higher priority (see favour); only run() uses it.
	unfavoured bool
}

// maxGroupEvents bounds one group commit so that latency stays low.
const maxGroupEvents = 5000

// walRestartFrames is the WAL size (in pages) past which the writer waits
// for a full checkpoint so that the WAL starts over instead of growing.
const walRestartFrames = 64 << 10

// checkpointPause is the least time between two checkpoints. Checkpointing
// after every group commit copied the pages that every commit changes
// (index and activity pages) again each time and synced the database file
// each time; pausing cut the CPU time spent per event by an eighth, for a
// WAL of a few tens of megabytes under full load.
const checkpointPause = 200 * time.Millisecond

func newIngester(s *Store, moveIdle time.Duration, activityRun int) *ingester {
	in := &ingester{s: s, moveIdle: moveIdle, activityRun: activityRun, reqs: make(chan *ingestRequest, 256), stop: make(chan struct{}),
		synced: make(chan syncJob, 64), checkpoint: make(chan struct{}, 1)}
	if s.backend == SQLite {
		in.ids = newMessageIDs()
		in.wg.Add(3)
		go in.run()
		go in.syncer()
		go in.checkpointer()
	}
	return in
}

// checkpointer copies the WAL back into the database file on its own
// connection, beside the writer. SQLite would otherwise do it inside the
// writer's commits (wal_autocheckpoint), and under ingestion load that copy
// took a fifth of the single writer's time. A PASSIVE checkpoint never
// blocks the writer or readers. It runs after commits, at most every
// checkpointPause, and every few seconds so that writes outside ingestion
// get checkpointed too.
func (in *ingester) checkpointer() {
	defer in.wg.Done()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-in.checkpoint:
		case <-tick.C:
		}
		var busy, frames, copied int64
		err := in.s.rdb.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		if err != nil {
			in.s.log.Warn("wal checkpoint failed", "err", err)
			continue
		}
		in.walFrames.Store(frames)
		select {
		case <-in.stop:
			return
		case <-time.After(checkpointPause):
		}
	}
}

func (in *ingester) close() {
	in.once.Do(func() { close(in.stop) })
	in.wg.Wait()
	for _, f := range append(in.retired, in.wal) {
		if f != nil {
			f.Close()
		}
	}
}

var errClosed = errors.New("store is closed")

func (in *ingester) submit(ctx context.Context, batch *ingestBatch) (alinea.IngestResult, error) {
	r := &ingestRequest{ctx: ctx, batch: batch, done: make(chan struct{})}
	select {
	case in.reqs <- r:
	case <-in.stop:
		return alinea.IngestResult{}, errClosed
	case <-ctx.Done():
		return alinea.IngestResult{}, ctx.Err()
	}
	// Once queued, the request is always answered: the caller must not
	// mistake a batch that was committed for one that was not.
	<-r.done
	return r.res, r.err
}

func (in *ingester) run() {
	defer in.wg.Done()
	defer close(in.synced)
	idle := time.NewTimer(in.moveIdle)
	defer idle.Stop()
	for {
		var first *ingestRequest
		idle.Reset(in.moveIdle)
		select {
		case first = <-in.reqs:
		case <-idle.C:
			// Nothing to do: a good moment to write the pending
			// activity and move the message ids held in memory into
			// the table, while no request waits.
			if in.activity.due() {
				in.flushActivity()
			}
			in.ids.startMove()
			for in.ids.movingIDs() && len(in.reqs) == 0 {
				if !in.moveChunk() {
					break
				}
			}
			continue
		case <-in.stop:
			// Answer whatever is still queued before leaving.
			for {
				select {
				case r := <-in.reqs:
					in.commit([]*ingestRequest{r})
				default:
					// Leave the summaries complete; a start would
					// count the events again otherwise.
					if in.activity.events > 0 {
						in.flushActivity()
					}
					return
				}
			}
		}
		group := []*ingestRequest{first}
		n := len(first.batch.msgs)
	drain:
		for n < maxGroupEvents {
			select {
			case r := <-in.reqs:
				group = append(group, r)
				n += len(r.batch.msgs)
			default:
				break drain
			}
		}
		// Counted first: commit hands the group to the syncer, which may
		// answer its requests before this goroutine runs on, and a
		// caller that read the stats after its last 200 missed them.
		in.events.Add(int64(n))
		in.work(func() { in.commit(group) })
		if in.activity.events >= in.activityRun {
			in.flushActivity()
		}
		// Memory full: a move, one chunk between two groups.
		if !in.ids.movingIDs() && len(in.ids.ids) >= maxRecentMessageIDs {
			in.ids.startMove()
		}
		if in.ids.movingIDs() {
			in.moveChunk()
		}
	}
}

// work runs the writer's work on one thread, so that the thread's CPU time
// is the writer's (IngestWriterStats). Locking the writer to a thread for
// good cost more: every wait for requests then handed the thread over.
func (in *ingester) work(f func()) {
	runtime.LockOSThread()
	restore := in.favour()
	cpu, began := threadCPU(), time.Now()
	f()
	in.writerBusy.Add(int64(time.Since(began)))
	in.writerCPU.Add(int64(threadCPU() - cpu))
	if restore != nil {
		restore()
	}
	runtime.UnlockOSThread()
}

// flushActivity writes the pending activity to the summaries; a failure
// is logged and the activity kept for the next time.
func (in *ingester) flushActivity() {
	var err error
	in.work(func() { err = in.activity.flush(context.Background(), in.s, in.ids.known) })
	if err != nil {
		in.s.log.Error("ingest: write activity summaries", "err", err)
		return
	}
	in.afterCommit(context.Background())
}

// moveChunk writes one chunk of the move of message ids under way and
// reports whether it succeeded; a failure is logged and the chunk is tried
// again later.
func (in *ingester) moveChunk() bool {
	var err error
	in.work(func() { err = in.ids.moveChunk(context.Background(), in.s.db) })
	if err != nil {
		in.s.log.Error("ingest: move message ids into event_message_ids", "err", err)
		return false
	}
	in.afterCommit(context.Background())
	return true
}

// writerNiceBoost is how far below the process's other threads the
// writer's thread runs while it commits. The writer is the one thread that
// caps ingestion on SQLite; when the HTTP and JSON work of the next
// requests wants the same core, the kernel's fair share made it wait
// (busy for the whole run while using ~85% of a core). Favoured, it
// waits less and the other work takes the rest: +5-10% events/s on
// 2 cores when measured alone; after the other changes of that pass,
// unprivileged runs did as well (docs/BENCHMARKS.md).
const writerNiceBoost = 5

// favour raises the writer thread's priority for one commit when the
// process is allowed to, and returns what undoes it (nil otherwise). A
// refusal is logged once and not asked again.
func (in *ingester) favour() (restore func()) {
	if in.unfavoured {
		return nil
	}
	restore, err := favourThread(writerNiceBoost)
	if err != nil {
		in.unfavoured = true
		in.s.log.Info("ingestion writer runs at the process's priority", "reason", err)
		return nil
	}
	return restore
}

// IngestWriterStats reports how many events SQLite's single ingestion
// writer has handled (stored or not), the CPU time its thread spent on
// them (zero outside Linux) and the time it was busy with them (CPU time
// or not: waiting for the disk or for a core); both include the moves of
// message ids and the activity runs the events cost. The writer's CPU time per
// event bounds ingestion: it cannot go faster than one event per that
// time, however many cores serve HTTP. All zero on PostgreSQL, which has
// no such writer.
func (s *Store) IngestWriterStats() (events int64, cpu, busy time.Duration) {
	if s.ingest == nil {
		return 0, 0, 0
	}
	in := s.ingest
	return in.events.Load(), time.Duration(in.writerCPU.Load()), time.Duration(in.writerBusy.Load())
}

// syncer makes committed groups durable and answers their requests.
func (in *ingester) syncer() {
	defer in.wg.Done()
	for job := range in.synced {
		jobs := []syncJob{job}
	more:
		for {
			select {
			case j, ok := <-in.synced:
				if !ok {
					break more
				}
				jobs = append(jobs, j)
			default:
				break more
			}
		}
		// The jobs' WAL files are one file but for the rare job after
		// SQLite replaced it.
		errs := map[*os.File]error{}
		for _, j := range jobs {
			if _, done := errs[j.wal]; !done {
				errs[j.wal] = j.wal.Sync()
			}
		}
		for _, j := range jobs {
			for _, r := range j.group {
				if err := errs[j.wal]; err != nil && r.err == nil {
					r.err = fmt.Errorf("ingest: sync the WAL: %w", err)
				}
				close(r.done)
			}
			for _, f := range j.retired {
				f.Close()
			}
		}
	}
}

// openWAL opens the WAL file for the syncer, or reopens it when SQLite
// has replaced it (it deletes the WAL when its last connection closes).
// It returns false when commits must sync themselves.
func (in *ingester) openWAL(ctx context.Context, conn *sql.Conn) bool {
	var seq int
	var name, file string
	if err := conn.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil || file == "" {
		return false
	}
	path := file + "-wal"
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	if in.wal != nil {
		if open, err := in.wal.Stat(); err == nil && os.SameFile(open, cur) {
			return true
		}
		in.retired, in.wal = append(in.retired, in.wal), nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		in.s.log.Warn("open the WAL to sync it; commits sync themselves", "err", err)
		return false
	}
	in.wal = f
	return true
}

// afterCommit wakes the checkpointer and, when the WAL has grown past
// walRestartFrames because the writer never paused for it to be reset,
// waits for a full checkpoint so that the next commit starts the WAL over.
func (in *ingester) afterCommit(ctx context.Context) {
	select {
	case in.checkpoint <- struct{}{}:
	default:
	}
	if in.walFrames.Load() < walRestartFrames {
		return
	}
	var busy, frames, copied int64
	if err := in.s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err != nil {
		in.s.log.Warn("wal restart checkpoint failed", "err", err)
		return
	}
	if busy == 0 {
		in.walFrames.Store(0)
	}
}

// commit runs a group of requests in one transaction, each under its own
// savepoint, and hands the group to the syncer (or answers it at once when
// the commit synced itself or failed). The activity summaries of the
// requests that succeeded are summed and written once for the whole group:
// a contact active in several requests costs one upsert.
func (in *ingester) commit(group []*ingestRequest) {
	ctx := context.Background()
	async, err := in.commitGroup(ctx, group)
	if err != nil {
		// Nothing of the group was committed.
		for _, r := range group {
			r.res = alinea.IngestResult{}
			if r.err == nil {
				r.err = err
			}
		}
		async = false
	}
	in.afterCommit(ctx)
	if async {
		in.synced <- syncJob{group: group, wal: in.wal, retired: in.retired}
		in.retired = nil
		return
	}
	for _, r := range group {
		close(r.done)
	}
}

// commitGroup commits the group and reports whether its durability is
// left to the syncer. An error fails every request of the group.
func (in *ingester) commitGroup(ctx context.Context, group []*ingestRequest) (async bool, err error) {
	s := in.s
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("ingest: %w", err)
	}
	defer conn.Close()
	// The checkpointer does this work off the writer's path; set on every
	// group because database/sql may have replaced the connection.
	// Sub-journals (each request's savepoint, each multi-row statement)
	// are thrown away at commit: in memory they cost a copy instead of
	// writes to a temporary file.
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY`); err != nil {
		s.log.Warn("disable wal autocheckpoint", "err", err)
	}
	if in.openWAL(ctx, conn) {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err == nil {
			async = true
			// The connection is the store's only writer: other writes
			// must find it syncing its commits again.
			defer func() {
				if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
					s.log.Error("restore synchronous=FULL on the write connection; discarding it", "err", err)
					_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				}
			}()
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("ingest: begin: %w", err)
	}
	// Only this connection writes, so whether an agreement is active
	// cannot change within the group: asked once, not once per request,
	// with the last event id (for the message ids) and the last event the
	// activity summaries count (for merged anonymous history).
	var evaluate bool
	var lastEvent, activityThrough int64
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agreements WHERE status = 'active'),
		(SELECT COALESCE(max(id), 0) FROM events), (SELECT event_id FROM contact_activity_index)`).Scan(&evaluate, &lastEvent, &activityThrough); err != nil {
		_ = tx.Rollback()
		return false, fmt.Errorf("ingest: read the active agreement and the last events: %w", err)
	}
	foreign, err := in.ids.catchUp(ctx, tx, lastEvent)
	if err != nil {
		_ = tx.Rollback()
		return false, fmt.Errorf("ingest: %w", err)
	}
	if foreign {
		in.activity.complete = false // events the writer did not count
	}
	// Message ids the group adds to memory are taken out again unless
	// the group is committed.
	groupMark, committed := in.ids.mark(), false
	defer func() {
		if !committed {
			in.ids.forget(groupMark)
		}
	}()
	var total activity
	var stored int
	for i, r := range group {
		if r.ctx.Err() != nil {
			r.err = r.ctx.Err()
			continue
		}
		sp := "b" + strconv.Itoa(i)
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			r.err = fmt.Errorf("ingest: savepoint: %w", err)
			continue
		}
		mark := in.ids.mark()
		var act activity
		r.res, act, r.err = s.ingestTx(ctx, nil, tx, r.batch, evaluate, activityThrough)
		if r.err != nil {
			in.ids.forget(mark)
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO "+sp); err != nil {
				r.err = errors.Join(r.err, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			r.err = errors.Join(r.err, err)
		}
		if r.err == nil {
			total = total.merge(act)
			stored += r.res.Stored
		}
	}
	last, err := lastEventID(ctx, tx)
	if err != nil {
		_ = tx.Rollback()
		return false, fmt.Errorf("ingest: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("ingest: commit: %w", err)
	}
	committed = true
	in.ids.committed(last)
	in.activity.add(total, stored)
	return async, nil
}
