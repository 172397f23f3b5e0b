package loyalty

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCardsGet(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")

	card, resp, err := c.Cards.Get(context.Background(), "638920-251-210")
	require.NoError(t, err)
	assertRequest(t, ts.only(), "GET", "/api/v2/cards/638920-251-210", "", "")

	assert.Equal(t, "019bae92-aaaa-7340-88bc-9e2f9d442689", resp.ResponseID)
	assert.Equal(t, 1, resp.Attempts)
	assert.Nil(t, resp.Meta)
	assert.Equal(t, "638920-251-210", card.ID)
	assert.Equal(t, 154435, card.CompanyID)
	assert.Equal(t, 955805, card.TemplateID)
	assert.Equal(t, CardTypeStamp, card.Type)
	assert.Equal(t, CardStatusInstalled, card.Status)
	assert.Equal(t, "Apple Wallet", card.Device)
	assert.Equal(t, "Jane", card.Customer.FirstName)
	assert.Equal(t, GenderFemale, card.Customer.Gender)
	assert.Equal(t, Date{1990, time.April, 23}, card.Customer.DateOfBirth)
	assert.Equal(t, []Segment{{ID: 12, Name: "Regulars", Type: 1}}, card.Customer.Segments)
	assert.Equal(t, CardBalance{NumberStampsTotal: 7, NumberRewardsUnused: 1, DiscountAmount: 250, StampsBeforeReward: 3}, card.Balance)
	assert.Equal(t, []CustomField{{ID: 4225123, Name: "First name", Type: "FName", Value: "Jane", Order: 1, Required: true}}, card.CustomFields)
	require.NotNil(t, card.CustomerSubscription)
	assert.Equal(t, ID("20779267"), card.CustomerSubscription.CardID, "a numeric cardId is kept as text")
	assert.Equal(t, time.Unix(1765734064, 0).UTC(), card.CustomerSubscription.CreatedAt.Time, "unix seconds")
	assert.True(t, card.CustomerSubscription.ExpiredAt.IsZero())
	assert.Nil(t, card.MembershipTier)
	assert.Equal(t, []RewardTier{{ID: 31, TemplateID: 955805, Name: "Free coffee", Type: RewardTierCustom, Threshold: 10, Value: 1}}, card.AvailableRewardTiers)
	assert.Equal(t, "https://wallet.example-agency.com/qr/955805/20779267", card.QRLink)
	assert.Equal(t, "https://wallet.example-agency.com/installcard/638920-251-210/apple", card.DirectInstallLink.Apple)
	assert.False(t, card.CouponRedeemed)
	assert.Equal(t, 9, card.CountVisits)
	assert.Equal(t, 3, card.TotalRewardsEarned)
	assert.Equal(t, 2, card.TotalRewardsRedeemed)
	assert.Equal(t, mustTime(t, "2026-01-10T09:30:00Z"), card.LastStampEarnedAt.Time, "a date-time without T or offset")
	require.NotNil(t, card.ExpiresAt)
	assert.Equal(t, mustTime(t, "2027-12-31T23:59:59Z"), card.ExpiresAt.UTC())
	assert.Equal(t, mustTime(t, "2025-12-14T17:41:04Z"), card.CreatedAt.UTC())
}

func TestCardsListLiveShape(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards", http.StatusOK, "cards-list.json")

	cards, resp, err := c.Cards.List(context.Background(), &CardListOptions{
		ListOptions:   ListOptions{Page: 2, ItemsPerPage: 50},
		CustomerID:    "019b1df3-a306-739e-988b-50dbfedc2922",
		CustomerEmail: "jane+1@example.com",
		CustomerPhone: "+12135550142",
		TemplateID:    955805,
	})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "GET", "/api/v2/cards",
		"customerEmail=jane%2B1%40example.com&customerId=019b1df3-a306-739e-988b-50dbfedc2922&customerPhone=%2B12135550142&itemsPerPage=50&page=2&templateId=955805", "")

	assert.Equal(t, &ListMeta{CurrentPage: 1, ItemsPerPage: 30, TotalItems: 4}, resp.Meta)
	assert.Equal(t, "019bae92-8f14-7340-88bc-9e2f9d442689", resp.ResponseID)
	assert.Equal(t, mustTime(t, "2026-01-11T19:39:59Z"), resp.CreatedAt.UTC())
	require.Len(t, cards, 1)
	card := cards[0]
	assert.Equal(t, "153111-927-114", card.ID)
	assert.Equal(t, CardTypeReward, card.Type)
	assert.Equal(t, "Google Pay", card.Device)
	assert.Equal(t, "", card.QRLink, "absent from live answers")
	assert.Nil(t, card.AvailableRewardTiers)
	assert.Equal(t, "", card.Customer.ExternalUserID, "null")
	assert.Equal(t, 0, card.Balance.NumberStampsTotal, "null")
	assert.Equal(t, []CustomField{{ID: 4225123, Name: "First name", Type: "FName", Value: "Jane"}}, card.CustomFields)
}

