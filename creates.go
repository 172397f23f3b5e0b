package loyalty

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// The helpers below create something at most once, for scripts that may crash half-way and
// run again, and for creates whose answer was lost (*OutcomeUnknownError). Each claims its
// key in the client's ledger first (see Ledger), so a repeat in this process, or in any that
// shares the ledger, is answered from it; then looks for what exists; creates; and after a
// lost answer looks again until the object shows, or until the attempt can no longer be in
// flight (Once.InFlight after it ended) and it has not: only then may it be created again.

// creator is what createOnce needs of one kind of object.
type creator[T any] struct {
	// find looks for the object; nil when there is none. Its response dates the look on the
	// server's clock.
	find func(context.Context) (*T, *Response, error)
	// create sends the create; get reads an object the ledger names.
	create func(context.Context) (*T, *Response, error)
	get    func(context.Context, string) (*T, *Response, error)
	id     func(*T) string
	// conflictIsExisting marks an object the API refuses twice (409): a create still in flight
	// cannot make a second one, so a lost create may be sent again at once, and a refused
	// one is found by the next look.
	conflictIsExisting bool
}

// createOnce finds or creates the object of cr at most once per key.
func createOnce[T any](ctx context.Context, c *Client, key string, once *Once, cr creator[T]) (*T, *Response, error) {
	cl, settled, err := c.claimOnce(ctx, key, once.hold())
	switch {
	case errors.Is(err, errHeldElsewhere):
		return nil, nil, &OutcomeUnknownError{Err: err, Finding: &Finding{Reason: errHeldElsewhere.Error()}}
	case err != nil:
		return nil, nil, err
	case cl == nil:
		return cr.get(ctx, settled.ID) // created before, as the ledger says
	}
	defer cl.release(ctx) // unless an outcome is recorded below: nothing was created
	inFlight := once.settings(c).inFlight

	// pending is a create whose answer was lost: by this call, or by an earlier one the ledger
	// remembers. Until it can no longer be in flight, nothing is sent again.
	var pending *attempt
	if cl.prev.State == LedgerUnknown {
		pending = earlier(cl.prev, cl.granted)
	}
	if d := cl.doubt(inFlight); d > 0 && !cr.conflictIsExisting {
		// The ledger lost what it held a moment ago: a create whose claim it forgot may still
		// land. Wait until none can; the look below then sees it.
		if err := cl.sleep(ctx, d); err != nil {
			return nil, nil, ledgerOr(err, &OutcomeUnknownError{Err: errForgotten, Finding: &Finding{Reason: errForgotten.Error()}})
		}
	}
	var lastErr error
	var lastResp *Response
	for sends := 0; ; {
		found, resp, err := stepped(ctx, cl, false, cr.find)
		if err != nil {
			if IsOutcomeUnknown(lastErr) && errors.Is(err, ErrLedger) {
				err = lastErr // this call's own lost create says it best
			}
			return nil, resp, err
		}
		if found == nil && pending != nil && !cr.conflictIsExisting {
			found, resp, err = lookAgain(ctx, cl, pending, once, inFlight, resp, cr.find)
			if err != nil {
				if IsOutcomeUnknown(lastErr) {
					err = lastErr // this call's own lost create says it best
				}
				var serverSent, serverEnded time.Time
				if now := serverTime(resp); !now.IsZero() {
					serverSent, serverEnded = pending.onServer(now)
				}
				_ = cl.unknown(ctx, "", serverSent, serverEnded)
				return nil, resp, err
			}
		}
		if found != nil {
			if lerr := cl.applied(ctx, cr.id(found)); lerr != nil {
				c.logger.Warn("loyalty: the ledger could not record a create", "error", lerr.Error())
			}
			return found, resp, nil
		}
		pending = nil // not created, and no attempt can still land: it may be sent
		if sends == once.sends() {
			return nil, lastResp, lastErr
		}
		sends++
		sent := time.Now()
		// Renewed before the send (nothing is sent under a lost claim) and cut at InFlight.
		created, resp, err := stepped(ctx, cl, true, func(ctx context.Context) (*T, *Response, error) {
			sendCtx, cancel := context.WithTimeout(ctx, inFlight)
			defer cancel()
			return cr.create(sendCtx)
		})
		ended := time.Now()
		switch {
		case err == nil:
			if lerr := cl.applied(ctx, cr.id(created)); lerr != nil {
				c.logger.Warn("loyalty: the ledger could not record a create", "error", lerr.Error())
			}
			return created, resp, nil
		case cr.conflictIsExisting && errors.Is(err, ErrConflict):
			if found, fresp, ferr := cr.find(ctx); ferr != nil || found != nil {
				if found != nil {
					_ = cl.applied(ctx, cr.id(found))
				}
				return found, fresp, ferr
			}
			return nil, resp, err // a conflict the look-up cannot explain: let the caller see it
		case !IsOutcomeUnknown(err):
			return nil, resp, err
		}
		pending = &attempt{sent: sent, ended: ended}
		lastErr, lastResp = err, resp
	}
}

