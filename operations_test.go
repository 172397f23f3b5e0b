// Tests of operations.go (the action table and the check) and card_actions.go (the card
// actions: what each sends, and what is refused before sending).

package loyalty

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// actionCase calls one action the way a user would, with what it must send.
type actionCase struct {
	method string // the CardsService method, as the README names it
	call   func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error)
	// body is the JSON sent with the accrual options {Comment: "till 3", PurchaseSum: 12.5}
	// when accrual is true, and with none otherwise.
	body    string
	accrual bool
}

var expiry = time.Date(2030, 1, 31, 18, 0, 0, 0, time.UTC)

var actionCases = map[Action]actionCase{
	ActionAddAmount: {"AddAmount", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddAmount(ctx, id, 5, o)
	}, `{"amount":5,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractAmount: {"SubtractAmount", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractAmount(ctx, id, 3, o)
	}, `{"amount":3,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddPoints: {"AddPoints", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddPoints(ctx, id, 2.5, o)
	}, `{"points":2.5,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractPoints: {"SubtractPoints", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractPoints(ctx, id, 10, o)
	}, `{"points":10,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddRewards: {"AddRewards", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddRewards(ctx, id, 1, o)
	}, `{"rewards":1,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractRewards: {"SubtractRewards", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractRewards(ctx, id, 2, o)
	}, `{"rewards":2,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddScores: {"AddScores", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddScores(ctx, id, 40, o)
	}, `{"scores":40,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractScores: {"SubtractScores", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractScores(ctx, id, 15, o)
	}, `{"scores":15,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddStamps: {"AddStamps", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddStamps(ctx, id, 2, o)
	}, `{"stamps":2,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractStamps: {"SubtractStamps", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractStamps(ctx, id, 1, o)
	}, `{"stamps":1,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddVisits: {"AddVisits", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddVisits(ctx, id, 1, o)
	}, `{"visits":1,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractVisits: {"SubtractVisits", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractVisits(ctx, id, 1, o)
	}, `{"visits":1,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionAddPurchase: {"AddPurchase", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.AddPurchase(ctx, id, 19.99, o)
	}, `{"amount":19.99,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSubtractPurchase: {"SubtractPurchase", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SubtractPurchase(ctx, id, 4.5, o)
	}, `{"amount":4.5,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionReceiveReward: {"ReceiveReward", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.ReceiveReward(ctx, id, 31, o)
	}, `{"id":31,"comment":"till 3","purchaseSum":12.5}`, true},
	ActionRedeemCoupon: {"RedeemCoupon", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.RedeemCoupon(ctx, id, o)
	}, `{"comment":"till 3","purchaseSum":12.5}`, true},
	ActionSetMembershipTier: {"SetMembershipTier", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SetMembershipTier(ctx, id, 4, MembershipPeriodMonth, o)
	}, `{"tierId":4,"period":"month"}`, false},
	ActionSetExpirationDate: {"SetExpirationDate", func(ctx context.Context, s *CardsService, id string, o *ActionOptions) (*Card, *Response, error) {
		return s.SetExpirationDate(ctx, id, expiry, o)
	}, `{"expiresAt":"2030-01-31T18:00:00+00:00"}`, false},
}

// want is the card-type table of the API's product docs, written out by hand so
// that a slip in the code's table shows up here.
var want = map[Action]map[CardType]Condition{
	ActionAddAmount:         {CardTypeCashback: ConditionAlways},
	ActionSubtractAmount:    {CardTypeCashback: ConditionAlways},
	ActionAddPoints:         {CardTypeDiscount: ConditionAlways, CardTypeCashback: ConditionAlways, CardTypeGift: ConditionAlways},
	ActionSubtractPoints:    {CardTypeDiscount: ConditionAlways, CardTypeCashback: ConditionAlways, CardTypeGift: ConditionAlways},
	ActionAddRewards:        {CardTypeStamp: ConditionAlways},
	ActionSubtractRewards:   {CardTypeStamp: ConditionAlways},
	ActionAddScores:         {CardTypeReward: ConditionPointsMechanics, CardTypeMultipass: ConditionAlways},
	ActionSubtractScores:    {CardTypeReward: ConditionAlways, CardTypeMultipass: ConditionAlways},
	ActionAddStamps:         {CardTypeStamp: ConditionAlways},
	ActionSubtractStamps:    {CardTypeStamp: ConditionAlways},
	ActionAddVisits:         {CardTypeMultipass: ConditionAlways, CardTypeMembership: ConditionMembershipUnlimited, CardTypeStamp: ConditionVisitMechanics, CardTypeReward: ConditionVisitMechanics},
	ActionSubtractVisits:    {CardTypeMultipass: ConditionAlways, CardTypeMembership: ConditionMembershipLimited},
	ActionAddPurchase:       {CardTypeStamp: ConditionSpendMechanics, CardTypeReward: ConditionSpendMechanics},
	ActionSubtractPurchase:  {CardTypeStamp: ConditionSpendMechanics, CardTypeReward: ConditionSpendMechanics},
	ActionReceiveReward:     {CardTypeReward: ConditionAlways},
	ActionRedeemCoupon:      {CardTypeCoupon: ConditionAlways},
	ActionSetMembershipTier: {CardTypeMembership: ConditionAlways},
	ActionSetExpirationDate: {CardTypeStamp: ConditionAlways, CardTypeCashback: ConditionAlways, CardTypeMultipass: ConditionAlways, CardTypeCoupon: ConditionAlways,
		CardTypeDiscount: ConditionAlways, CardTypeGift: ConditionAlways, CardTypeMembership: ConditionAlways, CardTypeReward: ConditionAlways},
}

func TestActionTableMatchesTheReference(t *testing.T) {
	t.Parallel()
	require.Len(t, Actions(), 18)
	got := map[Action]map[CardType]Condition{}
	for _, r := range ActionTable() {
		if got[r.Action] == nil {
			got[r.Action] = map[CardType]Condition{}
		}
		got[r.Action][r.CardType] = r.Condition
	}
	assert.Equal(t, want, got)
	for _, a := range Actions() {
		for _, ct := range CardTypes() {
			_, ok := want[a][ct]
			assert.Equal(t, ok, ActionAppliesTo(a, ct), "%s on %s", a, ct)
		}
	}
	assert.False(t, ActionAppliesTo(ActionAddStamps, CardTypeUnknown))
	assert.False(t, ActionAppliesTo(Action(0), CardTypeStamp))
	assert.False(t, ActionAppliesTo(Action(99), CardTypeStamp))
	assert.Equal(t, []CardType{CardTypeCashback, CardTypeDiscount, CardTypeGift}, ActionAddPoints.CardTypes())
}

func TestActionTableIsACopy(t *testing.T) {
	t.Parallel()
	table := ActionTable()
	table[0].CardType = CardTypeCoupon
	assert.Equal(t, CardTypeCashback, ActionTable()[0].CardType)
}

// TestEveryActionOnEveryCardType sends each of the 18 actions to a card of each of the 8
// types: allowed pairs reach the server with the exact path and body, refused ones send
// nothing and say why.
func TestEveryActionOnEveryCardType(t *testing.T) {
	t.Parallel()
	require.Len(t, actionCases, 18)
	for _, a := range Actions() {
		tc := actionCases[a]
		for _, ct := range CardTypes() {
			t.Run(a.String()+"/"+ct.String(), func(t *testing.T) {
				t.Parallel()
				c, ts := setup(t)
				ts.reply("POST /api/v2/cards/{id}/{action}", http.StatusOK, "card.json")
				opts := &ActionOptions{CardType: ct}
				if tc.accrual {
					opts.Comment, opts.PurchaseSum = "till 3", 12.5
				}
				card, _, err := tc.call(context.Background(), c.Cards, "100200-300-400", opts)
				if _, allowed := want[a][ct]; allowed {
					require.NoError(t, err)
					assert.Equal(t, "638920-251-210", card.ID)
					assertRequest(t, ts.only(), "POST", "/api/v2/cards/100200-300-400/"+a.String(), "", tc.body)
					return
				}
				var refused *ActionNotAllowedError
				require.ErrorAs(t, err, &refused)
				assert.ErrorIs(t, err, ErrActionNotAllowed)
				assert.Equal(t, a, refused.Action)
				assert.Equal(t, "100200-300-400", refused.CardID)
				assert.Equal(t, ct, refused.CardType)
				assert.Equal(t, a.CardTypes(), refused.AllowedTypes)
				assert.False(t, refused.ByServer)
				assert.Contains(t, err.Error(), a.String())
				assert.Contains(t, err.Error(), ct.String())
				assert.Empty(t, ts.requests(), "a refused action sends nothing")
			})
		}
	}
}

func TestActionWithoutOptionsSendsOnlyTheQuantity(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
	_, _, err := c.Cards.AddStamps(context.Background(), "1-2-3", 1, &ActionOptions{CardType: CardTypeStamp})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "POST", "/api/v2/cards/1-2-3/add-stamp", "", `{"stamps":1}`)
}

func TestClearExpirationDateSendsNull(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/cards/{id}/set-expiration-date", http.StatusOK, "card.json")
	_, _, err := c.Cards.ClearExpirationDate(context.Background(), "1-2-3", &ActionOptions{CardType: CardTypeCoupon})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "POST", "/api/v2/cards/1-2-3/set-expiration-date", "", `{"expiresAt":null}`)
}

func TestLookupCostsOneGETOnce(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"code":200,"data":{"id":%q,"type":"stamp"}}`, r.PathValue("id"))
	})
	ts.handle("POST /api/v2/cards/{id}/{action}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"code":200,"data":{"id":%q,"type":"stamp","balance":{"numberStampsTotal":3}}}`, r.PathValue("id"))
	})
	ctx := context.Background()

	card, _, err := c.Cards.AddStamps(ctx, "555-1", 3, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, card.Balance.NumberStampsTotal)
	reqs := ts.requests()
	require.Len(t, reqs, 2, "first action on an unknown card: one GET, then the POST")
	assert.Equal(t, "GET /api/v2/cards/555-1", reqs[0].Method+" "+reqs[0].Path)
	assert.Equal(t, "POST /api/v2/cards/555-1/add-stamp", reqs[1].Method+" "+reqs[1].Path)

	_, _, err = c.Cards.SubtractStamps(ctx, "555-1", 1, nil)
	require.NoError(t, err)
	assert.Len(t, ts.requests(), 3, "the type is cached: only the POST")

	_, _, err = c.Cards.AddPoints(ctx, "555-1", 1, nil)
	assert.ErrorIs(t, err, ErrActionNotAllowed)
	assert.Len(t, ts.requests(), 3, "refused from the cache: nothing sent")
}

