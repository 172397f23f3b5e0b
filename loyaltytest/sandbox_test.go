package loyaltytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Everything a server holds comes back from its saved state: keys, accounts, templates,
// customers, cards with their balances, the history, pushes, subscriptions (which go on
// delivering), and marketplace transactions (which still apply once).
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := NewServer()
	c := srv.Client
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	_, _, err := c.Cards.AddStamps(ctx, card.ID, 3, &loyalty.ActionOptions{Reference: "r-1"})
	require.NoError(t, err)
	cashback := issue(t, srv, c, loyalty.CardTypeCashback)
	app, err := loyalty.NewAppClient(srv.AppToken, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	accrual := &loyalty.AccrueRequest{TransactionID: "t-1", SerialNumber: cashback.ID, Check: loyalty.Check{Amount: 4000, Currency: "USD"}}
	_, _, err = app.Marketplace.Accrue(ctx, accrual)
	require.NoError(t, err)
	companyID, companyKey := srv.AddCompany("Bean There")
	_, _, err = c.Pushes.Send(ctx, &loyalty.PushSendRequest{Message: "hi", TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	got := make(chan string, 4)
	receiver := httptest.NewServer(&loyalty.WebhookHandler{Handle: func(_ context.Context, e *loyalty.Event) error {
		got <- string(e.Name)
		return nil
	}})
	defer receiver.Close()
	_, _, err = c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: receiver.URL, Events: []loyalty.EventName{loyalty.EventCustomerCreated}})
	require.NoError(t, err)
	saved, err := srv.Save()
	require.NoError(t, err)
	before := srv.Report().Objects
	srv.Close()

	again, err := NewServerFromState(saved)
	require.NoError(t, err)
	t.Cleanup(again.Close)
	assert.Equal(t, srv.APIKey, again.APIKey, "the same key")
	assert.Equal(t, srv.AppToken, again.AppToken)
	assert.Equal(t, before, again.Report().Objects, "everything there")
	c = again.Client
	read, _, err := c.Cards.Get(ctx, card.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, read.Balance.NumberStampsTotal)
	f, _, err := c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: card.ID, Reference: "r-1"})
	require.NoError(t, err)
	assert.Equal(t, loyalty.OutcomeApplied, f.Outcome, "the history too")
	sub, err := c.ForAPIKey(companyKey)
	require.NoError(t, err)
	profile, _, err := sub.Profile.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Bean There", profile.Name, "a company's key still works")
	_, _, err = c.Companies.Get(ctx, companyID)
	require.NoError(t, err)
	app, err = loyalty.NewAppClient(again.AppToken, loyalty.WithBaseURL(again.URL))
	require.NoError(t, err)
	_, _, err = app.Marketplace.Accrue(ctx, accrual)
	require.NoError(t, err)
	read, _, err = c.Cards.Get(ctx, cashback.ID)
	require.NoError(t, err)
	assert.InDelta(t, 2.0, read.Balance.Balance, 1e-9, "a transaction replayed after the restart applies once")
	_, _, err = c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "New", Email: "new@example.com"})
	require.NoError(t, err)
	assert.Equal(t, string(loyalty.EventCustomerCreated), <-got, "the subscription still delivers")
	more := issue(t, again, c, loyalty.CardTypeStamp)
	assert.NotEqual(t, card.ID, more.ID, "new ids do not reuse the old")

	_, err = NewServerFromState([]byte(`{"version":99}`))
	assert.Error(t, err)
}

// sandboxCall makes a control call.
func sandboxCall(t *testing.T, srv *Server, method, path, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Faults are injected over HTTP as through InjectFault, and the report says what the server
// received and what a run that repeats another did twice.
func TestControlRoutes(t *testing.T) {
	t.Parallel()
	srv := NewServer(WithControl())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	card := issue(t, srv, srv.Client, loyalty.CardTypeStamp)

	status, _ := sandboxCall(t, srv, "POST", "/_sandbox/faults", "wrong", `{}`)
	assert.Equal(t, http.StatusUnauthorized, status, "the agency's key only")
	status, _ = sandboxCall(t, srv, "POST", "/_sandbox/faults", srv.APIKey,
		`{"route":"POST /api/v2/cards/{id}/add-stamp","fault":{"dropAfter":true,"times":1}}`)
	require.Equal(t, http.StatusCreated, status)
	_, _, err := srv.Client.Cards.AddStamps(ctx, card.ID, 1, nil)
	assert.True(t, loyalty.IsOutcomeUnknown(err), "the fault over HTTP: %v", err)
	status, _ = sandboxCall(t, srv, "POST", "/_sandbox/faults", srv.APIKey,
		`{"route":"GET /api/v2/profile","fault":{"status":503,"retryAfter":1,"latency":"1ms"}}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = sandboxCall(t, srv, "DELETE", "/_sandbox/faults", srv.APIKey, ``)
	require.Equal(t, http.StatusNoContent, status)
	_, _, err = srv.Client.Profile.Get(ctx)
	assert.NoError(t, err, "cleared")
	status, _ = sandboxCall(t, srv, "POST", "/_sandbox/faults", srv.APIKey, `{"route":"GET /x","fault":{"latency":"soon"}}`)
	assert.Equal(t, http.StatusBadRequest, status)

	status, _ = sandboxCall(t, srv, "POST", "/_sandbox/mark", srv.APIKey, ``)
	require.Equal(t, http.StatusNoContent, status)
	report := func() Report {
		t.Helper()
		status, body := sandboxCall(t, srv, "GET", "/_sandbox/report", srv.APIKey, ``)
		require.Equal(t, http.StatusOK, status)
		var r Report
		require.NoError(t, json.Unmarshal(body, &r))
		return r
	}
	_, _, err = srv.Client.Cards.Get(ctx, card.ID)
	require.NoError(t, err)
	r := report()
	require.NotNil(t, r.SinceMark)
	assert.True(t, r.SinceMark.Clean, "a read changes nothing: %+v", r.SinceMark)
	assert.Equal(t, 1, r.SinceMark.Requests["GET /api/v2/cards/{id}"])
	_, _, err = srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Twice", Phone: "15555550199"})
	require.NoError(t, err)
	r = report()
	assert.False(t, r.SinceMark.Clean)
	assert.Equal(t, map[string]int{"customers": 1}, r.SinceMark.Created)
	assert.Equal(t, map[string]int{"POST /api/v2/customers": 1}, r.SinceMark.Sent)
	assert.Greater(t, r.Total, 5)
}
