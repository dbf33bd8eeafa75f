package alinea

import (
	"encoding/json"
	"time"
)

// Notification types: what webhooks subscribe to and what emails tell.
const (
	NotifyLeadAssigned = "lead.assigned"
	NotifySLABreached  = "sla.breached"
	NotifySLAEscalated = "sla.escalated"
)

// NotificationTypes lists every type a webhook may subscribe to.
var NotificationTypes = []string{NotifyLeadAssigned, NotifySLABreached, NotifySLAEscalated}

// Notification is something people or other systems are told about: a
// lead assigned to a rep, an SLA breached, a breach escalated to a manager.
// It becomes one delivery per email recipient and per matching webhook.
type Notification struct {
	// Type is one of NotificationTypes.
	Type string
	// Key names this occurrence (e.g. "sla.breached:clock:42"). A key is
	// delivered at most once per recipient however many instances detect
	// the occurrence: it is the exactly-once guarantee's anchor.
	Key string
	// Data is the JSON object sent as the webhook body's "data" and given
	// to the email templates.
	Data json.RawMessage
	// UserIDs are the users emailed, each in their own language.
	UserIDs    []int64
	OccurredAt time.Time
}
