package loyaltytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

func start(t *testing.T, opts ...Option) (*Server, *loyalty.Client) {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Client
}

// issue creates a customer and a card of the given type.
func issue(t *testing.T, srv *Server, c *loyalty.Client, ct loyalty.CardType) *loyalty.Card {
	t.Helper()
	ctx := context.Background()
	cu, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Email: loyalty.NewTransactionID() + "@example.com", Phone: "1555" + randomHex(4)})
	require.NoError(t, err)
	card, resp, err := c.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(ct)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, ct, card.Type)
	return card
}

// raw sends a request the SDK would refuse to send, and decodes the answer.
func raw(t *testing.T, srv *Server, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestTenStampsMakeOneReward(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	assert.Regexp(t, `^\d{6}-\d{3}-\d{3}$`, card.ID)

	card, _, err := c.Cards.AddStamps(ctx, card.ID, 7, &loyalty.ActionOptions{Comment: "till 1", PurchaseSum: 12.5})
	require.NoError(t, err)
	assert.Equal(t, 7, card.Balance.NumberStampsTotal)
	assert.Equal(t, 3, card.Balance.StampsBeforeReward)
	card, _, err = c.Cards.AddStamps(ctx, card.ID, 3, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, card.Balance.NumberStampsTotal)
	assert.Equal(t, 1, card.Balance.NumberRewardsUnused, "10 stamps on a 10-stamp card: one reward")
	assert.Equal(t, 1, card.TotalRewardsEarned)

	card, _, err = c.Cards.AddVisits(ctx, card.ID, 2, nil) // visit mechanics
	require.NoError(t, err)
	assert.Equal(t, 2, card.Balance.NumberStampsTotal)
	card, _, err = c.Cards.SubtractRewards(ctx, card.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, card.Balance.NumberRewardsUnused)
	_, _, err = c.Cards.SubtractRewards(ctx, card.ID, 1, nil)
	assert.ErrorIs(t, err, loyalty.ErrBadRequest, "no reward left")

	ops, _, err := c.Operations.List(ctx, &loyalty.OperationListOptions{CardID: card.ID})
	require.NoError(t, err)
	require.Len(t, ops, 4, "one row per applied action, none for the refused one")
	assert.Equal(t, int(loyalty.ActionAddStamps), ops[0].EventID)
	assert.Equal(t, 7.0, ops[0].Amount)
	assert.Equal(t, 7, ops[0].Balance)
	assert.Equal(t, 12.5, ops[0].PurchaseSum)
	assert.Equal(t, "till 1", ops[0].Comment)
	assert.Equal(t, 0, ops[1].Balance)
}

func TestCouponRedeemsOnce(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeCoupon)
	card, _, err := c.Cards.RedeemCoupon(context.Background(), card.ID, nil)
	require.NoError(t, err)
	assert.True(t, card.CouponRedeemed)
	_, _, err = c.Cards.RedeemCoupon(context.Background(), card.ID, nil)
	var apiErr *loyalty.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Coupon already redeemed", apiErr.Message)
}

func TestBalancesPerCardType(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()

	cash := issue(t, srv, c, loyalty.CardTypeCashback)
	cash, _, err := c.Cards.AddPoints(ctx, cash.ID, 200, nil) // a 200 purchase at 5%
	require.NoError(t, err)
	assert.Equal(t, 10.0, cash.Balance.Balance)
	cash, _, err = c.Cards.AddAmount(ctx, cash.ID, 5, nil)
	require.NoError(t, err)
	assert.Equal(t, 15.0, cash.Balance.Balance)
	_, _, err = c.Cards.SubtractAmount(ctx, cash.ID, 16, nil)
	assert.ErrorIs(t, err, loyalty.ErrBadRequest, "insufficient balance")

	gift := issue(t, srv, c, loyalty.CardTypeGift)
	gift, _, err = c.Cards.AddPoints(ctx, gift.ID, 50.5, nil)
	require.NoError(t, err)
	gift, _, err = c.Cards.SubtractPoints(ctx, gift.ID, 20.5, nil)
	require.NoError(t, err)
	assert.Equal(t, 30.0, gift.Balance.Balance)

	disc := issue(t, srv, c, loyalty.CardTypeDiscount)
	disc, _, err = c.Cards.AddPoints(ctx, disc.ID, 80, nil)
	require.NoError(t, err)
	assert.Equal(t, 10.0, disc.Balance.DiscountPercentage)

	pass := issue(t, srv, c, loyalty.CardTypeMultipass)
	pass, _, err = c.Cards.AddScores(ctx, pass.ID, 10, nil)
	require.NoError(t, err)
	pass, _, err = c.Cards.AddVisits(ctx, pass.ID, 3, nil)
	require.NoError(t, err)
	pass, _, err = c.Cards.SubtractVisits(ctx, pass.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 10.0, pass.Balance.Balance)
	assert.Equal(t, 2, pass.Balance.CurrentNumberOfUses)

	reward := issue(t, srv, c, loyalty.CardTypeReward)
	tierID := reward.AvailableRewardTiers[0].ID
	_, _, err = c.Cards.ReceiveReward(ctx, reward.ID, tierID, nil)
	assert.ErrorIs(t, err, loyalty.ErrBadRequest, "not enough points yet")
	reward, _, err = c.Cards.AddScores(ctx, reward.ID, 130, nil) // points mechanics
	require.NoError(t, err)
	reward, _, err = c.Cards.ReceiveReward(ctx, reward.ID, tierID, nil)
	require.NoError(t, err)
	assert.Equal(t, 30.0, reward.Balance.Balance)
	assert.Equal(t, 1, reward.TotalRewardsRedeemed)

	at := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	reward, _, err = c.Cards.SetExpirationDate(ctx, reward.ID, at, nil)
	require.NoError(t, err)
	require.NotNil(t, reward.ExpiresAt)
	assert.True(t, at.Equal(reward.ExpiresAt.Time))
	reward, _, err = c.Cards.ClearExpirationDate(ctx, reward.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, reward.ExpiresAt)
}

