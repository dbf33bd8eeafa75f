package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/jobs"
)

// maxAgreementBody bounds an agreement document: far more than a
// hand-written agreement with comments needs, small enough to parse at once.
const maxAgreementBody = 256 << 10

// documentTypes are the media types an agreement document may be sent as.
var documentTypes = map[string]bool{
	"application/yaml":   true,
	"text/yaml":          true,
	"application/x-yaml": true,
	"application/json":   true,
}

// draftResponse is a stored draft with what still keeps it from being
// proposed, so that an editor can show the problems next to the text.
type draftResponse struct {
	agreement.Version
	Problems []agreement.Problem `json:"problems"`
}

// validationResponse is the answer of POST /agreements/validate.
type validationResponse struct {
	Valid    bool                `json:"valid"`
	Problems []agreement.Problem `json:"problems"`
}

// diffResponse lists what changed from one version to another.
type diffResponse struct {
	From    int64              `json:"from"`
	To      int64              `json:"to"`
	Changes []agreement.Change `json:"changes"`
}

// backtestResponse holds one report per version replayed.
type backtestResponse struct {
	Reports []agreement.Report `json:"reports"`
}

// readDocument reads an agreement document sent as YAML or JSON. A missing
// Content-Type is accepted (the document says what it is); any other type
// is refused so that, e.g., a form-encoded upload is not parsed as YAML.
func readDocument(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	isJSON := false
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !documentTypes[mt] {
			return nil, &alinea.Error{Code: alinea.EINVALID, Message: "unsupported Content-Type for an agreement document",
				Fields: map[string]string{"Content-Type": fmt.Sprintf("must be application/yaml, text/yaml, application/x-yaml or application/json; got %q", ct)}}
		}
		isJSON = mt == "application/json"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAgreementBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &alinea.Error{Code: alinea.ETOOLARGE, Message: "agreement document too large",
				Fields: map[string]string{"document": fmt.Sprintf("is larger than %d KB (%d bytes)", maxAgreementBody>>10, maxAgreementBody)}}
		}
		return nil, fmt.Errorf("read agreement document: %w", err)
	}
	if trimmed := bytes.TrimSpace(body); isJSON && len(trimmed) > 0 && trimmed[0] != '{' {
		return nil, &alinea.Error{Code: alinea.EINVALID, Message: "malformed JSON",
			Fields: map[string]string{"document": "Content-Type is application/json but the body is not a JSON object"}}
	}
	return body, nil
}

// lineInMessage finds the line a YAML parser error names ("line 3: ...").
var lineInMessage = regexp.MustCompile(`\bline (\d+):`)

// problemsOf returns the problems an agreement error lists, with the line
// filled in for parse errors, whose position is only in the message. Any
// other error is returned as is.
func problemsOf(err error) ([]agreement.Problem, error) {
	if err == nil {
		return []agreement.Problem{}, nil
	}
	var ps *agreement.Problems
	if !errors.As(err, &ps) {
		return nil, err
	}
	out := make([]agreement.Problem, len(ps.List))
	for i, p := range ps.List {
		if p.Line == 0 {
			if m := lineInMessage.FindStringSubmatch(p.Message); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
			}
		}
		out[i] = p
	}
	return out, nil
}

// compileProblems lists what keeps a parsed document from compiling.
func compileProblems(d agreement.Document) ([]agreement.Problem, error) {
	_, err := agreement.Compile(d)
	return problemsOf(err)
}

func (s *Server) listAgreements(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.store.Agreements(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(vs))
	return nil
}

func (s *Server) createAgreement(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "based_on")
	basedOn := q.id("based_on")
	if err := q.err(); err != nil {
		return err
	}
	src, err := readDocument(w, r)
	if err != nil {
		return err
	}
	if basedOn != 0 {
		if _, err := s.store.Agreement(r.Context(), basedOn); alinea.ErrorCode(err) == alinea.ENOTFOUND {
			return &alinea.Error{Code: alinea.EINVALID, Message: "invalid query parameters",
				Fields: map[string]string{"based_on": fmt.Sprintf("agreement version %d does not exist", basedOn)}}
		} else if err != nil {
			return err
		}
	}
	v, err := s.store.CreateAgreement(r.Context(), src, basedOn, userFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	problems, err := compileProblems(v.Document)
	if err != nil {
		return err
	}
	problems = agreement.Locate(src, problems)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/agreements/%d", v.ID))
	writeJSON(w, http.StatusCreated, draftResponse{Version: v, Problems: problems})
	return nil
}

func (s *Server) updateAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := readDocument(w, r)
	if err != nil {
		return err
	}
	v, err := s.store.UpdateAgreementDraft(r.Context(), id, src, userFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	problems, err := compileProblems(v.Document)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, draftResponse{Version: v, Problems: agreement.Locate(src, problems)})
	return nil
}

func (s *Server) validateAgreement(w http.ResponseWriter, r *http.Request) error {
	src, err := readDocument(w, r)
	if err != nil {
		return err
	}
	doc, err := agreement.Parse(src)
	if err == nil {
		_, err = agreement.Compile(doc)
	}
	problems, err := problemsOf(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, validationResponse{Valid: len(problems) == 0, Problems: agreement.Locate(src, problems)})
	return nil
}

func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.writeAgreement(w, r, func() (agreement.Version, error) { return s.store.Agreement(r.Context(), id) })
}

func (s *Server) activeAgreement(w http.ResponseWriter, r *http.Request) error {
	return s.writeAgreement(w, r, func() (agreement.Version, error) { return s.store.ActiveAgreement(r.Context()) })
}

