// The operations layer: the card-type × action table of the product docs, and the check every
// card action passes before anything is sent. ("Operations" here is the design's name for
// this layer; the API's own "operations", the history of card actions, are in history.go.)

package loyalty

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ConditionAlways: every card of the type accepts the action.
	ConditionAlways Condition = iota
	// ConditionVisitMechanics: the template counts visits.
	ConditionVisitMechanics
	// ConditionSpendMechanics: the template counts money spent.
	ConditionSpendMechanics
	// ConditionPointsMechanics: the template counts points.
	ConditionPointsMechanics
	// ConditionMembershipUnlimited: the membership tier has no visit limit.
	ConditionMembershipUnlimited
	// ConditionMembershipLimited: the membership tier limits visits.
	ConditionMembershipLimited
)

var conditionNames = [...]string{"", "visit mechanics", "spend mechanics", "points mechanics", "without limits", "with limits"}

// String describes the condition; ConditionAlways is "".
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
	set(ActionAddAmount, CardTypeCashback, ConditionAlways)
	set(ActionSubtractAmount, CardTypeCashback, ConditionAlways)
	for _, a := range []Action{ActionAddPoints, ActionSubtractPoints} {
		set(a, CardTypeCashback, ConditionAlways)
		set(a, CardTypeDiscount, ConditionAlways)
		set(a, CardTypeGift, ConditionAlways)
	}
	set(ActionAddRewards, CardTypeStamp, ConditionAlways)
	set(ActionSubtractRewards, CardTypeStamp, ConditionAlways)
	set(ActionAddScores, CardTypeMultipass, ConditionAlways)
	set(ActionAddScores, CardTypeReward, ConditionPointsMechanics)
	set(ActionSubtractScores, CardTypeMultipass, ConditionAlways)
	set(ActionSubtractScores, CardTypeReward, ConditionAlways)
	set(ActionAddStamps, CardTypeStamp, ConditionAlways)
	set(ActionSubtractStamps, CardTypeStamp, ConditionAlways)
	set(ActionAddVisits, CardTypeStamp, ConditionVisitMechanics)
	set(ActionAddVisits, CardTypeMultipass, ConditionAlways)
	set(ActionAddVisits, CardTypeMembership, ConditionMembershipUnlimited)
	set(ActionAddVisits, CardTypeReward, ConditionVisitMechanics)
	set(ActionSubtractVisits, CardTypeMultipass, ConditionAlways)
	set(ActionSubtractVisits, CardTypeMembership, ConditionMembershipLimited)
	// The docs list add-purchase only; subtract-purchase is assumed to follow it.
	for _, a := range []Action{ActionAddPurchase, ActionSubtractPurchase} {
		set(a, CardTypeStamp, ConditionSpendMechanics)
		set(a, CardTypeReward, ConditionSpendMechanics)
	}
	set(ActionReceiveReward, CardTypeReward, ConditionAlways)
	set(ActionRedeemCoupon, CardTypeCoupon, ConditionAlways)
	set(ActionSetMembershipTier, CardTypeMembership, ConditionAlways)
	for _, ct := range allCardTypes {
		set(ActionSetExpirationDate, ct, ConditionAlways)
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
// what condition (ConditionAlways, or a template mechanics or membership limit). No client needed.
func ActionCondition(a Action, t CardType) (cond Condition, ok bool) {
	if !ActionAppliesTo(a, t) {
		return ConditionAlways, false
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
		if r.cond != ConditionAlways {
			m += " (" + r.cond.String() + ")"
		}
		out = append(out, m)
		if a == ActionSetExpirationDate {
			out = append(out, "ClearExpirationDate")
		}
	}
	return strings.Join(out, ", ")
}

// serverRefusals are the 400 messages by which the API says an action does not fit the card.
// Matched case-insensitively as substrings; extend it as new wordings are seen.
var serverRefusals = []string{"irrelevant accrual type", "not applicable to", "not available for this card"}

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
	if !t.Known() && s.client.fetchTypes {
		got, resp, err := s.fetchCardType(ctx, id)
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

// fetchCardType reads a card's type with one GET, shared by every concurrent action on the same
// card, and remembers it under the id the caller used as well as the card's own. The GET
// runs with the context of the action that started it; an action that joined it and got
// that context's error while its own is alive looks the card up once more itself.
func (s *CardsService) fetchCardType(ctx context.Context, id string) (CardType, *Response, error) {
	for again := true; ; again = false {
		v, err, shared := s.client.typeFetches.Do(cacheKey(id), func() (any, error) {
			card, resp, err := s.Get(ctx, id)
			if err != nil {
				return fetchedType{resp: resp}, err
			}
			s.client.cardTypes.put(id, card.Type)
			return fetchedType{t: card.Type, resp: resp}, nil
		})
		if again && shared && err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			continue // another action's context ended, not ours: once more, on our own
		}
		res, _ := v.(fetchedType)
		return res.t, res.resp, err
	}
}

// fetchedType is the outcome of a type look-up, shared between the actions that waited for it.
type fetchedType struct {
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
	case ConditionVisitMechanics, ConditionSpendMechanics, ConditionPointsMechanics:
		want := conditionMechanics[r.cond]
		if tmpl == nil || tmpl.Mechanics == nil || unreadUnder(tmpl.unread, "mechanics") {
			return ""
		}
		if have := tmpl.Mechanics.Kind(); have != "" && have != want {
			return fmt.Sprintf("on %s cards it needs %s, and template %d has %s mechanics", t, r.cond, tmpl.ID, have)
		}
	case ConditionMembershipLimited, ConditionMembershipUnlimited:
		limited, known := membershipLimited(card, tmpl)
		if known && limited != (r.cond == ConditionMembershipLimited) {
			state := "has no visit limit"
			if limited {
				state = "limits visits"
			}
			return fmt.Sprintf("on membership cards it needs a tier %s, and this card's tier %s", r.cond, state)
		}
	}
	return ""
}

var conditionMechanics = [...]Mechanics{ConditionVisitMechanics: MechanicsVisits, ConditionSpendMechanics: MechanicsSpend, ConditionPointsMechanics: MechanicsPoints}

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
