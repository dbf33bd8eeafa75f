package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/segment"
)

// ingestRoutes is the Segment-compatible ingestion API's table of contents.
// The one-letter paths are analytics.js's: text/plain bodies (no CORS
// preflight) with the writeKey inside. /v1/import is Segment's alias of
// /v1/batch for historical data.
func (s *Server) ingestRoutes() {
	s.ingestRoute("/v1/identify", "identify")
	s.ingestRoute("/v1/track", "track")
	s.ingestRoute("/v1/page", "page")
	s.ingestRoute("/v1/screen", "screen")
	s.ingestRoute("/v1/group", "group")
	s.ingestRoute("/v1/alias", "alias")
	s.ingestRoute("/v1/batch", batchCall)
	s.ingestRoute("/v1/import", batchCall)

	s.ingestRoute("/v1/i", "identify")
	s.ingestRoute("/v1/t", "track")
	s.ingestRoute("/v1/p", "page")
	s.ingestRoute("/v1/s", "screen")
	s.ingestRoute("/v1/g", "group")
	s.ingestRoute("/v1/a", "alias")
	s.ingestRoute("/v1/b", batchCall)
}

const batchCall = "batch"

// ingestRoute registers POST path and its CORS preflight.
func (s *Server) ingestRoute(path, call string) {
	s.handle("POST "+path, s.ingest(call))
	s.handle("OPTIONS "+path, corsPreflight)
}

// corsPreflight lets browsers send calls with JSON bodies and basic auth
// from any site, as api.segment.io does.
func corsPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// ingestOK is Segment's success body.
var ingestOK = []byte(`{"success":true}` + "\n")

// ingest handles one ingestion endpoint. It answers 200 only once the store
// has durably committed the calls.
func (s *Server) ingest(call string) http.HandlerFunc {
	limit := int64(segment.MaxEventBytes)
	if call == batchCall {
		limit = segment.MaxBatchBytes
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if err := s.serveIngest(w, r, call, limit); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(ingestOK)
	}
}

func (s *Server) serveIngest(w http.ResponseWriter, r *http.Request, call string, limit int64) error {
	received := s.now()
	ctx := r.Context()
	// A key in the Authorization header is checked before the body is read:
	// an unknown key costs no parsing.
	var key alinea.WriteKey
	secret := basicAuthKey(r)
	if secret != "" {
		var err error
		if key, err = s.keys.lookup(ctx, secret); err != nil {
			return err
		}
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(buf)
	buf.Reset()
	if err := readBody(w, r, buf, limit); err != nil {
		return err
	}
	var req segment.Request
	var err error
	if call == batchCall {
		req, err = segment.ParseBatch(buf.Bytes(), received)
	} else {
		req, err = segment.ParseCall(buf.Bytes(), call, received)
	}
	if err != nil {
		return err
	}
	if secret == "" {
		if req.WriteKey == "" {
			return alinea.Errorf(alinea.EUNAUTHORIZED, "missing write key: send it as the HTTP basic-auth user name or as writeKey in the body")
		}
		if key, err = s.keys.lookup(ctx, req.WriteKey); err != nil {
			return err
		}
	}
	if len(req.Messages) > 0 {
		if _, err := s.store.Ingest(ctx, key.ID, req.Messages); err != nil {
			return fmt.Errorf("ingest %d calls: %w", len(req.Messages), err)
		}
	}
	// The valid calls of a batch are stored even when others are not; the
	// package segment comment explains why.
	return req.Err()
}

// basicAuthKey returns the write key of an "Authorization: Basic" header.
// Segment's libraries send it as the user name with an empty password; a
// key given as the password alone is accepted too.
func basicAuthKey(r *http.Request) string {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	if user = strings.TrimSpace(user); user != "" {
		return user
	}
	return strings.TrimSpace(pass)
}

// bodyPool recycles request buffers: the parser copies what it keeps.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the request body into buf, undoing gzip, and fails with
// ETOOLARGE when the body — compressed or not — exceeds limit.
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return tooLargeOr(err, limit, alinea.Errorf(alinea.EINVALID, "body is not valid gzip: %v", err))
		}
		defer zr.Close()
		// One byte over the limit tells an oversized body from one that
		// fits exactly.
		src = io.LimitReader(zr, limit+1)
	default:
		return &alinea.Error{Code: alinea.EINVALID, Message: "unsupported request encoding",
			Fields: map[string]string{"Content-Encoding": fmt.Sprintf("%q is not supported; send gzip or nothing", enc)}}
	}
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(src); err != nil {
		return tooLargeOr(err, limit, alinea.Errorf(alinea.EINVALID, "could not read the body: %v", err))
	}
	if int64(buf.Len()) > limit {
		return bodyTooLarge(limit)
	}
	return nil
}

func tooLargeOr(err error, limit int64, other error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return bodyTooLarge(limit)
	}
	return other
}

func bodyTooLarge(limit int64) error {
	what := "a single call"
	if limit == segment.MaxBatchBytes {
		what = "a batch"
	}
	return alinea.Errorf(alinea.ETOOLARGE, "request body is larger than %d bytes, Segment's limit for %s", limit, what)
}
