// Tests of purchase.go: the action a purchase takes on each kind of card, what it reports, and
// once per receipt.

package loyalty_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// cardOf issues a card from the fake's template named name, to a customer of its own.
func cardOf(t *testing.T, srv *loyaltytest.Server, name, phone string) *loyalty.Card {
	t.Helper()
	ctx := context.Background()
	cu, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: phone})
	require.NoError(t, err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateNamed(name)})
	require.NoError(t, err)
	return card
}

func TestPurchaseTakesTheActionThatFitsTheCard(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	gift := cardOf(t, srv, loyaltytest.TemplateGift, "15555551007")
	_, _, err := srv.Client.Cards.AddPoints(ctx, gift.ID, 100, nil) // a gift card bought for 100
	require.NoError(t, err)
	for i, tc := range []struct {
		template    string
		card        *loyalty.Card
		action      loyalty.Action
		quantity    float64
		unit        string
		balance     float64
		balanceUnit string
	}{
		{template: loyaltytest.TemplateStampVisits, action: loyalty.ActionAddStamps, quantity: 1, unit: "stamps", balance: 1, balanceUnit: "stamps"},
		{template: loyaltytest.TemplateStampSpend, action: loyalty.ActionAddPurchase, quantity: 25, unit: "currency", balance: 2, balanceUnit: "stamps"},
		{template: loyaltytest.TemplateCashback, action: loyalty.ActionAddPoints, quantity: 25, unit: "currency", balance: 1.25, balanceUnit: "currency"},
		{template: loyaltytest.TemplateDiscount, action: loyalty.ActionAddPoints, quantity: 25, unit: "currency", balance: 25, balanceUnit: "points"},
		{template: loyaltytest.TemplateGift, card: gift, action: loyalty.ActionSubtractPoints, quantity: 25, unit: "currency", balance: 75, balanceUnit: "currency"},
		{template: loyaltytest.TemplateMultipass, action: loyalty.ActionAddVisits, quantity: 1, unit: "visits", balance: 1, balanceUnit: "visits used"},
		{template: loyaltytest.TemplateMembershipOpen, action: loyalty.ActionAddVisits, quantity: 1, unit: "visits", balance: 1, balanceUnit: "visits"},
		{template: loyaltytest.TemplateMembershipLimited, action: loyalty.ActionSubtractVisits, quantity: 1, unit: "visits", balance: 1, balanceUnit: "visits used"},
		{template: loyaltytest.TemplateRewardPoints, action: loyalty.ActionAddScores, quantity: 25, unit: "points", balance: 25, balanceUnit: "points"},
		{template: loyaltytest.TemplateRewardVisits, action: loyalty.ActionAddVisits, quantity: 1, unit: "visits", balance: 1, balanceUnit: "points"},
		{template: loyaltytest.TemplateRewardSpend, action: loyalty.ActionAddPurchase, quantity: 25, unit: "currency", balance: 25, balanceUnit: "points"},
		{template: loyaltytest.TemplateCoupon, action: loyalty.ActionRedeemCoupon, quantity: 1, unit: "coupons"},
	} {
		t.Run(tc.template, func(t *testing.T) {
			card := tc.card
			if card == nil {
				card = cardOf(t, srv, tc.template, "1555555"+string(rune('a'+i)))
			}
			res, _, err := srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CardID: card.ID, Amount: 25, Receipt: "r-" + card.ID}, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.action, res.Action)
			assert.Equal(t, tc.quantity, res.Quantity)
			assert.Equal(t, tc.unit, res.QuantityUnit)
			assert.InDelta(t, tc.balance, res.Balance, 1e-9)
			assert.Equal(t, tc.balanceUnit, res.BalanceUnit)
			assert.False(t, res.AlreadyRecorded)
			require.NotNil(t, res.Card)
			assert.Equal(t, card.ID, res.Card.ID)

			again, _, err := srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CardID: card.ID, Amount: 25, Receipt: "r-" + card.ID}, nil)
			require.NoError(t, err, "the receipt again")
			assert.True(t, again.AlreadyRecorded)
			assert.InDelta(t, tc.balance, again.Balance, 1e-9, "applied once")
		})
	}
}

func TestPurchaseSaysARewardIsWaiting(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	card := cardOf(t, srv, loyaltytest.TemplateStampVisits, "15555551111")
	var res *loyalty.PurchaseResult
	for i := range 10 {
		var err error
		res, _, err = srv.Client.Cards.Purchase(context.Background(), &loyalty.PurchaseRequest{CardID: card.ID, Amount: 3,
			Receipt: "coffee-" + string(rune('0'+i))}, nil)
		require.NoError(t, err)
		assert.Equal(t, i == 9, res.RewardAvailable, "purchase %d", i+1)
	}
	assert.Equal(t, 0.0, res.Balance, "the tenth stamp completes the round")
}

