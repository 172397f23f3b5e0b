// The till's job in one call: a purchase of some amount, with a receipt id, on a customer's
// card, applied with the action that fits the card, once per receipt.

package loyalty

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// PurchaseRequest is a purchase at the till, for Cards.Purchase.
type PurchaseRequest struct {
	// CardID is the customer's card (a scanned serial). Leave it empty to find the card by
	// CustomerPhone or CustomerEmail among the cards issued from TemplateID.
	CardID        string
	CustomerPhone string
	CustomerEmail string
	TemplateID    int
	// IssueCard issues a card from TemplateID when the customer found by phone or email has
	// none, or when no customer has that phone or email (then one is created, named
	// FirstName, which is needed only then). Without it, no card is ErrNotFound.
	IssueCard bool
	FirstName string

	// Amount is the purchase, in units of the account's currency, with decimals (12.50).
	Amount float64
	// Receipt is the receipt's id. The purchase is applied at most once per receipt, as
	// ApplyOnce applies an action: it is the action's Reference. At most 64 bytes, no
	// brackets.
	Receipt string
	// Comment is stored with the operation, before the receipt's tag.
	Comment string
}

// PurchaseResult is what a purchase did, in the terms a till shows.
type PurchaseResult struct {
	// Card is the card as the purchase left it; for a receipt recorded before, the card as
	// it stands (when it could be read).
	Card *Card
	// Action is what the purchase did to the card, chosen by its type and template (see
	// Cards.Purchase), and Quantity how much, in QuantityUnit: "stamps", "visits",
	// "coupons", "points", or "currency" (the purchase amount, or the value used). All
	// three are zero for a receipt recorded before: this purchase did nothing.
	Action       Action
	Quantity     float64
	QuantityUnit string
	// Balance is what the card holds after it, in BalanceUnit: "stamps" (on the current
	// round), "points", "currency" (cashback, or a gift card's value left), "visits" (counted)
	// or "visits used" (of a multipass or a limited membership).
	Balance     float64
	BalanceUnit string
	// RewardAvailable says a reward waits for the customer: a stamp card's unused rewards, or
	// a reward card's balance at a reward tier's threshold.
	RewardAvailable bool
	// AlreadyRecorded says the receipt was applied before (this purchase sent nothing).
	AlreadyRecorded bool
	// Issued says the card was issued by this purchase (IssueCard).
	Issued bool
}

// Purchase records a purchase on a customer's card: the action that fits the card, applied
// at most once per receipt (ApplyOnce's guarantees). The action is chosen by the card's type
// and its template's mechanics and membership limits:
//
//   - cashback and discount: AddPoints with the amount (the card earns its share);
//   - gift: SubtractPoints with the amount (the purchase is paid with the card);
//   - stamp: AddPurchase with the amount on spend mechanics; else AddStamps with the
//     template's stamps per accrual (1 when it does not say);
//   - reward: AddPurchase on spend mechanics, AddVisits(1) on visit mechanics, AddScores with
//     the whole amount (rounded down) on points mechanics;
//   - multipass: AddVisits(1); membership: SubtractVisits(1) on a tier with a visit limit,
//     AddVisits(1) on one without;
//   - coupon: RedeemCoupon.
//
// The action passes the card-type check as every action does. The card's template is read
// once and kept (as card types are): a returning card costs no template read.
//
// What it sends, for a card by id: the card and its history, side by side (for the receipt,
// as ApplyOnce does), the template when it is not known yet, and the action: 3 requests (4
// with the template), in 2 round trips one after another (3). By phone or email: the card
// list filtered by phone or email and template (with the template beside it), the history,
// and the action: at most one request more. A receipt the ledger knows costs one read of the
// card. With IssueCard, finding or creating the customer and issuing the card come first
// (Customers.FindOrCreate, Cards.FindOrIssue).
//
// once tunes the recovery after a lost answer, as for ApplyOnce (nil: the defaults).
//
// Returns what the purchase did. Errors: ErrInvalidArgument for a request the client can
// tell is wrong, such as no receipt, an amount of 0 or less, neither a card nor a phone or
// email with a template (nothing sent); ErrNotFound when there is no such card, or the
// customer has no card from the template and IssueCard is not set; those of ApplyOnce and of
// every card action (ErrAlreadyApplied is not one: a receipt recorded before comes back with
// AlreadyRecorded set).
//
// API: GET /api/v2/cards/{id} or GET /api/v2/cards, GET /api/v2/operations, GET
// /api/v2/templates/{id}, then the action's own endpoint; with IssueCard, GET and POST
// /api/v2/customers and /api/v2/cards
func (s *CardsService) Purchase(ctx context.Context, req *PurchaseRequest, once *OnceOptions) (*PurchaseResult, *Response, error) {
	if err := begin((*service)(s), ctx, req); err != nil {
		return nil, nil, err
	}
	res := &PurchaseResult{}
	id := req.CardID
	var card *Card
	var tmpl *Template
	if id == "" {
		found, t, resp, err := s.purchaseCard(ctx, req, res)
		if err != nil {
			return nil, resp, err
		}
		card, tmpl, id = found, t, found.ID
	}
	var picked purchaseAction
	opts := &ActionOptions{Reference: req.Receipt, Comment: req.Comment, Card: card}
	choose := func(ctx context.Context, known *Card) (ActionFunc, error) {
		if known == nil { // no look-up was made (the ledger vouched): read the card
			var err error
			if known, _, err = s.Get(ctx, id); err != nil {
				return nil, err
			}
		}
		card, opts.Card = known, known
		if tmpl == nil && needsTemplate(known.Type) {
			var err error
			if tmpl, err = s.client.template(ctx, known.TemplateID); err != nil {
				return nil, fmt.Errorf("loyalty: reading the card's template %d to choose its action: %w", known.TemplateID, err)
			}
		}
		var err error
		picked, err = s.actionFor(known, tmpl, req.Amount)
		return picked.fn, err
	}
	after, resp, err := s.applyOnce(ctx, id, func(ctx context.Context, known *Card) (ActionFunc, error) {
		fn, err := choose(ctx, known)
		if err == nil {
			opts.Template = tmpl // the check sees the mechanics the choice was made on
		}
		return fn, err
	}, opts, once)
	var already *AlreadyAppliedError
	switch {
	case errors.As(err, &already):
		res.AlreadyRecorded = true
		if after == nil {
			after = already.Finding.Card
		}
		if after != nil && tmpl == nil && after.Type == CardTypeMembership {
			tmpl, _ = s.client.template(ctx, after.TemplateID) // only to word the balance
		}
	case err != nil:
		return nil, resp, err
	}
	res.Card = after
	res.Action, res.Quantity, res.QuantityUnit = picked.action, picked.quantity, picked.unit
	res.Balance, res.BalanceUnit, res.RewardAvailable = after.Holds(tmpl)
	return res, resp, nil
}

