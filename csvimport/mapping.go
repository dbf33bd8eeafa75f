package csvimport

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Targets a column can map to, besides the contact fields below.
const (
	// TargetIgnore drops a column.
	TargetIgnore = "ignore"
	// TargetProperty prefixes a custom property: "property:plan".
	TargetProperty = "property:"
)

// Contact fields a column can map to. owner takes a user's email;
// properties takes a JSON object merged into the contact's properties.
const (
	FieldEmail      = "email"
	FieldExternalID = "external_id"
	FieldFirstName  = "first_name"
	FieldLastName   = "last_name"
	FieldPhone      = "phone"
	FieldJobTitle   = "job_title"
	FieldAccountID  = "account_id"
	FieldCountry    = "country"
	FieldSource     = "source"
	FieldStage      = "stage"
	FieldOwner      = "owner"
	FieldConsent    = "consent"
	FieldProperties = "properties"
)

// Fields lists the contact fields a column can map to.
var Fields = []string{FieldEmail, FieldExternalID, FieldFirstName, FieldLastName, FieldPhone, FieldJobTitle, FieldAccountID,
	FieldCountry, FieldSource, FieldStage, FieldOwner, FieldConsent, FieldProperties}

// Column says where one CSV column goes.
type Column struct {
	Index int
	// Name is the header cell as written in the file.
	Name string
	// Target is a field from Fields, TargetIgnore, or TargetProperty+key.
	Target string
	// Why says how the target was chosen: empty for a recognised header,
	// else one of the Why* values.
	Why string
}

// How a column's target was chosen when it was not a recognised header.
const (
	WhyMapped   = "--map"
	WhyNoHeader = "no header"
	WhyReadOnly = "set by Alinea, cannot be imported"
	WhyUnmapped = "unmapped"
)

// Property returns the custom property key of a column mapped to one.
func (c Column) Property() (string, bool) {
	return strings.CutPrefix(c.Target, TargetProperty)
}

func (c Column) String() string {
	target := c.Target
	if key, ok := c.Property(); ok {
		target = "property " + key
	}
	if target == TargetIgnore {
		target = "ignored"
	}
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("(column %d, no header)", c.Index+1)
	}
	if c.Why != "" {
		return fmt.Sprintf("%s → %s (%s)", name, target, c.Why)
	}
	return fmt.Sprintf("%s → %s", name, target)
}

// headerAliases maps normalised header names (see normalizeHeader) in
// English and Spanish to targets.
var headerAliases = func() map[string]string {
	m := map[string]string{}
	add := func(target string, names ...string) {
		for _, n := range names {
			m[n] = target
		}
	}
	add(FieldEmail, "email", "e mail", "mail", "email address", "e mail address", "correo", "correo electronico",
		"direccion de correo", "direccion de correo electronico", "direccion de email", "email del contacto")
	add(FieldFirstName, "first name", "firstname", "given name", "forename", "nombre", "nombres", "nombre de pila")
	add(FieldLastName, "last name", "lastname", "surname", "family name", "apellido", "apellidos")
	add(FieldPhone, "phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "mobile number", "cell", "cell phone",
		"telefono", "numero de telefono", "movil", "telefono movil", "celular")
	add(FieldJobTitle, "job title", "jobtitle", "title", "position", "job position", "cargo", "puesto", "puesto de trabajo", "titulo")
	add(TargetProperty+"company", "company", "company name", "organization", "organisation", "account", "account name",
		"empresa", "nombre de la empresa", "compania", "organizacion", "cuenta")
	add(FieldCountry, "country", "country code", "pais", "codigo de pais", "codigo pais")
	add(FieldSource, "source", "lead source", "contact source", "fuente", "origen", "fuente del lead", "origen del lead", "origen del contacto")
	add(FieldStage, "stage", "lifecycle stage", "lifecycle", "etapa", "etapa del ciclo de vida", "fase")
	add(FieldOwner, "owner", "owner email", "contact owner", "propietario", "propietario del contacto", "responsable")
	add(FieldConsent, "consent", "marketing consent", "email consent", "opt in", "consentimiento", "consentimiento de marketing")
	add(FieldExternalID, "external id", "id externo")
	add(FieldAccountID, "account id")
	add(FieldProperties, "properties", "propiedades")
	// Columns of Alinea's own export that an import cannot set.
	add(TargetIgnore, "id", "mode", "stage changed at", "created at", "updated at")
	return m
}()

// normalizeHeader folds case, Spanish accents and punctuation so that
// "Correo electrónico", "correo_electronico" and "CORREO-ELECTRONICO" match.
func normalizeHeader(h string) string { return words(h, true) }

