package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/auth"
)

const userColumns = "id, email, name, role, locale, created_at, deactivated_at"

// userColumnsOf are userColumns qualified by a table alias, for joins.
func userColumnsOf(alias string) string {
	cols := strings.Split(userColumns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

func scanUser(row interface{ Scan(...any) error }) (alinea.User, error) {
	var u alinea.User
	var created int64
	var deactivated sql.NullInt64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &created, &deactivated)
	u.CreatedAt, u.DeactivatedAt = fromMS(created), nullMS(deactivated)
	return u, err
}

// CreateUser adds a user with an argon2id password hash.
func (s *Store) CreateUser(ctx context.Context, in alinea.NewUser) (alinea.User, error) {
	if err := in.Validate(); err != nil {
		return alinea.User{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return alinea.User{}, err
	}
	now := ms(s.now())
	row := s.db.QueryRowContext(ctx, s.q(`INSERT INTO users (email, name, role, password_hash, locale, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+userColumns), in.Email, in.Name, in.Role, hash, in.Locale, now, now)
	u, err := scanUser(row)
	if err != nil {
		return alinea.User{}, fmt.Errorf("create user: %w", mapErr(err))
	}
	return u, nil
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id int64) (alinea.User, error) {
	return s.userTx(ctx, s.rdb, id)
}

// userTx reads one user in tx or, given s.rdb, outside a transaction.
func (s *Store) userTx(ctx context.Context, tx rowQuerier, id int64) (alinea.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", id)
	}
	if err != nil {
		return u, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns a user by (normalised) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (alinea.User, error) {
	norm, err := alinea.NormalizeEmail(email)
	if err != nil {
		return alinea.User{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid email", Fields: map[string]string{"email": err.Error()}}
	}
	u, err := scanUser(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE email = ?`), norm))
	if errors.Is(err, sql.ErrNoRows) {
		return u, alinea.Errorf(alinea.ENOTFOUND, "no user with email %s", norm)
	}
	return u, err
}

// Users lists every user, deactivated ones included: their names still
// label what they did.
func (s *Store) Users(ctx context.Context) ([]alinea.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []alinea.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Authenticate checks an email and password; a wrong email, a wrong
// password and a deactivated user give the same error so accounts cannot be
// enumerated.
func (s *Store) Authenticate(ctx context.Context, email, password string) (alinea.User, error) {
	norm, _ := alinea.NormalizeEmail(email)
	var hash string
	row := s.rdb.QueryRowContext(ctx, s.q(`SELECT `+userColumns+`, password_hash FROM users WHERE email = ? AND deactivated_at IS NULL`), norm)
	var u alinea.User
	var created int64
	var deactivated sql.NullInt64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &created, &deactivated, &hash)
	u.CreatedAt = fromMS(created)
	bad := alinea.Errorf(alinea.EUNAUTHORIZED, "wrong email or password")
	if errors.Is(err, sql.ErrNoRows) {
		return alinea.User{}, bad
	}
	if err != nil {
		return alinea.User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := auth.CheckPassword(hash, password)
	if err != nil {
		return alinea.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return alinea.User{}, bad
	}
	return u, nil
}

// SetUserRole changes what a user may do. The last active administrator
// keeps the role: without one nobody could manage users any more.
func (s *Store) SetUserRole(ctx context.Context, id int64, role alinea.Role) (alinea.User, error) {
	if !role.Valid() {
		return alinea.User{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid role",
			Fields: map[string]string{"role": "must be one of admin, marketing, sales, manager; got " + strconv.Quote(string(role))}}
	}
	var u alinea.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Role == role {
			u = cur
			return nil
		}
		if cur.Role == alinea.RoleAdmin && cur.Active() {
			if err := s.keepAnAdmin(ctx, tx, id, "change the role of"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`), role, ms(s.now()), id); err != nil {
			return fmt.Errorf("set role of user %d: %w", id, err)
		}
		u, err = s.userTx(ctx, tx, id)
		return err
	})
	return u, err
}

// DeactivateUser stops a user from signing in and from using their API
// keys, and ends their sessions. by is the administrator doing it, who may
// not deactivate themselves; the last active administrator stays active.
// Deactivating a deactivated user changes nothing.
func (s *Store) DeactivateUser(ctx context.Context, id, by int64) (alinea.User, error) {
	if id == by {
		return alinea.User{}, alinea.Errorf(alinea.ECONFLICT, "user %d cannot deactivate themselves", id)
	}
	var u alinea.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !cur.Active() {
			u = cur
			return nil
		}
		if cur.Role == alinea.RoleAdmin {
			if err := s.keepAnAdmin(ctx, tx, id, "deactivate"); err != nil {
				return err
			}
		}
		now := ms(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET deactivated_at = ?, updated_at = ? WHERE id = ?`), now, now, id); err != nil {
			return fmt.Errorf("deactivate user %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE user_id = ?`), id); err != nil {
			return fmt.Errorf("end the sessions of user %d: %w", id, err)
		}
		u, err = s.userTx(ctx, tx, id)
		return err
	})
	return u, err
}

// ReactivateUser lets a deactivated user sign in and use their API keys
// again.
func (s *Store) ReactivateUser(ctx context.Context, id int64) (alinea.User, error) {
	var u alinea.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET deactivated_at = NULL, updated_at = ? WHERE id = ? AND deactivated_at IS NOT NULL`), ms(s.now()), id); err != nil {
			return fmt.Errorf("reactivate user %d: %w", id, err)
		}
		var err error
		u, err = s.userTx(ctx, tx, id)
		return err
	})
	return u, err
}

// keepAnAdmin refuses a change that would leave no active administrator
// besides user id. On PostgreSQL the administrators' rows are locked, so two
// administrators demoting each other at once cannot both succeed; SQLite
// runs one write transaction at a time anyway.
func (s *Store) keepAnAdmin(ctx context.Context, tx *sql.Tx, id int64, action string) error {
	q := `SELECT id FROM users WHERE role = ? AND deactivated_at IS NULL ORDER BY id`
	if s.backend == Postgres {
		q += " FOR UPDATE"
	}
	rows, err := tx.QueryContext(ctx, s.q(q), alinea.RoleAdmin)
	if err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	defer rows.Close()
	others := 0
	for rows.Next() {
		var admin int64
		if err := rows.Scan(&admin); err != nil {
			return fmt.Errorf("count administrators: %w", err)
		}
		if admin != id {
			others++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if others == 0 {
		return alinea.Errorf(alinea.ECONFLICT, "cannot %s user %d: they are the last active administrator", action, id)
	}
	return nil
}

// CreateAPIKey makes a new API key for an active user and returns its
// secret, which is shown once and stored only as a hash.
func (s *Store) CreateAPIKey(ctx context.Context, userID int64, name string) (alinea.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return alinea.APIKey{}, "", &alinea.Error{Code: alinea.EINVALID, Message: "invalid API key", Fields: map[string]string{"name": "is required"}}
	}
	secret, prefix, err := auth.NewSecret("key")
	if err != nil {
		return alinea.APIKey{}, "", err
	}
	k := alinea.APIKey{UserID: userID, Name: name, Prefix: prefix, CreatedAt: fromMS(ms(s.now()))}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.userTx(ctx, tx, userID)
		if alinea.ErrorCode(err) == alinea.ENOTFOUND {
			return &alinea.Error{Code: alinea.EINVALID, Message: "invalid API key", Fields: map[string]string{"user_id": fmt.Sprintf("refers to user %d, which does not exist", userID)}}
		}
		if err != nil {
			return err
		}
		if !u.Active() {
			return &alinea.Error{Code: alinea.EINVALID, Message: "invalid API key", Fields: map[string]string{"user_id": fmt.Sprintf("user %d is deactivated", userID)}}
		}
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
			userID, name, prefix, auth.HashSecret(secret), ms(k.CreatedAt)).Scan(&k.ID)
		if err != nil {
			return fmt.Errorf("create API key: %w", mapErr(err))
		}
		return nil
	})
	if err != nil {
		return alinea.APIKey{}, "", err
	}
	return k, secret, nil
}

const apiKeyColumns = `id, user_id, name, prefix, created_at, last_used_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (alinea.APIKey, error) {
	var k alinea.APIKey
	var created int64
	var used, revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &created, &used, &revoked)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMS(created), nullMS(used), nullMS(revoked)
	return k, err
}

// APIKeys lists every user's API keys, revoked ones included, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]alinea.APIKey, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	var out []alinea.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey stops an API key from working, for good. Revoking a revoked
// key changes nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) (alinea.APIKey, error) {
	var k alinea.APIKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), ms(s.now()), id); err != nil {
			return fmt.Errorf("revoke API key %d: %w", id, err)
		}
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, s.q(`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("API key", id)
		}
		return err
	})
	return k, err
}

// UserByAPIKey returns the active user an API key secret belongs to, and
// records when the key was last used (at most once per touchEvery, to keep
// API reads from becoming writes).
func (s *Store) UserByAPIKey(ctx context.Context, secret string) (alinea.User, error) {
	var keyID int64
	var lastUsed sql.NullInt64
	var u alinea.User
	var created int64
	var deactivated sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT k.id, k.last_used_at, `+userColumnsOf("u")+`
		FROM api_keys k JOIN users u ON u.id = k.user_id
		WHERE k.hash = ? AND k.revoked_at IS NULL AND u.deactivated_at IS NULL`), auth.HashSecret(secret)).
		Scan(&keyID, &lastUsed, &u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &created, &deactivated)
	if errors.Is(err, sql.ErrNoRows) {
		return alinea.User{}, alinea.Errorf(alinea.EUNAUTHORIZED, "unknown or revoked API key, or its user is deactivated")
	}
	if err != nil {
		return alinea.User{}, fmt.Errorf("look up API key: %w", err)
	}
	u.CreatedAt = fromMS(created)
	now := ms(s.now())
	if !lastUsed.Valid || now-lastUsed.Int64 >= touchEvery.Milliseconds() {
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
			now, keyID, now); err != nil {
			return alinea.User{}, fmt.Errorf("record use of API key %d: %w", keyID, err)
		}
	}
	return u, nil
}

