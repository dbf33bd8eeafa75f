// Package demo builds Alinea's demo database: a year in the life of a
// fictional B2B software company, Vértice, that sells to Spanish- and
// English-speaking companies. Its marketing and sales teams share one funnel;
// the data set holds their accounts, contacts, website and email events with
// UTM-tagged campaigns, lifecycle histories, deals and notes.
//
// The data is deterministic: the same seed and anchor time give the same
// rows. Everything goes through the store's public methods and the real
// ingestion path (store.Ingest), with the store's clock moved to the moment
// each change happened.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// Config says how much data to make and from which seed.
type Config struct {
	Seed     int64
	Contacts int
	Events   int
	// Now anchors the data: it all happens in the year before Now.
	Now    time.Time
	Logger *slog.Logger
}

// Defaults for the command line.
const (
	DefaultContacts = 5000
	DefaultEvents   = 100000
)

// batchSize is how many events go to store.Ingest at once.
const batchSize = 1000

// Validate reports every bad field by name.
func (c *Config) Validate() error {
	fe := alinea.FieldErrors{}
	if c.Contacts < 20 {
		fe.Add("contacts", fmt.Sprintf("must be at least 20; got %d", c.Contacts))
	}
	if c.Events < 1 {
		fe.Add("events", fmt.Sprintf("must be positive; got %d", c.Events))
	}
	if c.Now.IsZero() {
		fe.Add("now", "is required")
	}
	return fe.Err("invalid demo configuration")
}

// Credential is a demo user with the password to sign in with.
type Credential struct {
	Email    string
	Name     string
	Role     alinea.Role
	Locale   string
	Password string
}

// Result is what Generate made: sign-in credentials, keys and counts.
type Result struct {
	Users []Credential
	// APIKey is an API key of the admin user.
	APIKey string
	// WriteKey is the website's ingestion write key.
	WriteKey string

	Accounts, Contacts, Events, Transitions, Deals, Notes int
}

// Clock is the store's clock while the demo is generated; the generator
// moves it to the moment each change happens so that history is backdated.
type Clock struct{ ms atomic.Int64 }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.UnixMilli(c.ms.Load()).UTC() }

// Set moves the clock.
func (c *Clock) Set(t time.Time) { c.ms.Store(t.UnixMilli()) }

// Build creates a new SQLite database file at path and fills it. The file
// must not exist. It is loaded without fsync (store.Options.BulkLoad) and
// closed cleanly, so the file is complete and durable when Build returns.
func Build(ctx context.Context, path string, cfg Config) (Result, error) {
	if _, err := os.Stat(path); err == nil {
		return Result{}, fmt.Errorf("build demo database: %s already exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("build demo database: %w", err)
	}
	clock := &Clock{}
	clock.Set(cfg.Now)
	st, err := store.Open(ctx, path, store.Options{Logger: cfg.Logger, Now: clock.Now, BulkLoad: true})
	if err != nil {
		return Result{}, fmt.Errorf("build demo database: %w", err)
	}
	res, err := Generate(ctx, st, clock, cfg)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("build demo database: close: %w", cerr)
	}
	return res, err
}

// Generate fills an empty store whose clock is clock.Now.
func Generate(ctx context.Context, st *store.Store, clock *Clock, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stages, err := st.PipelineStages(ctx)
	if err != nil {
		return Result{}, err
	}
	pipe, err := readPipeline(stages)
	if err != nil {
		return Result{}, err
	}

	began := time.Now()
	g, err := plan(cfg, len(pipe.open))
	if err != nil {
		return Result{}, err
	}
	log.Info("demo planned", "accounts", len(g.accounts), "contacts", len(g.people), "events", g.events, "deals", len(g.deals), "actions", len(g.acts), "duration", time.Since(began))

	r := &replay{g: g, st: st, clock: clock, pipe: pipe, log: log}
	res, err := r.run(ctx)
	if err != nil {
		return Result{}, err
	}
	log.Info("demo generated", "duration", time.Since(began))
	return res, nil
}

// plan draws the whole data set and sorts its actions by time.
func plan(cfg Config, openStages int) (*gen, error) {
	g := newGen(cfg.Seed, cfg.Now.UTC(), openStages)
	g.planWebinars()
	g.planAccounts(max(3, (cfg.Contacts*12+50)/100))
	g.planPeople(cfg.Contacts)
	for _, p := range g.people {
		g.journey(p)
	}
	g.planCommittees()
	g.planNewsletters()
	if err := g.planTraffic(cfg.Events); err != nil {
		return nil, err
	}
	slices.SortFunc(g.acts, func(a, b action) int {
		if a.at != b.at {
			return compare(a.at, b.at)
		}
		return compare(a.seq, b.seq)
	})
	return g, nil
}