func (r *PurchaseRequest) validate() error {
	switch {
	case r.Receipt == "":
		return invalid("receipt", "must not be empty: the purchase is applied once per receipt")
	case r.CardID == "" && r.CustomerPhone == "" && r.CustomerEmail == "":
		return invalid("cardId", "must be set, or a customer's phone or email with a template")
	case r.CardID != "" && (r.CustomerPhone != "" || r.CustomerEmail != "" || r.IssueCard):
		return invalid("cardId", "is the card: leave the customer's phone, email and IssueCard out")
	case r.CardID == "" && r.TemplateID <= 0:
		return invalid("templateId", "must be a positive id, to find the customer's card by phone or email")
	}
	if err := checkReference(r.Receipt); err != nil {
		return invalid("receipt", strings.TrimPrefix(err.Error(), "loyalty: invalid argument options.reference: "))
	}
	if r.CardID != "" {
		if _, err := segment("cardId", r.CardID); err != nil {
			return err
		}
	}
	return positiveNumber("amount", r.Amount)
}

// purchaseCard finds the customer's card from the template by phone or email (the template
// read beside it when it is not known), issuing one when asked to.
func (s *CardsService) purchaseCard(ctx context.Context, req *PurchaseRequest, res *PurchaseResult) (*Card, *Template, *Response, error) {
	tmplDone := make(chan error, 1)
	var tmpl *Template
	go func() {
		var err error
		tmpl, err = s.client.template(ctx, req.TemplateID)
		tmplDone <- err
	}()
	cards, resp, err := s.List(ctx, &CardListOptions{CustomerPhone: req.CustomerPhone, CustomerEmail: req.CustomerEmail,
		TemplateID: req.TemplateID, ListOptions: ListOptions{ItemsPerPage: 10}})
	terr := <-tmplDone
	if err != nil {
		return nil, nil, resp, err
	}
	for i := range cards {
		if c := &cards[i]; c.TemplateID == req.TemplateID && c.Status != CardStatusDeleted && ownedBy(c, req) {
			return c, tmpl, resp, terr
		}
	}
	if !req.IssueCard {
		return nil, nil, resp, fmt.Errorf("%w: the customer with this phone or email has no card from template %d "+
			"(set IssueCard to issue one)", ErrNotFound, req.TemplateID)
	}
	customer, resp, err := s.client.Customers.FindOrCreate(ctx, &CustomerCreateRequest{FirstName: req.FirstName,
		Phone: req.CustomerPhone, Email: req.CustomerEmail})
	if err != nil {
		return nil, nil, resp, err
	}
	card, resp, err := s.FindOrIssue(ctx, &CardCreateRequest{CustomerID: customer.ID, TemplateID: req.TemplateID}, nil)
	if err != nil {
		return nil, nil, resp, err
	}
	res.Issued = resp != nil && !resp.Found
	return card, tmpl, resp, terr
}