func TestCardsReadEarlierNeedNoLookup(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards", http.StatusOK, "cards-list.json")
	_, _, err := c.Cards.List(context.Background(), nil)
	require.NoError(t, err)
	// cards-list.json holds reward card 153111-927-114.
	_, _, err = c.Cards.AddStamps(context.Background(), "153111-927-114", 1, nil)
	var refused *ActionNotAllowedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, CardTypeReward, refused.CardType)
	assert.Len(t, ts.requests(), 1, "only the list")
}

func TestLookupFailureIsReturnedAndNothingPosted(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":404,"message":"Card not found"}`))
	})
	_, resp, err := c.Cards.AddStamps(context.Background(), "404-404-404", 1, nil)
	assert.True(t, IsNotFound(err))
	require.NotNil(t, resp)
	assert.Len(t, ts.requests(), 1, "the GET only")
}

func TestLookupCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithoutCardTypeLookup())
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusBadRequest, "error-irrelevant-accrual.json")
	_, _, err := c.Cards.AddStamps(context.Background(), "777-1", 1, nil)
	var refused *ActionNotAllowedError
	require.ErrorAs(t, err, &refused)
	assert.True(t, refused.ByServer)
	assert.Equal(t, CardTypeUnknown, refused.CardType)
	assert.Equal(t, "Irrelevant accrual type", refused.Reason)
	assert.ErrorIs(t, err, ErrBadRequest, "the server's answer is still reachable")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "019bae92-1111-7340-88bc-9e2f9d442689", apiErr.ResponseID)
	assertRequest(t, ts.only(), "POST", "/api/v2/cards/777-1/add-stamp", "", `{"stamps":1}`)
}

