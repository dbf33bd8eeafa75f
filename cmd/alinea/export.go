package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

const exportUsage = `Usage: alinea export contacts [flags]

Writes contacts as CSV with a header, in id order, streaming page by page.
The columns are the import's field names (owner as the owner's email,
properties as a JSON object), so an exported file imports back unchanged;
id, mode and the timestamps are informative and ignored by the import.

Flags:
`

// exportColumns is the header of an export.
var exportColumns = []string{"id", "email", "external_id", "first_name", "last_name", "phone", "job_title", "account_id",
	"country", "source", "owner", "consent", "stage", "mode", "stage_changed_at", "properties", "created_at", "updated_at"}

// exportPage is the number of contacts read per query.
const exportPage = 1000

func runExport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "contacts" {
		return errors.New("usage: alinea export contacts [--stage STAGE] [--owner EMAIL] [--updated-since TIME] [--email EMAIL] [-o FILE] (see alinea export contacts -h)")
	}
	var c config
	var stage, owner, updatedSince, email, out, delim string
	fs := newFlags(e, "export contacts")
	commonFlags(e, fs, &c)
	fs.StringVar(&stage, "stage", "", "only contacts in this lifecycle `STAGE`")
	fs.StringVar(&owner, "owner", "", "only contacts owned by the user with this `EMAIL`")
	fs.StringVar(&updatedSince, "updated-since", "", "only contacts updated at or after `TIME` (RFC 3339, e.g. 2025-01-31T00:00:00Z, or a date 2025-01-31)")
	fs.StringVar(&email, "email", "", "only the contact with this `EMAIL`")
	fs.StringVar(&out, "o", "-", "write to `FILE` instead of standard output")
	fs.StringVar(&delim, "delimiter", ",", "field delimiter: , or ; (for spreadsheets set to Spanish)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), exportUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("export contacts: unexpected argument %q (write to a file with -o FILE)", rest[0])
	}
	filter := alinea.ContactFilter{Email: email}
	if stage != "" {
		if filter.Stage, err = alinea.ParseStage(stage); err != nil {
			return fmt.Errorf("--stage: %w", describeErr(err))
		}
	}
	if updatedSince != "" {
		if filter.UpdatedSince, err = parseSince(updatedSince); err != nil {
			return err
		}
	}
	comma, size := utf8.DecodeRuneInString(delim)
	if size != len(delim) || (comma != ',' && comma != ';' && comma != '\t') {
		return fmt.Errorf("--delimiter: want , or ; or a tab, got %q", delim)
	}
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}
	if !store.IsPostgresURL(c.DB) && !fileExists(c.DB) {
		return fmt.Errorf("no database at %s (set --db or ALINEA_DB)", c.DB)
	}
	st, err := c.openStore(ctx, log, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if owner != "" {
		u, err := st.UserByEmail(ctx, owner)
		if err != nil {
			return describeErr(fmt.Errorf("--owner: %w", err))
		}
		filter.OwnerID = u.ID
	}

	w := e.stdout
	var f *os.File
	if out != "-" {
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := exportContacts(ctx, st, filter, w, comma)
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		if f != nil {
			os.Remove(out)
		}
		return fmt.Errorf("export contacts: %w", err)
	}
	if f != nil {
		fmt.Fprintf(e.stderr, "exported %s contacts to %s\n", thousands(n), out)
	}
	return nil
}

// parseSince reads an RFC 3339 time or a date (midnight UTC).
func parseSince(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--updated-since: %q is not an RFC 3339 time such as 2025-01-31T09:00:00Z or a date such as 2025-01-31", v)
}

// exportContacts streams the contacts matching filter as CSV, one page of
// the cursor at a time, and returns how many it wrote.
func exportContacts(ctx context.Context, st *store.Store, filter alinea.ContactFilter, w io.Writer, comma rune) (int64, error) {
	users, err := st.Users(ctx)
	if err != nil {
		return 0, err
	}
	ownerEmail := make(map[int64]string, len(users))
	for _, u := range users {
		ownerEmail[u.ID] = u.Email
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	if err := cw.Write(exportColumns); err != nil {
		return 0, err
	}
	var n int64
	rec := make([]string, len(exportColumns))
	filter.Limit = exportPage
	for {
		page, next, err := st.Contacts(ctx, filter)
		if err != nil {
			return n, err
		}
		for _, c := range page {
			rec = append(rec[:0], strconv.FormatInt(c.ID, 10), c.Email, c.ExternalID, c.FirstName, c.LastName, c.Phone, c.JobTitle,
				idOrEmpty(c.AccountID), c.Country, c.Source, ownerEmail[c.OwnerID], string(c.Consent), string(c.Stage), string(c.Mode),
				exportTime(c.StageChangedAt), string(c.Properties), exportTime(c.CreatedAt), exportTime(c.UpdatedAt))
			for i := range rec {
				rec[i] = defuseFormula(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		if next == 0 {
			break
		}
		filter.After = next
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// defuseFormula keeps a spreadsheet from running a cell as a formula:
// contact fields come from public forms and tracking, so a name such as
// =HYPERLINK(...) must reach Excel or LibreOffice as text. Such cells get a
// leading apostrophe (OWASP's advice). Phone numbers and signed numbers
// ("+34 600 12 34 56", "-5") are left alone: they start with + or - but
// hold nothing a spreadsheet would run.
func defuseFormula(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return "'" + v
	case '+', '-':
		for _, r := range v[1:] {
			if !strings.ContainsRune("0123456789 ().-/", r) {
				return "'" + v
			}
		}
	}
	return v
}

func idOrEmpty(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
