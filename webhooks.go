package loyalty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// The platform pushes events to a URL you subscribe (a second API family, /api/automation,
// with the same key). What is known of it is thinner than the v2 description: this file is
// strict in what it sends and tolerant in what it reads.

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
	resp, err := s.client.do(ctx, &call{method: "DELETE", path: "webhooks/" + p, automation: true})
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
