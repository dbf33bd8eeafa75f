package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"
	"go.yaml.in/yaml/v3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
)

const agreementUsage = `Usage: alinea agreement <command> [arguments] [flags]

The revenue agreement between marketing and sales: a versioned YAML or JSON
document (see agreement/agreement-example.yaml) that goes draft -> proposed ->
signed by a marketing lead and a sales lead -> active.

Commands:
  validate FILE                       parse and compile FILE offline; print "valid" or every
                                      problem; exit status 1 on problems
  propose FILE|ID --user EMAIL        store FILE as a draft and propose it, or propose draft ID;
                                      prints the version id on the last line
  sign ID --user EMAIL                sign a proposed version for the user's team
  activate ID --user EMAIL [--no-wait]
                                      make a version signed by both teams the active one and
                                      re-evaluate every contact, showing progress
  diff A B                            field-by-field changes from A to B (version ids or files)
  backtest FILE|ID [--from YYYY-MM] [--to YYYY-MM] [--json]
                                      replay history month by month under the version, beside
                                      the active one (default: the 12 months before this one)
  show ID|active [--yaml]             a version's status, signatures and rules; --yaml prints
                                      its document
  list                                every version, newest first

FILE "-" reads standard input. Commands that use the database take --db
(ALINEA_DB); --user may also come from ALINEA_USER.
`

// maxAgreementFile matches the API's limit on a document.
const maxAgreementFile = 256 << 10

type agreementCommand func(ctx context.Context, e *env, name string, args []string) error

func runAgreement(ctx context.Context, e *env, args []string) error {
	subs := map[string]agreementCommand{
		"validate": agreementValidate,
		"propose":  agreementPropose,
		"sign":     agreementSign,
		"activate": agreementActivate,
		"diff":     agreementDiff,
		"backtest": agreementBacktest,
		"show":     agreementShow,
		"list":     agreementList,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, agreementUsage)
		if len(args) == 0 {
			return errors.New("agreement: no command given")
		}
		return nil
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprint(e.stderr, agreementUsage)
		return fmt.Errorf("agreement: unknown command %q", args[0])
	}
	return sub(ctx, e, args[0], args[1:])
}

// agreementFlags is the flag set of one agreement command: the common
// flags, the command's own (added by more), and its positional arguments,
// of which it wants exactly n.
func agreementFlags(e *env, name string, args []string, n int, positional string, more func(fs *flag.FlagSet)) (config, []string, error) {
	var c config
	fs := newFlags(e, "agreement "+name)
	commonFlags(e, fs, &c)
	if more != nil {
		more(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: alinea agreement %s [flags]\n\nFlags:\n", strings.TrimSpace(name+" "+positional))
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return c, nil, err
	}
	switch {
	case len(rest) != n && n == 0:
		return c, nil, fmt.Errorf("agreement %s takes no arguments; got %q", name, rest)
	case len(rest) != n:
		fs.Usage()
		return c, nil, fmt.Errorf("agreement %s: want %s; got %d argument(s)", name, positional, len(rest))
	}
	return c, rest, nil
}

func userFlag(e *env, fs *flag.FlagSet, email *string) {
	fs.StringVar(email, "user", envDefault(e, "user", ""), "`EMAIL` of the user acting (ALINEA_USER)")
}

func actingUser(ctx context.Context, st *store.Store, email string) (alinea.User, error) {
	if email == "" {
		return alinea.User{}, errors.New("--user EMAIL is required: the user who acts (and, to sign, whose team signs)")
	}
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return u, describeErr(fmt.Errorf("--user: %w", err))
	}
	return u, nil
}

// readDocumentFile reads a document from a file, or standard input for "-".
func readDocumentFile(e *env, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxAgreementFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxAgreementFile {
		return nil, fmt.Errorf("%s is larger than %d KB, the limit for an agreement document", path, maxAgreementFile>>10)
	}
	return b, nil
}