func TestMembershipLimitsAreEnforcedByTheServer(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	card := issue(t, srv, c, loyalty.CardTypeMembership) // starts on the unlimited tier
	require.NotNil(t, card.MembershipTier)
	card, _, err := c.Cards.AddVisits(ctx, card.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, card.CountVisits)

	tmpl, _, err := c.Templates.Get(ctx, card.TemplateID)
	require.NoError(t, err)
	limited := tmpl.MembershipTiers[1]
	card, _, err = c.Cards.SetMembershipTier(ctx, card.ID, limited.ID, loyalty.MembershipPeriodMonth, nil)
	require.NoError(t, err)
	assert.Equal(t, limited.ID, card.MembershipTier.ID)
	assert.Equal(t, "month", card.CustomerSubscription.Period)

	// Knowing only the type, the client lets it through; the server refuses.
	_, _, err = c.Cards.AddVisits(ctx, card.ID, 1, nil)
	var refused *loyalty.ActionNotAllowedError
	require.ErrorAs(t, err, &refused)
	assert.True(t, refused.ByServer)
	// With the card in hand, the client refuses it itself and sends nothing.
	before := srv.Requests("POST /api/v2/cards/{id}/add-visit")
	_, _, err = c.Cards.AddVisits(ctx, card.ID, 1, &loyalty.ActionOptions{Card: card})
	require.ErrorAs(t, err, &refused)
	assert.False(t, refused.ByServer)
	assert.Equal(t, before, srv.Requests("POST /api/v2/cards/{id}/add-visit"))

	for range 8 {
		_, _, err = c.Cards.SubtractVisits(ctx, card.ID, 1, nil)
		require.NoError(t, err)
	}
	_, _, err = c.Cards.SubtractVisits(ctx, card.ID, 1, nil)
	var apiErr *loyalty.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Visit limit reached", apiErr.Message)
}

func TestMechanicsAreEnforcedByTheServer(t *testing.T) {
	t.Parallel()
	srv, c := start(t, WithTemplates(
		Template{ID: 501, Name: "Bakery", Type: loyalty.CardTypeStamp, Mechanics: loyalty.MechanicsSpend, StampsPerReward: 5, SpendPerStamp: 10},
		Template{ID: 502, Name: "Spa", Type: loyalty.CardTypeReward, Mechanics: loyalty.MechanicsVisits},
	))
	ctx := context.Background()
	bakery := issue(t, srv, c, loyalty.CardTypeStamp)
	bakery, _, err := c.Cards.AddPurchase(ctx, bakery.ID, 35, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, bakery.Balance.NumberStampsTotal, "35 spent at 10 a stamp")
	_, _, err = c.Cards.AddVisits(ctx, bakery.ID, 1, nil)
	assert.ErrorIs(t, err, loyalty.ErrActionNotAllowed, "spend mechanics take no visits")

	tmpl, _, err := c.Templates.Get(ctx, 501)
	require.NoError(t, err)
	assert.Equal(t, loyalty.MechanicsSpend, tmpl.Mechanics.Kind())
	before := srv.TotalRequests()
	_, _, err = c.Cards.AddVisits(ctx, bakery.ID, 1, &loyalty.ActionOptions{Template: tmpl})
	assert.ErrorIs(t, err, loyalty.ErrActionNotAllowed)
	assert.Equal(t, before, srv.TotalRequests(), "with the template at hand the client refuses it")

	spa := issue(t, srv, c, loyalty.CardTypeReward)
	spa, _, err = c.Cards.AddVisits(ctx, spa.ID, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, 2.0, spa.Balance.Balance)
	_, _, err = c.Cards.AddScores(ctx, spa.ID, 1, nil)
	assert.ErrorIs(t, err, loyalty.ErrActionNotAllowed)
}

