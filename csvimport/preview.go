package csvimport

import (
	"encoding/csv"
	"errors"
	"io"
)

// Preview is the start of a file as an import reads it: its delimiter, its
// columns as mapped without Options.Map, and its first data rows. It is
// what a person sees before choosing the mapping by hand.
type Preview struct {
	Delimiter rune
	Columns   []Column
	Rows      [][]string
	// Problem says why the automatic mapping cannot be imported as it is (no
	// column maps to email, two columns map to one field); mapping the
	// columns by hand solves it. Nil when New would accept the header.
	Problem error
}

// ReadPreview reads the header and up to rows data rows (blank ones skipped). It
// fails only when the file has no readable header; a row that cannot be
// read ends the preview (the import reports it with its row number).
func ReadPreview(r io.Reader, rows int) (Preview, error) {
	cr, delim, header, err := openCSV(r)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Delimiter: delim}
	if p.Columns, err = assignTargets(header, nil, false); err != nil {
		return Preview{}, err
	}
	p.Problem = checkTargets(p.Columns)
	for len(p.Rows) < rows {
		rec, err := cr.Read()
		var pe *csv.ParseError
		if errors.Is(err, io.EOF) || errors.As(err, &pe) {
			break
		}
		if err != nil {
			return p, err
		}
		if !blank(rec) {
			p.Rows = append(p.Rows, rec)
		}
	}
	return p, nil
}
