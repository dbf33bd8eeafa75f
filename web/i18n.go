package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"golang.org/x/text/number"
)

// The message catalogs: one JSON file per language, key -> message. A
// message is a fmt format (golang.org/x/text/message localizes its numbers)
// or, when it depends on a count, an object of plural forms ("=0", "one",
// "other") selected by the first argument.
//
//go:embed locales/*.json
var localeFiles embed.FS

// languageCodes are the UI's languages; the first is the default.
var languageCodes = []string{"es", "en"}

// locale is one UI language: its messages and how it writes numbers, money
// and dates.
type locale struct {
	Code    string
	tag     language.Tag
	printer *message.Printer
	regions display.Namer
	months  [12]string
}

// locales are the UI's languages and how to pick one.
type locales struct {
	byCode  map[string]*locale
	matcher language.Matcher
}

// readCatalog returns one language's messages: locales/<code>.json plus
// every locales/<area>.<code>.json, so each part of the UI can keep its
// messages in its own file. A key defined in two files is an error naming
// both.
func readCatalog(code string) (map[string]json.RawMessage, error) {
	areas, err := fs.Glob(localeFiles, "locales/*."+code+".json")
	if err != nil {
		return nil, fmt.Errorf("message catalog %s: %w", code, err)
	}
	msgs := map[string]json.RawMessage{}
	from := map[string]string{}
	for _, name := range append([]string{"locales/" + code + ".json"}, areas...) {
		raw, err := localeFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", code, err)
		}
		var file map[string]json.RawMessage
		if err := json.Unmarshal(raw, &file); err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		for key, msg := range file {
			if prev, dup := from[key]; dup {
				return nil, fmt.Errorf("message catalog %s: key %q is already defined in %s", name, key, prev)
			}
			from[key] = name
			msgs[key] = msg
		}
	}
	return msgs, nil
}

// pluralForms are the selectors a plural message may use, in the order
// they are tried.
var pluralForms = []string{"=0", "one", "other"}

func loadLocales() (*locales, error) {
	tags := make([]language.Tag, len(languageCodes))
	for i, code := range languageCodes {
		tags[i] = language.MustParse(code)
	}
	b := catalog.NewBuilder(catalog.Fallback(tags[0]))
	ls := &locales{byCode: map[string]*locale{}, matcher: language.NewMatcher(tags)}
	for i, code := range languageCodes {
		msgs, err := readCatalog(code)
		if err != nil {
			return nil, err
		}
		for key, raw := range msgs {
			if err := setMessage(b, tags[i], key, raw); err != nil {
				return nil, fmt.Errorf("message catalog locales/%s.json: %s: %w", code, key, err)
			}
		}
		l := &locale{Code: code, tag: tags[i], printer: message.NewPrinter(tags[i], message.Catalog(b)), regions: display.Regions(tags[i])}
		for m := range l.months {
			l.months[m] = l.T("month." + strconv.Itoa(m+1))
		}
		ls.byCode[code] = l
	}
	return ls, nil
}

func setMessage(b *catalog.Builder, tag language.Tag, key string, raw json.RawMessage) error {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return b.SetString(tag, key, s)
	}
	var forms map[string]string
	if err := json.Unmarshal(raw, &forms); err != nil {
		return fmt.Errorf("a message is a string or an object of plural forms")
	}
	if forms["other"] == "" {
		return fmt.Errorf("plural forms need at least \"other\"")
	}
	var cases []any
	for _, f := range pluralForms {
		if m, ok := forms[f]; ok {
			cases = append(cases, f, m)
		}
	}
	for f := range forms {
		if !slices.Contains(pluralForms, f) {
			return fmt.Errorf("unknown plural form %q (use %s)", f, strings.Join(pluralForms, ", "))
		}
	}
	return b.Set(tag, key, plural.Selectf(1, "%d", cases...))
}

// get returns a supported language by code, or nil.
func (ls *locales) get(code string) *locale { return ls.byCode[code] }

// fallback is the default language.
func (ls *locales) fallback() *locale { return ls.byCode[languageCodes[0]] }

