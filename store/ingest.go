package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alinea-crm/alinea"
)

// Ingest stores a batch of validated Segment messages in one transaction:
// it resolves each message to a contact (creating contacts on first sight,
// linking anonymous ids on identify and alias), links accounts on group,
// inserts the events (duplicates by message id are skipped and counted) and
// updates the per-contact activity summaries. When Ingest returns nil the
// batch is durably committed.
//
// On SQLite, concurrent batches are group-committed by one writer goroutine:
// a transaction (and its fsync) serves many requests, and each request runs
// under its own savepoint so a failing batch does not take others with it.
func (s *Store) Ingest(ctx context.Context, writeKeyID int64, msgs []alinea.Message) (alinea.IngestResult, error) {
	if len(msgs) == 0 {
		return alinea.IngestResult{}, nil
	}
	if s.backend == SQLite {
		return s.ingest.submit(ctx, writeKeyID, msgs)
	}
	// Concurrent batches that meet the same new user, anonymous id or
	// contact rows can collide on PostgreSQL (a unique violation, or a
	// deadlock when they lock rows in different orders); the batch is then
	// rolled back and run again, when it sees what the other committed.
	for attempt := 1; ; attempt++ {
		var res alinea.IngestResult
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			res, err = s.ingestTx(ctx, tx, writeKeyID, msgs)
			return err
		})
		if err == nil || attempt == maxIngestAttempts || !concurrentWriteConflict(err) || ctx.Err() != nil {
			return res, err
		}
		s.log.Debug("ingest batch collided with another; retrying", "attempt", attempt, "err", err)
	}
}

const maxIngestAttempts = 5

// concurrentWriteConflict reports whether err comes from another
// transaction's concurrent writes rather than from the batch itself.
func concurrentWriteConflict(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40P01", "40001", "23505": // deadlock, serialization failure, unique violation
			return true
		}
	}
	return alinea.ErrorCode(err) == alinea.ECONFLICT
}

// lockIdentities takes a transaction-scoped advisory lock on every identity
// a PostgreSQL batch is about to create or change — user ids and anonymous
// ids not seen before, and the ids, emails and group ids of identify, alias
// and group calls — in one global order and before it locks any row.
// Batches that would create or change the same identities then run one
// after the other instead of locking the same rows in different orders and
// deadlocking, while calls about known people (most of them) stay parallel.
// A hash collision only serialises two batches. After waiting, the batch
// looks the new identities up again: the batch it waited for may have
// created them.
func (s *Store) lockIdentities(ctx context.Context, tx *sql.Tx, b *batchState, msgs []alinea.Message, emails []string) error {
	keys := make([]int64, 0, 16)
	add := func(kind byte, id string) {
		if id == "" {
			return
		}
		h := fnv.New64a()
		h.Write([]byte{kind})
		h.Write([]byte(id))
		keys = append(keys, int64(h.Sum64()))
	}
	var newUsers, newAnons []string
	for user := range b.absentUsers {
		add('u', user)
		newUsers = append(newUsers, user)
	}
	for anon, contact := range b.byAnon {
		if contact == 0 {
			add('a', anon)
			newAnons = append(newAnons, anon)
		}
	}
	for i := range msgs {
		m := &msgs[i]
		switch m.Type {
		case "identify", "alias", "group":
		default:
			continue
		}
		add('u', m.UserID)
		add('a', m.AnonymousID)
		add('a', m.PreviousID)
		add('g', m.GroupID)
	}
	for _, email := range emails {
		add('e', email)
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// unnest yields the array in order, so the locks are taken in order.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, keys); err != nil {
		return fmt.Errorf("ingest: lock identities: %w", err)
	}
	return s.prefetch(ctx, tx, b, newUsers, newAnons, emails)
}

// traitEmail returns the normalised email trait of an identify call.
func traitEmail(m *alinea.Message) string {
	if m.Type != "identify" || len(m.Traits) == 0 {
		return ""
	}
	var t struct {
		Email any `json:"email"`
	}
	if json.Unmarshal(m.Traits, &t) != nil {
		return ""
	}
	e, _ := t.Email.(string)
	if norm, err := alinea.NormalizeEmail(e); err == nil {
		return norm
	}
	return ""
}

