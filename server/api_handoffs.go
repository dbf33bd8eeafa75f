package server

import (
	"fmt"
	"net/http"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// The handoff from marketing to sales: the MQL inbox, accept/reject, reps'
// routing settings and the SLA compliance report.

func (s *Server) listHandoffs(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "status", "owner", "queue", "contact", "limit", "cursor")
	f := alinea.HandoffFilter{
		Status:    alinea.HandoffStatus(q.str("status", 10)),
		Queue:     q.str("queue", 64),
		ContactID: q.id("contact"),
		Limit:     q.limit(200),
		Cursor:    q.cursor(),
	}
	if q.values.Get("owner") == "me" {
		f.OwnerID = userFrom(r.Context()).ID
	} else {
		f.OwnerID = q.id("owner")
	}
	switch f.Status {
	case "", alinea.HandoffOpen, alinea.HandoffAccepted, alinea.HandoffRejected, alinea.HandoffClosed:
	default:
		q.fe.Add("status", fmt.Sprintf("must be open, accepted, rejected or closed; got %q", f.Status))
	}
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := s.store.Handoffs(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, next))
	return nil
}

func (s *Server) getHandoff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, err := s.store.Handoff(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) acceptHandoff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, err := s.store.AcceptHandoff(r.Context(), id, userFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) rejectHandoff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var d alinea.HandoffDecision
	if err := decodeJSON(w, r, &d, maxAPIBody); err != nil {
		return err
	}
	h, err := s.store.RejectHandoff(r.Context(), id, userFrom(r.Context()), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) listReps(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	reps, err := s.store.Reps(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(reps))
	return nil
}

// repSettingsRequest changes a rep's routing settings.
type repSettingsRequest struct {
	Capacity  int   `json:"capacity"`
	ManagerID int64 `json:"manager_id"`
}

func (s *Server) updateRep(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req repSettingsRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	if err := s.store.SetRepSettings(r.Context(), id, store.RepSettings{Capacity: req.Capacity, ManagerID: req.ManagerID}); err != nil {
		return err
	}
	return s.writeRep(w, r, id)
}

func (s *Server) writeRep(w http.ResponseWriter, r *http.Request, id int64) error {
	reps, err := s.store.Reps(r.Context())
	if err != nil {
		return err
	}
	for _, rep := range reps {
		if rep.UserID == id {
			writeJSON(w, http.StatusOK, rep)
			return nil
		}
	}
	return alinea.Errorf(alinea.ENOTFOUND, "user %d is not an active sales rep or manager", id)
}

// absenceRequest records days out of office.
type absenceRequest struct {
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
	Note     string `json:"note"`
}

func (s *Server) createAbsence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req absenceRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	u := userFrom(r.Context())
	if u.ID != id && u.Role != alinea.RoleManager && u.Role != alinea.RoleAdmin {
		return alinea.Errorf(alinea.EFORBIDDEN, "only managers and admins record other people's absences")
	}
	a, err := s.store.AddAbsence(r.Context(), alinea.Absence{UserID: id, StartsOn: req.StartsOn, EndsOn: req.EndsOn, Note: req.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) deleteAbsence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	if u.Role != alinea.RoleManager && u.Role != alinea.RoleAdmin {
		a, err := s.store.AbsenceByID(r.Context(), id)
		if err != nil {
			return err
		}
		if a.UserID != u.ID {
			return alinea.Errorf(alinea.EFORBIDDEN, "only managers and admins delete other people's absences")
		}
	}
	if err := s.store.DeleteAbsence(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) slaReport(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	rep, err := s.store.SLAReport(r.Context(), r.PathValue("period"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
