package loyalty

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"

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

// Credential is a merchant credential an app passes along, by name. Its Value may be a
// secret (a merchant's key for the app's own service): it is sent to the marketplace
// endpoints only, and printing or logging a Credential shows its name and "[redacted]".
// Its JSON keeps the value, since the marketplace needs it.
type Credential struct {
	Name  string
	Value Secret
}

// credentialJSON is the wire form of a Credential.
type credentialJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MarshalJSON writes the name and the value: the form the marketplace takes.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(credentialJSON{c.Name, c.Value.Reveal()})
}

// UnmarshalJSON reads the name and the value.
func (c *Credential) UnmarshalJSON(b []byte) error {
	var w credentialJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Credential{Name: w.Name, Value: NewSecret(w.Value)}
	return nil
}

// String shows the credential's name, never its value.
func (c Credential) String() string {
	if c.Value.IsZero() {
		return c.Name + "="
	}
	return c.Name + "=" + redacted
}

// Format keeps the value out of every fmt verb, %#v and %+v included.
func (c Credential) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue keeps the value out of slog records.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Check is the purchase an accrual is for. Amounts are in minor units (cents).
type Check struct {
	// Amount is the check total in cents (1250 is 12.50).
	Amount int `json:"amount"`
	// Currency is the ISO 4217 code of the amounts, such as "USD". The API requires the
	// member but takes null: an empty Currency is sent as null, and the account's currency
	// applies.
	Currency   string      `json:"currency"`
	Selections []Selection `json:"selections"`
}

// MarshalJSON writes the check as the API takes it: currency always present, null when empty.
func (c Check) MarshalJSON() ([]byte, error) {
	var currency *string
	if c.Currency != "" {
		currency = &c.Currency
	}
	return json.Marshal(struct {
		Amount     int         `json:"amount"`
		Currency   *string     `json:"currency"`
		Selections []Selection `json:"selections"`
	}{c.Amount, currency, c.Selections})
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
	// with the same id. Such a request belongs to one purchase: once accrued, or once its
	// check or customer changed, Accrue refuses it rather than return the first transaction
	// for a second purchase. Use a new AccrueRequest for each purchase.
	TransactionID string       `json:"transactionId"`
	Check         Check        `json:"check"`
	SerialNumber  string       `json:"serialNumber,omitempty"`
	Phone         string       `json:"phone,omitempty"`
	Email         string       `json:"email,omitempty"`
	FirstName     string       `json:"firstName,omitempty"`
	LastName      string       `json:"lastName,omitempty"`
	Credentials   []Credential `json:"credentials,omitempty"`

	// generated is the TransactionID Accrue generated for this request, purchase a digest of
	// what the request said then (never the credentials themselves), and accrued whether the
	// server applied it.
	generated, purchase string
	accrued             bool
}

// LogValue logs what identifies the accrual; credentials show their names only.
func (r AccrueRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("transactionId", r.TransactionID), slog.Int("amount", r.Check.Amount),
		slog.String("currency", r.Check.Currency), slog.String("serialNumber", r.SerialNumber),
		slog.Any("credentials", credentialNames(r.Credentials)))
}

// LogValue logs the transaction id; credentials show their names only.
func (r ReverseRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("transactionId", r.TransactionID), slog.Any("credentials", credentialNames(r.Credentials)))
}

// LogValue logs the names asked for; credentials show their names only.
func (r ResolveCredentialsRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("names", r.Names), slog.Any("credentials", credentialNames(r.Credentials)))
}

// LogValue logs the credentials' names only.
func (r ResolvedCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("credentials", credentialNames(r.Credentials)))
}

// credentialNames shows credentials as name=[redacted].
func credentialNames(cs []Credential) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// credentialValues lists the values the credentials carry, for masking an echo of them.
func credentialValues(cs []Credential) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Value.Reveal())
	}
	return out
}

// ReverseRequest reverses an earlier accrual by its transaction id.
type ReverseRequest struct {
	TransactionID string       `json:"transactionId"`
	Credentials   []Credential `json:"credentials,omitempty"`
}

