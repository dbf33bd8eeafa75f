package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSendSignsWhatTheReceiverVerifies(t *testing.T) {
	const secret = "whsec_test"
	type received struct {
		header http.Header
		body   []byte
		err    error
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := Verify(secret, r.Header.Get(SignatureHeader), body, DefaultTolerance)
		got <- received{r.Header.Clone(), body, err}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	p := Payload{ID: 42, Type: "sla.breached", Key: "sla.breached:clock:7", OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Data: json.RawMessage(`{"contact":{"id":1}}`)}
	res, err := NewSender(Options{Version: "test", PrivateNetworks: true}).Send(context.Background(), srv.URL+"/hook", secret, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("status %d", res.StatusCode)
	}
	r := <-got
	if r.err != nil {
		t.Fatalf("the receiver could not verify the signature: %v", r.err)
	}
	if r.header.Get(EventHeader) != "sla.breached" || r.header.Get(DeliveryHeader) != "42" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.header)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body["id"] != float64(42) || body["type"] != "sla.breached" || body["key"] != "sla.breached:clock:7" || body["occurred_at"] != "2026-03-02T10:00:00Z" || body["data"].(map[string]any)["contact"] == nil {
		t.Errorf("body %s", r.body)
	}
	if err := Verify("whsec_other", r.header.Get(SignatureHeader), r.body, DefaultTolerance); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another secret verified: %v", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"id":1}`)
	good := Sign("s", now, body)
	cases := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", good, body, now, nil},
		{"within tolerance", good, body, now.Add(4 * time.Minute), nil},
		{"too old", good, body, now.Add(6 * time.Minute), ErrTooOld},
		{"from the future", good, body, now.Add(-6 * time.Minute), ErrTooOld},
		{"body changed", good, []byte(`{"id":2}`), now, ErrBadSignature},
		{"timestamp changed", strings.Replace(good, "t=", "t=1", 1), body, now, ErrBadSignature},
		{"one of two signatures matches (secret rotation)", good + ",v1=00ff", body, now, nil},
		{"empty", "", body, now, ErrNoSignature},
		{"no v1", "t=1772445600", body, now, ErrNoSignature},
		{"bad timestamp", "t=yesterday,v1=00", body, now, ErrNoSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := verify("s", tc.header, tc.body, DefaultTolerance, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/down":
			http.Error(w, "database is down", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	s := NewSender(Options{Version: "test", PrivateNetworks: true})
	s.client.Timeout = 200 * time.Millisecond

	res, err := s.Send(context.Background(), srv.URL+"/down", "s", Payload{ID: 1})
	if err == nil || res.StatusCode != 500 || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("500: %d, %v; want the status and the answer's text", res.StatusCode, err)
	}
	res, err = s.Send(context.Background(), srv.URL+"/moved", "s", Payload{ID: 1})
	if err == nil || res.StatusCode != http.StatusFound {
		t.Errorf("a redirect was followed or accepted: %d, %v", res.StatusCode, err)
	}
	res, err = s.Send(context.Background(), srv.URL+"/slow", "s", Payload{ID: 1})
	if err == nil || res.StatusCode != 0 || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("no answer: %d, %v; want a timeout error", res.StatusCode, err)
	}
	close(release)
	srv.Close()
	if _, err := s.Send(context.Background(), srv.URL+"/gone", "s", Payload{ID: 1}); err == nil {
		t.Error("an unreachable endpoint: no error")
	}
}
