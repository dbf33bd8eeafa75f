package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/jobs"
)

// importers may import CSV files: the roles the API lets create imports
// (server/api.go); admin always may.
var importers = []alinea.Role{alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager}

const (
	// importPreviewRows is how many rows of the file the mapping step shows.
	importPreviewRows = 5
	// importShownProblems and importShownWarnings bound the rows a report
	// lists; the counts stay exact.
	importShownProblems = 100
	importShownWarnings = 20
	importRecent        = 15
	// importUploadTTL is how long an uploaded file waits for its mapping
	// before the next upload deletes it.
	importUploadTTL = 24 * time.Hour
	// importFormSlack is room for the multipart framing and the CSRF token
	// around a file of the largest size.
	importFormSlack = 64 << 10
	// importFormMemory is how much of a multipart form is kept in memory;
	// the rest of the file waits in a temporary file until it is read.
	importFormMemory = 1 << 20
)

// importStore is what the import pages read and write. It is a
// csvimport.Destination too, so that a dry run checks owners as the import
// job does.
type importStore interface {
	csvimport.Destination
	CreateImportUpload(ctx context.Context, userID int64, filename string, content []byte) (alinea.ImportJob, error)
	ImportUpload(ctx context.Context, id int64) (alinea.ImportJob, []byte, error)
	QueueImportUpload(ctx context.Context, id int64, dryRun bool, mapping map[string]string) (alinea.ImportJob, error)
	DeleteImportUpload(ctx context.Context, id int64) error
	DeleteStaleImportUploads(ctx context.Context, before time.Time) (int64, error)
	ImportJob(ctx context.Context, id int64) (alinea.ImportJob, error)
	ImportJobs(ctx context.Context, limit int) ([]alinea.ImportJob, error)
	Users(ctx context.Context) ([]alinea.User, error)
}

// importPages import contacts from a CSV file in steps: upload, map the
// columns (with a dry run as often as wanted), run as a background job and
// watch it. Between steps the file waits in the database as a pending
// import (store.CreateImportUpload), which the job then runs.
type importPages struct {
	store importStore
	// jobs is nil on a server without a job queue: files can be checked
	// but not imported.
	jobs  *jobs.Queue
	views *views
	now   func() time.Time
	log   *slog.Logger
}

// multipart serves a multipart form's POST (a file upload) for signed-in
// users of roles. The gate's form handling reads only URL-encoded bodies of
// maxFormBytes, so h reads the body itself — only once the gate knows who
// is asking — and must check its CSRF token (importPages.readUpload does).
func (g *gate) multipart(h handler, roles ...alinea.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := g.visit(w, r)
		if err != nil {
			g.fail(w, r, &visit{Lang: g.langs.negotiate(r.Header.Get("Accept-Language"))}, err)
			return
		}
		if v.User == nil {
			g.toSignIn(w, r, v)
			return
		}
		if v.User.Role != alinea.RoleAdmin && !slices.Contains(roles, v.User.Role) {
			g.fail(w, r, v, alinea.Errorf(alinea.EFORBIDDEN, "role %s may not open %s", v.User.Role, r.URL.Path))
			return
		}
		if err := h(w, r, v); err != nil {
			g.fail(w, r, v, err)
		}
	})
}

// importHomeData is the upload form and the latest imports.
type importHomeData struct {
	MaxMB   int
	MaxSize int
	Error   string
	Notice  string
	Recent  []importRow
}

type importRow struct {
	ID       int64
	Filename string
	By       string
	At       time.Time
	Status   alinea.ImportStatus
	Label    string
	DryRun   bool
	Rows     int
	Created  int
	Updated  int
	Failed   int
}

func (h *importPages) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	var notice string
	if r.URL.Query().Get("discarded") != "" {
		notice = v.Lang.T("import.upload.discarded")
	}
	return h.renderHome(w, r, v, http.StatusOK, "", notice)
}

