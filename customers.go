package loyalty

import (
	"context"
	"iter"
	"strings"
)

// CustomersService manages customers, the people cards are issued to.
type CustomersService service

// Gender is a customer's gender as the API codes it. GenderUnknown (0) is a value the API
// stores, distinct from leaving the field out.
type Gender int

// Genders known to the API.
const (
	GenderUnknown Gender = 0
	GenderMale    Gender = 1
	GenderFemale  Gender = 2
)

// Customer is a person cards are issued to.
type Customer struct {
	// ID is a UUID.
	ID             string    `json:"id"`
	FirstName      string    `json:"firstName"`
	Surname        string    `json:"surname"`
	Email          string    `json:"email"`
	Phone          string    `json:"phone"`
	DateOfBirth    Date      `json:"dateOfBirth"`
	Gender         Gender    `json:"gender"`
	ExternalUserID string    `json:"externalUserId"`
	Segments       []Segment `json:"segments"`
	CreatedAt      Timestamp `json:"createdAt"`
	UpdatedAt      Timestamp `json:"updatedAt"`
}

// Segment is a group a customer belongs to.
type Segment struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Type int    `json:"type"`
}

// CustomerListOptions filters the customer list. Zero values filter nothing.
type CustomerListOptions struct {
	ListOptions
	Email string `url:"email,omitempty"`
	Phone string `url:"phone,omitempty"`
}

// CustomerCreateRequest creates a customer: a first name and at least one of phone and email.
type CustomerCreateRequest struct {
	FirstName      string  `json:"firstName"`
	Surname        string  `json:"surname,omitempty"`
	Phone          string  `json:"phone,omitempty"`
	Email          string  `json:"email,omitempty"`
	Gender         *Gender `json:"gender,omitempty"`
	DateOfBirth    Date    `json:"dateOfBirth,omitzero"`
	ExternalUserID string  `json:"externalUserId,omitempty"`
}

// CustomerUpdateRequest changes a customer. Nil fields are left as they are. The phone number
// cannot be changed.
type CustomerUpdateRequest struct {
	FirstName      *string `json:"firstName,omitempty"`
	Surname        *string `json:"surname,omitempty"`
	Email          *string `json:"email,omitempty"`
	Gender         *Gender `json:"gender,omitempty"`
	DateOfBirth    *Date   `json:"dateOfBirth,omitempty"`
	ExternalUserID *string `json:"externalUserId,omitempty"`
}

// customerPatch is the PATCH body: the API wants the id repeated in it.
type customerPatch struct {
	ID string `json:"id"`
	*CustomerUpdateRequest
}

// List returns one page of customers matching opts (nil: the first page of all), with the
// page's Meta on the Response.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list customers; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/customers
func (s *CustomersService) List(ctx context.Context, opts *CustomerListOptions) ([]Customer, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return list[Customer](ctx, s.client, "customers", opts)
}

// All walks every customer matching opts, fetching pages as the loop reaches them.
//
// API: GET /api/v2/customers, page after page
func (s *CustomersService) All(ctx context.Context, opts *CustomerListOptions) iter.Seq2[Customer, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Customer](err)
	}
	return walk[Customer](ctx, s.client, "customers", opts)
}

// Get returns the customer with the given id.
//
// Errors: ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no
// such customer; ErrUnauthorized or ErrForbidden for a key that may not see it;
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/customers/{id}
func (s *CustomersService) Get(ctx context.Context, id string) (*Customer, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return fetch[Customer](ctx, s.client, call{method: "GET", path: "customers/" + p})
}

// Create creates a customer and returns it (Response.StatusCode 201). A request without a
// first name, or with neither phone nor email, is refused before sending.
//
// Errors: ErrInvalidArgument for a request the client can tell is wrong (nothing sent);
// ErrValidation for one the API refuses (FieldErrors say which fields, and Error() shows the
// first); ErrConflict when the email or phone belongs to another customer;
// *OutcomeUnknownError (ErrOutcomeUnknown) when the answer was lost: a create is never sent
// twice (see FindOrCreate).
//
// API: POST /api/v2/customers
func (s *CustomersService) Create(ctx context.Context, req *CustomerCreateRequest) (*Customer, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	return fetch[Customer](ctx, s.client, call{method: "POST", path: "customers", body: req})
}

