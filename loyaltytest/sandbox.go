package loyaltytest

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"
)

// The sandbox (cmd/loyalty-sandbox) is this fake served as a program: on an address of its
// choosing, with keys that last, its state kept in a file, and control routes through which a
// test written in any language injects faults and reads what the server received.

// WithListener serves on l rather than on a loopback port of the server's own choosing.
func WithListener(l net.Listener) Option {
	return func(s *settings) { s.listener = l }
}

// WithKeys sets the agency's API key and the marketplace app token, instead of random ones.
func WithKeys(apiKey, appToken string) Option {
	return func(s *settings) { s.agencyKey, s.appTok = apiKey, appToken }
}

// WithOnChange calls f after every request that may have changed the server's state (one
// that is not a GET and was not refused), for a caller that keeps the state (Save) in a file.
func WithOnChange(f func()) Option {
	return func(s *settings) { s.onChange = f }
}

// WithControl serves the control routes below /_sandbox/, which take the agency's key in
// X-API-Key:
//
//	POST   /_sandbox/faults          {"route": "POST /api/v2/cards/{id}/add-stamp", "fault": {...}}
//	DELETE /_sandbox/faults          clear every fault
//	POST   /_sandbox/webhook-faults  {"drop": 1, "repeat": 0}
//	POST   /_sandbox/mark            remember the counts as they are now
//	GET    /_sandbox/report          what the server received and holds, in all and since the mark
//
// A fault is Fault's fields in lower camel case, durations as Go durations ("250ms"):
// {"latency", "hold", "delayAnswer", "status", "retryAfter", "dropBefore", "dropAfter",
// "malformedJSON", "redirect", "path", "times"}.
func WithControl() Option {
	return func(s *settings) { s.control = true }
}

// mark is the counts remembered by POST /_sandbox/mark.
type mark struct {
	at       time.Time
	requests map[string]int
	objects  map[string]int
}

// Report is what GET /_sandbox/report answers.
type Report struct {
	// Total and Requests count what the server received, in all and by route.
	Total    int            `json:"total"`
	Requests map[string]int `json:"requests"`
	// Objects counts what the server holds, by kind: customers, cards, companies, operations,
	// pushes, sms, transactions, subscriptions.
	Objects map[string]int `json:"objects"`
	// SinceMark is what changed since the last POST /_sandbox/mark (nil without one).
	SinceMark *MarkReport `json:"sinceMark,omitempty"`
}

// MarkReport is what changed since a mark.
type MarkReport struct {
	// Requests counts the requests received since, by route.
	Requests map[string]int `json:"requests"`
	// Created lists the kinds of object that grew in number, and Sent the requests that
	// change state and are not safe to repeat (every POST, PATCH and DELETE but the
	// marketplace's keyed calls and a webhook subscription's subscribe and unsubscribe).
	Created map[string]int `json:"created"`
	Sent    map[string]int `json:"sent"`
	// Clean is set when nothing was created and nothing sent: a run that repeated an
	// earlier one did nothing twice.
	Clean bool `json:"clean"`
}

// repeatable are the state-changing routes that may be sent again without doing anything
// twice: the marketplace's calls are keyed by their transaction id, and the webhook
// subscription routes undo each other.
var repeatable = map[string]bool{
	"POST /api/v2/marketplace/accrue": true, "POST /api/v2/marketplace/reverse": true,
	"POST /api/v2/marketplace/resolve-credentials": true,
	"POST /api/automation/webhooks":                true, "DELETE /api/automation/webhooks/{id}": true,
}

