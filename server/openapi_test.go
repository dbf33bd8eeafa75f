package server

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/calendar"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type openAPIDocument struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]json.RawMessage `json:"schemas"`
		Parameters map[string]json.RawMessage `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) openAPIDocument {
	t.Helper()
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// routeKey turns a ServeMux pattern ("GET /api/v1/contacts/{id}") into the
// OpenAPI method and path; a pattern without a method matches any method.
func routeKey(pattern string) (method, path string) {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.ReplaceAll(path, "...}", "}")
	path = strings.TrimSuffix(path, "{$}")
	return strings.ToLower(method), path
}

// TestOpenAPICoversRoutes fails when a registered route is missing from the
// OpenAPI document, or when the document describes a route nobody serves.
func TestOpenAPICoversRoutes(t *testing.T) {
	s := New(Config{Store: storetest.Open(t, store.SQLite, store.Options{})})
	doc := loadOpenAPI(t)
	if len(s.routes) == 0 {
		t.Fatal("the server recorded no routes; register them with s.handle")
	}
	served := map[string]bool{}
	var undocumented []string
	for _, pattern := range s.routes {
		method, path := routeKey(pattern)
		served[method+" "+path] = true
		ops, ok := doc.Paths[path]
		switch {
		case !ok:
			undocumented = append(undocumented, pattern)
		case method == "":
			if !slices.ContainsFunc(httpMethods, func(m string) bool { _, ok := ops[m]; return ok }) {
				undocumented = append(undocumented, pattern)
			}
		default:
			if _, ok := ops[method]; !ok {
				undocumented = append(undocumented, pattern)
			}
		}
	}
	var unserved []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if !slices.Contains(httpMethods, m) {
				continue
			}
			if !served[m+" "+path] && !served[" "+path] {
				unserved = append(unserved, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unserved)
	for _, r := range undocumented {
		t.Errorf("route %q is not in server/openapi.json", r)
	}
	for _, r := range unserved {
		t.Errorf("server/openapi.json documents %q but no route serves it", r)
	}
}

// TestOpenAPIDocumentIsConsistent checks what a client generator relies on:
// every $ref resolves, every path parameter is declared, every operation
// says what success looks like, and error responses use the Error schema.
func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q, want 3.x", doc.OpenAPI)
	}
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/(schemas|parameters|responses)/([^"]+)"`)
	for _, m := range refs.FindAllSubmatch(openAPIDoc, -1) {
		kind, name := string(m[1]), string(m[2])
		var ok bool
		switch kind {
		case "schemas":
			_, ok = doc.Components.Schemas[name]
		case "parameters":
			_, ok = doc.Components.Parameters[name]
		case "responses":
			_, ok = doc.Components.Responses[name]
		}
		if !ok {
			t.Errorf("$ref #/components/%s/%s does not resolve", kind, name)
		}
	}
	if !strings.Contains(string(doc.Components.Responses["BadRequest"]), "#/components/schemas/Error") {
		t.Errorf("the BadRequest response does not use the Error schema")
	}

	type parameter struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	type operation struct {
		Summary    string                     `json:"summary"`
		Parameters []parameter                `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	}
	templ := regexp.MustCompile(`\{([^}]+)\}`)
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if op.Summary == "" {
				t.Errorf("%s has no summary", where)
			}
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					_ = json.Unmarshal(doc.Components.Parameters[name], &p)
				}
				if p.In == "path" {
					declared[p.Name] = true
				}
			}
			for _, m := range templ.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s does not declare path parameter %q", where, m[1])
				}
			}
			success := false
			for code, resp := range op.Responses {
				if strings.HasPrefix(code, "2") {
					success = true
				}
				if strings.HasPrefix(code, "4") && !strings.Contains(string(resp), "#/components/responses/") {
					t.Errorf("%s: response %s does not use a shared error response", where, code)
				}
			}
			if !success {
				t.Errorf("%s documents no success response", where)
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes keeps the documented schemas in step with the
// Go types the handlers encode and decode.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	cases := []struct {
		schema string
		value  any
		except []string // fields of the Go type the schema leaves out on purpose
	}{
		{"Error", errorBody{}, nil},
		{"User", alinea.User{}, nil},
		{"Contact", alinea.Contact{}, nil},
		{"ContactCreate", alinea.ContactFields{}, nil},
		{"ContactUpdate", alinea.ContactFields{}, []string{"stage"}},
		{"ContactList", list[alinea.Contact]{}, nil},
		{"Transition", alinea.Transition{}, nil},
		{"Actor", alinea.Actor{}, nil},
		{"TransitionRequest", transitionRequest{}, nil},
		{"TimelineItem", alinea.TimelineItem{}, nil},
		{"TimelinePage", timelinePage{}, nil},
		{"Note", alinea.Note{}, nil},
		{"NoteRequest", noteRequest{}, nil},
		{"Activity", alinea.Activity{}, nil},
		{"Account", alinea.Account{}, nil},
		{"AccountFields", alinea.AccountFields{}, nil},
		{"AccountList", list[alinea.Account]{}, nil},
		{"PipelineStage", alinea.PipelineStage{}, nil},
		{"Deal", alinea.Deal{}, nil},
		{"DealContact", alinea.DealContact{}, nil},
		{"DealCreate", alinea.DealFields{}, nil},
		{"DealUpdate", alinea.DealFields{}, []string{"stage_id"}},
		{"DealStageMove", stageMoveRequest{}, nil},
		{"DealStageChange", alinea.DealStageChange{}, nil},
		{"Event", alinea.Event{}, nil},
		{"UTM", alinea.UTM{}, nil},
		{"AgreementGoal", agreement.Goal{}, nil},
		{"AgreementAssumptions", agreement.Assumptions{}, nil},
		{"AgreementDefinition", agreement.Definition{}, nil},
		{"AgreementDefinitions", agreement.Definitions{}, nil},
		{"AgreementFitRule", agreement.FitRule{}, nil},
		{"AgreementEngagementRule", agreement.EngagementRule{}, nil},
		{"AgreementScoring", agreement.Scoring{}, nil},
		{"AgreementGrades", agreement.Grades{}, nil},
		{"AgreementRejectionReason", agreement.RejectionReason{}, nil},
		{"AgreementSLA", agreement.SLA{}, nil},
		{"AgreementCalendar", calendar.Spec{}, nil},
		{"AgreementRouting", agreement.Routing{}, nil},
		{"AgreementRouteRule", agreement.RouteRule{}, nil},
		{"AgreementRepRef", agreement.RepRef{}, nil},
		{"Handoff", alinea.Handoff{}, nil},
		{"HandoffList", list[alinea.Handoff]{}, nil},
		{"SLAClock", alinea.SLAClock{}, nil},
		{"HandoffDecision", alinea.HandoffDecision{}, nil},
		{"Rep", alinea.Rep{}, nil},
		{"RepSettings", repSettingsRequest{}, nil},
		{"Absence", alinea.Absence{}, nil},
		{"AbsenceRequest", absenceRequest{}, nil},
		{"SLAReport", store.SLAReport{}, nil},
		{"TermStats", store.TermStats{}, nil},
		{"RepCompliance", store.RepCompliance{}, nil},
		{"Distribution", store.Distribution{}, nil},
		{"DistributionBucket", store.Bucket{}, nil},
		{"RejectionReport", store.RejectionReport{}, nil},
		{"GroupCount", store.GroupCount{}, nil},
		{"MQLDelivery", store.MQLDelivery{}, nil},
		{"SQLConversion", store.SQLConversion{}, nil},
		{"AgreementAction", agreement.Action{}, nil},
		{"AgreementPlaybook", agreement.Playbook{}, nil},
		{"AgreementDocument", agreement.Document{}, nil},
		{"AgreementSignature", agreement.Signature{}, nil},
		{"AgreementVersion", agreement.Version{}, nil},
		{"AgreementProblem", agreement.Problem{}, nil},
		{"AgreementDraft", draftResponse{}, nil},
		{"AgreementValidation", validationResponse{}, nil},
		{"AgreementAuditEntry", agreement.AuditEntry{}, nil},
		{"AgreementChange", agreement.Change{}, nil},
		{"AgreementDiff", diffResponse{}, nil},
		{"BacktestMonth", agreement.MonthRow{}, nil},
		{"BacktestReport", agreement.Report{}, nil},
		{"BacktestResult", backtestResponse{}, nil},
		{"Reevaluation", store.Reevaluation{}, nil},
		{"ImportJob", alinea.ImportJob{}, nil},
		{"RowError", alinea.RowError{}, nil},
		{"FitScore", agreement.FitScore{}, nil},
		{"EngagementScore", agreement.EngagementScore{}, nil},
		{"DefinitionCheck", agreement.DefinitionCheck{}, nil},
		{"RuleError", agreement.RuleError{}, nil},
		{"ScoreResult", agreement.Result{}, nil},
		{"Score", store.Score{}, nil},
		{"GoalPeriod", agreement.Period{}, nil},
		{"FunnelRate", agreement.Rate{}, nil},
		{"FunnelRates", agreement.Rates{}, nil},
		{"FunnelNeeded", agreement.Needed{}, nil},
		{"FunnelCounts", agreement.Counts{}, nil},
		{"GoalPlan", agreement.Plan{}, nil},
		{"Webhook", store.Webhook{}, nil},
		{"WebhookCreated", webhookCreated{}, nil},
		{"WebhookCreate", webhookRequest{}, nil},
		{"WebhookUpdate", webhookPatch{}, nil},
		{"Delivery", store.Delivery{}, nil},
		{"DeliveryAttempt", store.DeliveryAttempt{}, nil},
		{"DeliveryDetail", deliveryDetail{}, nil},
		{"DeliveryList", list[store.Delivery]{}, nil},
	}
	for _, tc := range cases {
		raw, ok := doc.Components.Schemas[tc.schema]
		if !ok {
			t.Errorf("schema %s is missing", tc.schema)
			continue
		}
		var sch struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &sch); err != nil {
			t.Fatalf("schema %s: %v", tc.schema, err)
		}
		var documented []string
		for name := range sch.Properties {
			documented = append(documented, name)
		}
		var want []string
		for _, name := range jsonFields(reflect.TypeOf(tc.value)) {
			if !slices.Contains(tc.except, name) {
				want = append(want, name)
			}
		}
		sort.Strings(documented)
		sort.Strings(want)
		if !slices.Equal(documented, want) {
			t.Errorf("schema %s has properties %v; the Go type %T has %v", tc.schema, documented, tc.value, want)
		}
	}
}

// jsonFields lists the JSON names of a struct's encoded fields.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			// encoding/json lifts an embedded struct's fields.
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