// negotiate picks the language an Accept-Language header prefers, else
// the default.
func (ls *locales) negotiate(acceptLanguage string) *locale {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return ls.fallback()
	}
	_, i, conf := ls.matcher.Match(tags...)
	if conf == language.No {
		return ls.fallback()
	}
	return ls.byCode[languageCodes[i]]
}

// T returns the message for key in this language, formatted with args.
func (l *locale) T(key string, args ...any) string {
	return l.printer.Sprintf(key, args...)
}

// Int writes a whole number with the language's grouping (1.234 / 1,234).
func (l *locale) Int(n int64) string {
	return l.printer.Sprint(number.Decimal(n))
}

// Number writes any whole number a template holds.
func (l *locale) Number(n any) (string, error) {
	switch v := n.(type) {
	case int:
		return l.Int(int64(v)), nil
	case int64:
		return l.Int(v), nil
	case float64:
		return l.Decimal(v, 1), nil
	}
	return "", fmt.Errorf("num: %T is not a number", n)
}

// Decimal writes a number with at most digits decimals.
func (l *locale) Decimal(v float64, digits int) string {
	return l.printer.Sprint(number.Decimal(v, number.MaxFractionDigits(digits)))
}

// Percent writes a ratio (0.256) as a percentage (26 %, 26%).
func (l *locale) Percent(ratio float64) string {
	return l.printer.Sprint(number.Percent(ratio, number.MaxFractionDigits(0)))
}

// currencySymbols are the symbols each language writes instead of a code
// (Spanish writes US$, since $ alone is also the peso); other currencies
// are written with their ISO code.
var currencySymbols = map[string]map[string]string{
	"es": {"EUR": "€", "USD": "US$", "GBP": "£"},
	"en": {"EUR": "€", "USD": "$", "GBP": "£"},
}

// Money writes an amount in minor units (cents) in its currency, placed as
// the language does (1.234,50 € / €1,234.50); whole amounts have no decimals.
func (l *locale) Money(minor int64, currency string) string {
	digits := 2
	if minor%100 == 0 {
		digits = 0
	}
	return l.money(float64(minor)/100, digits, currency)
}

// MoneyMajor writes an amount in major units (a goal of 150000 euros),
// rounded to whole units.
func (l *locale) MoneyMajor(v float64, currency string) string {
	return l.money(math.Round(v), 0, currency)
}

func (l *locale) money(v float64, digits int, currency string) string {
	amount := l.printer.Sprint(number.Decimal(v, number.MinFractionDigits(digits), number.MaxFractionDigits(digits)))
	if sym, ok := currencySymbols[l.Code][strings.ToUpper(currency)]; ok {
		return l.T("format.money_symbol", amount, sym)
	}
	return l.T("format.money_code", amount, strings.ToUpper(currency))
}

// Date writes a day (2 mar 2026 / Mar 2, 2026). Times are shown in UTC.
func (l *locale) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return l.T("format.date", strconv.Itoa(t.Day()), l.months[t.Month()-1], strconv.Itoa(t.Year()))
}

// DateTime writes a day and time (2 mar 2026, 14:05 / Mar 2, 2026, 2:05 PM).
func (l *locale) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.T("format.datetime", l.Date(t), t.UTC().Format(l.T("format.time_layout")))
}

// Ago writes how long before now t was (hace 3 días / 3 days ago).
func (l *locale) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return l.T("ago.now")
	case d < time.Hour:
		return l.T("ago.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return l.T("ago.hours", int(d/time.Hour))
	case d < 60*24*time.Hour:
		return l.T("ago.days", int(d/(24*time.Hour)))
	}
	return l.Date(t)
}

// Country names an ISO 3166-1 country in this language (ES -> España).
func (l *locale) Country(code string) string {
	if code == "" {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := l.regions.Name(r); name != "" {
		return name
	}
	return code
}

// Quarter names a calendar quarter (T2 2026 / Q2 2026).
func (l *locale) Quarter(t time.Time) string {
	return l.T("format.quarter", strconv.Itoa((int(t.Month())-1)/3+1), strconv.Itoa(t.Year()))
}