func compare[T int | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pipeline maps the plan's stage positions to the store's stage ids.
type pipeline struct {
	open      []int64
	won, lost int64
}

func readPipeline(stages []alinea.PipelineStage) (pipeline, error) {
	var p pipeline
	for _, s := range stages {
		switch s.Kind {
		case alinea.DealOpen:
			p.open = append(p.open, s.ID)
		case alinea.DealWon:
			if p.won == 0 {
				p.won = s.ID
			}
		case alinea.DealLost:
			if p.lost == 0 {
				p.lost = s.ID
			}
		}
	}
	if len(p.open) == 0 || p.won == 0 || p.lost == 0 {
		return p, errors.New("the deal pipeline needs at least one open, one won and one lost stage")
	}
	return p, nil
}

type replay struct {
	g      *gen
	st     *store.Store
	clock  *Clock
	pipe   pipeline
	log    *slog.Logger
	users  []alinea.User
	keys   [2]int64
	queue  [2][]alinea.Message
	res    Result
	stored int
}

func (r *replay) run(ctx context.Context) (Result, error) {
	began := time.Now()
	if err := r.setup(ctx); err != nil {
		return Result{}, err
	}
	r.log.Info("demo users and keys created", "duration", time.Since(began))
	began = time.Now()
	for i := range r.g.acts {
		a := &r.g.acts[i]
		if a.dropped {
			continue
		}
		if a.kind == actEvent {
			q := &r.queue[a.key]
			*q = append(*q, *a.msg)
			if len(*q) >= batchSize {
				if err := r.flush(ctx, a.key); err != nil {
					return Result{}, err
				}
			}
			continue
		}
		r.clock.Set(time.UnixMilli(a.at))
		if err := r.apply(ctx, a); err != nil {
			return Result{}, err
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
	}
	for k := range r.queue {
		if err := r.flush(ctx, writeKey(k)); err != nil {
			return Result{}, err
		}
	}
	r.res.Events = r.stored
	r.log.Info("demo data replayed", "events", r.stored, "transitions", r.res.Transitions, "deals", r.res.Deals, "notes", r.res.Notes, "duration", time.Since(began))
	return r.res, nil
}

// setup creates the staff users, their passwords and the keys. Passwords
// and keys are random on every run: they are secrets, not demo data.
func (r *replay) setup(ctx context.Context) error {
	r.clock.Set(r.g.start.AddDate(0, 0, -30))
	for _, s := range staff {
		pw := password()
		u, err := r.st.CreateUser(ctx, alinea.NewUser{Email: s.email, Name: s.name, Role: s.role, Password: pw, Locale: s.locale})
		if err != nil {
			return fmt.Errorf("create demo user %s: %w", s.email, err)
		}
		r.users = append(r.users, u)
		r.res.Users = append(r.res.Users, Credential{Email: u.Email, Name: u.Name, Role: u.Role, Locale: u.Locale, Password: pw})
	}
	_, secret, err := r.st.CreateAPIKey(ctx, r.users[0].ID, "demo")
	if err != nil {
		return fmt.Errorf("create demo API key: %w", err)
	}
	r.res.APIKey = secret
	for k, name := range []string{"website", "backend"} {
		wk, secret, err := r.st.CreateWriteKey(ctx, name)
		if err != nil {
			return fmt.Errorf("create demo write key %s: %w", name, err)
		}
		r.keys[k] = wk.ID
		if k == int(keyWebsite) {
			r.res.WriteKey = secret
		}
	}
	return nil
}

// password returns 16 random characters that are easy to type.
func password() string {
	const letters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:12]) + "-" + string(b[12:])
}

func (r *replay) flush(ctx context.Context, k writeKey) error {
	q := r.queue[k]
	if len(q) == 0 {
		return nil
	}
	r.clock.Set(q[len(q)-1].ReceivedAt)
	res, err := r.st.Ingest(ctx, r.keys[k], q)
	if err != nil {
		return fmt.Errorf("ingest demo events: %w", err)
	}
	if res.Stored != len(q) {
		return fmt.Errorf("ingest demo events: %d of %d stored, %d duplicates", res.Stored, len(q), res.Duplicates)
	}
	r.stored += res.Stored
	r.queue[k] = q[:0]
	return nil
}

func (r *replay) actor(a actorRef) alinea.Actor {
	if a.typ != alinea.ActorUser {
		return alinea.Actor{Type: a.typ}
	}
	u := r.users[a.user]
	return alinea.Actor{Type: alinea.ActorUser, UserID: u.ID, Role: u.Role}
}

