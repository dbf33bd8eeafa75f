package notify

import (
	"encoding/json"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
)

var samples = map[string]string{
	alinea.NotifyLeadAssigned: `{"contact":{"id":1,"name":"Ana Ruiz","email":"ana@x.es","company":"Textiles Ruiz"},"owner":{"id":3,"name":"Rafa Gil","email":"rafa@x"},"reason":"Territorio ES; 2 de 3 leads abiertos","deadline":"2026-03-03T09:30:00Z","url":"/contacts/1"}`,
	alinea.NotifySLABreached:  `{"contact":{"id":1,"name":"Ana Ruiz","email":"ana@x.es","company":"Textiles Ruiz"},"sla":{"name":"accept_mql","kind":"accept_within","business_hours":8},"owner":{"id":3,"name":"Rafa Gil","email":"rafa@x"},"deadline":"2026-03-03T09:30:00Z","breached_at":"2026-03-03T09:30:20Z","url":"http://alinea.test/contacts/1"}`,
	alinea.NotifySLAEscalated: `{"contact":{"id":1,"name":"Ana Ruiz","email":"ana@x.es"},"sla":{"name":"accept_mql","kind":"accept_within","business_hours":1.5},"owner":{"id":3,"name":"Rafa Gil","email":"rafa@x"},"manager":{"id":4,"name":"Marta Sanz","email":"marta@x"},"deadline":"2026-03-03T09:30:00Z","breached_at":"2026-03-03T09:30:20Z"}`,
}

// TestEveryTypeHasTemplatesInEveryLanguage fails when a notification type
// lacks a template, or a language lacks a message a template uses.
func TestEveryTypeHasTemplatesInEveryLanguage(t *testing.T) {
	r, err := New("https://alinea.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range alinea.NotificationTypes {
		if _, err := fs.Stat(files, "templates/"+typ+".txt"); err != nil {
			t.Errorf("%s has no plain-text template", typ)
		}
		if _, err := fs.Stat(files, "templates/"+typ+".html"); err != nil {
			t.Errorf("%s has no HTML template", typ)
		}
		sample, ok := samples[typ]
		if !ok {
			t.Errorf("no sample data for %s in this test", typ)
			continue
		}
		for _, lang := range Languages {
			for _, who := range []Recipient{{UserID: 3, Name: "Rafa", Lang: lang}, {UserID: 4, Name: "Marta", Lang: lang}, {Lang: lang}} {
				e, err := r.Render(typ, json.RawMessage(sample), who)
				if err != nil {
					t.Errorf("%s in %s: %v", typ, lang, err)
					continue
				}
				if e.Subject == "" || strings.TrimSpace(e.Text) == "" || !strings.Contains(e.HTML, "</html>") {
					t.Errorf("%s in %s: empty part: %+v", typ, lang, e)
				}
				if !strings.Contains(e.Subject, "Ana Ruiz") || !strings.Contains(e.Text, "Ana Ruiz") || !strings.Contains(e.HTML, "Ana Ruiz") {
					t.Errorf("%s in %s does not name the contact: %+v", typ, lang, e)
				}
			}
		}
	}
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	r, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	base := slices.Sorted(maps.Keys(r.catalogs[Languages[0]]))
	for _, lang := range Languages[1:] {
		keys := slices.Sorted(maps.Keys(r.catalogs[lang]))
		for _, k := range base {
			if _, ok := r.catalogs[lang][k]; !ok {
				t.Errorf("locales/%s.json lacks %q", lang, k)
			}
		}
		for _, k := range keys {
			if _, ok := r.catalogs[Languages[0]][k]; !ok {
				t.Errorf("locales/%s.json has %q, which locales/%s.json lacks", lang, k, Languages[0])
			}
		}
	}
}