func TestConcurrentAccrualsSumExactly(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	gift := issue(t, srv, c, loyalty.CardTypeGift)
	stamp := issue(t, srv, c, loyalty.CardTypeStamp)
	var wg sync.WaitGroup
	for range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				_, _, err := c.Cards.AddPoints(ctx, gift.ID, 1.5, nil)
				assert.NoError(t, err)
				_, _, err = c.Cards.AddStamps(ctx, stamp.ID, 1, nil)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	gift, _, err := c.Cards.Get(ctx, gift.ID)
	require.NoError(t, err)
	assert.Equal(t, 750.0, gift.Balance.Balance)
	stamp, _, err = c.Cards.Get(ctx, stamp.ID)
	require.NoError(t, err)
	assert.Equal(t, 50, stamp.Balance.NumberRewardsUnused, "500 stamps, 10 to a reward")
	assert.Equal(t, 0, stamp.Balance.NumberStampsTotal)
	assert.Equal(t, 500, srv.Requests("POST /api/v2/cards/{id}/add-point"))
}

func TestPagination(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := context.Background()
	for i := range 75 {
		_, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: fmt.Sprint("C", i), Email: fmt.Sprintf("c%d@example.com", i)})
		require.NoError(t, err)
	}
	page, resp, err := c.Customers.List(ctx, &loyalty.CustomerListOptions{ListOptions: loyalty.ListOptions{Page: 3, ItemsPerPage: 30}})
	require.NoError(t, err)
	assert.Len(t, page, 15)
	assert.Equal(t, &loyalty.ListMeta{CurrentPage: 3, ItemsPerPage: 30, TotalItems: 75}, resp.Meta)
	var n int
	for _, err := range c.Customers.All(ctx, &loyalty.CustomerListOptions{ListOptions: loyalty.ListOptions{ItemsPerPage: 20}}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 75, n)
	_, resp, err = c.Customers.List(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 30, resp.Meta.ItemsPerPage, "the API's default page")
}

func TestKeysAndTenants(t *testing.T) {
	t.Parallel()
	srv, agency := start(t)
	ctx := context.Background()

	status, body := raw(t, srv, "GET", "/api/v2/cards", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "API key not found", body["message"])
	assert.NotEmpty(t, body["responseId"])
	status, _ = raw(t, srv, "GET", "/api/v2/cards", "wrong", "")
	assert.Equal(t, http.StatusUnauthorized, status)

	co, _, err := agency.Companies.Create(ctx, &loyalty.CompanyCreateRequest{Name: "Bean There", Email: "o@b.example", Phone: "+15555550100",
		Country: "US", UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("secret-1"), TariffID: 2, TariffPeriod: loyalty.TariffQuarter})
	require.NoError(t, err)
	require.NotEmpty(t, co.APIKey.Reveal())
	sub, err := agency.ForCompany(co)
	require.NoError(t, err)

	_ = issue(t, srv, agency, loyalty.CardTypeStamp)
	cards, _, err := sub.Cards.List(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, cards, "a company sees only its own data")
	subTemplates, _, err := sub.Templates.List(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, subTemplates, len(DefaultTemplates()), "new companies start with the default templates")

	_, _, err = sub.Companies.List(ctx, nil)
	assert.ErrorIs(t, err, loyalty.ErrForbidden, "a company key cannot see sub-accounts")
	_, _, err = sub.Profile.GetAgency(ctx)
	assert.ErrorIs(t, err, loyalty.ErrForbidden)

	list, _, err := agency.Companies.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, co.APIKey, list[0].APIKey)

	_, err = agency.Companies.Delete(ctx, co.ID)
	require.NoError(t, err)
	_, _, err = sub.Cards.List(ctx, nil)
	assert.ErrorIs(t, err, loyalty.ErrUnauthorized, "a deleted company's key is revoked")
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	_, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "A", Email: "dup@example.com"})
	require.NoError(t, err)
	_, _, err = c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "B", Email: "dup@example.com"})
	assert.ErrorIs(t, err, loyalty.ErrConflict)

	_, _, err = c.Cards.Get(ctx, "000000-000-000")
	assert.ErrorIs(t, err, loyalty.ErrNotFound)

	tests := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v2/customers?itemsPerPage=0", "", 400},    // every query problem is a 400
		{"GET", "/api/v2/customers?itemsPerPage=1001", "", 400}, // every query problem is a 400
		{"GET", "/api/v2/customers?page=0", "", 400},            // every query problem is a 400
		{"GET", "/api/v2/customers?page=abc", "", 400},
		{"GET", "/api/v2/cards?templateId=abc", "", 400},
		{"GET", "/api/v2/operations?startDate=01%2F02%2F2026", "", 400},
		{"POST", "/api/v2/customers", "{not json", 400},
		{"POST", "/api/v2/customers", "", 400},
		{"POST", "/api/v2/customers", `[]`, 400},
		{"POST", "/api/v2/customers", `{"firstName":42,"email":"x@y.z"}`, 422},
		{"POST", "/api/v2/customers", `{"firstName":"A","gender":7,"email":"x@y.z"}`, 422},
		{"POST", "/api/v2/cards", `{"customerId":"x","templateId":"1"}`, 422},
		{"POST", "/api/v2/companies", `{"name":"x"}`, 422},
		{"PATCH", "/api/v2/profile", `{"dateFormat":"D/M/Y"}`, 422},
	}
	for _, tt := range tests {
		status, body := raw(t, srv, tt.method, tt.path, srv.APIKey, tt.body)
		assert.Equal(t, tt.status, status, "%s %s %s", tt.method, tt.path, tt.body)
		assert.NotEmpty(t, body["message"], "%s %s: the API's error shape", tt.method, tt.path)
	}

	_, _, err = c.Cards.Get(ctx, "") // refused by the SDK; the fake's HTML 404 for unknown paths:
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	status, _ := raw(t, srv, "GET", "/api/v2/nowhere", srv.APIKey, "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, 1, srv.Requests("unknown"))
}

