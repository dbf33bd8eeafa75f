package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

type ctxKey int

const userKey ctxKey = iota

// userFrom returns the authenticated user of a request.
func userFrom(ctx context.Context) alinea.User {
	u, _ := ctx.Value(userKey).(alinea.User)
	return u
}

// actorFrom describes the authenticated user as the actor of a change.
func actorFrom(ctx context.Context) alinea.Actor {
	u := userFrom(ctx)
	return alinea.Actor{Type: alinea.ActorUser, UserID: u.ID, Role: u.Role}
}

// apiHandler is a handler that returns its error for writeError.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// authed wraps an API handler with Bearer API key authentication and, when
// roles are given, a role check.
func (s *Server) authed(h apiHandler, roles ...alinea.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			s.writeError(w, r, alinea.Errorf(alinea.EUNAUTHORIZED, "missing Authorization: Bearer <api key> header"))
			return
		}
		u, err := s.store.UserByAPIKey(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(roles) > 0 && !hasRole(u.Role, roles) {
			s.writeError(w, r, alinea.Errorf(alinea.EFORBIDDEN, "role %s may not do this; allowed: %s", u.Role, joinRoles(roles)))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), userKey, u))
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func hasRole(r alinea.Role, roles []alinea.Role) bool {
	if r == alinea.RoleAdmin {
		return true
	}
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

func joinRoles(roles []alinea.Role) string {
	out := make([]string, 0, len(roles)+1)
	out = append(out, string(alinea.RoleAdmin))
	for _, r := range roles {
		if r != alinea.RoleAdmin {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, ", ")
}

// writeKeyCache keeps recently seen write keys in memory: ingestion is the
// hot path and write keys change rarely. A revocation through the same
// store empties it, so a revoked key is refused at once.
type writeKeyCache struct {
	store *store.Store
	ttl   time.Duration
	mu    sync.Mutex
	keys  map[string]cachedKey
	// revocations is the store's count of revoked keys when keys was filled.
	revocations int64
}

type cachedKey struct {
	key     alinea.WriteKey
	err     error
	expires time.Time
}

func newWriteKeyCache(st *store.Store, ttl time.Duration) *writeKeyCache {
	return &writeKeyCache{store: st, ttl: ttl, keys: map[string]cachedKey{}}
}

func (c *writeKeyCache) lookup(ctx context.Context, secret string) (alinea.WriteKey, error) {
	now := time.Now()
	c.mu.Lock()
	if n := c.store.WriteKeyRevocations(); n != c.revocations {
		c.keys, c.revocations = map[string]cachedKey{}, n
	}
	seen := c.revocations
	k, ok := c.keys[secret]
	c.mu.Unlock()
	if ok && now.Before(k.expires) {
		return k.key, k.err
	}
	key, err := c.store.WriteKeyBySecret(ctx, secret)
	if err != nil && alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
		return key, err // a database error is not cached
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store.WriteKeyRevocations() != seen {
		// A key was revoked while this one was read: what was read may be
		// stale, so it is not kept.
		return key, err
	}
	if len(c.keys) > 10000 {
		c.keys = map[string]cachedKey{} // bound memory against key-guessing floods
	}
	c.keys[secret] = cachedKey{key: key, err: err, expires: now.Add(c.ttl)}
	return key, err
}