// prefetch looks up the contacts of many user ids and anonymous ids at
// once, so that resolving a batch costs a few queries instead of one per
// call. Ids it does not find are recorded as absent.
func (s *Store) prefetch(ctx context.Context, tx *sql.Tx, b *batchState, users, anons, emails []string) error {
	const chunk = 500
	for start := 0; start < len(users); start += chunk {
		part := users[start:min(start+chunk, len(users))]
		err := s.lookupIDs(ctx, tx, `SELECT external_id, id FROM contacts WHERE external_id`, part, func(user string, id int64) {
			b.byUser[user] = id
			delete(b.absentUsers, user)
		})
		if err != nil {
			return fmt.Errorf("look up user ids: %w", err)
		}
	}
	for start := 0; start < len(anons); start += chunk {
		part := anons[start:min(start+chunk, len(anons))]
		err := s.lookupIDs(ctx, tx, `SELECT anonymous_id, contact_id FROM identities WHERE anonymous_id`, part, func(anon string, id int64) {
			b.byAnon[anon] = id
		})
		if err != nil {
			return fmt.Errorf("look up anonymous ids: %w", err)
		}
	}
	for start := 0; start < len(emails); start += chunk {
		part := emails[start:min(start+chunk, len(emails))]
		err := s.lookupIDs(ctx, tx, `SELECT email, id FROM contacts WHERE email`, part, func(email string, id int64) {
			b.byEmail[email] = id
			delete(b.freeEmails, email)
		})
		if err != nil {
			return fmt.Errorf("look up emails: %w", err)
		}
	}
	return nil
}

// lookupIDs runs "query IN (ids)" and hands each (key, id) row to found.
func (s *Store) lookupIDs(ctx context.Context, tx *sql.Tx, query string, ids []string, found func(string, int64)) error {
	var rows *sql.Rows
	var err error
	if s.backend == Postgres {
		rows, err = tx.QueryContext(ctx, query+` = ANY($1)`, ids)
	} else {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err = tx.QueryContext(ctx, query+` IN (?`+strings.Repeat(`,?`, len(ids)-1)+`)`, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			return err
		}
		found(key, id)
	}
	return rows.Err()
}

type ingestRequest struct {
	ctx        context.Context
	writeKeyID int64
	msgs       []alinea.Message
	res        alinea.IngestResult
	err        error
	done       chan struct{}
}

// ingester is SQLite's single writer for event batches.
type ingester struct {
	s    *Store
	reqs chan *ingestRequest
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	// checkpoint wakes the checkpointer after a commit; walFrames is the
	// size of the WAL it last saw.
	checkpoint chan struct{}
	walFrames  atomic.Int64
}

// maxGroupEvents bounds one group commit so that latency stays low.
const maxGroupEvents = 5000

// walRestartFrames is the WAL size (in pages) past which the writer waits
// for a full checkpoint so that the WAL starts over instead of growing.
const walRestartFrames = 64 << 10

func newIngester(s *Store) *ingester {
	in := &ingester{s: s, reqs: make(chan *ingestRequest, 256), stop: make(chan struct{}), checkpoint: make(chan struct{}, 1)}
	if s.backend == SQLite {
		in.wg.Add(2)
		go in.run()
		go in.checkpointer()
	}
	return in
}

// checkpointer copies the WAL back into the database file on its own
// connection, beside the writer. SQLite would otherwise do it inside the
// writer's commits (wal_autocheckpoint), and under ingestion load that copy
// took a fifth of the single writer's time. A PASSIVE checkpoint never
// blocks the writer or readers. It also runs every few seconds so that
// writes outside ingestion get checkpointed too.
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
	}
}

func (in *ingester) close() {
	in.once.Do(func() { close(in.stop) })
	in.wg.Wait()
}

var errClosed = errors.New("store is closed")

