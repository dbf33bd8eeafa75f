package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// BenchmarkPipeline measures the server time of the pipeline board on the
// demo's data (about 400 deals at the default size), from the request to
// the last byte, without the network: everyone's board as a manager sees
// it, a rep's own board, and a move answered with the re-rendered board as
// pipeline.js asks for it. ALINEA_BENCH_DEMO_DB works as for BenchmarkPages:
//
//	go test -run '^$' -bench Pipeline -benchtime 200x ./web/
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	anchor := time.Now().UTC().Truncate(24 * time.Hour)
	path := benchDemoDB(b, anchor)
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Store: st})

	session := func(email string) (alinea.User, store.Session, string) {
		u, err := st.UserByEmail(ctx, email)
		if err != nil {
			b.Fatal(err)
		}
		s, token, err := st.CreateSession(ctx, u.ID, time.Now().Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		return u, s, token
	}
	_, _, manager := session("ana.morales@vertice.example")
	rep, repSession, repToken := session("carlos.ruiz@vertice.example")

	serve := func(b *testing.B, req *http.Request, token string, want int) {
		req.Header.Set("Accept-Language", "es")
		req.AddCookie(&http.Cookie{Name: "alinea_session", Value: token})
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s: %d", req.Method, req.URL, w.Code)
		}
	}
	b.Run("pipeline_all", func(b *testing.B) {
		for b.Loop() {
			serve(b, httptest.NewRequest(http.MethodGet, "/pipeline", nil), manager, http.StatusOK)
		}
	})
	b.Run("pipeline_mine", func(b *testing.B) {
		for b.Loop() {
			serve(b, httptest.NewRequest(http.MethodGet, "/pipeline", nil), repToken, http.StatusOK)
		}
	})

	// The move goes back and forth between two open stages.
	stages, err := st.PipelineStages(ctx)
	if err != nil {
		b.Fatal(err)
	}
	deals, _, err := st.Deals(ctx, alinea.DealFilter{Status: alinea.DealOpen, OwnerID: rep.ID, Limit: 1})
	if err != nil || len(deals) == 0 {
		b.Fatalf("no open deal of %s in the demo: %v", rep.Email, err)
	}
	deal := deals[0]
	var other int64
	for _, s := range stages {
		if s.Kind == alinea.DealOpen && s.ID != deal.StageID {
			other = s.ID
			break
		}
	}
	at := []int64{other, deal.StageID}
	b.Run("pipeline_move", func(b *testing.B) {
		i := 0
		for b.Loop() {
			form := url.Values{"csrf_token": {repSession.CSRFSecret}, "stage": {strconv.FormatInt(at[i%2], 10)}, "owner": {"mine"}}
			req := httptest.NewRequest(http.MethodPost, "/pipeline/deals/"+strconv.FormatInt(deal.ID, 10)+"/stage", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Alinea-Fragment", "board")
			serve(b, req, repToken, http.StatusOK)
			i++
		}
	})
}
