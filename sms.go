package loyalty

import "context"

// SMSService sends text messages to customers.
type SMSService service

// SMSSendRequest sends a text message to a customer's phone.
type SMSSendRequest struct {
	CustomerID string `json:"customerId"`
	Message    string `json:"message"`
}

// SentSMS identifies a text message sent.
type SentSMS struct {
	ID string `json:"id"`
}

// Send sends a text message to a customer, and returns its id (Response.StatusCode 201).
//
// Errors: ErrInvalidArgument for a message without a customer or text (nothing sent);
// ErrNotFound when there is no such customer; ErrValidation when the customer has no phone;
// *OutcomeUnknownError when the answer was lost: a message is never sent twice.
//
// API: POST /api/v2/sms
func (s *SMSService) Send(ctx context.Context, req *SMSSendRequest) (*SentSMS, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	switch {
	case req.CustomerID == "":
		return nil, nil, invalid("customerId", "must not be empty")
	case req.Message == "":
		return nil, nil, invalid("message", "must not be empty")
	}
	return fetch[SentSMS](ctx, s.client, call{method: "POST", path: "sms", body: req})
}
