// Package server is Alinea's HTTP side: the REST API under /api/v1, the
// Segment-compatible ingestion API under /v1, and the web UI (package web)
// for everything else. Each area has its own route table.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/web"
)

// Server serves Alinea over HTTP.
type Server struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
	keys  *writeKeyCache
	jobs  *jobs.Queue
	// routes lists every registered pattern so that a test can check each one
	// against the OpenAPI document.
	routes []string
}

// Config holds the server's dependencies.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Jobs is the background job queue (asynchronous imports).
	Jobs *jobs.Queue
	// SecureCookies marks the web UI's cookies Secure, for HTTPS through a
	// proxy that terminates TLS.
	SecureCookies bool
}

// New builds a server and its routes.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, log: cfg.Logger, now: cfg.Now, jobs: cfg.Jobs, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keys = newWriteKeyCache(cfg.Store, time.Minute)
	s.apiRoutes()
	s.ingestRoutes()
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// Not a route of its own (so not in the OpenAPI document): API and
	// ingestion clients get JSON errors for unknown paths and methods too.
	s.mux.HandleFunc("/api/", s.apiNotFound)
	s.mux.HandleFunc("/v1/", s.apiNotFound)
	// Everything else is the web UI, with its own route table (web/routes.go).
	s.mux.Handle("/", web.New(web.Config{Store: cfg.Store, Logger: s.log, Now: s.now, Secure: cfg.SecureCookies, Jobs: cfg.Jobs}))
	return s
}

// apiNotFound answers 405 with Allow when the path exists under another
// method, else 404, in the API's JSON error shape.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "/v1/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		var body errorBody
		body.Error.Code = "method_not_allowed"
		body.Error.Message = r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", ")
		writeJSON(w, http.StatusMethodNotAllowed, body)
		return
	}
	s.writeError(w, r, alinea.Errorf(alinea.ENOTFOUND, "no API route %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
}

// handle registers a route and records its pattern; every area registers its
// routes through it so that none escapes the OpenAPI check.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully so that in-flight requests (and their commits) finish.
func (s *Server) ListenAndServe(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