// writeAgreement answers with a version as JSON, or with its document as
// YAML for ?format=yaml: the source as written, comments included, or the
// document rendered as YAML when it was sent as JSON.
func (s *Server) writeAgreement(w http.ResponseWriter, r *http.Request, get func() (agreement.Version, error)) error {
	q := newQuery(r, "format")
	format := q.str("format", 10)
	if format != "" && format != "json" && format != "yaml" {
		q.fe.Add("format", fmt.Sprintf("must be json or yaml; got %q", format))
	}
	if err := q.err(); err != nil {
		return err
	}
	v, err := get()
	if err != nil {
		return err
	}
	if format != "yaml" {
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	src := []byte(v.Source)
	if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && trimmed[0] == '{' {
		if src, err = v.Document.YAML(); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(src)
	return nil
}

func (s *Server) proposeAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.store.ProposeAgreement(r.Context(), id, userFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// signAgreement signs as the caller; the store decides which team that is
// and refuses roles that cannot sign.
func (s *Server) signAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.store.SignAgreement(r.Context(), id, userFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// activateAgreement makes a signed version active and enqueues the
// re-evaluation of every contact; its progress is at /reevaluation.
func (s *Server) activateAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if s.jobs == nil {
		// Checked first: activating without a way to re-evaluate contacts
		// would leave them scored under the previous version.
		return alinea.Errorf(alinea.EINTERNAL, "no job queue configured: this server cannot re-evaluate contacts, so it cannot activate an agreement")
	}
	v, err := jobs.Activate(r.Context(), s.store, s.jobs, id, userFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) agreementReevaluation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.store.Agreement(r.Context(), id); err != nil {
		return err
	}
	re, err := s.store.ReevaluationStatus(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, re)
	return nil
}

func (s *Server) agreementAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.store.Agreement(r.Context(), id); err != nil {
		return err
	}
	entries, err := s.store.AgreementAudit(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(entries))
	return nil
}

// diffAgreement reports what changes from ?with= (default: the active
// version) to this version, field by field.
func (s *Server) diffAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q := newQuery(r, "with")
	with := q.id("with")
	if err := q.err(); err != nil {
		return err
	}
	to, err := s.store.Agreement(r.Context(), id)
	if err != nil {
		return err
	}
	var from agreement.Version
	if with == 0 {
		from, err = s.store.ActiveAgreement(r.Context())
		if alinea.ErrorCode(err) == alinea.ENOTFOUND {
			return alinea.Errorf(alinea.ENOTFOUND, "no agreement is active to compare version %d with; pass ?with=ID", id)
		}
	} else {
		from, err = s.store.Agreement(r.Context(), with)
	}
	if err != nil {
		return err
	}
	changes := agreement.Diff(from.Document, to.Document)
	if changes == nil {
		changes = []agreement.Change{}
	}
	writeJSON(w, http.StatusOK, diffResponse{From: from.ID, To: to.ID, Changes: changes})
	return nil
}

// backtestAgreement replays history under this version and, when another
// version is active, under that one too, side by side.
func (s *Server) backtestAgreement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q := newQuery(r, "from", "to")
	from, to := backtestRange(q, s.now())
	if err := q.err(); err != nil {
		return err
	}
	v, err := s.store.Agreement(r.Context(), id)
	if err != nil {
		return err
	}
	b, err := s.newBacktest(r, v, from, to)
	if err != nil {
		return err
	}
	reports, err := s.store.Backtest(r.Context(), b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, backtestResponse{Reports: reports})
	return nil
}

func (s *Server) newBacktest(r *http.Request, v agreement.Version, from, to time.Time) (*agreement.Backtest, error) {
	c, err := agreement.Compile(v.Document)
	if err != nil {
		return nil, agreement.AsDomainError(err)
	}
	active, err := s.store.ActiveAgreement(r.Context())
	switch {
	case alinea.ErrorCode(err) == alinea.ENOTFOUND:
		return agreement.NewBacktest(from, to, []string{fmt.Sprintf("v%d", v.ID)}, []*agreement.Compiled{c}), nil
	case err != nil:
		return nil, err
	case active.ID == v.ID:
		return agreement.NewBacktest(from, to, []string{fmt.Sprintf("v%d (active)", v.ID)}, []*agreement.Compiled{c}), nil
	}
	ac, err := agreement.Compile(active.Document)
	if err != nil {
		return nil, fmt.Errorf("active agreement %d: %w", active.ID, err)
	}
	return agreement.NewBacktest(from, to, []string{fmt.Sprintf("v%d", v.ID), fmt.Sprintf("v%d (active)", active.ID)},
		[]*agreement.Compiled{c, ac}), nil
}

// backtestRange reads ?from=YYYY-MM&to=YYYY-MM, both months included; the
// default is the twelve whole months before the current one.
func backtestRange(q *query, now time.Time) (from, to time.Time) {
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to = thisMonth.AddDate(-1, 0, 0), thisMonth
	month := func(name string) (time.Time, bool) {
		v := q.values.Get(name)
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.Parse("2006-01", v)
		if err != nil {
			q.fe.Add(name, fmt.Sprintf("must be a month such as 2027-01; got %q", v))
			return time.Time{}, false
		}
		return t, true
	}
	if t, ok := month("from"); ok {
		from = t
	}
	if t, ok := month("to"); ok {
		to = t.AddDate(0, 1, 0)
	}
	if len(q.fe) == 0 && !from.Before(to) {
		q.fe.Add("from", fmt.Sprintf("must not be after to (%s)", to.AddDate(0, -1, 0).Format("2006-01")))
	}
	return from, to
}

func (s *Server) contactScore(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sc, err := s.store.ContactScore(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (s *Server) goalPlan(w http.ResponseWriter, r *http.Request) error {
	plan, err := s.store.GoalPlan(r.Context(), r.PathValue("period"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, plan)
	return nil
}
