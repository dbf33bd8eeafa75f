package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/jobs"
)

// maxImportBody bounds an uploaded CSV file; larger files go through the
// CLI (`alinea import`), which streams.
const maxImportBody = alinea.MaxImportUpload

// createImport accepts a CSV file — as multipart/form-data (field "file",
// plus "dry_run" and repeated "map" fields of the form column=field) or as
// a text/csv body with the same options as query parameters (map pairs
// separated by ";") — checks its header at once and imports it in the
// background. The response is 202 with the import's status URL.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) error {
	if s.jobs == nil {
		return errors.New("no job queue configured")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBody)
	var (
		content  []byte
		filename string
		dryRun   string
		maps     []string
		err      error
	)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return uploadError(err)
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			return &alinea.Error{Code: alinea.EINVALID, Message: "no file uploaded", Fields: map[string]string{"file": "is required: the CSV file to import"}}
		}
		defer f.Close()
		if content, err = io.ReadAll(f); err != nil {
			return uploadError(err)
		}
		filename, dryRun, maps = hdr.Filename, r.FormValue("dry_run"), r.MultipartForm.Value["map"]
	case "text/csv", "text/plain", "application/octet-stream", "":
		q := newQuery(r, "filename", "dry_run", "map")
		filename, dryRun = q.str("filename", 200), q.str("dry_run", 5)
		if m := q.str("map", 4000); m != "" {
			maps = strings.Split(m, ";")
		}
		if err := q.err(); err != nil {
			return err
		}
		if content, err = io.ReadAll(r.Body); err != nil {
			return uploadError(err)
		}
	default:
		return &alinea.Error{Code: alinea.EINVALID, Message: "unsupported Content-Type", Fields: map[string]string{"Content-Type": fmt.Sprintf("must be multipart/form-data or text/csv; got %q", ct)}}
	}
	if len(content) == 0 {
		return &alinea.Error{Code: alinea.EINVALID, Message: "the file is empty", Fields: map[string]string{"file": "is empty: expected a header row naming the columns"}}
	}
	fe := alinea.FieldErrors{}
	mapping := map[string]string{}
	for _, pair := range maps {
		col, field, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(col) == "" || strings.TrimSpace(field) == "" {
			fe.Add("map", fmt.Sprintf("%q is not column=field", pair))
			continue
		}
		mapping[strings.TrimSpace(col)] = strings.TrimSpace(field)
	}
	dry := false
	switch strings.ToLower(dryRun) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		dry = true
	default:
		fe.Add("dry_run", fmt.Sprintf("must be true or false; got %q", dryRun))
	}
	if err := fe.Err("invalid import"); err != nil {
		return err
	}
	if filename == "" {
		filename = "upload.csv"
	}
	// The header is checked now, so a file without an email column or with
	// a bad mapping is refused at once rather than failing later.
	if _, err := csvimport.New(bytes.NewReader(content), csvimport.Options{Map: mapping, DryRun: true}); err != nil {
		return &alinea.Error{Code: alinea.EINVALID, Message: "the file cannot be imported", Fields: map[string]string{"file": err.Error()}}
	}
	imp, err := s.store.CreateImportJob(r.Context(), userFrom(r.Context()).ID, filename, dry, mapping, content)
	if err != nil {
		return err
	}
	if _, err := s.jobs.Insert(r.Context(), jobs.ImportArgs{ImportID: imp.ID}, nil); err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/imports/%d", imp.ID))
	writeJSON(w, http.StatusAccepted, imp)
	return nil
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return alinea.Errorf(alinea.ETOOLARGE, "the file is larger than %d MB; import it with `alinea import contacts`, which streams", maxImportBody>>20)
	}
	return alinea.Errorf(alinea.EINVALID, "could not read the upload: %v", err)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	imp, err := s.store.ImportJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, imp)
	return nil
}
