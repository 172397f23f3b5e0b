package loyalty_test

// The mistakes a new user makes, each refused with what went wrong and what to do: which
// credential was sent and where it came from, which key a route needs, which address could
// not be reached and why, which actions fit the card.

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func TestAWrongKeySaysWhichKeyAndWhereItCameFrom(t *testing.T) {
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()

	t.Setenv("LOYALTY_API_KEY", srv.AppToken) // the app token where the key goes
	t.Setenv("LOYALTY_BASE_URL", srv.URL)
	c, err := loyalty.NewClientFromEnv()
	require.NoError(t, err)
	_, _, err = c.Profile.Get(ctx)
	require.ErrorIs(t, err, loyalty.ErrUnauthorized)
	assert.Contains(t, err.Error(), "401 API key not found")
	assert.Contains(t, err.Error(), "the API key from LOYALTY_API_KEY was refused: use the key shown in the dashboard "+
		"under settings, integrations (not the marketplace app token, which goes in LOYALTY_APP_TOKEN)")
	assert.NotContains(t, err.Error(), srv.AppToken)

	c, err = loyalty.NewClient("lt_wrong", loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = c.Profile.Get(ctx)
	assert.Contains(t, err.Error(), "the API key given to NewClient was refused")
}

func TestACompanyKeyOnAnAgencyRouteSaysTheRouteNeedsTheAgencysKey(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	_, companyKey := srv.AddCompany("Bean There")
	sub, err := srv.Client.ForAPIKey(companyKey)
	require.NoError(t, err)
	_, _, err = sub.Companies.List(context.Background(), nil)
	require.ErrorIs(t, err, loyalty.ErrForbidden)
	assert.Contains(t, err.Error(), "403 Access denied")
	assert.Contains(t, err.Error(), "this route needs the agency's key; the key in use (the key given to ForAPIKey) "+
		"is not the agency's: a company's key acts for its own company only")
	assert.NotContains(t, err.Error(), companyKey)
}

func TestAnAddressThatDoesNotAnswerIsNamedWithItsSource(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now: the sandbox is not running

	t.Setenv("LOYALTY_API_KEY", "lt_agency_x")
	t.Setenv("LOYALTY_BASE_URL", base)
	c, err := loyalty.NewClientFromEnv(loyalty.WithRetryMax(0))
	require.NoError(t, err)
	_, _, err = c.Profile.Get(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "nothing answers at "+base+" (the base URL from LOYALTY_BASE_URL): "+
		"check the address, and that the server there (the sandbox?) is running")
}

func TestAnActionThatDoesNotFitNamesTheActionsThatDo(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	cu, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550111"})
	require.NoError(t, err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeCashback)})
	require.NoError(t, err)
	_, _, err = srv.Client.Cards.AddStamps(ctx, card.ID, 1, nil)
	require.ErrorIs(t, err, loyalty.ErrActionNotAllowed)
	assert.Contains(t, err.Error(), "add-stamp applies to stamp cards")
	assert.Contains(t, err.Error(), "a cashback card takes AddAmount, SubtractAmount, AddPoints, SubtractPoints, "+
		"SetExpirationDate, ClearExpirationDate")
}

func TestEnvironmentMistakesAreNamed(t *testing.T) {
	t.Setenv("LOYALTY_API_KEY", "")
	_, err := loyalty.NewClientFromEnv()
	require.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "LOYALTY_API_KEY: is set, but empty")

	t.Setenv("LOYALTY_API_KEY", "lt_agency_x")
	t.Setenv("LOYALTY_BASE_URL", "127.0.0.1:8787")
	_, err = loyalty.NewClientFromEnv()
	require.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `baseURL: "127.0.0.1:8787" (from LOYALTY_BASE_URL) must be an absolute http(s) URL, `+
		`such as http://127.0.0.1:8787`)

	t.Setenv("LOYALTY_BASE_URL", "https://user:pw@api.example.com/x")
	_, err = loyalty.NewClientFromEnv()
	require.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.NotContains(t, err.Error(), "pw", "credentials in a URL are not echoed")

	_, err = loyalty.NewClient("k", loyalty.WithBaseURL("api.digitalwallet.cards"))
	assert.Contains(t, err.Error(), `"api.digitalwallet.cards" (from WithBaseURL) must be an absolute http(s) URL, such as https://api.digitalwallet.cards`)
}

func TestSettingsFromAFileAreNamedByTheFile(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	const file = "/home/ann/.config/loyalty/credentials"
	c, err := loyalty.NewClient("lt_wrong", loyalty.WithBaseURL(srv.URL), loyalty.WithSources(file, "", file))
	require.NoError(t, err)
	_, _, err = c.Profile.Get(context.Background())
	require.ErrorIs(t, err, loyalty.ErrUnauthorized)
	assert.Contains(t, err.Error(), "the API key from "+file+" was refused")

	_, err = loyalty.NewClient("k", loyalty.WithBaseURL("127.0.0.1:8787"), loyalty.WithSources("LOYALTY_API_KEY", "", file))
	require.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `"127.0.0.1:8787" (from `+file+`) must be an absolute http(s) URL`)

	a, err := loyalty.NewAppClient("wrong", loyalty.WithBaseURL(srv.URL), loyalty.WithSources("", "LOYALTY_APP_TOKEN", ""))
	require.NoError(t, err)
	_, _, err = a.Marketplace.ResolveCredentials(context.Background(), &loyalty.ResolveCredentialsRequest{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the marketplace app token from LOYALTY_APP_TOKEN was refused")
}
