// Package demoapi is a minimal stand-in of the loyalty API for the quickstart example: it
// creates customers and stamp cards and reads cards back, nothing more. The loyaltytest
// package is meant to replace it with a full fake.
package demoapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Server is a running stand-in.
type Server struct {
	URL             string
	APIKey          string
	StampTemplateID int
	srv             *httptest.Server
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Start starts a stand-in on loopback.
func Start() *Server {
	s := &Server{APIKey: "demo-key", StampTemplateID: 1001}
	var mu sync.Mutex
	customers := map[string]map[string]any{}
	cards := map[string]map[string]any{}
	n := 0
	reply := func(w http.ResponseWriter, status int, data any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"code": status, "responseId": fmt.Sprintf("demo-%d", time.Now().UnixNano()),
			"createdAt": time.Now().UTC().Format("2006-01-02T15:04:05-07:00"), "data": data,
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/customers", func(w http.ResponseWriter, r *http.Request) {
		var c map[string]any
		if json.NewDecoder(r.Body).Decode(&c) != nil {
			reply(w, 400, nil)
			return
		}
		mu.Lock()
		n++
		c["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		customers[c["id"].(string)] = c
		mu.Unlock()
		reply(w, 201, c)
	})
	mux.HandleFunc("POST /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			CustomerID string `json:"customerId"`
			TemplateID int    `json:"templateId"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.TemplateID != s.StampTemplateID {
			reply(w, 400, nil)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		id := fmt.Sprintf("%06d-%03d-%03d", 638920+n, n%1000, 210)
		card := map[string]any{
			"id": id, "templateId": in.TemplateID, "customerId": in.CustomerID, "customer": customers[in.CustomerID],
			"type": "stamp", "status": "not_installed", "balance": map[string]any{"numberStampsTotal": 0},
			"installLink": "https://wallet.example.com/getpass/" + id,
		}
		cards[id] = card
		reply(w, 201, card)
	})
	mux.HandleFunc("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		card, ok := cards[r.PathValue("id")]
		mu.Unlock()
		if !ok {
			w.WriteHeader(404)
			return
		}
		reply(w, 200, card)
	})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != s.APIKey {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"code":401,"message":"API key not found"}`))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	return s
}
