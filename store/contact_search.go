package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// Contact search (ContactFilter.Search): every word of the query must start
// a word of the contact's first name, last name or email, ignoring case and
// accents. Punctuation splits words, so "ana.garcía@acme" is the phrase
// ana garcía acme*, matched within one field. Migration 00015 builds the
// indexes: FTS4 on SQLite, a tsvector with a GIN index on PostgreSQL.
//
// An index alone is slow for a common word: it yields every match (a
// hundred thousand contacts for "garcía" in a million) before the list can
// take the newest fifty. A scan of the list in its order is fast for such a
// word and slow for a rare one. So a search checks the first contacts of
// the list one by one (the window), and asks the index only for the rest of
// the list when those held too few matches: a word common enough to be slow
// in the index fills the page within the window.
const (
	// The windows: 51 matches in 2,000 contacts means the words match at
	// least 2.5% of the list, and rarer words are cheap in SQLite's index
	// (its prefix indexes). PostgreSQL checks a row for less (the stored
	// tsvector against the query, inside the server) and its index costs
	// more for words sharing their beginning with many others (a partial
	// match visits each), so it checks more.
	sqliteSearchWindow   = 2000
	postgresSearchWindow = 10000
	// searchChunk is how many contacts the first scanning query reads; on
	// PostgreSQL each next one reads four times more, up to maxSearchChunk.
	searchChunk    = 500
	maxSearchChunk = 8000
	// maxSearchWords bounds the work of one search; further words are ignored.
	maxSearchWords = 8
)

// searchWindow is how many indexed contacts a search checks one by one
// before it asks the index.
func (s *Store) searchWindow() int {
	if s.backend == Postgres {
		return postgresSearchWindow
	}
	return sqliteSearchWindow
}

// searchWords splits a search into words at white space, for PostgreSQL:
// each word into its tokens at anything but letters and digits, lower case,
// combining accents dropped (the index folds the others). Words without
// letters or digits are dropped.
func searchWords(q string) [][]string {
	var words [][]string
	for _, w := range strings.Fields(q) {
		var kept []string
		for _, t := range strings.FieldsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r) }) {
			t = strings.ToLower(strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Mn, r) {
					return -1
				}
				return r
			}, t))
			if t != "" {
				kept = append(kept, t)
			}
		}
		if len(kept) > 0 {
			words = append(words, kept)
		}
		if len(words) == maxSearchWords {
			break
		}
	}
	return words
}