// versionArg tells a file argument from a version id: an existing file (or
// "-") is a file, so that a file named "7" can still be used; otherwise a
// positive integer is a version id.
func versionArg(arg string) (id int64, isFile bool, err error) {
	if arg == "-" {
		return 0, true, nil
	}
	if _, err := os.Stat(arg); err == nil {
		return 0, true, nil
	}
	id, err = strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, fmt.Errorf("%s: no such file, and not a version id", arg)
	}
	return id, false, nil
}

// compileFile parses and compiles a document file, listing every problem
// when it does not compile.
func compileFile(e *env, path string) (agreement.Document, *agreement.Compiled, []byte, error) {
	src, err := readDocumentFile(e, path)
	if err != nil {
		return agreement.Document{}, nil, nil, err
	}
	doc, err := agreement.Parse(src)
	if err != nil {
		return doc, nil, src, problemsErr(path, src, err)
	}
	c, err := agreement.Compile(doc)
	if err != nil {
		return doc, nil, src, problemsErr(path, src, err)
	}
	return doc, c, src, nil
}

// problemsErr renders an agreement's problems one per line, each with its
// path and, when src is given, where in the file it is (file:line:column).
// Expression problems also carry their line and column inside the
// expression in the message.
func problemsErr(what string, src []byte, err error) error {
	var ps *agreement.Problems
	if !errors.As(err, &ps) {
		return err
	}
	var root yaml.Node
	if src == nil || yaml.Unmarshal(src, &root) != nil {
		root = yaml.Node{}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", what, len(ps.List))
	for _, p := range ps.List {
		b.WriteString("\n  ")
		if line, col := agreement.SourcePosition(&root, p); line > 0 {
			fmt.Fprintf(&b, "%s:%d:", what, line)
			if col > 0 {
				fmt.Fprintf(&b, "%d:", col)
			}
			b.WriteString(" ")
		}
		if p.Path != "" {
			b.WriteString(p.Path + ": ")
		}
		b.WriteString(strings.ReplaceAll(p.Message, "\n", "\n    "))
	}
	return errors.New(b.String())
}

// fieldsErr renders a domain error whose fields are an agreement's
// problems one per line, and any other error as describeErr does.
func fieldsErr(err error) error {
	fields := alinea.ErrorFields(err)
	if len(fields) == 0 {
		return describeErr(err)
	}
	var de *alinea.Error
	errors.As(err, &de)
	paths := make([]string, 0, len(fields))
	for p := range fields {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	b.WriteString(de.Message + ":")
	for _, p := range paths {
		fmt.Fprintf(&b, "\n  %s: %s", p, fields[p])
	}
	return errors.New(b.String())
}

func agreementValidate(ctx context.Context, e *env, name string, args []string) error {
	_, rest, err := agreementFlags(e, name, args, 1, "FILE", nil)
	if err != nil {
		return err
	}
	path := rest[0]
	src, err := readDocumentFile(e, path)
	if err != nil {
		return err
	}
	doc, err := agreement.Parse(src)
	if err == nil {
		_, err = agreement.Compile(doc)
	}
	var ps *agreement.Problems
	switch {
	case err == nil:
		fmt.Fprintln(e.stdout, "valid")
		return nil
	case errors.As(err, &ps):
		fmt.Fprintln(e.stdout, problemsErr(path, src, err))
		return fmt.Errorf("%s is not a valid agreement", path)
	}
	return err
}

func agreementPropose(ctx context.Context, e *env, name string, args []string) error {
	var email string
	var basedOn int64
	c, rest, err := agreementFlags(e, name, args, 1, "FILE|ID", func(fs *flag.FlagSet) {
		userFlag(e, fs, &email)
		fs.Int64Var(&basedOn, "based-on", 0, "the version `ID` a new draft from FILE is based on")
	})
	if err != nil {
		return err
	}
	id, isFile, err := versionArg(rest[0])
	if err != nil {
		return err
	}
	var src []byte
	if isFile {
		// Checked before anything is stored: a draft that cannot be proposed
		// is of no use from the command line.
		if _, _, src, err = compileFile(e, rest[0]); err != nil {
			return err
		}
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := actingUser(ctx, st, email)
	if err != nil {
		return err
	}
	if isFile {
		v, err := st.CreateAgreement(ctx, src, basedOn, u.ID)
		if err != nil {
			return fieldsErr(err)
		}
		id = v.ID
		fmt.Fprintf(e.stdout, "created draft version %d from %s\n", id, rest[0])
	}
	v, err := st.ProposeAgreement(ctx, id, u.ID)
	if err != nil {
		return fieldsErr(err)
	}
	fmt.Fprintf(e.stdout, "proposed version %d %q; it needs the signatures of a marketing lead and a sales lead:\n", v.ID, v.Name)
	fmt.Fprintf(e.stdout, "  alinea agreement sign %d --user EMAIL\n%d\n", v.ID, v.ID)
	return nil
}

func parseVersionID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a version id", arg)
	}
	return id, nil
}

func agreementSign(ctx context.Context, e *env, name string, args []string) error {
	var email string
	c, rest, err := agreementFlags(e, name, args, 1, "ID", func(fs *flag.FlagSet) { userFlag(e, fs, &email) })
	if err != nil {
		return err
	}
	id, err := parseVersionID(rest[0])
	if err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := actingUser(ctx, st, email)
	if err != nil {
		return err
	}
	v, err := st.SignAgreement(ctx, id, u)
	if err != nil {
		return describeErr(err)
	}
	team := ""
	for _, s := range v.Signatures {
		if s.UserID == u.ID {
			team = s.Team
		}
	}
	fmt.Fprintf(e.stdout, "%s signed version %d for %s\n", u.Email, id, team)
	switch {
	case v.SignedBy("marketing") && v.SignedBy("sales"):
		fmt.Fprintf(e.stdout, "both teams have signed; activate it with:\n  alinea agreement activate %d --user EMAIL\n", id)
	case v.SignedBy("marketing"):
		fmt.Fprintln(e.stdout, "waiting for a sales lead's signature")
	default:
		fmt.Fprintln(e.stdout, "waiting for a marketing lead's signature")
	}
	return nil
}

func agreementActivate(ctx context.Context, e *env, name string, args []string) error {
	var email string
	var noWait bool
	c, rest, err := agreementFlags(e, name, args, 1, "ID", func(fs *flag.FlagSet) {
		userFlag(e, fs, &email)
		fs.BoolVar(&noWait, "no-wait", false, "return once activated; the server's workers re-evaluate the contacts")
	})
	if err != nil {
		return err
	}
	id, err := parseVersionID(rest[0])
	if err != nil {
		return err
	}
	st, log, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := actingUser(ctx, st, email)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	var workers *river.Workers
	if !noWait {
		workers = river.NewWorkers()
		river.AddWorker(workers, &jobs.ReevaluateWorker{Store: st, Log: log})
	}
	q, err := jobs.New(st, jobs.Config{Logger: log, Workers: workers, MaxWorkers: 1, PollInterval: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	prev, err := st.ActiveAgreement(ctx)
	if err != nil && alinea.ErrorCode(err) != alinea.ENOTFOUND {
		return err
	}
	v, err := jobs.Activate(ctx, st, q, id, u.ID)
	if err != nil {
		return describeErr(err)
	}
	fmt.Fprintf(e.stdout, "version %d %q is active", v.ID, v.Name)
	if prev.ID != 0 && prev.ID != v.ID {
		fmt.Fprintf(e.stdout, "; version %d is superseded", prev.ID)
	}
	fmt.Fprintln(e.stdout)
	if noWait {
		fmt.Fprintf(e.stdout, "the re-evaluation of every contact is queued; a running server works it (GET /api/v1/agreements/%d/reevaluation)\n", id)
		return nil
	}
	if err := q.Start(ctx); err != nil {
		return fmt.Errorf("start job worker: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
	}()
	return waitReevaluation(ctx, e, st, id)
}

// waitReevaluation shows the re-evaluation's progress until it is done.
func waitReevaluation(ctx context.Context, e *env, st *store.Store, id int64) error {
	start := time.Now()
	tty := isTerminal(e.stderr)
	every := 5 * time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last time.Time
	var shown *store.Reevaluation
	drawn := false
	for {
		r, err := st.ReevaluationStatus(ctx, id)
		if err != nil {
			return err
		}
		finished := r.Status == "done" || r.Status == "failed"
		// A plain line repeating the previous one says nothing new.
		repeat := !tty && shown != nil && shown.Done == r.Done && shown.Transitions == r.Transitions
		if now := time.Now(); (finished && !repeat) || now.Sub(last) >= every {
			last, shown = now, &r
			drawn = drawReevaluation(e.stderr, tty, r, now.Sub(start)) || drawn
		}
		if finished {
			if drawn && tty {
				fmt.Fprintln(e.stderr)
			}
			switch {
			case r.Status == "failed":
				return fmt.Errorf("re-evaluation of version %d failed: %s", id, r.Error)
			case r.Error != "":
				return fmt.Errorf("re-evaluation of version %d stopped: %s", id, r.Error)
			}
			fmt.Fprintf(e.stdout, "re-evaluated %s contacts in %s; %s moved forward in the funnel\n",
				thousands(r.Done), time.Since(start).Round(time.Millisecond), thousands(r.Transitions))
			return nil
		}
		select {
		case <-ctx.Done():
			if drawn && tty {
				fmt.Fprintln(e.stderr)
			}
			return fmt.Errorf("stopped waiting at %s of %s contacts; the re-evaluation resumes where it left off when a server or this command runs: %w",
				thousands(r.Done), thousands(r.Total), ctx.Err())
		case <-tick.C:
		}
	}
}

// drawReevaluation redraws a progress bar on a terminal, or writes a plain
// line otherwise; it reports whether it drew the bar.
func drawReevaluation(w io.Writer, tty bool, r store.Reevaluation, elapsed time.Duration) bool {
	frac := 1.0
	if r.Total > 0 {
		frac = min(float64(r.Done)/float64(r.Total), 1)
	}
	if !tty {
		fmt.Fprintf(w, "re-evaluation: %s of %s contacts (%.0f%%), %s transitions, %s\n",
			thousands(r.Done), thousands(r.Total), 100*frac, thousands(r.Transitions), elapsed.Round(time.Second))
		return false
	}
	const width = 30
	done := int(frac * width)
	fmt.Fprintf(w, "\r[%s%s] %3.0f%%  %s of %s contacts  %s transitions\x1b[K",
		strings.Repeat("█", done), strings.Repeat("░", width-done), 100*frac, thousands(r.Done), thousands(r.Total), thousands(r.Transitions))
	return true
}

// loadVersion reads a version argument: a file (label: its name) or a
// stored version (label: v7), opening the store only when needed.
func loadVersion(ctx context.Context, e *env, c config, st **store.Store, arg string) (agreement.Version, string, error) {
	id, isFile, err := versionArg(arg)
	if err != nil {
		return agreement.Version{}, "", err
	}
	if isFile {
		src, err := readDocumentFile(e, arg)
		if err != nil {
			return agreement.Version{}, "", err
		}
		doc, err := agreement.Parse(src)
		if err != nil {
			return agreement.Version{}, "", problemsErr(arg, src, err)
		}
		return agreement.Version{Document: doc, Source: string(src)}, filepath.Base(arg), nil
	}
	if *st == nil {
		if *st, _, err = c.open(ctx, e, true); err != nil {
			return agreement.Version{}, "", err
		}
	}
	v, err := (*st).Agreement(ctx, id)
	if err != nil {
		return v, "", describeErr(err)
	}
	return v, fmt.Sprintf("v%d", id), nil
}

func agreementDiff(ctx context.Context, e *env, name string, args []string) error {
	c, rest, err := agreementFlags(e, name, args, 2, "A B", nil)
	if err != nil {
		return err
	}
	var st *store.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	a, _, err := loadVersion(ctx, e, c, &st, rest[0])
	if err != nil {
		return err
	}
	b, _, err := loadVersion(ctx, e, c, &st, rest[1])
	if err != nil {
		return err
	}
	changes := agreement.Diff(a.Document, b.Document)
	if len(changes) == 0 {
		fmt.Fprintln(e.stdout, "no differences")
		return nil
	}
	for _, ch := range changes {
		fmt.Fprintf(e.stdout, "%s: %s -> %s\n", ch.Path, diffValue(ch.From), diffValue(ch.To))
	}
	return nil
}

func diffValue(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func agreementBacktest(ctx context.Context, e *env, name string, args []string) error {
	var fromArg, toArg string
	var asJSON bool
	c, rest, err := agreementFlags(e, name, args, 1, "FILE|ID", func(fs *flag.FlagSet) {
		fs.StringVar(&fromArg, "from", "", "first month, `YYYY-MM` (default: 12 months before this one)")
		fs.StringVar(&toArg, "to", "", "last month, included, `YYYY-MM` (default: last month)")
		fs.BoolVar(&asJSON, "json", false, "print the reports as JSON, as the API returns them")
	})
	if err != nil {
		return err
	}
	from, to, err := backtestMonths(fromArg, toArg, time.Now())
	if err != nil {
		return err
	}
	var st *store.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	v, label, err := loadVersion(ctx, e, c, &st, rest[0])
	if err != nil {
		return err
	}
	compiled, err := agreement.Compile(v.Document)
	if err != nil {
		return problemsErr(label, []byte(v.Source), err)
	}
	if st == nil {
		if st, _, err = c.open(ctx, e, true); err != nil {
			return err
		}
	}
	labels, versions := []string{label}, []*agreement.Compiled{compiled}
	active, err := st.ActiveAgreement(ctx)
	switch {
	case alinea.ErrorCode(err) == alinea.ENOTFOUND:
	case err != nil:
		return err
	case active.ID == v.ID:
		labels[0] += " (active)"
	default:
		ac, err := agreement.Compile(active.Document)
		if err != nil {
			return fmt.Errorf("the active version %d: %w", active.ID, problemsErr(fmt.Sprintf("v%d", active.ID), nil, err))
		}
		labels, versions = append(labels, fmt.Sprintf("v%d (active)", active.ID)), append(versions, ac)
	}
	began := time.Now()
	reports, err := st.Backtest(ctx, agreement.NewBacktest(from, to, labels, versions))
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string][]agreement.Report{"reports": reports})
	}
	fmt.Fprintf(e.stdout, "Backtest from %s to %s (revenue in %s):\n\n", from.Format("2006-01"), to.AddDate(0, -1, 0).Format("2006-01"), v.Document.Currency)
	if err := agreement.WriteTable(e.stdout, reports); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "replayed history in %s\n", time.Since(began).Round(time.Millisecond))
	return nil
}

// backtestMonths reads --from and --to (both months included); the default
// is the twelve whole months before the current one.
func backtestMonths(fromArg, toArg string, now time.Time) (from, to time.Time, err error) {
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to = thisMonth.AddDate(-1, 0, 0), thisMonth
	if fromArg != "" {
		if from, err = time.Parse("2006-01", fromArg); err != nil {
			return from, to, fmt.Errorf("--from: want a month such as 2027-01; got %q", fromArg)
		}
	}
	if toArg != "" {
		t, err := time.Parse("2006-01", toArg)
		if err != nil {
			return from, to, fmt.Errorf("--to: want a month such as 2027-01; got %q", toArg)
		}
		to = t.AddDate(0, 1, 0)
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("--from %s is after --to %s", from.Format("2006-01"), to.AddDate(0, -1, 0).Format("2006-01"))
	}
	return from, to, nil
}

func agreementShow(ctx context.Context, e *env, name string, args []string) error {
	var asYAML bool
	c, rest, err := agreementFlags(e, name, args, 1, "ID|active", func(fs *flag.FlagSet) {
		fs.BoolVar(&asYAML, "yaml", false, "print the version's document (as written, comments included)")
	})
	if err != nil {
		return err
	}
	var id int64
	if rest[0] != "active" {
		if id, err = parseVersionID(rest[0]); err != nil {
			return fmt.Errorf("%w; give a version id or active", err)
		}
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var v agreement.Version
	if id == 0 {
		v, err = st.ActiveAgreement(ctx)
	} else {
		v, err = st.Agreement(ctx, id)
	}
	if err != nil {
		return describeErr(err)
	}
	if asYAML {
		src := []byte(v.Source)
		if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && trimmed[0] == '{' {
			if src, err = v.Document.YAML(); err != nil {
				return err
			}
		}
		_, err := e.stdout.Write(src)
		return err
	}
	return printVersion(e.stdout, v)
}

func printVersion(w io.Writer, v agreement.Version) error {
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	d := v.Document
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "version\t%d\n", v.ID)
	fmt.Fprintf(tw, "name\t%s\n", v.Name)
	fmt.Fprintf(tw, "status\t%s\n", v.Status)
	if v.BasedOn != 0 {
		fmt.Fprintf(tw, "based on\tversion %d\n", v.BasedOn)
	}
	fmt.Fprintf(tw, "created\t%s by user %d\n", when(&v.CreatedAt), v.CreatedBy)
	fmt.Fprintf(tw, "proposed\t%s\n", when(v.ProposedAt))
	fmt.Fprintf(tw, "activated\t%s\n", when(v.ActivatedAt))
	for _, team := range []string{"marketing", "sales"} {
		signed := "not yet"
		for _, s := range v.Signatures {
			if s.Team == team {
				signed = fmt.Sprintf("%s (user %d), %s", s.UserName, s.UserID, when(&s.SignedAt))
			}
		}
		fmt.Fprintf(tw, "signed by %s\t%s\n", team, signed)
	}
	var goals []string
	for _, g := range d.Goals {
		goals = append(goals, fmt.Sprintf("%s %s %s", g.Period, thousands(int64(g.Revenue)), d.Currency))
	}
	fmt.Fprintf(tw, "goals\t%s\n", strings.Join(goals, "; "))
	for _, def := range []struct {
		name string
		d    agreement.Definition
	}{{"lead", d.Definitions.Lead}, {"mql", d.Definitions.MQL}, {"sql", d.Definitions.SQL}} {
		text := def.d.When
		if def.d.MinFit > 0 {
			text += fmt.Sprintf(" (min fit %d)", def.d.MinFit)
		}
		if def.d.MinEngagement > 0 {
			text += fmt.Sprintf(" (min engagement %d)", def.d.MinEngagement)
		}
		fmt.Fprintf(tw, "%s\t%s\n", def.name, strings.TrimSpace(text))
	}
	fmt.Fprintf(tw, "rules\t%d fit, %d engagement; %d rejection reasons, %d SLAs, %d playbooks\n",
		len(d.Scoring.Fit), len(d.Scoring.Engagement), len(d.RejectionReasons), len(d.SLAs), len(d.Playbooks))
	return tw.Flush()
}

func agreementList(ctx context.Context, e *env, name string, args []string) error {
	c, _, err := agreementFlags(e, name, args, 0, "", nil)
	if err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	vs, err := st.Agreements(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tBASED ON\tUPDATED\tNAME")
	for _, v := range vs {
		based := "-"
		if v.BasedOn != 0 {
			based = strconv.FormatInt(v.BasedOn, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.ID, v.Status, based, v.UpdatedAt.UTC().Format("2006-01-02 15:04"), v.Name)
	}
	return tw.Flush()
}
