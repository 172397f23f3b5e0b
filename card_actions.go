// The card actions: the nineteen methods of CardsService that move a card's balance or state,
// their options and their wire bodies. Each passes the operations layer's check first
// (operations.go).

package loyalty

import (
	"context"
	"fmt"
	"math"
	"time"
)

// MembershipPeriod is the period a membership tier is bought for.
type MembershipPeriod string

// Membership periods.
const (
	MembershipPeriodDay   MembershipPeriod = "day"
	MembershipPeriodWeek  MembershipPeriod = "week"
	MembershipPeriodMonth MembershipPeriod = "month"
	MembershipPeriodYear  MembershipPeriod = "year"
)

func (p MembershipPeriod) valid() bool {
	return p == MembershipPeriodDay || p == MembershipPeriodWeek || p == MembershipPeriodMonth || p == MembershipPeriodYear
}

// ActionOptions are the optional parts of a card action. A nil *ActionOptions is fine.
type ActionOptions struct {
	// Comment is stored with the operation in the card's history.
	Comment string
	// Reference is your id for the action (a receipt or order id). It is stored in the
	// operation's comment as "[ref:<reference>]" after your own comment, where
	// Operations.FindReference and Cards.ApplyOnce find it after a lost answer, and
	// ReferenceOf reads it. At most 64 bytes, no brackets.
	Reference string
	// PurchaseSum is the purchase the action relates to, in units of the account's currency
	// with decimals (12.50).
	PurchaseSum float64

	// Card, CardType and Template tell the client what it would otherwise look up or leave to
	// the server. Card is a card you already hold (its type and membership tier are used);
	// CardType is the card's type when that is all you know; Template is the card's template,
	// whose mechanics and membership tiers refine the check.
	Card     *Card
	CardType CardType
	Template *Template

	// SkipCheck sends the action without the client's card-type check (and without the GET
	// that may come with it), for a card on which the table is known to be wrong. The server
	// judges; its refusal is still an *ActionNotAllowedError. WithoutActionCheck does the same
	// for every call of a client.
	SkipCheck bool
}

// accrual is the optional part every accrual body shares.
type accrual struct {
	Comment     string  `json:"comment,omitempty"`
	PurchaseSum float64 `json:"purchaseSum,omitempty"`
}

func (o *ActionOptions) accrual() accrual {
	if o == nil {
		return accrual{}
	}
	return accrual{Comment: withReference(o.Comment, o.Reference), PurchaseSum: o.PurchaseSum}
}

type (
	amountBody struct {
		Amount int `json:"amount"`
		accrual
	}
	pointsBody struct {
		Points float64 `json:"points"`
		accrual
	}
	rewardsBody struct {
		Rewards int `json:"rewards"`
		accrual
	}
	scoresBody struct {
		Scores int `json:"scores"`
		accrual
	}
	stampsBody struct {
		Stamps int `json:"stamps"`
		accrual
	}
	visitsBody struct {
		Visits int `json:"visits"`
		accrual
	}
	purchaseBody struct {
		Amount float64 `json:"amount"`
		accrual
	}
	receiveRewardBody struct {
		ID int `json:"id"`
		accrual
	}
	membershipTierBody struct {
		TierID int              `json:"tierId"`
		Period MembershipPeriod `json:"period"`
	}
	expirationBody struct {
		ExpiresAt *Timestamp `json:"expiresAt"`
	}
)

// AddAmount adds to a cashback card's balance directly: currencyUnits is in whole units of
// the account's currency (100 is 100.00, not 1.00). The API takes an integer here and does
// not document its unit; cashback balances read in currency units, which this follows
// (assumed). A till crediting a purchase calls AddPoints with the purchase amount instead, and
// the card earns its percentage; see CardBalance.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-transaction-amount
func (s *CardsService) AddAmount(ctx context.Context, id string, currencyUnits int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddAmount, positiveInt("currencyUnits", currencyUnits), opts, amountBody{currencyUnits, opts.accrual()})
}

