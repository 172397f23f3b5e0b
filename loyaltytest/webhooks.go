package loyaltytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// subscription is a webhook subscription of an account.
type subscription struct {
	seq    int
	id     string
	url    string
	events map[string]bool
}

// delivery is an event on its way to a subscribed URL.
type delivery struct {
	url  string
	body []byte
	name string
}

// Delivery is what the fake did with one event for one subscription, for tests to inspect.
type Delivery struct {
	// Event is the event's name, URL where it went, Body what was sent.
	Event string
	URL   string
	Body  []byte
	// Status is the receiver's answer to the last attempt (0: no answer, or not sent).
	Status int
	// Attempts counts the requests made: retried while the receiver answered 5xx or did not
	// answer, up to 3; 0 for a delivery dropped by a fault.
	Attempts int
	// Repeated marks the second copy of a delivery repeated by a fault.
	Repeated bool
}

// WebhookFault makes the fake's next deliveries misbehave, the way an at-least-once
// platform may.
type WebhookFault struct {
	// Drop loses the next Drop deliveries: the receiver never sees them.
	Drop int
	// Repeat delivers the next Repeat deliveries twice.
	Repeat int
}

// webhooks is the Server's delivery side: faults, in-flight deliveries, and what happened.
type webhooks struct {
	mu        sync.Mutex
	fault     WebhookFault
	delivered []Delivery
	inflight  sync.WaitGroup
	client    *http.Client
}

// InjectWebhookFault makes the next deliveries be dropped or repeated.
func (s *Server) InjectWebhookFault(f WebhookFault) {
	s.hooksOut.mu.Lock()
	defer s.hooksOut.mu.Unlock()
	s.hooksOut.fault = f
}

// WaitForDeliveries blocks until every delivery started so far has ended.
func (s *Server) WaitForDeliveries() { s.hooksOut.inflight.Wait() }

// Deliveries returns what the fake delivered so far (call WaitForDeliveries first).
func (s *Server) Deliveries() []Delivery {
	s.hooksOut.mu.Lock()
	defer s.hooksOut.mu.Unlock()
	return append([]Delivery(nil), s.hooksOut.delivered...)
}

// dispatch sends deliveries in the background, after the request that caused them has been
// answered under the state lock.
func (s *Server) dispatch(pending []delivery) {
	for _, d := range pending {
		s.hooksOut.mu.Lock()
		drop, repeat := s.hooksOut.fault.Drop > 0, false
		if drop {
			s.hooksOut.fault.Drop--
			s.hooksOut.delivered = append(s.hooksOut.delivered, Delivery{Event: d.name, URL: d.url, Body: d.body})
		} else if s.hooksOut.fault.Repeat > 0 {
			s.hooksOut.fault.Repeat--
			repeat = true
		}
		s.hooksOut.mu.Unlock()
		if drop {
			continue
		}
		copies := 1
		if repeat {
			copies = 2
		}
		for i := range copies {
			s.hooksOut.inflight.Add(1)
			go func() {
				defer s.hooksOut.inflight.Done()
				s.deliver(d, i > 0)
			}()
		}
	}
}

// deliver posts one delivery, again while the receiver answers 5xx or not at all.
func (s *Server) deliver(d delivery, repeated bool) {
	rec := Delivery{Event: d.name, URL: d.url, Body: d.body, Repeated: repeated}
	for rec.Attempts < 3 {
		rec.Attempts++
		rec.Status = 0
		req, err := http.NewRequestWithContext(s.abort, http.MethodPost, d.url, bytes.NewReader(d.body))
		if err != nil {
			break // a URL the subscription checked; nothing to send to
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.hooksOut.client.Do(req)
		if err == nil {
			rec.Status = resp.StatusCode
			_ = resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-s.abort.Done():
		}
	}
	s.hooksOut.mu.Lock()
	s.hooksOut.delivered = append(s.hooksOut.delivered, rec)
	s.hooksOut.mu.Unlock()
}

// emit queues event for every subscription of t to it. It runs under the state lock; the
// Server dispatches the queue once the request is answered.
func (st *state) emit(t *tenant, event loyalty.EventName, data map[string]any) {
	for _, sub := range t.subscriptions() {
		if !sub.events[string(event)] {
			continue
		}
		body, _ := json.Marshal(map[string]any{"timestamp": st.now().Unix(), "event": string(event), "data": data})
		st.outbox = append(st.outbox, delivery{url: sub.url, body: body, name: string(event)})
	}
}

// subscriptions lists the tenant's subscriptions in the order they were made.
func (t *tenant) subscriptions() []*subscription {
	subs := make([]*subscription, 0, len(t.webhooks))
	for _, s := range t.webhooks {
		subs = append(subs, s)
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].seq < subs[j].seq })
	return subs
}

// takeOutbox empties the queue of deliveries.
func (st *state) takeOutbox() []delivery {
	out := st.outbox
	st.outbox = nil
	return out
}

// cardEvent is a card's payload as the platform sends it: snake_case, the template id as a
// string, the phone as digits.
func cardEvent(c *card, status string) map[string]any {
	if status == "" {
		status = c.Status
	}
	return map[string]any{
		"serial_number": c.ID, "cardholder_id": c.CustomerID, "status": status, "device_type": nil,
		"card_type": c.tmpl.Type.String(), "template_id": strconv.Itoa(c.tmpl.ID),
		"cardholder_email": c.cust.Email, "cardholder_phone": digits(c.cust.Phone),
		"cardholder_first_name": c.cust.FirstName, "cardholder_last_name": c.cust.Surname,
		"bonus_balance": 0, "balance": c.balance, "number_stamps_total": c.stamps, "number_rewards_unused": c.rewards,
	}
}

func digits(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// --- the /api/automation routes ---

func subscribeWebhook(st *state, rq *request) (any, *apiError) {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	u, err := url.Parse(in.URL)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, invalidField("url", "This value is not a valid URL.")
	}
	if len(in.Events) == 0 {
		return nil, invalidField("events", "This collection should contain 1 element or more.")
	}
	seq := st.nextID()
	sub := &subscription{seq: seq, id: strconv.Itoa(seq), url: in.URL, events: map[string]bool{}}
	for _, e := range in.Events {
		sub.events[e] = true
	}
	if rq.t.webhooks == nil {
		rq.t.webhooks = map[string]*subscription{}
	}
	rq.t.webhooks[sub.id] = sub
	return created{map[string]any{"id": sub.id}}, nil
}

func unsubscribeWebhook(st *state, rq *request) (any, *apiError) {
	id := rq.PathValue("id")
	if rq.t.webhooks[id] == nil {
		return nil, notFound("Webhook")
	}
	delete(rq.t.webhooks, id)
	return map[string]any{"id": id}, nil
}

func automationMe(st *state, rq *request) (any, *apiError) {
	return map[string]any{"id": rq.t.company.ID, "email": rq.t.company.Email, "name": rq.t.company.Name}, nil
}
