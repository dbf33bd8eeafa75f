package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/alinea-crm/alinea"
)

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

var statusByCode = map[string]int{
	alinea.EINVALID:      http.StatusBadRequest,
	alinea.ENOTFOUND:     http.StatusNotFound,
	alinea.ECONFLICT:     http.StatusConflict,
	alinea.EFORBIDDEN:    http.StatusForbidden,
	alinea.EUNAUTHORIZED: http.StatusUnauthorized,
	alinea.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	alinea.EINTERNAL:     http.StatusInternalServerError,
}

// writeError is the one place where errors become HTTP responses; only
// unexpected errors are logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := alinea.ErrorCode(err)
	status := statusByCode[code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Fields = alinea.ErrorFields(err)
	var de *alinea.Error
	if errors.As(err, &de) {
		body.Error.Message = de.Message
	} else {
		body.Error.Message = "internal error"
	}
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized && strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="alinea"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxAPIBody bounds REST request bodies.
const maxAPIBody = 1 << 20

// decodeJSON reads one JSON object into v, rejecting unknown fields,
// trailing data and bodies over limit, with errors that name the problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return alinea.Errorf(alinea.EINVALID, "request body must hold a single JSON object")
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return alinea.Errorf(alinea.ETOOLARGE, "request body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return alinea.Errorf(alinea.EINVALID, "request body is empty; a JSON object is expected")
	case errors.As(err, &syn):
		return alinea.Errorf(alinea.EINVALID, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &alinea.Error{Code: alinea.EINVALID, Message: "wrong type in request body", Fields: map[string]string{field: fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &alinea.Error{Code: alinea.EINVALID, Message: "unknown field in request body", Fields: map[string]string{name: "is not a known field"}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return alinea.Errorf(alinea.EINVALID, "malformed JSON: the body ends too early")
	}
	return alinea.Errorf(alinea.EINVALID, "malformed JSON: %v", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return kind
}
