package loyaltytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// rawApp sends a marketplace request with the app token.
func rawApp(t *testing.T, srv *Server, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-App-Token", srv.AppToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = jsonDecode(resp, &m)
	return resp.StatusCode, m
}

// TestRefusesWhatTheAPIRefuses sends what the API's description refuses, and what it
// accepts, and checks the status of each.
func TestRefusesWhatTheAPIRefuses(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	companyID, _ := srv.AddCompany("Bean There")
	tmpl := srv.TemplateID(loyalty.CardTypeStamp)
	reward := srv.TemplateID(loyalty.CardTypeReward)
	expiry := "/api/v2/cards/" + card.ID + "/set-expiration-date"
	stampPath := "/api/v2/cards/" + card.ID + "/add-stamp"
	company := fmt.Sprintf("/api/v2/companies/%d", companyID)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"POST", expiry, `{"expiresAt":"2030-01-31T18:00:00+00:00"}`, 200},
		{"POST", expiry, `{"expiresAt":"2030-01-31T18:00:00Z"}`, 422},
		{"POST", expiry, `{"expiresAt":"2030-01-31T18:00:00.250+00:00"}`, 422},
		{"POST", expiry, `{"expiresAt":"2038-01-19T03:14:08+00:00"}`, 422},
		{"POST", expiry, `{"expiresAt":"1969-12-31T23:59:59+00:00"}`, 422},
		{"PATCH", company, `{"expiresAt":"2030-01-31T18:00:00+02:00"}`, 200},
		{"PATCH", company, `{"expiresAt":"2030-01-31T18:00:00Z"}`, 422},
		{"POST", "/api/v2/pushes", fmt.Sprintf(`{"message":"hi","templateId":%d,"scheduledAt":"2030-01-31T18:00:00+00:00"}`, tmpl), 201},
		{"POST", "/api/v2/pushes", fmt.Sprintf(`{"message":"hi","templateId":%d,"scheduledAt":"2030-01-31T18:00:00.5+00:00"}`, tmpl), 422},
		{"POST", stampPath, `{"stamps":2}`, 200},
		{"POST", stampPath, `{"stamps":2.0}`, 422},
		{"POST", stampPath, `{"stamps":1e1}`, 422},
		{"POST", "/api/v2/companies", `{"name":"A","email":"a@b.c","phone":"+15555550100","country":"US","userName":"A","userSurname":"B",` +
			`"password":"secret1","tariffId":1,"tariffPeriod":"month","language":"e"}`, 422},
		{"POST", "/api/v2/companies", `{"name":"A","email":"a@b.c","phone":"+15555550100","country":"US","userName":"A","userSurname":"B",` +
			`"password":"secret1","tariffId":1,"tariffPeriod":"month","language":"abcdefghijk"}`, 422},
		{"POST", fmt.Sprintf("/api/v2/templates/%d/reward_tiers", reward), `{"name":"x","type":0,"value":1,"threshold":null}`, 422},
		{"POST", fmt.Sprintf("/api/v2/templates/%d/reward_tiers", reward), `{"name":"x","type":0,"value":1,"usageLimit":"x"}`, 422},
		{"POST", fmt.Sprintf("/api/v2/templates/%d/reward_tiers", reward), `{"name":"x","type":0,"value":1,"valueLimit":"x"}`, 422},
		{"PATCH", "/api/v2/profile", `{"contacts":"` + strings.Repeat("x", 256) + `"}`, 422},
		{"PATCH", "/api/v2/cards/" + card.ID, `{}`, 200},
		{"POST", "/api/v2/customers", `{"firstName":"` + strings.Repeat("x", 2<<20) + `"}`, 413},
		{"DELETE", "/api/v2/profile", ``, 405},
		{"PUT", "/api/v2/cards/" + card.ID, `{}`, 405},
		{"GET", "/api/v2/nowhere", ``, 404},
	}
	for _, tt := range tests {
		got, body := raw(t, srv, tt.method, tt.path, srv.APIKey, tt.body)
		assert.Equal(t, tt.want, got, "%s %s %.80s: %v", tt.method, tt.path, tt.body, body)
	}
	resp := rawResponse(t, srv, "DELETE", "/api/v2/profile")
	assert.Equal(t, "GET, PATCH", resp.Header.Get("Allow"))

	status, body := raw(t, srv, "PATCH", "/api/v2/profile", srv.APIKey, `{"name":5}`)
	assert.Equal(t, 422, status)
	assert.NotContains(t, fmt.Sprint(body), "must be a JSON object", "a wrong-typed member is not a wrong body")
}

