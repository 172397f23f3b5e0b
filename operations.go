package loyalty

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Action is a card action: something done to a card's balance or state at the till.
// Which card types an action applies to is fixed by the API (see ActionTable); the client
// checks it before sending.
type Action uint8

// The card actions of the API. String gives the endpoint suffix, such as "add-stamp".
const (
	ActionAddAmount Action = iota + 1
	ActionSubtractAmount
	ActionAddPoints
	ActionSubtractPoints
	ActionAddRewards
	ActionSubtractRewards
	ActionAddScores
	ActionSubtractScores
	ActionAddStamps
	ActionSubtractStamps
	ActionAddVisits
	ActionSubtractVisits
	ActionAddPurchase
	ActionSubtractPurchase
	ActionReceiveReward
	ActionRedeemCoupon
	ActionSetMembershipTier
	ActionSetExpirationDate

	actionCount = int(ActionSetExpirationDate)
)

var actionEndpoints = [actionCount + 1]string{
	"", "add-transaction-amount", "subtract-transaction-amount", "add-point", "subtract-point",
	"add-reward", "subtract-reward", "add-scores", "subtract-scores", "add-stamp", "subtract-stamp",
	"add-visit", "subtract-visit", "add-purchase", "subtract-purchase", "receive-reward",
	"redeem-coupon", "set-membership-tier", "set-expiration-date",
}

// Actions lists every card action.
func Actions() []Action {
	out := make([]Action, actionCount)
	for i := range out {
		out[i] = Action(i + 1)
	}
	return out
}

