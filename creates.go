package loyalty

import (
	"context"
	"errors"
	"strings"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// The helpers below create something at most once, for scripts that may crash half-way and
// run again, and for creates whose answer was lost (*OutcomeUnknownError).

// FindOrCreate creates a customer, or returns the existing one with the same email or phone.
// The API refuses a second customer with an email or phone already in use (409), so a create
// whose answer was lost is resolved by looking the customer up, and created again only when
// the look-up finds nobody: if the first create did land after all, the second gets a 409
// and the look-up finds it. The response is the create's (201) or the look-up's (200).
//
// API: POST /api/v2/customers; on a 409 or a lost answer GET /api/v2/customers
func (s *CustomersService) FindOrCreate(ctx context.Context, req *CustomerCreateRequest) (*Customer, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	var lastErr error
	var lastResp *Response
	for range 3 {
		created, resp, err := s.Create(ctx, req)
		if err == nil {
			return created, resp, nil
		}
		if !errors.Is(err, ErrConflict) && !IsOutcomeUnknown(err) {
			return nil, resp, err
		}
		found, fresp, ferr := s.find(ctx, req)
		switch {
		case ferr != nil:
			return nil, fresp, ferr
		case found != nil:
			return found, fresp, nil
		case errors.Is(err, ErrConflict):
			return nil, resp, err // a conflict the look-up cannot explain: let the caller see it
		}
		lastErr, lastResp = err, resp // lost, and not there: not created, so create it again
	}
	return nil, lastResp, lastErr
}

// find looks a customer up by the request's email, then its phone.
func (s *CustomersService) find(ctx context.Context, req *CustomerCreateRequest) (*Customer, *Response, error) {
	var resp *Response
	for _, o := range []*CustomerListOptions{{Email: req.Email}, {Phone: req.Phone}} {
		if o.Email == "" && o.Phone == "" {
			continue
		}
		list, r, err := s.List(ctx, o)
		if err != nil {
			return nil, r, err
		}
		resp = r
		for i := range list {
			c := &list[i]
			if o.Email != "" && strings.EqualFold(c.Email, o.Email) || o.Phone != "" && samePhone(c.Phone, o.Phone) {
				return c, r, nil
			}
		}
	}
	return nil, resp, nil
}

// samePhone compares phone numbers by their digits: "+1 555-0142" is "15550142".
func samePhone(a, b string) bool {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	return digits(a) != "" && digits(a) == digits(b)
}

// CreateOnce creates a company unless one with the same email (any case) already exists, and
// returns that one instead: an agency script that crashed half-way can run again. The API
// has no external id for companies and no email filter, so it lists every company of the
// agency before creating (one request per 1,000 companies), and again after a create whose
// answer was lost, up to once.Lookups times, Settle apart. If the company still does not
// show, the error stays an *OutcomeUnknownError: the API does not refuse a second company
// with the same email, so sending again could create it twice. The company returned was read
// with Get, so it carries its APIKey.
//
// API: GET /api/v2/companies, POST /api/v2/companies, GET /api/v2/companies/{id}
func (s *CompaniesService) CreateOnce(ctx context.Context, req *CompanyCreateRequest, once *Once) (*Company, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	if found, resp, err := s.byEmail(ctx, req.Email); err != nil || found != nil {
		return found, resp, err
	}
	created, resp, err := s.Create(ctx, req)
	if !IsOutcomeUnknown(err) {
		return created, resp, err
	}
	for range once.lookups() {
		if werr := transport.Sleep(ctx, once.settle()); werr != nil {
			return nil, resp, err
		}
		if found, fresp, ferr := s.byEmail(ctx, req.Email); ferr == nil && found != nil {
			return found, fresp, nil
		}
	}
	return nil, resp, err
}

// byEmail finds a company by its email among every company, and reads it whole.
func (s *CompaniesService) byEmail(ctx context.Context, email string) (*Company, *Response, error) {
	for c, err := range s.All(ctx, &CompanyListOptions{ListOptions: ListOptions{ItemsPerPage: MaxItemsPerPage}}) {
		if err != nil {
			return nil, nil, err
		}
		if strings.EqualFold(c.Email, email) {
			return s.Get(ctx, c.ID)
		}
	}
	return nil, nil, nil
}

// FindOrIssue returns the customer's card from the template, issuing it if there is none
// yet. After an issue whose answer was lost it looks again (once.Lookups times, Settle
// apart, so that an issue still in flight has landed) and issues again only when the card
// still does not show: the card list is read from the cards themselves, not from a history
// that could lag.
//
// API: GET /api/v2/cards, POST /api/v2/cards
func (s *CardsService) FindOrIssue(ctx context.Context, req *CardCreateRequest, once *Once) (*Card, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	if found, resp, err := s.issued(ctx, req); err != nil || found != nil {
		return found, resp, err
	}
	var lastErr error
	var lastResp *Response
	for range once.sends() {
		card, resp, err := s.Create(ctx, req)
		if !IsOutcomeUnknown(err) {
			return card, resp, err
		}
		lastErr, lastResp = err, resp
		for range once.lookups() {
			if werr := transport.Sleep(ctx, once.settle()); werr != nil {
				return nil, resp, err
			}
			found, fresp, ferr := s.issued(ctx, req)
			if ferr == nil && found != nil {
				return found, fresp, nil
			}
		}
	}
	return nil, lastResp, lastErr
}

// issued finds the customer's card from the template.
func (s *CardsService) issued(ctx context.Context, req *CardCreateRequest) (*Card, *Response, error) {
	cards, resp, err := s.List(ctx, &CardListOptions{CustomerID: req.CustomerID, TemplateID: req.TemplateID})
	if err != nil {
		return nil, resp, err
	}
	for i := range cards {
		if cards[i].CustomerID == req.CustomerID && cards[i].TemplateID == req.TemplateID {
			return &cards[i], resp, nil
		}
	}
	return nil, resp, nil
}
