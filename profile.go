package loyalty

import "context"

// ProfileService reads and changes the account's profile and, for agencies, the agency
// profile.
type ProfileService service

// DateFormat is how the dashboard writes dates.
type DateFormat string

// Date formats the profile accepts.
const (
	DateFormatDotDMY   DateFormat = "DD.MM.YYYY"
	DateFormatSlashDMY DateFormat = "DD/MM/YYYY"
	DateFormatDashDMY  DateFormat = "DD-MM-YYYY"
	DateFormatSlashMDY DateFormat = "MM/DD/YYYY"
	DateFormatDotYMD   DateFormat = "YYYY.MM.DD"
	DateFormatDashYMD  DateFormat = "YYYY-MM-DD"
)

func (f DateFormat) valid() bool {
	switch f {
	case DateFormatDotDMY, DateFormatSlashDMY, DateFormatDashDMY, DateFormatSlashMDY, DateFormatDotYMD, DateFormatDashYMD:
		return true
	}
	return false
}

// Profile is the account's profile.
type Profile struct {
	CompanyID   int        `json:"companyId"`
	Name        string     `json:"name"`
	Email       string     `json:"email"`
	Phone       string     `json:"phone"`
	Country     string     `json:"country"`
	Currency    string     `json:"currency"`
	Timezone    string     `json:"timezone"`
	DateFormat  DateFormat `json:"dateFormat"`
	UserName    string     `json:"userName"`
	UserSurname string     `json:"userSurname"`
}

// ProfileUpdateRequest changes the profile. Nil fields are left as they are.
type ProfileUpdateRequest struct {
	Name  *string `json:"name,omitempty"`
	Email *string `json:"email,omitempty"`
	// Phone is 8 to 20 characters.
	Phone *string `json:"phone,omitempty"`
	// Country is an ISO code, such as "US".
	Country *string `json:"country,omitempty"`
	// Currency is an ISO code, such as "USD".
	Currency *string `json:"currency,omitempty"`
	// Language is a code, such as "en".
	Language *string `json:"language,omitempty"`
	// Timezone is an IANA name, such as "America/New_York".
	Timezone    *string     `json:"timezone,omitempty"`
	DateFormat  *DateFormat `json:"dateFormat,omitempty"`
	UserName    *string     `json:"userName,omitempty"`
	UserSurname *string     `json:"userSurname,omitempty"`
	// Contacts is free text, up to 255 characters.
	Contacts *string `json:"contacts,omitempty"`
}

// AgencyProfile is an agency's public details.
type AgencyProfile struct {
	CompanyID                 int    `json:"companyId"`
	Name                      string `json:"name"`
	Email                     string `json:"email"`
	Phone                     string `json:"phone"`
	Address                   string `json:"address"`
	City                      string `json:"city"`
	State                     string `json:"state"`
	Zip                       string `json:"zip"`
	Country                   string `json:"country"`
	Facebook                  string `json:"facebook"`
	Instagram                 string `json:"instagram"`
	Twitter                   string `json:"twitter"`
	Telegram                  string `json:"telegram"`
	DemoFormLink              string `json:"demoFormLink"`
	HelpCenterLink            string `json:"helpCenterLink"`
	PrivacyPolicyLink         string `json:"privacyPolicyLink"`
	SubscriptionAgreementLink string `json:"subscriptionAgreementLink"`
	TermsOfUse                string `json:"termsOfUse"`
}

// AgencyProfileUpdateRequest changes the agency profile. Nil fields are left as they are.
type AgencyProfileUpdateRequest struct {
	Name *string `json:"name,omitempty"`
	// Phone is 8 to 20 characters.
	Phone                     *string `json:"phone,omitempty"`
	Email                     *string `json:"email,omitempty"`
	Address                   *string `json:"address,omitempty"`
	City                      *string `json:"city,omitempty"`
	State                     *string `json:"state,omitempty"`
	Zip                       *string `json:"zip,omitempty"`
	Country                   *string `json:"country,omitempty"`
	Facebook                  *string `json:"facebook,omitempty"`
	Instagram                 *string `json:"instagram,omitempty"`
	Twitter                   *string `json:"twitter,omitempty"`
	Telegram                  *string `json:"telegram,omitempty"`
	DemoFormLink              *string `json:"demoFormLink,omitempty"`
	HelpCenterLink            *string `json:"helpCenterLink,omitempty"`
	PrivacyPolicy             *string `json:"privacyPolicy,omitempty"`
	PrivacyPolicyLink         *string `json:"privacyPolicyLink,omitempty"`
	SubscriptionAgreementLink *string `json:"subscriptionAgreementLink,omitempty"`
	Agreement                 *string `json:"agreement,omitempty"`
	TermsOfUse                *string `json:"termsOfUse,omitempty"`
}

// Get returns the account's profile.
//
// Errors: ErrUnauthorized for a key the API does not know; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for an answer that cannot be read.
//
// API: GET /api/v2/profile
func (s *ProfileService) Get(ctx context.Context) (*Profile, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return fetch[Profile](ctx, s.client, call{method: "GET", path: "profile"})
}

// Update changes the account's profile, and returns it as changed.
//
// Errors: ErrInvalidArgument for an empty change or a value out of its form (a date format,
// a two-letter country; nothing sent); ErrValidation for a change the API refuses;
// *OutcomeUnknownError when the answer was lost (a PATCH is never sent twice).
//
// API: PATCH /api/v2/profile
func (s *ProfileService) Update(ctx context.Context, req *ProfileUpdateRequest) (*Profile, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	switch {
	case req == nil:
		return nil, nil, invalid("request", "must not be nil")
	case req.DateFormat != nil && !req.DateFormat.valid():
		return nil, nil, invalid("dateFormat", "must be one of DD.MM.YYYY, DD/MM/YYYY, DD-MM-YYYY, MM/DD/YYYY, YYYY.MM.DD, YYYY-MM-DD")
	case req.Phone != nil && (len(*req.Phone) < 8 || len(*req.Phone) > 20):
		return nil, nil, invalid("phone", "must be 8 to 20 characters")
	case req.Contacts != nil && len([]rune(*req.Contacts)) > 255:
		return nil, nil, invalid("contacts", "must be at most 255 characters")
	}
	return fetch[Profile](ctx, s.client, call{method: "PATCH", path: "profile", body: req})
}

// GetAgency returns the agency profile. An agency key only.
//
// Errors: ErrForbidden for a company's key; *RequestError when no answer came (connection,
// timeout, context); *DecodeError for an answer that cannot be read.
//
// API: GET /api/v2/profile/agency
func (s *ProfileService) GetAgency(ctx context.Context) (*AgencyProfile, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return fetch[AgencyProfile](ctx, s.client, call{method: "GET", path: "profile/agency"})
}

// UpdateAgency changes the agency profile, and returns it as changed. An agency key only.
//
// Errors: ErrInvalidArgument for an empty change (nothing sent); ErrForbidden for a
// company's key; ErrValidation for a change the API refuses; *OutcomeUnknownError when the
// answer was lost (a PATCH is never sent twice).
//
// API: PATCH /api/v2/profile/agency
func (s *ProfileService) UpdateAgency(ctx context.Context, req *AgencyProfileUpdateRequest) (*AgencyProfile, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	switch {
	case req == nil:
		return nil, nil, invalid("request", "must not be nil")
	case req.Phone != nil && (len(*req.Phone) < 8 || len(*req.Phone) > 20):
		return nil, nil, invalid("phone", "must be 8 to 20 characters")
	}
	return fetch[AgencyProfile](ctx, s.client, call{method: "PATCH", path: "profile/agency", body: req})
}
