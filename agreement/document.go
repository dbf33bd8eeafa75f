// Package agreement is the revenue agreement between marketing and sales
// (DESIGN.md section 3): a versioned document of shared goals, lead / MQL /
// SQL definitions, two-axis scoring, grades, rejection reasons, SLA terms and
// playbooks. Rules are expressions compiled once per version with
// expr-lang/expr and evaluated against a contact's facts and activity
// summary, so evaluating a contact costs O(rules), not O(history).
package agreement

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/calendar"
)

// Document is an agreement version's content, as written by people in YAML
// or JSON.
type Document struct {
	Name             string            `json:"name" yaml:"name"`
	Description      string            `json:"description,omitempty" yaml:"description,omitempty"`
	Currency         string            `json:"currency" yaml:"currency"`
	Goals            []Goal            `json:"goals" yaml:"goals"`
	Assumptions      Assumptions       `json:"assumptions" yaml:"assumptions"`
	Definitions      Definitions       `json:"definitions" yaml:"definitions"`
	Scoring          Scoring           `json:"scoring" yaml:"scoring"`
	Grades           Grades            `json:"grades" yaml:"grades"`
	RejectionReasons []RejectionReason `json:"rejection_reasons" yaml:"rejection_reasons"`
	SLAs             []SLA             `json:"slas,omitempty" yaml:"slas,omitempty"`
	// Calendar is when SLA clocks run; calendar.Default when left out.
	Calendar *calendar.Spec `json:"calendar,omitempty" yaml:"calendar,omitempty"`
	// Routing says which sales rep receives a new MQL.
	Routing   Routing    `json:"routing,omitzero" yaml:"routing,omitempty"`
	Playbooks []Playbook `json:"playbooks,omitempty" yaml:"playbooks,omitempty"`
}

// Goal is a shared revenue target for a period: a month ("2027-01"), a
// quarter ("2027-Q1") or a year ("2027").
type Goal struct {
	Period  string  `json:"period" yaml:"period"`
	Revenue float64 `json:"revenue" yaml:"revenue"`
}

// Assumptions stand in for measured rates while there is no history.
type Assumptions struct {
	AverageDealSize float64 `json:"average_deal_size" yaml:"average_deal_size"`
	LeadToMQL       float64 `json:"lead_to_mql" yaml:"lead_to_mql"`
	MQLToSQL        float64 `json:"mql_to_sql" yaml:"mql_to_sql"`
	SQLToWon        float64 `json:"sql_to_won" yaml:"sql_to_won"`
}

// Definitions say when a contact is a lead, an MQL and an SQL.
type Definitions struct {
	Lead Definition `json:"lead" yaml:"lead"`
	MQL  Definition `json:"mql" yaml:"mql"`
	SQL  Definition `json:"sql" yaml:"sql"`
}

// Definition holds when an expression is true and the scores reach their
// minimums (either part may be left out, not both).
type Definition struct {
	When          string `json:"when,omitempty" yaml:"when,omitempty"`
	MinFit        int    `json:"min_fit,omitempty" yaml:"min_fit,omitempty"`
	MinEngagement int    `json:"min_engagement,omitempty" yaml:"min_engagement,omitempty"`
	Description   string `json:"description,omitempty" yaml:"description,omitempty"`
}

// Scoring has two axes: fit from properties, engagement from events.
type Scoring struct {
	Fit        []FitRule        `json:"fit" yaml:"fit"`
	Engagement []EngagementRule `json:"engagement" yaml:"engagement"`
}

// FitRule adds points (possibly negative) when its expression holds.
type FitRule struct {
	Name   string `json:"name" yaml:"name"`
	When   string `json:"when" yaml:"when"`
	Points int    `json:"points" yaml:"points"`
}

// EngagementRule adds points for each event of a type, decaying with a
// half-life and capped per rule.
type EngagementRule struct {
	Name         string  `json:"name" yaml:"name"`
	Event        string  `json:"event" yaml:"event"`
	Points       float64 `json:"points" yaml:"points"`
	Cap          float64 `json:"cap,omitempty" yaml:"cap,omitempty"`
	HalfLifeDays float64 `json:"half_life_days,omitempty" yaml:"half_life_days,omitempty"`
}

// Grades turn scores into a letter (fit, A-D) and a digit (engagement, 1-4):
// each list holds the lower bounds of A, B, C (or 1, 2, 3); below the last
// is D (or 4).
type Grades struct {
	Fit        []int `json:"fit" yaml:"fit"`
	Engagement []int `json:"engagement" yaml:"engagement"`
}

// RejectionReason is a code sales may pick when sending a lead back.
type RejectionReason struct {
	Code    string `json:"code" yaml:"code"`
	LabelES string `json:"label_es" yaml:"label_es"`
	LabelEN string `json:"label_en" yaml:"label_en"`
}

// SLA is a measured commitment of one team to the other; enforced by the
// handoff work, stored and validated here.
type SLA struct {
	Name          string  `json:"name" yaml:"name"`
	Kind          string  `json:"kind" yaml:"kind"`
	Team          string  `json:"team" yaml:"team"`
	BusinessHours float64 `json:"business_hours,omitempty" yaml:"business_hours,omitempty"`
	Count         int     `json:"count,omitempty" yaml:"count,omitempty"`
	Of            int     `json:"of,omitempty" yaml:"of,omitempty"`
	Days          int     `json:"days,omitempty" yaml:"days,omitempty"`
	Period        string  `json:"period,omitempty" yaml:"period,omitempty"`
	// EscalateAfterHours is how many business hours after a breach the
	// rep's manager is told too; 0 never escalates.
	EscalateAfterHours float64 `json:"escalate_after_hours,omitempty" yaml:"escalate_after_hours,omitempty"`
	// TouchEvents are the events that count as a touch for first_touch_within
	// and touches_within; DefaultTouchEvents when left out.
	TouchEvents []string `json:"touch_events,omitempty" yaml:"touch_events,omitempty"`
}

