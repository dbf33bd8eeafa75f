package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// Cookies and session lifetimes.
const (
	sessionCookie = "alinea_session"
	// csrfCookie holds the CSRF token of visitors who are not signed in (the
	// sign-in and language forms); signed-in forms use the session's.
	csrfCookie = "alinea_csrf"
	langCookie = "lang"

	sessionIdle = 12 * time.Hour
	sessionMax  = 7 * 24 * time.Hour

	// maxFormBytes bounds form bodies; a note may hold 20,000 characters.
	maxFormBytes = 256 << 10
)

// handler is a page handler: it writes the page or returns an error for the
// error page.
type handler func(w http.ResponseWriter, r *http.Request, v *visit) error

// visit is what a handler knows about who is asking: the signed-in user (nil
// for visitors), the CSRF token their forms must carry and their language.
type visit struct {
	User  *alinea.User
	CSRF  string
	Lang  *locale
	token string
	// stale is set when the request carried a session cookie that no longer
	// names a live session: the session expired.
	stale bool
}

// sessionStore is what the gate needs from the store.
type sessionStore interface {
	SessionByToken(ctx context.Context, token string, idle time.Duration) (store.Session, alinea.User, error)
}

// gate resolves who is asking, checks CSRF tokens and roles, and turns
// handler errors into error pages: the one place where that happens.
type gate struct {
	store  sessionStore
	langs  *locales
	views  *views
	log    *slog.Logger
	secure bool
}

// public serves a page anyone may see; its forms still need a CSRF token.
func (g *gate) public(h handler) http.Handler {
	return g.wrap(h, false, nil)
}

// member serves a page for signed-in users (of the given roles, when some
// are given; admin always passes). Visitors are sent to sign in and come
// back afterwards.
func (g *gate) member(h handler, roles ...alinea.Role) http.Handler {
	return g.wrap(h, true, roles)
}

func (g *gate) wrap(h handler, signedIn bool, roles []alinea.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := g.visit(w, r)
		if err != nil {
			g.fail(w, r, &visit{Lang: g.langs.negotiate(r.Header.Get("Accept-Language"))}, err)
			return
		}
		if signedIn && v.User == nil {
			g.toSignIn(w, r, v)
			return
		}
		if v.User != nil && len(roles) > 0 && v.User.Role != alinea.RoleAdmin && !slices.Contains(roles, v.User.Role) {
			g.fail(w, r, v, alinea.Errorf(alinea.EFORBIDDEN, "role %s may not open %s", v.User.Role, r.URL.Path))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				g.fail(w, r, v, formError(err))
				return
			}
			if !v.validCSRF(r.PostForm.Get("csrf_token")) {
				g.fail(w, r, v, errBadCSRF)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			g.fail(w, r, v, err)
		}
	})
}

// visit reads the session cookie and the language of a request. A visitor
// without a session gets a CSRF cookie for the forms they may send.
func (g *gate) visit(w http.ResponseWriter, r *http.Request) (*visit, error) {
	v := &visit{}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		sess, u, err := g.store.SessionByToken(r.Context(), c.Value, sessionIdle)
		switch {
		case err == nil:
			v.User, v.CSRF, v.token = &u, sess.CSRFSecret, c.Value
		case alinea.ErrorCode(err) == alinea.EUNAUTHORIZED:
			v.stale = true
			g.clearCookie(w, r, sessionCookie)
		default:
			return nil, err
		}
	}
	if v.User == nil {
		if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
			v.CSRF = c.Value
		} else {
			v.CSRF = randomToken()
			g.setCookie(w, r, csrfCookie, v.CSRF, 0)
		}
	}
	v.Lang = g.language(r, v.User)
	return v, nil
}

// language picks the signed-in user's language, else the one chosen with
// the language switch (a cookie), else the browser's, else Spanish.
func (g *gate) language(r *http.Request, u *alinea.User) *locale {
	if u != nil {
		if l := g.langs.get(u.Locale); l != nil {
			return l
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l := g.langs.get(c.Value); l != nil {
			return l
		}
	}
	return g.langs.negotiate(r.Header.Get("Accept-Language"))
}

// validCSRF compares a form's token with the visit's in constant time.
func (v *visit) validCSRF(token string) bool {
	return v.CSRF != "" && subtle.ConstantTimeCompare([]byte(token), []byte(v.CSRF)) == 1
}

// toSignIn sends a visitor to the sign-in page, to come back to this page
// (a GET) or to the page the form was on (a POST, whose data is lost).
func (g *gate) toSignIn(w http.ResponseWriter, r *http.Request, v *visit) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = localPath(r.Referer())
	}
	q := url.Values{}
	if back != "" && back != "/" {
		q.Set("next", back)
	}
	if v.stale {
		q.Set("expired", "1")
	}
	target := "/signin"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath returns the path and query of a URL of this site, or "" for
// anything that could lead elsewhere: redirects after sign-in and language
// changes must not become open redirects.
func localPath(raw string) string {
	if strings.HasPrefix(raw, "//") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return ""
	}
	if u.Scheme != "" || u.Host != "" {
		// An absolute URL (a Referer) names this site's page by its path.
		u.Scheme, u.Host, u.User = "", "", nil
	}
	u.Fragment = ""
	return u.RequestURI()
}

// setCookie sets a cookie for the whole site that lasts maxAge (until the
// browser closes when zero). Max-Age, unlike Expires, does not depend on
// the browser's clock agreeing with the server's.
func (g *gate) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second), HttpOnly: true,
		Secure: g.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func (g *gate) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: g.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// errBadCSRF is a form sent without this site's token for the session: a
// forged request, or a page left open across a sign-out.
var errBadCSRF = &alinea.Error{Code: alinea.EFORBIDDEN, Message: "missing or wrong CSRF token"}

func formError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return alinea.Errorf(alinea.ETOOLARGE, "form larger than %d bytes", maxFormBytes)
	}
	return alinea.Errorf(alinea.EINVALID, "unreadable form: %v", err)
}

// errorPage is the data of the error page.
type errorPage struct {
	Message string
	Status  int
}

// fail shows an error page in the visitor's language; only unexpected
// errors are logged.
func (g *gate) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	l := v.Lang
	status, msg := http.StatusInternalServerError, l.T("error.internal")
	switch {
	case errors.Is(err, errBadCSRF):
		status, msg = http.StatusForbidden, l.T("error.csrf")
	default:
		switch alinea.ErrorCode(err) {
		case alinea.ENOTFOUND:
			status, msg = http.StatusNotFound, l.T("error.not_found")
		case alinea.EFORBIDDEN:
			status, msg = http.StatusForbidden, l.T("error.forbidden")
		case alinea.EINVALID:
			status, msg = http.StatusBadRequest, l.T("error.invalid")
		case alinea.ETOOLARGE:
			status, msg = http.StatusRequestEntityTooLarge, l.T("error.too_large")
		}
	}
	if status == http.StatusInternalServerError {
		g.log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	page := errorPage{Message: msg, Status: status}
	if rerr := g.views.render(w, r, v, status, "error", v.Lang.T("error.title"), page); rerr != nil {
		g.log.Error("error page failed", "path", r.URL.Path, "err", rerr)
		http.Error(w, page.Message, status)
	}
}
