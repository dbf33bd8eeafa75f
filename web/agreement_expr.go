package web

import (
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"

	"github.com/alinea-crm/alinea"
)

// exprView is a rule's expression in words, for people who do not read
// code: all of / any of a list of parts, a sentence, or (for what has no
// wording) the expression itself.
type exprView struct {
	Kind  string // all, any, text or code
	Text  string
	Parts []exprView
}

// historyFunctions are the agreement's functions of a contact's history.
// The parser must know them: count and last are also expr builtins, with
// other arguments.
var historyFunctions = []string{"did", "count", "last", "days_since", "within"}

// readableExpr words an expression in the reader's language. Parts it has
// no words for are shown as code, so nothing is ever left out.
func readableExpr(l *locale, src string) exprView {
	c := conf.CreateNew()
	stub := func(...any) (any, error) { return nil, nil }
	for _, name := range historyFunctions {
		expr.Function(name, stub)(c)
	}
	tree, err := parser.ParseWithConfig(src, c)
	if err != nil {
		return exprView{Kind: "code", Text: src}
	}
	return exprDescribe(l, tree.Node)
}

func exprDescribe(l *locale, n ast.Node) exprView {
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			return exprJoined(l, "all", x)
		case "||", "or":
			return exprJoined(l, "any", x)
		}
		if s, ok := exprComparison(l, x); ok {
			return exprView{Kind: "text", Text: s}
		}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			if call, ok := x.Node.(*ast.CallNode); ok && exprCallee(call) == "did" {
				if s, ok := exprDid(l, call, true); ok {
					return exprView{Kind: "text", Text: s}
				}
			}
			if inner := exprDescribe(l, x.Node); inner.Kind == "text" {
				return exprView{Kind: "text", Text: l.T("agreement.expr_not", inner.Text)}
			}
		}
	case *ast.CallNode:
		if exprCallee(x) == "did" {
			if s, ok := exprDid(l, x, false); ok {
				return exprView{Kind: "text", Text: s}
			}
		}
	case *ast.BoolNode:
		if x.Value {
			return exprView{Kind: "text", Text: l.T("agreement.expr_always")}
		}
		return exprView{Kind: "text", Text: l.T("agreement.expr_never")}
	}
	return exprView{Kind: "code", Text: n.String()}
}

// exprJoined flattens a chain of && (or ||) into one list.
func exprJoined(l *locale, kind string, n *ast.BinaryNode) exprView {
	same := func(op string) bool {
		if kind == "all" {
			return op == "&&" || op == "and"
		}
		return op == "||" || op == "or"
	}
	out := exprView{Kind: kind}
	var collect func(ast.Node)
	collect = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && same(b.Operator) {
			collect(b.Left)
			collect(b.Right)
			return
		}
		out.Parts = append(out.Parts, exprDescribe(l, n))
	}
	collect(n)
	return out
}

func exprCallee(c *ast.CallNode) string {
	if id, ok := c.Callee.(*ast.IdentifierNode); ok {
		return id.Value
	}
	return ""
}

// exprDid words did("Event") and did("Event", within("30d")), or their
// negation.
func exprDid(l *locale, c *ast.CallNode, negated bool) (string, bool) {
	if len(c.Arguments) == 0 || len(c.Arguments) > 2 {
		return "", false
	}
	ev, ok := c.Arguments[0].(*ast.StringNode)
	if !ok {
		return "", false
	}
	if len(c.Arguments) == 1 {
		if negated {
			return l.T("agreement.expr_did_not", ev.Value), true
		}
		return l.T("agreement.expr_did", ev.Value), true
	}
	w, ok := exprWindow(l, c.Arguments[1])
	if !ok {
		return "", false
	}
	if negated {
		return l.T("agreement.expr_did_not_within", ev.Value, w), true
	}
	return l.T("agreement.expr_did_within", ev.Value, w), true
}

// exprWindow words within("30d"), within("12h"), within("2w") or within(7).
func exprWindow(l *locale, n ast.Node) (string, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok || exprCallee(c) != "within" || len(c.Arguments) != 1 {
		return "", false
	}
	switch a := c.Arguments[0].(type) {
	case *ast.IntegerNode:
		return l.T("agreement.window_days", a.Value), true
	case *ast.StringNode:
		s := strings.TrimSpace(a.Value)
		if len(s) < 2 {
			return "", false
		}
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 {
			return "", false
		}
		switch s[len(s)-1] {
		case 'h':
			return l.T("agreement.window_hours", n), true
		case 'd':
			return l.T("agreement.window_days", n), true
		case 'w':
			return l.T("agreement.window_weeks", n), true
		}
	}
	return "", false
}

