// Package notify writes the emails Alinea sends for each notification
// type: a subject, a plain-text body and an HTML body, in the recipient's
// language (Spanish or English). Templates and the message catalog are
// embedded; New fails if a notification type lacks a template.
package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/alinea-crm/alinea"
)

//go:embed templates/*.txt templates/*.html locales/*.json
var files embed.FS

// Languages are the languages emails are written in; the first is the
// default for recipients whose language is unknown.
var Languages = []string{"es", "en"}

// Email is a rendered message.
type Email struct {
	Subject string
	Text    string
	HTML    string
}

// Recipient is who the email is for.
type Recipient struct {
	UserID int64
	Name   string
	Lang   string
}

// Renderer renders notifications; it is safe for concurrent use.
type Renderer struct {
	baseURL  string
	text     map[string]*texttemplate.Template
	html     map[string]*htmltemplate.Template
	catalogs map[string]map[string]string
}

// New parses the templates and catalogs. baseURL (e.g.
// https://alinea.example.com) makes the links in emails absolute when a
// notification's data carries none or a relative one.
func New(baseURL string) (*Renderer, error) {
	r := &Renderer{baseURL: strings.TrimRight(baseURL, "/"), text: map[string]*texttemplate.Template{},
		html: map[string]*htmltemplate.Template{}, catalogs: map[string]map[string]string{}}
	for _, lang := range Languages {
		raw, err := fs.ReadFile(files, "locales/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("notify: catalog %s: %w", lang, err)
		}
		cat := map[string]string{}
		if err := json.Unmarshal(raw, &cat); err != nil {
			return nil, fmt.Errorf("notify: catalog locales/%s.json: %w", lang, err)
		}
		r.catalogs[lang] = cat
	}
	// Templates are parsed with placeholder functions; Render binds the
	// recipient's language on a clone.
	funcs := map[string]any{"t": func(string, ...any) string { return "" }}
	for _, typ := range alinea.NotificationTypes {
		t, err := texttemplate.New(typ+".txt").Funcs(funcs).ParseFS(files, "templates/"+typ+".txt")
		if err != nil {
			return nil, fmt.Errorf("notify: no plain-text template for %s: %w", typ, err)
		}
		if t.Lookup("subject") == nil || t.Lookup("body") == nil {
			return nil, fmt.Errorf("notify: templates/%s.txt must define \"subject\" and \"body\"", typ)
		}
		r.text[typ] = t
		h, err := htmltemplate.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+typ+".html")
		if err != nil {
			return nil, fmt.Errorf("notify: no HTML template for %s: %w", typ, err)
		}
		if h.Lookup("body") == nil {
			return nil, fmt.Errorf("notify: templates/%s.html must define \"body\"", typ)
		}
		r.html[typ] = h
	}
	return r, nil
}

// person is someone a notification's data names.
type person struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
}

func (p person) label() string {
	name := p.Name
	if name == "" {
		name = p.Email
	}
	if p.Company != "" && name != "" {
		return name + " (" + p.Company + ")"
	}
	return name
}

// data is the JSON the SLA and routing code put in a notification.
type data struct {
	Contact person `json:"contact"`
	SLA     struct {
		Name          string  `json:"name"`
		Kind          string  `json:"kind"`
		BusinessHours float64 `json:"business_hours"`
		Count         int     `json:"count"`
		Of            int     `json:"of"`
		Days          int     `json:"days"`
		Period        string  `json:"period"`
	} `json:"sla"`
	Owner      person  `json:"owner"`
	Manager    *person `json:"manager"`
	Deadline   string  `json:"deadline"`
	BreachedAt string  `json:"breached_at"`
	Reason     string  `json:"reason"`
	URL        string  `json:"url"`
}

// View is what the templates see: every text already in the recipient's
// language.
type View struct {
	Recipient string
	// ForOwner is true when the recipient is the contact's owner ("you").
	ForOwner   bool
	Contact    string
	Owner      string
	Manager    string
	SLAName    string
	Commitment string
	Deadline   string
	BreachedAt string
	Reason     string
	URL        string
	// Facts are the labelled details both bodies list, empty ones left
	// out.
	Facts []Fact
}

// Fact is one labelled detail.
type Fact struct {
	Label, Value string
}