func (in *ingester) submit(ctx context.Context, writeKeyID int64, msgs []alinea.Message) (alinea.IngestResult, error) {
	r := &ingestRequest{ctx: ctx, writeKeyID: writeKeyID, msgs: msgs, done: make(chan struct{})}
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
	for {
		var first *ingestRequest
		select {
		case first = <-in.reqs:
		case <-in.stop:
			// Answer whatever is still queued before leaving.
			for {
				select {
				case r := <-in.reqs:
					in.commit([]*ingestRequest{r})
				default:
					return
				}
			}
		}
		group := []*ingestRequest{first}
		n := len(first.msgs)
	drain:
		for n < maxGroupEvents {
			select {
			case r := <-in.reqs:
				group = append(group, r)
				n += len(r.msgs)
			default:
				break drain
			}
		}
		in.commit(group)
	}
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

func (in *ingester) commit(group []*ingestRequest) {
	s := in.s
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	ctx := context.Background()
	// The checkpointer does this work off the writer's path; set on every
	// group because database/sql may have replaced the connection.
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		s.log.Warn("disable wal autocheckpoint", "err", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.err = fmt.Errorf("ingest: begin: %w", err)
		}
		return
	}
	defer in.afterCommit(ctx)
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
		r.res, r.err = s.ingestTx(ctx, tx, r.writeKeyID, r.msgs)
		if r.err != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO "+sp); err != nil {
				r.err = errors.Join(r.err, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			r.err = errors.Join(r.err, err)
		}
	}
	if err := tx.Commit(); err != nil {
		for _, r := range group {
			if r.err == nil {
				r.err = fmt.Errorf("ingest: commit: %w", err)
			}
		}
	}
}

// batchState caches lookups within one transaction.
type batchState struct {
	byUser      map[string]int64
	absentUsers map[string]bool // user ids known not to exist yet
	byAnon      map[string]int64
	byEmail     map[string]int64
	freeEmails  map[string]bool  // identify emails no contact had when the batch began
	newLinks    map[string]int64 // anonymous ids linked to a contact in this batch
	activity    map[activityKey]*activityDelta
	// touched holds each contact's newly stored events, and rebuild the
	// contacts whose history changed otherwise (merged anonymous events),
	// for live evaluation under the active agreement.
	touched map[int64][]touch
	rebuild map[int64]bool
}

type activityKey struct {
	contact int64
	typ     string
}

type activityDelta struct {
	count       int64
	first, last int64
}

func (b *batchState) addActivity(contact int64, typ string, count, first, last int64) {
	k := activityKey{contact, typ}
	d := b.activity[k]
	if d == nil {
		b.activity[k] = &activityDelta{count: count, first: first, last: last}
		return
	}
	d.count += count
	d.first = min(d.first, first)
	d.last = max(d.last, last)
}

type eventRow struct {
	msg     *alinea.Message
	contact int64
	occ     int64
}

func (s *Store) ingestTx(ctx context.Context, tx *sql.Tx, writeKeyID int64, msgs []alinea.Message) (alinea.IngestResult, error) {
	b := &batchState{
		byUser: map[string]int64{}, absentUsers: map[string]bool{}, byAnon: map[string]int64{}, byEmail: map[string]int64{}, freeEmails: map[string]bool{},
		newLinks: map[string]int64{}, activity: map[activityKey]*activityDelta{},
		touched: map[int64][]touch{}, rebuild: map[int64]bool{},
	}
	var users, anons, emails []string
	for i := range msgs {
		m := &msgs[i]
		if m.UserID != "" && !b.absentUsers[m.UserID] {
			b.absentUsers[m.UserID] = true
			users = append(users, m.UserID)
		}
		if email := traitEmail(m); email != "" && !b.freeEmails[email] {
			b.freeEmails[email] = true
			emails = append(emails, email)
		}
		for _, anon := range []string{m.AnonymousID, m.PreviousID} {
			if _, seen := b.byAnon[anon]; anon != "" && !seen {
				b.byAnon[anon] = 0 // unlinked until found
				anons = append(anons, anon)
			}
		}
	}
	if err := s.prefetch(ctx, tx, b, users, anons, emails); err != nil {
		return alinea.IngestResult{}, err
	}
	if s.backend == Postgres {
		if err := s.lockIdentities(ctx, tx, b, msgs, emails); err != nil {
			return alinea.IngestResult{}, err
		}
	}
	rows := make([]eventRow, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		id, err := s.resolveMessage(ctx, tx, b, m)
		if err != nil {
			return alinea.IngestResult{}, fmt.Errorf("ingest message %q: %w", m.MessageID, err)
		}
		occ := m.Timestamp
		if occ.IsZero() {
			occ = m.ReceivedAt
		}
		rows[i] = eventRow{msg: m, contact: id, occ: ms(occ)}
	}
	// Calls that came before an identify in the same batch belong to the
	// contact too.
	for i := range rows {
		if rows[i].contact == 0 && rows[i].msg.AnonymousID != "" {
			rows[i].contact = b.newLinks[rows[i].msg.AnonymousID]
		}
	}
	for anon, contact := range b.newLinks {
		if err := s.mergeAnonymousHistory(ctx, tx, b, anon, contact); err != nil {
			return alinea.IngestResult{}, err
		}
	}
	res, err := s.insertEvents(ctx, tx, b, writeKeyID, rows)
	if err != nil {
		return res, err
	}
	if err := s.flushActivity(ctx, tx, b); err != nil {
		return res, err
	}
	return res, s.evaluateBatch(ctx, tx, b)
}

