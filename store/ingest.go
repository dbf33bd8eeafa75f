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
	"strings"

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
// The work that needs no database (parsing traits, building the event rows)
// is done here, in the caller's goroutine, so that it runs beside the
// writer rather than on it.
//
// On SQLite, concurrent batches are group-committed by one writer goroutine:
// a transaction (and its fsync) serves many requests, and each request runs
// under its own savepoint so a failing batch does not take others with it.
func (s *Store) Ingest(ctx context.Context, writeKeyID int64, msgs []alinea.Message) (alinea.IngestResult, error) {
	if len(msgs) == 0 {
		return alinea.IngestResult{}, nil
	}
	batch := s.prepareBatch(writeKeyID, msgs)
	if s.backend == SQLite {
		s.preResolve(ctx, batch)
		return s.ingest.submit(ctx, batch)
	}
	// Concurrent batches that meet the same new user, anonymous id or
	// contact rows can collide on PostgreSQL (a unique violation, or a
	// deadlock when they lock rows in different orders); the batch is then
	// rolled back and run again, when it sees what the other committed.
	for attempt := 1; ; attempt++ {
		res, err := s.ingestPostgres(ctx, batch)
		if errors.Is(err, errDuplicateEvents) && attempt < maxIngestAttempts {
			continue // again, skipping the stored events
		}
		if err == nil || attempt == maxIngestAttempts || !concurrentWriteConflict(err) || ctx.Err() != nil {
			return res, err
		}
		s.log.Debug("ingest batch collided with another; retrying", "attempt", attempt, "err", err)
	}
}

const maxIngestAttempts = 5

// ingestPostgres stores a batch in one PostgreSQL transaction. It holds the
// connection itself so that the events can be copied in on the native pgx
// connection under the transaction (see copyEvents).
func (s *Store) ingestPostgres(ctx context.Context, batch *ingestBatch) (alinea.IngestResult, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return alinea.IngestResult{}, fmt.Errorf("ingest: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return alinea.IngestResult{}, fmt.Errorf("ingest: begin: %w", err)
	}
	// Before any contact is looked up: a contact deleted meanwhile is then
	// either gone from what the look-ups see, or its delete waits for this
	// batch and deletes what it wrote (migrations 00018 and 00021;
	// deleting contacts takes SHARE on the three tables). Other batches
	// take the same weak lock and do not wait for each other.
	if _, err := tx.ExecContext(ctx, `LOCK TABLE events, contact_activity, contact_activity_deltas IN ROW EXCLUSIVE MODE`); err != nil {
		_ = tx.Rollback()
		return alinea.IngestResult{}, fmt.Errorf("ingest: lock events: %w", err)
	}
	res, act, err := s.ingestTx(ctx, conn, tx, batch, true, -1)
	if err == nil {
		err = s.flushActivity(ctx, tx, act)
	}
	if err != nil {
		_ = tx.Rollback()
		return alinea.IngestResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return alinea.IngestResult{}, fmt.Errorf("ingest: commit: %w", mapErr(err))
	}
	return res, nil
}

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

