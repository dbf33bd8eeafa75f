package server

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes every route the server registers; TestOpenAPICoversRoutes
// fails when a route and the document disagree.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves the document without authentication so that clients and
// tools can discover the API before they hold a key.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDoc)
}
