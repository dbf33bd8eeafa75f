package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/store"
)

// demoOptions are the flags of alinea demo besides the common ones.
type demoOptions struct {
	seed     int64
	contacts int
	events   int
	now      time.Time
	force    bool
}

// runDemo builds a fresh demo database and serves it. An existing file is
// never reused or replaced without --force: the passwords and keys of a
// demo are printed once, when it is built, so serving an old demo file here
// would print credentials that do not work. `alinea serve --db FILE` serves
// an existing demo database as it is.
func runDemo(ctx context.Context, e *env, args []string) error {
	var c config
	var o demoOptions
	var seed, contacts, events, now string
	flags := newFlags(e, "demo")
	// The demo has its own database variable: ALINEA_DB may name a real
	// database, which --force would otherwise replace.
	flags.StringVar(&c.DB, "db", envDefault(e, "demo-db", "./alinea-demo.db"), "SQLite file to create (ALINEA_DEMO_DB)")
	flags.StringVar(&c.Addr, "addr", envDefault(e, "addr", "127.0.0.1:8080"), "listen address (ALINEA_ADDR)")
	flags.StringVar(&c.LogLevel, "log-level", envDefault(e, "log-level", "info"), "debug, info, warn or error (ALINEA_LOG_LEVEL)")
	flags.StringVar(&seed, "seed", envDefault(e, "demo-seed", "1"), "random seed; the same seed and --now give the same data (ALINEA_DEMO_SEED)")
	flags.StringVar(&contacts, "contacts", envDefault(e, "demo-contacts", strconv.Itoa(demo.DefaultContacts)), "number of contacts (ALINEA_DEMO_CONTACTS)")
	flags.StringVar(&events, "events", envDefault(e, "demo-events", strconv.Itoa(demo.DefaultEvents)), "number of events (ALINEA_DEMO_EVENTS)")
	flags.StringVar(&now, "now", envDefault(e, "demo-now", ""), "the data covers the year before this date, YYYY-MM-DD or RFC 3339; default today 00:00 UTC (ALINEA_DEMO_NOW)")
	flags.BoolVar(&o.force, "force", false, "replace the --db file if it exists (no environment equivalent)")
	workerFlags(e, flags, &c)
	notifyFlags(e, flags, &c)
	if err := flags.Parse(args); err != nil {
		return err
	}
	if err := checkWorkerFlags(&c); err != nil {
		return err
	}
	if err := checkNotifyFlags(&c); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", flags.Arg(0))
	}
	var err error
	if o.seed, err = strconv.ParseInt(seed, 10, 64); err != nil {
		return fmt.Errorf("--seed: %q is not an integer", seed)
	}
	if o.contacts, err = strconv.Atoi(contacts); err != nil {
		return fmt.Errorf("--contacts: %q is not an integer", contacts)
	}
	if o.events, err = strconv.Atoi(events); err != nil {
		return fmt.Errorf("--events: %q is not an integer", events)
	}
	if o.now, err = parseDemoNow(now, time.Now()); err != nil {
		return err
	}
	if store.IsPostgresURL(c.DB) {
		return errors.New("--db: the demo builds a SQLite file; give a file path, not a PostgreSQL URL")
	}
	path := strings.TrimPrefix(c.DB, "sqlite://")
	if path == "" {
		return errors.New("--db is empty")
	}
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}

	cfg := demo.Config{Seed: o.seed, Contacts: o.contacts, Events: o.events, Now: o.now, Logger: log}
	if err := cfg.Validate(); err != nil {
		return describeErr(err)
	}
	if err := checkDemoPath(path, o.force); err != nil {
		return err
	}
	// Build next to the target and replace it only at the end, so that an
	// interrupted or failed run neither loses the old file nor leaves a
	// half-built one under the demo's name.
	building := path + ".building"
	removeSQLiteFiles(building)
	fmt.Fprintf(e.stderr, "alinea demo: generating %d contacts and %d events for the year before %s (seed %d)...\n",
		o.contacts, o.events, o.now.Format("2006-01-02"), o.seed)
	began := time.Now()
	res, err := demo.Build(ctx, building, cfg)
	if err != nil {
		removeSQLiteFiles(building)
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--force: remove %s: %w", path+suffix, err)
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(building+suffix, path+suffix); err != nil && !(suffix != "" && errors.Is(err, fs.ErrNotExist)) {
			return fmt.Errorf("move the demo database into place: %w", err)
		}
	}
	took := time.Since(began)

	c.DB = path
	st, err := c.openStore(ctx, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := activateDemoAgreement(ctx, st, res, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("activate the demo's revenue agreement: %w", err)
	}
	fmt.Fprintf(e.stderr, "alinea demo: revenue agreement version %d (seed 003) signed, active, every contact scored\n", v.ID)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	defer ln.Close() // in case serve fails before the HTTP server owns it
	printDemo(e, res, path, o, took, "http://"+ln.Addr().String())
	return serve(ctx, st, ln, c, e)
}

// parseDemoNow reads --now; empty means today at 00:00 UTC.
func parseDemoNow(v string, wall time.Time) (time.Time, error) {
	if v == "" {
		return wall.UTC().Truncate(24 * time.Hour), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now: %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", v)
	}
	return t.UTC(), nil
}

// checkDemoPath refuses an existing file unless force is set.
func checkDemoPath(path string, force bool) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("--db: %s is a directory", path)
	}
	if !force {
		return fmt.Errorf("%s already exists; run 'alinea demo --force' to replace it with a new demo database, or 'alinea serve --db %s' to serve it as it is", path, path)
	}
	return nil
}

func removeSQLiteFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// printDemo writes what a visitor needs to try the demo; secrets go to
// stdout only, each key alone at the end of its line.
func printDemo(e *env, res demo.Result, path string, o demoOptions, took time.Duration, url string) {
	w := e.stdout
	fmt.Fprintf(w, "Alinea demo built in %.1fs: %d accounts, %d contacts, %d events, %d stage transitions, %d deals, %d notes.\n",
		took.Seconds(), res.Accounts, res.Contacts, res.Events, res.Transitions, res.Deals, res.Notes)
	fmt.Fprintf(w, "Database: %s (seed %d, the year before %s)\n", path, o.seed, o.now.Format("2006-01-02"))
	fmt.Fprintf(w, "URL: %s\n", url)
	fmt.Fprintln(w, "Users (sign in with email and password):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, u := range res.Users {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", u.Email, u.Password, u.Role, u.Locale, u.Name)
	}
	tw.Flush()
	fmt.Fprintf(w, "API key (admin, %s): %s\n", res.Users[0].Email, res.APIKey)
	fmt.Fprintf(w, "Write key (website): %s\n", res.WriteKey)
}
