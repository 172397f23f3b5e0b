package loyalty

import (
	"context"
	"iter"
	"strconv"
	"time"
)

// CardsService issues cards to customers, reads and deletes them, and applies card actions:
// stamps, points, visits, purchases, coupon redemption and the rest.
//
// # Card actions
//
// The action methods (AddAmount to ClearExpirationDate) share these rules, which their own
// docs do not repeat:
//
//   - Before anything is sent, the action is checked against the card's type with the table
//     of the product docs (ActionTable, ActionAppliesTo). The type comes from opts (Card or
//     CardType), else from any card the client has read before (a card's type never
//     changes), else from one GET of the card, which the client remembers.
//     ActionOptions.Template (or a membership card with its tier) refines the check with the
//     template's mechanics and the tier's visit limits; without them the server judges those.
//   - Quantities must be greater than 0: counts at most 2,147,483,647 (the API's 32-bit
//     integers), amounts finite and within a float. ActionOptions.Comment and PurchaseSum go
//     with the action, and Reference tags it for ApplyOnce and Operations.FindReference.
//   - An action is never sent twice: when its answer is lost, the error says so
//     (*OutcomeUnknownError). ApplyOnce, with a Reference, finds out from the history and
//     applies it at most once.
//   - Each returns the card as the action left it, and the answer.
//
// The errors of every card action: ErrInvalidArgument for an empty id or a bad quantity,
// option or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when the
// card does not take the action, from the client (nothing sent) or from the server, naming
// the methods the card does take; *CardStateError (ErrCardState) when the card's state
// refuses it now: a visit already registered today, a coupon already redeemed, a balance too
// small; ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the
// answer was lost.
type CardsService service

// CardStatus is the installation state of a card in a customer's wallet. Values not listed
// here are kept as they come.
type CardStatus string

// Card statuses seen from the API.
const (
	CardStatusInstalled    CardStatus = "installed"
	CardStatusNotInstalled CardStatus = "not_installed"
	CardStatusDeleted      CardStatus = "deleted"
)

// Card is a loyalty card issued to a customer from a template.
//
// Live answers are thinner than the API's description; fields the answer lacks stay zero.
type Card struct {
	// ID is the card's serial, such as "638920-251-210".
	ID         string     `json:"id"`
	CompanyID  int        `json:"companyId"`
	TemplateID int        `json:"templateId"`
	CustomerID string     `json:"customerId"`
	Customer   Customer   `json:"customer"`
	Type       CardType   `json:"type"`
	Status     CardStatus `json:"status"`
	// Device is the wallet the card is installed in, such as "Google Pay".
	Device               string                `json:"device"`
	Balance              CardBalance           `json:"balance"`
	CustomFields         []CustomField         `json:"customFields"`
	AvailableRewardTiers []RewardTier          `json:"availableRewardTiers"`
	MembershipTier       *MembershipTier       `json:"membershipTier"`
	CustomerSubscription *CustomerSubscription `json:"customerSubscription"`
	InstallLink          string                `json:"installLink"`
	ShareLink            string                `json:"shareLink"`
	QRLink               string                `json:"qrLink"`
	DirectInstallLink    DirectInstallLink     `json:"directInstallLink"`
	CouponRedeemed       bool                  `json:"couponRedeemed"`
	UTMSource            string                `json:"utmSource"`
	FirstVisitDiscount   string                `json:"firstVisitDiscount"`
	CountVisits          int                   `json:"countVisits"`
	// The counters and dates below are empty in list answers; Get fills them.
	TotalRewardsEarned          int       `json:"totalRewardsEarned"`
	TotalRewardsRedeemed        int       `json:"totalRewardsRedeemed"`
	TotalStampsEarnedByReferral int       `json:"totalStampsEarnedByReferral"`
	TotalPointsEarnedByReferral int       `json:"totalPointsEarnedByReferral"`
	LastStampEarnedAt           Timestamp `json:"lastStampEarnedAt"`
	LastRewardEarnedAt          Timestamp `json:"lastRewardEarnedAt"`
	LastRewardRedeemedAt        Timestamp `json:"lastRewardRedeemedAt"`
	// ExpiresAt is nil for a card that does not expire.
	ExpiresAt *Timestamp `json:"expiresAt"`
	CreatedAt Timestamp  `json:"createdAt"`
	UpdatedAt Timestamp  `json:"updatedAt"`

	// unread holds the paths, below the card, of members the answer sent but the client
	// could not read, so that the action check never judges by a zero it did not receive.
	unread []string
	// readAt (this machine's clock) and serverAt (the server's, from the answer) say when the
	// card was read, so that a card just read can stand for a read ApplyOnce would make.
	readAt, serverAt time.Time
}

// cardFresh is how long after it was read a card handed to ApplyOnce (ActionOptions.Card)
// stands for the read of the card its look-up would make.
const cardFresh = 5 * time.Second

// stamp records when and on which server time a card was read.
func (c *Card) stamp(resp *Response) {
	if c != nil && resp != nil {
		c.readAt, c.serverAt = time.Now(), serverTime(resp)
	}
}