// DefaultTouchEvents are the sales activities logged as events that count
// as touching a lead.
var DefaultTouchEvents = []string{"Call Logged", "Email Sent", "Meeting Held"}

// Touches returns the events that count as a touch for this term.
func (s SLA) Touches() []string {
	if len(s.TouchEvents) == 0 {
		return DefaultTouchEvents
	}
	return s.TouchEvents
}

// Routing assigns new MQLs: the first rule whose expression holds for the
// contact names the reps who share its leads; when no rule matches, or no
// rep of the matching rule can take one more, the lead waits in the
// fallback queue for a manager.
type Routing struct {
	Rules         []RouteRule `json:"rules,omitempty" yaml:"rules,omitempty"`
	FallbackQueue string      `json:"fallback_queue,omitempty" yaml:"fallback_queue,omitempty"`
}

// DefaultFallbackQueue is the queue leads wait in when routing names none.
const DefaultFallbackQueue = "unassigned"

// Queue is the fallback queue's name.
func (r Routing) Queue() string {
	if r.FallbackQueue == "" {
		return DefaultFallbackQueue
	}
	return r.FallbackQueue
}

// RouteRule is a territory: which contacts (an expression on contact and
// account properties and the scores) go to which reps. A rule without reps
// shares its leads among every active sales rep.
type RouteRule struct {
	Name string   `json:"name" yaml:"name"`
	When string   `json:"when" yaml:"when"`
	Reps []RepRef `json:"reps,omitempty" yaml:"reps,omitempty"`
}

// RepRef is a rep of a rule, by email, with their share (1 when left out).
type RepRef struct {
	Email  string `json:"email" yaml:"email"`
	Weight int    `json:"weight,omitempty" yaml:"weight,omitempty"`
}

// Share is the rep's weight, 1 when left out.
func (r RepRef) Share() int {
	if r.Weight == 0 {
		return 1
	}
	return r.Weight
}

// SLA kinds.
var slaKinds = map[string]string{
	"accept_within":      "sales",
	"first_touch_within": "sales",
	"touches_within":     "sales",
	"deliver_mqls":       "marketing",
	"convert_sqls":       "sales",
}

// Playbook is what happens automatically at a handoff; stored and validated
// here, run by the playbook engine.
type Playbook struct {
	Name    string   `json:"name" yaml:"name"`
	Trigger string   `json:"trigger" yaml:"trigger"`
	Stage   string   `json:"stage,omitempty" yaml:"stage,omitempty"`
	Actions []Action `json:"actions" yaml:"actions"`
}

// Action is one step of a playbook.
type Action struct {
	Type  string `json:"type" yaml:"type"`
	Value string `json:"value,omitempty" yaml:"value,omitempty"`
}

var playbookTriggers = map[string]bool{"stage_entered": true, "stage_left": true, "score_crossed": true, "event": true, "sla_breached": true}

var actionTypes = map[string]bool{
	"stop_promotional_email": true, "add_to_list": true, "remove_from_list": true, "enroll_in_sequence": true,
	"exit_sequence": true, "assign_owner": true, "create_task": true, "notify": true, "call_webhook": true, "set_property": true,
}

// Parse reads a document from YAML or JSON (JSON is YAML too), rejecting
// unknown fields by name so that a typo is not silently ignored.
func Parse(data []byte) (Document, error) {
	var d Document
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return d, &Problems{List: []Problem{{Path: "", Message: "the document is empty"}}}
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return d, &Problems{List: []Problem{{Message: "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}}
		}
		return d, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(trimmed))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return d, &Problems{List: []Problem{{Message: "malformed YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	return d, nil
}

// YAML renders the document as YAML.
func (d Document) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode agreement: %w", err)
	}
	return buf.Bytes(), nil
}

// Problem is one thing wrong with a document: where (a path such as
// "scoring.fit[2].when") and what, with the position inside an expression
// (Line, Column) and, once Locate has seen the text, in the document
// (SourceLine, SourceColumn).
type Problem struct {
	Path         string `json:"path"`
	Message      string `json:"message"`
	Line         int    `json:"line,omitempty"`
	Column       int    `json:"column,omitempty"`
	SourceLine   int    `json:"source_line,omitempty"`
	SourceColumn int    `json:"source_column,omitempty"`
}

// Problems is every problem found in a document.
type Problems struct {
	List []Problem
}

func (p *Problems) Error() string {
	var b strings.Builder
	b.WriteString("invalid agreement:")
	for _, x := range p.List {
		b.WriteString("\n  ")
		if x.Path != "" {
			b.WriteString(x.Path)
			b.WriteString(": ")
		}
		b.WriteString(x.Message)
	}
	return b.String()
}

func (p *Problems) add(path, format string, args ...any) {
	p.List = append(p.List, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *Problems) err() error {
	if len(p.List) == 0 {
		return nil
	}
	return p
}

// AsDomainError turns Problems into an EINVALID domain error whose fields
// are the problems' paths, so the API and CLI report them uniformly.
func AsDomainError(err error) error {
	p, ok := err.(*Problems)
	if !ok {
		return err
	}
	fields := map[string]string{}
	for _, x := range p.List {
		path := x.Path
		if path == "" {
			path = "document"
		}
		if prev, ok := fields[path]; ok {
			fields[path] = prev + "; " + x.Message
		} else {
			fields[path] = x.Message
		}
	}
	return &alinea.Error{Code: alinea.EINVALID, Message: "invalid agreement", Fields: fields}
}
