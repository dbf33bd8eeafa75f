package server

import (
	"fmt"
	"net/http"

	"github.com/alinea-crm/alinea"
)

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "domain", "q", "limit", "cursor")
	f := alinea.AccountFilter{
		Domain: q.str("domain", 255),
		Search: q.str("q", 200),
		Limit:  q.limit(1000),
		After:  q.cursor(),
	}
	if err := q.err(); err != nil {
		return err
	}
	accounts, next, err := s.store.Accounts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(accounts, next))
	return nil
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var f alinea.AccountFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	a, err := s.store.CreateAccount(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/accounts/%d", a.ID))
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := s.store.Account(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var f alinea.AccountFields
	if err := decodeJSON(w, r, &f, maxAPIBody); err != nil {
		return err
	}
	a, err := s.store.UpdateAccount(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAccount(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
