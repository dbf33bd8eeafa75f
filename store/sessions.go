package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/auth"
)

// Session is a signed-in browser of the web UI. Its cookie carries a token of
// which only a hash is stored; CSRFSecret is the token its forms must carry.
type Session struct {
	ID         int64
	UserID     int64
	CSRFSecret string
	CreatedAt  time.Time
	// ExpiresAt is the absolute end, however active the session is.
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// touchEvery bounds how often a session's last_seen_at is written: the idle
// timeout is measured in hours, and a write per page view would put every
// click through SQLite's single writer.
const touchEvery = time.Minute

// CreateSession starts a session for a user that ends at expiresAt at the
// latest, and returns it with its token, which is not stored and so can only
// be given to the browser now.
func (s *Store) CreateSession(ctx context.Context, userID int64, expiresAt time.Time) (Session, string, error) {
	token, _, err := auth.NewSecret("session")
	if err != nil {
		return Session{}, "", err
	}
	csrf, _, err := auth.NewSecret("csrf")
	if err != nil {
		return Session{}, "", err
	}
	now := fromMS(ms(s.now()))
	sess := Session{UserID: userID, CSRFSecret: csrf, CreatedAt: now, ExpiresAt: fromMS(ms(expiresAt)), LastSeenAt: now}
	if !sess.ExpiresAt.After(now) {
		return Session{}, "", alinea.Errorf(alinea.EINVALID, "a session must end after it starts (expires %s, now %s)", sess.ExpiresAt.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO sessions (token_hash, user_id, csrf_secret, created_at, expires_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), auth.HashSecret(token), userID, csrf, ms(now), ms(sess.ExpiresAt), ms(now)).Scan(&sess.ID)
	if err != nil {
		return Session{}, "", fmt.Errorf("create session for user %d: %w", userID, mapErr(err))
	}
	return sess, token, nil
}

// SessionByToken returns a live session with its user and records that it
// was used. A session lives until its ExpiresAt and while it was last used
// less than idle ago, and only while its user is active; any other token,
// ended or unknown, is EUNAUTHORIZED.
func (s *Store) SessionByToken(ctx context.Context, token string, idle time.Duration) (Session, alinea.User, error) {
	var sess Session
	var u alinea.User
	var created, expires, seen, userCreated int64
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT s.id, s.user_id, s.csrf_secret, s.created_at, s.expires_at, s.last_seen_at,
		u.id, u.email, u.name, u.role, u.locale, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.deactivated_at IS NULL`), auth.HashSecret(token)).
		Scan(&sess.ID, &sess.UserID, &sess.CSRFSecret, &created, &expires, &seen, &u.ID, &u.Email, &u.Name, &u.Role, &u.Locale, &userCreated)
	ended := alinea.Errorf(alinea.EUNAUTHORIZED, "the session has ended or does not exist; sign in again")
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, alinea.User{}, ended
	}
	if err != nil {
		return Session{}, alinea.User{}, fmt.Errorf("look up session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeenAt, u.CreatedAt = fromMS(created), fromMS(expires), fromMS(seen), fromMS(userCreated)
	now := fromMS(ms(s.now()))
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
		return Session{}, alinea.User{}, ended
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		// The condition on last_seen_at keeps concurrent requests from
		// writing the same touch twice.
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`),
			ms(now), sess.ID, ms(now)); err != nil {
			return Session{}, alinea.User{}, fmt.Errorf("touch session %d: %w", sess.ID, err)
		}
		sess.LastSeenAt = now
	}
	return sess, u, nil
}

// DeleteSession ends the session of a token (signing out). An unknown token
// is not an error: the session is gone either way.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE token_hash = ?`), auth.HashSecret(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions that have ended, past their
// absolute end or idle for idle, and says how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int64, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`), ms(now), ms(now.Add(-idle)))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
