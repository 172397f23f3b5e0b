package loyaltytest

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// actionInput is every member a card action may carry. Quantities are read as numbers and
// checked against the type each endpoint documents.
type actionInput struct {
	Amount      *number          `json:"amount"`
	Points      *number          `json:"points"`
	Rewards     *number          `json:"rewards"`
	Scores      *number          `json:"scores"`
	Stamps      *number          `json:"stamps"`
	Visits      *number          `json:"visits"`
	ID          *number          `json:"id"`
	TierID      *number          `json:"tierId"`
	Period      *string          `json:"period"`
	ExpiresAt   *json.RawMessage `json:"expiresAt"`
	Comment     *string          `json:"comment"`
	PurchaseSum *float64         `json:"purchaseSum"`
}

// number is a JSON value kept as written, so that 2 and 2.0 can be told apart.
type number = json.RawMessage

// quantity reads a required quantity: present, > 0, and an integer literal where the API
// takes an integer: 2.0 and 1e1 are refused there, as a PHP integer check refuses them.
func quantity(name string, n *number, integer bool) (float64, *apiError) {
	if n == nil {
		return 0, invalidField(name, "This value should not be blank.")
	}
	if strings.HasPrefix(string(*n), `"`) {
		return 0, invalidField(name, "This value should be a number.")
	}
	if integer && strings.ContainsAny(string(*n), ".eE") {
		return 0, invalidField(name, "This value should be of type int.")
	}
	v, err := strconv.ParseFloat(string(*n), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, invalidField(name, "This value should be a number.")
	}
	switch {
	case v <= 0:
		return 0, invalidField(name, "This value should be greater than 0.")
	case integer && v > math.MaxInt32:
		// The API keeps counts in 32-bit integers.
		return 0, invalidField(name, "This value should be between 1 and 2147483647.")
	case v > math.MaxFloat32:
		return 0, invalidField(name, "This value is too large.")
	}
	return v, nil
}

// condition is what an action needs of a card beyond its type.
type condition int

const (
	always condition = iota + 1
	visitMechanics
	spendMechanics
	pointsMechanics
	withoutLimits // a membership tier that does not limit visits
	withLimits    // a membership tier that does
)

// actionRoute is one card action of the fake: its endpoint, the SDK's name for it, and which
// card types accept it. The table is the fake's own, written from the product docs, not taken
// from the SDK: a wrong row in the SDK must not be confirmed by the fake.
// (TestActionTableAgreesWithTheSDK keeps the two in step.)
type actionRoute struct {
	endpoint string
	action   loyalty.Action
	accepts  map[loyalty.CardType]condition
	// member is the body member that carries the quantity, named in a refusal.
	member string
}

var (
	stamp, cashback, multipass, coupon = loyalty.CardTypeStamp, loyalty.CardTypeCashback, loyalty.CardTypeMultipass, loyalty.CardTypeCoupon
	discount, gift, membership, reward = loyalty.CardTypeDiscount, loyalty.CardTypeGift, loyalty.CardTypeMembership, loyalty.CardTypeReward
)

