package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/alinea-crm/alinea"
)

// This file writes what a batch resolved in a few multi-row statements:
// a row at a time, a new contact cost its insert and its first transition
// (on PostgreSQL two round trips), which made first-sight identifies the
// most expensive calls of all.

// flushPending writes the contacts and anonymous-id links recorded since
// the last flush. It runs before any statement that could read or refer to
// them, and once when the batch is resolved.
func (s *Store) flushPending(ctx context.Context, tx *sql.Tx, b *batchState) error {
	if len(b.pending) > 0 {
		if err := s.insertPendingContacts(ctx, tx, b); err != nil {
			return err
		}
	}
	if len(b.pendingLinks) > 0 {
		if err := s.insertPendingLinks(ctx, tx, b); err != nil {
			return err
		}
	}
	return nil
}

const pendingContactColumns = 16

// insertPendingContacts inserts the new contacts with their first
// transition, as insertContact does one at a time, and maps their
// placeholders to their ids.
func (s *Store) insertPendingContacts(ctx context.Context, tx *sql.Tx, b *batchState) error {
	now := ms(s.now())
	stage := alinea.StageSubscriber
	// A new contact always has a user id or an email, both unique: the
	// returned rows are matched to the placeholders by them, as RETURNING
	// promises no order.
	byKey := make(map[string]int64, len(b.pending))
	for _, p := range b.pending {
		if ext := deref(p.fields.ExternalID); ext != "" {
			byKey["u"+ext] = p.placeholder
		} else {
			byKey["e"+deref(p.fields.Email)] = p.placeholder
		}
	}
	inserted := func(rows *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("insert new contacts: %w", mapErr(err))
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var ext, email sql.NullString
			if err := rows.Scan(&id, &ext, &email); err != nil {
				return fmt.Errorf("insert new contacts: %w", err)
			}
			key := "e" + email.String
			if ext.Valid {
				key = "u" + ext.String
			}
			if placeholder, ok := byKey[key]; ok {
				b.realIDs[placeholder] = id
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert new contacts: %w", mapErr(err))
		}
		return nil
	}
	props := func(f *alinea.ContactFields) string {
		if len(f.Properties) > 0 {
			return string(f.Properties)
		}
		return "{}"
	}
	if s.backend == Postgres {
		n := len(b.pending)
		col := func() []string { return make([]string, n) }
		email, ext, first, last, phone, title, country, source, properties := col(), col(), col(), col(), col(), col(), col(), col(), col()
		for i, p := range b.pending {
			f := &p.fields
			email[i], ext[i], first[i], last[i], phone[i] = deref(f.Email), deref(f.ExternalID), deref(f.FirstName), deref(f.LastName), deref(f.Phone)
			title[i], country[i], source[i], properties[i] = deref(f.JobTitle), deref(f.Country), deref(f.Source), props(f)
		}
		err := inserted(tx.QueryContext(ctx, `INSERT INTO contacts (email, external_id, first_name, last_name, phone, job_title,
				country, source, consent, stage, stage_changed_at, properties, created_at, updated_at)
			SELECT NULLIF(c.email, ''), NULLIF(c.external_id, ''), c.first_name, c.last_name, c.phone, c.job_title,
				c.country, c.source, $10, $11, $12, c.properties, $12, $12
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
				AS c(email, external_id, first_name, last_name, phone, job_title, country, source, properties)
			RETURNING id, external_id, email`,
			email, ext, first, last, phone, title, country, source, properties, alinea.ConsentUnknown, stage, now))
		if err != nil {
			return err
		}
	} else {
		start := 0
		for _, size := range statementSizes(len(b.pending), 128) {
			args := make([]any, 0, size*pendingContactColumns)
			for _, p := range b.pending[start : start+size] {
				f := &p.fields
				args = append(args, nullStr(deref(f.Email)), nullStr(deref(f.ExternalID)), deref(f.FirstName), deref(f.LastName), deref(f.Phone),
					deref(f.JobTitle), nil, deref(f.Country), deref(f.Source), nil, alinea.ConsentUnknown, stage, now, props(f), now, now)
			}
			start += size
			q := valuesSQL(`INSERT INTO contacts (email, external_id, first_name, last_name, phone, job_title, account_id,
				country, source, owner_id, consent, stage, stage_changed_at, properties, created_at, updated_at) VALUES`,
				size, pendingContactColumns, `RETURNING id, external_id, email`)
			if err := inserted(tx.QueryContext(ctx, q, args...)); err != nil {
				return err
			}
		}
	}
	ids := make([]int64, len(b.pending))
	for i, p := range b.pending {
		id, ok := b.realIDs[p.placeholder]
		if !ok {
			return fmt.Errorf("insert new contact %q: no id returned", cmp.Or(deref(p.fields.ExternalID), deref(p.fields.Email)))
		}
		ids[i] = id
		if ext := deref(p.fields.ExternalID); ext != "" {
			b.byUser[ext] = id
		}
		if email := deref(p.fields.Email); email != "" && b.byEmail[email] == p.placeholder {
			b.byEmail[email] = id
		}
	}
	b.pending = b.pending[:0]
	return s.insertCreatedTransitions(ctx, tx, ids, stage, now)
}