// fresh reports whether the card was read by this client a moment ago, on a known server
// time, with its last change: then it is as good as a read made now.
func (c *Card) fresh() bool {
	return c != nil && !c.readAt.IsZero() && !c.serverAt.IsZero() && time.Since(c.readAt) < cardFresh &&
		!c.UpdatedAt.IsZero() && !unreadUnder(c.unread, "updatedAt")
}

// CardBalance is what a card holds. Which members carry the balance depends on the card type;
// the others stay zero (or null on the wire):
//
//   - Stamp: NumberStampsTotal is the stamps on the current round, not a lifetime total:
//     the stamp that completes a round sets it back to 0 and adds one to NumberRewardsUnused.
//     StampsBeforeReward is what the round still needs. AddStamps/SubtractStamps move the
//     stamps, AddRewards/SubtractRewards the rewards; AddPurchase (spend mechanics) turns a
//     purchase amount into stamps.
//   - Cashback: Balance is the cashback the customer holds, in the account's currency. Which
//     action takes the purchase and which the balance is not documented; as the API is
//     understood (and loyaltytest does): AddPoints takes the purchase amount and credits the
//     template's cashback percentage of it, while AddAmount and SubtractAmount move Balance by
//     the amount given. A till crediting a purchase calls AddPoints. (Assumed.)
//   - Discount: DiscountPercentage is the current discount tier's percentage; Balance counts
//     the points (purchases) that move the card between tiers. DiscountAmount is in cents.
//   - Gift (certificate): Balance is the value left; AddPoints/SubtractPoints move it.
//   - Multipass: CurrentNumberOfUses counts the visits used (AddVisits, which the till calls
//     when the holder comes in; SubtractVisits takes one back), and so does the card's own
//     Card.CountVisits.
//   - Membership without limits: no member here; the card's own Card.CountVisits counts the
//     visits (AddVisits).
//   - Membership with limits: CurrentNumberOfUses counts the period's visits used
//     (SubtractVisits, which the till calls when the holder comes in), up to the tier's limit
//     (see MembershipTier); SetMembershipTier starts a new period.
//   - Reward: Balance holds the points (scores, spend or visits, by mechanics);
//     ReceiveReward spends a tier's threshold of them.
//   - Coupon: nothing here; Card.CouponRedeemed says whether it was used.
//
// BonusBalance is a separate bonus counter some templates keep.
type CardBalance struct {
	// Balance is the points or amount balance (cashback, discount, gift cards); an amount is
	// in units of the account's currency, with decimals.
	Balance             float64 `json:"balance"`
	BonusBalance        int     `json:"bonusBalance"`
	CurrentNumberOfUses int     `json:"currentNumberOfUses"`
	// DiscountAmount is in minor units (cents).
	DiscountAmount      int     `json:"discountAmount"`
	DiscountPercentage  float64 `json:"discountPercentage"`
	NumberRewardsUnused int     `json:"numberRewardsUnused"`
	NumberStampsTotal   int     `json:"numberStampsTotal"`
	StampsBeforeReward  int     `json:"stampsBeforeReward"`
}

// DirectInstallLink holds the links that install a card straight into one wallet.
type DirectInstallLink struct {
	Apple     string `json:"apple"`
	Google    string `json:"google"`
	PWA       string `json:"pwa"`
	Universal string `json:"universal"`
}

// CustomField is a template-defined field and, on a card, its value.
type CustomField struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Value    string `json:"value"`
	Order    int    `json:"order"`
	Required bool   `json:"required"`
	Unique   bool   `json:"unique"`
}

// CustomerSubscription is the paid subscription behind a membership or multipass card. Its
// CreatedAt, UpdatedAt and ExpiredAt arrive as Unix seconds.
type CustomerSubscription struct {
	ID               int       `json:"id"`
	CardID           ID        `json:"cardId"`
	CustomerID       string    `json:"customerId"`
	TemplateID       int       `json:"templateId"`
	Period           string    `json:"period"`
	Status           int       `json:"status"`
	Balance          int       `json:"balance"`
	MembershipTierID int       `json:"membershipTierId"`
	ExternalID       string    `json:"externalId"`
	ProviderID       int       `json:"providerId"`
	CreatedAt        Timestamp `json:"createdAt"`
	UpdatedAt        Timestamp `json:"updatedAt"`
	ExpiredAt        Timestamp `json:"expiredAt"`
}

// CustomFieldValue sets one custom field of a card.
type CustomFieldValue struct {
	ID    int    `json:"id"`
	Value string `json:"value"`
}

// CardListOptions filters the card list. Zero values filter nothing.
type CardListOptions struct {
	ListOptions
	CustomerID    string `url:"customerId,omitempty"`
	CustomerEmail string `url:"customerEmail,omitempty"`
	CustomerPhone string `url:"customerPhone,omitempty"`
	TemplateID    int    `url:"templateId,omitempty"`
}

// CardCreateRequest issues a card from a template to a customer.
type CardCreateRequest struct {
	CustomerID string `json:"customerId"`
	TemplateID int    `json:"templateId"`
	// CustomFields may leave out fields that are not required, and those the customer record
	// already fills (phone, email, names, date of birth).
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
}