// SubtractAmount takes currencyUnits, whole units of the account's currency (as AddAmount),
// from a cashback card's balance: the customer pays with their cashback.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the balance is too small.
//
// API: POST /api/v2/cards/{id}/subtract-transaction-amount
func (s *CardsService) SubtractAmount(ctx context.Context, id string, currencyUnits int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractAmount, positiveInt("currencyUnits", currencyUnits), opts, amountBody{currencyUnits, opts.accrual()})
}

// AddPoints adds points to a discount, cashback or gift card. currencyAmount is in units of
// the account's currency, with decimals (42.60): on discount and cashback cards it is the
// purchase amount, and the server computes the effect (a cashback card earns its percentage
// of it); on a gift card it is the value added. See CardBalance.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-point
func (s *CardsService) AddPoints(ctx context.Context, id string, currencyAmount float64, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddPoints, positiveNumber("currencyAmount", currencyAmount), opts, pointsBody{currencyAmount, opts.accrual()})
}

// SubtractPoints takes currencyAmount, in units of the account's currency with decimals, from
// a discount, cashback or gift card: a gift card paying for a purchase, say.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the balance is too small.
//
// API: POST /api/v2/cards/{id}/subtract-point
func (s *CardsService) SubtractPoints(ctx context.Context, id string, currencyAmount float64, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractPoints, positiveNumber("currencyAmount", currencyAmount), opts, pointsBody{currencyAmount, opts.accrual()})
}

// AddRewards adds rewards (earned, unused) to a stamp card.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-reward
func (s *CardsService) AddRewards(ctx context.Context, id string, rewards int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddRewards, positiveInt("rewards", rewards), opts, rewardsBody{rewards, opts.accrual()})
}

// SubtractRewards redeems rewards a stamp card has earned: the customer takes their free
// coffee.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the card has fewer rewards.
//
// API: POST /api/v2/cards/{id}/subtract-reward
func (s *CardsService) SubtractRewards(ctx context.Context, id string, rewards int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractRewards, positiveInt("rewards", rewards), opts, rewardsBody{rewards, opts.accrual()})
}

// AddScores adds scores (points) to a multipass card, or to a reward card with points
// mechanics.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-scores
func (s *CardsService) AddScores(ctx context.Context, id string, scores int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddScores, positiveInt("scores", scores), opts, scoresBody{scores, opts.accrual()})
}

// SubtractScores takes scores (points) from a reward or multipass card.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the card holds fewer.
//
// API: POST /api/v2/cards/{id}/subtract-scores
func (s *CardsService) SubtractScores(ctx context.Context, id string, scores int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractScores, positiveInt("scores", scores), opts, scoresBody{scores, opts.accrual()})
}

// AddStamps adds stamps to a stamp card; a round of them earns a reward (StampsBeforeReward
// says how many are still needed).
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-stamp
func (s *CardsService) AddStamps(ctx context.Context, id string, stamps int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddStamps, positiveInt("stamps", stamps), opts, stampsBody{stamps, opts.accrual()})
}

// SubtractStamps takes stamps back from a stamp card (a stamp given by mistake).
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the card has fewer stamps.
//
// API: POST /api/v2/cards/{id}/subtract-stamp
func (s *CardsService) SubtractStamps(ctx context.Context, id string, stamps int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractStamps, positiveInt("stamps", stamps), opts, stampsBody{stamps, opts.accrual()})
}

// AddVisits records visits: the till calls it when the holder of a multipass card, or of a
// membership card without limits, comes in (a stamp or reward card with visit mechanics
// takes it too). On a multipass card it counts the visits used (CurrentNumberOfUses, and
// CountVisits); on an open membership card, CountVisits. A membership card with limits takes
// SubtractVisits instead. (As the API is understood, and loyaltytest does.)
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrVisitAlreadyRegistered) when the card already has today's visit.
//
// API: POST /api/v2/cards/{id}/add-visit
func (s *CardsService) AddVisits(ctx context.Context, id string, visits int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddVisits, positiveInt("visits", visits), opts, visitsBody{visits, opts.accrual()})
}

