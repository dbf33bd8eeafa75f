// Package web is Alinea's server-rendered user interface: the pages both
// teams work in, in Spanish and English. Templates (templates/*.html) are
// parsed once at start, one set per language; static files (static/) are
// served under content-hashed URLs. Pages work without JavaScript; app.js
// only makes them quicker to use. The route table is in routes.go.
package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
)

// Config holds the UI's dependencies.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Secure marks cookies Secure. Set it when Alinea is reached over HTTPS
	// through a proxy that terminates TLS; requests that arrive over TLS get
	// Secure cookies anyway.
	Secure bool
	// Jobs is the background job queue (imports, re-evaluation after an
	// agreement is activated); nil on a server without one.
	Jobs *jobs.Queue
}

// UI is the web interface, an http.Handler with its own routes.
type UI struct {
	mux *http.ServeMux
}

// New builds the UI. The templates, message catalogs and static files are
// embedded in the binary, so failing to load them is a bug in the build;
// New panics then, naming the file.
func New(cfg Config) *UI {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	langs, err := loadLocales()
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	files, err := loadAssets()
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	views, err := parseViews(langs, files, cfg.Now)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	ui := &UI{mux: http.NewServeMux()}
	ui.routes(cfg, langs, files, views)
	return ui
}

// ServeHTTP serves a UI request with the headers every page carries.
func (ui *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing is loaded from elsewhere and nothing inline runs: the
	// templates carry no inline scripts or styles.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	ui.mux.ServeHTTP(w, r)
}