// ResolveCredentialsRequest asks for the values of the named credentials.
type ResolveCredentialsRequest struct {
	// Names are the credentials wanted; none (nil or empty) asks for every one.
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

// Accrue accrues loyalty for a purchase, and returns the transaction with its results per
// card. It is safe to repeat with the same TransactionID (see AccrueRequest.TransactionID):
// the client retries it after a lost answer or a 5xx.
//
// Errors: ErrInvalidArgument for a request without a card, customer or valid currency, or one
// Accrue refuses to send twice (nothing sent); ErrForbidden or ErrBadRequest for the
// marketplace's refusals ({"errors": [...]}: "Authentication failed.", say); *RequestError
// when no answer came after the retries.
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
	if req.Check.Currency != "" && !currencyCode(req.Check.Currency) {
		return nil, nil, invalid("check.currency", "must be a three-letter ISO 4217 code, such as USD, or empty (sent as null: the account's currency)")
	}
	body := *req // the caller's request keeps what they set, but for the id written back
	body.generated, body.purchase = "", ""
	if body.Check.Selections == nil {
		body.Check.Selections = []Selection{} // required: sent as [] rather than null
	}
	if err := req.claim(&body); err != nil {
		return nil, nil, err
	}
	tx, resp, err := fetch[Transaction](ctx, s.client, call{method: "POST", path: "marketplace/accrue", body: &body, app: true,
		class: transport.Keyed, secrets: credentialValues(req.Credentials)})
	if err == nil && req.generated != "" {
		req.accrued = true
	}
	return tx, resp, err
}

// claim gives body a transaction id: the caller's, or one generated and written back into
// req. A request whose generated id was already accrued, or whose purchase changed since, is
// refused: sending it would return the first transaction and lose the second purchase.
func (req *AccrueRequest) claim(body *AccrueRequest) error {
	if req.TransactionID == "" {
		body.TransactionID = NewTransactionID()
		req.TransactionID, req.generated, req.accrued = body.TransactionID, body.TransactionID, false
		req.purchase = purchaseOf(body)
		return nil
	}
	if req.generated == "" || req.generated != req.TransactionID {
		return nil // the caller's own id: theirs to reuse on purpose
	}
	switch {
	case req.accrued:
		return invalid("request", "was already accrued as transaction "+req.TransactionID+
			": use a new AccrueRequest for another purchase")
	case purchaseOf(body) != req.purchase:
		return invalid("request", "changed since Accrue generated transaction "+req.TransactionID+
			" for it: use a new AccrueRequest for another purchase")
	}
	return nil
}

// purchaseOf is a digest of what an accrual says, less its id, for telling one purchase from
// another without keeping what it says (its credentials among it).
func purchaseOf(body *AccrueRequest) string {
	b := *body
	b.TransactionID = ""
	out, _ := json.Marshal(&b)
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:])
}

// currencyCode reports a three-letter upper-case code, the form of ISO 4217.
func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Reverse reverses an accrual, and returns the transaction as reversed. It is safe to repeat.
//
// Errors: ErrInvalidArgument for an empty transaction id (nothing sent); ErrForbidden or
// ErrBadRequest for the marketplace's refusals (an unknown transaction, say); *RequestError
// when no answer came after the retries.
//
// API: POST /api/v2/marketplace/reverse
func (s *MarketplaceService) Reverse(ctx context.Context, req *ReverseRequest) (*Transaction, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	if req.TransactionID == "" {
		return nil, nil, invalid("transactionId", "must not be empty")
	}
	return fetch[Transaction](ctx, s.client, call{method: "POST", path: "marketplace/reverse", body: req, app: true,
		class: transport.Keyed, secrets: credentialValues(req.Credentials)})
}

// ResolveCredentials resolves the named merchant credentials, and returns them (their values
// are Secrets). It changes nothing, so it is retried like a read.
//
// Errors: ErrInvalidArgument for a nil request (nothing sent); ErrForbidden or ErrBadRequest
// for the marketplace's refusals; *RequestError when no answer came after the retries.
//
// API: POST /api/v2/marketplace/resolve-credentials
func (s *MarketplaceService) ResolveCredentials(ctx context.Context, req *ResolveCredentialsRequest) (*ResolvedCredentials, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	body := *req
	if body.Names == nil {
		body.Names = []string{} // required: sent as [], which asks for every credential
	}
	return fetch[ResolvedCredentials](ctx, s.client, call{method: "POST", path: "marketplace/resolve-credentials", body: &body,
		app: true, class: transport.Idempotent, secrets: credentialValues(req.Credentials)})
}