// SubtractVisits uses visits of a membership card with limits: the till calls it when the
// holder comes in, and CurrentNumberOfUses counts the period's visits used, up to the tier's
// limit. On a multipass card it takes back visits recorded with AddVisits (one recorded by
// mistake). (As the API is understood, and loyaltytest does.)
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState when the period's visits are used up.
//
// API: POST /api/v2/cards/{id}/subtract-visit
func (s *CardsService) SubtractVisits(ctx context.Context, id string, visits int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractVisits, positiveInt("visits", visits), opts, visitsBody{visits, opts.accrual()})
}

// AddPurchase records a purchase on a stamp or reward card with spend mechanics:
// purchaseAmount is in units of the account's currency with decimals (12.50), and the card
// earns by it (a stamp per so much spent, say).
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/add-purchase
func (s *CardsService) AddPurchase(ctx context.Context, id string, purchaseAmount float64, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionAddPurchase, positiveNumber("purchaseAmount", purchaseAmount), opts, purchaseBody{purchaseAmount, opts.accrual()})
}

// SubtractPurchase takes back a purchase recorded with AddPurchase on a stamp or reward card
// with spend mechanics (a refund): purchaseAmount is in currency units with decimals.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService).
//
// API: POST /api/v2/cards/{id}/subtract-purchase
func (s *CardsService) SubtractPurchase(ctx context.Context, id string, purchaseAmount float64, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSubtractPurchase, positiveNumber("purchaseAmount", purchaseAmount), opts, purchaseBody{purchaseAmount, opts.accrual()})
}

// ReceiveReward gives the customer of a reward card the reward tier tierID, one of the card's
// AvailableRewardTiers, and spends its threshold of the card's points.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrInsufficientBalance) when the card has too few points for the tier.
//
// API: POST /api/v2/cards/{id}/receive-reward
func (s *CardsService) ReceiveReward(ctx context.Context, id string, tierID int, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionReceiveReward, positiveInt("tierId", tierID), opts, receiveRewardBody{tierID, opts.accrual()})
}

// RedeemCoupon redeems a coupon card: it works once.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService). Also ErrCardState (ErrCouponAlreadyRedeemed) when the coupon was redeemed before.
//
// API: POST /api/v2/cards/{id}/redeem-coupon
func (s *CardsService) RedeemCoupon(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionRedeemCoupon, nil, opts, opts.accrual())
}

// SetMembershipTier moves a membership card to the tier tierID, bought for period, and
// starts a new period. The endpoint takes no comment or purchase sum.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService), and ErrInvalidArgument for a comment, reference or purchase sum, which it
// does not take.
//
// API: POST /api/v2/cards/{id}/set-membership-tier
func (s *CardsService) SetMembershipTier(ctx context.Context, id string, tierID int, period MembershipPeriod, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	err := positiveInt("tierId", tierID)
	if err == nil && !period.valid() {
		err = invalid("period", "must be day, week, month or year")
	}
	if err == nil {
		err = noAccrual(opts)
	}
	return s.act(ctx, id, ActionSetMembershipTier, err, opts, membershipTierBody{tierID, period})
}

// SetExpirationDate makes a card expire at t. The API stores 1970-01-01T00:00:01Z to
// 2038-01-19T03:14:07Z only, so a time outside is refused. The endpoint takes no comment or
// purchase sum.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService), and ErrInvalidArgument for a comment, reference or purchase sum, which it
// does not take.
//
// API: POST /api/v2/cards/{id}/set-expiration-date
func (s *CardsService) SetExpirationDate(ctx context.Context, id string, t time.Time, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	var err error
	switch {
	case t.IsZero():
		err = invalid("expiresAt", "must be set (use ClearExpirationDate to remove it)")
	default:
		if err = checkStored("expiresAt", t); err == nil {
			err = noAccrual(opts)
		}
	}
	return s.act(ctx, id, ActionSetExpirationDate, err, opts, expirationBody{&Timestamp{Time: t}})
}