func TestOtherServerErrorsAreNotRefusals(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("POST /api/v2/cards/{id}/add-visit", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"message":"A visit has already been registered today"}`))
	})
	_, _, err := c.Cards.AddVisits(context.Background(), "1", 1, &ActionOptions{CardType: CardTypeMultipass})
	assert.ErrorIs(t, err, ErrBadRequest)
	assert.NotErrorIs(t, err, ErrActionNotAllowed)
}

func TestActionIsNeverRepeatedAfterAnAmbiguousFailure(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRetryMax(5))
	ts.reply("POST /api/v2/cards/{id}/add-point", http.StatusBadGateway, "error-not-found.html")
	_, _, err := c.Cards.AddPoints(context.Background(), "1", 10, &ActionOptions{CardType: CardTypeCashback})
	assert.True(t, IsOutcomeUnknown(err))
	assert.NotErrorIs(t, err, ErrActionNotAllowed)
	assert.Len(t, ts.requests(), 1)
}

func TestQuantitiesAreChecked(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx := context.Background()
	s := c.Cards
	o := &ActionOptions{CardType: CardTypeStamp}
	calls := map[string]func() error{}
	for _, n := range []int{0, -1, math.MaxInt32 + 1} { // the API keeps counts in 32-bit integers
		for name, f := range map[string]func(context.Context, string, int, *ActionOptions) (*Card, *Response, error){
			"amount": s.AddAmount, "amount-": s.SubtractAmount, "rewards": s.AddRewards, "rewards-": s.SubtractRewards,
			"scores": s.AddScores, "scores-": s.SubtractScores, "stamps": s.AddStamps, "stamps-": s.SubtractStamps,
			"visits": s.AddVisits, "visits-": s.SubtractVisits, "tier": s.ReceiveReward,
		} {
			calls[fmt.Sprint(name, n)] = func() error { _, _, err := f(ctx, "1", n, o); return err }
		}
	}
	for _, v := range []float64{0, -2.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e39} { // float32 at most
		for name, f := range map[string]func(context.Context, string, float64, *ActionOptions) (*Card, *Response, error){
			"points": s.AddPoints, "points-": s.SubtractPoints, "purchase": s.AddPurchase, "purchase-": s.SubtractPurchase,
		} {
			calls[fmt.Sprint(name, v)] = func() error { _, _, err := f(ctx, "1", v, o); return err }
		}
		if v != 0 {
			calls[fmt.Sprint("purchaseSum", v)] = func() error {
				_, _, err := s.AddStamps(ctx, "1", 1, &ActionOptions{CardType: CardTypeStamp, PurchaseSum: v})
				return err
			}
		}
	}
	calls["tier id 0"] = func() error { _, _, err := s.SetMembershipTier(ctx, "1", 0, MembershipPeriodMonth, o); return err }
	calls["no period"] = func() error { _, _, err := s.SetMembershipTier(ctx, "1", 4, "", o); return err }
	calls["bad period"] = func() error { _, _, err := s.SetMembershipTier(ctx, "1", 4, "fortnight", o); return err }
	calls["tier with comment"] = func() error {
		_, _, err := s.SetMembershipTier(ctx, "1", 4, MembershipPeriodDay, &ActionOptions{Comment: "x"})
		return err
	}
	calls["zero expiry"] = func() error { _, _, err := s.SetExpirationDate(ctx, "1", time.Time{}, o); return err }
	calls["expiry after 2038"] = func() error {
		_, _, err := s.SetExpirationDate(ctx, "1", time.Date(2038, 1, 20, 0, 0, 0, 0, time.UTC), o)
		return err
	}
	calls["clear with purchase sum"] = func() error {
		_, _, err := s.ClearExpirationDate(ctx, "1", &ActionOptions{PurchaseSum: 3})
		return err
	}
	calls["empty id"] = func() error { _, _, err := s.RedeemCoupon(ctx, "", o); return err }
	calls["card of another id"] = func() error {
		_, _, err := s.AddStamps(ctx, "1", 1, &ActionOptions{Card: &Card{ID: "2", Type: CardTypeStamp}})
		return err
	}
	for name, f := range calls {
		assert.ErrorIs(t, f(), ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests())
}

func TestMechanicsRefineTheCheck(t *testing.T) {
	t.Parallel()
	tmpl := func(typ string) *Template {
		m := &TemplateMechanics{}
		m.Program.Type = typ
		return &Template{ID: 9, Mechanics: m}
	}
	tests := []struct {
		name    string
		action  Action
		ct      CardType
		tmpl    *Template
		allowed bool
	}{
		{"visit on reward, visit mechanics", ActionAddVisits, CardTypeReward, tmpl("visits"), true},
		{"visit on reward, spend mechanics", ActionAddVisits, CardTypeReward, tmpl("spend"), false},
		{"visit on reward, no template: server decides", ActionAddVisits, CardTypeReward, nil, true},
		{"visit on reward, template without mechanics", ActionAddVisits, CardTypeReward, &Template{ID: 9}, true},
		{"visit on reward, unknown mechanics word", ActionAddVisits, CardTypeReward, tmpl("quantum"), true},
		{"purchase on reward, spend", ActionAddPurchase, CardTypeReward, tmpl("Spend"), true},
		{"purchase on reward, points", ActionAddPurchase, CardTypeReward, tmpl("points"), false},
		{"purchase on stamp, visits", ActionSubtractPurchase, CardTypeStamp, tmpl("visit"), false},
		{"scores on reward, points", ActionAddScores, CardTypeReward, tmpl("points"), true},
		{"scores on reward, visits", ActionAddScores, CardTypeReward, tmpl("visits"), false},
		{"scores on multipass ignore mechanics", ActionAddScores, CardTypeMultipass, tmpl("visits"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.reply("POST /api/v2/cards/{id}/{action}", http.StatusOK, "card.json")
			tmpl := tt.tmpl
			if tmpl != nil {
				copied := *tmpl
				copied.Type = tt.ct // the card's own template
				tmpl = &copied
			}
			_, _, err := actionCases[tt.action].call(context.Background(), c.Cards, "9-9-9", &ActionOptions{CardType: tt.ct, Template: tmpl})
			if tt.allowed {
				require.NoError(t, err)
				assert.Len(t, ts.requests(), 1)
				return
			}
			var refused *ActionNotAllowedError
			require.ErrorAs(t, err, &refused)
			assert.Contains(t, refused.Reason, "mechanics")
			assert.Empty(t, ts.requests())
		})
	}
}

func TestMembershipLimitsRefineTheCheck(t *testing.T) {
	t.Parallel()
	tier := func(limit int) *MembershipTier {
		return &MembershipTier{ID: 4, MonthlyParameters: MembershipTierPricing{Active: true, Limit: limit}, YearlyParameters: MembershipTierPricing{Active: true, Limit: limit * 12}}
	}
	card := func(tr *MembershipTier) *Card {
		return &Card{ID: "6-6-6", Type: CardTypeMembership, MembershipTier: tr}
	}
	tests := []struct {
		name    string
		action  Action
		opts    *ActionOptions
		allowed bool
	}{
		{"add visit, unlimited tier", ActionAddVisits, &ActionOptions{Card: card(tier(0))}, true},
		{"add visit, limited tier", ActionAddVisits, &ActionOptions{Card: card(tier(10))}, false},
		{"subtract visit, limited tier", ActionSubtractVisits, &ActionOptions{Card: card(tier(10))}, true},
		{"subtract visit, unlimited tier", ActionSubtractVisits, &ActionOptions{Card: card(tier(0))}, false},
		{"add visit, tier unknown", ActionAddVisits, &ActionOptions{Card: card(nil)}, true},
		{"subtract visit, template tiers all limited", ActionSubtractVisits,
			&ActionOptions{CardType: CardTypeMembership, Template: &Template{MembershipTiers: []MembershipTier{*tier(5), *tier(8)}}}, true},
		{"add visit, template tiers all limited", ActionAddVisits,
			&ActionOptions{CardType: CardTypeMembership, Template: &Template{MembershipTiers: []MembershipTier{*tier(5), *tier(8)}}}, false},
		{"add visit, template tiers disagree", ActionAddVisits,
			&ActionOptions{CardType: CardTypeMembership, Template: &Template{MembershipTiers: []MembershipTier{*tier(0), *tier(8)}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.reply("POST /api/v2/cards/{id}/{action}", http.StatusOK, "card.json")
			_, _, err := actionCases[tt.action].call(context.Background(), c.Cards, "6-6-6", tt.opts)
			if tt.allowed {
				require.NoError(t, err)
				return
			}
			var refused *ActionNotAllowedError
			require.ErrorAs(t, err, &refused)
			assert.Equal(t, CardTypeMembership, refused.CardType)
			assert.Contains(t, refused.Reason, "limit")
			assert.Empty(t, ts.requests())
		})
	}
}

// A till picks the membership action from VisitsLimited, as the check judges it.
func TestVisitsLimitedSaysWhichVisitActionFits(t *testing.T) {
	t.Parallel()
	limited := &MembershipTier{MonthlyParameters: MembershipTierPricing{Active: true, Limit: 8}}
	open := &MembershipTier{MonthlyParameters: MembershipTierPricing{Active: true}}
	tests := []struct {
		name           string
		card           *Card
		tmpl           *Template
		limited, known bool
	}{
		{"the card's own tier, limited", &Card{Type: CardTypeMembership, MembershipTier: limited}, nil, true, true},
		{"the card's own tier, open", &Card{Type: CardTypeMembership, MembershipTier: open}, nil, false, true},
		{"the card's tier wins over the template's", &Card{Type: CardTypeMembership, MembershipTier: open},
			&Template{MembershipTiers: []MembershipTier{*limited}}, false, true},
		{"the template's tiers agree", &Card{Type: CardTypeMembership}, &Template{MembershipTiers: []MembershipTier{*limited, *limited}}, true, true},
		{"the template's tiers disagree", &Card{Type: CardTypeMembership}, &Template{MembershipTiers: []MembershipTier{*limited, *open}}, false, false},
		{"nothing to read", &Card{Type: CardTypeMembership}, nil, false, false},
		{"not a membership card", &Card{Type: CardTypeMultipass, MembershipTier: limited}, nil, false, false},
		{"no card", nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, k := tt.card.VisitsLimited(tt.tmpl)
			assert.Equal(t, tt.limited, l, "limited")
			assert.Equal(t, tt.known, k, "known")
		})
	}
}

func TestMembershipPeriodOfTheSubscriptionDecides(t *testing.T) {
	t.Parallel()
	tr := &MembershipTier{DailyParameters: MembershipTierPricing{Active: true, Limit: 1}, MonthlyParameters: MembershipTierPricing{Active: true, Limit: 0}}
	_, known := tr.limited("")
	assert.False(t, known, "active periods disagree")
	l, known := tr.limited("month")
	assert.True(t, known)
	assert.False(t, l)
	l, known = tr.limited("day")
	assert.True(t, known)
	assert.True(t, l)
}

func TestTypeCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTypeCache(100)
	for i := range 10_000 {
		c.put(fmt.Sprint("card-", i), CardTypeStamp)
		assert.LessOrEqual(t, c.len(), 100)
	}
	assert.Equal(t, CardTypeStamp, c.get("card-9999"), "the newest survive")
	assert.Equal(t, CardTypeUnknown, c.get("card-0"), "the oldest are dropped")
	c.put("x", CardTypeUnknown)
	assert.Equal(t, CardTypeUnknown, c.get("x"))
	var off *typeCache = newTypeCache(0)
	off.put("y", CardTypeCoupon)
	assert.Equal(t, CardTypeUnknown, off.get("y"), "size 0 turns it off")
}

func TestTypeCacheUnderConcurrency(t *testing.T) {
	t.Parallel()
	c := newTypeCache(64)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				id := fmt.Sprint((g*7 + i) % 300)
				c.put(id, CardTypeFromID(i%8))
				if got := c.get(id); got != CardTypeUnknown {
					assert.True(t, got.Known())
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.len(), 64)
}

func TestConcurrentActionsOnOneClient(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":{"id":%q,"type":"cashback"}}`, r.PathValue("id"))
	})
	ts.handle("POST /api/v2/cards/{id}/add-point", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":{"id":%q,"type":"cashback"}}`, r.PathValue("id"))
	})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.Cards.AddPoints(context.Background(), fmt.Sprint("c-", i%4), 1, nil)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	var posts int
	for _, r := range ts.requests() {
		if r.Method == "POST" {
			posts++
		}
	}
	assert.Equal(t, 40, posts)
}

