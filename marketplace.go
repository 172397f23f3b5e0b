package loyalty

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// MarketplaceService is the API of marketplace apps that merchants install. It authenticates
// with the app token alone (NewAppClient, or WithAppToken on a merchant client) and answers
// without the envelope, so its *Response has no ResponseID.
//
// Accrue and Reverse carry a transaction id the server deduplicates on, so unlike card actions
// they are safe to repeat: the client retries them after a lost answer or a 5xx, and you may
// send them again with the same id.
type MarketplaceService service

// Credential is a merchant credential an app passes along, by name.
type Credential struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Check is the purchase an accrual is for. Amounts are in minor units (cents).
type Check struct {
	// Amount is the check total in cents.
	Amount int `json:"amount"`
	// Currency is an ISO 4217 code, such as "USD".
	Currency   string      `json:"currency,omitempty"`
	Selections []Selection `json:"selections"`
}

// Selection is one line of a check. Prices are in cents.
type Selection struct {
	ID          string `json:"id,omitempty"`
	GroupID     string `json:"groupId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Price is the unit price; nil leaves it out.
	Price      *int `json:"price,omitempty"`
	Quantity   int  `json:"quantity"`
	TotalPrice int  `json:"totalPrice"`
}

// AccrueRequest accrues loyalty for a purchase to the card found (or registered) by serial
// number, phone or email.
type AccrueRequest struct {
	// TransactionID identifies the purchase; the server applies one id once. Leave it empty to
	// have Accrue generate one: it is written back here, so a failed call can be sent again
	// with the same id.
	TransactionID string       `json:"transactionId"`
	Check         Check        `json:"check"`
	SerialNumber  string       `json:"serialNumber,omitempty"`
	Phone         string       `json:"phone,omitempty"`
	Email         string       `json:"email,omitempty"`
	FirstName     string       `json:"firstName,omitempty"`
	LastName      string       `json:"lastName,omitempty"`
	Credentials   []Credential `json:"credentials,omitempty"`
}

// ReverseRequest reverses an earlier accrual by its transaction id.
type ReverseRequest struct {
	TransactionID string       `json:"transactionId"`
	Credentials   []Credential `json:"credentials,omitempty"`
}

// ResolveCredentialsRequest asks for the values of the named credentials.
type ResolveCredentialsRequest struct {
	Names       []string     `json:"names"`
	Credentials []Credential `json:"credentials,omitempty"`
}

// ResolvedCredentials are the credentials the server resolved.
type ResolvedCredentials struct {
	Credentials []Credential `json:"credentials"`
}

// Transaction is the outcome of an accrual or a reversal.
type Transaction struct {
	TransactionID string              `json:"transactionId"`
	Results       []TransactionResult `json:"results"`
}

// TransactionResult is the outcome on one card. Amounts are in cents.
type TransactionResult struct {
	SerialNumber   string    `json:"serialNumber"`
	TemplateID     int       `json:"templateId"`
	CompanyID      int       `json:"companyId"`
	InstallationID int       `json:"installationId"`
	CardType       CardType  `json:"cardType"`
	CheckAmount    int       `json:"checkAmount"`
	AccrualAmount  int       `json:"accrualAmount"`
	AccruedValue   int       `json:"accruedValue"`
	IsSuccess      bool      `json:"isSuccess"`
	ErrorMessage   string    `json:"errorMessage"`
	CreatedAt      Timestamp `json:"createdAt"`
	ReversedAt     Timestamp `json:"reversedAt"`
}

// NewTransactionID returns a random transaction id (a version 4 UUID).
func NewTransactionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Accrue accrues loyalty for a purchase. See AccrueRequest.TransactionID.
//
// API: POST /api/v2/marketplace/accrue
func (s *MarketplaceService) Accrue(ctx context.Context, req *AccrueRequest) (*Transaction, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	if req.SerialNumber == "" && req.Phone == "" && req.Email == "" {
		return nil, nil, invalid("serialNumber", "a serial number, phone or email is required to find the card")
	}
	if req.Check.Amount < 0 {
		return nil, nil, invalid("check.amount", "must not be negative")
	}
	for i, sel := range req.Check.Selections {
		if sel.Quantity <= 0 {
			return nil, nil, invalid(fmt.Sprintf("check.selections[%d].quantity", i), "must be greater than 0")
		}
		if sel.TotalPrice < 0 {
			return nil, nil, invalid(fmt.Sprintf("check.selections[%d].totalPrice", i), "must not be negative")
		}
	}
	if req.TransactionID == "" {
		req.TransactionID = NewTransactionID()
	}
	body := *req // the caller's request keeps what they set, but for the id written back
	if body.Check.Selections == nil {
		body.Check.Selections = []Selection{} // required: sent as [] rather than null
	}
	return fetch[Transaction](ctx, s.client, call{method: "POST", path: "marketplace/accrue", body: &body, app: true, class: transport.Keyed})
}

// Reverse reverses an accrual.
//
// API: POST /api/v2/marketplace/reverse
func (s *MarketplaceService) Reverse(ctx context.Context, req *ReverseRequest) (*Transaction, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	if req == nil || req.TransactionID == "" {
		return nil, nil, invalid("transactionId", "must not be empty")
	}
	return fetch[Transaction](ctx, s.client, call{method: "POST", path: "marketplace/reverse", body: req, app: true, class: transport.Keyed})
}

// ResolveCredentials resolves the named merchant credentials. It changes nothing, so it is
// retried like a read.
//
// API: POST /api/v2/marketplace/resolve-credentials
func (s *MarketplaceService) ResolveCredentials(ctx context.Context, req *ResolveCredentialsRequest) (*ResolvedCredentials, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	if req == nil || len(req.Names) == 0 {
		return nil, nil, invalid("names", "must name at least one credential")
	}
	return fetch[ResolvedCredentials](ctx, s.client, call{method: "POST", path: "marketplace/resolve-credentials", body: req, app: true, class: transport.Idempotent})
}