// CardUpdateRequest changes a card's custom fields.
type CardUpdateRequest struct {
	CustomFields []CustomFieldValue `json:"customFields"`
}

// DeletedResource is the answer to a delete: the id of what is gone.
type DeletedResource struct {
	ID ID `json:"id"`
}

// List returns one page of cards matching opts (nil: the first page of all), with the page's
// Meta on the Response, and remembers each card's type for the action check.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list cards; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/cards
func (s *CardsService) List(ctx context.Context, opts *CardListOptions) ([]Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	cards, resp, err := list[Card](ctx, s.client, "cards", opts)
	for i := range cards {
		s.learn(&cards[i])
		cards[i].stamp(resp)
	}
	return cards, resp, err
}

// All walks every card matching opts, fetching pages as the loop reaches them.
//
// API: GET /api/v2/cards, page after page
func (s *CardsService) All(ctx context.Context, opts *CardListOptions) iter.Seq2[Card, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Card](err)
	}
	cards := walk[Card](ctx, s.client, "cards", opts)
	return func(yield func(Card, error) bool) {
		for card, err := range cards {
			s.learn(&card)
			if !yield(card, err) {
				return
			}
		}
	}
}

// learn remembers a card's type for the action check.
func (s *CardsService) learn(card *Card) {
	if card != nil {
		s.client.cardTypes.put(card.ID, card.Type)
	}
}

// one sends a request answered by a card, and learns the card's type.
func (s *CardsService) one(ctx context.Context, r call) (*Card, *Response, error) {
	card, resp, err := fetch[Card](ctx, s.client, r)
	s.learn(card)
	card.stamp(resp)
	return card, resp, err
}

// Get returns the card with the given serial, and remembers its type for the action check.
//
// Errors: ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no
// such card; ErrUnauthorized or ErrForbidden for a key that may not see it; *RequestError
// when no answer came (connection, timeout, context); *DecodeError for an answer that cannot
// be read.
//
// API: GET /api/v2/cards/{id}
func (s *CardsService) Get(ctx context.Context, id string) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, nil, err
	}
	return s.one(ctx, call{method: "GET", path: "cards/" + p})
}

// Create issues a card to a customer from a template, and returns it (Response.StatusCode
// 201). The customer must exist (see CustomersService.Create).
//
// Errors: ErrInvalidArgument for a request the client can tell is wrong (nothing sent);
// ErrValidation for one the API refuses (FieldErrors say which fields, and Error() shows the
// first); ErrNotFound when the customer or template does not exist; *OutcomeUnknownError
// (ErrOutcomeUnknown) when the answer was lost: a create is never sent twice (see
// FindOrIssue).
//
// API: POST /api/v2/cards
func (s *CardsService) Create(ctx context.Context, req *CardCreateRequest) (*Card, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	return s.one(ctx, call{method: "POST", path: "cards", body: req})
}

func (r *CardCreateRequest) validate() error {
	if r.CustomerID == "" {
		return invalid("customerId", "must not be empty")
	}
	if r.TemplateID <= 0 {
		return invalid("templateId", "must be a positive id")
	}
	return nil
}

// Update changes the custom fields of a card (at least one), and returns the card as
// changed.
//
// Errors: ErrInvalidArgument for an empty id or an empty change (nothing sent); ErrNotFound
// when there is no such card; ErrValidation for a change the API refuses;
// *OutcomeUnknownError when the answer was lost (a PATCH is never sent twice).
//
// API: PATCH /api/v2/cards/{id}
func (s *CardsService) Update(ctx context.Context, id string, req *CardUpdateRequest) (*Card, *Response, error) {
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
	if len(req.CustomFields) == 0 {
		return nil, nil, invalid("customFields", "must list at least one field")
	}
	return s.one(ctx, call{method: "PATCH", path: "cards/" + p, body: req})
}

// Delete deletes a card.
//
// Returns the answer; Response.DeletedEarlier is set when an earlier attempt, whose answer
// was lost, deleted it (the delete is retried, and the retry finds it gone). Errors:
// ErrInvalidArgument for an empty id (nothing sent); ErrNotFound when there is no such card;
// *RequestError when no answer came (connection, timeout, context).
//
// API: DELETE /api/v2/cards/{id}
func (s *CardsService) Delete(ctx context.Context, id string) (*Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, err
	}
	p, err := segment("id", id)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &call{method: "DELETE", path: "cards/" + p})
}

// FindOrIssue returns the customer's card from the template, issuing it if there is none
// yet. A repeat is answered from the client's ledger with one GET. After an issue whose
// answer was lost it looks again (the options' waits apart) and issues again only when the card
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
func (s *CardsService) FindOrIssue(ctx context.Context, req *CardCreateRequest, once *OnceOptions) (*Card, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	key := s.client.onceKey("issue", req.CustomerID, strconv.Itoa(req.TemplateID))
	return createOnce(ctx, s.client, key, once, creator[Card]{
		find:   func(ctx context.Context, _ bool) (*Card, *Response, error) { return s.issued(ctx, req) },
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