// resolveMessage finds or creates the contact a message is about and applies
// identify traits, group and alias links.
func (s *Store) resolveMessage(ctx context.Context, tx *sql.Tx, b *batchState, m *alinea.Message) (int64, error) {
	var traits map[string]any
	if m.Type == "identify" && len(m.Traits) > 0 {
		_ = json.Unmarshal(m.Traits, &traits)
	}
	email := ""
	if e, ok := traits["email"].(string); ok {
		if norm, err := alinea.NormalizeEmail(e); err == nil {
			email = norm
		}
	}
	var id int64
	var err error
	created := false // a contact made for this call already has its traits
	switch {
	case m.UserID != "":
		id, created, err = s.contactByUser(ctx, tx, b, m.UserID, email, traits)
	case email != "":
		id, err = s.contactByEmail(ctx, tx, b, email)
	case m.AnonymousID != "":
		id, err = s.contactByAnon(ctx, tx, b, m.AnonymousID)
	}
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, nil
	}
	if m.AnonymousID != "" && (m.Type == "identify" || m.Type == "alias" || m.UserID != "") {
		if err := s.linkAnonymous(ctx, tx, b, m.AnonymousID, id); err != nil {
			return 0, err
		}
	}
	switch m.Type {
	case "identify":
		if len(traits) > 0 && !created {
			if err := s.applyTraits(ctx, tx, id, traits, email); err != nil {
				return 0, err
			}
		}
	case "alias":
		if m.PreviousID != "" && m.PreviousID != m.UserID {
			if err := s.linkAnonymous(ctx, tx, b, m.PreviousID, id); err != nil {
				return 0, err
			}
		}
	case "group":
		if m.GroupID != "" {
			if err := s.linkGroup(ctx, tx, id, m); err != nil {
				return 0, err
			}
		}
	}
	return id, nil
}

