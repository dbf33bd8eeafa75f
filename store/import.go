package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/alinea-crm/alinea"
)

// Rows per multi-row statement: 16 columns × 500 rows stays well under
// SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const (
	upsertChunk     = 500
	transitionChunk = 1000
	lookupChunk     = 500
)

// upsertColumns are the columns an import writes, in VALUES order.
const upsertColumns = `email, external_id, first_name, last_name, phone, job_title, account_id, country, source,
	owner_id, consent, stage, stage_changed_at, properties, created_at, updated_at`

const upsertWidth = 16

// An import never clears a field: an empty value, an unknown consent or a
// missing id leaves the stored value alone, so a sparse file cannot wipe data.
// Stage and properties are decided in Go (under the row lock) and written as given.
const upsertUpdateSet = ` ON CONFLICT (email) DO UPDATE SET
	external_id = COALESCE(excluded.external_id, contacts.external_id),
	first_name = CASE excluded.first_name WHEN '' THEN contacts.first_name ELSE excluded.first_name END,
	last_name = CASE excluded.last_name WHEN '' THEN contacts.last_name ELSE excluded.last_name END,
	phone = CASE excluded.phone WHEN '' THEN contacts.phone ELSE excluded.phone END,
	job_title = CASE excluded.job_title WHEN '' THEN contacts.job_title ELSE excluded.job_title END,
	country = CASE excluded.country WHEN '' THEN contacts.country ELSE excluded.country END,
	source = CASE excluded.source WHEN '' THEN contacts.source ELSE excluded.source END,
	account_id = COALESCE(excluded.account_id, contacts.account_id),
	owner_id = COALESCE(excluded.owner_id, contacts.owner_id),
	consent = CASE excluded.consent WHEN 'unknown' THEN contacts.consent ELSE excluded.consent END,
	stage = excluded.stage,
	stage_changed_at = CASE WHEN excluded.stage = contacts.stage THEN contacts.stage_changed_at ELSE excluded.stage_changed_at END,
	properties = excluded.properties,
	updated_at = excluded.updated_at`

// UpsertContacts writes a batch of contacts matched by normalised email, in
// one transaction. New contacts are inserted with their first transition (the
// given stage or subscriber); existing ones get the given fields (empty values
// leave a field alone) and their properties merged key by key. A stage given
// for an existing contact is applied only when it is a valid forward move and
// is recorded as a transition by actor; otherwise it becomes a warning and the
// rest of the row is still written. Every row is validated as the API does
// (ContactFields.Validate(true)) and must have an email. Rows that are invalid
// or break a constraint (an external_id taken by another contact, an unknown
// owner id) are returned in Rejected; the other rows are written. Later rows
// win over earlier rows with the same email.
func (s *Store) UpsertContacts(ctx context.Context, batch []alinea.ContactFields, actor alinea.Actor) (alinea.UpsertResult, error) {
	return s.upsertContacts(ctx, batch, actor, true)
}

// UpsertCheckedContacts is UpsertContacts for rows that have passed
// ContactFields.Validate(true) already, which it does not repeat. The CSV
// importer validates each row as it reads it, beside the writes; validating
// again on the single write path cost an import ~9% of its rows per second
// (docs/BENCHMARKS.md). Constraints are still checked by the database.
func (s *Store) UpsertCheckedContacts(ctx context.Context, batch []alinea.ContactFields, actor alinea.Actor) (alinea.UpsertResult, error) {
	return s.upsertContacts(ctx, batch, actor, false)
}

