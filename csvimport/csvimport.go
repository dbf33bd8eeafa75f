// Package csvimport reads contacts from CSV files — as exported by
// spreadsheets and other CRMs, in English or Spanish — validates each row as
// the API does and writes them in batches, upserting by email.
//
// The input is streamed: memory does not grow with the file, except for one
// 64-bit hash and row number per distinct email, kept to warn about
// duplicates. Parsing runs concurrently with writing, one batch ahead.
//
// A company/empresa column becomes the custom property "company"; accounts
// are not created or linked by the import (link them through the API, or by
// email domain in a later pass).
package csvimport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// Destination is what an import needs from storage: a batch upsert of rows
// the importer has validated (ContactFields.Validate(true)) and a way to
// find owners by email. *store.Store satisfies it.
type Destination interface {
	UpsertCheckedContacts(ctx context.Context, batch []alinea.ContactFields, actor alinea.Actor) (alinea.UpsertResult, error)
	UserByEmail(ctx context.Context, email string) (alinea.User, error)
}

// DefaultBatchSize is the number of rows written per transaction.
const DefaultBatchSize = 5000

// Options tune an import.
type Options struct {
	// Map sends columns (by header, case-insensitively) to targets: a field
	// from Fields, "property:KEY" or "ignore". It overrides automatic mapping.
	Map map[string]string
	// IgnoreUnmapped drops columns that map to nothing instead of keeping
	// them as custom properties.
	IgnoreUnmapped bool
	// DryRun reads and validates everything and writes nothing.
	DryRun bool
	// BatchSize is the number of rows per write; DefaultBatchSize when 0.
	BatchSize int
	// Actor is recorded on stage transitions; the importer by default.
	Actor alinea.Actor
	// OnProblem receives every bad row and warning, in row order within a
	// batch, from the goroutine that called Run.
	OnProblem func(Problem)
	// OnProgress is called after each batch, from the goroutine that called Run.
	OnProgress func(Progress)
}

// Problem is one bad cell or row, or a warning about a row that was written.
type Problem struct {
	// Row counts the header as row 1, so the first data row is row 2.
	Row int
	// Column is the header of the offending column; empty for the whole row.
	Column  string
	Message string
	// Warning problems did not stop the row from being written.
	Warning bool
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	if p.Column == "" {
		return fmt.Sprintf("row %d: %s: %s", p.Row, kind, p.Message)
	}
	return fmt.Sprintf("row %d, column %q: %s: %s", p.Row, p.Column, kind, p.Message)
}

// Progress is how far an import has got.
type Progress struct {
	Rows    int64 // data rows handled
	Bytes   int64 // bytes of input read
	Created int64
	Updated int64
	Skipped int64
}

// Summary is what an import did.
type Summary struct {
	Rows    int // data rows read (blank rows not counted)
	Valid   int // rows that passed validation
	Created int
	Updated int
	// Skipped rows were not written because of errors.
	Skipped  int
	Errors   int
	Warnings int
	Bytes    int64
	DryRun   bool
	// OwnersUnchecked is set by a dry run without a database: owner emails
	// were checked for syntax only.
	OwnersUnchecked bool
}

// Importer reads one CSV stream. Create it with New, then call Run once.
type Importer struct {
	opt   Options
	in    *countingReader
	r     *csv.Reader
	delim rune
	cols  []Column
	colOf map[string]int // target → column index
}

// New reads the header, detects the delimiter (',', ';' or tab) and maps
// the columns. Header problems — no email column, an unknown --map field, two
// columns for one field — are returned here, before anything is read.
func New(r io.Reader, opt Options) (*Importer, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Actor.Type == "" {
		opt.Actor = alinea.Actor{Type: alinea.ActorImport}
	}
	im := &Importer{opt: opt, in: &countingReader{r: r}}
	var header []string
	var err error
	im.r, im.delim, header, err = openCSV(im.in)
	if err != nil {
		return nil, err
	}
	im.r.ReuseRecord = true
	im.cols, err = mapColumns(header, opt.Map, opt.IgnoreUnmapped)
	if err != nil {
		return nil, err
	}
	im.colOf = map[string]int{}
	for i, c := range im.cols {
		if c.Target == TargetIgnore {
			continue
		}
		im.colOf[c.Target] = i
	}
	return im, nil
}