// tsQuery is the PostgreSQL text-search query of words, to be folded by
// contact_search_fold before to_tsquery: a word of one token is a prefix
// in any field; a word of several tokens is a phrase within one field
// (weight A first name, B last name, C email), its last token a prefix.
// Tokens hold only letters and digits, so quoting them is safe.
func tsQuery(words [][]string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" & ")
		}
		if len(w) == 1 {
			b.WriteString("'" + w[0] + "':*")
			continue
		}
		b.WriteByte('(')
		for j, weight := range []string{"A", "B", "C"} {
			if j > 0 {
				b.WriteString(" | ")
			}
			for k, t := range w {
				if k > 0 {
					b.WriteString(" <-> ")
				}
				b.WriteString("'" + t + "':")
				if k == len(w)-1 {
					b.WriteByte('*')
				}
				b.WriteString(weight)
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// sqliteWords splits a search into words at white space and each word into
// the tokens of the index's own tokenizer (contacts_search_tokens), so that
// case, accents and word boundaries are exactly the index's.
func sqliteWords(ctx context.Context, tx *sql.Tx, q string) ([][]string, error) {
	var words [][]string
	for _, w := range strings.Fields(q) {
		var tokens []string
		err := eachRow(ctx, tx, `SELECT token FROM contacts_search_tokens WHERE input = ? ORDER BY position`, []any{w}, func(r *sql.Rows) error {
			var t string
			err := r.Scan(&t)
			tokens = append(tokens, t)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("split search words: %w", err)
		}
		if len(tokens) > 0 {
			words = append(words, tokens)
		}
		if len(words) == maxSearchWords {
			break
		}
	}
	return words, nil
}

// indexTerm is a token the index must hold, as a prefix or whole.
type indexTerm struct {
	token  string
	prefix bool
}

// indexTerms is what the index is asked for, all terms required, and
// whether that is exactly the search. A word of one token is exact: the
// token as a prefix. For a word of several tokens (a phrase such as
// ana.garcia@acme.es) it asks only for the tokens, not their order, and
// leaves out a short last token: the rows of "es*" or "com*" are nearly all
// contacts, which costs both indexes dearly to collect. What it finds is
// then checked against the whole search.
func indexTerms(words [][]string) ([]indexTerm, bool) {
	var terms []indexTerm
	exact := true
	for _, w := range words {
		if len(w) == 1 {
			terms = append(terms, indexTerm{w[0], true})
			continue
		}
		exact = false
		for k, t := range w {
			if k < len(w)-1 {
				terms = append(terms, indexTerm{t, false})
			} else if utf8.RuneCountInString(t) >= 3 {
				terms = append(terms, indexTerm{t, true})
			}
		}
	}
	return terms, exact
}

// ftsMatch is the FTS4 query of indexTerms. unicode61 tokens never hold
// quotes, stars or spaces.
func ftsMatch(words [][]string) (string, bool) {
	terms, exact := indexTerms(words)
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + t.token + `"`
		if t.prefix {
			parts[i] = `"` + t.token + `*"`
		}
	}
	return strings.Join(parts, " "), exact
}

// tsIndexQuery is the PostgreSQL query of indexTerms, folded like tsQuery.
func tsIndexQuery(words [][]string) (string, bool) {
	terms, exact := indexTerms(words)
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = "'" + t.token + "'"
		if t.prefix {
			parts[i] += ":*"
		}
	}
	return strings.Join(parts, " & "), exact
}

// sqliteRowMatch is an SQL condition on a contacts row that holds exactly
// when the row matches words in the FTS4 index: it tokenizes the row's
// fields with the index's tokenizer. A one-token word is looked for in the
// three fields at once (a space separates them); a phrase in each field.
func sqliteRowMatch(words [][]string) (string, []any) {
	const all = `first_name || ' ' || last_name || ' ' || coalesce(email, '')`
	var conds []string
	var args []any
	for _, w := range words {
		if len(w) == 1 {
			conds = append(conds, `EXISTS (SELECT 1 FROM contacts_search_tokens WHERE input = `+all+` AND token GLOB ?)`)
			args = append(args, w[0]+"*")
			continue
		}
		var fields []string
		for _, field := range []string{"first_name", "last_name", "coalesce(email, '')"} {
			var q strings.Builder
			q.WriteString("EXISTS (SELECT 1 FROM contacts_search_tokens t0")
			for k := 1; k < len(w); k++ {
				fmt.Fprintf(&q, " JOIN contacts_search_tokens t%d ON t%d.input = t0.input AND t%d.position = t0.position + %d", k, k, k, k)
			}
			q.WriteString(" WHERE t0.input = " + field)
			for k, t := range w {
				if k == len(w)-1 {
					fmt.Fprintf(&q, " AND t%d.token GLOB ?", k)
					args = append(args, t+"*")
				} else {
					fmt.Fprintf(&q, " AND t%d.token = ?", k)
					args = append(args, t)
				}
			}
			q.WriteString(")")
			fields = append(fields, q.String())
		}
		conds = append(conds, "("+strings.Join(fields, " OR ")+")")
	}
	return strings.Join(conds, " AND "), args
}

// contactSearch is one search over the contacts list: the list's filters,
// its direction and the query in the backend's forms.
type contactSearch struct {
	s      *Store
	tx     *sql.Tx
	where  []string // the list's filters, without the cursor
	args   []any
	desc   bool
	window int
	// rowMatch is the SQL condition that a contacts row matches the query.
	rowMatch     string
	rowMatchArgs []any
	// match is the query for the index, which holds the contacts up to
	// through; unless exact, what it finds is checked with rowMatch.
	match   string
	exact   bool
	through int64
}

// searchContacts lists the contacts that match filters and the search q,
// n+1 at most, from cursor (exclusive, 0 for none) in the list's direction.
func (s *Store) searchContacts(ctx context.Context, where []string, args []any, q string, desc bool, cursor int64, n, window int) ([]alinea.Contact, int64, error) {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	if s.backend == SQLite {
		opts = nil // a read transaction on the WAL is a snapshot already
	}
	tx, err := s.rdb.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("search contacts: %w", err)
	}
	defer tx.Rollback()
	cs := &contactSearch{s: s, tx: tx, where: where, args: args, desc: desc, window: window}
	if s.backend == Postgres {
		// The statements are prepared and cached; a generic plan, made
		// without the words, reads a rare word's matches as a common one's.
		if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return nil, 0, fmt.Errorf("search contacts: %w", err)
		}
		words := searchWords(q)
		if len(words) == 0 {
			return s.listContacts(ctx, tx, where, args, desc, cursor, n)
		}
		cs.match, cs.exact = tsIndexQuery(words)
		cs.rowMatch, cs.rowMatchArgs = "search @@ to_tsquery('simple', contact_search_fold(?))", []any{tsQuery(words)}
		cs.through = math.MaxInt64
	} else {
		words, err := sqliteWords(ctx, tx, q)
		if err != nil {
			return nil, 0, err
		}
		if len(words) == 0 {
			return s.listContacts(ctx, tx, where, args, desc, cursor, n)
		}
		cs.match, cs.exact = ftsMatch(words)
		cs.rowMatch, cs.rowMatchArgs = sqliteRowMatch(words)
		if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM contact_search_state`).Scan(&cs.through); err != nil {
			return nil, 0, fmt.Errorf("search contacts: %w", err)
		}
	}
	ids, err := cs.run(ctx, cursor, n+1)
	if err != nil {
		return nil, 0, fmt.Errorf("search contacts: %w", err)
	}
	return s.contactsByID(ctx, tx, ids, desc, n)
}

// run collects up to need matching ids in list order after cursor.
func (cs *contactSearch) run(ctx context.Context, cursor int64, need int) ([]int64, error) {
	hits := make([]int64, 0, need)
	// checked counts the indexed contacts checked one by one; contacts not
	// yet indexed are always checked so.
	checked := 0
	indexDone := false
	// Checking a row costs SQLite a tokenization, PostgreSQL little: only
	// its chunks grow.
	growth := 1
	if cs.s.backend == Postgres {
		growth = 4
	}
	for chunk := searchChunk; len(hits) < need; chunk = min(chunk*growth, maxSearchChunk) {
		// Newest first, the contacts not yet indexed (above through) come
		// first and are all checked one by one before the index is asked.
		pastUnindexed := !cs.desc || cursor-1 <= cs.through // cursor >= 1 newest first
		if !indexDone && checked >= cs.window && pastUnindexed {
			ids, err := cs.fromIndex(ctx, cursor, need-len(hits))
			if err != nil {
				return nil, err
			}
			hits = append(hits, ids...)
			// Newest first, the index has the rest of the list; oldest
			// first, the contacts not yet indexed come last.
			if cs.desc || len(hits) == need {
				break
			}
			indexDone = true
			cursor = max(cursor, cs.through)
		}
		if !indexDone && cursor-1 <= cs.through {
			// Do not read past the window in one go.
			chunk = max(min(chunk, cs.window-checked), 1)
		}
		sc, err := cs.scan(ctx, cursor, chunk)
		if err != nil {
			return nil, err
		}
		for _, id := range sc.hits {
			if len(hits) < need {
				hits = append(hits, id)
			}
		}
		checked += sc.indexed
		cursor = sc.last
		if sc.rows < chunk {
			break
		}
	}
	return hits, nil
}

// scanned is what one scanning query saw.
type scanned struct {
	hits    []int64 // the matching ids, in list order
	rows    int     // contacts read
	indexed int     // of which in the index
	last    int64   // the last id read
}

// scan reads the next chunk contacts of the list after cursor and checks
// each against the query in the database, which returns only the matches
// and where the chunk ended.
func (cs *contactSearch) scan(ctx context.Context, cursor int64, chunk int) (scanned, error) {
	where, args := cs.bounded(cursor)
	cols := "id, first_name, last_name, email"
	if cs.s.backend == Postgres {
		cols = "id, search"
	}
	q := `SELECT ` + cols + ` FROM contacts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += cs.order() + fmt.Sprintf(" LIMIT %d", chunk)
	end := "min"
	if !cs.desc {
		end = "max"
	}
	q = `WITH w AS MATERIALIZED (` + q + `)
		SELECT id, CASE WHEN ` + cs.rowMatch + ` THEN 1 ELSE 0 END,
			(SELECT count(*) FROM w), (SELECT count(*) FROM w WHERE id <= ?), (SELECT ` + end + `(id) FROM w)
		FROM w WHERE ` + cs.rowMatch + ` OR id = (SELECT ` + end + `(id) FROM w)` + cs.order()
	args = append(args, cs.rowMatchArgs...)
	args = append(args, cs.through)
	args = append(args, cs.rowMatchArgs...)
	var sc scanned
	err := eachRow(ctx, cs.tx, cs.s.q(q), args, func(r *sql.Rows) error {
		var id int64
		var hit bool
		if err := r.Scan(&id, &hit, &sc.rows, &sc.indexed, &sc.last); err != nil {
			return err
		}
		if hit {
			sc.hits = append(sc.hits, id)
		}
		return nil
	})
	return sc, err
}

