package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/store"
)

const importUsage = `Usage: alinea import contacts FILE.csv [flags]

Reads contacts from a CSV file (FILE "-" reads standard input) and creates
or updates them, matched by email (case-insensitively). Each row is checked
with the same validation as the API; a bad row is reported with its row
number (the header is row 1) and column, and never stops the good ones.

The delimiter (, or ;) is taken from the header and a UTF-8 byte order mark
is skipped, so spreadsheet exports in English or Spanish work as they are.
Common headers map automatically — e.g. Email/Correo electrónico, First
name/Nombre, Last name/Apellidos, Phone/Teléfono/Móvil, Job title/Cargo/
Puesto, Company/Empresa (kept as the property "company"), Country/País
(names or ISO codes), Source/Origen, Stage/Etapa, Owner/Propietario (a
user's email), Consent/Consentimiento (yes/no, sí/no, 1/0). Any other column
becomes a custom property unless --ignore-unmapped is given. Empty cells
leave existing values alone. A stage for an existing contact is applied only
when it moves the contact forward; otherwise it is reported as a warning.

Fields for --map: ` + "email, external_id, first_name, last_name, phone, job_title, account_id, country, source, stage, owner, consent, properties (a JSON object), property:NAME, ignore" + `

Exit status: 0 when every row was imported (warnings allowed); 1 when any
row failed, or the import could not run.

Flags:
`

// importErrorsShown bounds the problems printed to the terminal; --errors
// keeps them all.
const importErrorsShown = 100

func runImport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "contacts" {
		return errors.New("usage: alinea import contacts FILE.csv [--map COLUMN=FIELD ...] [--dry-run] [--ignore-unmapped] [--errors FILE] (see alinea import contacts -h)")
	}
	var c config
	maps := mapFlag{}
	var dryRun, ignoreUnmapped bool
	var errorsPath string
	var batchSize int
	fs := newFlags(e, "import contacts")
	commonFlags(e, fs, &c)
	fs.Var(maps, "map", "`COLUMN=FIELD`: send a column to a field, to property:NAME or to ignore; repeatable")
	fs.BoolVar(&dryRun, "dry-run", false, "check every row and report problems; write nothing")
	fs.BoolVar(&ignoreUnmapped, "ignore-unmapped", false, "drop columns that map to no field instead of keeping them as custom properties")
	fs.StringVar(&errorsPath, "errors", "", "write every problem to this CSV `FILE` (row,column,problem)")
	fs.IntVar(&batchSize, "batch-size", csvimport.DefaultBatchSize, "rows per transaction")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("import contacts: give exactly one CSV file (or - for standard input); got %d", len(rest))
	}
	path := rest[0]
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}

	in, size, err := openInput(e, path)
	if err != nil {
		return err
	}
	defer in.Close()

	var dst csvimport.Destination
	var st *store.Store
	if dryRun && !store.IsPostgresURL(c.DB) && !fileExists(c.DB) {
		// A dry run must not create a database just to check owners.
		fmt.Fprintf(e.stdout, "note: %s does not exist; owners are checked for email syntax only\n", c.DB)
	} else {
		st, err = c.openStore(ctx, log, !dryRun)
		if err != nil {
			return err
		}
		defer st.Close()
		dst = st
	}

	var errFile *os.File
	var errCSV *csv.Writer
	if errorsPath != "" {
		if errFile, err = os.Create(errorsPath); err != nil {
			return fmt.Errorf("--errors: %w", err)
		}
		defer errFile.Close()
		errCSV = csv.NewWriter(errFile)
		_ = errCSV.Write([]string{"row", "column", "problem"})
	}

	var shown []csvimport.Problem
	total := 0
	prog := newProgressReporter(e.stderr, size)
	opt := csvimport.Options{
		Map: maps, IgnoreUnmapped: ignoreUnmapped, DryRun: dryRun, BatchSize: batchSize,
		OnProblem: func(p csvimport.Problem) {
			total++
			if len(shown) < importErrorsShown {
				shown = append(shown, p)
			}
			if errCSV != nil {
				msg := p.Message
				if p.Warning {
					msg = "warning: " + msg
				}
				_ = errCSV.Write([]string{strconv.Itoa(p.Row), p.Column, msg})
			}
		},
		OnProgress: prog.update,
	}
	im, err := csvimport.New(in, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(e.stdout, "Columns of %s (delimiter %q):\n", path, im.Delimiter())
	for _, col := range im.Columns() {
		fmt.Fprintf(e.stdout, "  %s\n", col)
	}
	start := time.Now()
	sum, runErr := im.Run(ctx, dst)
	prog.finish()
	took := time.Since(start)

	if errCSV != nil {
		errCSV.Flush()
		if err := errors.Join(errCSV.Error(), errFile.Close()); err != nil {
			return fmt.Errorf("--errors %s: %w", errorsPath, err)
		}
	}
	printImportSummary(e.stdout, path, sum, took, shown, total, errorsPath)
	if runErr != nil {
		if !dryRun && sum.Created+sum.Updated > 0 {
			return fmt.Errorf("import stopped after writing %d rows (the batches written are kept): %w", sum.Created+sum.Updated, runErr)
		}
		return fmt.Errorf("import stopped: %w", runErr)
	}
	if sum.Skipped > 0 {
		return fmt.Errorf("%s of %s rows failed", thousands(int64(sum.Skipped)), thousands(int64(sum.Rows)))
	}
	return nil
}