func TestPurchaseByPhone(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	template := srv.TemplateNamed(loyaltytest.TemplateStampVisits)
	card := cardOf(t, srv, loyaltytest.TemplateStampVisits, "+1 555 555 1200")

	res, _, err := srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CustomerPhone: "+1 555 555 1200", TemplateID: template,
		Amount: 3, Receipt: "p-1"}, nil)
	require.NoError(t, err)
	assert.Equal(t, card.ID, res.Card.ID)
	assert.False(t, res.Issued)

	before := srv.Requests("POST /api/v2/cards")
	_, _, err = srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CustomerPhone: "15555559999", TemplateID: template,
		Amount: 3, Receipt: "p-2"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrNotFound, "no card, and no IssueCard")
	assert.Contains(t, err.Error(), "set IssueCard")
	_, _, err = srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CustomerPhone: "15555559999", TemplateID: template,
		IssueCard: true, Amount: 3, Receipt: "p-2"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "a new customer needs a first name")
	assert.Contains(t, err.Error(), "first name is needed")
	assert.Equal(t, before, srv.Requests("POST /api/v2/cards"), "nothing issued")

	res, _, err = srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CustomerPhone: "15555559999", TemplateID: template,
		IssueCard: true, FirstName: "Bo", Amount: 3, Receipt: "p-2"}, nil)
	require.NoError(t, err)
	assert.True(t, res.Issued)
	assert.Equal(t, 1.0, res.Balance)
	res, _, err = srv.Client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CustomerPhone: "15555559999", TemplateID: template,
		IssueCard: true, FirstName: "Bo", Amount: 3, Receipt: "p-3"}, nil)
	require.NoError(t, err)
	assert.False(t, res.Issued, "the card issued before")
	assert.Equal(t, 2.0, res.Balance)
}

func TestPurchaseRefusesWhatCannotBeRight(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	before := srv.TotalRequests()
	for name, req := range map[string]*loyalty.PurchaseRequest{
		"no receipt":           {CardID: "1-2-3", Amount: 3},
		"no amount":            {CardID: "1-2-3", Receipt: "r"},
		"a negative amount":    {CardID: "1-2-3", Amount: -1, Receipt: "r"},
		"no card":              {Amount: 3, Receipt: "r"},
		"a phone, no template": {CustomerPhone: "1555", Amount: 3, Receipt: "r"},
		"a card and a phone":   {CardID: "1-2-3", CustomerPhone: "1555", Amount: 3, Receipt: "r"},
		"a bracket":            {CardID: "1-2-3", Amount: 3, Receipt: "r]"},
	} {
		_, _, err := srv.Client.Cards.Purchase(context.Background(), req, nil)
		assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, name)
	}
	_, _, err := srv.Client.Cards.Purchase(context.Background(), nil, nil)
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.Equal(t, before, srv.TotalRequests(), "nothing sent")
}

func TestHoldsSaysWhatACardHoldsInItsTypesTerms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		card  loyalty.Card
		value float64
		unit  string
		wait  bool
	}{
		{loyalty.Card{Type: loyalty.CardTypeStamp, Balance: loyalty.CardBalance{NumberStampsTotal: 3, NumberRewardsUnused: 1}}, 3, "stamps", true},
		{loyalty.Card{Type: loyalty.CardTypeCashback, Balance: loyalty.CardBalance{Balance: 12.5}}, 12.5, "currency", false},
		{loyalty.Card{Type: loyalty.CardTypeMultipass, Balance: loyalty.CardBalance{CurrentNumberOfUses: 2}}, 2, "visits used", false},
		{loyalty.Card{Type: loyalty.CardTypeMembership, CountVisits: 4}, 4, "visits", false},
		{loyalty.Card{Type: loyalty.CardTypeReward, Balance: loyalty.CardBalance{Balance: 50},
			AvailableRewardTiers: []loyalty.RewardTier{{Threshold: 40}}}, 50, "points", true},
		{loyalty.Card{Type: loyalty.CardTypeCoupon, CouponRedeemed: true}, 0, "", false},
	} {
		value, unit, wait := c.card.Holds(nil)
		assert.Equal(t, c.value, value, c.card.Type.String())
		assert.Equal(t, c.unit, unit, c.card.Type.String())
		assert.Equal(t, c.wait, wait, c.card.Type.String())
	}
	var none *loyalty.Card
	_, unit, _ := none.Holds(nil)
	assert.Empty(t, unit)
}