// createdWhy is the why of a contact's first transition.
const createdWhy = `{"event":"created"}`

func (s *Store) insertCreatedTransitions(ctx context.Context, tx *sql.Tx, ids []int64, stage alinea.Stage, now int64) error {
	if s.backend == Postgres {
		_, err := tx.ExecContext(ctx, `INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, why)
			SELECT t.id, '', $2, $3, $4, $5 FROM unnest($1::bigint[]) AS t(id)`, ids, stage, now, alinea.ActorSystem, createdWhy)
		if err != nil {
			return fmt.Errorf("record the first transition of %d new contacts: %w", len(ids), mapErr(err))
		}
		return nil
	}
	const columns = 6
	start := 0
	for _, size := range statementSizes(len(ids), 128) {
		args := make([]any, 0, size*columns)
		for _, id := range ids[start : start+size] {
			args = append(args, id, "", stage, now, alinea.ActorSystem, createdWhy)
		}
		start += size
		q := valuesSQL(`INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, why) VALUES`, size, columns, "")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("record the first transition of %d new contacts: %w", size, mapErr(err))
		}
	}
	return nil
}

// insertPendingLinks writes the anonymous ids linked in the batch. The
// batch found them free and (on PostgreSQL) locked them, so each insert
// must take; if one does not, another writer got there first and the batch
// fails with a conflict, which PostgreSQL's ingestion retries.
func (s *Store) insertPendingLinks(ctx context.Context, tx *sql.Tx, b *batchState) error {
	now := ms(s.now())
	anons, contacts := make([]string, len(b.pendingLinks)), make([]int64, len(b.pendingLinks))
	for i, l := range b.pendingLinks {
		contact := b.real(l.contact)
		b.byAnon[l.anon], b.newLinks[l.anon] = contact, contact
		anons[i], contacts[i] = l.anon, contact
	}
	b.pendingLinks = b.pendingLinks[:0]
	check := func(res sql.Result, err error, n int) error {
		if err != nil {
			return fmt.Errorf("link %d anonymous ids: %w", n, mapErr(err))
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			return alinea.Errorf(alinea.ECONFLICT, "%d of %d anonymous ids were linked by another batch meanwhile", int64(n)-got, n)
		}
		return nil
	}
	if s.backend == Postgres {
		res, err := tx.ExecContext(ctx, `INSERT INTO identities (anonymous_id, contact_id, created_at)
			SELECT l.anonymous_id, l.contact_id, $3 FROM unnest($1::text[], $2::bigint[]) AS l(anonymous_id, contact_id)
			ON CONFLICT (anonymous_id) DO NOTHING`, anons, contacts, now)
		return check(res, err, len(anons))
	}
	start := 0
	for _, size := range statementSizes(len(anons), 128) {
		args := make([]any, 0, size*3)
		for i := start; i < start+size; i++ {
			args = append(args, anons[i], contacts[i], now)
		}
		start += size
		q := valuesSQL(`INSERT INTO identities (anonymous_id, contact_id, created_at) VALUES`, size, 3, `ON CONFLICT (anonymous_id) DO NOTHING`)
		res, err := tx.ExecContext(ctx, q, args...)
		if err := check(res, err, size); err != nil {
			return err
		}
	}
	return nil
}

