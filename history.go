package loyalty

import (
	"context"
	"iter"
)

// OperationsService reads the operations history: one row per card action. After an
// *OutcomeUnknownError, read it to learn whether the action was applied.
type OperationsService service

// Operation is one row of the operations history.
type Operation struct {
	ID         int      `json:"id"`
	CardID     string   `json:"cardId"`
	CustomerID string   `json:"customerId"`
	Customer   Customer `json:"customer"`
	TemplateID int      `json:"templateId"`
	CompanyID  int      `json:"companyId"`
	// EventID is the kind of action, as the API numbers it. The numbering is not documented,
	// so it is kept raw; compare it with the EventID of a history row whose action you know.
	EventID int `json:"eventId"`
	// Amount is the quantity the action moved.
	Amount float64 `json:"amount"`
	// Balance is the card's balance after the action.
	Balance     int       `json:"balance"`
	PurchaseSum float64   `json:"purchaseSum"`
	Source      string    `json:"source"`
	Comment     string    `json:"comment"`
	CardDevice  string    `json:"cardDevice"`
	LocationID  int       `json:"locationId"`
	ManagerID   int       `json:"managerId"`
	CreatedAt   Timestamp `json:"createdAt"`
	UpdatedAt   Timestamp `json:"updatedAt"`
}

// OperationListOptions filters the history. Zero values filter nothing; dates are inclusive
// days. The API documents neither the time zone of StartDate and EndDate (the account's
// timezone setting, see Profile, is the likely one) nor the order of the rows: do not rely
// on either, and widen a date range by a day on each side when the exact edge matters.
type OperationListOptions struct {
	ListOptions
	CardID     string `url:"cardId,omitempty"`
	CustomerID string `url:"customerId,omitempty"`
	TemplateID int    `url:"templateId,omitempty"`
	StartDate  Date   `url:"startDate,omitempty"`
	EndDate    Date   `url:"endDate,omitempty"`
}

func (o *OperationListOptions) checkRange() error {
	if o == nil {
		return nil
	}
	return checkRange(o.StartDate, o.EndDate)
}

// List returns one page of operations matching opts (nil: the first page of all), with the
// page's Meta on the Response. The API has been seen answering 1000 rows a page when
// itemsPerPage is not given.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list the history; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/operations
func (s *OperationsService) List(ctx context.Context, opts *OperationListOptions) ([]Operation, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if err := opts.checkRange(); err != nil {
		return nil, nil, err
	}
	return list[Operation](ctx, s.client, "operations", opts)
}

// All walks every operation matching opts, fetching pages as the loop reaches them.
//
// API: GET /api/v2/operations, page after page
func (s *OperationsService) All(ctx context.Context, opts *OperationListOptions) iter.Seq2[Operation, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Operation](err)
	}
	if err := opts.checkRange(); err != nil {
		return failed[Operation](err)
	}
	return walk[Operation](ctx, s.client, "operations", opts)
}