func TestQuantitiesAreValidatedByTheServer(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	for body, status := range map[string]int{
		`{"stamps":0}`: 422, `{"stamps":-2}`: 422, `{"stamps":1.5}`: 422, `{"stamps":"2"}`: 422, `{}`: 422, `x`: 400,
	} {
		got, _ := raw(t, srv, "POST", "/api/v2/cards/"+card.ID+"/add-stamp", srv.APIKey, body)
		assert.Equal(t, status, got, body)
	}
	card, _, err := c.Cards.Get(context.Background(), card.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, card.Balance.NumberStampsTotal, "nothing applied")
}

func TestGarbageNeverBreaksTheServer(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeReward)
	bodies := []string{"", "null", "[]", "{", `{"a":1}`, `"x"`, `{"id":"x","stamps":{},"points":[],"customFields":"x","names":7,"check":[]}`}
	for _, rt := range srv.table() {
		method, path, _ := cut(rt.pattern)
		path = replaceParams(path, card.ID)
		for _, b := range bodies {
			req, _ := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(b))
			req.Header.Set("X-API-Key", srv.APIKey)
			req.Header.Set("X-App-Token", srv.AppToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Less(t, resp.StatusCode, 500, "%s with %q", rt.pattern, b)
		}
	}
	_, _, err := c.Profile.Get(context.Background())
	require.NoError(t, err, "still serving")
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const route = "POST /api/v2/cards/{id}/add-stamp"

	t.Run("429s with Retry-After are waited for", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeStamp)
		srv.InjectFault(route, Fault{Status: 429, RetryAfter: 0, Times: 2})
		card, resp, err := c.Cards.AddStamps(ctx, card.ID, 1, nil)
		require.NoError(t, err)
		assert.Equal(t, 3, resp.Attempts)
		assert.Equal(t, 1, card.Balance.NumberStampsTotal, "applied once")
		assert.Equal(t, 3, srv.Requests(route))
	})
	t.Run("5xx on an action is not repeated and not applied", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeStamp)
		srv.InjectFault(route, Fault{Status: 503, Times: 1})
		_, _, err := c.Cards.AddStamps(ctx, card.ID, 1, nil)
		assert.True(t, loyalty.IsOutcomeUnknown(err))
		assert.Equal(t, 1, srv.Requests(route))
		card, _, _ = c.Cards.Get(ctx, card.ID)
		assert.Equal(t, 0, card.Balance.NumberStampsTotal)
	})
	t.Run("dropped after: applied, answer lost", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeStamp)
		srv.InjectFault(route, Fault{DropAfter: true, Times: 1})
		_, _, err := c.Cards.AddStamps(ctx, card.ID, 2, nil)
		assert.True(t, loyalty.IsOutcomeUnknown(err))
		card, _, _ = c.Cards.Get(ctx, card.ID)
		assert.Equal(t, 2, card.Balance.NumberStampsTotal, "the server applied it")
		ops, _, _ := c.Operations.List(ctx, &loyalty.OperationListOptions{CardID: card.ID})
		assert.Len(t, ops, 1, "and the history shows it, which is where to look")
	})
	t.Run("dropped before: not applied", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeStamp)
		srv.InjectFault(route, Fault{DropBefore: true, Times: 1})
		_, _, err := c.Cards.AddStamps(ctx, card.ID, 2, nil)
		assert.True(t, loyalty.IsOutcomeUnknown(err), "the client cannot tell the two apart")
		card, _, _ = c.Cards.Get(ctx, card.ID)
		assert.Equal(t, 0, card.Balance.NumberStampsTotal)
	})
	t.Run("malformed JSON", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeStamp)
		srv.InjectFault("GET /api/v2/cards/{id}", Fault{MalformedJSON: true})
		_, _, err := c.Cards.Get(ctx, card.ID)
		var decErr *loyalty.DecodeError
		assert.ErrorAs(t, err, &decErr)
		srv.ClearFaults()
		_, _, err = c.Cards.Get(ctx, card.ID)
		assert.NoError(t, err)
	})
	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		srv.InjectFault("GET /api/v2/profile", Fault{Latency: 200 * time.Millisecond})
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, _, err := c.Profile.Get(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("a refused action sends nothing", func(t *testing.T) {
		t.Parallel()
		srv, c := start(t)
		card := issue(t, srv, c, loyalty.CardTypeCoupon)
		_, _, err := c.Cards.AddStamps(ctx, card.ID, 1, nil)
		assert.ErrorIs(t, err, loyalty.ErrActionNotAllowed)
		assert.Zero(t, srv.Requests(route))
	})
}