func TestCardsListWithoutOptions(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards", http.StatusOK, "cards-list.json")

	_, _, err := c.Cards.List(context.Background(), nil)
	require.NoError(t, err)
	assertRequest(t, ts.only(), "GET", "/api/v2/cards", "", "")
}

func TestCardsCreate(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/cards", http.StatusCreated, "card-created.json")

	card, resp, err := c.Cards.Create(context.Background(), &CardCreateRequest{
		CustomerID:   "019b1df3-a306-739e-988b-50dbfedc2922",
		TemplateID:   955806,
		CustomFields: []CustomFieldValue{{ID: 4225123, Value: "Jane"}, {ID: 4225124, Value: "Gold"}},
	})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "POST", "/api/v2/cards", "",
		`{"customerId":"019b1df3-a306-739e-988b-50dbfedc2922","templateId":955806,"customFields":[{"id":4225123,"value":"Jane"},{"id":4225124,"value":"Gold"}]}`)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "430556-818-972", card.ID)
	assert.Equal(t, CardTypeCoupon, card.Type)
	assert.Equal(t, CardStatusNotInstalled, card.Status)
	assert.Nil(t, card.ExpiresAt, "null expiry")
}

func TestCardsCreateWithoutCustomFields(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/cards", http.StatusCreated, "card-created.json")

	_, _, err := c.Cards.Create(context.Background(), &CardCreateRequest{CustomerID: "c1", TemplateID: 7})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "POST", "/api/v2/cards", "", `{"customerId":"c1","templateId":7}`)
}

func TestCardsUpdate(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("PATCH /api/v2/cards/{id}", http.StatusOK, "card.json")

	card, _, err := c.Cards.Update(context.Background(), "638920-251-210", &CardUpdateRequest{
		CustomFields: []CustomFieldValue{{ID: 4225123, Value: "Janet"}},
	})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "PATCH", "/api/v2/cards/638920-251-210", "", `{"customFields":[{"id":4225123,"value":"Janet"}]}`)
	assert.Equal(t, "638920-251-210", card.ID)
}

func TestCardsDelete(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("DELETE /api/v2/cards/{id}", http.StatusOK, "deleted-card.json")

	resp, err := c.Cards.Delete(context.Background(), "638920-251-210")
	require.NoError(t, err)
	assertRequest(t, ts.only(), "DELETE", "/api/v2/cards/638920-251-210", "", "")
	assert.Equal(t, "019bae92-ffff-7340-88bc-9e2f9d442689", resp.ResponseID)
}

func TestCardsEscapesID(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var rawPath string
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		rawPath = r.URL.EscapedPath()
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	_, _, err := c.Cards.Get(context.Background(), "a/b?c#d e")
	require.NoError(t, err)
	assert.Equal(t, "/api/v2/cards/a%2Fb%3Fc%23d%20e", rawPath)
}

func TestCardsRefusesBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx := context.Background()
	cases := map[string]func() error{
		"get empty id":     func() error { _, _, err := c.Cards.Get(ctx, ""); return err },
		"get blank id":     func() error { _, _, err := c.Cards.Get(ctx, "  "); return err },
		"get dot-dot":      func() error { _, _, err := c.Cards.Get(ctx, ".."); return err },
		"delete empty id":  func() error { _, err := c.Cards.Delete(ctx, ""); return err },
		"create nil":       func() error { _, _, err := c.Cards.Create(ctx, nil); return err },
		"create no cust":   func() error { _, _, err := c.Cards.Create(ctx, &CardCreateRequest{TemplateID: 1}); return err },
		"create no tmpl":   func() error { _, _, err := c.Cards.Create(ctx, &CardCreateRequest{CustomerID: "c"}); return err },
		"update no fields": func() error { _, _, err := c.Cards.Update(ctx, "x", &CardUpdateRequest{}); return err },
		"update nil":       func() error { _, _, err := c.Cards.Update(ctx, "x", nil); return err },
		"list per page 0+": func() error {
			_, _, err := c.Cards.List(ctx, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 1001}})
			return err
		},
		"list negative pg": func() error {
			_, _, err := c.Cards.List(ctx, &CardListOptions{ListOptions: ListOptions{Page: -1}})
			return err
		},
		"update empty id": func() error {
			_, _, err := c.Cards.Update(ctx, "", &CardUpdateRequest{CustomFields: []CustomFieldValue{{1, "v"}}})
			return err
		},
	}
	for name, f := range cases {
		err := f()
		var argErr *ArgumentError
		assert.ErrorAs(t, err, &argErr, name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests(), "nothing may be sent")
}