func (r *CustomerCreateRequest) validate() error {
	if r.FirstName == "" {
		return invalid("firstName", "must not be empty")
	}
	return r.validateToFind()
}

// validateToFind checks what FindOrCreate needs before it looks: a phone or an email, and
// fields the API would refuse. The first name is needed only to create.
func (r *CustomerCreateRequest) validateToFind() error {
	switch {
	case r.Phone == "" && r.Email == "":
		return invalid("phone", "a phone or an email is required")
	case r.Gender != nil && (*r.Gender < GenderUnknown || *r.Gender > GenderFemale):
		return invalid("gender", "must be 0, 1 or 2")
	case !r.DateOfBirth.valid():
		return invalid("dateOfBirth", "is not a calendar day")
	}
	return nil
}

// Update changes the fields of req that are not nil, and returns the customer as changed.
//
// Errors: ErrInvalidArgument for an empty id or an empty change (nothing sent); ErrNotFound
// when there is no such customer; ErrValidation for a change the API refuses;
// *OutcomeUnknownError when the answer was lost (a PATCH is never sent twice).
//
// API: PATCH /api/v2/customers/{id}
func (s *CustomersService) Update(ctx context.Context, id string, req *CustomerUpdateRequest) (*Customer, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case *req == CustomerUpdateRequest{}:
		return nil, nil, invalid("request", "set at least one field to change")
	case req.FirstName != nil && *req.FirstName == "":
		return nil, nil, invalid("firstName", "must not be empty")
	case req.Gender != nil && (*req.Gender < GenderUnknown || *req.Gender > GenderFemale):
		return nil, nil, invalid("gender", "must be 0, 1 or 2")
	case req.DateOfBirth != nil && !req.DateOfBirth.valid():
		return nil, nil, invalid("dateOfBirth", "is not a calendar day")
	}
	body := customerPatch{ID: id, CustomerUpdateRequest: req}
	return fetch[Customer](ctx, s.client, call{method: "PATCH", path: "customers/" + p, body: body})
}

// Delete deletes a customer.
//
// Returns the answer; Response.DeletedEarlier is set when an earlier attempt, whose answer
// was lost, deleted it (the delete is retried, and the retry finds it gone). Errors:
// ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no such
// customer; *RequestError when no answer came (connection, timeout, context).
//
// API: DELETE /api/v2/customers/{id}
func (s *CustomersService) Delete(ctx context.Context, id string) (*Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &call{method: "DELETE", path: "customers/" + p})
}

// FindOrCreate returns the customer with the request's email or phone, or creates one. It
// finds by email or phone alone: the first name is needed only to create (a till that knows
// only a phone finds a returning customer without inventing a name). The API refuses a
// second customer with an email or phone already in use (409), so a create whose answer was
// lost is resolved by looking the customer up, and created again only when the look-up finds
// nobody: if the first create did land after all, the second gets a 409 and the look-up
// finds it. A repeat for the same email and phone is answered from the client's ledger with
// one GET. The response is the create's (201), the look-up's or the read's (200);
// Response.Found says whether the customer existed.
//
// What it sends: the customer list filtered by email (then by phone, when the email finds
// nobody), and the create when nobody is found; a repeat, one GET.
//
// Returns the customer. Errors: ErrInvalidArgument for a request with neither an email nor a
// phone (nothing sent), or without a first name when nobody has them (nothing created); the
// create's *APIError (a 409 the look-up cannot explain, say); an ErrLedger error when the
// ledger fails.
//
// API: GET /api/v2/customers, POST /api/v2/customers; GET /api/v2/customers/{id} for a
// repeat
func (s *CustomersService) FindOrCreate(ctx context.Context, req *CustomerCreateRequest) (*Customer, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	if err := req.validateToFind(); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("customer", strings.ToLower(strings.TrimSpace(req.Email)), digits(req.Phone))
	return createOnce(ctx, s.client, key, nil, creator[Customer]{
		find: func(ctx context.Context, _ bool) (*Customer, *Response, error) { return s.find(ctx, req) },
		create: func(ctx context.Context) (*Customer, *Response, error) {
			if req.FirstName == "" {
				return nil, nil, invalid("firstName", "no customer has this phone or email yet: a first name is needed to create one")
			}
			return s.Create(ctx, req)
		},
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
