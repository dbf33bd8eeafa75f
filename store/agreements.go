package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

const agreementColumns = `id, name, status, document, source, based_on, created_by, created_at, updated_at, proposed_at, activated_at`

func scanAgreement(row interface{ Scan(...any) error }) (agreement.Version, error) {
	var v agreement.Version
	var doc string
	var basedOn, createdBy, proposed, activated sql.NullInt64
	var created, updated int64
	if err := row.Scan(&v.ID, &v.Name, &v.Status, &doc, &v.Source, &basedOn, &createdBy, &created, &updated, &proposed, &activated); err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(doc), &v.Document); err != nil {
		return v, fmt.Errorf("agreement %d: stored document: %w", v.ID, err)
	}
	v.BasedOn, v.CreatedBy = basedOn.Int64, createdBy.Int64
	v.CreatedAt, v.UpdatedAt = fromMS(created), fromMS(updated)
	v.ProposedAt, v.ActivatedAt = nullMS(proposed), nullMS(activated)
	v.Signatures = []agreement.Signature{}
	return v, nil
}

// CreateAgreement stores a new draft from YAML or JSON source. A draft only
// has to parse; it must compile to be proposed.
func (s *Store) CreateAgreement(ctx context.Context, source []byte, basedOn, userID int64) (agreement.Version, error) {
	doc, err := agreement.Parse(source)
	if err != nil {
		return agreement.Version{}, agreement.AsDomainError(err)
	}
	canonical, err := json.Marshal(doc)
	if err != nil {
		return agreement.Version{}, fmt.Errorf("create agreement: %w", err)
	}
	var v agreement.Version
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO agreements (name, document, source, based_on, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), doc.Name, string(canonical), string(source), nullID(basedOn), nullID(userID), now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("create agreement: %w", mapErr(err))
		}
		if err := s.auditAgreement(ctx, tx, id, "created", userID, ""); err != nil {
			return err
		}
		v, err = s.agreementTx(ctx, tx, id)
		return err
	})
	return v, err
}

// UpdateAgreementDraft replaces a draft's source; proposed versions are
// immutable.
func (s *Store) UpdateAgreementDraft(ctx context.Context, id int64, source []byte, userID int64) (agreement.Version, error) {
	doc, err := agreement.Parse(source)
	if err != nil {
		return agreement.Version{}, agreement.AsDomainError(err)
	}
	canonical, _ := json.Marshal(doc)
	return s.agreementStep(ctx, id, userID, "edited", func(tx *sql.Tx, cur agreement.Version) (string, error) {
		if cur.Status != agreement.StatusDraft {
			return "", alinea.Errorf(alinea.ECONFLICT, "agreement version %d is %s and can no longer change; create a new draft based on it", id, cur.Status)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE agreements SET name = ?, document = ?, source = ?, updated_at = ? WHERE id = ?`),
			doc.Name, string(canonical), string(source), ms(s.now()), id); err != nil {
			return "", fmt.Errorf("update agreement %d: %w", id, err)
		}
		return "", nil
	})
}

// ProposeAgreement freezes a draft once it compiles.
func (s *Store) ProposeAgreement(ctx context.Context, id, userID int64) (agreement.Version, error) {
	return s.agreementStep(ctx, id, userID, "proposed", func(tx *sql.Tx, cur agreement.Version) (string, error) {
		if cur.Status != agreement.StatusDraft {
			return "", alinea.Errorf(alinea.ECONFLICT, "agreement version %d is %s; only a draft can be proposed", id, cur.Status)
		}
		if _, err := agreement.Compile(cur.Document); err != nil {
			return "", agreement.AsDomainError(err)
		}
		now := ms(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE agreements SET status = ?, proposed_at = ?, updated_at = ? WHERE id = ?`), agreement.StatusProposed, now, now, id); err != nil {
			return "", fmt.Errorf("propose agreement %d: %w", id, err)
		}
		return "", nil
	})
}