// String returns the action's endpoint suffix, such as "add-stamp".
func (a Action) String() string {
	if a.valid() {
		return actionEndpoints[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

func (a Action) valid() bool { return a >= 1 && int(a) <= actionCount }

// Condition narrows a card type an action applies to: the template's mechanics, or the
// membership tier's visit limits.
type Condition uint8

// Conditions of the action table.
const (
	// Always: every card of the type accepts the action.
	Always Condition = iota
	// WithVisitMechanics: the template counts visits.
	WithVisitMechanics
	// WithSpendMechanics: the template counts money spent.
	WithSpendMechanics
	// WithPointsMechanics: the template counts points.
	WithPointsMechanics
	// WithoutMembershipLimits: the membership tier has no visit limit.
	WithoutMembershipLimits
	// WithMembershipLimits: the membership tier limits visits.
	WithMembershipLimits
)

var conditionNames = [...]string{"", "visit mechanics", "spend mechanics", "points mechanics", "without limits", "with limits"}

// String describes the condition; Always is "".
func (c Condition) String() string {
	if int(c) < len(conditionNames) {
		return conditionNames[c]
	}
	return fmt.Sprintf("Condition(%d)", uint8(c))
}

// ActionRule says that Action applies to cards of CardType, under Condition.
type ActionRule struct {
	Action    Action
	CardType  CardType
	Condition Condition
}

// rule is one cell of the table: whether the action applies to the type, and on what.
type rule struct {
	allowed bool
	cond    Condition
}

// rules is the action × card type table of the product docs. It is a fixed array, so a check
// is two index operations and never allocates.
var rules = func() (t [actionCount + 1][CardTypeReward + 1]rule) {
	set := func(a Action, ct CardType, c Condition) { t[a][ct] = rule{true, c} }
	set(ActionAddAmount, CardTypeCashback, Always)
	set(ActionSubtractAmount, CardTypeCashback, Always)
	for _, a := range []Action{ActionAddPoints, ActionSubtractPoints} {
		set(a, CardTypeCashback, Always)
		set(a, CardTypeDiscount, Always)
		set(a, CardTypeGift, Always)
	}
	set(ActionAddRewards, CardTypeStamp, Always)
	set(ActionSubtractRewards, CardTypeStamp, Always)
	set(ActionAddScores, CardTypeMultipass, Always)
	set(ActionAddScores, CardTypeReward, WithPointsMechanics)
	set(ActionSubtractScores, CardTypeMultipass, Always)
	set(ActionSubtractScores, CardTypeReward, Always)
	set(ActionAddStamps, CardTypeStamp, Always)
	set(ActionSubtractStamps, CardTypeStamp, Always)
	set(ActionAddVisits, CardTypeStamp, WithVisitMechanics)
	set(ActionAddVisits, CardTypeMultipass, Always)
	set(ActionAddVisits, CardTypeMembership, WithoutMembershipLimits)
	set(ActionAddVisits, CardTypeReward, WithVisitMechanics)
	set(ActionSubtractVisits, CardTypeMultipass, Always)
	set(ActionSubtractVisits, CardTypeMembership, WithMembershipLimits)
	// The docs list add-purchase only; subtract-purchase is assumed to follow it.
	for _, a := range []Action{ActionAddPurchase, ActionSubtractPurchase} {
		set(a, CardTypeStamp, WithSpendMechanics)
		set(a, CardTypeReward, WithSpendMechanics)
	}
	set(ActionReceiveReward, CardTypeReward, Always)
	set(ActionRedeemCoupon, CardTypeCoupon, Always)
	set(ActionSetMembershipTier, CardTypeMembership, Always)
	for _, ct := range allCardTypes {
		set(ActionSetExpirationDate, ct, Always)
	}
	return t
}()

// ActionTable returns every (action, card type, condition) the API accepts, in action order
// then card type order. It is a copy: changing it changes nothing.
func ActionTable() []ActionRule {
	var out []ActionRule
	for a := 1; a <= actionCount; a++ {
		for _, ct := range allCardTypes {
			if r := rules[a][ct]; r.allowed {
				out = append(out, ActionRule{Action(a), ct, r.cond})
			}
		}
	}
	return out
}

// ActionAppliesTo reports whether action a may apply to cards of type t, for some template
// settings. It needs no client and no network.
func ActionAppliesTo(a Action, t CardType) bool {
	return a.valid() && t.Known() && rules[a][t].allowed
}

// ActionCondition reports whether action a applies to cards of type t and, when it does, on
// what condition (Always, or a template mechanics or membership limit). No client needed.
func ActionCondition(a Action, t CardType) (cond Condition, ok bool) {
	if !ActionAppliesTo(a, t) {
		return Always, false
	}
	return rules[a][t].cond, true
}

// CardTypes returns the card types the action applies to.
func (a Action) CardTypes() []CardType {
	var out []CardType
	for _, ct := range allCardTypes {
		if ActionAppliesTo(a, ct) {
			out = append(out, ct)
		}
	}
	return out
}

// ActionNotAllowedError is the refusal of a card action that does not fit the card: its type,
// its template's mechanics, or its membership limits. When the client refused it, nothing was
// sent. When the server refused it ("Irrelevant accrual type"), ByServer is true and Err holds
// the server's *APIError.
type ActionNotAllowedError struct {
	Action Action
	CardID string
	// CardType is the card's type, or CardTypeUnknown when the server refused a card whose type
	// the client did not know.
	CardType CardType
	// AllowedTypes are the card types the action applies to.
	AllowedTypes []CardType
	// Reason says what did not fit.
	Reason   string
	ByServer bool
	Err      error
}

// Error names the action, the card, its type and the types the action applies to.
func (e *ActionNotAllowedError) Error() string {
	who := "client"
	if e.ByServer {
		who = "server"
	}
	names := make([]string, len(e.AllowedTypes))
	for i, t := range e.AllowedTypes {
		names[i] = t.String()
	}
	s := fmt.Sprintf("loyalty: %s refused by the %s for card %s (type %s): %s; %s applies to %s cards",
		e.Action, who, e.CardID, e.CardType, e.Reason, e.Action, strings.Join(names, ", "))
	if takes := methodsFor(e.CardType); takes != "" {
		s += "; a " + e.CardType.String() + " card takes " + takes
	}
	return s
}

// actionMethods names the CardsService method of each action.
var actionMethods = [actionCount + 1]string{
	"", "AddAmount", "SubtractAmount", "AddPoints", "SubtractPoints", "AddRewards", "SubtractRewards", "AddScores",
	"SubtractScores", "AddStamps", "SubtractStamps", "AddVisits", "SubtractVisits", "AddPurchase", "SubtractPurchase",
	"ReceiveReward", "RedeemCoupon", "SetMembershipTier", "SetExpirationDate",
}

// methodsFor lists the methods a card of type t takes, each with its condition: what to call
// instead of an action it refused.
func methodsFor(t CardType) string {
	if !t.Known() {
		return ""
	}
	var out []string
	for a := Action(1); a.valid(); a++ {
		r := rules[a][t]
		if !r.allowed {
			continue
		}
		m := actionMethods[a]
		if r.cond != Always {
			m += " (" + r.cond.String() + ")"
		}
		out = append(out, m)
		if a == ActionSetExpirationDate {
			out = append(out, "ClearExpirationDate")
		}
	}
	return strings.Join(out, ", ")
}

// Is makes errors.Is(err, ErrActionNotAllowed) true.
func (e *ActionNotAllowedError) Is(target error) bool { return target == ErrActionNotAllowed }

// Unwrap gives the server's *APIError when the server refused.
func (e *ActionNotAllowedError) Unwrap() error { return e.Err }

// ErrActionNotAllowed matches every *ActionNotAllowedError.
var ErrActionNotAllowed = errors.New("loyalty: action not allowed for this card")

// serverRefusals are the 400 messages by which the API says an action does not fit the card.
// Matched case-insensitively as substrings; extend it as new wordings are seen.
var serverRefusals = []string{"irrelevant accrual type", "not applicable to", "not available for this card"}

// MembershipPeriod is the period a membership tier is bought for.
type MembershipPeriod string

// Membership periods.
const (
	PeriodDay   MembershipPeriod = "day"
	PeriodWeek  MembershipPeriod = "week"
	PeriodMonth MembershipPeriod = "month"
	PeriodYear  MembershipPeriod = "year"
)

func (p MembershipPeriod) valid() bool {
	return p == PeriodDay || p == PeriodWeek || p == PeriodMonth || p == PeriodYear
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the balance is too small;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the balance is too small;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the card has fewer rewards;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the card holds fewer;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the card has fewer stamps;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrVisitAlreadyRegistered) when the card already has today's visit;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState when the period's visits are used up;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrInsufficientBalance) when the card has too few points for the tier;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad quantity or reference (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrCardState (ErrCouponAlreadyRedeemed) when the coupon was redeemed before;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad argument, or a comment or reference, which it does not take (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad argument, or a comment or reference, which it does not take (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
// Before it sends, the client checks the action against the card's type (see ActionTable);
// when the type is neither in opts (Card or CardType) nor already known to the client, it
// first reads the card with one GET, and remembers its type.
//
// Returns the card as the action left it. Errors: ErrInvalidArgument for an empty id or a
// bad argument, or a comment or reference, which it does not take (nothing sent); *ActionNotAllowedError (ErrActionNotAllowed) when
// the card does not take the action, from the client (nothing sent) or the server;
// ErrNotFound for an unknown card; *OutcomeUnknownError (ErrOutcomeUnknown) when the answer
// was lost, since an action is never sent twice (use ApplyOnce to recover).
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
	card, resp, err := s.one(ctx, call{method: "POST", path: "cards/", id: p, sub: a.String(), body: body})
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

// check refuses an action that cannot apply to the card. It learns the card's type from, in
// order: the card the caller passed, the type the caller passed, the client's cache, and one
// GET of the card, unless the look-up is off; then the server judges. It returns the type it
// used (CardTypeUnknown when none).
func (s *CardsService) check(ctx context.Context, id string, a Action, opts *ActionOptions) (CardType, *Response, error) {
	var card *Card
	var tmpl *Template
	t := CardTypeUnknown
	if opts != nil {
		card, tmpl, t = opts.Card, opts.Template, opts.CardType
		if card != nil {
			t = card.Type
		}
	}
	if !t.Known() {
		t = s.client.cardTypes.get(id)
	}
	if !s.client.checkActions || opts != nil && opts.SkipCheck {
		return t, nil, nil // the check is off: the server judges
	}
	if !t.Known() && s.client.lookupTypes {
		got, resp, err := s.lookUp(ctx, id)
		if err != nil {
			return CardTypeUnknown, resp, fmt.Errorf("loyalty: %s on card %s: reading the card to learn its type: %w", a, id, err)
		}
		// Only the type is taken from the look-up. Its membership tier is not: the next call
		// finds the type in the cache and no tier, and the same action must get the same
		// verdict on every call. Conditions are judged from what the caller passes.
		t = got
	}
	if !t.Known() {
		return t, nil, nil // nothing to judge by: the server decides
	}
	if reason := refusal(a, t, card, tmpl); reason != "" {
		return t, nil, &ActionNotAllowedError{Action: a, CardID: id, CardType: t, AllowedTypes: a.CardTypes(), Reason: reason}
	}
	return t, nil, nil
}

// lookUp reads a card's type with one GET, shared by every concurrent action on the same
// card, and remembers it under the id the caller used as well as the card's own. The GET
// runs with the context of the action that started it; an action that joined it and got
// that context's error while its own is alive looks the card up once more itself.
func (s *CardsService) lookUp(ctx context.Context, id string) (CardType, *Response, error) {
	for again := true; ; again = false {
		v, err, shared := s.client.lookups.Do(cacheKey(id), func() (any, error) {
			card, resp, err := s.Get(ctx, id)
			if err != nil {
				return lookup{resp: resp}, err
			}
			s.client.cardTypes.put(id, card.Type)
			return lookup{t: card.Type, resp: resp}, nil
		})
		if again && shared && err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			continue // another action's context ended, not ours: once more, on our own
		}
		res, _ := v.(lookup)
		return res.t, res.resp, err
	}
}

// lookup is the outcome of a type look-up, shared between the actions that waited for it.
type lookup struct {
	t    CardType
	resp *Response
}

// refusal says why action a cannot apply to a card of type t, or "" when it may. card and
// tmpl, when not nil, refine the verdict with the template's mechanics and the membership
// tier's limits; without them, a condition is left to the server.
func refusal(a Action, t CardType, card *Card, tmpl *Template) string {
	r := rules[a][t]
	if !r.allowed {
		return fmt.Sprintf("%s cards do not accept it", t)
	}
	switch r.cond {
	case WithVisitMechanics, WithSpendMechanics, WithPointsMechanics:
		want := conditionMechanics[r.cond]
		if tmpl == nil || tmpl.Mechanics == nil || unreadUnder(tmpl.unread, "mechanics") {
			return ""
		}
		if have := tmpl.Mechanics.Kind(); have != "" && have != want {
			return fmt.Sprintf("on %s cards it needs %s, and template %d has %s mechanics", t, r.cond, tmpl.ID, have)
		}
	case WithMembershipLimits, WithoutMembershipLimits:
		limited, known := membershipLimited(card, tmpl)
		if known && limited != (r.cond == WithMembershipLimits) {
			state := "has no visit limit"
			if limited {
				state = "limits visits"
			}
			return fmt.Sprintf("on membership cards it needs a tier %s, and this card's tier %s", r.cond, state)
		}
	}
	return ""
}

var conditionMechanics = [...]Mechanics{WithVisitMechanics: MechanicsVisits, WithSpendMechanics: MechanicsSpend, WithPointsMechanics: MechanicsPoints}

// serverRefusal turns the API's "Irrelevant accrual type" answer into the same typed error the
// client gives, marked as the server's, and a known refusal about the card's state into a
// *CardStateError.
func serverRefusal(err error, a Action, id string, t CardType) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || IsOutcomeUnknown(err) {
		return err
	}
	if s := apiErr.StatusCode; s == 400 || s == 409 || s == 422 {
		if stateErr := cardStateRefusal(apiErr, a, id); stateErr != nil {
			return stateErr
		}
	}
	if apiErr.StatusCode != 400 {
		return err
	}
	msg := strings.ToLower(apiErr.Message)
	for _, m := range serverRefusals {
		if strings.Contains(msg, m) {
			return &ActionNotAllowedError{Action: a, CardID: id, CardType: t, AllowedTypes: a.CardTypes(),
				Reason: apiErr.Message, ByServer: true, Err: err}
		}
	}
	return err
}

// markUnread records on the cards and templates of an answer which of their members could
// not be read, for the action check.
func markUnread(out any, fields []UnreadField) {
	if len(fields) == 0 {
		return
	}
	for _, f := range fields {
		switch v := out.(type) {
		case *Card:
			if rest, ok := strings.CutPrefix(f.Path, "data."); ok {
				v.unread = append(v.unread, rest)
			}
		case *Template:
			if rest, ok := strings.CutPrefix(f.Path, "data."); ok {
				v.unread = append(v.unread, rest)
			}
		case *[]Card:
			if i, rest, ok := elementPath(f.Path); ok && i < len(*v) {
				(*v)[i].unread = append((*v)[i].unread, rest)
			}
		case *[]Template:
			if i, rest, ok := elementPath(f.Path); ok && i < len(*v) {
				(*v)[i].unread = append((*v)[i].unread, rest)
			}
		}
	}
}

// elementPath splits "data[3].balance.balance" into 3 and "balance.balance".
func elementPath(path string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, "data[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return i, strings.TrimPrefix(rest, "."), true
}

// unreadUnder reports whether any unread path starts with one of the members named.
func unreadUnder(unread []string, members ...string) bool {
	for _, p := range unread {
		for _, m := range members {
			if p == m || strings.HasPrefix(p, m+".") || strings.HasPrefix(p, m+"[") {
				return true
			}
		}
	}
	return false
}

// VisitsLimited reports whether a membership card's tier limits its visits, which decides the
// card's visit action: SubtractVisits uses up a limited tier's visits, AddVisits counts them
// on an unlimited one. It reads the card's own tier (for its subscription's period), else
// tmpl's tiers when they all agree (tmpl may be nil). known is false when neither settles it:
// then send the action the template is meant for, and the server is the judge.
func (c *Card) VisitsLimited(tmpl *Template) (limited, known bool) {
	if c == nil || c.Type != CardTypeMembership {
		return false, false
	}
	return membershipLimited(c, tmpl)
}

// membershipLimited tells whether the card's membership tier limits visits, from the card's own
// tier or else the template's tiers. known is false when neither settles it.
func membershipLimited(card *Card, tmpl *Template) (limited, known bool) {
	if card != nil && unreadUnder(card.unread, "membershipTier", "customerSubscription") ||
		tmpl != nil && unreadUnder(tmpl.unread, "membershipTiers") {
		return false, false // a limit the client could not read must not decide anything
	}
	var period string
	if card != nil && card.CustomerSubscription != nil {
		period = card.CustomerSubscription.Period
	}
	if card != nil && card.MembershipTier != nil {
		return card.MembershipTier.limited(period)
	}
	if tmpl == nil || len(tmpl.MembershipTiers) == 0 {
		return false, false
	}
	var first bool
	for i, tier := range tmpl.MembershipTiers {
		l, ok := tier.limited(period)
		if !ok || (i > 0 && l != first) {
			return false, false // tiers disagree: only the card's own tier would tell
		}
		first = l
	}
	return first, true
}

// limited reads the tier's visit limit for period, or for its active periods when period is
// unknown. A limit of 0 means unlimited.
func (m *MembershipTier) limited(period string) (limited, known bool) {
	switch period {
	case "day":
		return m.DailyParameters.Limit > 0, true
	case "week":
		return m.WeeklyParameters.Limit > 0, true
	case "month":
		return m.MonthlyParameters.Limit > 0, true
	case "year":
		return m.YearlyParameters.Limit > 0, true
	}
	var active, withLimit int
	for _, p := range [...]MembershipTierPricing{m.DailyParameters, m.WeeklyParameters, m.MonthlyParameters, m.YearlyParameters} {
		if p.Active {
			active++
			if p.Limit > 0 {
				withLimit++
			}
		}
	}
	if active == 0 || (withLimit != 0 && withLimit != active) {
		return false, false // nothing active, or periods that disagree
	}
	return withLimit > 0, true
}
