package server

import (
	"net/http"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
)

// webhookRoutes: admins manage the subscriptions; admins and managers read
// the delivery log and retry what failed.
func (s *Server) webhookRoutes() {
	admins := []alinea.Role{alinea.RoleAdmin}
	managers := []alinea.Role{alinea.RoleManager}
	s.handle("GET /api/v1/webhooks", s.authed(s.listWebhooks, admins...))
	s.handle("POST /api/v1/webhooks", s.authed(s.createWebhook, admins...))
	s.handle("PATCH /api/v1/webhooks/{id}", s.authed(s.updateWebhook, admins...))
	s.handle("DELETE /api/v1/webhooks/{id}", s.authed(s.deleteWebhook, admins...))
	s.handle("GET /api/v1/deliveries", s.authed(s.listDeliveries, managers...))
	s.handle("GET /api/v1/deliveries/{id}", s.authed(s.getDelivery, managers...))
	s.handle("POST /api/v1/deliveries/{id}/retry", s.authed(s.retryDelivery, managers...))
}

// webhookRequest creates a subscription.
type webhookRequest struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description"`
}

// webhookPatch changes a subscription; absent fields stay as they are.
type webhookPatch struct {
	URL         *string  `json:"url"`
	Types       []string `json:"types"`
	Description *string  `json:"description"`
	Active      *bool    `json:"active"`
}

// webhookCreated is the only response that carries the signing secret.
type webhookCreated struct {
	store.Webhook
	Secret string `json:"secret"`
}

// deliveryDetail is a delivery with its attempts.
type deliveryDetail struct {
	store.Delivery
	Log []store.DeliveryAttempt `json:"log"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Webhooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(list))
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	hook, secret, err := s.store.CreateWebhook(r.Context(), store.NewWebhook{URL: req.URL, Types: req.Types, Description: req.Description}, userFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookCreated{Webhook: hook, Secret: secret})
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req webhookPatch
	if err := decodeJSON(w, r, &req, maxAPIBody); err != nil {
		return err
	}
	if req.Types != nil && len(req.Types) == 0 {
		return &alinea.Error{Code: alinea.EINVALID, Message: "invalid webhook", Fields: map[string]string{"types": "must name at least one type; pause the webhook with \"active\": false instead"}}
	}
	hook, err := s.store.UpdateWebhook(r.Context(), id, store.WebhookChange{URL: req.URL, Types: req.Types, Description: req.Description, Active: req.Active})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hook)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "state", "channel", "type", "webhook", "limit", "cursor")
	f := store.DeliveryFilter{State: q.str("state", 20), Channel: q.str("channel", 20), Type: q.str("type", 50), WebhookID: q.id("webhook"),
		Limit: q.limit(1000), Before: q.cursor()}
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := s.store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, next))
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, log, err := s.store.Delivery(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryDetail{Delivery: d, Log: log})
	return nil
}

// retryDelivery makes a failing or failed delivery due now and has the
// workers pick it up at once.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.store.RetryDelivery(r.Context(), id)
	if err != nil {
		return err
	}
	if s.jobs != nil {
		if err := jobs.KickDeliveries(r.Context(), s.jobs); err != nil {
			// The periodic sweep will find it due anyway.
			s.log.Warn("delivery retry not enqueued at once", "delivery", id, "err", err)
		}
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
