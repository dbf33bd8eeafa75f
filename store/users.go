package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/auth"
)

const userColumns = "id, email, name, role, locale, created_at"

func scanUser(row interface{ Scan(...any) error }) (alinea.User, error) {
	var u alinea.User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &created)
	u.CreatedAt = fromMS(created)
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
	u, err := scanUser(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", id)
	}
	return u, err
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

// Users lists every user.
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

// Authenticate checks an email and password; a wrong email and a wrong
// password give the same error so accounts cannot be enumerated.
func (s *Store) Authenticate(ctx context.Context, email, password string) (alinea.User, error) {
	norm, _ := alinea.NormalizeEmail(email)
	var hash string
	row := s.rdb.QueryRowContext(ctx, s.q(`SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`), norm)
	var u alinea.User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &created, &hash)
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

// CreateAPIKey makes a new API key for a user and returns its secret, which
// is shown once and stored only as a hash.
func (s *Store) CreateAPIKey(ctx context.Context, userID int64, name string) (alinea.APIKey, string, error) {
	if name == "" {
		return alinea.APIKey{}, "", &alinea.Error{Code: alinea.EINVALID, Message: "invalid API key", Fields: map[string]string{"name": "is required"}}
	}
	secret, prefix, err := auth.NewSecret("key")
	if err != nil {
		return alinea.APIKey{}, "", err
	}
	k := alinea.APIKey{UserID: userID, Name: name, Prefix: prefix, CreatedAt: fromMS(ms(s.now()))}
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		userID, name, prefix, auth.HashSecret(secret), ms(k.CreatedAt)).Scan(&k.ID)
	if err != nil {
		return alinea.APIKey{}, "", fmt.Errorf("create API key: %w", mapErr(err))
	}
	return k, secret, nil
}

// UserByAPIKey returns the user an API key secret belongs to.
func (s *Store) UserByAPIKey(ctx context.Context, secret string) (alinea.User, error) {
	row := s.rdb.QueryRowContext(ctx, s.q(`SELECT u.id, u.email, u.name, u.role, u.locale, u.created_at
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = ? AND k.revoked_at IS NULL`), auth.HashSecret(secret))
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return u, alinea.Errorf(alinea.EUNAUTHORIZED, "unknown or revoked API key")
	}
	return u, err
}

// CreateWriteKey makes a new ingestion write key and returns its secret.
func (s *Store) CreateWriteKey(ctx context.Context, name string) (alinea.WriteKey, string, error) {
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

// WriteKeyBySecret returns the write key a secret belongs to.
func (s *Store) WriteKeyBySecret(ctx context.Context, secret string) (alinea.WriteKey, error) {
	var k alinea.WriteKey
	var created int64
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT id, name, prefix, created_at FROM write_keys WHERE hash = ? AND revoked_at IS NULL`),
		auth.HashSecret(secret)).Scan(&k.ID, &k.Name, &k.Prefix, &created)
	k.CreatedAt = fromMS(created)
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