// ClearExpirationDate removes a card's expiry date.
//
// Returns the card as the action left it. Errors: those of every card action (see
// CardsService), and ErrInvalidArgument for a comment, reference or purchase sum, which it
// does not take.
//
// API: POST /api/v2/cards/{id}/set-expiration-date
func (s *CardsService) ClearExpirationDate(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return s.act(ctx, id, ActionSetExpirationDate, noAccrual(opts), opts, expirationBody{nil})
}

// positiveInt checks a count or id the API keeps in a 32-bit integer.
func positiveInt(name string, v int) error {
	if v <= 0 || v > math.MaxInt32 {
		return invalid(name, "must be 1 to 2147483647 (the API keeps it in a 32-bit integer)")
	}
	return nil
}

// positiveNumber checks an amount the API keeps as a float (OpenAPI format "float").
func positiveNumber(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > math.MaxFloat32 {
		return invalid(name, "must be a finite number greater than 0, within a float's range")
	}
	return nil
}

func noAccrual(o *ActionOptions) error {
	if o != nil && (o.Comment != "" || o.PurchaseSum != 0 || o.Reference != "") {
		return invalid("options", "this action takes no comment, reference or purchase sum")
	}
	return nil
}

// act checks and sends one card action. argErr is the verdict on the action's own arguments.
func (s *CardsService) act(ctx context.Context, id string, a Action, argErr error, opts *ActionOptions, body any) (*Card, *Response, error) {
	p, err := segment("id", id)
	if err != nil {
		return nil, nil, err
	}
	if argErr != nil {
		return nil, nil, argErr
	}
	if opts != nil {
		if err := positivePurchaseSum(opts.PurchaseSum); err != nil {
			return nil, nil, err
		}
		if err := checkReference(opts.Reference); err != nil {
			return nil, nil, err
		}
		if err := opts.consistent(id); err != nil {
			return nil, nil, err
		}
	}
	t, resp, err := s.check(ctx, id, a, opts)
	if err != nil {
		return nil, resp, err
	}
	card, resp, err := s.one(ctx, call{method: "POST", path: "cards/" + p + "/" + a.String(), body: body})
	if err != nil {
		return nil, resp, serverRefusal(err, a, id, t)
	}
	return card, resp, nil
}

// consistent refuses hints that describe another card: a wrong card or template would make
// the check refuse an action the card accepts, or accept one it refuses.
func (o *ActionOptions) consistent(id string) error {
	c, tm := o.Card, o.Template
	switch {
	case c != nil && c.ID != id:
		return invalid("options.card", "is card "+c.ID+", not "+id)
	case c != nil && o.CardType.Known() && c.Type.Known() && o.CardType != c.Type:
		return invalid("options.cardType", "is "+o.CardType.String()+", but the card is "+c.Type.String())
	case tm == nil:
		return nil
	case c != nil && c.TemplateID != 0 && tm.ID != 0 && c.TemplateID != tm.ID:
		return invalid("options.template", fmt.Sprintf("is template %d, but the card was issued from %d", tm.ID, c.TemplateID))
	}
	known := o.CardType
	if c != nil && c.Type.Known() {
		known = c.Type
	}
	if known.Known() && tm.Type.Known() && known != tm.Type {
		return invalid("options.template", "issues "+tm.Type.String()+" cards, not "+known.String())
	}
	return nil
}

func positivePurchaseSum(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > math.MaxFloat32 {
		return invalid("purchaseSum", "must be a finite number, 0 or more, within a float's range")
	}
	return nil
}