// Render writes the email for a notification of type typ with data, to r
// in r.Lang (Spanish when unknown).
func (rd *Renderer) Render(typ string, raw json.RawMessage, r Recipient) (Email, error) {
	lang := r.Lang
	if _, ok := rd.catalogs[lang]; !ok {
		lang = Languages[0]
	}
	cat := rd.catalogs[lang]
	var missing []string
	t := func(key string, args ...any) string {
		s, ok := cat[key]
		if !ok {
			missing = append(missing, key)
			return key
		}
		if len(args) == 0 {
			return s
		}
		return fmt.Sprintf(s, args...)
	}
	var d data
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &d); err != nil {
			return Email{}, fmt.Errorf("notify: %s data: %w", typ, err)
		}
	}
	v := View{Recipient: r.Name, ForOwner: r.UserID != 0 && r.UserID == d.Owner.ID, Contact: d.Contact.label(), Owner: d.Owner.label(),
		SLAName: d.SLA.Name, Reason: d.Reason, URL: rd.link(d)}
	if d.Manager != nil {
		v.Manager = d.Manager.label()
	}
	if v.Contact == "" {
		v.Contact = t("unknown_contact")
	}
	v.Deadline = formatTime(t, d.Deadline)
	v.BreachedAt = formatTime(t, d.BreachedAt)
	period := cat["period."+d.SLA.Period]
	if period == "" {
		period = d.SLA.Period
	}
	v.Commitment = commitment(t, lang, period, d)

	sla := v.SLAName
	if v.Commitment != "" {
		sla = strings.TrimPrefix(sla+" — "+v.Commitment, " — ")
	}
	for _, f := range []Fact{
		{t("label.contact"), v.Contact},
		{t("label.sla"), sla},
		{t("label.owner"), v.Owner},
		{t("label.manager"), v.Manager},
		{t("label.deadline"), v.Deadline},
		{t("label.breached_at"), v.BreachedAt},
		{t("label.reason"), v.Reason},
	} {
		if f.Value != "" {
			v.Facts = append(v.Facts, f)
		}
	}

	tt, ht := rd.text[typ], rd.html[typ]
	if tt == nil || ht == nil {
		return Email{}, fmt.Errorf("notify: no template for notification type %q", typ)
	}
	tt, err := tt.Clone()
	if err != nil {
		return Email{}, err
	}
	tt.Funcs(texttemplate.FuncMap{"t": t})
	ht, err = ht.Clone()
	if err != nil {
		return Email{}, err
	}
	ht.Funcs(htmltemplate.FuncMap{"t": t})
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Email{}, fmt.Errorf("notify: %s subject: %w", typ, err)
	}
	if err := tt.ExecuteTemplate(&text, "body", v); err != nil {
		return Email{}, fmt.Errorf("notify: %s text: %w", typ, err)
	}
	if err := ht.ExecuteTemplate(&html, "layout", map[string]any{"Lang": lang, "Subject": strings.TrimSpace(subject.String()), "V": v}); err != nil {
		return Email{}, fmt.Errorf("notify: %s HTML: %w", typ, err)
	}
	if len(missing) > 0 {
		return Email{}, fmt.Errorf("notify: catalog locales/%s.json lacks %s", lang, strings.Join(missing, ", "))
	}
	return Email{Subject: strings.TrimSpace(subject.String()), Text: tidyText(text.String()), HTML: html.String()}, nil
}

// link is the contact's page: the data's URL, made absolute with the base
// URL when it is relative or missing.
func (rd *Renderer) link(d data) string {
	u := strings.TrimSpace(d.URL)
	if u == "" && d.Contact.ID > 0 {
		u = "/contacts/" + strconv.FormatInt(d.Contact.ID, 10)
	}
	if strings.HasPrefix(u, "/") {
		if rd.baseURL == "" {
			return ""
		}
		return rd.baseURL + u
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return ""
	}
	return u
}

// formatTime writes an RFC 3339 time in the reader's language, in UTC
// (the web UI shows times in UTC too).
func formatTime(t func(string, ...any) string, raw string) string {
	if raw == "" {
		return ""
	}
	at, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return raw
	}
	at = at.UTC()
	return strings.NewReplacer(
		"{day}", strconv.Itoa(at.Day()),
		"{month}", t(fmt.Sprintf("month.%d", int(at.Month()))),
		"{year}", strconv.Itoa(at.Year()),
		"{time}", at.Format(t("format.time")),
	).Replace(t("format.datetime"))
}

// commitment says what an SLA asks, e.g. "aceptar o rechazar en 8 horas
// laborables".
func commitment(t func(string, ...any) string, lang, period string, d data) string {
	s := d.SLA
	hours := strconv.FormatFloat(s.BusinessHours, 'f', -1, 64)
	if lang == "es" {
		hours = strings.ReplaceAll(hours, ".", ",")
	}
	switch s.Kind {
	case "":
		return ""
	case "accept_within", "first_touch_within":
		return t("commitment."+s.Kind, hours)
	case "touches_within":
		return t("commitment.touches_within", s.Count, s.Days)
	case "deliver_mqls":
		return t("commitment.deliver_mqls", s.Count, period)
	case "convert_sqls":
		return t("commitment.convert_sqls", s.Count, s.Of)
	}
	return s.Kind
}

// tidyText drops the blank lines that template actions leave behind,
// keeping single empty lines between paragraphs.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	blank := true
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}
