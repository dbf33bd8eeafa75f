// Command alinea runs Alinea: the server, the demo, migrations, imports and
// administration. main only parses the command line; the work is done by the
// packages it wires together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: streams and the process environment.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the server (REST API, ingestion, UI)", runServe},
		"demo":      {"create a demo database with realistic data and serve it", runDemo},
		"migrate":   {"apply database migrations", runMigrate},
		"import":    {"import contacts from a CSV file", runImport},
		"export":    {"export contacts as CSV", runExport},
		"agreement": {"validate, propose, sign, activate, diff and backtest the revenue agreement", runAgreement},
		"user":      {"add or list users", runUser},
		"apikey":    {"create an API key for a user", runAPIKey},
		"writekey":  {"create a write key for event ingestion", runWriteKey},
		"bench":     {"measure ingestion and import throughput", runBench},
		"version":   {"print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	if err := run(ctx, e, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "alinea:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, e *env, args []string) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stderr, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(e.stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Usage: alinea <command> [flags]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'alinea <command> -h' for the flags of a command. Every flag has an ALINEA_* environment equivalent.")
}

// config is the validated configuration shared by commands.
type config struct {
	DB       string
	Addr     string
	LogLevel string
	// SecureCookies marks the web UI's cookies Secure (behind HTTPS).
	SecureCookies bool
	// SweepInterval is how often the handoff worker routes new MQLs and
	// checks SLA clocks (serve and demo).
	SweepInterval time.Duration
	sweepInterval string
	// SMTPURL configures notification email (password inside: never
	// logged); BaseURL makes the links in emails absolute.
	SMTPURL string
	BaseURL string
	// WebhookPrivateNetworks lets webhooks reach addresses that are not
	// public (webhook.ErrNotPublic).
	WebhookPrivateNetworks bool
}

// String masks the password of a PostgreSQL URL so config can be logged.
func (c config) String() string {
	return fmt.Sprintf("db=%s addr=%s log-level=%s secure-cookies=%t smtp=%s base-url=%s webhook-private-networks=%t",
		maskDSN(c.DB), c.Addr, c.LogLevel, c.SecureCookies, c.maskedSMTP(), c.BaseURL, c.WebhookPrivateNetworks)
}

func maskDSN(dsn string) string {
	if !store.IsPostgresURL(dsn) {
		return dsn
	}
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://") + 3
	if at < scheme {
		return dsn
	}
	if colon := strings.Index(dsn[scheme:at], ":"); colon >= 0 {
		return dsn[:scheme+colon+1] + "***" + dsn[at:]
	}
	return dsn
}

// newFlags makes a flag set whose defaults come from ALINEA_* variables.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("alinea "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// envDefault returns $ALINEA_<NAME> or def.
func envDefault(e *env, name, def string) string {
	if v := e.getenv("ALINEA_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v
	}
	return def
}

// commonFlags registers --db, --addr and --log-level.
func commonFlags(e *env, fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.DB, "db", envDefault(e, "db", "./alinea.db"), "SQLite file path or postgres:// URL (ALINEA_DB)")
	fs.StringVar(&c.Addr, "addr", envDefault(e, "addr", "127.0.0.1:8080"), "listen address (ALINEA_ADDR)")
	fs.StringVar(&c.LogLevel, "log-level", envDefault(e, "log-level", "info"), "debug, info, warn or error (ALINEA_LOG_LEVEL)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envDefault(e, "secure-cookies", "") == "true", "mark session cookies Secure; set when Alinea is served over HTTPS (ALINEA_SECURE_COOKIES=true)")
}

func (c config) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// open builds the logger and opens the configured database, for commands
// that need both; the caller closes the store.
func (c config) open(ctx context.Context, e *env, migrate bool) (*store.Store, *slog.Logger, error) {
	log, err := c.logger(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	st, err := c.openStore(ctx, log, migrate)
	return st, log, err
}

// openStore opens the configured database.
func (c config) openStore(ctx context.Context, log *slog.Logger, migrate bool) (*store.Store, error) {
	if c.DB == "" {
		return nil, errors.New("--db is empty")
	}
	return store.Open(ctx, c.DB, store.Options{Logger: log, SkipMigrate: !migrate})
}

// describeErr renders a domain error with its fields for the terminal.
func describeErr(err error) error {
	if alinea.ErrorCode(err) == alinea.EINTERNAL {
		return err
	}
	return errors.New(alinea.ErrorMessage(err))
}
