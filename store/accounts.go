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

const accountColumns = `id, name, domain, external_id, industry, employees, country, owner_id, properties, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (alinea.Account, error) {
	var a alinea.Account
	var domain, extID sql.NullString
	var owner sql.NullInt64
	var props string
	var created, updated int64
	err := row.Scan(&a.ID, &a.Name, &domain, &extID, &a.Industry, &a.Employees, &a.Country, &owner, &props, &created, &updated)
	a.Domain, a.ExternalID, a.OwnerID = domain.String, extID.String, owner.Int64
	a.Properties = json.RawMessage(props)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, err
}

// CreateAccount validates and inserts an account.
func (s *Store) CreateAccount(ctx context.Context, f alinea.AccountFields) (alinea.Account, error) {
	if err := f.Validate(true); err != nil {
		return alinea.Account{}, err
	}
	var a alinea.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkRefs(ctx, tx, "invalid account", ref{"owner_id", "users", derefID(f.OwnerID)}); err != nil {
			return err
		}
		props := "{}"
		if len(f.Properties) > 0 {
			props = string(f.Properties)
		}
		now := ms(s.now())
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO accounts (name, domain, external_id, industry, employees, country, owner_id, properties, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			deref(f.Name), nullStr(deref(f.Domain)), nullStr(strings.TrimSpace(deref(f.ExternalID))), strings.TrimSpace(deref(f.Industry)),
			derefInt(f.Employees), deref(f.Country), nullID(derefID(f.OwnerID)), props, now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert account: %w", mapErr(err))
		}
		a, err = s.accountTx(ctx, tx, id)
		return err
	})
	return a, err
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, id int64) (alinea.Account, error) {
	return s.accountTx(ctx, s.rdb, id)
}

// AccountByDomain returns the account with a domain, normalised first so
// that "https://www.Acme.es/" finds acme.es.
func (s *Store) AccountByDomain(ctx context.Context, domain string) (alinea.Account, error) {
	d, err := alinea.NormalizeDomain(domain)
	if err != nil || d == "" {
		problem := "is required"
		if err != nil {
			problem = err.Error()
		}
		return alinea.Account{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid domain", Fields: map[string]string{"domain": problem}}
	}
	a, err := scanAccount(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+accountColumns+` FROM accounts WHERE domain = ?`), d))
	if errors.Is(err, sql.ErrNoRows) {
		return a, alinea.Errorf(alinea.ENOTFOUND, "no account with domain %s", d)
	}
	if err != nil {
		return a, fmt.Errorf("get account by domain %s: %w", d, err)
	}
	return a, nil
}

// accountTx reads one row in tx or, given s.rdb, outside a transaction.
func (s *Store) accountTx(ctx context.Context, tx rowQuerier, id int64) (alinea.Account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx, s.q(`SELECT `+accountColumns+` FROM accounts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("account", id)
	}
	if err != nil {
		return a, fmt.Errorf("get account %d: %w", id, err)
	}
	return a, nil
}

// UpdateAccount changes the given fields. Properties are merged key by key;
// a property set to null is removed.
func (s *Store) UpdateAccount(ctx context.Context, id int64, f alinea.AccountFields) (alinea.Account, error) {
	if err := f.Validate(false); err != nil {
		return alinea.Account{}, err
	}
	if f.Name != nil && *f.Name == "" {
		return alinea.Account{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid account", Fields: map[string]string{"name": "cannot be empty"}}
	}
	var a alinea.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.accountTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.checkRefs(ctx, tx, "invalid account", ref{"owner_id", "users", derefID(f.OwnerID)}); err != nil {
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
		if f.Domain != nil {
			set("domain", nullStr(*f.Domain))
		}
		if f.ExternalID != nil {
			set("external_id", nullStr(strings.TrimSpace(*f.ExternalID)))
		}
		if f.Industry != nil {
			set("industry", strings.TrimSpace(*f.Industry))
		}
		if f.Employees != nil {
			set("employees", *f.Employees)
		}
		if f.Country != nil {
			set("country", *f.Country)
		}
		if f.OwnerID != nil {
			set("owner_id", nullID(*f.OwnerID))
		}
		if len(f.Properties) > 0 {
			merged, err := mergeProperties(cur.Properties, f.Properties)
			if err != nil {
				return err
			}
			set("properties", merged)
		}
		if len(sets) > 0 {
			set("updated_at", ms(s.now()))
			args = append(args, id)
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET `+strings.Join(sets, ", ")+` WHERE id = ?`), args...); err != nil {
				return fmt.Errorf("update account %d: %w", id, mapErr(err))
			}
		}
		a, err = s.accountTx(ctx, tx, id)
		return err
	})
	return a, err
}

// DeleteAccount removes an account; its contacts and deals stay and lose the
// link (ON DELETE SET NULL).
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "accounts", "account", id)
}

// Accounts lists accounts matching f in id order, or from Before downwards
// in descending id order; the returned cursor is the last id of the page, 0
// when no more match in that direction.
func (s *Store) Accounts(ctx context.Context, f alinea.AccountFilter) ([]alinea.Account, int64, error) {
	var where []string
	var args []any
	if f.Domain != "" {
		d, err := alinea.NormalizeDomain(f.Domain)
		if err != nil {
			return nil, 0, &alinea.Error{Code: alinea.EINVALID, Message: "invalid filter", Fields: map[string]string{"domain": err.Error()}}
		}
		where = append(where, "domain = ?")
		args = append(args, d)
	}
	if f.Search != "" {
		like := "%" + strings.ToLower(f.Search) + "%"
		where = append(where, "(lower(name) LIKE ? OR domain LIKE ?)")
		args = append(args, like, like)
	}
	// Industry, country and owner each have an index ending in id, so a
	// filtered page walks only the matching accounts in id order.
	if f.Industry != "" {
		where = append(where, "industry = ?")
		args = append(args, f.Industry)
	}
	if f.Country != "" {
		where = append(where, "country = ?")
		args = append(args, strings.ToUpper(f.Country))
	}
	if f.OwnerID != 0 {
		where = append(where, "owner_id = ?")
		args = append(args, f.OwnerID)
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
	n := limit(f.Limit, 50, 1000)
	q := `SELECT ` + accountColumns + ` FROM accounts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order
	return listPage(ctx, s, "accounts", q, args, n, scanAccount, func(v alinea.Account) int64 { return v.ID })
}

// ref names a foreign key given in the input: the field it came from, the
// table it must exist in and its value (0 means not given).
type ref struct {
	field string
	table string
	id    int64
}

// checkRefs verifies that referenced rows exist, so that a bad id is reported
// by field name instead of as an anonymous foreign-key violation.
func (s *Store) checkRefs(ctx context.Context, tx *sql.Tx, message string, refs ...ref) error {
	fe := alinea.FieldErrors{}
	for _, r := range refs {
		if r.id == 0 {
			continue
		}
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM `+r.table+` WHERE id = ?`), r.id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			fe.Add(r.field, fmt.Sprintf("refers to %s %d, which does not exist", strings.TrimSuffix(r.table, "s"), r.id))
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s %d: %w", r.field, r.id, err)
		}
	}
	return fe.Err(message)
}