func (h *importPages) renderHome(w http.ResponseWriter, r *http.Request, v *visit, status int, problem, notice string) error {
	l := v.Lang
	data := importHomeData{MaxMB: alinea.MaxImportUpload >> 20, MaxSize: alinea.MaxImportUpload, Error: problem, Notice: notice}
	recent, err := h.store.ImportJobs(r.Context(), importRecent)
	if err != nil {
		return err
	}
	names, err := h.userNames(r.Context())
	if err != nil {
		return err
	}
	for _, j := range recent {
		data.Recent = append(data.Recent, importRow{ID: j.ID, Filename: j.Filename, By: importBy(l, j.UserID, names), At: j.CreatedAt,
			Status: j.Status, Label: importStatusName(l, j.Status), DryRun: j.DryRun, Rows: j.Rows, Created: j.Created, Updated: j.Updated, Failed: j.Failed})
	}
	return h.views.render(w, r, v, status, "import", l.T("import.title"), data)
}

func (h *importPages) userNames(ctx context.Context) (map[int64]string, error) {
	users, err := h.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	return userNames(users), nil
}

func importBy(l *locale, userID int64, names map[int64]string) string {
	if userID == 0 {
		return l.T("import.by_api")
	}
	if n := names[userID]; n != "" {
		return n
	}
	return l.T("actor.former_user")
}

// importUploadProblem is something wrong with an uploaded file, told on the
// upload form.
type importUploadProblem struct {
	status int
	msg    string
}

func (p *importUploadProblem) Error() string { return p.msg }

// uploadFile takes the upload form: it stores the file as a pending
// import and sends the user to map its columns.
func (h *importPages) uploadFile(w http.ResponseWriter, r *http.Request, v *visit) error {
	name, content, err := h.readUpload(w, r, v)
	var problem *importUploadProblem
	if errors.As(err, &problem) {
		return h.renderHome(w, r, v, problem.status, problem.msg, "")
	}
	if err != nil {
		return err
	}
	ctx := r.Context()
	// Files nobody mapped are cleaned up here rather than by a timer: an
	// upload is when they start to matter.
	if _, err := h.store.DeleteStaleImportUploads(ctx, h.now().Add(-importUploadTTL)); err != nil {
		h.log.Warn("stale import uploads not deleted", "err", err)
	}
	up, err := h.store.CreateImportUpload(ctx, v.User.ID, name, content)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/import/uploads/%d", up.ID), http.StatusSeeOther)
	return nil
}

// readUpload reads and checks the file of the upload form. A file that
// cannot be imported is an *importUploadProblem in the user's language; a form
// without this session's CSRF token is errBadCSRF, checked before the file
// is looked at.
func (h *importPages) readUpload(w http.ResponseWriter, r *http.Request, v *visit) (string, []byte, error) {
	l := v.Lang
	limit := int64(alinea.MaxImportUpload)
	tooLarge := &importUploadProblem{http.StatusRequestEntityTooLarge, l.T("import.upload.error_too_large", alinea.MaxImportUpload>>20)}
	if r.ContentLength > limit+importFormSlack {
		return "", nil, tooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+importFormSlack)
	if err := r.ParseMultipartForm(importFormMemory); err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			return "", nil, tooLarge
		}
		return "", nil, &importUploadProblem{http.StatusBadRequest, l.T("import.upload.error_no_file")}
	}
	if !v.validCSRF(r.PostForm.Get("csrf_token")) {
		return "", nil, errBadCSRF
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return "", nil, &importUploadProblem{http.StatusUnprocessableEntity, l.T("import.upload.error_no_file")}
	}
	defer f.Close()
	name := importFileName(hdr.Filename)
	if hdr.Size > limit {
		return "", nil, tooLarge
	}
	content, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", nil, fmt.Errorf("read uploaded file %s: %w", name, err)
	}
	if int64(len(content)) > limit {
		return "", nil, tooLarge
	}
	if len(content) == 0 {
		return "", nil, &importUploadProblem{http.StatusUnprocessableEntity, l.T("import.upload.error_empty", name)}
	}
	// A spreadsheet saved in its own format (xlsx, ods, numbers are zip
	// files; xls is binary) or a PDF is not text at all.
	if !strings.HasPrefix(http.DetectContentType(content), "text/plain") {
		return "", nil, &importUploadProblem{http.StatusUnsupportedMediaType, l.T("import.upload.error_not_csv", name)}
	}
	if _, err := csvimport.ReadPreview(bytes.NewReader(content), 0); err != nil {
		switch {
		case errors.Is(err, csvimport.ErrEmptyFile):
			return "", nil, &importUploadProblem{http.StatusUnprocessableEntity, l.T("import.upload.error_empty", name)}
		case errors.Is(err, csvimport.ErrNotUTF8):
			return "", nil, &importUploadProblem{http.StatusUnprocessableEntity, l.T("import.upload.error_encoding", name)}
		}
		return "", nil, &importUploadProblem{http.StatusUnprocessableEntity, l.T("import.upload.error_header", name)}
	}
	return name, content, nil
}

