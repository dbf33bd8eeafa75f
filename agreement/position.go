package agreement

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Locate fills in where each problem is in the YAML or JSON text it was
// found in. Problems of text that does not parse keep what the parser said.
func Locate(src []byte, ps []Problem) []Problem {
	var root yaml.Node
	parsed := yaml.Unmarshal(src, &root) == nil
	for i := range ps {
		switch {
		case ps[i].Path == "":
			// A parse error: its line is already the document's.
			ps[i].SourceLine = ps[i].Line
		case parsed:
			ps[i].SourceLine, ps[i].SourceColumn = SourcePosition(&root, ps[i])
		}
	}
	return ps
}

// SourcePosition finds the node a problem's path ("scoring.fit[2].when") names
// in the parsed YAML source and returns its line and column, moved to the error's
// position for an expression error; 0 when unknown. Escapes inside a quoted
// expression can shift the column a little.
func SourcePosition(root *yaml.Node, p Problem) (line, col int) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if p.Path == "" || n.Kind != yaml.MappingNode {
		return 0, 0
	}
	for _, seg := range strings.Split(p.Path, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		n = mappingValue(n, key)
		for n != nil && rest != "" {
			idx, tail, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return 0, 0
			}
			n, rest = n.Content[i], strings.TrimPrefix(tail, "[")
		}
		if n == nil {
			return 0, 0
		}
	}
	if p.Line == 0 || n.Kind != yaml.ScalarNode {
		return n.Line, n.Column
	}
	switch {
	case n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle:
		// The text starts on the line after the | or >; its indentation is
		// not kept, so only the line is known.
		return n.Line + p.Line, 0
	case p.Line > 1 || strings.Contains(n.Value, "\n"):
		return n.Line, 0
	case n.Style == yaml.SingleQuotedStyle || n.Style == yaml.DoubleQuotedStyle:
		return n.Line, n.Column + p.Column // after the opening quote
	}
	return n.Line, n.Column + p.Column - 1
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