func TestMarketplaceRefusesAndAcceptsAsDescribed(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeCashback)
	check := `"check":{"amount":1000,"currency":"USD","selections":[]}`
	tests := []struct {
		body string
		want int
	}{
		{`{"transactionId":"t1","serialNumber":"` + card.ID + `",` + check + `}`, 200},
		{`{"transactionId":"t2","serialNumber":"` + card.ID + `","check":{"amount":1000,"selections":[]}}`, 400},
		{`{"transactionId":"t2n","serialNumber":"` + card.ID + `","check":{"amount":1000,"currency":null,"selections":[]}}`, 200},
		{`{"transactionId":"t2x","serialNumber":"` + card.ID + `","check":{"amount":1000,"currency":"usd","selections":[]}}`, 400},
		{`{"transactionId":"t3","serialNumber":"` + card.ID + `","check":{"amount":1000,"currency":"USD"}}`, 400},
		{`{"transactionId":"t4","serialNumber":"` + card.ID + `",` + check + `,"credentials":[]}`, 400},
		{`{"transactionId":"t5","phone":"15555559999","firstName":"New",` + check + `}`, 200},
	}
	for _, tt := range tests {
		got, body := rawApp(t, srv, "/api/v2/marketplace/accrue", tt.body)
		assert.Equal(t, tt.want, got, "%s: %v", tt.body, body)
	}
	customers, _, err := c.Customers.List(context.Background(), &loyalty.CustomerListOptions{Phone: "15555559999"})
	require.NoError(t, err)
	require.Len(t, customers, 1, "an accrual by an unknown phone registers the customer")
	cards, _, err := c.Cards.List(context.Background(), &loyalty.CardListOptions{CustomerID: customers[0].ID})
	require.NoError(t, err)
	require.Len(t, cards, 1, "and issues a card")
	assert.Equal(t, 0.5, cards[0].Balance.Balance, "5% of 10.00")

	all, _, err := c.Marketplace.ResolveCredentials(context.Background(), &loyalty.ResolveCredentialsRequest{Names: []string{}})
	require.NoError(t, err)
	assert.Len(t, all.Credentials, len(merchantCredentials), "no names: every credential")
}

func TestKeepsWhatItIsGiven(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	rt, _, err := c.Templates.CreateRewardTier(ctx, srv.TemplateID(loyalty.CardTypeReward), &loyalty.RewardTierCreateRequest{
		Name: "10% off", Type: loyalty.RewardTierPercent, Value: 10, Threshold: loyalty.Ptr(50), UsageLimit: loyalty.Ptr(3), ValueLimit: loyalty.Ptr(25.5)})
	require.NoError(t, err)
	assert.Equal(t, 3, rt.UsageLimit)
	assert.Equal(t, 25.5, rt.ValueLimit)

	_, _, err = c.Profile.Update(ctx, &loyalty.ProfileUpdateRequest{Contacts: loyalty.Ptr("Call 555-0100")})
	require.NoError(t, err)
	status, body := raw(t, srv, "GET", "/api/v2/profile", srv.APIKey, "")
	require.Equal(t, 200, status)
	assert.Equal(t, "Call 555-0100", body["data"].(map[string]any)["contacts"], "stored, and served beside the documented members")

	status, body = raw(t, srv, "PATCH", "/api/v2/profile/agency", srv.APIKey, `{"privacyPolicy":"We keep nothing.","agreement":"Be nice."}`)
	require.Equal(t, 200, status)
	data := body["data"].(map[string]any)
	assert.Equal(t, "We keep nothing.", data["privacyPolicy"])
	assert.Equal(t, "Be nice.", data["agreement"])
}