// fromIndex asks the index for up to need matching ids of the indexed part
// of the list after cursor.
func (cs *contactSearch) fromIndex(ctx context.Context, cursor int64, need int) ([]int64, error) {
	// The cursor bounds the index's own scan too: the matches above it
	// (newest first) are never looked up.
	bound, dir := "id > ?", ""
	if cs.desc {
		bound, dir = "id < ?", " DESC"
	}
	where := append([]string{}, cs.where...)
	args := append([]any{}, cs.args...)
	if !cs.exact {
		where = append(where, cs.rowMatch)
		args = append(args, cs.rowMatchArgs...)
	}
	var q string
	if cs.s.backend == Postgres {
		// Materialized, the matches come from the GIN index: a plan that
		// walks contacts in id order and tests each row reads the whole
		// table when the planner overestimates a combination of words.
		q = `WITH m AS MATERIALIZED (SELECT id FROM contacts WHERE search @@ to_tsquery('simple', contact_search_fold(?)) AND ` + bound + `)
			SELECT id FROM contacts WHERE id IN (SELECT id FROM m)`
		args = append([]any{cs.match, cursor}, args...)
		if len(where) > 0 {
			q += " AND " + strings.Join(where, " AND ")
		}
		q += cs.order()
	} else {
		// The index drives the join (CROSS JOIN keeps that order) and yields
		// docids in the list's order, so the page stops the lookups.
		// Newest first, the index is asked only below through (run);
		// FTS4 uses one upper bound on docid, so give it just the one.
		indexed, bounds := " AND docid <= ?", []any{cs.match, cursor, cs.through}
		if cs.desc {
			indexed, bounds = "", bounds[:2]
		}
		q = `SELECT id FROM (SELECT docid FROM contacts_search WHERE contacts_search MATCH ? AND doc` + bound + indexed + `) AS m
			CROSS JOIN contacts ON contacts.id = m.docid`
		args = append(bounds, args...)
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q += " ORDER BY m.docid" + dir
	}
	q += fmt.Sprintf(" LIMIT %d", need)
	var ids []int64
	err := eachRow(ctx, cs.tx, cs.s.q(q), args, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// bounded is the list's filters with the cursor.
func (cs *contactSearch) bounded(cursor int64) ([]string, []any) {
	where := append([]string{}, cs.where...)
	args := append([]any{}, cs.args...)
	if cs.desc {
		where = append(where, "id < ?")
		args = append(args, cursor)
	} else if cursor > 0 {
		where = append(where, "id > ?")
		args = append(args, cursor)
	}
	return where, args
}

func (cs *contactSearch) order() string {
	if cs.desc {
		return " ORDER BY id DESC"
	}
	return " ORDER BY id"
}

// contactsByID reads the contacts of ids, which are in list order, and
// returns the first n with the next cursor as listPage does.
func (s *Store) contactsByID(ctx context.Context, tx *sql.Tx, ids []int64, desc bool, n int) ([]alinea.Contact, int64, error) {
	if len(ids) == 0 {
		return []alinea.Contact{}, 0, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	byID := make(map[int64]alinea.Contact, len(ids))
	err := eachRow(ctx, tx, s.q(`SELECT `+contactColumns+` FROM contacts WHERE id IN (`+placeholders(len(ids))+`)`), args, func(r *sql.Rows) error {
		c, err := scanContact(r)
		byID[c.ID] = c
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search contacts: %w", err)
	}
	out := make([]alinea.Contact, 0, min(n, len(ids)))
	for _, id := range ids {
		if c, ok := byID[id]; ok && len(out) < n {
			out = append(out, c)
		}
	}
	var next int64
	if len(ids) > n && len(out) == n {
		next = out[n-1].ID
	}
	return out, next, nil
}

// listContacts is the list without a search, inside tx.
func (s *Store) listContacts(ctx context.Context, tx *sql.Tx, where []string, args []any, desc bool, cursor int64, n int) ([]alinea.Contact, int64, error) {
	cs := &contactSearch{s: s, where: where, args: args, desc: desc}
	where, args = cs.bounded(cursor)
	q := `SELECT id FROM contacts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += cs.order() + fmt.Sprintf(" LIMIT %d", n+1)
	var ids []int64
	err := eachRow(ctx, tx, s.q(q), args, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list contacts: %w", err)
	}
	return s.contactsByID(ctx, tx, ids, desc, n)
}

// eachRow runs query in tx and calls fn for each row.
func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Indexing on SQLite. The indexer adds contacts above indexed_through to
// the FTS4 index in batches, on the writer, in the background. While
// contacts arrive in bulk (a CSV import writes 100,000 a second) it waits:
// its batches would take a sixth of the import's writer. While other
// writers queue for the connection it takes one small batch a second.
// Otherwise it catches up at full speed, about 150,000 contacts a second.
const (
	searchIndexBatch     = 5000
	searchIndexBusyBatch = 1000
	searchIndexInterval  = time.Second
	// searchIndexBulkRate is the growth of contacts, per second, above
	// which they are arriving in bulk; ingestion of 50,000 events a second
	// creates a few thousand.
	searchIndexBulkRate = 20000
)

// searchIndexer runs the indexing in the background (SQLite only).
type searchIndexer struct {
	s        *Store
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func newSearchIndexer(s *Store) *searchIndexer {
	ix := &searchIndexer{s: s, stop: make(chan struct{})}
	if s.backend == SQLite {
		ix.wg.Add(1)
		go ix.run()
	}
	return ix
}

func (ix *searchIndexer) close() {
	ix.stopOnce.Do(func() { close(ix.stop) })
	ix.wg.Wait()
}

func (ix *searchIndexer) run() {
	defer ix.wg.Done()
	var migrated bool
	err := ix.s.rdb.QueryRow(`SELECT count(*) > 0 FROM sqlite_master WHERE name = 'contact_search_state'`).Scan(&migrated)
	if err != nil || !migrated {
		// Opened with SkipMigrate on an older schema: nothing to maintain.
		ix.s.log.Info("contact search index not in the schema; not indexing", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-ix.stop
		cancel()
	}()
	tick := time.NewTicker(searchIndexInterval)
	defer tick.Stop()
	lastMax, lastAt := ix.maxID(ctx), time.Now()
	for {
		select {
		case <-ix.stop:
			return
		case <-tick.C:
		}
		newest, now := ix.maxID(ctx), time.Now()
		bulk := float64(newest-lastMax) > searchIndexBulkRate*now.Sub(lastAt).Seconds()
		lastMax, lastAt = newest, now
		if bulk {
			continue
		}
		for {
			waits := ix.s.db.Stats().WaitCount
			n, err := ix.s.indexContactSearch(ctx, searchIndexBatch)
			if err != nil && ctx.Err() == nil {
				ix.s.log.Warn("contact search indexing failed", "err", err)
			}
			if err != nil || n == 0 || ctx.Err() != nil {
				break
			}
			if ix.s.db.Stats().WaitCount > waits {
				// Others waited for the writer meanwhile: let them have
				// it, with one small batch a tick.
				_, _ = ix.s.indexContactSearch(ctx, searchIndexBusyBatch)
				break
			}
		}
	}
}

// maxID is the highest contact id, 0 on an error (the next tick retries).
func (ix *searchIndexer) maxID(ctx context.Context) int64 {
	var id sql.NullInt64
	_ = ix.s.rdb.QueryRowContext(ctx, `SELECT max(id) FROM contacts`).Scan(&id)
	return id.Int64
}

// IndexContactSearch adds every contact not yet in the search index to it
// and returns how many it added. The store does this in the background on
// SQLite; call it to have the index complete now (after a bulk load, in
// benchmarks). On PostgreSQL the index is always complete.
func (s *Store) IndexContactSearch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.indexContactSearch(ctx, searchIndexBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// indexContactSearch indexes up to limit contacts above indexed_through in
// one transaction and moves indexed_through past them.
func (s *Store) indexContactSearch(ctx context.Context, limit int) (int, error) {
	if s.backend != SQLite {
		return 0, nil
	}
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var through int64
		if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM contact_search_state`).Scan(&through); err != nil {
			return err
		}
		var last sql.NullInt64
		var count int
		err := tx.QueryRowContext(ctx, `SELECT max(id), count(*) FROM (SELECT id FROM contacts WHERE id > ? ORDER BY id LIMIT ?)`, through, limit).Scan(&last, &count)
		if err != nil || !last.Valid {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contacts_search (docid, first_name, last_name, email)
			SELECT id, first_name, last_name, email FROM contacts WHERE id > ? AND id <= ?`, through, last.Int64); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contact_search_state SET indexed_through = ?`, last.Int64); err != nil {
			return err
		}
		n = count
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return 0, fmt.Errorf("index contacts for search: %w", err)
	}
	return n, err
}
