package loyalty

import (
	"context"
	"iter"
)

// PushesService sends push notifications to wallet cards and reads them back.
type PushesService service

// Push is a push notification sent, or scheduled, to the cards of a template.
type Push struct {
	ID         string `json:"id"`
	TemplateID int    `json:"templateId"`
	// CardID is the one card the push went to, or "" for every card of the template.
	CardID          string    `json:"cardId"`
	Message         string    `json:"message"`
	Type            string    `json:"type"`
	Status          string    `json:"status"`
	SentAmount      int       `json:"sentAmount"`
	DeliveredAmount int       `json:"deliveredAmount"`
	ScheduledAt     Timestamp `json:"scheduledAt"`
	CreatedAt       Timestamp `json:"createdAt"`
}

// PushSendRequest sends a push: to one card when CardID is set, else to every card of the
// template; now, or at ScheduledAt.
type PushSendRequest struct {
	Message     string    `json:"message"`
	TemplateID  int       `json:"templateId"`
	CardID      string    `json:"cardId,omitempty"`
	ScheduledAt Timestamp `json:"scheduledAt,omitzero"`
}

// PushListOptions filters the push list. Zero values filter nothing; dates are inclusive days.
type PushListOptions struct {
	ListOptions
	TemplateID int    `url:"templateId,omitempty"`
	CardID     string `url:"cardId,omitempty"`
	StartDate  Date   `url:"startDate,omitempty"`
	EndDate    Date   `url:"endDate,omitempty"`
}

// Send sends a push now, or schedules it (ScheduledAt), to one card or to every card of a
// template, and returns the push (Response.StatusCode 201).
//
// Errors: ErrInvalidArgument for a push without a message or template, or scheduled outside
// what the API stores (nothing sent); ErrNotFound when the template or card does not exist;
// ErrValidation for a push the API refuses; *OutcomeUnknownError when the answer was lost: a
// push is never sent twice, since its holders would get it twice (look for it with List
// first).
//
// API: POST /api/v2/pushes
func (s *PushesService) Send(ctx context.Context, req *PushSendRequest) (*Push, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	switch {
	case req.Message == "":
		return nil, nil, invalid("message", "must not be empty")
	case req.TemplateID <= 0:
		return nil, nil, invalid("templateId", "must be a positive id")
	}
	if err := checkStored("scheduledAt", req.ScheduledAt.Time); err != nil {
		return nil, nil, err
	}
	return fetch[Push](ctx, s.client, call{method: "POST", path: "pushes", body: req})
}

// List returns one page of pushes matching opts (nil: the first page of all), with the
// page's Meta on the Response.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list pushes; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/pushes
func (s *PushesService) List(ctx context.Context, opts *PushListOptions) ([]Push, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if err := opts.checkRange(); err != nil {
		return nil, nil, err
	}
	return list[Push](ctx, s.client, "pushes", opts)
}

// All walks every push matching opts, fetching pages as the loop reaches them.
//
// API: GET /api/v2/pushes, page after page
func (s *PushesService) All(ctx context.Context, opts *PushListOptions) iter.Seq2[Push, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Push](err)
	}
	if err := opts.checkRange(); err != nil {
		return failed[Push](err)
	}
	return walk[Push](ctx, s.client, "pushes", opts)
}

// Get returns a push, with its delivery counts.
//
// Errors: ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no
// such push; ErrUnauthorized or ErrForbidden for a key that may not see it; *RequestError
// when no answer came (connection, timeout, context); *DecodeError for an answer that cannot
// be read.
//
// API: GET /api/v2/pushes/{id}
func (s *PushesService) Get(ctx context.Context, id string) (*Push, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return fetch[Push](ctx, s.client, call{method: "GET", path: "pushes/" + p})
}

func (o *PushListOptions) checkRange() error {
	if o == nil {
		return nil
	}
	return checkRange(o.StartDate, o.EndDate)
}
