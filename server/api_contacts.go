package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "email", "stage", "owner", "account", "updated_since", "q", "limit", "cursor")
	f := alinea.ContactFilter{
		Email:        q.str("email", 320),
		OwnerID:      q.id("owner"),
		AccountID:    q.id("account"),
		UpdatedSince: q.time("updated_since"),
		Search:       q.str("q", 200),
		Limit:        q.limit(1000),
		After:        q.cursor(),
	}
	if v := q.values.Get("stage"); v != "" {
		st, err := alinea.ParseStage(v)
		if err != nil {
			q.fe.Add("stage", alinea.ErrorFields(err)["stage"])
		}
		f.Stage = st
	}
	if err := q.err(); err != nil {
		return err
	}
	contacts, next, err := s.store.Contacts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(contacts, next))
	return nil
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request) error {
	var f alinea.ContactFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	actor := actorFrom(r.Context())
	// Creating a contact in a stage is a first transition: the same ownership
	// rule applies as for moving one there.
	if f.Stage != nil && f.Stage.Valid() && !alinea.CanMoveTo(actor.Role, *f.Stage) {
		return alinea.Errorf(alinea.EFORBIDDEN, "role %s may not put contacts in stage %s", actor.Role, *f.Stage)
	}
	c, err := s.store.CreateContact(r.Context(), f, actor)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/contacts/%d", c.ID))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var f alinea.ContactFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	c, err := s.store.UpdateContact(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// transitionRequest is the body of POST /contacts/{id}/transitions.
type transitionRequest struct {
	To     alinea.Stage    `json:"to"`
	Reason string          `json:"reason"`
	Why    json.RawMessage `json:"why"`
}

func (s *Server) createTransition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req transitionRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	fe := alinea.FieldErrors{}
	if req.To == "" {
		fe.Add("to", "is required")
	} else if !req.To.Valid() {
		_, err := alinea.ParseStage(string(req.To))
		fe.Add("to", alinea.ErrorFields(err)["stage"])
	}
	if len(req.Why) > 0 && string(req.Why) != "null" {
		var m map[string]any
		if json.Unmarshal(req.Why, &m) != nil || m == nil {
			fe.Add("why", "must be a JSON object")
		}
	} else {
		req.Why = nil
	}
	if len(req.Reason) > 1000 {
		fe.Add("reason", "is longer than 1000 characters")
	}
	if err := fe.Err("invalid transition"); err != nil {
		return err
	}
	t, err := s.store.Transition(r.Context(), id, alinea.TransitionRequest{To: req.To, Reason: req.Reason, Why: req.Why, Actor: actorFrom(r.Context())})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) listTransitions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.store.Contact(r.Context(), id); err != nil {
		return err
	}
	ts, err := s.store.Transitions(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ts))
	return nil
}

// timelinePage is a page of a contact's timeline, newest first; NextBefore
// is passed back as ?before= for older items and is null on the last page.
// timelinePage pages newest first. next_cursor continues exactly after the
// last item; next_before (the last item's time) is kept for older clients
// but skips items that share that millisecond.
type timelinePage struct {
	Data       []alinea.TimelineItem `json:"data"`
	NextCursor *string               `json:"next_cursor"`
	NextBefore *string               `json:"next_before"`
}

func encodeTimelineCursor(it alinea.TimelineItem) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("t:%d:%s:%d", it.At.UnixMilli(), it.Kind, it.ID)))
}

func decodeTimelineCursor(c string) (at time.Time, kind string, id int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "t" {
		return
	}
	msec, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[3], 10, 64)
	if _, known := alinea.TimelineKindOrder[parts[2]]; err1 != nil || err2 != nil || !known {
		return
	}
	return time.UnixMilli(msec).UTC(), parts[2], id, true
}

func (s *Server) contactTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q := newQuery(r, "before", "cursor", "limit")
	tq := alinea.TimelineQuery{ContactID: id, Before: q.time("before"), Limit: q.limit(500)}
	if c := q.str("cursor", 200); c != "" {
		at, kind, after, ok := decodeTimelineCursor(c)
		if !ok {
			q.fe.Add("cursor", "is not a cursor this API returned")
		}
		tq.Before, tq.AfterKind, tq.AfterID = at, kind, after
	}
	if err := q.err(); err != nil {
		return err
	}
	limit := tq.Limit
	if limit == 0 {
		limit = 50
	}
	tl, err := s.store.Timeline(r.Context(), tq)
	if err != nil {
		return err
	}
	page := timelinePage{Data: tl}
	if page.Data == nil {
		page.Data = []alinea.TimelineItem{}
	}
	if len(tl) == limit {
		last := tl[len(tl)-1]
		before, cursor := last.At.Format(time.RFC3339Nano), encodeTimelineCursor(last)
		page.NextBefore, page.NextCursor = &before, &cursor
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

type noteRequest struct {
	Body string `json:"body"`
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req noteRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	n, err := s.store.AddNote(r.Context(), id, userFrom(r.Context()).ID, req.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, n)
	return nil
}

func (s *Server) contactActivity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.store.Contact(r.Context(), id); err != nil {
		return err
	}
	a, err := s.store.Activity(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(a))
	return nil
}
