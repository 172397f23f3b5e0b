package loyalty

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CompaniesService manages an agency's sub-accounts (companies). To act as a company, get a
// client for it with Client.ForCompany.
type CompaniesService service

// TariffPeriod is how long a company's tariff is bought for.
type TariffPeriod string

// Tariff periods.
const (
	TariffTrial      TariffPeriod = "trial"
	TariffMonth      TariffPeriod = "month"
	TariffTwoMonths  TariffPeriod = "two_months"
	TariffQuarter    TariffPeriod = "quarter"
	TariffSixMonths  TariffPeriod = "six_months"
	TariffNineMonths TariffPeriod = "nine_months"
	TariffYear       TariffPeriod = "year"
)

func (p TariffPeriod) valid() bool {
	switch p {
	case TariffTrial, TariffMonth, TariffTwoMonths, TariffQuarter, TariffSixMonths, TariffNineMonths, TariffYear:
		return true
	}
	return false
}

// Company is an agency's sub-account.
type Company struct {
	ID       int    `json:"id"`
	UserID   string `json:"userId"`
	TariffID int    `json:"tariffId"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Note     string `json:"note"`
	Status   int    `json:"status"`
	// APIKey is the company's own key: pass the company to Client.ForCompany to act as it.
	// It never prints; see Secret.
	APIKey    Secret       `json:"apiKey"`
	ExpiresAt *Timestamp   `json:"expiresAt"`
	CreatedAt Timestamp    `json:"createdAt"`
	UpdatedAt Timestamp    `json:"updatedAt"`
	Extra     CompanyExtra `json:"extra"`
}

// Format prints the company with its API key masked, whatever the verb.
func (c Company) Format(f fmt.State, verb rune) {
	type plain Company // no methods: formats field by field, APIKey through Secret.Format
	if verb == 'v' && (f.Flag('+') || f.Flag('#')) {
		fmt.Fprintf(f, "%+v", plain(c))
		return
	}
	fmt.Fprintf(f, "{%d %s %s}", c.ID, c.Name, c.APIKey)
}

// LogValue logs the company's identity, never its key.
func (c Company) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", c.ID), slog.String("name", c.Name), slog.String("apiKey", c.APIKey.String()))
}

// CompanyExtra is a company's address and web details.
type CompanyExtra struct {
	FullAddress string `json:"fullAddress"`
	Street      string `json:"street"`
	City        string `json:"city"`
	State       string `json:"state"`
	StateCode   string `json:"stateCode"`
	Country     string `json:"country"`
	CountryCode string `json:"countryCode"`
	PostalCode  string `json:"postalCode"`
	Timezone    string `json:"timezone"`
	Website     string `json:"website"`
}

// CompanyListOptions pages the company list.
type CompanyListOptions struct {
	ListOptions
}

// CompanyCreateRequest creates a company. Every field but Language is required.
type CompanyCreateRequest struct {
	Name        string
	Email       string
	Phone       string
	Country     string
	UserName    string
	UserSurname string
	// Password is the company user's password, 6 to 20 characters.
	Password     Secret
	TariffID     int
	TariffPeriod TariffPeriod
	// Language is a 2 to 5 letter code, such as "en".
	Language string
}

// companyCreateBody is the wire form of CompanyCreateRequest: the only place the password is
// revealed.
type companyCreateBody struct {
	TariffID     int          `json:"tariffId"`
	TariffPeriod TariffPeriod `json:"tariffPeriod"`
	Name         string       `json:"name"`
	UserName     string       `json:"userName"`
	UserSurname  string       `json:"userSurname"`
	Email        string       `json:"email"`
	Phone        string       `json:"phone"`
	Password     string       `json:"password"`
	Country      string       `json:"country"`
	Language     string       `json:"language,omitempty"`
}

// CompanyUpdateRequest changes a company. Nil fields are left as they are.
type CompanyUpdateRequest struct {
	Name      *string    `json:"name,omitempty"`
	ExpiresAt *Timestamp `json:"expiresAt,omitempty"`
}

// ChangeTariffRequest moves a company to another tariff.
type ChangeTariffRequest struct {
	TariffID     int          `json:"tariffId"`
	TariffPeriod TariffPeriod `json:"tariffPeriod"`
}

// changeTariffPath is the change-tariff endpoint, listed in the product docs but absent from
// the API's description: its path and body (ChangeTariffRequest) are assumptions kept here
// and in that one type.
const changeTariffPath = "/change-tariff"

// SSOLink is a single-sign-on link into a company's dashboard. The link is a bearer
// credential: whoever opens it is signed in. Hand it to the company's user and nowhere else.
// Printing or logging an SSOLink shows the link without its query string (where the token
// travels); Link itself, and JSON, keep it whole.
type SSOLink struct {
	Link string `json:"link"`
}

// String shows the link without its query string and fragment.
func (l SSOLink) String() string { return withoutQuery(l.Link) }

// Format keeps the token out of every fmt verb, %#v and %+v included.
func (l SSOLink) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue keeps the token out of slog records.
func (l SSOLink) LogValue() slog.Value { return slog.StringValue(l.String()) }

// List returns one page of the agency's companies (opts nil: the first page), with the
// page's Meta on the Response. An agency key only.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list companies; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/companies
func (s *CompaniesService) List(ctx context.Context, opts *CompanyListOptions) ([]Company, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return list[Company](ctx, s.client, "companies", opts)
}

// All walks every company, fetching pages as the loop reaches them.
//
// API: GET /api/v2/companies, page after page
func (s *CompaniesService) All(ctx context.Context, opts *CompanyListOptions) iter.Seq2[Company, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Company](err)
	}
	return walk[Company](ctx, s.client, "companies", opts)
}

// Get returns a company, with its API key (a Secret).
//
// Errors: ErrInvalidArgument for an id of 0 or less (nothing sent); ErrNotFound when there
// is no such company; ErrUnauthorized or ErrForbidden for a key that may not see it;
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/companies/{id}
func (s *CompaniesService) Get(ctx context.Context, id int) (*Company, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return fetch[Company](ctx, s.client, call{method: "GET", path: "companies/" + p})
}

// Create creates a company and returns it (Response.StatusCode 201). Missing fields, a
// password outside 6 to 20 characters and an unknown tariff period are refused before
// sending. The password is a Secret: loyalty.NewSecret(p).
//
// Errors: ErrInvalidArgument for a request the client can tell is wrong (nothing sent);
// ErrValidation for one the API refuses (FieldErrors say which fields, and Error() shows the
// first) (an unknown tariffId, say); *OutcomeUnknownError (ErrOutcomeUnknown) when the
// answer was lost: a create is never sent twice (see CreateOnce).
//
// API: POST /api/v2/companies
func (s *CompaniesService) Create(ctx context.Context, req *CompanyCreateRequest) (*Company, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	body := companyCreateBody{
		TariffID: req.TariffID, TariffPeriod: req.TariffPeriod, Name: req.Name, UserName: req.UserName,
		UserSurname: req.UserSurname, Email: req.Email, Phone: req.Phone, Password: req.Password.Reveal(),
		Country: req.Country, Language: req.Language,
	}
	return fetch[Company](ctx, s.client, call{method: "POST", path: "companies", body: body, secrets: []string{body.Password}})
}

func (r *CompanyCreateRequest) validate() error {
	for _, f := range [...]struct{ name, v string }{{"name", r.Name}, {"email", r.Email}, {"phone", r.Phone},
		{"country", r.Country}, {"userName", r.UserName}, {"userSurname", r.UserSurname}} {
		if f.v == "" {
			return invalid(f.name, "must not be empty")
		}
	}
	switch n := len([]rune(r.Password.Reveal())); {
	case n < 6 || n > 20:
		return invalid("password", "must be 6 to 20 characters")
	case r.TariffID <= 0:
		return invalid("tariffId", "must be a positive id")
	case !r.TariffPeriod.valid():
		return invalid("tariffPeriod", "must be one of trial, month, two_months, quarter, six_months, nine_months, year")
	case r.Language != "" && (len(r.Language) < 2 || len(r.Language) > 5):
		return invalid("language", "must be 2 to 5 characters")
	}
	return nil
}

// Update changes a company's name or expiry, and returns the company as changed.
//
// Errors: ErrInvalidArgument for an empty id or an empty change (nothing sent); ErrNotFound
// when there is no such company; ErrValidation for a change the API refuses;
// *OutcomeUnknownError when the answer was lost (a PATCH is never sent twice).
//
// API: PATCH /api/v2/companies/{id}
func (s *CompaniesService) Update(ctx context.Context, id int, req *CompanyUpdateRequest) (*Company, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	if req.Name == nil && req.ExpiresAt == nil {
		return nil, nil, invalid("request", "set the name or the expiry to change")
	}
	if req.ExpiresAt != nil {
		if err := checkStored("expiresAt", req.ExpiresAt.Time); err != nil {
			return nil, nil, err
		}
	}
	return fetch[Company](ctx, s.client, call{method: "PATCH", path: "companies/" + p, body: req})
}

// Delete deletes a company.
//
// Returns the answer; Response.DeletedEarlier is set when an earlier attempt, whose answer
// was lost, deleted it (the delete is retried, and the retry finds it gone). Errors:
// ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no such
// company; *RequestError when no answer came (connection, timeout, context).
//
// API: DELETE /api/v2/companies/{id}
func (s *CompaniesService) Delete(ctx context.Context, id int) (*Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, err
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &call{method: "DELETE", path: "companies/" + p})
}

// SSOLink returns a link that signs into the company's dashboard: a bearer credential, for
// the company's user only.
//
// Errors: ErrInvalidArgument for an id of 0 or less (nothing sent); ErrNotFound when there
// is no such company; ErrUnauthorized or ErrForbidden for a key that may not see it;
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/companies/{id}/sso-link
func (s *CompaniesService) SSOLink(ctx context.Context, id int) (*SSOLink, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return fetch[SSOLink](ctx, s.client, call{method: "GET", path: "companies/" + p + "/sso-link"})
}

// ChangeTariff moves a company to another tariff, and returns the company. This endpoint is
// in the product docs but not in the API's description; its body is an assumption (see
// ChangeTariffRequest).
//
// Errors: ErrInvalidArgument for an id of 0 or less, or a request without a tariff or with
// an unknown period (nothing sent); ErrNotFound when there is no such company; ErrValidation
// for a tariff the API refuses; ErrEndpointNotFound if the API does not have the endpoint
// after all; *OutcomeUnknownError when the answer was lost.
//
// API: POST /api/v2/companies/{id}/change-tariff
func (s *CompaniesService) ChangeTariff(ctx context.Context, id int, req *ChangeTariffRequest) (*Company, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case req.TariffID <= 0:
		return nil, nil, invalid("tariffId", "must be a positive id")
	case !req.TariffPeriod.valid():
		return nil, nil, invalid("tariffPeriod", "must be one of trial, month, two_months, quarter, six_months, nine_months, year")
	}
	return fetch[Company](ctx, s.client, call{method: "POST", path: "companies/" + p + changeTariffPath, body: req})
}

// CreateOnce creates a company unless one with the same email (any case) already exists, and
// returns that one instead: an agency script that crashed half-way can run again. The API
// has no external id for companies and no email filter, so it lists every company of the
// agency (one request per 1,000 companies) and keeps that list, by email, for
// companyIndexKeep (5 minutes), adding the companies it creates: CreateOnce called for each
// row of a CSV lists the companies once for the whole run, then sends two requests a row (the
// create, and a read of the new company with its key; one read for a company that exists).
// Response.Found says which a row was.
//
// Keeping the list opens a window: a company with the same email created after the list was
// read, by something that does not share this client's ledger (the dashboard, another tool),
// is not seen, and a second one would be created. The window is as old as the list, at most
// companyIndexKeep. It is safe for what CreateOnce is for: every company created through
// CreateOnce is claimed in the ledger first, so a repeat from this process, or from any
// process that shares the ledger (WithLedger), is caught there, not by the list; and a lost
// create is looked for in a fresh list, never in the kept one.
//
// After a create whose answer was lost it lists again, the options' waits apart, and creates
// again only when the company still does not show once the create can no longer be in flight
// (OnceOptions.InFlight after it ended): the API does not refuse a second company with the
// same email. If the looks run out first, the error stays an *OutcomeUnknownError,
// remembered in the ledger so that the next run finds out before it sends. A repeat is
// answered from the client's ledger with one GET. The company returned was read with Get, so
// it carries its APIKey.
//
// Returns the company. Errors: ErrInvalidArgument for an incomplete request (nothing sent);
// *OutcomeUnknownError; the API's *APIError (ErrValidation for an unknown tariff, say); an
// ErrLedger error when the ledger fails.
//
// API: GET /api/v2/companies, POST /api/v2/companies, GET /api/v2/companies/{id}
func (s *CompaniesService) CreateOnce(ctx context.Context, req *CompanyCreateRequest, once *OnceOptions) (*Company, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("company", strings.ToLower(strings.TrimSpace(req.Email)))
	return createOnce(ctx, s.client, key, once, creator[Company]{
		find: func(ctx context.Context, again bool) (*Company, *Response, error) {
			return s.byEmail(ctx, req.Email, again)
		},
		create: func(ctx context.Context) (*Company, *Response, error) {
			created, resp, err := s.Create(ctx, req)
			if err != nil {
				return nil, resp, err
			}
			s.client.companyIndex.add(req.Email, created.ID)
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

// companyIndexKeep is how long CreateOnce keeps the list of the agency's companies.
const companyIndexKeep = 5 * time.Minute

// companyIndex is the agency's companies by email (lower case), from one listing of them
// all, for CreateOnce. Each client has its own: each key sees its own companies.
type companyIndex struct {
	mu    sync.Mutex
	ids   map[string]int
	built time.Time
	resp  *Response // the listing's last answer
}

func (x *companyIndex) add(email string, id int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ids != nil {
		x.ids[strings.ToLower(strings.TrimSpace(email))] = id
	}
}

// byEmail finds a company by its email among every company, and reads it whole. fresh lists
// them again rather than trust the kept list. The response is the read's, or the listing's
// when there is none.
func (s *CompaniesService) byEmail(ctx context.Context, email string, fresh bool) (*Company, *Response, error) {
	x := s.client.companyIndex
	x.mu.Lock()
	if fresh || x.ids == nil || time.Since(x.built) > companyIndexKeep {
		ids, resp, err := s.listAll(ctx)
		if err != nil {
			x.mu.Unlock()
			return nil, resp, err
		}
		x.ids, x.built, x.resp = ids, time.Now(), resp
	}
	id, ok := x.ids[strings.ToLower(strings.TrimSpace(email))]
	resp := x.resp
	x.mu.Unlock()
	if !ok {
		return nil, resp, nil
	}
	company, resp, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) && !fresh {
		return s.byEmail(ctx, email, true) // deleted since the list was read
	}
	return company, resp, err
}

// listAll reads every company of the agency, 1,000 a page, by email.
func (s *CompaniesService) listAll(ctx context.Context) (map[string]int, *Response, error) {
	ids := map[string]int{}
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
			if key := strings.ToLower(strings.TrimSpace(c.Email)); key != "" {
				if _, dup := ids[key]; !dup {
					ids[key] = c.ID // the first of any duplicates, as a search would find
				}
			}
		}
		if len(list) == 0 || lastPage(resp, len(list)) {
			return ids, resp, nil
		}
		prev = list
	}
}
