package loyalty

import "context"

// TariffsService reads the tariffs (plans) an agency can put its companies on.
type TariffsService service

// Tariff is a plan: its prices, limits and options.
type Tariff struct {
	ID        int           `json:"id"`
	Name      string        `json:"name"`
	Type      int           `json:"type"`
	Country   string        `json:"country"`
	Currency  string        `json:"currency"`
	Prices    *TariffPrices `json:"prices"`
	Limits    TariffLimits  `json:"limits"`
	Options   TariffOptions `json:"options"`
	CreatedAt Timestamp     `json:"createdAt"`
	UpdatedAt Timestamp     `json:"updatedAt"`
}

// TariffPrices are a tariff's prices per period; nil on a tariff without prices.
type TariffPrices struct {
	Month   float64 `json:"month"`
	Quarter float64 `json:"quarter"`
	Year    float64 `json:"year"`
}

// TariffLimits are how many of each thing a tariff allows.
type TariffLimits struct {
	Templates    int `json:"templates"`
	Locations    int `json:"locations"`
	Managers     int `json:"managers"`
	Integrations int `json:"integrations"`
}

// TariffOptions are the features a tariff includes.
type TariffOptions struct {
	AutoPush        bool `json:"autoPush"`
	CustomAutoPush  bool `json:"customAutoPush"`
	CustomFields    bool `json:"customFields"`
	DuplicatesCheck bool `json:"duplicatesCheck"`
	Integrations    bool `json:"integrations"`
	PhoneCheck      bool `json:"phoneCheck"`
	Push            bool `json:"push"`
	ReferralProgram bool `json:"referralProgram"`
	Reports         bool `json:"reports"`
	WhiteLabel      bool `json:"whiteLabel"`
}

// List returns every tariff (the endpoint takes no paging).
//
// Errors: ErrUnauthorized or ErrForbidden for a key that may not list tariffs (an agency's);
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/tariffs
func (s *TariffsService) List(ctx context.Context) ([]Tariff, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	var tariffs []Tariff
	resp, err := s.client.do(ctx, &call{method: "GET", path: "tariffs", out: &tariffs})
	if err != nil {
		return nil, resp, err
	}
	return tariffs, resp, nil
}

// Get returns a tariff.
//
// Errors: ErrInvalidArgument for an id of 0 or less (nothing sent); ErrNotFound when there
// is no such tariff; ErrUnauthorized or ErrForbidden for a key that may not see it;
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/tariffs/{id}
func (s *TariffsService) Get(ctx context.Context, id int) (*Tariff, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return fetch[Tariff](ctx, s.client, call{method: "GET", path: "tariffs/" + p})
}
