package loyalty

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/lenient"
)

// The platform pushes events to a URL you subscribe (a second API family, /api/automation,
// with the same key). What is known of it is thinner than the v2 description: this file is
// strict in what it sends and tolerant in what it reads.

// EventName names a webhook event. The platform reports more than the 24 below; an unknown
// name is kept as it comes.
type EventName string

// The webhook events known.
const (
	EventCardBalanceUpdated              EventName = "CardBalanceUpdatedEvent"
	EventCardExpired                     EventName = "CardExpiredEvent"
	EventCardInstalled                   EventName = "CardInstalledEvent"
	EventCardIssued                      EventName = "CardIssuedEvent"
	EventCardRemoved                     EventName = "CardRemovedEvent"
	EventCardScanned                     EventName = "CardScannedEvent"
	EventCompanyCreated                  EventName = "CompanyCreatedEvent"
	EventCompanyRemoved                  EventName = "CompanyRemovedEvent"
	EventCustomerCreated                 EventName = "CustomerCreatedEvent"
	EventCustomerReferralCreated         EventName = "CustomerReferralCreatedEvent"
	EventCustomerSegmentLinked           EventName = "CustomerSegmentLinkedEvent"
	EventFeedbackCreated                 EventName = "FeedbackCreatedEvent"
	EventManagerCreated                  EventName = "ManagerCreatedEvent"
	EventManagerRemoved                  EventName = "ManagerRemovedEvent"
	EventPaymentCompletedFailed          EventName = "PaymentCompletedFailedEvent"
	EventPaymentCompletedSuccessful      EventName = "PaymentCompletedSuccessfulEvent"
	EventPaymentRefunded                 EventName = "PaymentRefundedEvent"
	EventRecurrentPaymentCompletedFailed EventName = "RecurrentPaymentCompletedFailedEvent"
	EventTariffPaymentCreated            EventName = "TariffPaymentCreatedEvent"
	EventUserTemplateActivated           EventName = "UserTemplateActivatedEvent"
	EventUserTemplateCreated             EventName = "UserTemplateCreatedEvent"
	EventUserTemplateDeactivated         EventName = "UserTemplateDeactivatedEvent"
	EventUserTemplateRemoved             EventName = "UserTemplateRemovedEvent"
	EventUserTemplateUpdated             EventName = "UserTemplateUpdatedEvent"
)

var knownEvents = [...]EventName{
	EventCardBalanceUpdated, EventCardExpired, EventCardInstalled, EventCardIssued, EventCardRemoved, EventCardScanned,
	EventCompanyCreated, EventCompanyRemoved, EventCustomerCreated, EventCustomerReferralCreated, EventCustomerSegmentLinked,
	EventFeedbackCreated, EventManagerCreated, EventManagerRemoved, EventPaymentCompletedFailed, EventPaymentCompletedSuccessful,
	EventPaymentRefunded, EventRecurrentPaymentCompletedFailed, EventTariffPaymentCreated, EventUserTemplateActivated,
	EventUserTemplateCreated, EventUserTemplateDeactivated, EventUserTemplateRemoved, EventUserTemplateUpdated,
}

// EventNames returns the 24 known event names. It is a copy.
func EventNames() []EventName { return append([]EventName(nil), knownEvents[:]...) }

// Known reports whether the name is one of EventNames.
func (n EventName) Known() bool {
	for _, k := range knownEvents {
		if n == k {
			return true
		}
	}
	return false
}

// WebhooksService subscribes URLs to events. Receive them with WebhookHandler or ParseEvent.
type WebhooksService service

// WebhookSubscribeRequest subscribes URL to Events.
type WebhookSubscribeRequest struct {
	// URL receives the deliveries: absolute https (http only to a loopback host, for tests).
	// Put a secret token in it (?token=...) and check it with VerifyToken: the platform's
	// signature scheme is not confirmed.
	URL string `json:"url"`
	// Events are the events to deliver: at least one, known (see EventNames) or not.
	Events []EventName `json:"events"`
}

// String shows the request with its URL's query masked: it carries the receiver's token.
func (r WebhookSubscribeRequest) String() string {
	return fmt.Sprintf("{URL:%s Events:%v}", withoutQuery(r.URL), r.Events)
}