// Report returns what the server received and holds, as GET /_sandbox/report does.
func (s *Server) Report() Report {
	s.hooks.mu.Lock()
	requests := make(map[string]int, len(s.hooks.counts))
	for k, v := range s.hooks.counts {
		requests[k] = v
	}
	r := Report{Total: s.hooks.total, Requests: requests}
	m := s.marked
	s.hooks.mu.Unlock()
	r.Objects = s.objects()
	if m.requests == nil {
		return r
	}
	since := &MarkReport{Requests: map[string]int{}, Created: map[string]int{}, Sent: map[string]int{}}
	for route, n := range requests {
		if d := n - m.requests[route]; d > 0 {
			since.Requests[route] = d
			if method, _, _ := strings.Cut(route, " "); method != http.MethodGet && !repeatable[route] && route != "unknown" {
				since.Sent[route] = d
			}
		}
	}
	for kind, n := range r.Objects {
		if d := n - m.objects[kind]; d > 0 {
			since.Created[kind] = d
		}
	}
	since.Clean = len(since.Created) == 0 && len(since.Sent) == 0
	r.SinceMark = since
	return r
}

// Mark remembers the counts as they are now, for Report's SinceMark.
func (s *Server) Mark() {
	objects := s.objects()
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	requests := make(map[string]int, len(s.hooks.counts))
	for k, v := range s.hooks.counts {
		requests[k] = v
	}
	s.marked = mark{at: time.Now(), requests: requests, objects: objects}
}

// objects counts what the server holds, by kind.
func (s *Server) objects() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{"companies": len(s.st.companies.order), "transactions": len(s.st.txns)}
	for _, t := range s.st.allTenants() {
		out["customers"] += len(t.customers.order)
		out["cards"] += len(t.cards.order)
		out["operations"] += len(t.ops)
		out["pushes"] += len(t.pushes.order)
		out["sms"] += len(t.sms)
		out["subscriptions"] += len(t.webhooks)
	}
	return out
}

// faultJSON is a Fault as the control route takes it.
type faultJSON struct {
	Latency       string `json:"latency"`
	Hold          string `json:"hold"`
	DelayAnswer   string `json:"delayAnswer"`
	Status        int    `json:"status"`
	RetryAfter    int    `json:"retryAfter"`
	DropBefore    bool   `json:"dropBefore"`
	DropAfter     bool   `json:"dropAfter"`
	MalformedJSON bool   `json:"malformedJSON"`
	Redirect      string `json:"redirect"`
	Path          string `json:"path"`
	Times         int    `json:"times"`
}

func (f faultJSON) fault() (Fault, error) {
	out := Fault{Status: f.Status, RetryAfter: f.RetryAfter, DropBefore: f.DropBefore, DropAfter: f.DropAfter,
		MalformedJSON: f.MalformedJSON, Redirect: f.Redirect, Path: f.Path, Times: f.Times}
	for _, d := range []struct {
		text string
		to   *time.Duration
	}{{f.Latency, &out.Latency}, {f.Hold, &out.Hold}, {f.DelayAnswer, &out.DelayAnswer}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return Fault{}, err
		}
		*d.to = v
	}
	return out, nil
}

// controlRoutes mounts the routes WithControl describes.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	answer := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	guard := func(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-API-Key")), []byte(s.APIKey)) != 1 {
				answer(w, http.StatusUnauthorized, map[string]string{"message": "the control routes take the agency's key in X-API-Key"})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /_sandbox/faults", guard(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Route string    `json:"route"`
			Fault faultJSON `json:"fault"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Route == "" {
			answer(w, http.StatusBadRequest, map[string]string{"message": `want {"route": "METHOD /path", "fault": {...}}`})
			return
		}
		f, err := in.Fault.fault()
		if err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		s.InjectFault(in.Route, f)
		answer(w, http.StatusCreated, map[string]string{"route": in.Route})
	}))
	mux.HandleFunc("DELETE /_sandbox/faults", guard(func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("POST /_sandbox/webhook-faults", guard(func(w http.ResponseWriter, r *http.Request) {
		var wire struct{ Drop, Repeat int }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&wire); err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"message": `want {"drop": n, "repeat": n}`})
			return
		}
		s.InjectWebhookFault(WebhookFault{Drop: wire.Drop, Repeat: wire.Repeat})
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("POST /_sandbox/mark", guard(func(w http.ResponseWriter, r *http.Request) {
		s.Mark()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /_sandbox/report", guard(func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, s.Report())
	}))
}
