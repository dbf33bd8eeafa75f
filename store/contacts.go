package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/alinea-crm/alinea"
)

const contactColumns = `id, email, external_id, first_name, last_name, phone, job_title, account_id, country, source,
	owner_id, consent, stage, stage_changed_at, properties, created_at, updated_at`

func scanContact(row interface{ Scan(...any) error }) (alinea.Contact, error) {
	var c alinea.Contact
	var email, extID sql.NullString
	var account, owner sql.NullInt64
	var props string
	var changed, created, updated int64
	err := row.Scan(&c.ID, &email, &extID, &c.FirstName, &c.LastName, &c.Phone, &c.JobTitle, &account, &c.Country, &c.Source,
		&owner, &c.Consent, &c.Stage, &changed, &props, &created, &updated)
	c.Email, c.ExternalID = email.String, extID.String
	c.AccountID, c.OwnerID = account.Int64, owner.Int64
	c.Properties = json.RawMessage(props)
	c.StageChangedAt, c.CreatedAt, c.UpdatedAt = fromMS(changed), fromMS(created), fromMS(updated)
	c.Mode = c.Stage.Mode()
	return c, err
}

// CreateContact validates and inserts a contact and records its first stage.
func (s *Store) CreateContact(ctx context.Context, f alinea.ContactFields, actor alinea.Actor) (alinea.Contact, error) {
	if err := f.Validate(true); err != nil {
		return alinea.Contact{}, err
	}
	var c alinea.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkContactRefs(ctx, tx, f); err != nil {
			return err
		}
		id, err := s.insertContact(ctx, tx, f, actor)
		if err != nil {
			return err
		}
		if err := s.reevaluate(ctx, tx, id); err != nil {
			return err
		}
		c, err = s.contactTx(ctx, tx, id)
		return err
	})
	return c, err
}