// CreateWriteKey makes a new ingestion write key and returns its secret.
func (s *Store) CreateWriteKey(ctx context.Context, name string) (alinea.WriteKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return alinea.WriteKey{}, "", &alinea.Error{Code: alinea.EINVALID, Message: "invalid write key", Fields: map[string]string{"name": "is required"}}
	}
	secret, prefix, err := auth.NewSecret("wk")
	if err != nil {
		return alinea.WriteKey{}, "", err
	}
	k := alinea.WriteKey{Name: name, Prefix: prefix, CreatedAt: fromMS(ms(s.now()))}
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO write_keys (name, prefix, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		name, prefix, auth.HashSecret(secret), ms(k.CreatedAt)).Scan(&k.ID)
	if err != nil {
		return alinea.WriteKey{}, "", fmt.Errorf("create write key: %w", mapErr(err))
	}
	return k, secret, nil
}

const writeKeyColumns = `id, name, prefix, created_at, revoked_at`

func scanWriteKey(row interface{ Scan(...any) error }) (alinea.WriteKey, error) {
	var k alinea.WriteKey
	var created int64
	var revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &created, &revoked)
	k.CreatedAt, k.RevokedAt = fromMS(created), nullMS(revoked)
	return k, err
}

// WriteKeys lists the write keys, revoked ones included, newest first.
func (s *Store) WriteKeys(ctx context.Context) ([]alinea.WriteKey, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+writeKeyColumns+` FROM write_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list write keys: %w", err)
	}
	defer rows.Close()
	var out []alinea.WriteKey
	for rows.Next() {
		k, err := scanWriteKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list write keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeWriteKey stops a write key from sending events, for good. Revoking
// a revoked key changes nothing.
func (s *Store) RevokeWriteKey(ctx context.Context, id int64) (alinea.WriteKey, error) {
	var k alinea.WriteKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE write_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), ms(s.now()), id); err != nil {
			return fmt.Errorf("revoke write key %d: %w", id, err)
		}
		var err error
		k, err = scanWriteKey(tx.QueryRowContext(ctx, s.q(`SELECT `+writeKeyColumns+` FROM write_keys WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("write key", id)
		}
		return err
	})
	if err == nil {
		// Counted after the commit: a cache that sees the new count and
		// looks the key up again finds it revoked.
		s.writeKeyRevocations.Add(1)
	}
	return k, err
}