func TestCheckOnACachedCardDoesNotAllocate(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1")
	c.cardTypes.put("638920-251-210", CardTypeStamp)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := c.Cards.check(ctx, "638920-251-210", ActionAddStamps, nil); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// TestReadmeShowsTheActionTable fails when the README's table and the code's disagree.
func TestReadmeShowsTheActionTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("| method | endpoint | card types |\n| --- | --- | --- |\n")
	for _, a := range Actions() {
		var cells []string
		for _, ct := range a.CardTypes() {
			cell := ct.String()
			if cond, _ := ActionCondition(a, ct); cond != ConditionAlways {
				cell += " (" + cond.String() + ")"
			}
			cells = append(cells, cell)
		}
		if a == ActionSetExpirationDate {
			cells = []string{"all"}
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", actionCases[a].method, a, strings.Join(cells, ", "))
	}
	assert.True(t, strings.Contains(string(readme), b.String()), "README.md's action table must read:\n%s", b.String())
}

func TestTypeCacheKeepsCardsInUse(t *testing.T) {
	t.Parallel()
	c := newTypeCache(10) // generations of 5
	c.put("regular", CardTypeStamp)
	for i := range 100 {
		c.put(fmt.Sprint("walk-in-", i), CardTypeCoupon)
		require.Equal(t, CardTypeStamp, c.get("regular"), "a card looked up every few sales is never dropped (after %d others)", i)
	}
	assert.LessOrEqual(t, c.len(), 10)
}

func TestActionHintsMustDescribeTheCard(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx := context.Background()
	stampCard := &Card{ID: "1-1-1", Type: CardTypeStamp, TemplateID: 7}
	for name, opts := range map[string]*ActionOptions{
		"another card":              {Card: &Card{ID: "2-2-2", Type: CardTypeStamp}},
		"type contradicts the card": {Card: stampCard, CardType: CardTypeCoupon},
		"another template":          {Card: stampCard, Template: &Template{ID: 8}},
		"template of another type":  {CardType: CardTypeStamp, Template: &Template{ID: 7, Type: CardTypeReward}},
	} {
		_, _, err := c.Cards.AddStamps(ctx, "1-1-1", 1, opts)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests())
}

func TestActionCondition(t *testing.T) {
	t.Parallel()
	cond, ok := ActionCondition(ActionAddVisits, CardTypeMembership)
	assert.True(t, ok)
	assert.Equal(t, ConditionMembershipUnlimited, cond)
	cond, ok = ActionCondition(ActionAddStamps, CardTypeStamp)
	assert.True(t, ok)
	assert.Equal(t, ConditionAlways, cond)
	_, ok = ActionCondition(ActionAddStamps, CardTypeCoupon)
	assert.False(t, ok)
	for _, r := range ActionTable() {
		cond, ok := ActionCondition(r.Action, r.CardType)
		assert.True(t, ok)
		assert.Equal(t, r.Condition, cond)
	}
}

// A membership card read from the API, whose tier limit arrives in a live shape, passed to the
// action as the card the caller holds.
func TestMembershipLimitsOfALiveShapedCard(t *testing.T) {
	t.Parallel()
	answer := func(limit string) string {
		return `{"code":200,"data":{"id":"6-6-6","type":"membership","membershipTier":{"id":4,` +
			`"monthlyParameters":{"active":"1","limit":` + limit + `}}}}`
	}
	subtract := func(s *CardsService, card *Card) error {
		_, _, err := s.SubtractVisits(context.Background(), "6-6-6", 1, &ActionOptions{Card: card})
		return err
	}
	add := func(s *CardsService, card *Card) error {
		_, _, err := s.AddVisits(context.Background(), "6-6-6", 1, &ActionOptions{Card: card})
		return err
	}
	tests := []struct {
		name     string
		limit    string
		action   func(s *CardsService, card *Card) error
		wantSent bool
	}{
		{"a limit sent as a string is read: subtracting visits is allowed", `"12"`, subtract, true},
		{"a limit sent as a string is read: adding visits is refused", `"12"`, add, false},
		{"an unreadable limit decides nothing: the server judges", `{"per":"day"}`, subtract, true},
		{"an unreadable limit decides nothing, either way", `{"per":"day"}`, add, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(answer(tt.limit)))
			})
			var posts atomic.Int32
			ts.handle("POST /api/v2/cards/{id}/", func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				_, _ = w.Write([]byte(answer(tt.limit)))
			})
			card, _, err := c.Cards.Get(context.Background(), "6-6-6")
			require.NoError(t, err)
			err = tt.action(c.Cards, card)
			if tt.wantSent {
				require.NoError(t, err)
				assert.Equal(t, int32(1), posts.Load())
				return
			}
			assert.ErrorIs(t, err, ErrActionNotAllowed)
			assert.Zero(t, posts.Load())
		})
	}
}

