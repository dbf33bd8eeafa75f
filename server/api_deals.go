package server

import (
	"fmt"
	"net/http"

	"github.com/alinea-crm/alinea"
)

func (s *Server) listPipelineStages(w http.ResponseWriter, r *http.Request) error {
	stages, err := s.store.PipelineStages(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(stages))
	return nil
}

func (s *Server) listDeals(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "status", "stage_id", "owner", "account", "contact", "limit", "cursor")
	f := alinea.DealFilter{
		Status:    alinea.DealStatus(q.str("status", 10)),
		StageID:   q.id("stage_id"),
		OwnerID:   q.id("owner"),
		AccountID: q.id("account"),
		ContactID: q.id("contact"),
		Limit:     q.limit(1000),
		After:     q.cursor(),
	}
	switch f.Status {
	case "", alinea.DealOpen, alinea.DealWon, alinea.DealLost:
	default:
		q.fe.Add("status", fmt.Sprintf("must be open, won or lost; got %q", f.Status))
	}
	if err := q.err(); err != nil {
		return err
	}
	deals, next, err := s.store.Deals(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(deals, next))
	return nil
}

func (s *Server) createDeal(w http.ResponseWriter, r *http.Request) error {
	var f alinea.DealFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	d, err := s.store.CreateDeal(r.Context(), f, actorFrom(r.Context()))
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/deals/%d", d.ID))
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) getDeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.store.Deal(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) updateDeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var f alinea.DealFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	d, err := s.store.UpdateDeal(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) deleteDeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeal(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stageMoveRequest is the body of POST /deals/{id}/stage.
type stageMoveRequest struct {
	StageID int64  `json:"stage_id"`
	Reason  string `json:"reason"`
}

func (s *Server) moveDeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req stageMoveRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	d, err := s.store.MoveDeal(r.Context(), id, alinea.DealMove{StageID: req.StageID, Reason: req.Reason, Actor: actorFrom(r.Context())})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) dealHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, err := s.store.DealHistory(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(h))
	return nil
}