func TestMarketplace(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	card := issue(t, srv, c, loyalty.CardTypeCashback)
	req := &loyalty.AccrueRequest{SerialNumber: card.ID, Check: loyalty.Check{Amount: 10000, Currency: "USD",
		Selections: []loyalty.Selection{{DisplayName: "Dinner", Quantity: 1, TotalPrice: 10000}}}}
	tx, _, err := c.Marketplace.Accrue(ctx, req)
	require.NoError(t, err)
	require.Len(t, tx.Results, 1)
	assert.True(t, tx.Results[0].IsSuccess)
	assert.Equal(t, 500, tx.Results[0].AccruedValue, "5% of 100.00, in cents")

	// The same transaction id again, as a POS that lost the answer would send it.
	again, _, err := c.Marketplace.Accrue(ctx, &loyalty.AccrueRequest{TransactionID: req.TransactionID, SerialNumber: card.ID, Check: req.Check})
	require.NoError(t, err)
	assert.Equal(t, tx.TransactionID, again.TransactionID)
	card, _, err = c.Cards.Get(ctx, card.ID)
	require.NoError(t, err)
	assert.Equal(t, 5.0, card.Balance.Balance, "a repeated transaction id is not applied twice")

	rev, _, err := c.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: tx.TransactionID})
	require.NoError(t, err)
	assert.False(t, rev.Results[0].ReversedAt.IsZero())
	_, _, err = c.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: tx.TransactionID})
	require.NoError(t, err)
	card, _, _ = c.Cards.Get(ctx, card.ID)
	assert.Equal(t, 0.0, card.Balance.Balance, "reversed once")

	creds, _, err := c.Marketplace.ResolveCredentials(ctx, &loyalty.ResolveCredentialsRequest{Names: []string{"storeId", "nope"}})
	require.NoError(t, err)
	assert.Equal(t, []loyalty.Credential{{Name: "storeId", Value: loyalty.NewSecret("store-1")}}, creds.Credentials)

	bad, err := loyalty.NewAppClient("wrong-token", loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = bad.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: "x"})
	var apiErr *loyalty.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.Equal(t, "Authentication failed.", apiErr.Message)
}

func TestStatisticsComeFromOperations(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	srv, c := start(t, WithClock(func() time.Time { return day }))
	ctx := context.Background()
	a := issue(t, srv, c, loyalty.CardTypeStamp)
	b := issue(t, srv, c, loyalty.CardTypeGift)
	_, _, err := c.Cards.AddStamps(ctx, a.ID, 1, &loyalty.ActionOptions{PurchaseSum: 30})
	require.NoError(t, err)
	_, _, err = c.Cards.AddPoints(ctx, b.ID, 10, &loyalty.ActionOptions{PurchaseSum: 10})
	require.NoError(t, err)
	rev, _, err := c.Statistics.Revenue(ctx, &loyalty.RevenueOptions{StartDate: loyalty.Date{Year: 2026, Month: 3, Day: 14}, EndDate: loyalty.Date{Year: 2026, Month: 3, Day: 14}})
	require.NoError(t, err)
	assert.Equal(t, 40.0, rev.RevenueTotal)
	assert.Equal(t, 20.0, rev.LTV, "two customers")
	assert.Equal(t, []loyalty.StatsPoint{{Date: "2026-03-14", Value: 40}}, rev.RevenueByDay)
	rev, _, err = c.Statistics.Revenue(ctx, &loyalty.RevenueOptions{TemplateID: a.TemplateID, EndDate: loyalty.Date{Year: 2026, Month: 3, Day: 13}})
	require.NoError(t, err)
	assert.Zero(t, rev.RevenueTotal)
}