func (s *Store) upsertContacts(ctx context.Context, batch []alinea.ContactFields, actor alinea.Actor, validate bool) (alinea.UpsertResult, error) {
	var res alinea.UpsertResult
	rows := make([]upsertRow, 0, len(batch))
	for i := range batch {
		f := batch[i]
		if validate {
			if err := f.Validate(true); err != nil {
				res.Rejected = append(res.Rejected, rowProblems(i, err)...)
				continue
			}
		}
		if f.Email == nil || *f.Email == "" {
			res.Rejected = append(res.Rejected, alinea.RowProblem{Index: i, Field: "email", Message: "is required: imports match contacts by email"})
			continue
		}
		rows = append(rows, upsertRow{index: i, f: f})
	}
	if len(rows) == 0 {
		return res, nil
	}
	now := ms(s.now())
	var u *upserter
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u = &upserter{s: s, tx: tx, actor: actor, now: now, stmts: map[string]*sql.Stmt{}}
		if err := u.rows(ctx, rows); err != nil {
			return err
		}
		return s.evaluateImported(ctx, tx, rows)
	})
	if err != nil && alinea.ErrorCode(err) == alinea.EINTERNAL {
		return alinea.UpsertResult{}, fmt.Errorf("upsert contacts: %w", err)
	}
	if err != nil {
		// A row broke a constraint and took the batch statement with it:
		// redo the batch row by row so that only the culprits are left out.
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			u = &upserter{s: s, tx: tx, actor: actor, now: now, stmts: map[string]*sql.Stmt{}}
			if err := u.eachRow(ctx, rows); err != nil {
				return err
			}
			return s.evaluateImported(ctx, tx, rows)
		})
		if err != nil {
			return alinea.UpsertResult{}, fmt.Errorf("upsert contacts: %w", err)
		}
	}
	res.Created, res.Updated = u.created, u.updated
	res.Rejected = append(res.Rejected, u.rejected...)
	res.Warnings = u.warnings
	return res, nil
}

type upsertRow struct {
	index int // position in the caller's batch
	f     alinea.ContactFields
}

// upserter writes one batch inside one transaction and keeps the tally.
type upserter struct {
	s     *Store
	tx    *sql.Tx
	actor alinea.Actor
	now   int64
	// stmts holds the statements prepared in tx, by SQL: a 500-row VALUES
	// statement costs more to prepare than to run, so each is prepared once.
	stmts map[string]*sql.Stmt
	// nextID is the next free contact id (SQLite only).
	nextID int64
	// lookupFirst is set when most of the last chunk already existed.
	lookupFirst bool

	created, updated int
	rejected         []alinea.RowProblem
	warnings         []alinea.RowProblem
}

func (u *upserter) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := u.stmts[query]; ok {
		return st, nil
	}
	st, err := u.tx.PrepareContext(ctx, u.s.q(query))
	if err != nil {
		return nil, err
	}
	u.stmts[query] = st
	return st, nil
}