// SignAgreement records a team lead's signature on a proposed version: a
// marketing user signs for marketing (an admin may sign as the marketing
// lead), a sales user for sales. One person cannot sign for both teams.
func (s *Store) SignAgreement(ctx context.Context, id int64, u alinea.User) (agreement.Version, error) {
	team := agreement.SigningTeam(u.Role)
	if team == "" {
		return agreement.Version{}, alinea.Errorf(alinea.EFORBIDDEN, "role %s cannot sign the agreement; a marketing lead (or an admin acting as one) and a sales lead sign", u.Role)
	}
	return s.agreementStep(ctx, id, u.ID, "signed", func(tx *sql.Tx, cur agreement.Version) (string, error) {
		if cur.Status != agreement.StatusProposed {
			return "", alinea.Errorf(alinea.ECONFLICT, "agreement version %d is %s; only a proposed version can be signed", id, cur.Status)
		}
		for _, sig := range cur.Signatures {
			if sig.Team == team {
				return "", alinea.Errorf(alinea.ECONFLICT, "%s has already signed version %d (%s)", team, id, sig.UserName)
			}
			if sig.UserID == u.ID {
				return "", alinea.Errorf(alinea.EFORBIDDEN, "%s already signed version %d for %s; the other team's lead must sign", u.Email, id, sig.Team)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO agreement_signatures (agreement_id, team, user_id, signed_at) VALUES (?, ?, ?, ?)`),
			id, team, u.ID, ms(s.now())); err != nil {
			return "", fmt.Errorf("sign agreement %d: %w", id, mapErr(err))
		}
		return team, nil
	})
}

// ActivateAgreement makes a version signed by both teams the active one;
// the previous active version is superseded. Contacts are re-evaluated by
// a background job the caller enqueues.
func (s *Store) ActivateAgreement(ctx context.Context, id, userID int64) (agreement.Version, error) {
	return s.agreementStep(ctx, id, userID, "activated", func(tx *sql.Tx, cur agreement.Version) (string, error) {
		if cur.Status != agreement.StatusProposed {
			return "", alinea.Errorf(alinea.ECONFLICT, "agreement version %d is %s; only a proposed version signed by both teams can be activated", id, cur.Status)
		}
		for _, team := range []string{"marketing", "sales"} {
			if !cur.SignedBy(team) {
				return "", alinea.Errorf(alinea.ECONFLICT, "agreement version %d is not signed by %s yet", id, team)
			}
		}
		now := ms(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE agreements SET status = ?, updated_at = ? WHERE status = ?`), agreement.StatusSuperseded, now, agreement.StatusActive); err != nil {
			return "", fmt.Errorf("activate agreement %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE agreements SET status = ?, activated_at = ?, updated_at = ? WHERE id = ?`), agreement.StatusActive, now, now, id); err != nil {
			return "", fmt.Errorf("activate agreement %d: %w", id, mapErr(err))
		}
		return "", nil
	})
}

// agreementStep runs one step of a version's life in a transaction: it
// loads the version, lets step check and change it, records the step in the
// audit trail (with the detail step returns) and returns the version as it
// is afterwards. Nothing is half-applied: a refused step changes nothing.
func (s *Store) agreementStep(ctx context.Context, id, userID int64, action string, step func(tx *sql.Tx, cur agreement.Version) (string, error)) (agreement.Version, error) {
	var v agreement.Version
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.agreementTx(ctx, tx, id)
		if err != nil {
			return err
		}
		detail, err := step(tx, cur)
		if err != nil {
			return err
		}
		if err := s.auditAgreement(ctx, tx, id, action, userID, detail); err != nil {
			return err
		}
		v, err = s.agreementTx(ctx, tx, id)
		return err
	})
	return v, err
}

// Agreement returns one version with its signatures.
func (s *Store) Agreement(ctx context.Context, id int64) (agreement.Version, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return agreement.Version{}, fmt.Errorf("get agreement %d: %w", id, err)
	}
	defer tx.Rollback()
	return s.agreementTx(ctx, tx, id)
}

// ActiveAgreement returns the active version, or ENOTFOUND.
func (s *Store) ActiveAgreement(ctx context.Context) (agreement.Version, error) {
	var id int64
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT id FROM agreements WHERE status = ?`), agreement.StatusActive).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return agreement.Version{}, alinea.Errorf(alinea.ENOTFOUND, "no agreement is active yet")
	}
	if err != nil {
		return agreement.Version{}, fmt.Errorf("active agreement: %w", err)
	}
	return s.Agreement(ctx, id)
}

// Agreements lists every version, newest first, without signatures.
func (s *Store) Agreements(ctx context.Context) ([]agreement.Version, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+agreementColumns+` FROM agreements ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	defer rows.Close()
	var out []agreement.Version
	for rows.Next() {
		v, err := scanAgreement(rows)
		if err != nil {
			return nil, fmt.Errorf("list agreements: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// AgreementAudit returns a version's history, oldest first.
func (s *Store) AgreementAudit(ctx context.Context, id int64) ([]agreement.AuditEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, agreement_id, action, user_id, at, detail FROM agreement_audit WHERE agreement_id = ? ORDER BY at, id`), id)
	if err != nil {
		return nil, fmt.Errorf("agreement %d audit: %w", id, err)
	}
	defer rows.Close()
	var out []agreement.AuditEntry
	for rows.Next() {
		var a agreement.AuditEntry
		var user sql.NullInt64
		var at int64
		if err := rows.Scan(&a.ID, &a.VersionID, &a.Action, &user, &at, &a.Detail); err != nil {
			return nil, fmt.Errorf("agreement %d audit: %w", id, err)
		}
		a.UserID, a.At = user.Int64, fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// rowQuerier is what both *sql.Tx and *sql.DB offer for reads.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) agreementTx(ctx context.Context, tx rowQuerier, id int64) (agreement.Version, error) {
	v, err := scanAgreement(tx.QueryRowContext(ctx, s.q(`SELECT `+agreementColumns+` FROM agreements WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("agreement version", id)
	}
	if err != nil {
		return v, fmt.Errorf("get agreement %d: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT s.user_id, u.name, s.team, s.signed_at FROM agreement_signatures s JOIN users u ON u.id = s.user_id
		WHERE s.agreement_id = ? ORDER BY s.signed_at`), id)
	if err != nil {
		return v, fmt.Errorf("agreement %d signatures: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sig agreement.Signature
		var at int64
		if err := rows.Scan(&sig.UserID, &sig.UserName, &sig.Team, &at); err != nil {
			return v, fmt.Errorf("agreement %d signatures: %w", id, err)
		}
		sig.SignedAt = fromMS(at)
		v.Signatures = append(v.Signatures, sig)
	}
	return v, rows.Err()
}

func (s *Store) auditAgreement(ctx context.Context, tx *sql.Tx, id int64, action string, userID int64, detail string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO agreement_audit (agreement_id, action, user_id, at, detail) VALUES (?, ?, ?, ?, ?)`),
		id, action, nullID(userID), ms(s.now()), detail)
	if err != nil {
		return fmt.Errorf("audit agreement %d: %w", id, err)
	}
	return nil
}
