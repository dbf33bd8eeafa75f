package alinea

import (
	"encoding/json"
	"time"
)

// Note is a free-text comment any user leaves on a contact.
type Note struct {
	ID        int64     `json:"id"`
	ContactID int64     `json:"contact_id"`
	AuthorID  int64     `json:"author_id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// TimelineItem is one entry of a contact's unified timeline.
type TimelineItem struct {
	Kind string          `json:"kind"` // event, transition, note, deal
	At   time.Time       `json:"at"`
	ID   int64           `json:"id"`
	Data json.RawMessage `json:"data"`
}

// TimelineQuery pages through a timeline newest first; Before is exclusive.
type TimelineQuery struct {
	ContactID int64
	Before    time.Time
	Limit     int
}
