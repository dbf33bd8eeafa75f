package web

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// Sign-in tries: this many failures per client address and email within
// the window block further tries until the oldest failure leaves it.
const (
	signInMaxFailures = 5
	signInWindow      = 10 * time.Minute
)

// signInStore is what signing in and out needs from the store.
type signInStore interface {
	Authenticate(ctx context.Context, email, password string) (alinea.User, error)
	CreateSession(ctx context.Context, userID int64, expiresAt time.Time) (store.Session, string, error)
	DeleteSession(ctx context.Context, token string) error
	DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int64, error)
}

// signIn serves the sign-in page and signs users in and out.
type signIn struct {
	store   signInStore
	gate    *gate
	views   *views
	limiter *failureLimiter
	now     func() time.Time
	log     *slog.Logger
}

// signInForm is the sign-in page's data; Email keeps what was typed.
type signInForm struct {
	Email  string
	Next   string
	Error  string
	Notice string
}

func (h *signIn) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	next := localPath(r.URL.Query().Get("next"))
	if v.User != nil {
		http.Redirect(w, r, orHome(next), http.StatusSeeOther)
		return nil
	}
	form := signInForm{Next: next}
	if r.URL.Query().Get("expired") != "" {
		form.Notice = v.Lang.T("signin.expired")
	}
	if r.URL.Query().Get("signed_out") != "" {
		form.Notice = v.Lang.T("signin.signed_out")
	}
	return h.views.render(w, r, v, http.StatusOK, "signin", v.Lang.T("signin.title"), form)
}

func (h *signIn) submit(w http.ResponseWriter, r *http.Request, v *visit) error {
	form := signInForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localPath(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	key := clientIP(r) + "\x00" + strings.ToLower(form.Email)
	if wait, blocked := h.limiter.blocked(key); blocked {
		form.Error = v.Lang.T("signin.rate_limited", int(math.Ceil(wait.Minutes())))
		return h.views.render(w, r, v, http.StatusTooManyRequests, "signin", v.Lang.T("signin.title"), form)
	}
	if form.Email == "" || password == "" {
		form.Error = v.Lang.T("signin.missing")
		return h.views.render(w, r, v, http.StatusBadRequest, "signin", v.Lang.T("signin.title"), form)
	}
	u, err := h.store.Authenticate(r.Context(), form.Email, password)
	if alinea.ErrorCode(err) == alinea.EUNAUTHORIZED {
		h.limiter.fail(key)
		h.log.Info("sign-in failed", "email", form.Email, "ip", clientIP(r))
		form.Error = v.Lang.T("signin.invalid")
		return h.views.render(w, r, v, http.StatusUnauthorized, "signin", v.Lang.T("signin.title"), form)
	}
	if err != nil {
		return err
	}
	h.limiter.reset(key)
	// Housekeeping rides on sign-ins: they are rare, and ended sessions
	// are refused on lookup anyway.
	if _, err := h.store.DeleteExpiredSessions(r.Context(), sessionIdle); err != nil {
		h.log.Warn("deleting expired sessions failed", "err", err)
	}
	sess, token, err := h.store.CreateSession(r.Context(), u.ID, h.now().Add(sessionMax))
	if err != nil {
		return err
	}
	h.gate.setCookie(w, r, sessionCookie, token, sess.ExpiresAt.Sub(h.now()))
	h.log.Info("signed in", "user", u.ID)
	http.Redirect(w, r, orHome(form.Next), http.StatusSeeOther)
	return nil
}

func (h *signIn) signOut(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := h.store.DeleteSession(r.Context(), v.token); err != nil {
		return err
	}
	h.gate.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/signin?signed_out=1", http.StatusSeeOther)
	return nil
}

// clientIP is the address the request came from. Forwarding headers are not
// trusted: anyone can write them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func orHome(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// localeStore is what the language switch needs from the store.
type localeStore interface {
	SetUserLocale(ctx context.Context, userID int64, locale string) error
}

// languageSwitch changes the UI's language: for a signed-in user their
// setting, for a visitor a cookie.
type languageSwitch struct {
	store localeStore
	gate  *gate
	langs *locales
}

func (h *languageSwitch) change(w http.ResponseWriter, r *http.Request, v *visit) error {
	code := r.PostForm.Get("lang")
	if h.langs.get(code) == nil {
		return &alinea.Error{Code: alinea.EINVALID, Message: "unknown language", Fields: map[string]string{"lang": "must be es or en"}}
	}
	if v.User != nil {
		if err := h.store.SetUserLocale(r.Context(), v.User.ID, code); err != nil {
			return err
		}
	}
	h.gate.setCookie(w, r, langCookie, code, 365*24*time.Hour)
	http.Redirect(w, r, orHome(localPath(r.PostForm.Get("next"))), http.StatusSeeOther)
	return nil
}