// prefetch looks up the contacts of user ids, anonymous ids and emails in
// one statement, so that resolving a batch costs one query (one round trip
// on PostgreSQL) instead of one per call. Ids it does not find are
// recorded as absent.
func (s *Store) prefetch(ctx context.Context, tx *sql.Tx, b *batchState, users, anons, emails []string) error {
	if len(users)+len(anons)+len(emails) == 0 {
		return nil
	}
	var rows *sql.Rows
	var err error
	if s.backend == Postgres {
		// One index look-up per id, whatever the size of the tables. Asked
		// as "external_id = ANY($1)", PostgreSQL planned a scan of the whole
		// table, comparing every row with every id, as long as contacts
		// looked small to it (thousands of rows): on a database that starts
		// empty, as in `alinea bench`, up to a fifth of the server's time.
		// OFFSET 0 keeps each sub-select a look-up of its own.
		rows, err = tx.QueryContext(ctx, `SELECT 'u', k, c.id FROM unnest($1::text[]) AS k,
				LATERAL (SELECT id FROM contacts WHERE external_id = k OFFSET 0) AS c
			UNION ALL SELECT 'a', k, i.contact_id FROM unnest($2::text[]) AS k,
				LATERAL (SELECT contact_id FROM identities WHERE anonymous_id = k OFFSET 0) AS i
			UNION ALL SELECT 'e', k, c.id FROM unnest($3::text[]) AS k,
				LATERAL (SELECT id FROM contacts WHERE email = k OFFSET 0) AS c`,
			nonNil(users), nonNil(anons), nonNil(emails))
	} else {
		query, args := sqliteLookup(lookupList{userLookup, users}, lookupList{anonLookup, anons}, lookupList{emailLookup, emails})
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("look up user ids, anonymous ids and emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, key string
		var id int64
		if err := rows.Scan(&kind, &key, &id); err != nil {
			return fmt.Errorf("look up user ids, anonymous ids and emails: %w", err)
		}
		switch kind {
		case "u":
			b.byUser[key] = id
			delete(b.absentUsers, key)
		case "a":
			b.byAnon[key] = id
		case "e":
			b.byEmail[key] = id
			delete(b.freeEmails, key)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up user ids, anonymous ids and emails: %w", err)
	}
	return nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// A lookupList is ids to look up with the select (up to "IN") that finds
// them; each select returns a kind letter, the id and a number.
type lookupList struct {
	sel string
	ids []string
}

const (
	userLookup      = `SELECT 'u', external_id, id FROM contacts WHERE external_id`
	anonLookup      = `SELECT 'a', anonymous_id, contact_id FROM identities WHERE anonymous_id`
	emailLookup     = `SELECT 'e', email, id FROM contacts WHERE email`
	messageIDLookup = `SELECT 'm', message_id, 0 FROM event_message_ids WHERE message_id`
)

// sqliteLookup builds one statement for SQLite that looks all the lists
// up. Each list is padded with its last id to a power of two, so that a
// few statement texts, each prepared once and cached, serve every batch.
func sqliteLookup(lists ...lookupList) (string, []any) {
	var q strings.Builder
	var args []any
	for _, l := range lists {
		if len(l.ids) == 0 {
			continue
		}
		n := 1
		for n < len(l.ids) {
			n *= 2
		}
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(l.sel)
		q.WriteString(" IN (?")
		q.WriteString(strings.Repeat(",?", n-1))
		q.WriteByte(')')
		for i := range n {
			args = append(args, l.ids[min(i, len(l.ids)-1)])
		}
	}
	return q.String(), args
}

// batchState caches lookups within one transaction.
type batchState struct {
	byUser      map[string]int64
	absentUsers map[string]bool // user ids known not to exist yet
	byAnon      map[string]int64
	byEmail     map[string]int64
	freeEmails  map[string]bool  // identify emails no contact had when the batch began
	newLinks    map[string]int64 // anonymous ids linked to a contact in this batch
	activity    activity
	// touched holds each contact's newly stored events, and rebuild the
	// contacts whose history changed otherwise (merged anonymous events),
	// for live evaluation under the active agreement.
	touched  map[int64][]touch
	rebuild  map[int64]bool
	evaluate bool // an agreement may be active: note what to evaluate
	// activityThrough is the last event the SQLite activity summaries
	// count (ingest_activity.go): merged events up to it go into
	// mergedActivity, written with the batch, later ones into activity
	// with the stored events. -1 on PostgreSQL: all into activity.
	activityThrough int64
	mergedActivity  activity
	// conn is the PostgreSQL connection under the transaction (nil on
	// SQLite).
	conn *sql.Conn

	// New contacts and anonymous-id links are not written one by one as
	// the batch is resolved but together (see flushPending). Until then a
	// new contact is known by a negative placeholder id; realIDs maps the
	// placeholders already written to the contacts' ids.
	pending      []pendingContact
	pendingLinks []pendingLink
	placeholders int64
	realIDs      map[int64]int64
}

type pendingContact struct {
	placeholder int64
	fields      alinea.ContactFields
}

type pendingLink struct {
	anon    string
	contact int64
}

// newBatchState sizes the maps for batch, so that filling them does not
// grow them on SQLite's single writer.
func newBatchState(batch *ingestBatch) *batchState {
	users, anons, emails := len(batch.users), len(batch.anons), len(batch.emails)
	return &batchState{
		byUser: make(map[string]int64, users), absentUsers: make(map[string]bool, users), byAnon: make(map[string]int64, anons),
		byEmail: make(map[string]int64, emails), freeEmails: make(map[string]bool, emails),
		newLinks: map[string]int64{}, activity: make(activity, users+1), touched: map[int64][]touch{}, rebuild: map[int64]bool{}, realIDs: map[int64]int64{},
	}
}

// newContact records a contact to be created and returns its placeholder id.
func (b *batchState) newContact(f alinea.ContactFields) int64 {
	b.placeholders++
	placeholder := -b.placeholders
	b.pending = append(b.pending, pendingContact{placeholder: placeholder, fields: f})
	return placeholder
}

// real returns the id of a contact that may have been known by its
// placeholder; the placeholder must have been written.
func (b *batchState) real(id int64) int64 {
	if id < 0 {
		return b.realIDs[id]
	}
	return id
}

func (b *batchState) addActivity(contact int64, typ string, count, first, last int64) {
	b.activity.add(contact, typ, count, first, last)
}

type eventRow struct {
	msg     *alinea.Message
	info    *msgInfo
	contact int64
}

// ingestTx stores one batch in tx and returns the activity it adds, which
// the caller writes (flushActivity), once per request or once per group.
// evaluate false says that no agreement is active, so the contacts the
// batch touched need no live evaluation.
//
// On PostgreSQL conn is the connection tx runs on, for the statements that
// only the native driver offers; it is nil on SQLite.
func (s *Store) ingestTx(ctx context.Context, conn *sql.Conn, tx *sql.Tx, batch *ingestBatch, evaluate bool, activityThrough int64) (alinea.IngestResult, activity, error) {
	b := newBatchState(batch)
	b.evaluate = evaluate
	b.conn = conn
	b.activityThrough = activityThrough
	for _, user := range batch.users {
		b.absentUsers[user] = true
	}
	for _, email := range batch.emails {
		b.freeEmails[email] = true
	}
	for _, anon := range batch.anons {
		b.byAnon[anon] = 0 // unlinked until found
	}
	var err error
	if s.backend == SQLite {
		err = s.prefetchSQLite(ctx, tx, b, batch)
	} else {
		err = s.prefetch(ctx, tx, b, batch.users, batch.anons, batch.emails)
	}
	if err != nil {
		return alinea.IngestResult{}, nil, err
	}
	msgs := batch.msgs
	if s.backend == Postgres {
		if err := s.lockIdentities(ctx, tx, b, msgs, batch.emails); err != nil {
			return alinea.IngestResult{}, nil, err
		}
	}
	rows := make([]eventRow, len(msgs))
	for i := range msgs {
		m, info := &msgs[i], &batch.info[i]
		id, err := s.resolveMessage(ctx, tx, b, m, info)
		if err != nil {
			return alinea.IngestResult{}, nil, fmt.Errorf("ingest message %q: %w", m.MessageID, err)
		}
		rows[i] = eventRow{msg: m, info: info, contact: id}
	}
	if err := s.flushPending(ctx, tx, b); err != nil {
		return alinea.IngestResult{}, nil, err
	}
	for i := range rows {
		r := &rows[i]
		r.contact = b.real(r.contact)
		// Calls that came before an identify in the same batch belong to
		// the contact too.
		if r.contact == 0 && r.msg.AnonymousID != "" {
			r.contact = b.newLinks[r.msg.AnonymousID]
		}
	}
	if err := s.mergeAnonymousHistories(ctx, tx, b); err != nil {
		return alinea.IngestResult{}, nil, err
	}
	if err := s.flushActivity(ctx, tx, b.mergedActivity); err != nil {
		return alinea.IngestResult{}, nil, err
	}
	res, err := s.insertEvents(ctx, tx, b, batch, rows)
	if err != nil {
		return res, nil, err
	}
	if evaluate {
		if err := s.evaluateBatch(ctx, tx, b); err != nil {
			return res, nil, err
		}
	}
	return res, b.activity, nil
}

// resolveMessage finds or creates the contact a message is about and applies
// identify traits, group and alias links. The id it returns may be a new
// contact's placeholder.
func (s *Store) resolveMessage(ctx context.Context, tx *sql.Tx, b *batchState, m *alinea.Message, info *msgInfo) (int64, error) {
	traits, email := info.traits, info.email
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
			if err := s.applyTraits(ctx, tx, b, id, traits, email); err != nil {
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
			if err := s.linkGroup(ctx, tx, b, id, m); err != nil {
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
		if err = s.flushPending(ctx, tx, b); err == nil {
			err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE external_id = ?`), userID).Scan(&id)
		}
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
	_, takenInBatch := b.byEmail[email]
	if email != "" && (!b.freeEmails[email] || takenInBatch) {
		// The address is some contact's already: the database must show
		// the contacts this batch made before it is asked.
		if err := s.flushPending(ctx, tx, b); err != nil {
			return 0, false, err
		}
		var id int64
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
	id := b.newContact(f)
	if email != "" {
		b.byEmail[email] = id
	}
	return id, len(traits) > 0, nil
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
	err := sql.ErrNoRows
	if !b.freeEmails[email] {
		if err = s.flushPending(ctx, tx, b); err == nil {
			err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE email = ?`), email).Scan(&id)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		id, err = b.newContact(alinea.ContactFields{Email: &email, Source: strPtr("tracking")}), nil
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
	if err := s.flushPending(ctx, tx, b); err != nil {
		return 0, err
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
// an anonymous id is linked to keeps it. The batch looked every anonymous
// id up before it was resolved (and, on PostgreSQL, holds a lock on the
// ones that were free), so a free id's link is only recorded here and
// written with the batch's other new rows.
func (s *Store) linkAnonymous(ctx context.Context, tx *sql.Tx, b *batchState, anon string, contact int64) error {
	cur, known := b.byAnon[anon]
	if known && cur != 0 {
		return nil
	}
	if known {
		b.pendingLinks = append(b.pendingLinks, pendingLink{anon: anon, contact: contact})
		b.newLinks[anon] = contact
		b.byAnon[anon] = contact
		return nil
	}
	if err := s.flushPending(ctx, tx, b); err != nil {
		return err
	}
	contact = b.real(contact)
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (anonymous_id, contact_id, created_at) VALUES (?, ?, ?) ON CONFLICT (anonymous_id) DO NOTHING`), anon, contact, ms(s.now()))
	if err != nil {
		return fmt.Errorf("link anonymous id %q: %w", anon, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		b.newLinks[anon] = contact
		b.byAnon[anon] = contact
		return nil
	}
	_, err = s.contactByAnon(ctx, tx, b, anon)
	delete(b.byAnon, anon)
	return err
}

// mergeAnonymousHistories gives each newly identified contact the events
// its anonymous id produced before, and counts them in its activity. On
// PostgreSQL one statement (one round trip) serves every link.
func (s *Store) mergeAnonymousHistories(ctx context.Context, tx *sql.Tx, b *batchState) error {
	if len(b.newLinks) == 0 {
		return nil
	}
	if s.backend != Postgres {
		for anon, contact := range b.newLinks {
			if err := s.mergeAnonymousHistory(ctx, tx, b, anon, contact); err != nil {
				return err
			}
		}
		return nil
	}
	anons, contacts := make([]string, 0, len(b.newLinks)), make([]int64, 0, len(b.newLinks))
	for anon, contact := range b.newLinks {
		anons, contacts = append(anons, anon), append(contacts, contact)
		b.rebuild[contact] = true
	}
	rows, err := tx.QueryContext(ctx, `UPDATE events SET contact_id = m.contact_id
		FROM unnest($1::text[], $2::bigint[]) AS m(anonymous_id, contact_id)
		WHERE events.anonymous_id = m.anonymous_id AND events.contact_id IS NULL AND events.anonymous_id <> ''
		RETURNING events.contact_id, events.type, events.name, events.occurred_at`, anons, contacts)
	if err != nil {
		return fmt.Errorf("merge the history of %d anonymous ids: %w", len(anons), err)
	}
	defer rows.Close()
	for rows.Next() {
		var m alinea.Message
		var contact, occ int64
		if err := rows.Scan(&contact, &m.Type, &m.Event, &occ); err != nil {
			return fmt.Errorf("merge the history of %d anonymous ids: %w", len(anons), err)
		}
		b.addActivity(contact, m.ActivityKey(), 1, occ, occ)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merge the history of %d anonymous ids: %w", len(anons), err)
	}
	return nil
}

// mergeAnonymousHistory merges one anonymous id's history on SQLite.
func (s *Store) mergeAnonymousHistory(ctx context.Context, tx *sql.Tx, b *batchState, anon string, contact int64) error {
	b.rebuild[contact] = true
	rows, err := tx.QueryContext(ctx, s.q(`UPDATE events SET contact_id = ? WHERE anonymous_id = ? AND contact_id IS NULL AND anonymous_id <> ''
		RETURNING id, type, name, occurred_at`), contact, anon)
	if err != nil {
		return fmt.Errorf("merge history of %q: %w", anon, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m alinea.Message
		var id, occ int64
		if err := rows.Scan(&id, &m.Type, &m.Event, &occ); err != nil {
			return fmt.Errorf("merge history of %q: %w", anon, err)
		}
		if id <= b.activityThrough {
			if b.mergedActivity == nil {
				b.mergedActivity = activity{}
			}
			b.mergedActivity.add(contact, m.ActivityKey(), 1, occ, occ)
			continue
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

// applyTraits updates a contact with the traits of an identify call.
func (s *Store) applyTraits(ctx context.Context, tx *sql.Tx, b *batchState, contact int64, traits map[string]any, email string) error {
	if err := s.flushPending(ctx, tx, b); err != nil {
		return err
	}
	contact = b.real(contact)
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
	if err := s.updateContact(ctx, tx, cur, f); err != nil {
		return err
	}
	if f.Email != nil {
		// Later calls in the batch must not make another contact with it.
		b.byEmail[*f.Email] = contact
	}
	return nil
}

func (s *Store) linkGroup(ctx context.Context, tx *sql.Tx, b *batchState, contact int64, m *alinea.Message) error {
	if err := s.flushPending(ctx, tx, b); err != nil {
		return err
	}
	contact = b.real(contact)
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
