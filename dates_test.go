// Dates and stored times (timestamp.go) against the API's limits.

package loyalty

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDatesHaveFourDigitYearsAndStoredTimesFitTheAPI(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx := context.Background()
	stamp := &ActionOptions{CardType: CardTypeStamp}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	refused := map[string]func() error{
		"date of birth in year 20001": func() error {
			_, _, err := c.Customers.Create(ctx, &CustomerCreateRequest{FirstName: "J", Phone: "1555", DateOfBirth: Date{20001, time.February, 28}})
			return err
		},
		"date of birth in year 999": func() error {
			_, _, err := c.Customers.Update(ctx, "c-1", &CustomerUpdateRequest{DateOfBirth: &Date{999, time.February, 28}})
			return err
		},
		"operations from year 20250": func() error {
			_, _, err := c.Operations.List(ctx, &OperationListOptions{StartDate: Date{20250, time.January, 10}})
			return err
		},
		"card expiry one second past 2038-01-19T03:14:07Z": func() error {
			_, _, err := c.Cards.SetExpirationDate(ctx, "1", at("2038-01-19T03:14:08Z"), stamp)
			return err
		},
		"card expiry in 1969": func() error {
			_, _, err := c.Cards.SetExpirationDate(ctx, "1", at("1969-12-31T23:59:59Z"), stamp)
			return err
		},
		"company expiry in 2040": func() error {
			_, _, err := c.Companies.Update(ctx, 7, &CompanyUpdateRequest{ExpiresAt: &Timestamp{Time: at("2040-01-01T00:00:00Z")}})
			return err
		},
		"push scheduled in 2040": func() error {
			_, _, err := c.Pushes.Send(ctx, &PushSendRequest{Message: "hi", TemplateID: 1, ScheduledAt: Timestamp{Time: at("2040-01-01T00:00:00Z")}})
			return err
		},
	}
	for name, call := range refused {
		assert.ErrorIs(t, call(), ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests(), "nothing sent")

	ts.reply("POST /api/v2/cards/{id}/set-expiration-date", 200, "card.json")
	_, _, err := c.Cards.SetExpirationDate(ctx, "1", at("2038-01-19T03:14:07Z"), stamp)
	require.NoError(t, err, "the last instant the API stores is accepted")
	assertRequest(t, ts.only(), "POST", "/api/v2/cards/1/set-expiration-date", "", `{"expiresAt":"2038-01-19T03:14:07+00:00"}`)
}