// contactByUser finds the contact of a user id, or makes it (with the
// identify traits given, when created says so).
func (s *Store) contactByUser(ctx context.Context, tx *sql.Tx, b *batchState, userID, email string, traits map[string]any) (id int64, created bool, err error) {
	if id, ok := b.byUser[userID]; ok {
		return id, false, nil
	}
	err = sql.ErrNoRows
	if !b.absentUsers[userID] {
		err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE external_id = ?`), userID).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		id, created, err = s.newUserContact(ctx, tx, b, userID, email, traits)
	}
	if err != nil {
		return 0, false, fmt.Errorf("resolve user id %q: %w", userID, err)
	}
	b.byUser[userID] = id
	delete(b.absentUsers, userID)
	return id, created, nil
}

// newUserContact gives a user id seen for the first time its contact: the
// contact that has its email and no user id yet (imported or created by
// email), or a new one. An address that already belongs to another user id
// stays there: the new contact is made without it.
//
// A new contact is made with the traits of the identify call that named
// it, so that it costs one insert rather than an insert and an update.
func (s *Store) newUserContact(ctx context.Context, tx *sql.Tx, b *batchState, userID, email string, traits map[string]any) (int64, bool, error) {
	var id int64
	_, takenInBatch := b.byEmail[email]
	if email != "" && (!b.freeEmails[email] || takenInBatch) {
		err := tx.QueryRowContext(ctx, s.q(`UPDATE contacts SET external_id = ? WHERE email = ? AND external_id IS NULL RETURNING id`), userID, email).Scan(&id)
		if err == nil {
			b.byEmail[email] = id
			return id, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, err
		}
		taken, err := s.exists(ctx, tx, `SELECT 1 FROM contacts WHERE email = ?`, email)
		if err != nil {
			return 0, false, err
		}
		if taken {
			email = ""
		}
	}
	var f alinea.ContactFields
	if len(traits) > 0 {
		f = contactTraits(traits, "")
		if len(f.Properties) > 0 {
			f.Properties = withoutNulls(f.Properties)
		}
	}
	f.ExternalID, f.Email, f.Source = &userID, nullPtr(email), strPtr("tracking")
	id, err := s.insertContact(ctx, tx, f, alinea.Actor{Type: alinea.ActorSystem})
	if err == nil && email != "" {
		b.byEmail[email] = id
	}
	return id, len(traits) > 0, err
}

// withoutNulls drops the null members of a JSON object: on a new contact
// a null trait means nothing, as it would in a merge patch.
func withoutNulls(props json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(props, &m) != nil {
		return props
	}
	for k, v := range m {
		if string(v) == "null" {
			delete(m, k)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return props
	}
	return out
}

// exists reports whether query returns a row.
func (s *Store) exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, s.q(query), args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) contactByEmail(ctx context.Context, tx *sql.Tx, b *batchState, email string) (int64, error) {
	if id, ok := b.byEmail[email]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE email = ?`), email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = s.insertContact(ctx, tx, alinea.ContactFields{Email: &email, Source: strPtr("tracking")}, alinea.Actor{Type: alinea.ActorSystem})
	}
	if err != nil {
		return 0, fmt.Errorf("resolve email %q: %w", email, err)
	}
	b.byEmail[email] = id
	return id, nil
}

func (s *Store) contactByAnon(ctx context.Context, tx *sql.Tx, b *batchState, anon string) (int64, error) {
	if id, ok := b.byAnon[anon]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT contact_id FROM identities WHERE anonymous_id = ?`), anon).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("resolve anonymous id %q: %w", anon, err)
	}
	b.byAnon[anon] = id
	return id, nil
}

// linkAnonymous ties an anonymous id to a contact once; the first contact
// an anonymous id is linked to keeps it.
func (s *Store) linkAnonymous(ctx context.Context, tx *sql.Tx, b *batchState, anon string, contact int64) error {
	if cur, ok := b.byAnon[anon]; ok && cur != 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (anonymous_id, contact_id, created_at) VALUES (?, ?, ?) ON CONFLICT (anonymous_id) DO NOTHING`), anon, contact, ms(s.now()))
	if err != nil {
		return fmt.Errorf("link anonymous id %q: %w", anon, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		b.newLinks[anon] = contact
		b.byAnon[anon] = contact
		return nil
	}
	b.byAnon[anon] = 0
	_, err = s.contactByAnon(ctx, tx, b, anon)
	delete(b.byAnon, anon)
	return err
}

