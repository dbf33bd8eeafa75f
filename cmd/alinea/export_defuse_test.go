package main

import "testing"

func TestDefuseFormula(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Lucía", "Lucía"},
		{"", ""},
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+34 600 12 34 56", "+34 600 12 34 56"},
		{"+1 (555) 010-2000", "+1 (555) 010-2000"},
		{"-5", "-5"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"\tleading tab", "'\tleading tab"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := defuseFormula(tt.in); got != tt.want {
			t.Errorf("defuseFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
