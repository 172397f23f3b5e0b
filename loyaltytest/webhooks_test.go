package loyaltytest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// receiver is a webhook endpoint that keeps what it accepted, once per event.
type receiver struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []*loyalty.Event
}

func (r *receiver) handle(_ context.Context, e *loyalty.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[e.Key()] {
		return nil // at least once: a repeat
	}
	r.seen[e.Key()] = true
	r.events = append(r.events, e)
	return nil
}

func (r *receiver) names() []loyalty.EventName {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []loyalty.EventName
	for _, e := range r.events {
		out = append(out, e.Name)
	}
	return out
}

// newReceiver starts a webhook endpoint that accepts deliveries carrying token=s3cret.
func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	t.Helper()
	rcv := &receiver{seen: map[string]bool{}}
	hook := httptest.NewServer(&loyalty.WebhookHandler{Handle: rcv.handle, VerifyRequest: loyalty.VerifyToken("token", "s3cret")})
	t.Cleanup(hook.Close)
	return rcv, hook
}

func TestWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	rcv, hook := newReceiver(t)

	sub, _, err := c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: hook.URL + "?token=s3cret",
		Events: []loyalty.EventName{loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated, loyalty.EventCardRemoved,
			loyalty.EventCustomerCreated, loyalty.EventCompanyCreated, loyalty.EventCompanyRemoved}})
	require.NoError(t, err)
	me, _, err := c.Webhooks.Me(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, me.ID)

	card := issue(t, srv, c, loyalty.CardTypeStamp)
	_, _, err = c.Cards.AddStamps(ctx, card.ID, 3, nil)
	require.NoError(t, err)
	srv.InjectWebhookFault(WebhookFault{Repeat: 1})
	_, _, err = c.Cards.AddStamps(ctx, card.ID, 2, nil)
	require.NoError(t, err)
	companyID, _, err := c.Companies.Create(ctx, &loyalty.CompanyCreateRequest{Name: "Bean There", Email: "o@bean.example",
		Phone: "+15555550100", Country: "US", UserName: "A", UserSurname: "L", Password: loyalty.NewSecret("secret1"), TariffID: 1, TariffPeriod: loyalty.TariffMonth})
	require.NoError(t, err)
	_, err = c.Companies.Delete(ctx, companyID.ID)
	require.NoError(t, err)
	_, err = c.Cards.Delete(ctx, card.ID)
	require.NoError(t, err)
	srv.WaitForDeliveries()

	assert.ElementsMatch(t, []loyalty.EventName{loyalty.EventCustomerCreated, loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated,
		loyalty.EventCardBalanceUpdated, loyalty.EventCompanyCreated, loyalty.EventCompanyRemoved, loyalty.EventCardRemoved}, rcv.names(),
		"every change once, the repeated delivery dropped by its key")
	var last *loyalty.CardEvent
	for _, e := range rcv.events {
		if e.Name == loyalty.EventCardBalanceUpdated {
			last, err = e.Card()
			require.NoError(t, err)
		}
	}
	require.NotNil(t, last)
	assert.Equal(t, card.ID, last.SerialNumber)
	assert.Equal(t, loyalty.CardTypeStamp, last.CardType)
	assert.Equal(t, srv.TemplateID(loyalty.CardTypeStamp), last.TemplateID, "template_id sent as a string, read as a number")
	assert.Contains(t, []int{3, 5}, last.NumberStampsTotal)

	repeated := 0
	for _, d := range srv.Deliveries() {
		assert.Equal(t, 200, d.Status, "%s", d.Event)
		if d.Repeated {
			repeated++
		}
	}
	assert.Equal(t, 1, repeated, "the fake reports what it repeated")

	// Unsubscribed: nothing more arrives.
	_, err = c.Webhooks.Unsubscribe(ctx, string(sub.ID))
	require.NoError(t, err)
	before := len(srv.Deliveries())
	issue(t, srv, c, loyalty.CardTypeStamp)
	srv.WaitForDeliveries()
	assert.Len(t, srv.Deliveries(), before)
}

func TestWebhookDeliveriesThatFail(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	rcv, hook := newReceiver(t)

	// A subscription with the token, whose first delivery the fault drops.
	_, _, err := c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: hook.URL + "?token=s3cret", Events: []loyalty.EventName{loyalty.EventCardIssued}})
	require.NoError(t, err)
	// And one without it: every delivery is refused and never reaches Handle.
	_, _, err = c.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: hook.URL, Events: []loyalty.EventName{loyalty.EventCardIssued}})
	require.NoError(t, err)
	srv.InjectWebhookFault(WebhookFault{Drop: 1})
	issue(t, srv, c, loyalty.CardTypeStamp)
	srv.WaitForDeliveries()

	var statuses []int
	for _, d := range srv.Deliveries() {
		statuses = append(statuses, d.Status)
	}
	assert.ElementsMatch(t, []int{0, 401}, statuses, "one dropped by the fault (never sent), one refused for its token")
	assert.Empty(t, rcv.names())
}