// ownedBy reports whether the card's customer is the one the request names, where the list
// says who it is (a list filter the server ignored must not pick a stranger's card).
func ownedBy(c *Card, req *PurchaseRequest) bool {
	switch {
	case req.CustomerPhone != "" && c.Customer.Phone != "":
		return samePhone(c.Customer.Phone, req.CustomerPhone)
	case req.CustomerEmail != "" && c.Customer.Email != "":
		return strings.EqualFold(c.Customer.Email, req.CustomerEmail)
	}
	return true
}

// needsTemplate reports the card types whose purchase action the template decides: by its
// mechanics (stamp, reward) or its tiers' visit limits (membership).
func needsTemplate(t CardType) bool {
	return t == CardTypeStamp || t == CardTypeReward || t == CardTypeMembership
}

// purchaseAction is the action a purchase takes on a card, and what it moves.
type purchaseAction struct {
	fn       ActionFunc
	action   Action
	quantity float64
	unit     string
}

// actionFor chooses what a purchase of amount does to the card.
func (s *CardsService) actionFor(card *Card, tmpl *Template, amount float64) (purchaseAction, error) {
	var kind Mechanics
	if tmpl != nil {
		kind = tmpl.Mechanics.Kind()
	}
	switch card.Type {
	case CardTypeCashback, CardTypeDiscount:
		return purchaseAction{Bind(s.AddPoints, amount), ActionAddPoints, amount, "currency"}, nil
	case CardTypeGift:
		return purchaseAction{Bind(s.SubtractPoints, amount), ActionSubtractPoints, amount, "currency"}, nil
	case CardTypeCoupon:
		return purchaseAction{s.RedeemCoupon, ActionRedeemCoupon, 1, "coupons"}, nil
	case CardTypeMultipass:
		return purchaseAction{Bind(s.AddVisits, 1), ActionAddVisits, 1, "visits"}, nil
	case CardTypeMembership:
		if limited, _ := card.VisitsLimited(tmpl); limited {
			return purchaseAction{Bind(s.SubtractVisits, 1), ActionSubtractVisits, 1, "visits"}, nil
		}
		return purchaseAction{Bind(s.AddVisits, 1), ActionAddVisits, 1, "visits"}, nil
	case CardTypeStamp:
		if kind == MechanicsSpend {
			return purchaseAction{Bind(s.AddPurchase, amount), ActionAddPurchase, amount, "currency"}, nil
		}
		n := 1
		if tmpl != nil && tmpl.Mechanics != nil && tmpl.Mechanics.Accrual.StampsPerAccrual >= 1 {
			n = int(tmpl.Mechanics.Accrual.StampsPerAccrual)
		}
		return purchaseAction{Bind(s.AddStamps, n), ActionAddStamps, float64(n), "stamps"}, nil
	case CardTypeReward:
		switch kind {
		case MechanicsSpend:
			return purchaseAction{Bind(s.AddPurchase, amount), ActionAddPurchase, amount, "currency"}, nil
		case MechanicsVisits:
			return purchaseAction{Bind(s.AddVisits, 1), ActionAddVisits, 1, "visits"}, nil
		}
		points := math.Floor(amount)
		if points < 1 {
			return purchaseAction{}, invalid("amount", "earns no points on this reward card: it takes whole points, and the amount is below 1")
		}
		return purchaseAction{Bind(s.AddScores, int(min(points, math.MaxInt32))), ActionAddScores, points, "points"}, nil
	}
	return purchaseAction{}, invalid("card", fmt.Sprintf("is of a type this SDK does not know (%s): no purchase action fits it", card.Type))
}

// Holds says what the card holds, in the terms of its type, as a till shows it: the value and
// its unit ("stamps" on the current round, "points", "currency", "visits", "visits used"; ""
// for a coupon, whose state is CouponRedeemed), and whether a reward waits for the customer.
// tmpl, the card's template, may be nil; with it a membership card's visit limit and a reward
// card's tiers are known when the card does not carry them.
func (c *Card) Holds(tmpl *Template) (value float64, unit string, rewardAvailable bool) {
	if c == nil {
		return 0, "", false
	}
	b := c.Balance
	switch c.Type {
	case CardTypeStamp:
		return float64(b.NumberStampsTotal), "stamps", b.NumberRewardsUnused > 0
	case CardTypeCashback, CardTypeGift:
		return b.Balance, "currency", false
	case CardTypeMultipass:
		return float64(b.CurrentNumberOfUses), "visits used", false
	case CardTypeMembership:
		if limited, _ := c.VisitsLimited(tmpl); limited {
			return float64(b.CurrentNumberOfUses), "visits used", false
		}
		return float64(c.CountVisits), "visits", false
	case CardTypeReward:
		tiers := c.AvailableRewardTiers
		if len(tiers) == 0 && tmpl != nil {
			tiers = tmpl.RewardTiers
		}
		for _, t := range tiers {
			if t.Threshold > 0 && b.Balance >= float64(t.Threshold) {
				return b.Balance, "points", true
			}
		}
		return b.Balance, "points", false
	case CardTypeCoupon:
		return 0, "", false
	}
	return b.Balance, "points", false
}