func (r *replay) apply(ctx context.Context, a *action) error {
	switch a.kind {
	case actAccount:
		return r.createAccount(ctx, a.account)
	case actContact:
		return r.createContact(ctx, a.person)
	case actTransition:
		p := a.person
		why := a.why
		if a.deal != nil {
			why = map[string]any{}
			for k, v := range a.why {
				why[k] = v
			}
			why["deal_id"] = a.deal.id
		}
		raw, err := json.Marshal(why)
		if err != nil {
			return err
		}
		if _, err := r.st.Transition(ctx, p.id, alinea.TransitionRequest{To: a.to, Reason: a.reason, Why: raw, Actor: r.actor(a.actor)}); err != nil {
			return fmt.Errorf("move demo contact %s to %s: %w", p.email, a.to, err)
		}
		r.res.Transitions++
	case actOwner:
		owner := r.users[a.user].ID
		if _, err := r.st.UpdateContact(ctx, a.person.id, alinea.ContactFields{OwnerID: &owner}); err != nil {
			return fmt.Errorf("set owner of demo contact %s: %w", a.person.email, err)
		}
	case actNote:
		if _, err := r.st.AddNote(ctx, a.person.id, r.users[a.user].ID, a.text); err != nil {
			return fmt.Errorf("add note to demo contact %s: %w", a.person.email, err)
		}
		r.res.Notes++
	case actDealCreate:
		return r.createDeal(ctx, a)
	case actDealMove:
		stage := r.pipe.won
		switch {
		case a.stage == stageLost:
			stage = r.pipe.lost
		case a.stage >= 0:
			stage = r.pipe.open[a.stage]
		}
		if _, err := r.st.MoveDeal(ctx, a.deal.id, alinea.DealMove{StageID: stage, Reason: a.reason, Actor: r.actor(a.actor)}); err != nil {
			return fmt.Errorf("move demo deal %q: %w", a.deal.name, err)
		}
	}
	return nil
}

func (r *replay) createAccount(ctx context.Context, a *account) error {
	segment := "smb"
	switch {
	case a.employees > 1000:
		segment = "enterprise"
	case a.employees > 200:
		segment = "mid-market"
	}
	owner := r.users[a.owner].ID
	props := mustJSON(map[string]any{"segment": segment, "website": "https://www." + a.domain})
	acc, err := r.st.CreateAccount(ctx, alinea.AccountFields{Name: &a.name, Domain: &a.domain, Industry: &a.industry,
		Employees: &a.employees, Country: &a.c.code, OwnerID: &owner, Properties: props})
	if err != nil {
		return fmt.Errorf("create demo account %s: %w", a.name, err)
	}
	a.id = acc.ID
	r.res.Accounts++
	return nil
}

func (r *replay) createContact(ctx context.Context, p *person) error {
	owner := r.users[r.g.marketer(p)].ID
	props := map[string]any{"language": p.c.lang, "seniority": seniorityNames[p.seniority]}
	if p.leadEvent != "" {
		props["lead_event"] = p.leadEvent
	}
	f := alinea.ContactFields{
		Email: &p.email, ExternalID: &p.extID, FirstName: &p.first, LastName: &p.last, JobTitle: &p.title,
		AccountID: &p.acct.id, Country: &p.c.code, Source: &p.source, OwnerID: &owner, Consent: &p.consent,
		Properties: mustJSON(props), Stage: &p.initialStage,
	}
	if p.phone != "" {
		f.Phone = &p.phone
	}
	c, err := r.st.CreateContact(ctx, f, r.actor(p.initialActor))
	if err != nil {
		return fmt.Errorf("create demo contact %s: %w", p.email, err)
	}
	p.id = c.ID
	r.res.Contacts++
	r.res.Transitions++
	return nil
}

func (r *replay) createDeal(ctx context.Context, a *action) error {
	d := a.deal
	owner := r.users[d.owner].ID
	contacts := []alinea.DealContact{{ContactID: d.primary.id, Role: d.roles[0]}}
	for i, q := range d.committee {
		contacts = append(contacts, alinea.DealContact{ContactID: q.id, Role: d.roles[i+1]})
	}
	stage := r.pipe.open[0]
	created, err := r.st.CreateDeal(ctx, alinea.DealFields{Name: &d.name, AccountID: &d.acct.id, OwnerID: &owner, StageID: &stage,
		Amount: &d.amount, Currency: &d.currency, ExpectedClose: &d.expectedClose, Contacts: &contacts}, r.actor(a.actor))
	if err != nil {
		return fmt.Errorf("create demo deal %q: %w", d.name, err)
	}
	d.id = created.ID
	r.res.Deals++
	return nil
}