// write runs a statement that returns no rows. On SQLite it goes through
// Query because the driver binds a query's arguments in one cgo call but an
// Exec's in one call each, and these statements have thousands.
func (u *upserter) write(ctx context.Context, st *sql.Stmt, args []any) error {
	if u.s.backend != SQLite {
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return errors.Join(rows.Err(), rows.Close())
}

// eachRow writes rows one at a time, each under a savepoint, and rejects
// those that fail with a domain error (a constraint violation).
func (u *upserter) eachRow(ctx context.Context, rows []upsertRow) error {
	for i := range rows {
		if _, err := u.tx.ExecContext(ctx, "SAVEPOINT import_row"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		created, updated, warnings := u.created, u.updated, len(u.warnings)
		if err := u.rows(ctx, rows[i:i+1]); err != nil {
			if alinea.ErrorCode(err) == alinea.EINTERNAL {
				return err
			}
			if _, rerr := u.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_row"); rerr != nil {
				return fmt.Errorf("rollback to savepoint: %w", rerr)
			}
			u.created, u.updated, u.warnings = created, updated, u.warnings[:warnings]
			u.rejected = append(u.rejected, rowProblems(rows[i].index, err)...)
		}
		if _, err := u.tx.ExecContext(ctx, "RELEASE SAVEPOINT import_row"); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	return nil
}

func rowProblems(index int, err error) []alinea.RowProblem {
	fields := alinea.ErrorFields(err)
	if len(fields) == 0 {
		return []alinea.RowProblem{{Index: index, Message: alinea.ErrorMessage(err)}}
	}
	out := make([]alinea.RowProblem, 0, len(fields))
	for f, msg := range fields {
		out = append(out, alinea.RowProblem{Index: index, Field: f, Message: msg})
	}
	return out
}

// rows writes rows in runs with distinct emails, in order, so that a later
// row with the same email is applied after (and over) an earlier one.
func (u *upserter) rows(ctx context.Context, rows []upsertRow) error {
	seen := make(map[string]struct{}, len(rows))
	start := 0
	for i := range rows {
		email := *rows[i].f.Email
		if _, dup := seen[email]; dup {
			if err := u.run(ctx, rows[start:i], 0); err != nil {
				return err
			}
			clear(seen)
			start = i
		}
		seen[email] = struct{}{}
	}
	return u.run(ctx, rows[start:], 0)
}

// existingContact is what an upsert needs to know about a stored contact.
type existingContact struct {
	id         int64
	stage      alinea.Stage
	properties string
}

type newTransition struct {
	contactID int64
	from, to  alinea.Stage
	why       string
}

const (
	whyCreated  = `{"event":"created"}`
	whyImported = `{"event":"imported"}`
)

// run writes rows whose emails are distinct, a chunk at a time. Each chunk
// is inserted as new contacts, skipping emails already taken; those are then
// locked (FOR NO KEY UPDATE on PostgreSQL; SQLite's write lock is already held) and
// updated, so the stage checks and the property merge see the row they write
// over. A fresh import thus costs one statement per chunk and no lookups;
// once most rows of a chunk turn out to exist, the next chunk is looked up
// first instead, so that re-imports do not pay for inserts that do nothing.
func (u *upserter) run(ctx context.Context, rows []upsertRow, attempt int) error {
	// In email order the unique index is filled page by page instead of at
	// random; the emails are distinct, so the order changes nothing else.
	slices.SortFunc(rows, func(a, b upsertRow) int { return strings.Compare(*a.f.Email, *b.f.Email) })
	var transitions []newTransition
	for start := 0; start < len(rows); start += upsertChunk {
		if err := u.runChunk(ctx, rows[start:min(start+upsertChunk, len(rows))], attempt, &transitions); err != nil {
			return err
		}
	}
	return u.insertTransitions(ctx, transitions)
}

func (u *upserter) runChunk(ctx context.Context, rows []upsertRow, attempt int, transitions *[]newTransition) error {
	existing := map[string]existingContact{}
	insert := rows
	if u.lookupFirst {
		var err error
		if existing, err = u.lockByEmail(ctx, rows); err != nil {
			return err
		}
		if len(existing) > 0 {
			insert = make([]upsertRow, 0, len(rows)-len(existing))
			for _, r := range rows {
				if _, ok := existing[*r.f.Email]; !ok {
					insert = append(insert, r)
				}
			}
		}
	}
	ids, err := u.insertNew(ctx, insert)
	if err != nil {
		return err
	}
	var taken []upsertRow
	for i, r := range insert {
		if ids[i] == 0 {
			taken = append(taken, r)
			continue
		}
		stage := alinea.StageSubscriber
		if r.f.Stage != nil {
			stage = *r.f.Stage
		}
		*transitions = append(*transitions, newTransition{contactID: ids[i], to: stage, why: whyCreated})
	}
	u.created += len(insert) - len(taken)
	if len(taken) > 0 {
		more, err := u.lockByEmail(ctx, taken)
		if err != nil {
			return err
		}
		maps.Copy(existing, more)
	}
	u.lookupFirst = 2*len(existing) > len(rows)
	if len(existing) == 0 {
		return nil
	}

	var known, gone []upsertRow
	var vals []upsertValues
	for _, r := range rows {
		cur, ok := existing[*r.f.Email]
		if !ok {
			continue
		}
		v := upsertValues{stage: cur.stage, properties: cur.properties}
		if r.f.Stage != nil && *r.f.Stage != cur.stage {
			if err := alinea.CheckTransition(cur.stage, *r.f.Stage, ""); err != nil {
				u.warnings = append(u.warnings, alinea.RowProblem{Index: r.index, Field: "stage",
					Message: fmt.Sprintf("left at %s: %s (moving back needs recycled or disqualified with a reason)", cur.stage, transitionMessage(err))})
			} else {
				v.stage = *r.f.Stage
				*transitions = append(*transitions, newTransition{contactID: cur.id, from: cur.stage, to: v.stage, why: whyImported})
			}
		}
		if len(r.f.Properties) > 0 {
			if v.properties, err = mergeProperties([]byte(cur.properties), r.f.Properties); err != nil {
				return err
			}
		}
		known = append(known, r)
		vals = append(vals, v)
	}
	for _, r := range taken {
		if _, ok := existing[*r.f.Email]; !ok {
			gone = append(gone, r) // deleted since the insert saw it (PostgreSQL)
		}
	}
	if err := u.update(ctx, known, vals); err != nil {
		return err
	}
	u.updated += len(known)
	if len(gone) > 0 {
		if attempt >= 3 {
			return fmt.Errorf("contact %s keeps appearing and disappearing under concurrent writes", *gone[0].f.Email)
		}
		return u.run(ctx, gone, attempt+1)
	}
	return nil
}

func transitionMessage(err error) string {
	var e *alinea.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// lockByEmail returns the stored contacts among rows' emails.
func (u *upserter) lockByEmail(ctx context.Context, rows []upsertRow) (map[string]existingContact, error) {
	found := make(map[string]existingContact, len(rows))
	lock := ""
	if u.s.backend == Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	args := make([]any, 0, min(len(rows), lookupChunk))
	for start := 0; start < len(rows); start += lookupChunk {
		chunk := rows[start:min(start+lookupChunk, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, *r.f.Email)
		}
		st, err := u.stmt(ctx, `SELECT id, email, stage, properties FROM contacts WHERE email IN (`+placeholders(len(chunk))+`)`+lock)
		if err != nil {
			return nil, fmt.Errorf("look up contacts by email: %w", err)
		}
		err = queryEach(ctx, st, args, func(r *sql.Rows) error {
			var c existingContact
			var email string
			if err := r.Scan(&c.id, &email, &c.stage, &c.properties); err != nil {
				return err
			}
			found[email] = c
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look up contacts by email: %w", err)
		}
	}
	return found, nil
}

func queryEach(ctx context.Context, st *sql.Stmt, args []any, fn func(*sql.Rows) error) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// upsertValues are the columns decided in Go for an existing contact.
type upsertValues struct {
	stage      alinea.Stage
	properties string
}

// appendContactArgs appends one row's VALUES arguments in upsertColumns order.
func appendContactArgs(args []any, f *alinea.ContactFields, stage alinea.Stage, props string, now int64) []any {
	consent := alinea.ConsentUnknown
	if f.Consent != nil {
		consent = *f.Consent
	}
	var account, owner any
	if f.AccountID != nil {
		account = nullID(*f.AccountID)
	}
	if f.OwnerID != nil {
		owner = nullID(*f.OwnerID)
	}
	return append(args, *f.Email, nullStr(deref(f.ExternalID)), deref(f.FirstName), deref(f.LastName), deref(f.Phone),
		deref(f.JobTitle), account, deref(f.Country), deref(f.Source), owner, string(consent), string(stage), now, props, now, now)
}

// insertNew inserts rows as new contacts, skipping emails already taken,
// and returns the new ids in rows' order, 0 for a skipped row.
func (u *upserter) insertNew(ctx context.Context, rows []upsertRow) ([]int64, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	width := upsertWidth
	columns := upsertColumns
	if u.s.backend == SQLite {
		// SQLite gets its ids from us: the write lock is held, so the next
		// free ids are known, and no RETURNING rows have to be read back —
		// on a fresh import that is a sixth of the work.
		width, columns = upsertWidth+1, "id, "+upsertColumns
		if u.nextID == 0 {
			if err := u.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM contacts`).Scan(&u.nextID); err != nil {
				return nil, fmt.Errorf("insert contacts: %w", err)
			}
		}
	}
	args := make([]any, 0, min(len(rows), upsertChunk)*width)
	for start := 0; start < len(rows); start += upsertChunk {
		end := min(start+upsertChunk, len(rows))
		args = args[:0]
		for i := start; i < end; i++ {
			f := &rows[i].f
			stage := alinea.StageSubscriber
			if f.Stage != nil {
				stage = *f.Stage
			}
			props := "{}"
			if len(f.Properties) > 0 {
				props = string(f.Properties)
			}
			if u.s.backend == SQLite {
				ids[i] = u.nextID + int64(i-start)
				args = append(args, ids[i])
			}
			args = appendContactArgs(args, f, stage, props, u.now)
		}
		q := `INSERT INTO contacts (` + columns + `) VALUES ` + valuesList(end-start, width) + ` ON CONFLICT (email) DO NOTHING`
		var err error
		if u.s.backend == SQLite {
			err = u.insertChunkSQLite(ctx, q, args, ids[start:end])
		} else {
			err = u.insertChunkReturning(ctx, q, args, rows[start:end], ids[start:end])
		}
		if err != nil {
			return nil, fmt.Errorf("insert contacts: %w", mapErr(err))
		}
	}
	return ids, nil
}

// insertChunkSQLite runs one insert whose ids were chosen by insertNew and
// clears the ids of the rows that were skipped because their email exists.
func (u *upserter) insertChunkSQLite(ctx context.Context, q string, args []any, ids []int64) error {
	lo, hi := ids[0], ids[len(ids)-1]
	u.nextID = hi + 1
	st, err := u.stmt(ctx, q)
	if err != nil {
		return err
	}
	if err := u.write(ctx, st, args); err != nil {
		return err
	}
	var n int64
	if err := u.tx.QueryRowContext(ctx, `SELECT changes()`).Scan(&n); err != nil || n == int64(len(ids)) {
		return err
	}
	inserted := make(map[int64]bool, n)
	st, err = u.stmt(ctx, `SELECT id FROM contacts WHERE id BETWEEN ? AND ?`)
	if err != nil {
		return err
	}
	err = queryEach(ctx, st, []any{lo, hi}, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		inserted[id] = true
		return err
	})
	for i, id := range ids {
		if !inserted[id] {
			ids[i] = 0
		}
	}
	return err
}

// insertChunkReturning runs one insert and reads the new ids back by email.
func (u *upserter) insertChunkReturning(ctx context.Context, q string, args []any, rows []upsertRow, ids []int64) error {
	st, err := u.stmt(ctx, q+` RETURNING id, email`)
	if err != nil {
		return err
	}
	byEmail := make(map[string]int64, len(rows))
	err = queryEach(ctx, st, args, func(r *sql.Rows) error {
		var id int64
		var email string
		err := r.Scan(&id, &email)
		byEmail[email] = id
		return err
	})
	for i := range rows {
		ids[i] = byEmail[*rows[i].f.Email]
	}
	return err
}

// update writes rows over existing contacts with INSERT ... ON CONFLICT DO UPDATE.
func (u *upserter) update(ctx context.Context, rows []upsertRow, vals []upsertValues) error {
	args := make([]any, 0, min(len(rows), upsertChunk)*upsertWidth)
	for start := 0; start < len(rows); start += upsertChunk {
		end := min(start+upsertChunk, len(rows))
		args = args[:0]
		for i := start; i < end; i++ {
			args = appendContactArgs(args, &rows[i].f, vals[i].stage, vals[i].properties, u.now)
		}
		st, err := u.stmt(ctx, `INSERT INTO contacts (`+upsertColumns+`) VALUES `+valuesList(end-start, upsertWidth)+upsertUpdateSet)
		if err != nil {
			return fmt.Errorf("update contacts: %w", err)
		}
		if err := u.write(ctx, st, args); err != nil {
			return fmt.Errorf("update contacts: %w", mapErr(err))
		}
	}
	return nil
}

func (u *upserter) insertTransitions(ctx context.Context, ts []newTransition) error {
	const width = 8
	args := make([]any, 0, min(len(ts), transitionChunk)*width)
	for start := 0; start < len(ts); start += transitionChunk {
		end := min(start+transitionChunk, len(ts))
		args = args[:0]
		for _, t := range ts[start:end] {
			args = append(args, t.contactID, string(t.from), string(t.to), u.now, string(u.actor.Type), nullID(u.actor.UserID), "", t.why)
		}
		st, err := u.stmt(ctx, `INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, actor_user_id, reason, why) VALUES `+
			valuesList(end-start, width))
		if err != nil {
			return fmt.Errorf("record transitions: %w", err)
		}
		if err := u.write(ctx, st, args); err != nil {
			return fmt.Errorf("record transitions: %w", mapErr(err))
		}
	}
	return nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// valuesList returns "(?, ?), (?, ?)" for rows × width parameters.
func valuesList(rows, width int) string {
	one := "(" + placeholders(width) + ")"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// evaluateImported re-evaluates a batch's contacts under the active
// agreement, in the batch's transaction: an import changes properties (a
// job title, a country) that fit rules and definitions read. Without an
// active agreement it costs one query.
func (s *Store) evaluateImported(ctx context.Context, tx *sql.Tx, rows []upsertRow) error {
	live, err := s.liveAgreementFor(ctx, tx)
	if err != nil || live == nil {
		return err
	}
	const perQuery = 500
	var ids []int64
	for start := 0; start < len(rows); start += perQuery {
		part := rows[start:min(start+perQuery, len(rows))]
		marks := strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = *r.f.Email
		}
		res, err := tx.QueryContext(ctx, s.q(`SELECT id FROM contacts WHERE email IN (`+marks+`) ORDER BY id`), args...)
		if err != nil {
			return fmt.Errorf("evaluate imported contacts: %w", err)
		}
		for res.Next() {
			var id int64
			if err := res.Scan(&id); err != nil {
				res.Close()
				return fmt.Errorf("evaluate imported contacts: %w", err)
			}
			ids = append(ids, id)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("evaluate imported contacts: %w", err)
		}
	}
	for _, id := range ids {
		if err := s.evaluateContact(ctx, tx, live, id, nil, false); err != nil {
			return err
		}
	}
	return nil
}
