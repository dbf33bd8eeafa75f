package alinea

import (
	"encoding/json"
	"time"
)

// Event is something a contact did or that happened to them. Events arrive
// through the Segment-compatible ingestion API.
type Event struct {
	ID          int64           `json:"id"`
	MessageID   string          `json:"message_id"`
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	ContactID   int64           `json:"contact_id,omitempty"`
	AnonymousID string          `json:"anonymous_id,omitempty"`
	UserID      string          `json:"user_id,omitempty"`
	Properties  json.RawMessage `json:"properties"`
	Context     json.RawMessage `json:"context"`
	UTM         UTM             `json:"utm"`
	OccurredAt  time.Time       `json:"occurred_at"`
	ReceivedAt  time.Time       `json:"received_at"`
}

// UTM holds the campaign parameters of an event (context.campaign in Segment).
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}

// Message is one validated Segment call (identify, track, page, screen, group,
// alias) ready to be stored.
type Message struct {
	Type        string
	MessageID   string
	UserID      string
	AnonymousID string
	Event       string // track: the event name; page/screen: the page name
	GroupID     string
	PreviousID  string
	Properties  json.RawMessage
	Traits      json.RawMessage
	Context     json.RawMessage
	UTM         UTM
	Timestamp   time.Time
	ReceivedAt  time.Time
}

// ActivityKey is the event type a contact's activity summary counts: the
// event name for track calls, else the call type ("page", "identify"...).
func (m *Message) ActivityKey() string {
	if m.Type == "track" && m.Event != "" {
		return m.Event
	}
	return m.Type
}

// EventFilter selects events; Before is the id cursor (newest first).
type EventFilter struct {
	ContactID int64
	Type      string
	Name      string
	Since     time.Time
	Before    int64
	Limit     int
}

// Activity is a contact's summary for one event type, kept up to date on
// ingest so that rules cost O(rules), not O(history).
type Activity struct {
	EventType string    `json:"event_type"`
	Count     int64     `json:"count"`
	FirstAt   time.Time `json:"first_at"`
	LastAt    time.Time `json:"last_at"`
}

// IngestResult reports what a batch did.
type IngestResult struct {
	Stored     int
	Duplicates int
}