// importFileName keeps the file's own name, without any folders a browser
// sent, within the 200 characters the API allows.
func importFileName(raw string) string {
	name := strings.TrimSpace(filepath.Base(strings.ReplaceAll(raw, "\\", "/")))
	if !utf8.ValidString(name) || name == "" || name == "." || name == "/" {
		return "upload.csv"
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// pendingUpload returns the user's pending import. Someone else's is not
// found: the file may hold personal data. One that has been queued since
// sends the user to its progress page (done is set).
func (h *importPages) pendingUpload(w http.ResponseWriter, r *http.Request, v *visit) (up alinea.ImportJob, content []byte, done bool, err error) {
	id, err := pathID(r)
	if err != nil {
		return up, nil, false, err
	}
	up, content, err = h.store.ImportUpload(r.Context(), id)
	if alinea.ErrorCode(err) == alinea.ECONFLICT {
		http.Redirect(w, r, fmt.Sprintf("/import/jobs/%d", id), http.StatusSeeOther)
		return up, nil, true, nil
	}
	if err != nil {
		return up, nil, false, err
	}
	if up.UserID != v.User.ID {
		return up, nil, false, alinea.Errorf(alinea.ENOTFOUND, "no pending import %d of user %d", id, v.User.ID)
	}
	return up, content, false, nil
}

// importMapData is the mapping step: every column with where it goes, the
// first rows, and a dry run's report once there is one.
type importMapData struct {
	ID       int64
	Filename string
	Bytes    int64
	Rows     int // estimated
	Columns  []importColumn
	Preview  [][]string
	Error    string
	// ErrorRaw is a problem only the import's English message explains.
	ErrorRaw string
	Report   *importReport
}

// importColumn is one column of the file in the mapping form. Target is
// the chosen select value: a contact field, "ignore" or "property", whose
// key is Property.
type importColumn struct {
	Index    int
	Name     string
	Label    string
	Sample   string
	Target   string
	Property string
	Detected string
	Options  []option
	Invalid  bool
}

// importTargetProperty is the select value for "a custom property".
const importTargetProperty = "property"

// importReport is what a dry run found.
type importReport struct {
	Rows, Valid, Skipped, Errors, Warnings int
	Problems                               []importProblem
	MoreProblems                           int
	WarningList                            []importProblem
	MoreWarnings                           int
}

// importProblem is a bad row as the user reads it. Raw marks a message
// shown as the import wrote it, in English.
type importProblem struct {
	Row    int
	Column string
	Text   string
	Raw    bool
}

func (h *importPages) mapping(w http.ResponseWriter, r *http.Request, v *visit) error {
	up, content, done, err := h.pendingUpload(w, r, v)
	if done || err != nil {
		return err
	}
	p, err := csvimport.ReadPreview(bytes.NewReader(content), importPreviewRows)
	if err != nil {
		return fmt.Errorf("preview import %d: %w", up.ID, err)
	}
	data := h.mapData(v.Lang, up, content, p)
	for i, c := range p.Columns {
		data.Columns[i].Target, data.Columns[i].Property = importSelectValue(c.Target)
	}
	if p.Problem != nil {
		data.Error = v.Lang.T("import.map.check_auto")
	}
	h.setOptions(v.Lang, data.Columns)
	return h.views.render(w, r, v, http.StatusOK, "import_map", v.Lang.T("import.map.title", up.Filename), data)
}

// mapData is the mapping page before the form's values are filled in.
func (h *importPages) mapData(l *locale, up alinea.ImportJob, content []byte, p csvimport.Preview) importMapData {
	data := importMapData{ID: up.ID, Filename: up.Filename, Bytes: up.Bytes, Rows: importEstimateRows(content), Preview: p.Rows}
	for i, c := range p.Columns {
		col := importColumn{Index: i, Name: c.Name, Label: c.Name}
		if c.Name == "" {
			col.Label = l.T("import.map.no_header", i+1)
		}
		for _, row := range p.Rows {
			if i < len(row) && strings.TrimSpace(row[i]) != "" {
				col.Sample = row[i]
				break
			}
		}
		switch c.Why {
		case "":
			col.Detected = l.T("import.map.detected", importTargetName(l, c.Target))
		case csvimport.WhyUnmapped:
			col.Detected = l.T("import.map.unmapped")
		case csvimport.WhyNoHeader:
			col.Detected = l.T("import.map.no_header_ignored")
		case csvimport.WhyReadOnly:
			col.Detected = l.T("import.map.read_only")
		}
		data.Columns = append(data.Columns, col)
	}
	// Rows of the preview as wide as the header, so that the table lines up.
	for i, row := range data.Preview {
		if len(row) < len(p.Columns) {
			data.Preview[i] = append(row, make([]string, len(p.Columns)-len(row))...)
		}
	}
	return data
}

// importSelectValue splits a csvimport target into the mapping form's values.
func importSelectValue(target string) (string, string) {
	if key, ok := strings.CutPrefix(target, csvimport.TargetProperty); ok {
		return importTargetProperty, key
	}
	return target, ""
}

// setOptions fills each column's select: the contact fields, a custom
// property, or nothing.
func (h *importPages) setOptions(l *locale, cols []importColumn) {
	for i := range cols {
		c := &cols[i]
		for _, f := range csvimport.Fields {
			c.Options = append(c.Options, option{Value: f, Label: importFieldName(l, f), Selected: c.Target == f})
		}
		c.Options = append(c.Options,
			option{Value: importTargetProperty, Label: l.T("import.map.as_property"), Selected: c.Target == importTargetProperty},
			option{Value: csvimport.TargetIgnore, Label: l.T("import.map.ignore"), Selected: c.Target == csvimport.TargetIgnore})
		if c.Property == "" && c.Target != importTargetProperty {
			c.Property = importPropertyKey(c.Name)
		}
	}
}

// importPropertyKey is the key offered for a column made a custom
// property by hand: its header in lower case, words joined by underscores.
func importPropertyKey(header string) string {
	return strings.Join(strings.Fields(strings.ToLower(header)), "_")
}

// importEstimateRows counts the file's lines after the header: a quoted value
// with a line break counts twice, which is close enough for a progress bar.
func importEstimateRows(content []byte) int {
	n := bytes.Count(content, []byte{'\n'})
	if len(content) > 0 && content[len(content)-1] != '\n' {
		n++
	}
	return max(n-1, 0)
}

// readImportMapping reads the mapping form into csvimport's Map (every column by
// its header). Choices that cannot work — no email column, two columns for
// one field, a property without a name — come back as a message, with the
// columns marked.
func readImportMapping(l *locale, r *http.Request, cols []importColumn) (map[string]string, string) {
	mapping := map[string]string{}
	byTarget := map[string]int{}
	var problem string
	fail := func(i int, msg string) {
		cols[i].Invalid = true
		if problem == "" {
			problem = msg
		}
	}
	for i := range cols {
		c := &cols[i]
		c.Target = r.PostForm.Get("col-" + strconv.Itoa(i))
		c.Property = strings.TrimSpace(r.PostForm.Get("prop-" + strconv.Itoa(i)))
		target := c.Target
		switch {
		case target == importTargetProperty:
			if c.Property == "" {
				fail(i, l.T("import.map.error_property_name", c.Label))
				continue
			}
			target = csvimport.TargetProperty + c.Property
		case target == csvimport.TargetIgnore || slices.Contains(csvimport.Fields, target):
		default:
			fail(i, l.T("import.map.error_choose", c.Label))
			continue
		}
		mapping[c.Name] = target
		if target == csvimport.TargetIgnore {
			continue
		}
		if j, dup := byTarget[target]; dup {
			cols[j].Invalid = true
			fail(i, l.T("import.map.error_twice", cols[j].Label, c.Label, importTargetName(l, target)))
			continue
		}
		byTarget[target] = i
	}
	if _, ok := byTarget[csvimport.FieldEmail]; !ok && problem == "" {
		problem = l.T("import.map.error_no_email")
	}
	return mapping, problem
}

// mapForm reads a POST of the mapping form against the file: the page's
// data with what was chosen, and the mapping when it can run.
func (h *importPages) mapForm(l *locale, r *http.Request, up alinea.ImportJob, content []byte) (importMapData, map[string]string, bool, error) {
	p, err := csvimport.ReadPreview(bytes.NewReader(content), importPreviewRows)
	if err != nil {
		return importMapData{}, nil, false, fmt.Errorf("preview import %d: %w", up.ID, err)
	}
	data := h.mapData(l, up, content, p)
	mapping, problem := readImportMapping(l, r, data.Columns)
	h.setOptions(l, data.Columns)
	if problem != "" {
		data.Error = problem
		return data, nil, false, nil
	}
	// The importer has the last word on the header, as it will when the
	// job runs; what it refuses here was not foreseen above.
	if _, err := csvimport.New(bytes.NewReader(content), csvimport.Options{Map: mapping, DryRun: true}); err != nil {
		data.Error, data.ErrorRaw = l.T("import.map.error_importer"), err.Error()
		return data, nil, false, nil
	}
	return data, mapping, true, nil
}

// dryRun checks every row with the chosen mapping — the importer and
// validation the job uses, owners looked up — writes nothing, and shows
// the report under the form.
func (h *importPages) dryRun(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	up, content, done, err := h.pendingUpload(w, r, v)
	if done || err != nil {
		return err
	}
	title := l.T("import.map.title", up.Filename)
	data, mapping, ok, err := h.mapForm(l, r, up, content)
	if err != nil {
		return err
	}
	if !ok {
		return h.views.render(w, r, v, http.StatusUnprocessableEntity, "import_map", title, data)
	}
	rep := &importReport{}
	im, err := csvimport.New(bytes.NewReader(content), csvimport.Options{Map: mapping, DryRun: true,
		Actor: alinea.Actor{Type: alinea.ActorImport, UserID: v.User.ID},
		OnProblem: func(p csvimport.Problem) {
			if p.Warning {
				if len(rep.WarningList) < importShownWarnings {
					rep.WarningList = append(rep.WarningList, newImportProblem(l, p.Row, p.Column, p.Message))
				}
				return
			}
			if len(rep.Problems) < importShownProblems {
				rep.Problems = append(rep.Problems, newImportProblem(l, p.Row, p.Column, p.Message))
			}
		}})
	if err != nil {
		return fmt.Errorf("dry run of import %d: %w", up.ID, err)
	}
	sum, err := im.Run(r.Context(), h.store)
	if err != nil {
		return fmt.Errorf("dry run of import %d: %w", up.ID, err)
	}
	rep.Rows, rep.Valid, rep.Skipped, rep.Errors, rep.Warnings = sum.Rows, sum.Valid, sum.Skipped, sum.Errors, sum.Warnings
	rep.MoreProblems = sum.Errors - len(rep.Problems)
	rep.MoreWarnings = sum.Warnings - len(rep.WarningList)
	data.Report = rep
	return h.views.render(w, r, v, http.StatusOK, "import_map", title, data)
}

// run queues the import with the chosen mapping and shows its progress.
func (h *importPages) run(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	up, content, done, err := h.pendingUpload(w, r, v)
	if done || err != nil {
		return err
	}
	title := l.T("import.map.title", up.Filename)
	data, mapping, ok, err := h.mapForm(l, r, up, content)
	if err != nil {
		return err
	}
	if ok && h.jobs == nil {
		data.Error, ok = l.T("import.map.error_no_queue"), false
	}
	if !ok {
		return h.views.render(w, r, v, http.StatusUnprocessableEntity, "import_map", title, data)
	}
	// Queued before the job exists, so that the job never runs a file
	// without its mapping; sent twice, the second finds it queued.
	if _, err := h.store.QueueImportUpload(r.Context(), up.ID, false, mapping); err != nil {
		if alinea.ErrorCode(err) == alinea.ECONFLICT {
			http.Redirect(w, r, fmt.Sprintf("/import/jobs/%d", up.ID), http.StatusSeeOther)
			return nil
		}
		return err
	}
	if _, err := h.jobs.Insert(r.Context(), jobs.ImportArgs{ImportID: up.ID}, nil); err != nil {
		return fmt.Errorf("import %d is queued but its job is not: %w", up.ID, err)
	}
	http.Redirect(w, r, fmt.Sprintf("/import/jobs/%d?rows=%d", up.ID, importEstimateRows(content)), http.StatusSeeOther)
	return nil
}

// discard deletes a pending upload.
func (h *importPages) discard(w http.ResponseWriter, r *http.Request, v *visit) error {
	up, _, done, err := h.pendingUpload(w, r, v)
	if done || err != nil {
		return err
	}
	if err := h.store.DeleteImportUpload(r.Context(), up.ID); err != nil && alinea.ErrorCode(err) != alinea.ENOTFOUND {
		return err
	}
	http.Redirect(w, r, "/import?discarded=1", http.StatusSeeOther)
	return nil
}

// importJobData is an import's progress page.
type importJobData struct {
	ID        int64
	Filename  string
	By        string
	At        time.Time
	Status    alinea.ImportStatus
	Label     string
	DryRun    bool
	Finished  bool
	Failed    bool
	Total     int
	Progress  string
	Rows      int
	Created   int
	Updated   int
	Errors    int
	Problems  []importProblem
	More      int
	Error     string
	StatusURL string
	// ContactsURL lists the contacts created or updated since the import
	// began.
	ContactsURL string
}

func (h *importPages) job(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := h.store.ImportJob(r.Context(), id)
	if err != nil {
		return err
	}
	if j.Status == alinea.ImportPending {
		if j.UserID != v.User.ID {
			return alinea.Errorf(alinea.ENOTFOUND, "no import %d", id)
		}
		http.Redirect(w, r, fmt.Sprintf("/import/uploads/%d", id), http.StatusSeeOther)
		return nil
	}
	names, err := h.userNames(r.Context())
	if err != nil {
		return err
	}
	total := importRowsHint(r)
	st := importState(l, j, total)
	data := importJobData{ID: j.ID, Filename: j.Filename, By: importBy(l, j.UserID, names), At: j.CreatedAt, Status: j.Status, Label: st.Label,
		DryRun: j.DryRun, Finished: st.Finished, Failed: j.Status == alinea.ImportFailed, Total: st.Total, Progress: st.Text,
		Rows: j.Rows, Created: j.Created, Updated: j.Updated, Errors: j.Failed,
		StatusURL: fmt.Sprintf("/import/jobs/%d/status?rows=%d", j.ID, total)}
	began := j.CreatedAt
	if j.StartedAt != nil {
		began = *j.StartedAt
	}
	data.ContactsURL = "/contacts?" + url.Values{"updated_since": {began.UTC().Format(time.RFC3339Nano)}}.Encode()
	if j.Status == alinea.ImportFailed {
		data.Error = j.Error
	}
	for _, e := range j.RowErrors {
		if len(data.Problems) == importShownProblems {
			break
		}
		data.Problems = append(data.Problems, newImportProblem(l, e.Row, e.Column, e.Problem))
	}
	data.More = j.Failed - len(data.Problems)
	return h.views.render(w, r, v, http.StatusOK, "import_job", l.T("import.job.title", j.Filename), data)
}

// importRowsHint is the estimated number of rows the page that queued an import
// passed on, for the progress bar; 0 when unknown.
func importRowsHint(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("rows"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// importStatusJSON is what the progress page's script polls.
type importStatusJSON struct {
	Status   alinea.ImportStatus `json:"status"`
	Label    string              `json:"label"`
	Finished bool                `json:"finished"`
	Rows     int                 `json:"rows"`
	Total    int                 `json:"total"`
	Created  int                 `json:"created"`
	Updated  int                 `json:"updated"`
	Failed   int                 `json:"failed"`
	Text     string              `json:"text"`
	// Shown holds the counts as the page writes them (1.234 / 1,234).
	Shown map[string]string `json:"shown"`
}

func (h *importPages) status(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := h.store.ImportJob(r.Context(), id)
	if err != nil {
		return err
	}
	if j.Status == alinea.ImportPending && j.UserID != v.User.ID {
		return alinea.Errorf(alinea.ENOTFOUND, "no import %d", id)
	}
	st := importState(v.Lang, j, importRowsHint(r))
	body, err := json.Marshal(importStatusJSON{Status: j.Status, Label: st.Label, Finished: st.Finished, Rows: j.Rows, Total: st.Total,
		Created: j.Created, Updated: j.Updated, Failed: j.Failed, Text: st.Text, Shown: map[string]string{
			"rows": v.Lang.Int(int64(j.Rows)), "created": v.Lang.Int(int64(j.Created)), "updated": v.Lang.Int(int64(j.Updated)), "failed": v.Lang.Int(int64(j.Failed))}})
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	return err
}

// importProgress is where an import is, in words.
type importProgress struct {
	Label    string
	Finished bool
	Total    int
	Text     string
}

// importState describes an import's progress against an estimated total
// (0 when unknown). A finished import's total is what it read.
func importState(l *locale, j alinea.ImportJob, total int) importProgress {
	p := importProgress{Label: importStatusName(l, j.Status), Total: total}
	switch j.Status {
	case alinea.ImportDone, alinea.ImportFailed:
		p.Finished, p.Total = true, j.Rows
		p.Text = l.T("import.job.rows_read", j.Rows)
	case alinea.ImportQueued, alinea.ImportPending:
		p.Text = l.T("import.job.waiting")
	default:
		if total < j.Rows {
			p.Total = 0
		}
		if p.Total > 0 {
			p.Text = l.T("import.job.rows_of", l.Int(int64(j.Rows)), l.Int(int64(p.Total)))
		} else {
			p.Text = l.T("import.job.rows_read", j.Rows)
		}
	}
	return p
}

func importStatusName(l *locale, s alinea.ImportStatus) string {
	switch s {
	case alinea.ImportPending:
		return l.T("import.status.pending")
	case alinea.ImportQueued:
		return l.T("import.status.queued")
	case alinea.ImportRunning:
		return l.T("import.status.running")
	case alinea.ImportDone:
		return l.T("import.status.done")
	case alinea.ImportFailed:
		return l.T("import.status.failed")
	}
	return string(s)
}

// importFieldName names a contact field a column can go to.
func importFieldName(l *locale, field string) string {
	switch field {
	case csvimport.FieldEmail:
		return l.T("import.field.email")
	case csvimport.FieldExternalID:
		return l.T("import.field.external_id")
	case csvimport.FieldFirstName:
		return l.T("import.field.first_name")
	case csvimport.FieldLastName:
		return l.T("import.field.last_name")
	case csvimport.FieldPhone:
		return l.T("import.field.phone")
	case csvimport.FieldJobTitle:
		return l.T("import.field.job_title")
	case csvimport.FieldAccountID:
		return l.T("import.field.account_id")
	case csvimport.FieldCountry:
		return l.T("import.field.country")
	case csvimport.FieldSource:
		return l.T("import.field.source")
	case csvimport.FieldStage:
		return l.T("import.field.stage")
	case csvimport.FieldOwner:
		return l.T("import.field.owner")
	case csvimport.FieldConsent:
		return l.T("import.field.consent")
	case csvimport.FieldProperties:
		return l.T("import.field.properties")
	}
	return field
}

// importTargetName names where a column goes: a field, a custom property or
// nowhere.
func importTargetName(l *locale, target string) string {
	if key, ok := strings.CutPrefix(target, csvimport.TargetProperty); ok {
		return l.T("import.map.property_named", key)
	}
	if target == csvimport.TargetIgnore {
		return l.T("import.map.ignored")
	}
	return importFieldName(l, target)
}