var actionRoutes = []actionRoute{
	{"add-transaction-amount", loyalty.ActionAddAmount, map[loyalty.CardType]condition{cashback: always}, "amount"},
	{"subtract-transaction-amount", loyalty.ActionSubtractAmount, map[loyalty.CardType]condition{cashback: always}, "amount"},
	{"add-point", loyalty.ActionAddPoints, map[loyalty.CardType]condition{discount: always, cashback: always, gift: always}, "points"},
	{"subtract-point", loyalty.ActionSubtractPoints, map[loyalty.CardType]condition{discount: always, cashback: always, gift: always}, "points"},
	{"add-reward", loyalty.ActionAddRewards, map[loyalty.CardType]condition{stamp: always}, "rewards"},
	{"subtract-reward", loyalty.ActionSubtractRewards, map[loyalty.CardType]condition{stamp: always}, "rewards"},
	{"add-scores", loyalty.ActionAddScores, map[loyalty.CardType]condition{reward: pointsMechanics, multipass: always}, "scores"},
	{"subtract-scores", loyalty.ActionSubtractScores, map[loyalty.CardType]condition{reward: always, multipass: always}, "scores"},
	{"add-stamp", loyalty.ActionAddStamps, map[loyalty.CardType]condition{stamp: always}, "stamps"},
	{"subtract-stamp", loyalty.ActionSubtractStamps, map[loyalty.CardType]condition{stamp: always}, "stamps"},
	{"add-visit", loyalty.ActionAddVisits, map[loyalty.CardType]condition{multipass: always, membership: withoutLimits,
		stamp: visitMechanics, reward: visitMechanics}, "visits"},
	{"subtract-visit", loyalty.ActionSubtractVisits, map[loyalty.CardType]condition{multipass: always, membership: withLimits}, "visits"},
	{"add-purchase", loyalty.ActionAddPurchase, map[loyalty.CardType]condition{stamp: spendMechanics, reward: spendMechanics}, "amount"},
	// Not in the product docs; assumed to follow add-purchase.
	{"subtract-purchase", loyalty.ActionSubtractPurchase, map[loyalty.CardType]condition{stamp: spendMechanics, reward: spendMechanics}, "amount"},
	{"receive-reward", loyalty.ActionReceiveReward, map[loyalty.CardType]condition{reward: always}, "id"},
	{"redeem-coupon", loyalty.ActionRedeemCoupon, map[loyalty.CardType]condition{coupon: always}, "comment"},
	{"set-membership-tier", loyalty.ActionSetMembershipTier, map[loyalty.CardType]condition{membership: always}, "tierId"},
	{"set-expiration-date", loyalty.ActionSetExpirationDate, map[loyalty.CardType]condition{stamp: always, cashback: always,
		multipass: always, coupon: always, discount: always, gift: always, membership: always, reward: always}, "expiresAt"},
}

// applies reports whether the action fits the card: its type, its template's mechanics, and
// its membership tier's limits.
func (r *actionRoute) applies(c *card) bool {
	switch r.accepts[c.tmpl.Type] {
	case always:
		return true
	case visitMechanics:
		return c.tmpl.Mechanics == loyalty.MechanicsVisits
	case spendMechanics:
		return c.tmpl.Mechanics == loyalty.MechanicsSpend
	case pointsMechanics:
		return c.tmpl.Mechanics == loyalty.MechanicsPoints
	case withoutLimits, withLimits:
		mt := c.tmpl.membershipTier(c.tierID)
		limited := mt != nil && mt.VisitLimit > 0
		return limited == (r.accepts[c.tmpl.Type] == withLimits)
	}
	return false
}

func actionHandler(r *actionRoute) handler {
	a := r.action
	return func(st *state, rq *request) (any, *apiError) {
		c := rq.t.cards.get(rq.PathValue("id"))
		if c == nil {
			return nil, notFound("Card")
		}
		var in actionInput
		if len(rq.body) > 0 || a != loyalty.ActionRedeemCoupon {
			if err := decode(rq, &in); err != nil {
				return nil, err
			}
		}
		if in.PurchaseSum != nil && *in.PurchaseSum < 0 {
			return nil, invalidField("purchaseSum", "This value should be positive.")
		}
		if !r.applies(c) {
			return nil, errIrrelevant
		}
		before := *c
		q, err := apply(st, a, c, &in)
		if err == nil && !c.fits() {
			*c = before // nothing applied: the card could not hold the result
			err = invalidField(r.member, "The card's balance would be out of range.")
		}
		if err != nil {
			return nil, err
		}
		now := st.now()
		c.UpdatedAt = now
		op := &operation{ID: st.nextID(), card: c, EventID: int(a), Amount: q, Balance: c.measure(),
			Comment: str(in.Comment), Source: "api", CreatedAt: now, visibleAt: st.set.now().Add(st.set.historyLag)}
		if in.PurchaseSum != nil {
			op.PurchaseSum = *in.PurchaseSum
		}
		rq.t.ops = append(rq.t.ops, op)
		st.emit(rq.t, loyalty.EventCardBalanceUpdated, cardEvent(c, ""))
		return c.view(), nil
	}
}