// TestEveryEndpointThroughTheSDK drives the SDK through every route of the fake, and fails if
// one of the 54 of /api/v2 (and the 3 of /api/automation) was not reached.
func TestEveryEndpointThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	must := func(_ any, _ *loyalty.Response, err error) { t.Helper(); require.NoError(t, err) }
	mustR := func(_ *loyalty.Response, err error) { t.Helper(); require.NoError(t, err) }

	cu, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142", Gender: loyalty.Ptr(loyalty.GenderFemale)})
	require.NoError(t, err)
	must(c.Customers.List(ctx, &loyalty.CustomerListOptions{Phone: "15555550142"}))
	must(c.Customers.Get(ctx, cu.ID))
	must(c.Customers.Update(ctx, cu.ID, &loyalty.CustomerUpdateRequest{Surname: loyalty.Ptr("Doe")}))

	cards := map[loyalty.CardType]*loyalty.Card{}
	for _, ct := range loyalty.CardTypes() {
		card, _, err := c.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(ct)})
		require.NoError(t, err)
		cards[ct] = card
	}
	must(c.Cards.List(ctx, &loyalty.CardListOptions{CustomerPhone: "15555550142"}))
	must(c.Cards.Get(ctx, cards[loyalty.CardTypeStamp].ID))
	must(c.Cards.Update(ctx, cards[loyalty.CardTypeStamp].ID, &loyalty.CardUpdateRequest{CustomFields: []loyalty.CustomFieldValue{{ID: 1, Value: "x"}}}))

	s, cash, multi, rw := cards[loyalty.CardTypeStamp].ID, cards[loyalty.CardTypeCashback].ID, cards[loyalty.CardTypeMultipass].ID, cards[loyalty.CardTypeReward].ID
	must(c.Cards.AddStamps(ctx, s, 12, nil))
	must(c.Cards.SubtractStamps(ctx, s, 1, nil))
	must(c.Cards.AddRewards(ctx, s, 1, nil))
	must(c.Cards.SubtractRewards(ctx, s, 1, nil))
	must(c.Cards.AddVisits(ctx, s, 1, nil))
	must(c.Cards.AddAmount(ctx, cash, 10, nil))
	must(c.Cards.SubtractAmount(ctx, cash, 5, nil))
	must(c.Cards.AddPoints(ctx, cash, 100, nil))
	must(c.Cards.SubtractPoints(ctx, cash, 1, nil))
	must(c.Cards.AddScores(ctx, multi, 5, nil))
	must(c.Cards.SubtractScores(ctx, multi, 1, nil))
	must(c.Cards.AddVisits(ctx, multi, 2, nil))
	must(c.Cards.SubtractVisits(ctx, multi, 1, nil))
	must(c.Cards.AddScores(ctx, rw, 150, nil))
	must(c.Cards.ReceiveReward(ctx, rw, cards[loyalty.CardTypeReward].AvailableRewardTiers[0].ID, nil))
	must(c.Cards.RedeemCoupon(ctx, cards[loyalty.CardTypeCoupon].ID, nil))
	mem := cards[loyalty.CardTypeMembership]
	must(c.Cards.SetMembershipTier(ctx, mem.ID, mem.MembershipTier.ID, loyalty.MembershipPeriodYear, nil))
	must(c.Cards.SetExpirationDate(ctx, s, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), nil))

	// Purchases need spend mechanics: a company seeded with such a template.
	spend := NewServer(WithTemplates(Template{Name: "Spend", Type: loyalty.CardTypeReward, Mechanics: loyalty.MechanicsSpend}))
	t.Cleanup(spend.Close)
	spendCard := issue(t, spend, spend.Client, loyalty.CardTypeReward)
	must(spend.Client.Cards.AddPurchase(ctx, spendCard.ID, 20, nil))
	must(spend.Client.Cards.SubtractPurchase(ctx, spendCard.ID, 5, nil))

	co, _, err := c.Companies.Create(ctx, &loyalty.CompanyCreateRequest{Name: "Co", Email: "co@example.com", Phone: "+1555", Country: "US",
		UserName: "A", UserSurname: "B", Password: loyalty.NewSecret("123456"), TariffID: 1, TariffPeriod: loyalty.TariffTrial})
	require.NoError(t, err)
	must(c.Companies.List(ctx, nil))
	must(c.Companies.Get(ctx, co.ID))
	must(c.Companies.Update(ctx, co.ID, &loyalty.CompanyUpdateRequest{Name: loyalty.Ptr("Co 2")}))
	must(c.Companies.SSOLink(ctx, co.ID))
	must(c.Companies.ChangeTariff(ctx, co.ID, &loyalty.ChangeTariffRequest{TariffID: 3, TariffPeriod: loyalty.TariffYear}))

	must(c.Tariffs.List(ctx))
	must(c.Tariffs.Get(ctx, 3))
	must(c.Templates.List(ctx, nil))
	must(c.Templates.Get(ctx, srv.TemplateID(loyalty.CardTypeReward)))
	tier, _, err := c.Templates.CreateRewardTier(ctx, srv.TemplateID(loyalty.CardTypeReward), &loyalty.RewardTierCreateRequest{Name: "Cake", Type: loyalty.RewardTierCustom, Value: 1, Threshold: loyalty.Ptr(300)})
	require.NoError(t, err)
	assert.Equal(t, 300, tier.Threshold)
	mustR(c.Templates.DeleteRewardTier(ctx, srv.TemplateID(loyalty.CardTypeReward), tier.ID))

	p, _, err := c.Pushes.Send(ctx, &loyalty.PushSendRequest{Message: "Hi", TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	assert.Equal(t, 1, p.SentAmount)
	must(c.Pushes.List(ctx, &loyalty.PushListOptions{TemplateID: srv.TemplateID(loyalty.CardTypeStamp)}))
	must(c.Pushes.Get(ctx, p.ID))
	must(c.SMS.Send(ctx, &loyalty.SMSSendRequest{CustomerID: cu.ID, Message: "Hi"}))
	must(c.Operations.List(ctx, &loyalty.OperationListOptions{CustomerID: cu.ID}))
	must(c.Statistics.Revenue(ctx, nil))
	must(c.Profile.Get(ctx))
	must(c.Profile.Update(ctx, &loyalty.ProfileUpdateRequest{DateFormat: loyalty.Ptr(loyalty.DateFormatDashYMD)}))
	must(c.Profile.GetAgency(ctx))
	must(c.Profile.UpdateAgency(ctx, &loyalty.AgencyProfileUpdateRequest{City: loyalty.Ptr("Springfield")}))

	tx, _, err := c.Marketplace.Accrue(ctx, &loyalty.AccrueRequest{Phone: "15555550142", Check: loyalty.Check{Amount: 1000, Currency: "USD"}})
	require.NoError(t, err)
	must(c.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: tx.TransactionID}))
	must(c.Marketplace.ResolveCredentials(ctx, &loyalty.ResolveCredentialsRequest{Names: []string{"storeId"}}))

	sub, _, err := c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: "http://127.0.0.1:1/hooks", Events: []loyalty.EventName{loyalty.EventCardIssued}})
	require.NoError(t, err)
	must(c.Webhooks.Me(ctx))
	mustR(c.Webhooks.Unsubscribe(ctx, string(sub.ID)))

	mustR(c.Cards.Delete(ctx, s))
	mustR(c.Customers.Delete(ctx, cu.ID))
	mustR(c.Companies.Delete(ctx, co.ID))

	routes := srv.table()
	require.Len(t, routes, 54+3, "the 54 of /api/v2 and the 3 of /api/automation")
	for _, rt := range routes {
		n := srv.Requests(rt.pattern) + spend.Requests(rt.pattern)
		assert.Positive(t, n, "%s was never called", rt.pattern)
	}
	assert.Zero(t, srv.Requests("unknown"))
}