// propertyKey turns a header into a custom property key: lower case, words
// joined by underscores ("Fecha de alta" → "fecha_de_alta").
func propertyKey(h string) string {
	return strings.ReplaceAll(words(h, false), " ", "_")
}

// words lower-cases s and keeps its letters and digits, one space between
// runs; with fold, accented letters lose their accents.
func words(s string, fold bool) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if fold {
			r = foldAccent(r)
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

func foldAccent(r rune) rune {
	switch r {
	case 'á', 'à', 'ä', 'â':
		return 'a'
	case 'é', 'è', 'ë', 'ê':
		return 'e'
	case 'í', 'ì', 'ï', 'î':
		return 'i'
	case 'ó', 'ò', 'ö', 'ô':
		return 'o'
	case 'ú', 'ù', 'ü', 'û':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	}
	return r
}

// parseTarget checks a --map target.
func parseTarget(t string) (string, error) {
	t = strings.TrimSpace(t)
	if key, ok := strings.CutPrefix(t, TargetProperty); ok {
		key = strings.TrimSpace(key)
		if key == "" {
			return "", fmt.Errorf("property: needs a key, e.g. property:plan")
		}
		return TargetProperty + key, nil
	}
	lower := strings.ToLower(t)
	if lower == TargetIgnore || slices.Contains(Fields, lower) {
		return lower, nil
	}
	return "", fmt.Errorf("unknown field %q; use one of %s, property:NAME or ignore", t, strings.Join(Fields, ", "))
}

// mapColumns decides the target of every header cell (assignTargets) and
// checks that the result can be imported (checkTargets).
func mapColumns(header []string, overrides map[string]string, ignoreUnmapped bool) ([]Column, error) {
	cols, err := assignTargets(header, overrides, ignoreUnmapped)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

// assignTargets decides the target of every header cell: --map first, then
// the aliases, then a custom property named after the header (or nothing,
// with ignoreUnmapped).
func assignTargets(header []string, overrides map[string]string, ignoreUnmapped bool) ([]Column, error) {
	cols := make([]Column, len(header))
	for i, h := range header {
		cols[i] = Column{Index: i, Name: strings.TrimSpace(h)}
	}
	// --map names a column exactly or, failing that, case-insensitively.
	for name, target := range overrides {
		t, err := parseTarget(target)
		if err != nil {
			return nil, fmt.Errorf("--map %s=%s: %w", name, target, err)
		}
		want := strings.TrimSpace(name)
		idx := slices.IndexFunc(cols, func(c Column) bool { return c.Name == want })
		if idx < 0 {
			idx = slices.IndexFunc(cols, func(c Column) bool { return strings.EqualFold(c.Name, want) })
		}
		if idx < 0 {
			return nil, fmt.Errorf("--map %s=%s: the header has no column %q (it has %s)", name, target, want, quoteList(cols))
		}
		cols[idx].Target, cols[idx].Why = t, WhyMapped
	}
	for i := range cols {
		c := &cols[i]
		if c.Target != "" {
			continue
		}
		if c.Name == "" {
			c.Target, c.Why = TargetIgnore, WhyNoHeader
			continue
		}
		if t, ok := headerAliases[normalizeHeader(c.Name)]; ok {
			c.Target = t
			if t == TargetIgnore {
				c.Why = WhyReadOnly
			}
			continue
		}
		if key := propertyKey(c.Name); key != "" && !ignoreUnmapped {
			c.Target, c.Why = TargetProperty+key, WhyUnmapped
		} else {
			c.Target, c.Why = TargetIgnore, WhyUnmapped
		}
	}
	return cols, nil
}

// checkTargets refuses two columns for one target and a header without an
// email column.
func checkTargets(cols []Column) error {
	byTarget := map[string]int{}
	for i, c := range cols {
		if c.Target == TargetIgnore {
			continue
		}
		if j, dup := byTarget[c.Target]; dup {
			return fmt.Errorf("columns %q and %q both map to %s; drop one with --map %q=ignore or send it elsewhere with --map",
				cols[j].Name, c.Name, strings.TrimPrefix(c.Target, TargetProperty), c.Name)
		}
		byTarget[c.Target] = i
	}
	if _, ok := byTarget[FieldEmail]; !ok {
		return fmt.Errorf("no column maps to email, which the import matches contacts by (columns: %s); name it with --map COLUMN=email", quoteList(cols))
	}
	return nil
}

func quoteList(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	return strings.Join(names, ", ")
}
