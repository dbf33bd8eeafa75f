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

// TimelineQuery pages through a timeline newest first. With only Before,
// items strictly older than it are returned. With AfterKind and AfterID as
// well, (Before, AfterKind, AfterID) is the last item of the previous page
// and the page continues right after it, so items sharing its millisecond
// are neither skipped nor repeated.
type TimelineQuery struct {
	ContactID int64
	Before    time.Time
	AfterKind string
	AfterID   int64
	Limit     int
}

// TimelineKindOrder orders items of the same instant: notes first, then
// deals, transitions and events.
var TimelineKindOrder = map[string]int{"note": 0, "deal": 1, "transition": 2, "event": 3}