// stepped runs f within a step of the claim (see claim.step).
func stepped[T any](ctx context.Context, cl *claim, fence bool, f func(context.Context) (*T, *Response, error)) (*T, *Response, error) {
	stepCtx, cancel, err := cl.step(ctx, fence)
	if err != nil {
		return nil, nil, err
	}
	defer cancel()
	return f(stepCtx)
}

// lookAgain looks for the object of a create whose answer was lost, Once's waits apart, until
// it shows or the create can no longer be in flight. It returns nil and no error when the
// create was not applied, and an *OutcomeUnknownError when the looks ran out first.
func lookAgain[T any](ctx context.Context, cl *claim, a *attempt, once *Once, inFlight time.Duration, resp *Response, find func(context.Context) (*T, *Response, error)) (*T, *Response, error) {
	for _, wait := range once.waits(a.bound(inFlight)) {
		if a.inFlightLeft(time.Now(), serverTime(resp), inFlight) <= 0 {
			return nil, resp, nil
		}
		found, fresp, err := stepped(ctx, cl, false, func(ctx context.Context) (*T, *Response, error) {
			if err := transport.Sleep(ctx, wait); err != nil {
				return nil, nil, &OutcomeUnknownError{Err: err}
			}
			return find(ctx)
		})
		if err != nil {
			if fresp == nil {
				fresp = resp
			}
			return nil, fresp, err
		}
		if found != nil {
			return found, fresp, nil
		}
		resp = fresp
	}
	if a.inFlightLeft(time.Now(), serverTime(resp), inFlight) <= 0 {
		return nil, resp, nil
	}
	return nil, resp, &OutcomeUnknownError{Err: errors.New("a create whose answer was lost may still land: it does not show yet"),
		Finding: &Finding{Reason: "the object does not show, and the create may still be in flight at the server"}}
}

// onServer places an attempt on the server's clock, given the server's time now.
func (a *attempt) onServer(serverNow time.Time) (sent, ended time.Time) {
	sent, ended = a.serverSent, a.serverEnded
	if sent.IsZero() && !a.sent.IsZero() {
		sent = serverNow.Add(-time.Since(a.sent))
	}
	if ended.IsZero() && !a.ended.IsZero() {
		ended = serverNow.Add(-time.Since(a.ended))
	}
	return sent, ended
}