// insertContact inserts validated fields and the first transition.
func (s *Store) insertContact(ctx context.Context, tx *sql.Tx, f alinea.ContactFields, actor alinea.Actor) (int64, error) {
	now := ms(s.now())
	stage := alinea.StageSubscriber
	if f.Stage != nil {
		stage = *f.Stage
	}
	consent := alinea.ConsentUnknown
	if f.Consent != nil {
		consent = *f.Consent
	}
	props := "{}"
	if len(f.Properties) > 0 {
		props = string(f.Properties)
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO contacts (email, external_id, first_name, last_name, phone, job_title, account_id,
		country, source, owner_id, consent, stage, stage_changed_at, properties, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		nullStr(deref(f.Email)), nullStr(deref(f.ExternalID)), deref(f.FirstName), deref(f.LastName), deref(f.Phone), deref(f.JobTitle),
		nullID(derefID(f.AccountID)), deref(f.Country), deref(f.Source), nullID(derefID(f.OwnerID)), consent, stage, now, props, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert contact: %w", mapErr(err))
	}
	why, _ := json.Marshal(map[string]string{"event": "created"})
	if err := s.insertTransition(ctx, tx, id, "", stage, now, alinea.TransitionRequest{To: stage, Actor: actor, Why: why}); err != nil {
		return 0, err
	}
	return id, nil
}

// checkContactRefs names account_id or owner_id when they point nowhere,
// which a foreign-key violation alone would not.
func (s *Store) checkContactRefs(ctx context.Context, tx *sql.Tx, f alinea.ContactFields) error {
	return s.checkRefs(ctx, tx, "invalid contact", ref{"account_id", "accounts", derefID(f.AccountID)}, ref{"owner_id", "users", derefID(f.OwnerID)})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Contact returns one contact.
func (s *Store) Contact(ctx context.Context, id int64) (alinea.Contact, error) {
	return s.contactTx(ctx, s.rdb, id)
}

// contactTx reads one row in tx or, given s.rdb, outside a transaction.
func (s *Store) contactTx(ctx context.Context, tx rowQuerier, id int64) (alinea.Contact, error) {
	c, err := scanContact(tx.QueryRowContext(ctx, s.q(`SELECT `+contactColumns+` FROM contacts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contact", id)
	}
	if err != nil {
		return c, fmt.Errorf("get contact %d: %w", id, err)
	}
	return c, nil
}

// UpdateContact changes the given fields. Properties are merged key by key;
// a property set to null is removed.
func (s *Store) UpdateContact(ctx context.Context, id int64, f alinea.ContactFields) (alinea.Contact, error) {
	if err := f.Validate(false); err != nil {
		return alinea.Contact{}, err
	}
	var c alinea.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.contactTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.checkContactRefs(ctx, tx, f); err != nil {
			return err
		}
		if err := s.updateContact(ctx, tx, cur, f); err != nil {
			return err
		}
		if err := s.reevaluate(ctx, tx, id); err != nil {
			return err
		}
		c, err = s.contactTx(ctx, tx, id)
		return err
	})
	return c, err
}

func (s *Store) updateContact(ctx context.Context, tx *sql.Tx, cur alinea.Contact, f alinea.ContactFields) error {
	var sets []string
	var args []any
	set := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	if f.Email != nil {
		if *f.Email == "" && cur.ExternalID == "" && deref(f.ExternalID) == "" {
			return &alinea.Error{Code: alinea.EINVALID, Message: "invalid contact", Fields: map[string]string{"email": "cannot be removed from a contact without external_id"}}
		}
		set("email", nullStr(*f.Email))
	}
	if f.ExternalID != nil {
		set("external_id", nullStr(*f.ExternalID))
	}
	strs := []struct {
		col string
		v   *string
	}{{"first_name", f.FirstName}, {"last_name", f.LastName}, {"phone", f.Phone}, {"job_title", f.JobTitle}, {"country", f.Country}, {"source", f.Source}}
	for _, x := range strs {
		if x.v != nil {
			set(x.col, *x.v)
		}
	}
	if f.AccountID != nil {
		set("account_id", nullID(*f.AccountID))
	}
	if f.OwnerID != nil {
		set("owner_id", nullID(*f.OwnerID))
	}
	if f.Consent != nil {
		set("consent", *f.Consent)
	}
	if len(f.Properties) > 0 {
		merged, err := mergeProperties(cur.Properties, f.Properties)
		if err != nil {
			return err
		}
		set("properties", merged)
	}
	if len(sets) == 0 {
		return nil
	}
	set("updated_at", ms(s.now()))
	args = append(args, cur.ID)
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET `+strings.Join(sets, ", ")+` WHERE id = ?`), args...); err != nil {
		return fmt.Errorf("update contact %d: %w", cur.ID, mapErr(err))
	}
	return nil
}

// mergeProperties applies a JSON merge patch (RFC 7386, top level) to props.
func mergeProperties(cur, patch json.RawMessage) (string, error) {
	m := map[string]any{}
	if len(cur) > 0 {
		if err := json.Unmarshal(cur, &m); err != nil || m == nil {
			m = map[string]any{}
		}
	}
	var p map[string]any
	if err := json.Unmarshal(patch, &p); err != nil {
		return "", &alinea.Error{Code: alinea.EINVALID, Message: "invalid properties", Fields: map[string]string{"properties": "must be a JSON object"}}
	}
	for k, v := range p {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// DeleteContact removes a contact with its events, transitions and notes.
func (s *Store) DeleteContact(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "contacts", "contact", id)
}

// Contacts lists contacts matching f in id order, or from Before downwards
// in descending id order; the returned cursor is the last id of the page, 0
// when no more match in that direction. f.Search matches contacts whose
// first name, last name or email has words starting with each of its words,
// ignoring case and accents (contact_search.go).
func (s *Store) Contacts(ctx context.Context, f alinea.ContactFilter) ([]alinea.Contact, int64, error) {
	return s.contacts(ctx, f, s.searchWindow())
}

// contacts is Contacts with the number of indexed contacts a search checks
// one by one before it asks the index (tests force either way).
func (s *Store) contacts(ctx context.Context, f alinea.ContactFilter, window int) ([]alinea.Contact, int64, error) {
	var where []string
	var args []any
	if f.Email != "" {
		where = append(where, "email = ?")
		args = append(args, strings.ToLower(strings.TrimSpace(f.Email)))
	}
	if f.Stage != "" {
		where = append(where, "stage = ?")
		args = append(args, f.Stage)
	}
	if f.Mode != "" {
		stages := f.Mode.Stages()
		if len(stages) == 0 {
			return nil, 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid filter", Fields: map[string]string{"mode": "must be information, buy, customer or disqualified"}}
		}
		marks := make([]string, len(stages))
		for i, st := range stages {
			marks[i] = "?"
			args = append(args, st)
		}
		where = append(where, "stage IN ("+strings.Join(marks, ", ")+")")
	}
	if f.OwnerID != 0 {
		where = append(where, "owner_id = ?")
		args = append(args, f.OwnerID)
	}
	if f.AccountID != 0 {
		where = append(where, "account_id = ?")
		args = append(args, f.AccountID)
	}
	if !f.UpdatedSince.IsZero() {
		where = append(where, "updated_at >= ?")
		args = append(args, ms(f.UpdatedSince))
	}
	if f.Grade != "" {
		// Scores are one row per contact, keyed by contact id: the grade
		// index walks the matching contacts in id order.
		where = append(where, "id IN (SELECT contact_id FROM contact_scores WHERE grade = ?)")
		args = append(args, f.Grade)
	}
	n := limit(f.Limit, 50, 1000)
	if strings.TrimSpace(f.Search) != "" {
		// contact_search.go: the search index of migration 00015.
		cursor := f.After
		if f.Before > 0 {
			cursor = f.Before
		}
		return s.searchContacts(ctx, where, args, f.Search, f.Before > 0, cursor, n, window)
	}
	order := "id"
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
		order = "id DESC"
	} else if f.After > 0 {
		where = append(where, "id > ?")
		args = append(args, f.After)
	}
	q := `SELECT ` + contactColumns + ` FROM contacts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order
	return listPage(ctx, s, "contacts", q, args, n, scanContact, func(v alinea.Contact) int64 { return v.ID })
}

// Transition moves a contact to another stage under the funnel's rules and
// records who, when and why.
func (s *Store) Transition(ctx context.Context, contactID int64, req alinea.TransitionRequest) (alinea.Transition, error) {
	if !req.To.Valid() {
		_, err := alinea.ParseStage(string(req.To))
		return alinea.Transition{}, err
	}
	if req.Actor.Type == alinea.ActorUser && !alinea.CanMoveTo(req.Actor.Role, req.To) {
		return alinea.Transition{}, alinea.Errorf(alinea.EFORBIDDEN, "role %s may not move contacts to %s", req.Actor.Role, req.To)
	}
	var t alinea.Transition
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = s.transition(ctx, tx, contactID, req)
		return err
	})
	return t, err
}

func (s *Store) transition(ctx context.Context, tx *sql.Tx, contactID int64, req alinea.TransitionRequest) (alinea.Transition, error) {
	var from alinea.Stage
	err := tx.QueryRowContext(ctx, s.q(`SELECT stage FROM contacts WHERE id = ?`), contactID).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return alinea.Transition{}, notFound("contact", contactID)
	}
	if err != nil {
		return alinea.Transition{}, fmt.Errorf("transition contact %d: %w", contactID, err)
	}
	if err := alinea.CheckTransition(from, req.To, req.Reason); err != nil {
		return alinea.Transition{}, err
	}
	now := ms(s.now())
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET stage = ?, stage_changed_at = ?, updated_at = ? WHERE id = ?`), req.To, now, now, contactID); err != nil {
		return alinea.Transition{}, fmt.Errorf("transition contact %d: %w", contactID, err)
	}
	id, err := s.insertTransitionID(ctx, tx, contactID, from, req.To, now, req)
	if err != nil {
		return alinea.Transition{}, err
	}
	why := req.Why
	if len(why) == 0 {
		why = json.RawMessage("{}")
	}
	return alinea.Transition{ID: id, ContactID: contactID, From: from, To: req.To, At: fromMS(now), Actor: req.Actor,
		AgreementVersion: req.AgreementVersion, Reason: req.Reason, Why: why}, nil
}

func (s *Store) insertTransition(ctx context.Context, tx *sql.Tx, contactID int64, from, to alinea.Stage, at int64, req alinea.TransitionRequest) error {
	_, err := s.insertTransitionID(ctx, tx, contactID, from, to, at, req)
	return err
}

// insertTransitionID records a transition and returns its id, which the API
// hands back to the caller.
func (s *Store) insertTransitionID(ctx context.Context, tx *sql.Tx, contactID int64, from, to alinea.Stage, at int64, req alinea.TransitionRequest) (int64, error) {
	why := "{}"
	if len(req.Why) > 0 {
		why = string(req.Why)
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, actor_user_id, agreement_version, reason, why)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), contactID, from, to, at, req.Actor.Type, nullID(req.Actor.UserID), nullID(req.AgreementVersion), req.Reason, why).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record transition of contact %d: %w", contactID, mapErr(err))
	}
	return id, nil
}

// Transitions returns a contact's stage history, oldest first.
func (s *Store) Transitions(ctx context.Context, contactID int64) ([]alinea.Transition, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, contact_id, from_stage, to_stage, at, actor_type, actor_user_id, agreement_version, reason, why
		FROM stage_transitions WHERE contact_id = ? ORDER BY at, id`), contactID)
	if err != nil {
		return nil, fmt.Errorf("transitions of contact %d: %w", contactID, err)
	}
	defer rows.Close()
	var out []alinea.Transition
	for rows.Next() {
		t, err := scanTransition(rows)
		if err != nil {
			return nil, fmt.Errorf("transitions of contact %d: %w", contactID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanTransition(row interface{ Scan(...any) error }) (alinea.Transition, error) {
	var t alinea.Transition
	var at int64
	var user, version sql.NullInt64
	var why string
	err := row.Scan(&t.ID, &t.ContactID, &t.From, &t.To, &at, &t.Actor.Type, &user, &version, &t.Reason, &why)
	t.At, t.Actor.UserID, t.AgreementVersion, t.Why = fromMS(at), user.Int64, version.Int64, json.RawMessage(why)
	return t, err
}
