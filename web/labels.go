package web

import (
	"slices"

	"github.com/alinea-crm/alinea/agreement"
)

// knownReasons are reason codes the catalog names (reason.<code>): the
// agreement example's rejection reasons and the usual reasons to disqualify
// a contact or lose a deal. Other reasons are shown as written.
var knownReasons = []string{
	"no_budget", "bad_fit", "not_ready", "no_response", "duplicate",
	"competitor", "student", "invalid_contact",
	"price", "timing", "no_decision",
}

// knownPipelineStages are the default deal stages the catalog names
// (pipeline.<name>); stages a company adds are shown as named.
var knownPipelineStages = []string{"discovery", "qualification", "proposal", "negotiation", "won", "lost"}

// reasonLabel shows a reason in the reader's language: the active
// agreement's label for a rejection code, else the catalog's, else the
// reason as a person wrote it.
func reasonLabel(l *locale, reasons []agreement.RejectionReason, reason string) string {
	for _, r := range reasons {
		if r.Code != reason {
			continue
		}
		if l.Code == "en" && r.LabelEN != "" {
			return r.LabelEN
		}
		if r.LabelES != "" {
			return r.LabelES
		}
	}
	if slices.Contains(knownReasons, reason) {
		return l.T("reason." + reason)
	}
	return reason
}

// pipelineStageName shows a deal stage in the reader's language.
func pipelineStageName(l *locale, name string) string {
	if slices.Contains(knownPipelineStages, name) {
		return l.T("pipeline." + name)
	}
	return name
}