// FindOrCreate creates a customer, or returns the existing one with the same email or phone.
// The API refuses a second customer with an email or phone already in use (409), so a create
// whose answer was lost is resolved by looking the customer up, and created again only when
// the look-up finds nobody: if the first create did land after all, the second gets a 409
// and the look-up finds it. A repeat for the same email and phone is answered from the
// client's ledger with one GET. The response is the create's (201), the look-up's or the
// read's (200).
//
// Errors: ErrInvalidArgument for a request without a first name, or with neither an email
// nor a phone (nothing sent); the create's *APIError (a 409 the look-up cannot explain, say); an
// ErrLedger error when the ledger fails.
//
// API: GET /api/v2/customers, POST /api/v2/customers; GET /api/v2/customers/{id} for a
// repeat
func (s *CustomersService) FindOrCreate(ctx context.Context, req *CustomerCreateRequest) (*Customer, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("customer", strings.ToLower(strings.TrimSpace(req.Email)), digits(req.Phone))
	return createOnce(ctx, s.client, key, nil, creator[Customer]{
		find:               func(ctx context.Context) (*Customer, *Response, error) { return s.find(ctx, req) },
		create:             func(ctx context.Context) (*Customer, *Response, error) { return s.Create(ctx, req) },
		get:                s.Get,
		id:                 func(c *Customer) string { return c.ID },
		conflictIsExisting: true,
	})
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

// digits keeps the digits of a phone number: "+1 555-0142" is "15550142".
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// samePhone compares phone numbers by their digits.
func samePhone(a, b string) bool { return digits(a) != "" && digits(a) == digits(b) }

// CreateOnce creates a company unless one with the same email (any case) already exists, and
// returns that one instead: an agency script that crashed half-way can run again. The API
// has no external id for companies and no email filter, so it lists every company of the
// agency before creating (one request per 1,000 companies); a repeat is answered from the
// client's ledger with one GET. After a create whose answer was lost it lists again,
// once's waits apart, and creates again only when the company still does not show once the
// create can no longer be in flight (once.InFlight after it ended): the API does not refuse
// a second company with the same email. If the looks run out first, the error stays an
// *OutcomeUnknownError, remembered in the ledger so that the next run finds out before it
// sends. The company returned was read with Get, so it carries its APIKey.
//
// Errors: ErrInvalidArgument for an incomplete request (nothing sent);
// *OutcomeUnknownError; the API's *APIError (ErrValidation for an unknown tariff, say); an
// ErrLedger error when the ledger fails.
//
// API: GET /api/v2/companies, POST /api/v2/companies, GET /api/v2/companies/{id}
func (s *CompaniesService) CreateOnce(ctx context.Context, req *CompanyCreateRequest, once *Once) (*Company, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("company", strings.ToLower(strings.TrimSpace(req.Email)))
	return createOnce(ctx, s.client, key, once, creator[Company]{
		find: func(ctx context.Context) (*Company, *Response, error) { return s.byEmail(ctx, req.Email) },
		create: func(ctx context.Context) (*Company, *Response, error) {
			created, resp, err := s.Create(ctx, req)
			if err != nil {
				return nil, resp, err
			}
			return s.Get(ctx, created.ID) // whole, with its key
		},
		get: func(ctx context.Context, id string) (*Company, *Response, error) {
			n, err := strconv.Atoi(id)
			if err != nil {
				return nil, nil, invalid("ledger", "recorded a company id that is not a number")
			}
			return s.Get(ctx, n)
		},
		id: func(c *Company) string { return strconv.Itoa(c.ID) },
	})
}

// byEmail finds a company by its email among every company, and reads it whole. The response
// is the read's, or the last page's when there is none.
func (s *CompaniesService) byEmail(ctx context.Context, email string) (*Company, *Response, error) {
	opts := &CompanyListOptions{ListOptions: ListOptions{ItemsPerPage: MaxItemsPerPage}}
	var prev []Company
	for page := 1; ; page++ {
		opts.Page = page
		list, resp, err := s.List(ctx, opts)
		if err == nil && len(list) > 0 {
			err = checkProgress(resp, page, list, prev)
		}
		if err != nil {
			return nil, resp, err
		}
		for _, c := range list {
			if strings.EqualFold(c.Email, email) {
				return s.Get(ctx, c.ID)
			}
		}
		if len(list) == 0 || lastPage(resp, len(list)) {
			return nil, resp, nil
		}
		prev = list
	}
}

// FindOrIssue returns the customer's card from the template, issuing it if there is none
// yet. A repeat is answered from the client's ledger with one GET. After an issue whose
// answer was lost it looks again (once's waits apart) and issues again only when the card
// still does not show once the issue can no longer be in flight (once.InFlight after it
// ended): the card list is read from the cards themselves, not from a history that could
// lag.
//
// Errors: ErrInvalidArgument for a request without customer or template (nothing sent);
// *OutcomeUnknownError when the card does not show before the looks run out; the API's
// *APIError (ErrNotFound for an unknown customer or template); an ErrLedger error when the
// ledger fails.
//
// API: GET /api/v2/cards, POST /api/v2/cards; GET /api/v2/cards/{id} for a repeat
func (s *CardsService) FindOrIssue(ctx context.Context, req *CardCreateRequest, once *Once) (*Card, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("issue", req.CustomerID, strconv.Itoa(req.TemplateID))
	return createOnce(ctx, s.client, key, once, creator[Card]{
		find:   func(ctx context.Context) (*Card, *Response, error) { return s.issued(ctx, req) },
		create: func(ctx context.Context) (*Card, *Response, error) { return s.Create(ctx, req) },
		get:    s.Get,
		id:     func(c *Card) string { return c.ID },
	})
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