// TestEveryAllowedCellHasADefaultTemplate: with the default templates alone, every action
// the card-type table allows is accepted on some card, conditions included.
func TestEveryAllowedCellHasADefaultTemplate(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	ctx := context.Background()
	byCondition := map[loyalty.CardType]map[condition]string{
		loyalty.CardTypeStamp:      {always: TemplateStampVisits, visitMechanics: TemplateStampVisits, spendMechanics: TemplateStampSpend},
		loyalty.CardTypeReward:     {always: TemplateRewardPoints, pointsMechanics: TemplateRewardPoints, visitMechanics: TemplateRewardVisits, spendMechanics: TemplateRewardSpend},
		loyalty.CardTypeMembership: {always: TemplateMembershipOpen, withoutLimits: TemplateMembershipOpen, withLimits: TemplateMembershipLimited},
	}
	cells := 0
	for _, r := range actionRoutes {
		for ct, cond := range r.accepts {
			name := byCondition[ct][cond]
			if name == "" {
				name = firstOfType(ct)
			}
			id := srv.TemplateNamed(name)
			require.NotZero(t, id, "default template %q", name)
			cu, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "J", Email: loyalty.NewTransactionID() + "@example.com"})
			require.NoError(t, err)
			card, _, err := c.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: id})
			require.NoError(t, err)
			status, body := raw(t, srv, "POST", "/api/v2/cards/"+card.ID+"/"+r.endpoint, srv.APIKey, bodyFor(r.action))
			// A subtraction from a fresh card may be refused for its balance; never for its type.
			assert.NotEqual(t, "Irrelevant accrual type", body["message"], "%s on %s (%s): %d %v", r.endpoint, ct, name, status, body)
			assert.NotEqual(t, 422, status, "%s: the body is valid", r.endpoint)
			cells++
		}
	}
	assert.Equal(t, len(loyalty.ActionTable()), cells)
}

func firstOfType(ct loyalty.CardType) string {
	for _, tm := range DefaultTemplates() {
		if tm.Type == ct {
			return tm.Name
		}
	}
	return ""
}

// bodyFor is a valid body for an action. A fresh card may still refuse a subtraction for its
// balance, a 400 of another kind.
func bodyFor(a loyalty.Action) string {
	switch a {
	case loyalty.ActionAddAmount, loyalty.ActionAddPurchase, loyalty.ActionSubtractAmount, loyalty.ActionSubtractPurchase:
		return `{"amount":100}`
	case loyalty.ActionAddPoints, loyalty.ActionSubtractPoints:
		return `{"points":100}`
	case loyalty.ActionAddRewards, loyalty.ActionSubtractRewards:
		return `{"rewards":1}`
	case loyalty.ActionAddScores, loyalty.ActionSubtractScores:
		return `{"scores":1}`
	case loyalty.ActionAddStamps, loyalty.ActionSubtractStamps:
		return `{"stamps":1}`
	case loyalty.ActionAddVisits, loyalty.ActionSubtractVisits:
		return `{"visits":1}`
	case loyalty.ActionReceiveReward:
		return `{"id":999999}` // no such tier: a 404, after the type was judged
	case loyalty.ActionSetMembershipTier:
		return `{"tierId":999999,"period":"month"}`
	case loyalty.ActionSetExpirationDate:
		return `{"expiresAt":"2030-01-31T18:00:00+00:00"}`
	case loyalty.ActionRedeemCoupon:
		return ``
	}
	return `{}`
}

func TestRedirectFault(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", Fault{Redirect: "https://elsewhere.example/api/v2/cards/1/add-stamp", Status: 307, Times: 1})
	_, _, err := c.Cards.AddStamps(context.Background(), card.ID, 1, nil)
	var redirect *loyalty.RedirectError
	require.True(t, errors.As(err, &redirect), "%v", err)
	assert.Equal(t, 307, redirect.StatusCode)
	got, _, err := c.Cards.Get(context.Background(), card.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, got.Balance.NumberStampsTotal, "nothing applied")
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// rawResponse sends a bodiless request with the agency key and returns the answer, closed.
func rawResponse(t *testing.T, srv *Server, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp
}

// customFields has minItems 1 in the description: an empty list is refused, no list at all
// changes nothing.
func TestCardPatchNeedsAField(t *testing.T) {
	t.Parallel()
	srv, c := start(t)
	card := issue(t, srv, c, loyalty.CardTypeStamp)
	status, body := raw(t, srv, "PATCH", "/api/v2/cards/"+card.ID, srv.APIKey, `{"customFields":[]}`)
	assert.Equal(t, 422, status, "%v", body)
	status, _ = raw(t, srv, "PATCH", "/api/v2/cards/"+card.ID, srv.APIKey, `{}`)
	assert.Equal(t, 200, status)
	_, _, err := c.Cards.Update(context.Background(), card.ID, &loyalty.CardUpdateRequest{CustomFields: []loyalty.CustomFieldValue{}})
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "and the client refuses it before sending")
}
