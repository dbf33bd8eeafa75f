package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

var anchor = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func smallConfig(seed int64) Config {
	return Config{Seed: seed, Contacts: 300, Events: 5000, Now: anchor}
}

func build(t *testing.T, cfg Config) (string, Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	res, err := Build(context.Background(), path, cfg)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return path, res
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestBuild builds one small demo and checks that the data is what the
// demo promises: the counts asked for, lifecycle histories that obey the
// funnel's rules and agree with the events, deals won and lost with
// reasons, campaigns, merged anonymous history and owners by mode.
func TestBuild(t *testing.T) {
	cfg := smallConfig(1)
	path, res := build(t, cfg)
	db := openDB(t, path)

	t.Run("counts", func(t *testing.T) {
		for _, c := range []struct {
			what  string
			query string
			want  int
		}{
			{"contacts", `SELECT count(*) FROM contacts`, cfg.Contacts},
			{"events", `SELECT count(*) FROM events`, cfg.Events},
			{"accounts", `SELECT count(*) FROM accounts`, 36},
			{"users", `SELECT count(*) FROM users`, 8},
			{"contacts without account", `SELECT count(*) FROM contacts WHERE account_id IS NULL`, 0},
			{"contacts with an email outside their account's domain", `SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.email NOT LIKE '%@' || a.domain`, 0},
			{"events outside the year before the anchor", `SELECT count(*) FROM events WHERE occurred_at < ? OR occurred_at >= ?`, 0},
			{"transitions outside the year before the anchor", `SELECT count(*) FROM stage_transitions WHERE at < ? OR at >= ?`, 0},
			{"identified events before their contact existed", `SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id WHERE e.user_id <> '' AND e.occurred_at < c.created_at`, 0},
			{"transitions before their contact existed", `SELECT count(*) FROM stage_transitions t JOIN contacts c ON c.id = t.contact_id WHERE t.at < c.created_at`, 0},
			{"accounts created after their first contact", `SELECT count(*) FROM accounts a WHERE a.created_at > (SELECT min(created_at) FROM contacts c WHERE c.account_id = a.id)`, 0},
		} {
			args := []any{}
			if strings.Contains(c.query, "?") {
				args = []any{anchor.AddDate(-1, 0, 0).UnixMilli(), anchor.UnixMilli()}
			}
			if got := count(t, db, c.query, args...); got != c.want {
				t.Errorf("%s: got %d, want %d", c.what, got, c.want)
			}
		}
		if res.Contacts != cfg.Contacts || res.Events != cfg.Events || res.Accounts != 36 {
			t.Errorf("result counts: %+v", res)
		}
		if got := count(t, db, `SELECT count(*) FROM stage_transitions`); got != res.Transitions {
			t.Errorf("transitions: result says %d, database has %d", res.Transitions, got)
		}
	})

	t.Run("users", func(t *testing.T) {
		roles := map[string]int{}
		locales := map[string]bool{}
		rows, err := db.Query(`SELECT role, locale FROM users`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var role, locale string
			if err := rows.Scan(&role, &locale); err != nil {
				t.Fatal(err)
			}
			roles[role]++
			locales[locale] = true
		}
		rows.Close()
		want := map[string]int{"admin": 1, "marketing": 2, "sales": 4, "manager": 1}
		for r, n := range want {
			if roles[r] != n {
				t.Errorf("%d %s users, want %d", roles[r], r, n)
			}
		}
		if !locales["es"] || !locales["en"] {
			t.Errorf("locales %v, want es and en", locales)
		}
		if len(res.Users) != 8 || res.Users[0].Role != alinea.RoleAdmin || len(res.Users[0].Password) < 10 {
			t.Errorf("credentials: %+v", res.Users)
		}
	})

	t.Run("lifecycle", func(t *testing.T) { checkLifecycle(t, db) })

	t.Run("owners follow the mode", func(t *testing.T) {
		rows, err := db.Query(`SELECT c.email, c.stage, u.role FROM contacts c JOIN users u ON u.id = c.owner_id WHERE c.stage <> 'disqualified'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var email, stage, role string
			if err := rows.Scan(&email, &stage, &role); err != nil {
				t.Fatal(err)
			}
			n++
			want := "sales"
			if alinea.Stage(stage).Mode() == alinea.ModeInformation {
				want = "marketing"
			}
			if role != want {
				t.Errorf("%s in %s is owned by a %s user, want %s", email, stage, role, want)
			}
		}
		if n < cfg.Contacts*9/10 {
			t.Errorf("only %d contacts have an owner", n)
		}
	})

	t.Run("deals", func(t *testing.T) {
		reasons := map[string]int{}
		rows, err := db.Query(`SELECT status, close_reason, closed_at IS NOT NULL FROM deals`)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]int{}
		for rows.Next() {
			var s, reason string
			var closed bool
			if err := rows.Scan(&s, &reason, &closed); err != nil {
				t.Fatal(err)
			}
			status[s]++
			if s == "lost" {
				reasons[reason]++
				if !slices.Contains(lossReasons, reason) {
					t.Errorf("lost deal with reason %q", reason)
				}
			}
			if closed != (s != "open") {
				t.Errorf("%s deal with closed_at set: %v", s, closed)
			}
		}
		rows.Close()
		if status["won"] == 0 || status["lost"] == 0 || status["open"] == 0 {
			t.Errorf("deal statuses %v; want won, lost and open deals", status)
		}
		if len(reasons) < 2 {
			t.Errorf("loss reasons %v; want several", reasons)
		}
		for _, c := range []struct {
			what  string
			query string
		}{
			{"deals without contacts", `SELECT count(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM deal_contacts dc WHERE dc.deal_id = d.id)`},
			{"deals owned by someone not in sales", `SELECT count(*) FROM deals d JOIN users u ON u.id = d.owner_id WHERE u.role <> 'sales'`},
			{"deals whose history does not start at creation", `SELECT count(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM deal_stage_history h WHERE h.deal_id = d.id AND h.from_stage_id IS NULL AND h.at = d.created_at)`},
			{"deals whose last move is not their stage", `SELECT count(*) FROM deals d WHERE d.stage_id <> (SELECT h.to_stage_id FROM deal_stage_history h WHERE h.deal_id = d.id ORDER BY h.at DESC, h.id DESC LIMIT 1)`},
			{"contacts of won deals who never became customers", `SELECT count(*) FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id
				WHERE d.status = 'won' AND NOT EXISTS (SELECT 1 FROM stage_transitions t WHERE t.contact_id = dc.contact_id AND t.to_stage = 'customer' AND t.actor_type = 'system')`},
			{"customers without a won deal", `SELECT count(*) FROM stage_transitions t WHERE t.to_stage = 'customer'
				AND NOT EXISTS (SELECT 1 FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id WHERE dc.contact_id = t.contact_id AND d.status = 'won' AND d.closed_at <= t.at)`},
		} {
			if n := count(t, db, c.query); n != 0 {
				t.Errorf("%d %s", n, c.what)
			}
		}
		if n := count(t, db, `SELECT count(DISTINCT role) FROM deal_contacts`); n < 3 {
			t.Errorf("%d distinct buying-committee roles, want at least 3", n)
		}
	})

	t.Run("events", func(t *testing.T) {
		if n := count(t, db, `SELECT count(DISTINCT utm_campaign) FROM events WHERE utm_campaign <> ''`); n < 10 {
			t.Errorf("%d campaigns in events, want at least 10", n)
		}
		if n := count(t, db, `SELECT count(*) FROM events WHERE utm_campaign <> '' AND (utm_source = '' OR utm_medium = '' OR context NOT LIKE '%"campaign":{"source":%')`); n != 0 {
			t.Errorf("%d events with a UTM campaign but no source, medium or context.campaign", n)
		}
		if n := count(t, db, `SELECT count(*) FROM events WHERE type = 'page' AND (context NOT LIKE '%"page":{"path":%' OR properties NOT LIKE '%"url":"https://www.vertice.example/%')`); n != 0 {
			t.Errorf("%d page views without context.page or url", n)
		}
		// Page views from before an identify carry no user id but belong
		// to the contact: the anonymous history was merged.
		if n := count(t, db, `SELECT count(*) FROM events WHERE user_id = '' AND anonymous_id <> '' AND contact_id IS NOT NULL`); n == 0 {
			t.Error("no anonymous events were merged into a contact")
		}
		if n := count(t, db, `SELECT count(*) FROM events WHERE contact_id IS NULL`); n == 0 {
			t.Error("no events from visitors who never identified")
		}
		var names []string
		rows, err := db.Query(`SELECT DISTINCT name FROM events WHERE type = 'track' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		want := []string{"Call Logged", "Demo Requested", "Ebook Downloaded", "Email Clicked", "Email Opened", "Meeting Held", "Newsletter Subscribed",
			"Price List Downloaded", "Pricing Page Viewed", "Trial Started", "Webinar Attended", "Webinar Registered"}
		if !slices.Equal(names, want) {
			t.Errorf("track events %v, want %v", names, want)
		}
	})

	t.Run("notes", func(t *testing.T) {
		if n := count(t, db, `SELECT count(DISTINCT u.role) FROM notes n JOIN users u ON u.id = n.author_id`); n < 2 {
			t.Errorf("notes by %d roles, want both teams", n)
		}
		if n := count(t, db, `SELECT count(DISTINCT contact_id) FROM notes`); n < 10 {
			t.Errorf("notes on %d contacts", n)
		}
	})

	t.Run("credentials", func(t *testing.T) {
		st, err := store.Open(context.Background(), path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		admin := res.Users[0]
		if _, err := st.Authenticate(ctx, admin.Email, admin.Password); err != nil {
			t.Errorf("sign in as %s: %v", admin.Email, err)
		}
		if u, err := st.UserByAPIKey(ctx, res.APIKey); err != nil || u.Role != alinea.RoleAdmin {
			t.Errorf("API key: %+v, %v", u, err)
		}
		if _, err := st.WriteKeyBySecret(ctx, res.WriteKey); err != nil {
			t.Errorf("write key: %v", err)
		}
	})
}

// checkLifecycle replays every contact's history through the funnel's
// rules and checks that rule-made moves follow the events that justify
// them (seed 003's MQL and SQL definitions).
func checkLifecycle(t *testing.T, db *sql.DB) {
	t.Helper()
	type tr struct {
		from, to, reason, actor string
		at                      int64
	}
	hist := map[int64][]tr{}
	rows, err := db.Query(`SELECT contact_id, from_stage, to_stage, reason, actor_type, at FROM stage_transitions ORDER BY contact_id, at, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var x tr
		if err := rows.Scan(&id, &x.from, &x.to, &x.reason, &x.actor, &x.at); err != nil {
			t.Fatal(err)
		}
		hist[id] = append(hist[id], x)
	}
	rows.Close()
	firstAt := map[[2]any]int64{}
	rows, err = db.Query(`SELECT contact_id, name, occurred_at FROM events WHERE contact_id IS NOT NULL AND type = 'track'`)
	if err != nil {
		t.Fatal(err)
	}
	lastAt := map[[2]any]int64{}
	for rows.Next() {
		var id, at int64
		var name string
		if err := rows.Scan(&id, &name, &at); err != nil {
			t.Fatal(err)
		}
		k := [2]any{id, name}
		if v, ok := firstAt[k]; !ok || at < v {
			firstAt[k] = at
		}
		lastAt[k] = max(lastAt[k], at)
	}
	rows.Close()
	stages := map[int64]string{}
	rows, err = db.Query(`SELECT id, stage FROM contacts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var s string
		rows.Scan(&id, &s)
		stages[id] = s
	}
	rows.Close()

	reached := map[string]int{}
	for id, h := range hist {
		cur := alinea.Stage("")
		for i, x := range h {
			if alinea.Stage(x.from) != cur {
				t.Errorf("contact %d transition %d: from %q, but the contact was in %q", id, i, x.from, cur)
			}
			if err := alinea.CheckTransition(cur, alinea.Stage(x.to), x.reason); err != nil {
				t.Errorf("contact %d transition %d %s -> %s: %v", id, i, cur, x.to, err)
			}
			if x.actor == "rule" {
				var need []string
				switch x.to {
				case "mql":
					need = []string{"Webinar Registered", "Webinar Attended"}
				case "sql":
					need = []string{"Price List Downloaded", "Trial Started"}
				}
				for _, name := range need {
					if at, ok := firstAt[[2]any{id, name}]; !ok || at > x.at {
						t.Errorf("contact %d moved to %s by rule without %q before it", id, x.to, name)
					}
				}
			}
			cur = alinea.Stage(x.to)
			reached[x.to]++
		}
		if string(cur) != stages[id] {
			t.Errorf("contact %d is in %s but its history ends in %s", id, stages[id], cur)
		}
	}
	if len(hist) != len(stages) {
		t.Errorf("%d contacts have a history, %d exist", len(hist), len(stages))
	}
	for _, s := range []string{"subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "recycled", "disqualified"} {
		if reached[s] == 0 {
			t.Errorf("no contact ever reached %s; reached: %v", s, reached)
		}
	}
	if reached["lead"] <= reached["mql"] || reached["mql"] <= reached["sql"] || reached["sql"] < reached["opportunity"] {
		t.Errorf("the funnel does not narrow: %v", reached)
	}
}

// digest hashes every table except secrets (password hashes, key hashes
// and prefixes), which are random on every run by design.
func digest(t *testing.T, path string) string {
	t.Helper()
	db := openDB(t, path)
	h := sha256.New()
	for _, table := range []string{"users", "api_keys", "write_keys", "accounts", "contacts", "identities", "events", "contact_activity",
		"stage_transitions", "notes", "pipeline_stages", "deals", "deal_contacts", "deal_stage_history"} {
		rows, err := db.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2`)
		if err != nil {
			t.Fatalf("digest %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, c := range cols {
				if c == "hash" || c == "prefix" || c == "password_hash" {
					continue
				}
				fmt.Fprintf(h, "%s=%v;", c, vals[i])
			}
			h.Write([]byte{'\n'})
			n++
		}
		rows.Close()
		if n == 0 && table != "identities" {
			t.Errorf("digest: table %s is empty", table)
		}
		fmt.Fprintf(h, "%s:%d\n", table, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	a, _ := build(t, Config{Seed: 7, Contacts: 150, Events: 3000, Now: anchor})
	b, _ := build(t, Config{Seed: 7, Contacts: 150, Events: 3000, Now: anchor})
	c, _ := build(t, Config{Seed: 8, Contacts: 150, Events: 3000, Now: anchor})
	da, db, dc := digest(t, a), digest(t, b), digest(t, c)
	if da != db {
		t.Errorf("the same seed and anchor gave different data: %s vs %s", da, db)
	}
	if da == dc {
		t.Error("seeds 7 and 8 gave the same data")
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	// A cheap guard on the planner alone, at the default size: the same
	// inputs draw the same actions, a later anchor moves them in time.
	cfg := Config{Seed: 3, Contacts: DefaultContacts, Events: DefaultEvents, Now: anchor}
	if testing.Short() {
		cfg.Contacts, cfg.Events = 500, 10000
	}
	g1, err := plan(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := plan(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(g1.acts) != len(g2.acts) {
		t.Fatalf("%d vs %d actions", len(g1.acts), len(g2.acts))
	}
	for i := range g1.acts {
		x, y := g1.acts[i], g2.acts[i]
		if x.at != y.at || x.kind != y.kind || x.dropped != y.dropped || (x.msg != nil && x.msg.MessageID != y.msg.MessageID) {
			t.Fatalf("action %d differs: %+v vs %+v", i, x, y)
		}
	}
	if !testing.Short() && len(g1.deals) < 300 {
		t.Errorf("%d deals at the default size, want at least 300", len(g1.deals))
	}
	if g1.events != cfg.Events {
		t.Errorf("%d events planned, want %d", g1.events, cfg.Events)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{Contacts: 5, Events: 100, Now: anchor}, "contacts"},
		{Config{Contacts: 100, Events: 0, Now: anchor}, "events"},
		{Config{Contacts: 100, Events: 100}, "now"},
	} {
		_, err := Generate(context.Background(), nil, &Clock{}, c.cfg)
		if _, ok := alinea.ErrorFields(err)[c.field]; !ok {
			t.Errorf("%+v: got %v, want an error on %s", c.cfg, err, c.field)
		}
	}
	// Too few events for the contacts' journeys is refused by name.
	_, err := plan(Config{Seed: 1, Contacts: 300, Events: 100, Now: anchor}, 4)
	if err == nil || !strings.Contains(err.Error(), "too few") {
		t.Errorf("300 contacts with 100 events: %v", err)
	}
	if _, err := Build(context.Background(), t.TempDir(), smallConfig(1)); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Build over an existing path: %v", err)
	}
}

// TestGenerateEachBackend runs the generator on both backends: it only
// uses the store's public methods and the ingestion path.
func TestGenerateEachBackend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		clock := &Clock{}
		clock.Set(anchor)
		st := storetest.Open(t, b, store.Options{Now: clock.Now})
		res, err := Generate(context.Background(), st, clock, Config{Seed: 5, Contacts: 60, Events: 1500, Now: anchor})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		contacts, _, err := st.Contacts(ctx, alinea.ContactFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(contacts) != 60 || res.Events != 1500 {
			t.Fatalf("%d contacts, %d events", len(contacts), res.Events)
		}
		for _, c := range contacts {
			h, err := st.Transitions(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			cur := alinea.Stage("")
			for _, x := range h {
				if err := alinea.CheckTransition(cur, x.To, x.Reason); err != nil || x.From != cur || !x.At.Before(anchor) {
					t.Errorf("contact %d: %s -> %s at %s: %v", c.ID, x.From, x.To, x.At, err)
				}
				cur = x.To
			}
			if cur != c.Stage {
				t.Errorf("contact %d in %s, history ends in %s", c.ID, c.Stage, cur)
			}
		}
	})
}
