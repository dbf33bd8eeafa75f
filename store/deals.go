package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/alinea-crm/alinea"
)

// PipelineStages returns the deal pipeline's stages in board order.
func (s *Store) PipelineStages(ctx context.Context) ([]alinea.PipelineStage, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, name, position, probability, kind FROM pipeline_stages ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list pipeline stages: %w", err)
	}
	defer rows.Close()
	var out []alinea.PipelineStage
	for rows.Next() {
		var p alinea.PipelineStage
		if err := rows.Scan(&p.ID, &p.Name, &p.Position, &p.Probability, &p.Kind); err != nil {
			return nil, fmt.Errorf("list pipeline stages: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) pipelineStageTx(ctx context.Context, tx *sql.Tx, id int64) (alinea.PipelineStage, error) {
	var p alinea.PipelineStage
	err := tx.QueryRowContext(ctx, s.q(`SELECT id, name, position, probability, kind FROM pipeline_stages WHERE id = ?`), id).
		Scan(&p.ID, &p.Name, &p.Position, &p.Probability, &p.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return p, &alinea.Error{Code: alinea.EINVALID, Message: "unknown pipeline stage", Fields: map[string]string{"stage_id": fmt.Sprintf("refers to pipeline stage %d, which does not exist", id)}}
	}
	if err != nil {
		return p, fmt.Errorf("get pipeline stage %d: %w", id, err)
	}
	return p, nil
}

const dealColumns = `id, name, account_id, owner_id, stage_id, status, amount, currency, expected_close, closed_at, close_reason, created_at, updated_at`

func scanDeal(row interface{ Scan(...any) error }) (alinea.Deal, error) {
	var d alinea.Deal
	var account, owner, closed sql.NullInt64
	var created, updated int64
	err := row.Scan(&d.ID, &d.Name, &account, &owner, &d.StageID, &d.Status, &d.Amount, &d.Currency, &d.ExpectedClose,
		&closed, &d.CloseReason, &created, &updated)
	d.AccountID, d.OwnerID, d.ClosedAt = account.Int64, owner.Int64, nullMS(closed)
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	d.Contacts = []alinea.DealContact{}
	return d, err
}

// CreateDeal validates and inserts a deal, links its contacts and records its
// first stage. Without a stage it starts in the first open stage; without a
// currency, in EUR. A deal may start won, but not lost: losing needs a reason,
// so that goes through MoveDeal.
func (s *Store) CreateDeal(ctx context.Context, f alinea.DealFields, actor alinea.Actor) (alinea.Deal, error) {
	if err := f.Validate(true); err != nil {
		return alinea.Deal{}, err
	}
	var d alinea.Deal
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var stage alinea.PipelineStage
		var err error
		if f.StageID != nil {
			stage, err = s.pipelineStageTx(ctx, tx, *f.StageID)
		} else {
			err = tx.QueryRowContext(ctx, s.q(`SELECT id, name, position, probability, kind FROM pipeline_stages WHERE kind = ? ORDER BY position, id LIMIT 1`), alinea.DealOpen).
				Scan(&stage.ID, &stage.Name, &stage.Position, &stage.Probability, &stage.Kind)
			if errors.Is(err, sql.ErrNoRows) {
				err = alinea.Errorf(alinea.EINVALID, "the pipeline has no open stage to start a deal in")
			}
		}
		if err != nil {
			return err
		}
		if stage.Kind == alinea.DealLost {
			return &alinea.Error{Code: alinea.EINVALID, Message: "invalid deal", Fields: map[string]string{"stage_id": "a new deal cannot start in the lost stage " + stage.Name + "; create it, then move it there with a reason"}}
		}
		if err := s.checkRefs(ctx, tx, "invalid deal", ref{"account_id", "accounts", derefID(f.AccountID)}, ref{"owner_id", "users", derefID(f.OwnerID)}); err != nil {
			return err
		}
		currency := "EUR"
		if f.Currency != nil {
			currency = *f.Currency
		}
		now := ms(s.now())
		var closedAt any
		if stage.Kind != alinea.DealOpen {
			closedAt = now
		}
		var amount int64
		if f.Amount != nil {
			amount = *f.Amount
		}
		var id int64
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO deals (name, account_id, owner_id, stage_id, status, amount, currency, expected_close, closed_at, close_reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?) RETURNING id`),
			deref(f.Name), nullID(derefID(f.AccountID)), nullID(derefID(f.OwnerID)), stage.ID, stage.Kind, amount, currency,
			deref(f.ExpectedClose), closedAt, now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert deal: %w", mapErr(err))
		}
		if f.Contacts != nil {
			if err := s.setDealContacts(ctx, tx, id, *f.Contacts); err != nil {
				return err
			}
		}
		if err := s.insertDealStage(ctx, tx, id, 0, stage.ID, now, actor, ""); err != nil {
			return err
		}
		d, err = s.dealTx(ctx, tx, id)
		return err
	})
	return d, err
}

// setDealContacts replaces a deal's buying committee.
func (s *Store) setDealContacts(ctx context.Context, tx *sql.Tx, dealID int64, contacts []alinea.DealContact) error {
	fe := alinea.FieldErrors{}
	seen := map[int64]int{}
	for i, c := range contacts {
		field := fmt.Sprintf("contacts[%d].contact_id", i)
		if j, dup := seen[c.ContactID]; dup {
			fe.Add(field, fmt.Sprintf("contact %d is already listed at contacts[%d]", c.ContactID, j))
			continue
		}
		seen[c.ContactID] = i
		if err := s.checkRefs(ctx, tx, "invalid deal", ref{field, "contacts", c.ContactID}); err != nil {
			for k, v := range alinea.ErrorFields(err) {
				fe.Add(k, v)
			}
			if alinea.ErrorCode(err) != alinea.EINVALID {
				return err
			}
		}
		if len(c.Role) > 100 {
			fe.Add(fmt.Sprintf("contacts[%d].role", i), "is longer than 100 characters")
		}
	}
	if err := fe.Err("invalid deal"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM deal_contacts WHERE deal_id = ?`), dealID); err != nil {
		return fmt.Errorf("set contacts of deal %d: %w", dealID, err)
	}
	for _, c := range contacts {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deal_contacts (deal_id, contact_id, role) VALUES (?, ?, ?)`),
			dealID, c.ContactID, strings.TrimSpace(c.Role)); err != nil {
			return fmt.Errorf("set contacts of deal %d: %w", dealID, mapErr(err))
		}
	}
	return nil
}

func (s *Store) insertDealStage(ctx context.Context, tx *sql.Tx, dealID, from, to, at int64, actor alinea.Actor, reason string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO deal_stage_history (deal_id, from_stage_id, to_stage_id, at, actor_user_id, reason) VALUES (?, ?, ?, ?, ?, ?)`),
		dealID, nullID(from), to, at, nullID(actor.UserID), reason)
	if err != nil {
		return fmt.Errorf("record stage of deal %d: %w", dealID, mapErr(err))
	}
	return nil
}