// apply changes the card; it checks everything before changing anything. It returns the
// quantity moved, for the history.
func apply(st *state, a loyalty.Action, c *card, in *actionInput) (float64, *apiError) {
	now := st.now()
	tm := c.tmpl
	switch a {
	case loyalty.ActionAddStamps, loyalty.ActionAddVisits, loyalty.ActionAddPurchase:
		var q float64
		var err *apiError
		switch a {
		case loyalty.ActionAddStamps:
			q, err = quantity("stamps", in.Stamps, true)
		case loyalty.ActionAddVisits:
			q, err = quantity("visits", in.Visits, true)
		default:
			q, err = quantity("amount", in.Amount, false)
		}
		if err != nil {
			return 0, err
		}
		switch tm.Type {
		case loyalty.CardTypeStamp:
			n := int(q)
			if a == loyalty.ActionAddPurchase {
				n = int(q / tm.SpendPerStamp)
			}
			c.addStamps(n, now)
		case loyalty.CardTypeReward:
			c.balance += q
			c.visits += countIf(a == loyalty.ActionAddVisits, int(q))
		case loyalty.CardTypeMultipass:
			c.uses += int(q)
			c.visits += int(q)
		case loyalty.CardTypeMembership:
			c.visits += int(q)
		}
		return q, nil

	case loyalty.ActionSubtractStamps:
		q, err := quantity("stamps", in.Stamps, true)
		if err != nil {
			return 0, err
		}
		if int(q) > c.stamps {
			return 0, fail(http.StatusBadRequest, "Not enough stamps")
		}
		c.stamps -= int(q)
		return q, nil

	case loyalty.ActionAddRewards, loyalty.ActionSubtractRewards:
		q, err := quantity("rewards", in.Rewards, true)
		if err != nil {
			return 0, err
		}
		if a == loyalty.ActionAddRewards {
			c.rewards += int(q)
			c.earned += int(q)
			c.lastEarned = &now
			return q, nil
		}
		if int(q) > c.rewards {
			return 0, fail(http.StatusBadRequest, "Not enough rewards")
		}
		c.rewards -= int(q)
		c.redeemed += int(q)
		c.lastRedeemed = &now
		return q, nil

	case loyalty.ActionSubtractVisits:
		q, err := quantity("visits", in.Visits, true)
		if err != nil {
			return 0, err
		}
		if tm.Type == loyalty.CardTypeMembership {
			if mt := tm.membershipTier(c.tierID); mt != nil && c.uses+int(q) > mt.VisitLimit {
				return 0, fail(http.StatusBadRequest, "Visit limit reached")
			}
			c.uses += int(q)
			return q, nil
		}
		if int(q) > c.uses {
			return 0, fail(http.StatusBadRequest, "Not enough visits")
		}
		c.uses -= int(q)
		return q, nil

	case loyalty.ActionAddScores, loyalty.ActionSubtractScores:
		q, err := quantity("scores", in.Scores, true)
		if err != nil {
			return 0, err
		}
		return q, c.move(a == loyalty.ActionAddScores, q)

	case loyalty.ActionSubtractPurchase:
		q, err := quantity("amount", in.Amount, false)
		if err != nil {
			return 0, err
		}
		if tm.Type == loyalty.CardTypeStamp {
			n := int(q / tm.SpendPerStamp)
			if n > c.stamps {
				return 0, fail(http.StatusBadRequest, "Not enough stamps")
			}
			c.stamps -= n
			return q, nil
		}
		return q, c.move(false, q)

	case loyalty.ActionAddAmount, loyalty.ActionSubtractAmount:
		q, err := quantity("amount", in.Amount, true)
		if err != nil {
			return 0, err
		}
		return q, c.move(a == loyalty.ActionAddAmount, q)

	case loyalty.ActionAddPoints, loyalty.ActionSubtractPoints:
		q, err := quantity("points", in.Points, false)
		if err != nil {
			return 0, err
		}
		add := q
		if a == loyalty.ActionAddPoints && tm.Type == loyalty.CardTypeCashback {
			add = math.Round(q*tm.CashbackPercent) / 100 // the points are the purchase; the card earns its percentage
		}
		return q, c.move(a == loyalty.ActionAddPoints, add)

	case loyalty.ActionReceiveReward:
		q, err := quantity("id", in.ID, true)
		if err != nil {
			return 0, err
		}
		for _, rt := range tm.rewardTiers {
			if rt.ID != int(q) {
				continue
			}
			if c.balance < float64(rt.Threshold) {
				return 0, fail(http.StatusBadRequest, "Not enough points for this reward")
			}
			c.balance -= float64(rt.Threshold)
			c.redeemed++
			c.lastRedeemed = &now
			return float64(rt.Threshold), nil
		}
		return 0, notFound("Reward tier")

	case loyalty.ActionRedeemCoupon:
		if c.couponRedeemed {
			return 0, fail(http.StatusBadRequest, "Coupon already redeemed")
		}
		c.couponRedeemed = true
		c.redeemed++
		c.lastRedeemed = &now
		return 1, nil

	case loyalty.ActionSetMembershipTier:
		q, err := quantity("tierId", in.TierID, true)
		if err != nil {
			return 0, err
		}
		if in.Period == nil {
			return 0, invalidField("period", "This value should not be blank.")
		}
		switch *in.Period {
		case "day", "week", "month", "year":
		default:
			return 0, invalidField("period", "The value you selected is not a valid choice.")
		}
		if tm.membershipTier(int(q)) == nil {
			return 0, notFound("Membership tier")
		}
		c.tierID, c.period, c.uses = int(q), *in.Period, 0
		return q, nil

	case loyalty.ActionSetExpirationDate:
		if in.ExpiresAt == nil || string(*in.ExpiresAt) == "null" {
			c.expiresAt = nil
			return 0, nil
		}
		var s string
		if json.Unmarshal(*in.ExpiresAt, &s) != nil {
			return 0, invalidField("expiresAt", "This value should be of type string.")
		}
		at, aerr := parseStored("expiresAt", s)
		if aerr != nil {
			return 0, aerr
		}
		c.expiresAt = &at
		return 0, nil
	}
	return 0, errIrrelevant
}

// addStamps adds stamps, turning every full card into a reward.
func (c *card) addStamps(n int, now time.Time) {
	if n <= 0 {
		return
	}
	c.lastStamp = &now
	total, per := c.stamps+n, c.tmpl.StampsPerReward
	if full := total / per; full > 0 {
		c.rewards += full
		c.earned += full
		c.lastEarned = &now
	}
	c.stamps = total % per
}

// fits reports whether the card holds what the live API could: counts within its 32-bit
// integers, and a balance that is a finite number.
func (c *card) fits() bool {
	for _, n := range [...]int{c.stamps, c.rewards, c.uses, c.visits, c.earned, c.redeemed} {
		if n < 0 || n > math.MaxInt32 {
			return false
		}
	}
	return !math.IsNaN(c.balance) && !math.IsInf(c.balance, 0)
}

// move adds q to the card's balance, or takes it away if there is enough.
func (c *card) move(add bool, q float64) *apiError {
	if add {
		c.balance += q
		return nil
	}
	if q > c.balance+1e-9 {
		return fail(http.StatusBadRequest, "Insufficient balance")
	}
	c.balance -= q
	return nil
}

func countIf(cond bool, n int) int {
	if cond {
		return n
	}
	return 0
}
