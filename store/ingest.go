package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

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
	var res alinea.IngestResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.ingestTx(ctx, tx, writeKeyID, msgs)
		return err
	})
	return res, err
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
}

// maxGroupEvents bounds one group commit so that latency stays low.
const maxGroupEvents = 5000

func newIngester(s *Store) *ingester {
	in := &ingester{s: s, reqs: make(chan *ingestRequest, 256), stop: make(chan struct{})}
	if s.backend == SQLite {
		in.wg.Add(1)
		go in.run()
	}
	return in
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

func (in *ingester) commit(group []*ingestRequest) {
	s := in.s
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.err = fmt.Errorf("ingest: begin: %w", err)
		}
		return
	}
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
	byUser   map[string]int64
	byAnon   map[string]int64
	byEmail  map[string]int64
	newLinks map[string]int64 // anonymous ids linked to a contact in this batch
	activity map[activityKey]*activityDelta
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
		byUser: map[string]int64{}, byAnon: map[string]int64{}, byEmail: map[string]int64{},
		newLinks: map[string]int64{}, activity: map[activityKey]*activityDelta{},
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
	return res, s.flushActivity(ctx, tx, b)
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
	switch {
	case m.UserID != "":
		id, err = s.contactByUser(ctx, tx, b, m.UserID, email)
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
		if len(traits) > 0 {
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

func (s *Store) contactByUser(ctx context.Context, tx *sql.Tx, b *batchState, userID, email string) (int64, error) {
	if id, ok := b.byUser[userID]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM contacts WHERE external_id = ?`), userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
		if email != "" {
			// A contact imported or created by email now gets its user id.
			err = tx.QueryRowContext(ctx, s.q(`UPDATE contacts SET external_id = ? WHERE email = ? AND external_id IS NULL RETURNING id`), userID, email).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				err = nil
			}
		}
		if err == nil && id == 0 {
			id, err = s.insertContact(ctx, tx, alinea.ContactFields{ExternalID: &userID, Email: nullPtr(email), Source: strPtr("tracking")}, alinea.Actor{Type: alinea.ActorSystem})
		}
	}
	if err != nil {
		return 0, fmt.Errorf("resolve user id %q: %w", userID, err)
	}
	b.byUser[userID] = id
	if email != "" {
		b.byEmail[email] = id
	}
	return id, nil
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
	rows, err := tx.QueryContext(ctx, s.q(`SELECT CASE WHEN type = 'track' AND name <> '' THEN name ELSE type END, count(*), min(occurred_at), max(occurred_at)
		FROM events WHERE anonymous_id = ? AND contact_id IS NULL AND anonymous_id <> '' GROUP BY 1`), anon)
	if err != nil {
		return fmt.Errorf("merge history of %q: %w", anon, err)
	}
	for rows.Next() {
		var typ string
		var n, first, last int64
		if err := rows.Scan(&typ, &n, &first, &last); err != nil {
			rows.Close()
			return fmt.Errorf("merge history of %q: %w", anon, err)
		}
		b.addActivity(contact, typ, n, first, last)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merge history of %q: %w", anon, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE events SET contact_id = ? WHERE anonymous_id = ? AND contact_id IS NULL AND anonymous_id <> ''`), contact, anon); err != nil {
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

func (s *Store) applyTraits(ctx context.Context, tx *sql.Tx, contact int64, traits map[string]any, email string) error {
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
	name, _ := traits["name"].(string)
	if name == "" {
		name = m.GroupID
	}
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
		err = tx.QueryRowContext(ctx, s.q(`UPDATE accounts SET external_id = ? WHERE domain = ? AND external_id IS NULL RETURNING id`), m.GroupID, domain).Scan(&account)
	}
	now := ms(s.now())
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO accounts (name, domain, external_id, industry, employees, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), name, nullStr(domain), m.GroupID, industry, employees, now, now).Scan(&account)
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
				b.addActivity(r.contact, r.msg.ActivityKey(), 1, r.occ, r.occ)
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
	q := s.q(`INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
		first_at = ` + least + `(contact_activity.first_at, excluded.first_at), last_at = ` + greatest + `(contact_activity.last_at, excluded.last_at)`)
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("update activity: %w", err)
	}
	defer stmt.Close()
	for k, d := range b.activity {
		if _, err := stmt.ExecContext(ctx, k.contact, k.typ, d.count, d.first, d.last); err != nil {
			return fmt.Errorf("update activity of contact %d: %w", k.contact, err)
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