// exprComparison words a comparison of a contact's fact, score or history with
// a value.
func exprComparison(l *locale, b *ast.BinaryNode) (string, bool) {
	left, kind, ok := exprTerm(l, b.Left)
	if !ok {
		return "", false
	}
	if s, isStr := b.Right.(*ast.StringNode); isStr && s.Value == "" {
		switch b.Operator {
		case "==":
			return l.T("agreement.expr_empty", left), true
		case "!=":
			return l.T("agreement.expr_not_empty", left), true
		}
	}
	right, ok := exprValue(l, b.Right, kind)
	if !ok {
		return "", false
	}
	switch b.Operator {
	case "==":
		return l.T("agreement.expr_eq", left, right), true
	case "!=":
		return l.T("agreement.expr_ne", left, right), true
	case ">=":
		return l.T("agreement.expr_ge", left, right), true
	case ">":
		return l.T("agreement.expr_gt", left, right), true
	case "<=":
		return l.T("agreement.expr_le", left, right), true
	case "<":
		return l.T("agreement.expr_lt", left, right), true
	case "in":
		return l.T("agreement.expr_in", left, right), true
	case "matches":
		return l.T("agreement.expr_matches", left, right), true
	case "contains":
		return l.T("agreement.expr_contains", left, right), true
	case "startsWith":
		return l.T("agreement.expr_starts_with", left, right), true
	case "endsWith":
		return l.T("agreement.expr_ends_with", left, right), true
	}
	return "", false
}

// exprTerm words what a rule reads: a fact of the contact or its company, a
// score, or a count from its history. kind says how to show values
// compared with it (country codes and stages by name).
func exprTerm(l *locale, n ast.Node) (text, kind string, ok bool) {
	switch x := n.(type) {
	case *ast.MemberNode:
		prop, isStr := x.Property.(*ast.StringNode)
		if !isStr {
			return "", "", false
		}
		if id, isID := x.Node.(*ast.IdentifierNode); isID {
			return exprFact(l, id.Value, prop.Value)
		}
		if inner, isMember := x.Node.(*ast.MemberNode); isMember {
			id, isID := inner.Node.(*ast.IdentifierNode)
			if p, isStr := inner.Property.(*ast.StringNode); isID && isStr && p.Value == "properties" {
				switch id.Value {
				case "contact":
					return l.T("agreement.expr_contact_property", prop.Value), "", true
				case "account":
					return l.T("agreement.expr_account_property", prop.Value), "", true
				}
			}
		}
	case *ast.IdentifierNode:
		switch x.Value {
		case "fit":
			return l.T("agreement.expr_fit"), "", true
		case "engagement":
			return l.T("agreement.expr_engagement"), "", true
		}
	case *ast.CallNode:
		if len(x.Arguments) == 0 {
			return "", "", false
		}
		ev, isStr := x.Arguments[0].(*ast.StringNode)
		if !isStr {
			return "", "", false
		}
		switch exprCallee(x) {
		case "count":
			if len(x.Arguments) == 1 {
				return l.T("agreement.expr_count", ev.Value), "", true
			}
			if w, ok := exprWindow(l, x.Arguments[1]); ok && len(x.Arguments) == 2 {
				return l.T("agreement.expr_count_within", ev.Value, w), "", true
			}
		case "days_since":
			if len(x.Arguments) == 1 {
				return l.T("agreement.expr_days_since", ev.Value), "", true
			}
		}
	}
	return "", "", false
}

// exprFact names contact.<field> and account.<field>.
func exprFact(l *locale, object, field string) (string, string, bool) {
	switch object + "." + field {
	case "contact.email":
		return l.T("agreement.expr_contact_email"), "", true
	case "contact.first_name":
		return l.T("agreement.expr_contact_first_name"), "", true
	case "contact.last_name":
		return l.T("agreement.expr_contact_last_name"), "", true
	case "contact.job_title":
		return l.T("agreement.expr_contact_job_title"), "", true
	case "contact.phone":
		return l.T("agreement.expr_contact_phone"), "", true
	case "contact.country":
		return l.T("agreement.expr_contact_country"), "country", true
	case "contact.source":
		return l.T("agreement.expr_contact_source"), "", true
	case "contact.stage":
		return l.T("agreement.expr_contact_stage"), "stage", true
	case "contact.consent":
		return l.T("agreement.expr_contact_consent"), "", true
	case "account.name":
		return l.T("agreement.expr_account_name"), "", true
	case "account.domain":
		return l.T("agreement.expr_account_domain"), "", true
	case "account.industry":
		return l.T("agreement.expr_account_industry"), "", true
	case "account.employees":
		return l.T("agreement.expr_account_employees"), "", true
	case "account.country":
		return l.T("agreement.expr_account_country"), "country", true
	}
	return "", "", false
}

// exprValue words a literal: quoted text, a number, a list; countries and
// stages by their names.
func exprValue(l *locale, n ast.Node, kind string) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		switch kind {
		case "country":
			if name := l.Country(x.Value); name != x.Value {
				return name, true
			}
		case "stage":
			if st := alinea.Stage(x.Value); st.Valid() {
				return stageName(l, st), true
			}
		}
		return l.T("agreement.expr_quote", x.Value), true
	case *ast.IntegerNode:
		return l.Int(int64(x.Value)), true
	case *ast.FloatNode:
		return l.Decimal(x.Value, 2), true
	case *ast.ArrayNode:
		parts := make([]string, 0, len(x.Nodes))
		for _, item := range x.Nodes {
			s, ok := exprValue(l, item, kind)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", "), true
	}
	s, _, ok := exprTerm(l, n)
	return s, ok
}
