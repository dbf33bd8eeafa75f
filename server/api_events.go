package server

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/alinea-crm/alinea"
)

// eventTypes are the Segment call types events are stored under.
var eventTypes = []string{"identify", "track", "page", "screen", "group", "alias"}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "contact", "type", "name", "since", "limit", "cursor")
	f := alinea.EventFilter{
		ContactID: q.id("contact"),
		Type:      q.str("type", 20),
		Name:      q.str("name", 200),
		Since:     q.time("since"),
		Limit:     q.limit(1000),
		Before:    q.cursor(),
	}
	if f.Type != "" && !slices.Contains(eventTypes, f.Type) {
		q.fe.Add("type", fmt.Sprintf("must be one of identify, track, page, screen, group, alias; got %q", f.Type))
	}
	if err := q.err(); err != nil {
		return err
	}
	events, next, err := s.store.Events(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(events, next))
	return nil
}