// insertEvents writes the batch's events; duplicates by message id are
// skipped and counted. Stored events add to their contacts' activity and
// are noted for live evaluation.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, b *batchState, batch *ingestBatch, rows []eventRow) (alinea.IngestResult, error) {
	var res alinea.IngestResult
	if s.backend == Postgres {
		a := batch.pgEvents
		for i := range rows {
			a.contact[i] = rows[i].contact
		}
		if !batch.mayHaveDuplicates {
			// Almost every batch is all new events, and COPY costs
			// PostgreSQL less than an insert (with ON CONFLICT, which
			// probes the unique index before each row and inserts it
			// speculatively, or without). A duplicate fails the copy with
			// errDuplicateEvents, and the batch is run again with
			// mayHaveDuplicates set.
			if err := copyEvents(ctx, b.conn, batch.writeKeyID, a); err != nil {
				if isEventsUniqueViolation(err) {
					batch.mayHaveDuplicates = true
					return res, errDuplicateEvents
				}
				return res, fmt.Errorf("insert events: %w", err)
			}
			b.recordStored(&res, rows, nil)
			return res, nil
		}
		stored, err := s.queryStored(ctx, tx, len(rows), `INSERT INTO events (`+eventColumnList+`) `+pgEventRows+`
			ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
			nullID(batch.writeKeyID), a.messageID, a.typ, a.name, a.contact, a.anonymousID, a.userID, a.properties, a.context,
			a.utmSource, a.utmMedium, a.utmCampaign, a.utmTerm, a.utmContent, a.occurredAt, a.receivedAt)
		if err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		b.recordStored(&res, rows, stored)
		return res, nil
	}
	// SQLite: the events whose message ids are new are inserted; the
	// others are counted as duplicates (ingest_dedup.go).
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].msg.MessageID
	}
	var indexed map[string]bool
	if p := batch.pre; p != nil && p.indexedIDs != nil && p.moves == s.ingest.ids.moves.Load() {
		indexed = p.indexedIDs
	}
	fresh, err := s.ingest.ids.fresh(ctx, tx, ids, indexed)
	if err != nil {
		return res, fmt.Errorf("insert events: %w", err)
	}
	args := batch.sqliteArgs
	stored := rows
	if slices.Contains(fresh, false) {
		args = make([]any, 0, len(args))
		stored = make([]eventRow, 0, len(rows))
		for i := range rows {
			if fresh[i] {
				args = append(args, batch.sqliteArgs[i*eventInsertColumns:(i+1)*eventInsertColumns]...)
				stored = append(stored, rows[i])
			} else {
				res.Duplicates++
			}
		}
	}
	for start := 0; start < len(stored); start += maxEventRows {
		part := stored[start:min(start+maxEventRows, len(stored))]
		partArgs := args[start*eventInsertColumns : (start+len(part))*eventInsertColumns]
		for i := range part {
			partArgs[i*eventInsertColumns+eventContactColumn] = nullID(part[i].contact)
		}
		if _, err := tx.ExecContext(ctx, valuesSQL(`INSERT INTO events (`+eventColumnList+`) VALUES`, len(part), eventInsertColumns, ``), partArgs...); err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		b.recordStored(&res, part, nil)
	}
	return res, nil
}

// copyEvents copies a batch's events into PostgreSQL with COPY on conn's
// native connection, inside the transaction conn runs. The rows are
// written in COPY's binary format straight from the column arrays: pgx's
// CopyFrom encoded each value through its type map and a pipe, a tenth of
// the server's CPU time on this path (docs/BENCHMARKS.md).
func copyEvents(ctx context.Context, conn *sql.Conn, writeKeyID int64, a *eventArrays) error {
	data := appendEventCopy(nil, writeKeyID, a)
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy events: the connection is a %T, not pgx's", driverConn)
		}
		_, err := pc.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), eventCopySQL)
		return err
	})
}

// eventCopySQL copies rows in eventColumnList's order.
var eventCopySQL = `COPY events (` + strings.Join(strings.Fields(eventColumnList), " ") + `) FROM STDIN (FORMAT binary)`

// appendEventCopy appends a's rows to buf in PostgreSQL's binary COPY
// format (header, then per row the field count and each field as a length
// and its bytes, -1 for NULL, then the trailer), with the columns of
// eventColumnList: text as its UTF-8 bytes, bigint as 8 bytes big-endian,
// and a zero write key or contact id as NULL.
func appendEventCopy(buf []byte, writeKeyID int64, a *eventArrays) []byte {
	size := 19 + 2
	for i := range a.messageID {
		size += 2 + eventInsertColumns*4 + 4*8 + len(a.messageID[i]) + len(a.typ[i]) + len(a.name[i]) + len(a.anonymousID[i]) +
			len(a.userID[i]) + len(a.properties[i]) + len(a.context[i]) + len(a.utmSource[i]) + len(a.utmMedium[i]) +
			len(a.utmCampaign[i]) + len(a.utmTerm[i]) + len(a.utmContent[i])
	}
	buf = slices.Grow(buf, size)
	buf = append(buf, "PGCOPY\n\377\r\n\000"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension length
	text := func(buf []byte, v string) []byte {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
		return append(buf, v...)
	}
	bigint := func(buf []byte, v int64) []byte {
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	}
	id := func(buf []byte, v int64) []byte {
		if v == 0 {
			return binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF) // NULL
		}
		return bigint(buf, v)
	}
	for i := range a.messageID {
		buf = binary.BigEndian.AppendUint16(buf, eventInsertColumns)
		buf = text(buf, a.messageID[i])
		buf = id(buf, writeKeyID)
		buf = text(buf, a.typ[i])
		buf = text(buf, a.name[i])
		buf = id(buf, a.contact[i])
		buf = text(buf, a.anonymousID[i])
		buf = text(buf, a.userID[i])
		buf = text(buf, a.properties[i])
		buf = text(buf, a.context[i])
		buf = text(buf, a.utmSource[i])
		buf = text(buf, a.utmMedium[i])
		buf = text(buf, a.utmCampaign[i])
		buf = text(buf, a.utmTerm[i])
		buf = text(buf, a.utmContent[i])
		buf = bigint(buf, a.occurredAt[i])
		buf = bigint(buf, a.receivedAt[i])
	}
	return binary.BigEndian.AppendUint16(buf, 0xFFFF) // trailer
}

// pgEventRows selects a batch's events from its column arrays.
const pgEventRows = `SELECT e.message_id, $1::bigint, e.type, e.name, NULLIF(e.contact_id, 0), e.anonymous_id, e.user_id, e.properties, e.context,
		e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.occurred_at, e.received_at
	FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
		$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], $16::bigint[])
		AS e(message_id, type, name, contact_id, anonymous_id, user_id, properties, context,
			utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at)`

// errDuplicateEvents says that a batch inserted without ON CONFLICT met an
// event already stored; PostgreSQL's ingestion runs it again with it.
var errDuplicateEvents = errors.New("ingest: the batch repeats stored events")

// isEventsUniqueViolation reports whether err is a message id already in
// events (the table's only unique key besides its generated id).
func isEventsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.TableName == "events"
}

// maxEventRows bounds one SQLite insert statement (16 values a row).
const maxEventRows = 256

// queryStored runs an insert that returns the message ids it stored; nil
// means all n were stored.
func (s *Store) queryStored(ctx context.Context, tx *sql.Tx, n int, query string, args ...any) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]string, 0, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) == n {
		return nil, nil
	}
	stored := make(map[string]bool, len(ids))
	for _, id := range ids {
		stored[id] = true
	}
	return stored, nil
}

// recordStored counts rows as stored or duplicate (stored nil: all stored)
// and adds the stored ones to the activity and the contacts to evaluate.
func (b *batchState) recordStored(res *alinea.IngestResult, rows []eventRow, stored map[string]bool) {
	for _, r := range rows {
		if stored != nil {
			if !stored[r.msg.MessageID] {
				res.Duplicates++
				continue
			}
			delete(stored, r.msg.MessageID) // a repeated id within the batch counts once
		}
		res.Stored++
		if r.contact != 0 {
			key := r.msg.ActivityKey()
			b.activity.add(r.contact, key, 1, r.info.occ, r.info.occ)
			if b.evaluate {
				b.touched[r.contact] = append(b.touched[r.contact], touch{typ: key, at: fromMS(r.info.occ)})
			}
		}
	}
}

const activityColumns = 5

// flushActivity adds the changes in act to the contacts' activity
// summaries.
func (s *Store) flushActivity(ctx context.Context, tx *sql.Tx, act activity) error {
	if len(act) == 0 {
		return nil
	}
	keys := act.sortedKeys()
	if s.backend == Postgres {
		contacts, counts, firsts, lasts := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
		types := make([]string, len(keys))
		for i, k := range keys {
			d := act[k]
			contacts[i], types[i], counts[i], firsts[i], lasts[i] = k.contact, k.typ, d.count, d.first, d.last
		}
		// Appended, not upserted: see activity_fold.go.
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_activity_deltas (contact_id, event_type, count, first_at, last_at)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])`,
			contacts, types, counts, firsts, lasts)
		if err != nil {
			return fmt.Errorf("update activity of %d contacts: %w", len(keys), err)
		}
		s.fold.appended(len(keys))
		return nil
	}
	start := 0
	for _, size := range statementSizes(len(keys), 256) {
		args := make([]any, 0, size*activityColumns)
		for _, k := range keys[start : start+size] {
			d := act[k]
			args = append(args, k.contact, k.typ, d.count, d.first, d.last)
		}
		start += size
		q := valuesSQL(`INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at) VALUES`, size, activityColumns,
			`ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
			first_at = min(contact_activity.first_at, excluded.first_at), last_at = max(contact_activity.last_at, excluded.last_at)`)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("update activity of %d contacts: %w", size, err)
		}
	}
	return nil
}
