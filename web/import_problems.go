package web

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
)

// newImportProblem shows one bad row in the reader's language. csvimport
// and the store describe problems in English sentences of a few fixed
// shapes (csvimport.go, values.go, alinea.ContactFields.Validate); those
// are told in the catalog's words, with the offending value, and anything
// else as written, marked as English.
func newImportProblem(l *locale, row int, column, msg string) importProblem {
	p := importProblem{Row: row, Column: column}
	if column == "" {
		// Without a column to name, the message starts with the field.
		if field, rest, ok := strings.Cut(msg, " "); ok {
			if field == "owner_id" {
				field = csvimport.FieldOwner
			}
			if text, ok := importProblemText(l, rest); ok && slices.Contains(csvimport.Fields, field) {
				p.Column, p.Text = importFieldName(l, field), text
				return p
			}
		}
	}
	if text, ok := importProblemText(l, msg); ok {
		p.Text = text
	} else {
		p.Text, p.Raw = msg, l.Code != "en"
	}
	return p
}

var (
	importProblemFieldCount = regexp.MustCompile(`^has (\d+) fields but the header has (\d+)`)
	importProblemLine       = regexp.MustCompile(`line (\d+)`)
	importProblemDuplicate  = regexp.MustCompile(`^(\S+) is also on row (\d+);`)
	importProblemOwner      = regexp.MustCompile(`^owner (\S+) is not an Alinea user`)
	importProblemTooLong    = regexp.MustCompile(`^is longer than (\d+) characters`)
	importProblemStart      = regexp.MustCompile(`^a new contact cannot start as (\w+)`)
)

// importProblemText tells a known problem in the catalog's words.
func importProblemText(l *locale, msg string) (string, bool) {
	switch {
	case strings.HasPrefix(msg, "consent must be yes or no"):
		return l.T("import.problem.consent", importGotValue(msg)), true
	case strings.HasPrefix(msg, "account_id must be a positive whole number"):
		return l.T("import.problem.account_id", importGotValue(msg)), true
	case strings.HasPrefix(msg, "owner is not a valid email address"):
		return l.T("import.problem.owner_invalid", importQuoted(msg, "address: ")), true
	case importProblemOwner.MatchString(msg):
		return l.T("import.problem.owner_unknown", importProblemOwner.FindStringSubmatch(msg)[1]), true
	case strings.HasPrefix(msg, "properties must be a JSON object"), msg == "must be a JSON object":
		return l.T("import.problem.properties"), true
	case importProblemFieldCount.MatchString(msg):
		m := importProblemFieldCount.FindStringSubmatch(msg)
		return l.T("import.problem.field_count", importAtoi(m[1]), importAtoi(m[2])), true
	case strings.HasPrefix(msg, "cannot be read: "):
		lines := importProblemLine.FindAllStringSubmatch(msg, -1)
		if len(lines) == 0 {
			return "", false
		}
		return l.T("import.problem.unreadable", importAtoi(lines[len(lines)-1][1])), true
	case importProblemDuplicate.MatchString(msg):
		m := importProblemDuplicate.FindStringSubmatch(msg)
		return l.T("import.problem.duplicate", m[1], importAtoi(m[2])), true
	case strings.HasPrefix(msg, "is required"):
		return l.T("import.problem.required"), true
	case strings.HasPrefix(msg, "is not a valid email address"):
		return l.T("import.problem.email", importQuoted(msg, "address: ")), true
	case importProblemTooLong.MatchString(msg):
		return l.T("import.problem.too_long", importAtoi(importProblemTooLong.FindStringSubmatch(msg)[1])), true
	case strings.HasPrefix(msg, "is not valid UTF-8"):
		return l.T("import.problem.utf8"), true
	case strings.HasPrefix(msg, "may only contain digits"):
		return l.T("import.problem.phone", importGotValue(msg)), true
	case strings.HasPrefix(msg, "must be an ISO 3166-1 alpha-2 code"):
		return l.T("import.problem.country", importGotValue(msg)), true
	case strings.HasPrefix(msg, "must be one of subscriber"):
		return l.T("import.problem.stage", importGotValue(msg)), true
	case importProblemStart.MatchString(msg):
		return l.T("import.problem.stage_start", stageName(l, alinea.Stage(importProblemStart.FindStringSubmatch(msg)[1]))), true
	}
	return "", false
}

// importGotValue is the value a message quotes after "got ".
func importGotValue(msg string) string {
	i := strings.LastIndex(msg, "got ")
	if i < 0 {
		return ""
	}
	return importQuoted(msg[i:], "got ")
}

// importQuoted unquotes the Go- or JSON-quoted string that follows marker.
func importQuoted(msg, marker string) string {
	_, rest, ok := strings.Cut(msg, marker)
	if !ok {
		return ""
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return strings.Trim(rest, `"`)
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		return strings.Trim(q, `"`)
	}
	return v
}

func importAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
