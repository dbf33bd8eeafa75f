package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// liveAgreement is the active agreement version, compiled once.
type liveAgreement struct {
	id       int64
	compiled *agreement.Compiled
}

// liveAgreementFor returns the active agreement, compiling it when the
// active version changed (on this instance or another), or nil when none is
// active. The check is one indexed read per batch.
func (s *Store) liveAgreementFor(ctx context.Context, q rowQuerier) (*liveAgreement, error) {
	var id int64
	err := q.QueryRowContext(ctx, s.q(`SELECT id FROM agreements WHERE status = ?`), agreement.StatusActive).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("active agreement: %w", err)
	}
	if cur := s.live.Load(); cur != nil && cur.id == id {
		return cur, nil
	}
	v, err := s.agreementTx(ctx, q, id)
	if err != nil {
		return nil, err
	}
	c, err := agreement.Compile(v.Document)
	if err != nil {
		return nil, fmt.Errorf("active agreement %d no longer compiles: %w", id, err)
	}
	la := &liveAgreement{id: id, compiled: c}
	s.live.Store(la)
	return la, nil
}

// touch is one stored event of a contact, for live evaluation.
type touch struct {
	typ string
	at  time.Time
}

// evaluateBatch re-evaluates every contact a batch touched, in id order so
// that concurrent batches lock contacts in the same order.
func (s *Store) evaluateBatch(ctx context.Context, tx *sql.Tx, b *batchState) error {
	if len(b.touched) == 0 && len(b.rebuild) == 0 {
		return nil
	}
	live, err := s.liveAgreementFor(ctx, tx)
	if err != nil || live == nil {
		return err
	}
	ids := make([]int64, 0, len(b.touched)+len(b.rebuild))
	for id := range b.touched {
		ids = append(ids, id)
	}
	for id := range b.rebuild {
		if _, ok := b.touched[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := s.evaluateContact(ctx, tx, live, id, b.touched[id], b.rebuild[id]); err != nil {
			return err
		}
	}
	return nil
}

// reevaluate evaluates one contact after its properties changed, when an
// agreement is active: a new job title can change its fit and stage.
func (s *Store) reevaluate(ctx context.Context, tx *sql.Tx, contactID int64) error {
	live, err := s.liveAgreementFor(ctx, tx)
	if err != nil || live == nil {
		return err
	}
	return s.evaluateContact(ctx, tx, live, contactID, nil, false)
}

// contactState is what evaluation reads about one contact.
type contactState struct {
	facts          agreement.ContactFacts
	account        agreement.AccountFacts
	stage          alinea.Stage
	stageChangedAt time.Time
	scoredBy       int64
	summary        agreement.Summary
}

const contactStateQuery = `SELECT c.id, c.email, c.first_name, c.last_name, c.job_title, c.phone, c.country, c.source, c.stage, c.consent,
	c.stage_changed_at, c.properties, a.name, a.domain, a.industry, a.employees, a.country, a.properties, cs.agreement_id, cs.summary
	FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN contact_scores cs ON cs.contact_id = c.id`

func (s *Store) loadContactState(ctx context.Context, q rowQuerier, id int64) (contactState, error) {
	_, st, err := scanContactState(q.QueryRowContext(ctx, s.q(contactStateQuery+` WHERE c.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, notFound("contact", id)
	}
	if err != nil {
		return st, fmt.Errorf("load contact %d for evaluation: %w", id, err)
	}
	return st, nil
}

// loadContactStates reads the states of the contacts with ids in [from, to].
func (s *Store) loadContactStates(ctx context.Context, q rowQuerier, from, to int64) (map[int64]contactState, error) {
	rows, err := q.QueryContext(ctx, s.q(contactStateQuery+` WHERE c.id >= ? AND c.id <= ?`), from, to)
	if err != nil {
		return nil, fmt.Errorf("load contacts for evaluation: %w", err)
	}
	defer rows.Close()
	out := map[int64]contactState{}
	for rows.Next() {
		id, st, err := scanContactState(rows)
		if err != nil {
			return nil, fmt.Errorf("load contacts for evaluation: %w", err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

func scanContactState(row interface{ Scan(...any) error }) (int64, contactState, error) {
	var st contactState
	var id int64
	var email sql.NullString
	var props, accProps, summary sql.NullString
	var accName, accDomain, accIndustry, accCountry sql.NullString
	var accEmployees, scoredBy sql.NullInt64
	var changed int64
	err := row.Scan(&id, &email, &st.facts.FirstName, &st.facts.LastName, &st.facts.JobTitle, &st.facts.Phone, &st.facts.Country,
		&st.facts.Source, &st.stage, &st.facts.Consent, &changed, &props, &accName, &accDomain, &accIndustry, &accEmployees, &accCountry,
		&accProps, &scoredBy, &summary)
	if err != nil {
		return 0, st, err
	}
	st.facts.Email, st.facts.Stage = email.String, string(st.stage)
	st.stageChangedAt = fromMS(changed)
	if props.String != "" && props.String != "{}" {
		_ = json.Unmarshal([]byte(props.String), &st.facts.Properties)
	}
	st.account = agreement.AccountFacts{Name: accName.String, Domain: accDomain.String, Industry: accIndustry.String,
		Employees: int(accEmployees.Int64), Country: accCountry.String}
	if accProps.Valid && accProps.String != "{}" {
		_ = json.Unmarshal([]byte(accProps.String), &st.account.Properties)
	}
	st.scoredBy = scoredBy.Int64
	if summary.Valid {
		if err := json.Unmarshal([]byte(summary.String), &st.summary); err != nil {
			st.scoredBy = 0 // unreadable: rebuild from history
		}
	}
	return id, st, nil
}

// rebuildSummary reads a contact's whole event history; it runs once per
// contact per agreement version (when the version changed), after which
// updates are incremental.
func (s *Store) rebuildSummary(ctx context.Context, q rowQuerier, c *agreement.Compiled, contactID int64) (agreement.Summary, error) {
	var sum agreement.Summary
	rows, err := q.QueryContext(ctx, s.q(`SELECT type, name, occurred_at FROM events WHERE `+s.eventBuckets("")+`contact_id = ? ORDER BY occurred_at, id`), contactID)
	if err != nil {
		return sum, fmt.Errorf("history of contact %d: %w", contactID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name string
		var at int64
		if err := rows.Scan(&typ, &name, &at); err != nil {
			return sum, fmt.Errorf("history of contact %d: %w", contactID, err)
		}
		key := activityKeyOf(typ, name)
		sum.Add(key, fromMS(at), c.HalfLives(key))
	}
	return sum, rows.Err()
}

func activityKeyOf(typ, name string) string {
	if typ == "track" && name != "" {
		return name
	}
	return typ
}

// evaluateContact brings one contact's summary up to date with its new
// events, scores it, stores the result and moves it forward through the
// funnel when a definition has become true. rebuild forces a summary built
// from the whole history (e.g. after anonymous events were merged in).
func (s *Store) evaluateContact(ctx context.Context, tx *sql.Tx, live *liveAgreement, contactID int64, events []touch, rebuild bool) error {
	if s.backend == Postgres {
		// Serialise with a concurrent evaluation or re-evaluation of the same
		// contact. NO KEY UPDATE, not UPDATE: other batches' foreign-key
		// checks on events hold KEY SHARE locks on the same rows, and UPDATE
		// would deadlock with them.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM contacts WHERE id = $1 FOR NO KEY UPDATE`, contactID); err != nil {
			return fmt.Errorf("lock contact %d: %w", contactID, err)
		}
	}
	st, err := s.loadContactState(ctx, tx, contactID)
	if err != nil {
		return err
	}
	c := live.compiled
	if rebuild || st.scoredBy != live.id {
		if st.summary, err = s.rebuildSummary(ctx, tx, c, contactID); err != nil {
			return err
		}
	} else {
		for _, e := range events {
			st.summary.Add(e.typ, e.at, c.HalfLives(e.typ))
		}
	}
	now := s.now()
	res := c.Score(st.facts, st.account, &st.summary, now)
	if err := s.saveScores(ctx, tx, live.id, []scoreRow{{contactID: contactID, summary: &st.summary, res: res}}, now); err != nil {
		return err
	}
	if to, def := nextStage(st, res); to != "" {
		return s.ruleTransition(ctx, tx, live, contactID, to, def, res)
	}
	return nil
}

// ruleTransition records a move the agreement's definitions call for, with
// the version and the rules that fired as its why.
func (s *Store) ruleTransition(ctx context.Context, tx *sql.Tx, live *liveAgreement, contactID int64, to alinea.Stage, def string, res agreement.Result) error {
	why, err := json.Marshal(transitionWhy(live.id, def, live.compiled, res))
	if err != nil {
		return fmt.Errorf("explain transition of contact %d: %w", contactID, err)
	}
	_, err = s.transition(ctx, tx, contactID, alinea.TransitionRequest{To: to, Actor: alinea.Actor{Type: alinea.ActorRule},
		AgreementVersion: live.id, Why: why, Reason: "definition " + def + " met"})
	return err
}

// nextStage is the furthest stage the agreement's definitions move a
// contact to: only forward, only through lead, MQL and SQL (acceptance,
// opportunities and wins are people's decisions), never out of
// disqualified, and out of recycled only on activity newer than the
// rejection.
func nextStage(st contactState, res agreement.Result) (alinea.Stage, string) {
	if st.stage == alinea.StageDisqualified {
		return "", ""
	}
	for _, step := range []struct {
		def   string
		stage alinea.Stage
	}{{"sql", alinea.StageSQL}, {"mql", alinea.StageMQL}, {"lead", alinea.StageLead}} {
		if !res.Met(step.def) {
			continue
		}
		if st.stage == alinea.StageRecycled {
			if step.stage == alinea.StageLead || !activeSince(&st.summary, st.stageChangedAt) {
				return "", ""
			}
			return step.stage, step.def
		}
		if st.stage.Rank() < step.stage.Rank() {
			return step.stage, step.def
		}
		return "", ""
	}
	return "", ""
}

// activeSince reports whether the contact did anything after t.
func activeSince(s *agreement.Summary, t time.Time) bool {
	for _, ts := range s.Types {
		if ts.Last.After(t) {
			return true
		}
	}
	return false
}

// transitionWhy is the machine-readable reason of a rule-driven move: the
// definition that became true, the scores and the rules that gave points.
func transitionWhy(version int64, def string, c *agreement.Compiled, res agreement.Result) ruleWhy {
	var d agreement.Definition
	switch def {
	case "lead":
		d = c.Doc.Definitions.Lead
	case "mql":
		d = c.Doc.Definitions.MQL
	case "sql":
		d = c.Doc.Definitions.SQL
	}
	w := ruleWhy{AgreementVersion: version, Definition: def, When: d.When, MinFit: d.MinFit, MinEngagement: d.MinEngagement,
		Fit: res.Fit, Engagement: res.Engagement, Grade: res.Grade, Rules: []firedRule{}}
	for _, f := range res.FitRules {
		if f.Matched {
			w.Rules = append(w.Rules, firedRule{Rule: f.Rule, Axis: "fit", Points: float64(f.Points)})
		}
	}
	for _, e := range res.Engaged {
		if e.Points > 0 {
			w.Rules = append(w.Rules, firedRule{Rule: e.Rule, Axis: "engagement", Points: e.Points, Events: e.Events})
		}
	}
	return w
}

// ruleWhy is the stored why of a transition the agreement made.
type ruleWhy struct {
	AgreementVersion int64       `json:"agreement_version"`
	Definition       string      `json:"definition"`
	When             string      `json:"when"`
	MinFit           int         `json:"min_fit"`
	MinEngagement    int         `json:"min_engagement"`
	Fit              int         `json:"fit"`
	Engagement       int         `json:"engagement"`
	Grade            string      `json:"grade"`
	Rules            []firedRule `json:"rules"`
}

type firedRule struct {
	Rule   string  `json:"rule"`
	Axis   string  `json:"axis"`
	Points float64 `json:"points"`
	Events int64   `json:"events,omitempty"`
}

// scoreRow is one contact's evaluation to store.
type scoreRow struct {
	contactID int64
	summary   *agreement.Summary
	// encoded is the summary's JSON when it was already encoded (by the
	// re-evaluation's read-ahead, on the other core).
	encoded []byte
	res     agreement.Result
}

// saveScores upserts evaluations with multi-row statements. The stored
// result keeps the scores and the definitions met; explanations are
// computed on read (ContactScore), when they are current.
func (s *Store) saveScores(ctx context.Context, tx *sql.Tx, version int64, rows []scoreRow, now time.Time) error {
	const perStmt = 100
	for start := 0; start < len(rows); start += perStmt {
		part := rows[start:min(start+perStmt, len(rows))]
		var q strings.Builder
		q.WriteString(`INSERT INTO contact_scores (contact_id, agreement_id, summary, fit, engagement, grade, result, evaluated_at) VALUES `)
		args := make([]any, 0, len(part)*8)
		for i, r := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			sb := r.encoded
			if sb == nil {
				var err error
				if sb, err = json.Marshal(r.summary); err != nil {
					return fmt.Errorf("encode summary of contact %d: %w", r.contactID, err)
				}
			}
			rb := append(make([]byte, 0, 48), `{"met":[`...)
			n := 0
			for _, d := range r.res.Definitions {
				if d.Met {
					if n > 0 {
						rb = append(rb, ',')
					}
					rb = alinea.AppendJSONString(rb, d.Name)
					n++
				}
			}
			rb = append(rb, ']')
			if len(r.res.Errors) > 0 {
				errs, _ := json.Marshal(r.res.Errors)
				rb = append(append(rb, `,"errors":`...), errs...)
			}
			rb = append(rb, '}')
			args = append(args, r.contactID, version, string(sb), r.res.Fit, r.res.Engagement, r.res.Grade, string(rb), ms(now))
		}
		q.WriteString(` ON CONFLICT (contact_id) DO UPDATE SET agreement_id = excluded.agreement_id, summary = excluded.summary,
			fit = excluded.fit, engagement = excluded.engagement, grade = excluded.grade, result = excluded.result, evaluated_at = excluded.evaluated_at`)
		if _, err := tx.ExecContext(ctx, s.q(q.String()), args...); err != nil {
			return fmt.Errorf("save scores: %w", err)
		}
	}
	return nil
}

// Score is a contact's current evaluation under the active agreement.
type Score struct {
	ContactID        int64            `json:"contact_id"`
	AgreementVersion int64            `json:"agreement_version"`
	EvaluatedAt      time.Time        `json:"evaluated_at"`
	Result           agreement.Result `json:"result"`
}

// ContactScore evaluates a contact now under the active agreement and
// explains the result rule by rule; it reads, it does not store.
func (s *Store) ContactScore(ctx context.Context, contactID int64) (Score, error) {
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil {
		return Score{}, err
	}
	if live == nil {
		return Score{}, alinea.Errorf(alinea.ENOTFOUND, "no agreement is active yet, so contacts have no score")
	}
	st, err := s.loadContactState(ctx, s.rdb, contactID)
	if err != nil {
		return Score{}, err
	}
	if st.scoredBy != live.id {
		if st.summary, err = s.rebuildSummary(ctx, s.rdb, live.compiled, contactID); err != nil {
			return Score{}, err
		}
	}
	now := s.now()
	return Score{ContactID: contactID, AgreementVersion: live.id, EvaluatedAt: now,
		Result: live.compiled.Evaluate(st.facts, st.account, &st.summary, now)}, nil
}