// Header problems New and ReadPreview report, for callers that explain
// them in their own words.
var (
	ErrEmptyFile = errors.New("the file is empty: expected a header row naming the columns")
	ErrNotUTF8   = errors.New("header row: not valid UTF-8; save the file as CSV UTF-8")
)

// openCSV skips a UTF-8 byte order mark, detects the delimiter and reads
// the header row.
func openCSV(r io.Reader) (*csv.Reader, rune, []string, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	delim := detectDelimiter(head)
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, delim, nil, ErrEmptyFile
	}
	if err != nil {
		return nil, delim, nil, fmt.Errorf("header row: %w", err)
	}
	if !utf8.ValidString(strings.Join(header, "")) {
		return nil, delim, nil, ErrNotUTF8
	}
	return cr, delim, header, nil
}

// Columns says where each column goes.
func (im *Importer) Columns() []Column { return slices.Clone(im.cols) }

// Delimiter is the field separator found in the header.
func (im *Importer) Delimiter() rune { return im.delim }

// detectDelimiter picks the most frequent of , ; and tab on the first line,
// outside quotes; Spanish-locale spreadsheets write ';'.
func detectDelimiter(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' || c == '\r' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// batch is one unit of work handed from the parser to the writer.
type batch struct {
	rows     []alinea.ContactFields
	rowNums  []int
	problems []Problem // found while reading, for rows in this batch
	read     int       // data rows read
	skipped  int       // rows left out while reading
	bytes    int64
}

// Run reads the rest of the stream and writes valid rows to dst in batches
// (nothing with DryRun). dst may be nil for a dry run; owners are then only
// checked for syntax. A returned error means the import stopped (I/O,
// database, cancelled); bad rows are not errors but Problems.
func (im *Importer) Run(ctx context.Context, dst Destination) (Summary, error) {
	sum := Summary{DryRun: im.opt.DryRun}
	if dst == nil && !im.opt.DryRun {
		return sum, errors.New("csvimport: no destination to write to")
	}
	_, hasOwner := im.colOf[FieldOwner]
	sum.OwnersUnchecked = dst == nil && hasOwner

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 1)
	parseDone := make(chan error, 1)
	go func() {
		defer close(batches)
		parseDone <- im.parse(ctx, dst, batches)
	}()

	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain so the parser can finish
		}
		if writeErr = im.apply(ctx, dst, b, &sum); writeErr != nil {
			cancel()
		}
	}
	parseErr := <-parseDone
	sum.Bytes = im.in.n.Load()
	if writeErr != nil {
		return sum, writeErr
	}
	return sum, parseErr
}

// apply writes one batch and reports its problems in row order.
func (im *Importer) apply(ctx context.Context, dst Destination, b *batch, sum *Summary) error {
	problems := b.problems
	sum.Rows += b.read
	sum.Skipped += b.skipped
	sum.Valid += len(b.rows)
	if !im.opt.DryRun && len(b.rows) > 0 {
		res, err := dst.UpsertCheckedContacts(ctx, b.rows, im.opt.Actor)
		if err != nil {
			return fmt.Errorf("write rows %d to %d: %w", b.rowNums[0], b.rowNums[len(b.rowNums)-1], err)
		}
		sum.Created += res.Created
		sum.Updated += res.Updated
		rejected := map[int]bool{}
		for _, p := range res.Rejected {
			rejected[p.Index] = true
			problems = append(problems, im.rowProblem(b.rowNums[p.Index], p, false))
		}
		for _, p := range res.Warnings {
			problems = append(problems, im.rowProblem(b.rowNums[p.Index], p, true))
		}
		sum.Skipped += len(rejected)
		sum.Valid -= len(rejected)
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Row - b.Row })
	for _, p := range problems {
		if p.Warning {
			sum.Warnings++
		} else {
			sum.Errors++
		}
		if im.opt.OnProblem != nil {
			im.opt.OnProblem(p)
		}
	}
	if im.opt.OnProgress != nil {
		im.opt.OnProgress(Progress{Rows: int64(sum.Rows), Bytes: b.bytes, Created: int64(sum.Created),
			Updated: int64(sum.Updated), Skipped: int64(sum.Skipped)})
	}
	return nil
}

// rowProblem turns a problem the store found with a field into one with a column.
func (im *Importer) rowProblem(row int, p alinea.RowProblem, warning bool) Problem {
	col := im.columnOf(p.Field)
	msg := p.Message
	if col == "" {
		msg = fieldMessage(p.Field, msg)
	}
	return Problem{Row: row, Column: col, Message: msg, Warning: warning}
}