// The verdict on a membership card must not depend on whether its type came from a look-up
// (which read the tier) or from the cache (which holds no tier).
func TestMembershipVerdictIsTheSameOnEveryCall(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	limited := `{"code":200,"data":{"id":"6-6-6","type":"membership","membershipTier":{"id":4,"monthlyParameters":{"active":true,"limit":12}}}}`
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(limited)) })
	var posts atomic.Int32
	ts.handle("POST /api/v2/cards/{id}/add-visit", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"code":400,"message":"Irrelevant accrual type"}`))
	})
	var errs []error
	for range 3 {
		_, _, err := c.Cards.AddVisits(context.Background(), "6-6-6", 1, nil)
		errs = append(errs, err)
	}
	for i, err := range errs {
		var refused *ActionNotAllowedError
		require.ErrorAs(t, err, &refused, "call %d", i)
		assert.True(t, refused.ByServer, "call %d: judged the same way every time", i)
	}
	assert.Equal(t, int32(3), posts.Load())
}

func TestActionCheckCanBeSwitchedOff(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		opts []Option
		call *ActionOptions
	}{
		"per client": {[]Option{WithoutActionCheck()}, &ActionOptions{CardType: CardTypeCoupon}},
		"per call":   {nil, &ActionOptions{CardType: CardTypeCoupon, SkipCheck: true}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t, tc.opts...)
			ts.reply("POST /api/v2/cards/{id}/add-stamp", 200, "card.json")
			_, _, err := c.Cards.AddStamps(context.Background(), "1-2-3", 1, tc.call)
			require.NoError(t, err, "a coupon 'cannot' take stamps, but the table is switched off")
			assert.Len(t, ts.requests(), 1, "no look-up, one POST")
		})
	}
	c, ts := setup(t)
	_, _, err := c.Cards.AddStamps(context.Background(), "1-2-3", 1, &ActionOptions{CardType: CardTypeCoupon})
	assert.ErrorIs(t, err, ErrActionNotAllowed, "on by default")
	assert.Empty(t, ts.requests())
}

func TestRefusalsAboutTheCardsStateAreTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status  int
		message string
		want    error
	}{
		{400, "A visit has already been registered today", ErrVisitAlreadyRegistered},
		{422, "Coupon already redeemed", ErrCouponAlreadyRedeemed},
		{400, "Insufficient points on the card", ErrInsufficientBalance},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.handle("POST /api/v2/cards/{id}/add-visit", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"code":` + strconv.Itoa(tt.status) + `,"message":"` + tt.message + `","responseId":"r-9"}`))
			})
			_, _, err := c.Cards.AddVisits(context.Background(), "1-2-3", 1, &ActionOptions{CardType: CardTypeMultipass})
			assert.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, ErrCardState)
			var stateErr *CardStateError
			require.ErrorAs(t, err, &stateErr)
			assert.Equal(t, tt.message, stateErr.Message, "the server's words are kept")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, "and its *APIError")
			assert.Equal(t, "r-9", apiErr.ResponseID)
			assert.False(t, IsOutcomeUnknown(err))
		})
	}
}