// Format keeps the token out of every fmt verb, %#v and %+v included.
func (r WebhookSubscribeRequest) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue keeps the token out of slog records.
func (r WebhookSubscribeRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// WebhookSubscription is a subscription the platform made.
type WebhookSubscription struct {
	ID ID `json:"id"`
}

// AutomationUser is the account a key belongs to, as the webhooks API sees it.
type AutomationUser struct {
	ID    ID     `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Subscribe asks the platform to deliver Events to URL, and returns the subscription's id.
//
// Errors: ErrInvalidArgument for a URL that is not absolute https (plain http only to a
// loopback host) or no events (nothing sent); ErrUnauthorized for a key the platform does not
// know; ErrValidation for a subscription it refuses; *OutcomeUnknownError when the answer was
// lost (a second subscription would deliver every event twice: look with Me's account in the
// product's UI before subscribing again).
//
// API: POST /api/automation/webhooks
func (s *WebhooksService) Subscribe(ctx context.Context, req *WebhookSubscribeRequest) (*WebhookSubscription, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	u, err := url.Parse(req.URL)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return nil, nil, invalid("url", "must be an absolute URL")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, nil, invalid("url", "must be https (plain http only to a loopback host)")
	case len(req.Events) == 0:
		return nil, nil, invalid("events", "must name at least one event")
	}
	for i, e := range req.Events {
		if strings.TrimSpace(string(e)) == "" {
			return nil, nil, invalid(fmt.Sprintf("events[%d]", i), "must not be empty")
		}
	}
	return fetch[WebhookSubscription](ctx, s.client, call{method: "POST", path: "webhooks", body: req, automation: true})
}

// Unsubscribe removes a subscription, and returns the answer. Repeating it is safe: a
// subscription already gone (404) counts as removed, and Response.DeletedEarlier is set.
//
// Errors: ErrInvalidArgument for an empty id (nothing sent); ErrUnauthorized or ErrForbidden
// for a key that may not remove it; *RequestError when no answer came.
//
// API: DELETE /api/automation/webhooks/{id}
func (s *WebhooksService) Unsubscribe(ctx context.Context, id string) (*Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.do(ctx, &call{method: "DELETE", path: "webhooks/", id: p, automation: true})
	if errors.Is(err, ErrNotFound) && resp != nil {
		resp.DeletedEarlier = true // gone already: removed, as asked
		return resp, nil
	}
	return resp, err
}

// Me returns the account the client's key belongs to: the check the no-code connectors make
// before they subscribe.
//
// Errors: ErrUnauthorized for a key the platform does not know; *RequestError when no answer
// came; *DecodeError for an answer that cannot be read.
//
// API: GET /api/automation/users/me
func (s *WebhooksService) Me(ctx context.Context) (*AutomationUser, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return fetch[AutomationUser](ctx, s.client, call{method: "GET", path: "users/me", automation: true})
}

// Event is one webhook delivery: {"timestamp": <unix seconds>, "event": "<Name>", "data": {…}}.
// Deliveries come at least once and in no set order: use Key to drop the repeats.
type Event struct {
	// Name is the event's name, one of the EventName constants or one this package does not
	// know yet.
	Name EventName
	// Timestamp is when the platform says the event happened.
	Timestamp time.Time
	// Data is the event's payload as it came, to read fields this package does not know.
	Data []byte
	// Raw is the whole delivery as it came.
	Raw []byte
}

// CardEvent is the payload of the card events (issued, installed, balance updated, removed,
// …). The platform writes these fields in snake_case.
type CardEvent struct {
	SerialNumber        string     `json:"serial_number"`
	CardholderID        string     `json:"cardholder_id"`
	Status              CardStatus `json:"status"`
	DeviceType          string     `json:"device_type"`
	CardType            CardType   `json:"card_type"`
	TemplateID          int        `json:"template_id"` // sent as a string; read either way
	CardholderEmail     string     `json:"cardholder_email"`
	CardholderPhone     string     `json:"cardholder_phone"` // digits, no "+"
	CardholderFirstName string     `json:"cardholder_first_name"`
	CardholderLastName  string     `json:"cardholder_last_name"`
	BonusBalance        float64    `json:"bonus_balance"`
	Balance             float64    `json:"balance"`
	NumberStampsTotal   int        `json:"number_stamps_total"`
	NumberRewardsUnused int        `json:"number_rewards_unused"`
}

// CustomerEvent is the payload of the customer events.
type CustomerEvent struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	Surname   string `json:"surname"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// CompanyEvent is the payload of the company events.
type CompanyEvent struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// TemplateEvent is the payload of the template events.
type TemplateEvent struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	User string `json:"user"`
}

// Card reads a card event's payload, tolerantly: it returns the payload, with what cannot be
// read left zero.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Card() (*CardEvent, error) { return payload[CardEvent](e) }

// Customer reads a customer event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Customer() (*CustomerEvent, error) { return payload[CustomerEvent](e) }

// Company reads a company event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Company() (*CompanyEvent, error) { return payload[CompanyEvent](e) }

// Template reads a template event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Template() (*TemplateEvent, error) { return payload[TemplateEvent](e) }

func payload[T any](e *Event) (*T, error) {
	v := new(T)
	problems, err := lenient.Unmarshal(e.Data, v)
	if err == nil && len(problems) > 0 && problems[0].Path == "" {
		err = errors.New(problems[0].Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("loyalty: %s payload: %w", e.Name, err)
	}
	return v, nil
}

// Subject is what the event is about: a card's serial, or the id of the customer, company or
// template, as far as the payload says; "" when it says none of them.
func (e *Event) Subject() string {
	var ids struct {
		Serial string `json:"serial_number"`
		ID     ID     `json:"id"`
	}
	_, _ = lenient.Unmarshal(e.Data, &ids)
	if ids.Serial != "" {
		return ids.Serial
	}
	return string(ids.ID)
}

// Key identifies the event for dropping repeats: its name and subject, and a hash of its
// payload, so that two changes to one card (two balance updates, say) keep distinct keys
// while a delivery repeated byte for byte does not. The timestamp is left out: it is not
// signed, so a repeat may carry another one.
func (e *Event) Key() string {
	h := fnv.New64a()
	_, _ = h.Write(e.Data)
	return string(e.Name) + "/" + e.Subject() + "/" + strconv.FormatUint(h.Sum64(), 36)
}

// ErrBadDelivery matches every refusal of ParseEvent and WebhookHandler: a delivery that is
// malformed, too large, too old, or fails verification.
var ErrBadDelivery = errors.New("loyalty: bad webhook delivery")

type deliveryError struct {
	status int
	reason string
}

// Error says why the delivery was refused.
func (e *deliveryError) Error() string { return "loyalty: bad webhook delivery: " + e.reason }

// Is makes errors.Is(err, ErrBadDelivery) true.
func (e *deliveryError) Is(target error) bool { return target == ErrBadDelivery }

func badDelivery(status int, format string, args ...any) error {
	return &deliveryError{status: status, reason: fmt.Sprintf(format, args...)}
}

// ParseEvent reads one delivery's body, and returns the event.
//
// Errors: ErrBadDelivery for what is not the delivery's shape: not JSON, no event name, no
// timestamp.
func ParseEvent(body []byte) (*Event, error) {
	var d struct {
		Timestamp Timestamp `json:"timestamp"`
		Event     string    `json:"event"`
		Data      rawJSON   `json:"data"`
	}
	problems, err := lenient.Unmarshal(body, &d)
	switch {
	case err != nil:
		return nil, badDelivery(http.StatusBadRequest, "not JSON")
	case len(problems) > 0 && problems[0].Path == "":
		return nil, badDelivery(http.StatusBadRequest, "not a JSON object")
	case strings.TrimSpace(d.Event) == "":
		return nil, badDelivery(http.StatusBadRequest, "no event name")
	case d.Timestamp.Time.IsZero():
		return nil, badDelivery(http.StatusBadRequest, "no timestamp")
	}
	return &Event{Name: EventName(d.Event), Timestamp: d.Timestamp.Time, Data: d.Data, Raw: body}, nil
}

// rawJSON keeps a member as it came.
type rawJSON []byte

// UnmarshalJSON keeps a copy of the member.
func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// VerifyToken is a WebhookHandler.VerifyRequest that checks the secret token in the URL the
// platform calls (subscribe https://example.com/hooks?token=<secret>). This is the safe
// check the platform supports today; its signature header is not confirmed. It needs no
// body, so a delivery without the token is refused before its body is read.
func VerifyToken(param, secret string) func(r *http.Request) error {
	return func(r *http.Request) error {
		got := r.URL.Query().Get(param)
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			return errors.New("wrong or missing token")
		}
		return nil
	}
}

// Default bounds of a WebhookHandler.
const (
	// DefaultWebhookMaxBody bounds a delivery's body.
	DefaultWebhookMaxBody = 1 << 20
	// DefaultWebhookReadTimeout bounds the reading of a delivery's body.
	DefaultWebhookReadTimeout = 10 * time.Second
)

// WebhookHandler receives deliveries: an http.Handler to mount at the URL you subscribed.
// It checks what it can before it reads anything: a delivery that fails VerifyRequest is
// answered 401 with its body unread. Then it reads the body, at most MaxBody (413) within
// ReadTimeout (408), checks it with Verify (401), parses it (400) and hands it to Handle;
// Handle's error answers 500, so the platform may deliver again. Every refusal's body is its
// status text alone; Logger, when set, records why.
//
// Serve it from an http.Server with its own timeouts, so that a sender cannot hold a
// connection before the handler runs:
//
//	srv := &http.Server{Addr: ":8443", Handler: mux, ReadHeaderTimeout: 5 * time.Second,
//		ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second}
type WebhookHandler struct {
	// Handle is called once per accepted delivery. Deliveries come at least once: use
	// Event.Key to drop repeats.
	Handle func(ctx context.Context, e *Event) error
	// VerifyRequest checks a delivery by what comes before its body (its URL, its headers):
	// one it refuses is answered 401 before the body is read, so a sender without the token
	// makes the receiver read and hold nothing. VerifyToken is one.
	VerifyRequest func(r *http.Request) error
	// Verify checks a delivery with its body (a signature over it, say), after
	// VerifyRequest. With neither set every delivery is accepted: only for a URL nobody else
	// knows.
	Verify func(r *http.Request, body []byte) error
	// MaxBody bounds a delivery (DefaultWebhookMaxBody when zero).
	MaxBody int64
	// ReadTimeout bounds the reading of a delivery's body (DefaultWebhookReadTimeout when
	// zero; negative leaves the server's own), so a sender that stalls mid-body holds a
	// handler that long at most.
	ReadTimeout time.Duration
	// MaxAge, when set, refuses a delivery whose timestamp is more than MaxAge before this
	// machine's clock, answering 503 with Retry-After so that the platform tries again. It is
	// a staleness filter, not a defence against replays: the timestamp is not signed (drop
	// repeats with Event.Key). It is off by default, because a receiver whose clock runs fast
	// would refuse genuine events; a timestamp ahead of this clock is never refused.
	MaxAge time.Duration
	// Now is the clock of MaxAge (default time.Now), for tests.
	Now func() time.Time
	// Logger records every refused delivery with its reason. Nil logs nothing.
	Logger *slog.Logger
}

// ServeHTTP checks, reads and hands over one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.refuse(w, r, http.StatusMethodNotAllowed, "not a POST")
		return
	}
	if h.VerifyRequest != nil {
		if err := h.VerifyRequest(r); err != nil {
			h.refuse(w, r, http.StatusUnauthorized, "verification failed: "+err.Error())
			return
		}
	}
	e, err := h.read(w, r)
	if err != nil {
		status := http.StatusBadRequest
		var de *deliveryError
		if errors.As(err, &de) {
			status = de.status
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		h.refuse(w, r, status, err.Error())
		return
	}
	if h.Handle == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.Handle(r.Context(), e); err != nil {
		h.refuse(w, r, http.StatusInternalServerError, "Handle: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// refuse answers status with its text alone, and logs the reason.
func (h *WebhookHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	if h.Logger != nil {
		h.Logger.LogAttrs(r.Context(), slog.LevelWarn, "loyalty: webhook delivery refused", slog.Int("status", status),
			slog.String("path", r.URL.Path), slog.String("reason", reason))
	}
	http.Error(w, http.StatusText(status), status)
}

func (h *WebhookHandler) read(w http.ResponseWriter, r *http.Request) (*Event, error) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultWebhookMaxBody
	}
	if r.ContentLength > limit {
		return nil, badDelivery(http.StatusRequestEntityTooLarge, "over %d bytes", limit)
	}
	if d := h.readTimeout(); d > 0 {
		// Not every ResponseWriter can (a recorder in a test cannot): then the server's own
		// ReadTimeout is the bound.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &timeout) && timeout.Timeout():
		return nil, badDelivery(http.StatusRequestTimeout, "the body did not arrive within %s", h.readTimeout())
	case err != nil:
		return nil, badDelivery(http.StatusBadRequest, "reading the body: %v", err)
	case int64(len(body)) > limit:
		return nil, badDelivery(http.StatusRequestEntityTooLarge, "over %d bytes", limit)
	}
	if h.Verify != nil {
		if err := h.Verify(r, body); err != nil {
			return nil, badDelivery(http.StatusUnauthorized, "verification failed: %v", err)
		}
	}
	e, err := ParseEvent(body)
	if err != nil {
		return nil, err
	}
	if h.MaxAge > 0 {
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		if age := now().Sub(e.Timestamp); age > h.MaxAge {
			return nil, badDelivery(http.StatusServiceUnavailable, "timestamp %s is %s old by this clock, over MaxAge %s",
				e.Timestamp.Format(time.RFC3339), age.Round(time.Second), h.MaxAge)
		}
	}
	return e, nil
}

func (h *WebhookHandler) readTimeout() time.Duration {
	if h.ReadTimeout == 0 {
		return DefaultWebhookReadTimeout
	}
	return h.ReadTimeout
}