// columnOf names the column a contact field came from.
func (im *Importer) columnOf(field string) string {
	if i, ok := im.colOf[im.targetOf(field)]; ok {
		return im.cols[i].Name
	}
	return ""
}

// targetOf maps a contact field name to the column target that sets it.
func (im *Importer) targetOf(field string) string {
	if field == "owner_id" {
		return FieldOwner
	}
	return field
}

// fieldMessage keeps the field name in a message that has no column to name.
func fieldMessage(field, msg string) string {
	if field == "" {
		return msg
	}
	return field + " " + msg
}

// parse reads records into batches until EOF.
func (im *Importer) parse(ctx context.Context, dst Destination, out chan<- *batch) error {
	p := parser{im: im, dst: dst, seen: map[uint64]uint32{}, seed: maphash.MakeSeed(), owners: map[string]ownerLookup{}}
	row := 1
	b := &batch{}
	send := func() error {
		b.bytes = im.in.n.Load()
		select {
		case out <- b:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		b = &batch{rows: make([]alinea.ContactFields, 0, len(b.rows)), rowNums: make([]int, 0, len(b.rowNums))}
		return nil
	}
	for {
		rec, err := im.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			b.read++
			b.skipped++
			msg := fmt.Sprintf("cannot be read: %v (line %d)", pe.Err, pe.Line)
			if pe.StartLine != pe.Line {
				msg = fmt.Sprintf("cannot be read: %v (the row starts on line %d; the problem is on line %d — a quote opened and never closed?)", pe.Err, pe.StartLine, pe.Line)
			}
			b.problems = append(b.problems, Problem{Row: row, Message: msg})
		} else if err != nil {
			return fmt.Errorf("read row %d: %w", row, err)
		} else if !blank(rec) {
			b.read++
			f, problems, err := p.convert(ctx, rec, row)
			if err != nil {
				return err
			}
			if hasError(problems) {
				b.skipped++
			} else {
				b.rows = append(b.rows, f)
				b.rowNums = append(b.rowNums, row)
			}
			b.problems = append(b.problems, problems...)
		}
		if b.read >= im.opt.BatchSize {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if b.read > 0 || len(b.problems) > 0 {
		return send()
	}
	return nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func hasError(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// parser holds what the reading goroutine remembers across rows.
type parser struct {
	im  *Importer
	dst Destination
	// seen maps a hash of each valid email to the row it was first seen on.
	seen   map[uint64]uint32
	seed   maphash.Seed
	owners map[string]ownerLookup
	// Buffers reused from row to row.
	props      []byte
	keys, vals []string
}

type ownerLookup struct {
	id      int64
	problem string
}

// convert turns one record into contact fields, validated as the API
// validates them. A returned error stops the import (the database failed).
func (p *parser) convert(ctx context.Context, rec []string, row int) (alinea.ContactFields, []Problem, error) {
	im := p.im
	var f alinea.ContactFields
	var problems []Problem
	bad := func(col int, msg string) {
		problems = append(problems, Problem{Row: row, Column: im.cols[col].Name, Message: msg})
	}
	if len(rec) != len(im.cols) {
		problems = append(problems, Problem{Row: row, Message: fmt.Sprintf(
			"has %d fields but the header has %d (an unquoted %q or line break inside a value?)", len(rec), len(im.cols), im.delim)})
		return f, problems, nil
	}
	// One backing array for the row's strings instead of one allocation
	// each; it never grows (one value per column), so the pointers stay valid.
	strs := make([]string, 0, len(im.cols))
	str := func(v string) *string {
		strs = append(strs, v)
		return &strs[len(strs)-1]
	}
	propKeys, propVals := p.keys[:0], p.vals[:0]
	defer func() { p.keys, p.vals = propKeys[:0], propVals[:0] }()
	var propJSON string
	propCol := -1
	for i, c := range im.cols {
		v := strings.TrimSpace(rec[i])
		if c.Target == FieldEmail {
			f.Email = str(v) // an empty email must reach Validate, which requires it
			continue
		}
		if v == "" || c.Target == TargetIgnore {
			continue
		}
		switch c.Target {
		case FieldExternalID:
			f.ExternalID = str(v)
		case FieldFirstName:
			f.FirstName = str(v)
		case FieldLastName:
			f.LastName = str(v)
		case FieldPhone:
			f.Phone = str(v)
		case FieldJobTitle:
			f.JobTitle = str(v)
		case FieldSource:
			f.Source = str(v)
		case FieldCountry:
			f.Country = str(countryCode(v))
		case FieldStage:
			s := stageValue(v)
			f.Stage = &s
		case FieldConsent:
			consent, ok := consentValue(v)
			if !ok {
				bad(i, fmt.Sprintf("consent must be yes or no (sí/no, true/false, 1/0, granted/denied/unknown); got %q", v))
				continue
			}
			f.Consent = &consent
		case FieldAccountID:
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				bad(i, fmt.Sprintf("account_id must be a positive whole number (an Alinea account id); got %q", v))
				continue
			}
			f.AccountID = &id
		case FieldOwner:
			id, problem, err := p.owner(ctx, v)
			if err != nil {
				return f, nil, err
			}
			if problem != "" {
				bad(i, problem)
				continue
			}
			if id != 0 {
				f.OwnerID = &id
			}
		case FieldProperties:
			propJSON, propCol = v, i
		default:
			key, _ := c.Property()
			if !utf8.ValidString(v) {
				bad(i, "is not valid UTF-8; save the file as CSV UTF-8")
				continue
			}
			propKeys = append(propKeys, key)
			propVals = append(propVals, v)
		}
	}
	if propJSON != "" || len(propKeys) > 0 {
		props, problem := p.properties(propJSON, propKeys, propVals)
		if problem != "" {
			bad(propCol, problem)
		} else {
			f.Properties = props
		}
	}
	if err := f.Validate(true); err != nil {
		fields := alinea.ErrorFields(err)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			col := im.columnOf(k)
			msg := fields[k]
			if col == "" {
				msg = fieldMessage(k, msg)
			} else if v := strings.TrimSpace(rec[im.colOf[im.targetOf(k)]]); v != "" && !strings.Contains(msg, v) {
				msg += fmt.Sprintf("; got %q", v)
			}
			problems = append(problems, Problem{Row: row, Column: col, Message: msg})
		}
	}
	if hasError(problems) {
		return f, problems, nil
	}
	h := maphash.String(p.seed, *f.Email)
	if first, dup := p.seen[h]; dup {
		problems = append(problems, Problem{Row: row, Column: im.cols[im.colOf[FieldEmail]].Name, Warning: true,
			Message: fmt.Sprintf("%s is also on row %d; this later row is applied over it", *f.Email, first)})
	} else {
		p.seen[h] = uint32(row)
	}
	return f, problems, nil
}

// owner resolves an owner email to a user id, once per distinct email.
func (p *parser) owner(ctx context.Context, v string) (id int64, problem string, err error) {
	email, err := alinea.NormalizeEmail(v)
	if err != nil {
		return 0, "owner " + err.Error() + " (the owner is given by the email of an Alinea user)", nil
	}
	if p.dst == nil {
		return 0, "", nil
	}
	if l, ok := p.owners[email]; ok {
		return l.id, l.problem, nil
	}
	u, err := p.dst.UserByEmail(ctx, email)
	var l ownerLookup
	switch alinea.ErrorCode(err) {
	case alinea.EINTERNAL:
		if err != nil {
			return 0, "", fmt.Errorf("look up owner %s: %w", email, err)
		}
		l.id = u.ID
	case alinea.ENOTFOUND:
		l.problem = fmt.Sprintf("owner %s is not an Alinea user (add them with alinea user add)", email)
	default:
		l.problem = "owner " + alinea.ErrorMessage(err)
	}
	p.owners[email] = l
	return l.id, l.problem, nil
}

// properties builds the properties object from a JSON column and the
// property columns (which win over keys of the JSON column).
func (p *parser) properties(raw string, keys, vals []string) (json.RawMessage, string) {
	if raw == "" {
		// The common case, kept free of maps and reflection.
		b := append(p.props[:0], '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = alinea.AppendJSONString(b, k)
			b = append(b, ':')
			b = alinea.AppendJSONString(b, vals[i])
		}
		b = append(b, '}')
		p.props = b
		return bytes.Clone(b), ""
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return nil, `properties must be a JSON object such as {"plan":"pro"}`
	}
	for i, k := range keys {
		m[k] = vals[i]
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, "properties: " + err.Error()
	}
	return b, ""
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