func cut(pattern string) (method, path string, ok bool) {
	for i := range pattern {
		if pattern[i] == ' ' {
			return pattern[:i], pattern[i+1:], true
		}
	}
	return "", pattern, false
}

// replaceParams fills every {param} of a path with id (or a number where one is needed).
func replaceParams(path, id string) string {
	var out bytes.Buffer
	for i := 0; i < len(path); i++ {
		if path[i] == '{' {
			j := i
			for j < len(path) && path[j] != '}' {
				j++
			}
			if path[i:j+1] == "{id}" && bytes.Contains([]byte(path), []byte("cards")) {
				out.WriteString(id)
			} else {
				out.WriteString("1")
			}
			i = j
			continue
		}
		out.WriteByte(path[i])
	}
	return out.String()
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	// The clock stands still: every request falls in one second.
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, _ := start(t, WithRateLimit(3), WithClock(func() time.Time { return at }))
	c, err := srv.NewClient(loyalty.WithRetryMax(0))
	require.NoError(t, err)
	var limited int
	for range 10 {
		_, _, err := c.Profile.Get(context.Background())
		var apiErr *loyalty.APIError
		if errors.As(err, &apiErr) {
			assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			assert.Equal(t, time.Second, apiErr.RetryAfter)
			limited++
		}
	}
	assert.Equal(t, 7, limited, "three a second, and one second")
}