// mergeAnonymousHistory gives a newly identified contact the events its
// anonymous id produced before, and counts them in its activity.
func (s *Store) mergeAnonymousHistory(ctx context.Context, tx *sql.Tx, b *batchState, anon string, contact int64) error {
	b.rebuild[contact] = true
	rows, err := tx.QueryContext(ctx, s.q(`UPDATE events SET contact_id = ? WHERE anonymous_id = ? AND contact_id IS NULL AND anonymous_id <> ''
		RETURNING type, name, occurred_at`), contact, anon)
	if err != nil {
		return fmt.Errorf("merge history of %q: %w", anon, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m alinea.Message
		var occ int64
		if err := rows.Scan(&m.Type, &m.Event, &occ); err != nil {
			return fmt.Errorf("merge history of %q: %w", anon, err)
		}
		b.addActivity(contact, m.ActivityKey(), 1, occ, occ)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merge history of %q: %w", anon, err)
	}
	return nil
}

// traitColumns maps Segment's reserved traits (both spellings) to columns.
var traitColumns = map[string]string{
	"firstName": "first_name", "first_name": "first_name",
	"lastName": "last_name", "last_name": "last_name",
	"phone": "phone", "title": "job_title", "job_title": "job_title",
}

// contactTraits turns identify traits into contact fields. Traits that do
// not validate (a malformed phone, say) are dropped rather than stalling
// ingestion; the rest become custom properties.
func contactTraits(traits map[string]any, email string) alinea.ContactFields {
	f := alinea.ContactFields{}
	set := map[string]*string{}
	props := map[string]any{}
	for k, v := range traits {
		if col, ok := traitColumns[k]; ok {
			if str, ok := v.(string); ok {
				set[col] = &str
				continue
			}
		}
		switch k {
		case "email", "id", "userId":
			continue
		case "name":
			if str, ok := v.(string); ok && traits["firstName"] == nil && traits["first_name"] == nil {
				first, last, _ := strings.Cut(strings.TrimSpace(str), " ")
				set["first_name"], set["last_name"] = &first, &last
				continue
			}
		case "address":
			if addr, ok := v.(map[string]any); ok {
				if c, ok := addr["country"].(string); ok && len(c) == 2 {
					set["country"] = &c
				}
			}
		case "country":
			if c, ok := v.(string); ok && len(c) == 2 {
				set["country"] = &c
				continue
			}
		}
		props[k] = v
	}
	f.FirstName, f.LastName, f.Phone, f.JobTitle, f.Country = set["first_name"], set["last_name"], set["phone"], set["job_title"], set["country"]
	if email != "" {
		f.Email = &email
	}
	if len(props) > 0 {
		f.Properties, _ = json.Marshal(props)
	}
	if err := f.Validate(false); err != nil {
		// Bad traits (a malformed phone, say) must not stall ingestion:
		// drop the offending fields and keep the rest.
		for field := range alinea.ErrorFields(err) {
			switch field {
			case "phone":
				f.Phone = nil
			case "country":
				f.Country = nil
			case "email":
				f.Email = nil
			case "first_name":
				f.FirstName = nil
			case "last_name":
				f.LastName = nil
			case "job_title":
				f.JobTitle = nil
			}
		}
	}
	return f
}

func (s *Store) applyTraits(ctx context.Context, tx *sql.Tx, contact int64, traits map[string]any, email string) error {
	f := contactTraits(traits, email)
	cur, err := s.contactTx(ctx, tx, contact)
	if err != nil {
		return err
	}
	if f.Email != nil && cur.Email != "" {
		f.Email = nil // identify never steals or rewrites an address already set
	}
	if f.Email != nil {
		var other int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE email = ?`), *f.Email).Scan(&other)
		if err == nil && other != contact {
			f.Email = nil
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("apply traits: %w", err)
		}
	}
	return s.updateContact(ctx, tx, cur, f)
}

func (s *Store) linkGroup(ctx context.Context, tx *sql.Tx, contact int64, m *alinea.Message) error {
	var traits map[string]any
	if len(m.Traits) > 0 {
		_ = json.Unmarshal(m.Traits, &traits)
	}
	// A group call without a name trait must not rename a named account;
	// only a new account falls back to the group id as its name.
	name, _ := traits["name"].(string)
	domain := ""
	for _, k := range []string{"domain", "website"} {
		if v, ok := traits[k].(string); ok {
			if d, err := alinea.NormalizeDomain(v); err == nil && d != "" {
				domain = d
				break
			}
		}
	}
	industry, _ := traits["industry"].(string)
	employees := 0
	if v, ok := traits["employees"].(float64); ok && v >= 0 {
		employees = int(v)
	}
	var account int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM accounts WHERE external_id = ?`), m.GroupID).Scan(&account)
	if errors.Is(err, sql.ErrNoRows) && domain != "" {
		// An account created by domain now gets its group id; a domain that
		// another group id holds stays there.
		err = tx.QueryRowContext(ctx, s.q(`UPDATE accounts SET external_id = ? WHERE domain = ? AND external_id IS NULL RETURNING id`), m.GroupID, domain).Scan(&account)
		if errors.Is(err, sql.ErrNoRows) {
			taken, terr := s.exists(ctx, tx, `SELECT 1 FROM accounts WHERE domain = ?`, domain)
			if terr != nil {
				return fmt.Errorf("group %q: %w", m.GroupID, terr)
			}
			if taken {
				domain = ""
			}
		}
	}
	now := ms(s.now())
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO accounts (name, domain, external_id, industry, employees, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), cmp.Or(name, m.GroupID), nullStr(domain), m.GroupID, industry, employees, now, now).Scan(&account)
	} else if err == nil {
		_, err = tx.ExecContext(ctx, s.q(`UPDATE accounts SET name = CASE WHEN ? <> '' THEN ? ELSE name END,
			industry = CASE WHEN ? <> '' THEN ? ELSE industry END, employees = CASE WHEN ? > 0 THEN ? ELSE employees END, updated_at = ? WHERE id = ?`),
			name, name, industry, industry, employees, employees, now, account)
	}
	if err != nil {
		return fmt.Errorf("group %q: %w", m.GroupID, mapErr(err))
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET account_id = ?, updated_at = ? WHERE id = ?`), account, now, contact); err != nil {
		return fmt.Errorf("group %q: %w", m.GroupID, err)
	}
	return nil
}

const eventInsertColumns = 16

// insertEvents writes events with multi-row inserts; duplicates by message
// id are skipped and counted.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, b *batchState, writeKeyID int64, rows []eventRow) (alinea.IngestResult, error) {
	var res alinea.IngestResult
	const chunk = 500
	received := ms(s.now())
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var q strings.Builder
		q.WriteString(`INSERT INTO events (message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
			utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at) VALUES `)
		args := make([]any, 0, len(part)*eventInsertColumns)
		for i, r := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			m := r.msg
			rec := received
			if !m.ReceivedAt.IsZero() {
				rec = ms(m.ReceivedAt)
			}
			args = append(args, m.MessageID, nullID(writeKeyID), m.Type, m.Event, nullID(r.contact), m.AnonymousID, m.UserID,
				jsonOr(m.Properties), jsonOr(m.Context), m.UTM.Source, m.UTM.Medium, m.UTM.Campaign, m.UTM.Term, m.UTM.Content, r.occ, rec)
		}
		q.WriteString(` ON CONFLICT (message_id) DO NOTHING RETURNING message_id`)
		result, err := tx.QueryContext(ctx, s.q(q.String()), args...)
		if err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		stored := make(map[string]bool, len(part))
		for result.Next() {
			var id string
			if err := result.Scan(&id); err != nil {
				result.Close()
				return res, fmt.Errorf("insert events: %w", err)
			}
			stored[id] = true
		}
		result.Close()
		if err := result.Err(); err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		for _, r := range part {
			if !stored[r.msg.MessageID] {
				res.Duplicates++
				continue
			}
			delete(stored, r.msg.MessageID) // a repeated id within the batch counts once
			res.Stored++
			if r.contact != 0 {
				key := r.msg.ActivityKey()
				b.addActivity(r.contact, key, 1, r.occ, r.occ)
				b.touched[r.contact] = append(b.touched[r.contact], touch{typ: key, at: fromMS(r.occ)})
			}
		}
	}
	return res, nil
}

func (s *Store) flushActivity(ctx context.Context, tx *sql.Tx, b *batchState) error {
	if len(b.activity) == 0 {
		return nil
	}
	least, greatest := "min", "max"
	if s.backend == Postgres {
		least, greatest = "LEAST", "GREATEST"
	}
	// Rows are written in key order so that concurrent batches touching the
	// same contacts cannot deadlock.
	keys := make([]activityKey, 0, len(b.activity))
	for k := range b.activity {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y activityKey) int {
		return cmp.Or(cmp.Compare(x.contact, y.contact), strings.Compare(x.typ, y.typ))
	})
	const chunk = 200
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		var q strings.Builder
		q.WriteString(`INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at) VALUES `)
		args := make([]any, 0, len(part)*5)
		for i, k := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?)")
			d := b.activity[k]
			args = append(args, k.contact, k.typ, d.count, d.first, d.last)
		}
		q.WriteString(` ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
		first_at = ` + least + `(contact_activity.first_at, excluded.first_at), last_at = ` + greatest + `(contact_activity.last_at, excluded.last_at)`)
		if _, err := tx.ExecContext(ctx, s.q(q.String()), args...); err != nil {
			return fmt.Errorf("update activity of %d contacts: %w", len(part), err)
		}
	}
	return nil
}

func jsonOr(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "{}"
	}
	return string(raw)
}

func strPtr(s string) *string { return &s }

func nullPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