func printImportSummary(w io.Writer, path string, sum csvimport.Summary, took time.Duration, shown []csvimport.Problem, total int, errorsPath string) {
	rate := float64(sum.Rows) / max(took.Seconds(), 1e-9)
	fmt.Fprintln(w)
	if sum.DryRun {
		fmt.Fprintf(w, "Dry run of %s: %s rows checked in %s; nothing was written.\n", path, thousands(int64(sum.Rows)), took.Round(time.Millisecond))
		fmt.Fprintf(w, "  valid     %12s\n", thousands(int64(sum.Valid)))
	} else {
		fmt.Fprintf(w, "Imported %s: %s rows in %s (%s rows/s).\n", path, thousands(int64(sum.Rows)), took.Round(time.Millisecond), thousands(int64(rate)))
		fmt.Fprintf(w, "  created   %12s\n", thousands(int64(sum.Created)))
		fmt.Fprintf(w, "  updated   %12s\n", thousands(int64(sum.Updated)))
	}
	fmt.Fprintf(w, "  skipped   %12s  (rows with errors)\n", thousands(int64(sum.Skipped)))
	fmt.Fprintf(w, "  errors    %12s\n", thousands(int64(sum.Errors)))
	fmt.Fprintf(w, "  warnings  %12s\n", thousands(int64(sum.Warnings)))
	if sum.OwnersUnchecked {
		fmt.Fprintln(w, "  (owners were not looked up: no database)")
	}
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "\nProblems")
	if total > len(shown) {
		fmt.Fprintf(w, " (first %d of %s)", len(shown), thousands(int64(total)))
	}
	fmt.Fprintln(w, ":")
	for _, p := range shown {
		fmt.Fprintf(w, "  %s\n", p)
	}
	switch {
	case total > len(shown) && errorsPath == "":
		fmt.Fprintf(w, "  ... and %s more; --errors FILE writes them all\n", thousands(int64(total-len(shown))))
	case total > len(shown):
		fmt.Fprintf(w, "  ... and %s more, all in %s\n", thousands(int64(total-len(shown))), errorsPath)
	case errorsPath != "":
		fmt.Fprintf(w, "All problems are also in %s.\n", errorsPath)
	}
}

// openInput opens the CSV file, or standard input for "-", and says its size
// when known (for the progress bar).
func openInput(e *env, path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(e.stdin), 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(strings.TrimPrefix(path, "sqlite://"))
	return err == nil
}

// mapFlag collects repeated --map COLUMN=FIELD flags.
type mapFlag map[string]string

func (m mapFlag) String() string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (m mapFlag) Set(v string) error {
	// Split at the last '=': headers may contain one, field names never do.
	i := strings.LastIndexByte(v, '=')
	if i <= 0 || i == len(v)-1 {
		return fmt.Errorf("want COLUMN=FIELD, got %q", v)
	}
	col := strings.TrimSpace(v[:i])
	if _, dup := m[col]; dup {
		return fmt.Errorf("column %q is mapped twice", col)
	}
	m[col] = strings.TrimSpace(v[i+1:])
	return nil
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("import contacts FILE.csv --dry-run"), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// progressReporter draws a progress bar redrawn in place when w is a
// terminal, and writes a plain line every few seconds otherwise.
type progressReporter struct {
	w      io.Writer
	tty    bool
	total  int64 // bytes; 0 when unknown
	start  time.Time
	last   time.Time
	latest csvimport.Progress
	drawn  bool
}

func newProgressReporter(w io.Writer, total int64) *progressReporter {
	now := time.Now()
	return &progressReporter{w: w, tty: isTerminal(w), total: total, start: now, last: now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progressReporter) update(pr csvimport.Progress) {
	p.latest = pr
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.draw(pr, now)
}

func (p *progressReporter) draw(pr csvimport.Progress, now time.Time) {
	p.last = now
	elapsed := now.Sub(p.start)
	rate := float64(pr.Rows) / max(elapsed.Seconds(), 1e-9)
	frac := -1.0
	if p.total > 0 {
		frac = min(float64(pr.Bytes)/float64(p.total), 1)
	}
	eta := ""
	if frac > 0 {
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	if !p.tty {
		line := fmt.Sprintf("import: %s rows", thousands(pr.Rows))
		if frac >= 0 {
			line += fmt.Sprintf(" (%.0f%%)", 100*frac)
		}
		line += fmt.Sprintf(", %s rows/s", thousands(int64(rate)))
		if eta != "" {
			line += ", ETA " + eta
		}
		fmt.Fprintln(p.w, line)
		return
	}
	const width = 30
	bar := ""
	if frac >= 0 {
		done := int(frac * width)
		bar = "[" + strings.Repeat("█", done) + strings.Repeat("░", width-done) + "] " + fmt.Sprintf("%3.0f%%  ", 100*frac)
	}
	line := fmt.Sprintf("\r%s%s rows  %s rows/s", bar, thousands(pr.Rows), thousands(int64(rate)))
	if eta != "" {
		line += "  ETA " + eta
	}
	fmt.Fprint(p.w, line+"\x1b[K")
	p.drawn = true
}

// finish ends the bar's line so that later output starts on a fresh one.
func (p *progressReporter) finish() {
	if p.drawn {
		p.draw(p.latest, time.Now())
		fmt.Fprintln(p.w)
	}
}

// thousands formats n with comma separators: 1234567 → 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