func TestLiveShapesAreReadByTheClient(t *testing.T) {
	t.Parallel()
	srv := NewServer(WithLiveShapes())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	customer, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	require.NoError(t, err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	card, resp, err := srv.Client.Cards.AddStamps(ctx, card.ID, 3, nil)
	require.NoError(t, err)
	assert.Empty(t, resp.UnreadFields)
	assert.Equal(t, 3, card.Balance.NumberStampsTotal)
	assert.Equal(t, srv.TemplateID(loyalty.CardTypeStamp), card.TemplateID)

	// The raw answer really is in the live shape.
	var raw map[string]any
	_, err = srv.Client.Do(ctx, &loyalty.Request{Method: "GET", Path: "cards/" + card.ID}, &raw)
	require.NoError(t, err)
	assert.Equal(t, "3", raw["balance"].(map[string]any)["numberStampsTotal"])

	cards, resp, err := srv.Client.Cards.List(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, cards, 1)
	require.NotNil(t, resp.Meta)
	assert.Equal(t, 1, resp.Meta.TotalItems, "string meta is read too")
}

// TestActionTableAgreesWithTheSDK: the fake keeps its own card-type table, written from the
// product docs, so that a wrong row in the SDK's is caught rather than confirmed. The two
// must agree cell by cell.
func TestActionTableAgreesWithTheSDK(t *testing.T) {
	t.Parallel()
	sdk := map[condition]loyalty.Condition{always: loyalty.ConditionAlways, visitMechanics: loyalty.ConditionVisitMechanics,
		spendMechanics: loyalty.ConditionSpendMechanics, pointsMechanics: loyalty.ConditionPointsMechanics,
		withoutLimits: loyalty.ConditionMembershipUnlimited, withLimits: loyalty.ConditionMembershipLimited}
	require.Len(t, actionRoutes, len(loyalty.Actions()), "one route per action")
	for _, r := range actionRoutes {
		assert.Equal(t, r.action.String(), r.endpoint, "endpoint of %v", r.action)
		for _, ct := range loyalty.CardTypes() {
			want, ok := loyalty.ActionCondition(r.action, ct)
			got, has := r.accepts[ct]
			assert.Equal(t, ok, has, "%s on %s", r.endpoint, ct)
			if ok && has {
				assert.Equal(t, want, sdk[got], "%s on %s", r.endpoint, ct)
			}
		}
	}
}

// What each visit action does to each card that takes it, as the SDK's docs say: a till
// records a visit on a multipass or an open membership with AddVisits, and on a membership
// with limits with SubtractVisits, which uses one of the period's visits.
func TestVisitActionsMoveWhatTheDocsSay(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	issueFrom := func(template string) *loyalty.Card {
		t.Helper()
		cu, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "V", Email: template + "@example.com"})
		require.NoError(t, err)
		card, _, err := c.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateNamed(template)})
		require.NoError(t, err)
		return card
	}
	open := issueFrom(TemplateMembershipOpen)
	card, _, err := c.Cards.AddVisits(ctx, open.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, card.CountVisits, "an open membership counts the visit")
	assert.Zero(t, card.Balance.CurrentNumberOfUses, "and uses nothing up")

	limited := issueFrom(TemplateMembershipLimited)
	card, _, err = c.Cards.SubtractVisits(ctx, limited.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.CurrentNumberOfUses, "a limited membership uses one of the period's visits")
	_, _, err = c.Cards.AddVisits(ctx, limited.ID, 1, nil)
	assert.ErrorIs(t, err, loyalty.ErrActionNotAllowed, "and takes no AddVisits")

	pass := issueFrom(TemplateMultipass)
	card, _, err = c.Cards.AddVisits(ctx, pass.ID, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, card.Balance.CurrentNumberOfUses, "a multipass counts the visits used")
	assert.Equal(t, 2, card.CountVisits)
	card, _, err = c.Cards.SubtractVisits(ctx, pass.ID, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.CurrentNumberOfUses, "SubtractVisits takes a visit back")
}