// WriteKeyRevocations counts the write keys revoked through this Store. A
// cache of write keys drops what it holds when the count changes, so a
// revocation takes effect at once in this process (other Alinea instances
// sharing a PostgreSQL database notice when their cache entries expire).
func (s *Store) WriteKeyRevocations() int64 { return s.writeKeyRevocations.Load() }

// WriteKeyBySecret returns the live write key a secret belongs to.
func (s *Store) WriteKeyBySecret(ctx context.Context, secret string) (alinea.WriteKey, error) {
	k, err := scanWriteKey(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+writeKeyColumns+` FROM write_keys WHERE hash = ? AND revoked_at IS NULL`),
		auth.HashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return k, alinea.Errorf(alinea.EUNAUTHORIZED, "unknown or revoked write key")
	}
	return k, err
}

// SetUserLocale changes the language a user's pages are shown in.
func (s *Store) SetUserLocale(ctx context.Context, userID int64, locale string) error {
	if locale != "es" && locale != "en" {
		return &alinea.Error{Code: alinea.EINVALID, Message: "invalid locale", Fields: map[string]string{"locale": "must be es or en; got " + strconv.Quote(locale)}}
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE users SET locale = ?, updated_at = ? WHERE id = ?`), locale, ms(s.now()), userID)
	if err != nil {
		return fmt.Errorf("set locale of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", userID)
	}
	return nil
}
