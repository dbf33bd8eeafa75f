package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// Templates: layout.html holds the page frame, _*.html the pieces several
// pages share, and every other file one page that defines "content".
//
//go:embed templates/*.html
var templateFiles embed.FS

// views renders pages. Each language has its own parsed copy of the
// templates with its formatting functions bound, so rendering never clones.
type views struct {
	sets  map[string]map[string]*template.Template // language -> page -> template
	langs *locales
	log   *slog.Logger
}

func parseViews(langs *locales, files *assets, now func() time.Time) (*views, error) {
	pages, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	vs := &views{sets: map[string]map[string]*template.Template{}, langs: langs}
	for _, code := range languageCodes {
		l := langs.get(code)
		base, err := template.New("layout.html").Funcs(templateFuncs(l, files, now)).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html")
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		vs.sets[code] = map[string]*template.Template{}
		for _, p := range pages {
			name := strings.TrimSuffix(path.Base(p), ".html")
			if name == "layout" || strings.HasPrefix(name, "_") {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(templateFiles, p)
			if err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			vs.sets[code][name] = t
		}
	}
	return vs, nil
}

// templateFuncs are the functions templates call, bound to one language.
// t is the only way templates show text: {{t "key" args...}}.
func templateFuncs(l *locale, files *assets, now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"t":          l.T,
		"num":        l.Number,
		"dec":        l.Decimal,
		"pct":        l.Percent,
		"money":      l.Money,
		"moneyMajor": l.MoneyMajor,
		"date":       l.Date,
		"datetime":   l.DateTime,
		"ago":        func(t time.Time) string { return l.Ago(t, now()) },
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"country":    l.Country,
		"stage":      func(s alinea.Stage) string { return stageName(l, s) },
		"mode":       func(m alinea.Mode) string { return modeName(l, m) },
		"role":       func(r alinea.Role) string { return roleName(l, r) },
		"asset":      files.url,
		"selectField": func(name, label string, options []option) selectField {
			return selectField{Name: name, Label: label, Options: options}
		},
	}
}

// selectField is a labelled select of a filter form (templates/_form.html).
type selectField struct {
	Name, Label string
	Options     []option
}

// stageName, modeName and roleName show the funnel's vocabulary in the
// reader's language (DESIGN.md section 1).
func stageName(l *locale, s alinea.Stage) string { return l.T("stage." + string(s)) }
func modeName(l *locale, m alinea.Mode) string   { return l.T("mode." + string(m)) }
func roleName(l *locale, r alinea.Role) string   { return l.T("role." + string(r)) }

// frame is what the layout shows around every page.
type frame struct {
	Lang      *locale
	Languages []languageOption
	User      *alinea.User
	CSRF      string
	Nav       []navLink
	// Settings is the settings link beside the user's name, when they may
	// open settings.
	Settings *navLink
	// Here is the current path and query: the language switch returns to it.
	Here   string
	Title  string
	Notice string
	// Plain pages (sign-in, errors for visitors) have no navigation.
	Plain bool
}

type languageOption struct {
	Code, Name string
	Current    bool
}

type navLink struct {
	Label, Href string
	Current     bool
}

// pageData is what every template receives: the frame and the page's own
// data.
type pageData struct {
	Frame frame
	Page  any
}

// render writes a page. It renders into a buffer first so that a template
// error becomes an error page rather than half a page.
func (vs *views) render(w http.ResponseWriter, r *http.Request, v *visit, status int, name, title string, page any) error {
	t := vs.sets[v.Lang.Code][name]
	if t == nil {
		return fmt.Errorf("no template %q", name)
	}
	f := frame{Lang: v.Lang, User: v.User, CSRF: v.CSRF, Here: r.URL.RequestURI(), Title: title, Plain: v.User == nil}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A page shown in answer to a form (a refused change, a dry run)
		// has no address of its own to come back to: switching language
		// returns to the page the form was on.
		f.Here = localPath(r.Referer())
		if f.Here == "" {
			f.Here = "/"
		}
	}
	if v.User != nil {
		f.Nav = navFor(v.Lang, v.User.Role, r.URL.Path)
		f.Settings = settingsLink(v.Lang, v.User.Role, r.URL.Path)
	}
	for _, code := range languageCodes {
		f.Languages = append(f.Languages, languageOption{Code: code, Name: v.Lang.T("language." + code), Current: code == v.Lang.Code})
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pageData{Frame: f, Page: page}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang.Code)
	// Pages hold personal data and CSRF tokens: never cached.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}