func TestRenderInTheRecipientsLanguage(t *testing.T) {
	r, err := New("https://alinea.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	es, err := r.Render(alinea.NotifySLABreached, json.RawMessage(samples[alinea.NotifySLABreached]), Recipient{UserID: 3, Name: "Rafa", Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hola, Rafa:", "Ha vencido el plazo de tu compromiso con Ana Ruiz (Textiles Ruiz).", "accept_mql — aceptar o rechazar en 8 horas laborables", "3 de marzo de 2026, 09:30 UTC", "http://alinea.test/contacts/1"} {
		if !strings.Contains(es.Text, want) {
			t.Errorf("Spanish text lacks %q:\n%s", want, es.Text)
		}
	}
	if es.Subject != "SLA incumplido: Ana Ruiz (Textiles Ruiz)" {
		t.Errorf("Spanish subject %q", es.Subject)
	}
	if !strings.Contains(es.HTML, `lang="es"`) || !strings.Contains(es.HTML, `href="http://alinea.test/contacts/1"`) {
		t.Errorf("Spanish HTML:\n%s", es.HTML)
	}

	en, err := r.Render(alinea.NotifySLAEscalated, json.RawMessage(samples[alinea.NotifySLAEscalated]), Recipient{UserID: 4, Name: "Marta", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hi Marta,", "Rafa Gil has not kept their commitment on Ana Ruiz", "accept or reject within 1.5 business hours", "March 3, 2026, 9:30 AM UTC", "Manager: Marta Sanz",
		// No URL in the data: the contact's page under the base URL.
		"https://alinea.example.com/contacts/1"} {
		if !strings.Contains(en.Text, want) {
			t.Errorf("English text lacks %q:\n%s", want, en.Text)
		}
	}
	if en.Subject != "Escalated: Rafa Gil breached the SLA on Ana Ruiz" {
		t.Errorf("English subject %q", en.Subject)
	}

	// Someone else than the owner reads about the owner, not "you".
	other, _ := r.Render(alinea.NotifyLeadAssigned, json.RawMessage(samples[alinea.NotifyLeadAssigned]), Recipient{UserID: 9, Name: "Eva", Lang: "es"})
	if !strings.Contains(other.Text, "Se ha asignado a Rafa Gil un nuevo lead") || strings.Contains(other.Text, "Se te ha asignado") {
		t.Errorf("lead.assigned for a third party:\n%s", other.Text)
	}
	// An unknown language falls back to Spanish.
	fallback, _ := r.Render(alinea.NotifyLeadAssigned, json.RawMessage(samples[alinea.NotifyLeadAssigned]), Recipient{UserID: 3, Lang: "fr"})
	if !strings.HasPrefix(fallback.Subject, "Nuevo lead asignado") || !strings.Contains(fallback.Text, "Hola:") {
		t.Errorf("fallback: %+v", fallback)
	}
	if !strings.Contains(fallback.Text, "https://alinea.example.com/contacts/1") {
		t.Errorf("a relative URL was not made absolute:\n%s", fallback.Text)
	}
}

func TestRenderEscapesHTMLAndRefusesBadInput(t *testing.T) {
	r, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Render(alinea.NotifyLeadAssigned, json.RawMessage(`{"contact":{"id":1,"name":"<script>alert(1)</script>"},"owner":{"id":2,"name":"Rep"},"url":"javascript:alert(1)"}`), Recipient{UserID: 2, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.HTML, "<script>") || strings.Contains(e.HTML, "javascript:") {
		t.Errorf("HTML not escaped:\n%s", e.HTML)
	}
	// No base URL and a relative link: no link rather than a broken one.
	e, _ = r.Render(alinea.NotifyLeadAssigned, json.RawMessage(`{"contact":{"id":1,"name":"Ana"},"url":"/contacts/1"}`), Recipient{Lang: "en"})
	if strings.Contains(e.Text, "/contacts/1") || strings.Contains(e.HTML, "/contacts/1") {
		t.Errorf("relative link without a base URL:\n%s", e.Text)
	}
	if _, err := r.Render("sla.missed", nil, Recipient{Lang: "es"}); err == nil {
		t.Error("unknown type: no error")
	}
	if _, err := r.Render(alinea.NotifySLABreached, json.RawMessage(`{"contact":`), Recipient{Lang: "es"}); err == nil {
		t.Error("broken data: no error")
	}
}