// Deal returns one deal with its contacts.
func (s *Store) Deal(ctx context.Context, id int64) (alinea.Deal, error) {
	return s.dealTx(ctx, s.rdb, id)
}

// dealTx reads one row in tx or, given s.rdb, outside a transaction.
func (s *Store) dealTx(ctx context.Context, tx rowQuerier, id int64) (alinea.Deal, error) {
	d, err := scanDeal(tx.QueryRowContext(ctx, s.q(`SELECT `+dealColumns+` FROM deals WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("deal", id)
	}
	if err != nil {
		return d, fmt.Errorf("get deal %d: %w", id, err)
	}
	deals := []alinea.Deal{d}
	if err := s.loadDealContacts(ctx, tx, deals); err != nil {
		return d, err
	}
	return deals[0], nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadDealContacts fills in the contacts of a page of deals with one query.
func (s *Store) loadDealContacts(ctx context.Context, q querier, deals []alinea.Deal) error {
	if len(deals) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(deals))
	marks := make([]string, len(deals))
	args := make([]any, len(deals))
	for i, d := range deals {
		idx[d.ID] = i
		marks[i] = "?"
		args[i] = d.ID
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT deal_id, contact_id, role FROM deal_contacts WHERE deal_id IN (`+strings.Join(marks, ", ")+`) ORDER BY deal_id, contact_id`), args...)
	if err != nil {
		return fmt.Errorf("contacts of deals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dealID int64
		var c alinea.DealContact
		if err := rows.Scan(&dealID, &c.ContactID, &c.Role); err != nil {
			return fmt.Errorf("contacts of deals: %w", err)
		}
		d := &deals[idx[dealID]]
		d.Contacts = append(d.Contacts, c)
	}
	return rows.Err()
}

// UpdateDeal changes the given fields; Contacts, when given, replaces the
// whole committee. The stage is not changed here: MoveDeal keeps its history.
func (s *Store) UpdateDeal(ctx context.Context, id int64, f alinea.DealFields) (alinea.Deal, error) {
	fe := alinea.FieldErrors{}
	if err := f.Validate(false); err != nil {
		for k, v := range alinea.ErrorFields(err) {
			fe.Add(k, v)
		}
	}
	if f.StageID != nil {
		fe.Add("stage_id", "cannot be changed here; use POST /api/v1/deals/{id}/stage so the move is recorded")
	}
	if f.Name != nil && *f.Name == "" {
		fe.Add("name", "cannot be empty")
	}
	if err := fe.Err("invalid deal"); err != nil {
		return alinea.Deal{}, err
	}
	var d alinea.Deal
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.dealTx(ctx, tx, id); err != nil {
			return err
		}
		if err := s.checkRefs(ctx, tx, "invalid deal", ref{"account_id", "accounts", derefID(f.AccountID)}, ref{"owner_id", "users", derefID(f.OwnerID)}); err != nil {
			return err
		}
		var sets []string
		var args []any
		set := func(col string, v any) {
			sets = append(sets, col+" = ?")
			args = append(args, v)
		}
		if f.Name != nil {
			set("name", *f.Name)
		}
		if f.AccountID != nil {
			set("account_id", nullID(*f.AccountID))
		}
		if f.OwnerID != nil {
			set("owner_id", nullID(*f.OwnerID))
		}
		if f.Amount != nil {
			set("amount", *f.Amount)
		}
		if f.Currency != nil {
			set("currency", *f.Currency)
		}
		if f.ExpectedClose != nil {
			set("expected_close", *f.ExpectedClose)
		}
		if f.Contacts != nil {
			if err := s.setDealContacts(ctx, tx, id, *f.Contacts); err != nil {
				return err
			}
		}
		if len(sets) > 0 || f.Contacts != nil {
			set("updated_at", ms(s.now()))
			args = append(args, id)
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE deals SET `+strings.Join(sets, ", ")+` WHERE id = ?`), args...); err != nil {
				return fmt.Errorf("update deal %d: %w", id, mapErr(err))
			}
		}
		var err error
		d, err = s.dealTx(ctx, tx, id)
		return err
	})
	return d, err
}

// DeleteDeal removes a deal with its contacts links and stage history.
func (s *Store) DeleteDeal(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "deals", "deal", id)
}

// Deals lists deals matching f in id order, with their contacts; the
// returned cursor is 0 on the last page.
func (s *Store) Deals(ctx context.Context, f alinea.DealFilter) ([]alinea.Deal, int64, error) {
	var where []string
	var args []any
	if f.Status != "" {
		switch f.Status {
		case alinea.DealOpen, alinea.DealWon, alinea.DealLost:
		default:
			return nil, 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid filter", Fields: map[string]string{"status": "must be open, won or lost"}}
		}
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.StageID != 0 {
		where = append(where, "stage_id = ?")
		args = append(args, f.StageID)
	}
	if f.OwnerID != 0 {
		where = append(where, "owner_id = ?")
		args = append(args, f.OwnerID)
	}
	if f.AccountID != 0 {
		where = append(where, "account_id = ?")
		args = append(args, f.AccountID)
	}
	if f.ContactID != 0 {
		where = append(where, "id IN (SELECT deal_id FROM deal_contacts WHERE contact_id = ?)")
		args = append(args, f.ContactID)
	}
	if f.After > 0 {
		where = append(where, "id > ?")
		args = append(args, f.After)
	}
	n := limit(f.Limit, 50, 1000)
	q := `SELECT ` + dealColumns + ` FROM deals`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	out, next, err := listPage(ctx, s, "deals", q, args, n, scanDeal, func(v alinea.Deal) int64 { return v.ID })
	if err != nil {
		return nil, 0, err
	}
	if err := s.loadDealContacts(ctx, s.rdb, out); err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// MoveDeal moves a deal to another pipeline stage and records the move.
// Entering a won or lost stage closes the deal (a lost deal needs a reason);
// moving a closed deal back to an open stage reopens it.
func (s *Store) MoveDeal(ctx context.Context, id int64, m alinea.DealMove) (alinea.Deal, error) {
	m.Reason = strings.TrimSpace(m.Reason)
	if m.StageID <= 0 {
		return alinea.Deal{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid stage move", Fields: map[string]string{"stage_id": "is required"}}
	}
	if len(m.Reason) > 1000 {
		return alinea.Deal{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid stage move", Fields: map[string]string{"reason": "is longer than 1000 characters"}}
	}
	var d alinea.Deal
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.dealTx(ctx, tx, id)
		if err != nil {
			return err
		}
		to, err := s.pipelineStageTx(ctx, tx, m.StageID)
		if err != nil {
			return err
		}
		if cur.StageID == to.ID {
			return &alinea.Error{Code: alinea.ECONFLICT, Message: "deal is already in stage " + to.Name, Fields: map[string]string{"stage_id": "equals the current stage"}}
		}
		if to.Kind == alinea.DealLost && m.Reason == "" {
			return &alinea.Error{Code: alinea.EINVALID, Message: "losing a deal needs a reason", Fields: map[string]string{"reason": "is required when moving a deal to the lost stage " + to.Name}}
		}
		now := ms(s.now())
		var closedAt any
		closeReason := ""
		if to.Kind != alinea.DealOpen {
			closedAt, closeReason = now, m.Reason
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deals SET stage_id = ?, status = ?, closed_at = ?, close_reason = ?, updated_at = ? WHERE id = ?`),
			to.ID, to.Kind, closedAt, closeReason, now, id); err != nil {
			return fmt.Errorf("move deal %d: %w", id, mapErr(err))
		}
		if err := s.insertDealStage(ctx, tx, id, cur.StageID, to.ID, now, m.Actor, m.Reason); err != nil {
			return err
		}
		d, err = s.dealTx(ctx, tx, id)
		return err
	})
	return d, err
}

// DealHistory returns a deal's stage changes, oldest first.
func (s *Store) DealHistory(ctx context.Context, id int64) ([]alinea.DealStageChange, error) {
	var one int
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT 1 FROM deals WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("deal", id)
	}
	if err != nil {
		return nil, fmt.Errorf("history of deal %d: %w", id, err)
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, deal_id, from_stage_id, to_stage_id, at, actor_user_id, reason
		FROM deal_stage_history WHERE deal_id = ? ORDER BY at, id`), id)
	if err != nil {
		return nil, fmt.Errorf("history of deal %d: %w", id, err)
	}
	defer rows.Close()
	out := []alinea.DealStageChange{}
	for rows.Next() {
		var c alinea.DealStageChange
		var from, actor sql.NullInt64
		var at int64
		if err := rows.Scan(&c.ID, &c.DealID, &from, &c.ToStageID, &at, &actor, &c.Reason); err != nil {
			return nil, fmt.Errorf("history of deal %d: %w", id, err)
		}
		c.FromStageID, c.ActorUserID, c.At = from.Int64, actor.Int64, fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
