package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

func TestExplainTransition(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	es, en := ls.get("es"), ls.get("en")
	at := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	names := map[int64]string{7: "Carlos Ruiz"}
	active := &agreement.Version{ID: 3}
	active.Document.Definitions.MQL.Description = "webinar registrado y visto"
	reasons := []agreement.RejectionReason{{Code: "no_budget", LabelES: "Sin presupuesto (acuerdo)", LabelEN: "No budget (agreement)"}}

	// A move by the agreement's live evaluation: definition, rules and points.
	rule := alinea.Transition{From: alinea.StageLead, To: alinea.StageMQL, At: at, Actor: alinea.Actor{Type: alinea.ActorRule}, AgreementVersion: 3,
		Why: json.RawMessage(`{"agreement_version":3,"definition":"mql","when":"did(\"Webinar Attended\")","fit":55,"engagement":62,"grade":"B2",
			"rules":[{"rule":"decision_maker","axis":"fit","points":30},{"rule":"webinar_attended","axis":"engagement","points":17.5,"events":1}]}`)}
	w := explainTransition(es, rule, names, active, reasons)
	want := whyView{Summary: "Pasó de Lead a MQL.", By: "el acuerdo de ingresos (versión 3)", At: at,
		Definition: "Cumple la definición de MQL acordada — webinar registrado y visto", Expression: `did("Webinar Attended")`,
		Rules:  []whyRule{{Name: "decision_maker", Axis: "Encaje", Points: "+30"}, {Name: "webinar_attended", Axis: "Interés", Points: "+17,5"}},
		Scores: "Encaje 55 · Interés 62 · Calificación B2"}
	if !equalWhy(*w, want) {
		t.Errorf("rule move:\n got %+v\nwant %+v", *w, want)
	}

	// A person sending a lead back with the agreement's reason code.
	back := alinea.Transition{From: alinea.StageSAL, To: alinea.StageRecycled, At: at, Actor: alinea.Actor{Type: alinea.ActorUser, UserID: 7},
		Reason: "no_budget", Why: json.RawMessage(`{"via":"ui"}`)}
	if w := explainTransition(en, back, names, active, reasons); w.By != "Carlos Ruiz" || w.Reason != "No budget (agreement)" || w.Summary != "Moved from SAL to Recycled." {
		t.Errorf("recycled by a person: %+v", *w)
	}
	// Creation, and a reason the catalog knows.
	created := alinea.Transition{To: alinea.StageLead, At: at, Actor: alinea.Actor{Type: alinea.ActorImport}, Why: json.RawMessage(`{"event":"created"}`)}
	if w := explainTransition(en, created, names, nil, nil); w.Summary != "Created as Lead." || w.By != "an import" {
		t.Errorf("created: %+v", *w)
	}
	lost := alinea.Transition{From: alinea.StageOpportunity, To: alinea.StageRecycled, At: at, Actor: alinea.Actor{Type: alinea.ActorUser, UserID: 99},
		Reason: "not_ready", Why: json.RawMessage(`{"via":"ui","deal_lost":"price"}`)}
	if w := explainTransition(es, lost, names, nil, nil); w.Reason != "se perdió la oportunidad (Precio)" || w.By != "un usuario que ya no existe" {
		t.Errorf("lost deal: %+v", *w)
	}
	// A why that is not JSON still says who and when.
	odd := alinea.Transition{From: alinea.StageMQL, To: alinea.StageSAL, At: at, Actor: alinea.Actor{Type: alinea.ActorAPI}, Why: json.RawMessage(`not json`)}
	if w := explainTransition(en, odd, names, nil, nil); w.By != "the API" || w.Summary != "Moved from MQL to SAL." {
		t.Errorf("unreadable why: %+v", *w)
	}
}

func equalWhy(a, b whyView) bool {
	if len(a.Rules) != len(b.Rules) {
		return false
	}
	for i := range a.Rules {
		if a.Rules[i] != b.Rules[i] {
			return false
		}
	}
	a.Rules, b.Rules = nil, nil
	return a.Summary == b.Summary && a.By == b.By && a.At.Equal(b.At) && a.Reason == b.Reason && a.Definition == b.Definition &&
		a.Expression == b.Expression && a.Scores == b.Scores
}

func TestMissingPartsAreLocalized(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	es := ls.get("es")
	for in, want := range map[string]missingItem{
		"10 more points of fit (has 20, needs 30)":       {Text: "10 puntos más de encaje (tiene 20, necesita 30)"},
		"1 more points of engagement (has 39, needs 40)": {Text: "1 punto más de interés (tiene 39, necesita 40)"},
		"an email address":                               {Text: "una dirección de correo"},
		`did("Trial Started")`:                           {Text: `did("Trial Started")`, Code: true},
	} {
		if got := missingText(es, in); got != want {
			t.Errorf("missingText(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestTimelineEntries(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	en := ls.get("en")
	names := map[int64]string{7: "Carlos Ruiz"}
	item := func(kind string, v any) alinea.TimelineItem {
		b, _ := json.Marshal(v)
		return alinea.TimelineItem{Kind: kind, Data: b}
	}
	for _, tc := range []struct {
		it            alinea.TimelineItem
		title, detail string
	}{
		{item("event", alinea.Event{Type: "page", Properties: json.RawMessage(`{"title":"Pricing","path":"/pricing"}`), UTM: alinea.UTM{Campaign: "spring", Source: "google"}}),
			"Viewed “Pricing”", "/pricing · campaign spring (google)"},
		{item("event", alinea.Event{Type: "track", Name: "Trial Started"}), "Trial Started", ""},
		{item("event", alinea.Event{Type: "identify"}), "Identified themselves", ""},
		{item("transition", alinea.Transition{From: alinea.StageSQL, To: alinea.StageRecycled, Reason: "no_budget", Actor: alinea.Actor{Type: alinea.ActorUser, UserID: 7}}),
			"From SQL to Recycled", "By Carlos Ruiz · No budget"},
		{item("note", alinea.Note{AuthorID: 7, Body: "Call on Monday"}), "Note from Carlos Ruiz", ""},
		{item("deal", map[string]any{"deal_name": "Acme — Pro", "to_stage": "lost", "actor_user_id": 7, "reason": "price"}), "Acme — Pro moved to Lost", "By Carlos Ruiz · Price"},
	} {
		e := timelineItem(en, tc.it, names, nil)
		if e.Title != tc.title || e.Detail != tc.detail || e.KindLabel == "" {
			t.Errorf("%s: got %q / %q (%q), want %q / %q", tc.it.Kind, e.Title, e.Detail, e.KindLabel, tc.title, tc.detail)
		}
		if tc.it.Kind == "note" && !strings.Contains(e.Body, "Call on Monday") {
			t.Errorf("note body %q", e.Body)
		}
	}
}
