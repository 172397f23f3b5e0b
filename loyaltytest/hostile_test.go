package loyaltytest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// The sandbox is reached by strangers: a request, however hostile, is answered (or refused)
// at once, and the server goes on serving everyone else.

// within runs f and fails the test unless it ends within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: no answer within %s", what, d)
	}
}

// Quantities the live API cannot hold (beyond its 32-bit integers, beyond a float) are refused
// with its 422 shape, at once and without changing the card; the largest it can hold is
// applied arithmetically, not one stamp at a time.
func TestQuantitiesBeyondTheAPIAreRefused(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	stamp := issue(t, srv, c, loyalty.CardTypeStamp)
	reward := issue(t, srv, c, loyalty.CardTypeReward)
	cashback := issue(t, srv, c, loyalty.CardTypeCashback)
	for _, tc := range []struct{ card, action, body string }{
		{stamp.ID, "add-stamp", `{"stamps": 9000000000000000000}`},
		{stamp.ID, "add-stamp", `{"stamps": 2147483648}`},
		{stamp.ID, "add-reward", `{"rewards": 2147483648}`},
		{reward.ID, "add-scores", `{"scores": 1` + strings.Repeat("0", 307) + `}`},
		{cashback.ID, "add-point", `{"points": 1e39}`},
		{cashback.ID, "add-transaction-amount", `{"amount": 4294967296}`},
	} {
		var status int
		var body map[string]any
		within(t, time.Second, tc.body, func() {
			status, body = raw(t, srv, "POST", "/api/v2/cards/"+tc.card+"/"+tc.action, srv.APIKey, tc.body)
		})
		assert.Equal(t, http.StatusUnprocessableEntity, status, "%s %s", tc.action, tc.body)
		assert.Equal(t, "Validation failed", body["message"], "the API's 422 shape")
	}
	for _, id := range []string{stamp.ID, reward.ID, cashback.ID} {
		card, _, err := c.Cards.Get(context.Background(), id)
		require.NoError(t, err)
		assert.Zero(t, card.Balance.NumberStampsTotal+card.Balance.NumberRewardsUnused, "nothing applied")
		assert.Zero(t, card.Balance.Balance, "nothing applied")
	}

	var status int
	within(t, time.Second, "the largest stamp count", func() {
		status, _ = raw(t, srv, "POST", "/api/v2/cards/"+stamp.ID+"/add-stamp", srv.APIKey, `{"stamps": 2147483647}`)
	})
	require.Equal(t, http.StatusOK, status)
	card, _, err := c.Cards.Get(context.Background(), stamp.ID)
	require.NoError(t, err)
	assert.Equal(t, 7, card.Balance.NumberStampsTotal, "2147483647 stamps, 10 to a reward")
	assert.Equal(t, 214748364, card.Balance.NumberRewardsUnused)
	assert.Equal(t, 214748364, card.TotalRewardsEarned)
	status, _ = raw(t, srv, "POST", "/api/v2/cards/"+stamp.ID+"/add-reward", srv.APIKey, `{"rewards": 2147483647}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "a count the card could not hold afterwards")
}

// A balance that would stop being a finite number is refused, and the card and the server's
// answers stay whole, as does its saved state.
func TestBalancesStayFinite(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	gift := issue(t, srv, c, loyalty.CardTypeGift)
	srv.mu.Lock()
	srv.st.agency.cards.get(gift.ID).balance = math.MaxFloat64 / 2
	srv.mu.Unlock()
	for range 3 {
		status, _ := raw(t, srv, "POST", "/api/v2/cards/"+gift.ID+"/add-point", srv.APIKey, `{"points": 3.4e38}`)
		require.NotEqual(t, http.StatusInternalServerError, status)
	}
	card, resp, err := c.Cards.Get(context.Background(), gift.ID)
	require.NoError(t, err)
	assert.False(t, math.IsInf(card.Balance.Balance, 0))
	assert.Empty(t, resp.UnreadFields)
	_, err = srv.Save()
	require.NoError(t, err, "the state saves")
}

// A request with a key the server does not know is refused before its body is read: a
// stranger cannot make the server hold a connection open for a body it never sends.
func TestUnknownKeysAreRefusedBeforeTheBody(t *testing.T) {
	t.Parallel()
	srv, _ := start(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/v2/customers HTTP/1.1\r\nHost: x\r\nX-API-Key: stranger\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"firstName\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "answered without the rest of the body")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, 1, srv.Requests("POST /api/v2/customers"), "counted")
}

// A connection that stops mid-headers or mid-body is closed once the server's read timeouts
// pass, however many there are.
func TestStalledConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	srv, c := start(t, withTimeouts(100*time.Millisecond, 300*time.Millisecond, time.Second))
	dial := func(partial string) net.Conn {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = conn.Write([]byte(partial))
		require.NoError(t, err)
		return conn
	}
	headers := dial("GET /api/v2/profile HTTP/1.1\r\nHost: x\r\nX-API-")
	body := dial(fmt.Sprintf("POST /api/v2/customers HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Length: 100\r\n\r\n{", srv.APIKey))
	for name, conn := range map[string]net.Conn{"mid-headers": headers, "mid-body": body} {
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err := io.ReadAll(conn) // until the server closes it, or our own deadline
		assert.NoError(t, err, "%s: the server closed the connection", name)
	}
	_, _, err := c.Profile.Get(context.Background())
	require.NoError(t, err, "still serving")
}

// withTimeouts sets the server's read-header, read and idle timeouts (for tests that wait
// them out).
func withTimeouts(readHeader, read, idle time.Duration) Option {
	return func(s *settings) { s.readHeaderTimeout, s.readTimeout, s.idleTimeout = readHeader, read, idle }
}

// A subscribed URL that answers with a redirect does not get the delivery sent on: the
// sandbox must not become a way to reach what its key holders cannot.
func TestWebhookDeliveriesFollowNoRedirect(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(inside.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/admin", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	srv, c := start(t)
	_, _, err := c.Webhooks.Subscribe(context.Background(), &loyalty.WebhookSubscribeRequest{URL: redirector.URL,
		Events: []loyalty.EventName{loyalty.EventCustomerCreated}})
	require.NoError(t, err)
	_, _, err = c.Customers.Create(context.Background(), &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550100"})
	require.NoError(t, err)
	srv.WaitForDeliveries()
	require.Len(t, srv.Deliveries(), 1)
	assert.Equal(t, http.StatusTemporaryRedirect, srv.Deliveries()[0].Status)
	assert.Zero(t, elsewhere.Load(), "the redirect was not followed")
}

// Every state the running server can reach loads again: deleted cards with their history, a
// deleted customer with cards and history, a deleted company whose cards a marketplace
// transaction touched, a deleted reward tier and subscription.
func TestEveryReachableStateLoadsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := NewServer()
	c := srv.Client
	stamp := issue(t, srv, c, loyalty.CardTypeStamp)
	_, _, err := c.Cards.AddStamps(ctx, stamp.ID, 2, &loyalty.ActionOptions{Reference: "r-deleted-card"})
	require.NoError(t, err)
	_, err = c.Cards.Delete(ctx, stamp.ID)
	require.NoError(t, err)

	other := issue(t, srv, c, loyalty.CardTypeStamp)
	_, _, err = c.Cards.AddStamps(ctx, other.ID, 1, &loyalty.ActionOptions{Reference: "r-deleted-customer"})
	require.NoError(t, err)
	_, err = c.Customers.Delete(ctx, other.CustomerID)
	require.NoError(t, err)

	companyID, key := srv.AddCompany("Gone Coffee")
	sub, err := c.ForAPIKey(key)
	require.NoError(t, err)
	var cashbackTemplate int
	for tm, err := range sub.Templates.All(ctx, nil) {
		require.NoError(t, err)
		if tm.Type == loyalty.CardTypeCashback {
			cashbackTemplate = tm.ID
		}
	}
	holder, _, err := sub.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Bo", Phone: "15555550177"})
	require.NoError(t, err)
	gone, _, err := sub.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: holder.ID, TemplateID: cashbackTemplate})
	require.NoError(t, err)
	app, err := loyalty.NewAppClient(srv.AppToken, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = app.Marketplace.Accrue(ctx, &loyalty.AccrueRequest{TransactionID: "t-gone", SerialNumber: gone.ID,
		Check: loyalty.Check{Amount: 2000, Currency: "USD"}})
	require.NoError(t, err)
	_, err = c.Companies.Delete(ctx, companyID)
	require.NoError(t, err)

	reward := issue(t, srv, c, loyalty.CardTypeReward)
	tier, _, err := c.Templates.CreateRewardTier(ctx, reward.TemplateID, &loyalty.RewardTierCreateRequest{Name: "Mug", Type: loyalty.RewardTierCustom, Value: 1})
	require.NoError(t, err)
	_, err = c.Templates.DeleteRewardTier(ctx, reward.TemplateID, tier.ID)
	require.NoError(t, err)
	hook, _, err := c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: "http://127.0.0.1:1/x", Events: []loyalty.EventName{loyalty.EventCardIssued}})
	require.NoError(t, err)
	_, err = c.Webhooks.Unsubscribe(ctx, string(hook.ID))
	require.NoError(t, err)

	saved, err := srv.Save()
	require.NoError(t, err)
	before := srv.Report().Objects
	srv.Close()

	again, err := NewServerFromState(saved)
	require.NoError(t, err, "the state the server reached loads again")
	t.Cleanup(again.Close)
	assert.Equal(t, before, again.Report().Objects)
	for _, ref := range []string{"r-deleted-card", "r-deleted-customer"} {
		found := false
		for op, err := range again.Client.Operations.All(ctx, nil) {
			require.NoError(t, err)
			if got, _ := loyalty.ReferenceOf(op.Comment); got == ref {
				found = true
			}
		}
		assert.True(t, found, "the history of %s is kept", ref)
	}
	_, _, err = again.Client.Cards.Get(ctx, stamp.ID)
	assert.ErrorIs(t, err, loyalty.ErrNotFound, "a deleted card stays deleted")
	app, err = loyalty.NewAppClient(again.AppToken, loyalty.WithBaseURL(again.URL))
	require.NoError(t, err)
	tx, _, err := app.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: "t-gone"})
	require.NoError(t, err, "a transaction on a card whose company is gone is still reversed")
	assert.Equal(t, "t-gone", tx.TransactionID)
	more := issue(t, again, again.Client, loyalty.CardTypeStamp)
	assert.NotEqual(t, stamp.ID, more.ID)
	resaved, err := again.Save()
	require.NoError(t, err)
	third, err := NewServerFromState(resaved)
	require.NoError(t, err, "and again")
	third.Close()
}
