// Every endpoint, every method's doc: what each sends, and that each says its endpoint, what
// it returns and its errors.

package loyalty

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testAppToken = "app_tok_51c9e2d0aa"

// endpoint is one API operation as the SDK calls it: what the test server answers, what the
// request must look like, and the call itself, which also checks what was decoded.
type endpoint struct {
	method, path string // as the description writes them, {id} and all
	status       int
	fixture      string
	sentPath     string // the path actually requested
	query        string // the exact query string
	body         string // the exact JSON body, "" for none
	app          bool   // authenticated by X-App-Token instead of X-API-Key
	call         func(t *testing.T, ctx context.Context, c *Client)
}

func endpoints() []endpoint {
	eps := []endpoint{
		// Cards
		{"GET", "/api/v2/cards", 200, "cards-list.json", "/api/v2/cards", "customerId=c-1&itemsPerPage=5&page=2&templateId=9", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				cards, resp, err := c.Cards.List(ctx, &CardListOptions{ListOptions: ListOptions{Page: 2, ItemsPerPage: 5}, CustomerID: "c-1", TemplateID: 9})
				require.NoError(t, err)
				assert.Equal(t, 4, resp.Meta.TotalItems)
				assert.Equal(t, "153111-927-114", cards[0].ID)
			}},
		{"POST", "/api/v2/cards", 201, "card-created.json", "/api/v2/cards", "", `{"customerId":"c-1","templateId":955806,"customFields":[{"id":1,"value":"v"}]}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				card, _, err := c.Cards.Create(ctx, &CardCreateRequest{CustomerID: "c-1", TemplateID: 955806, CustomFields: []CustomFieldValue{{1, "v"}}})
				require.NoError(t, err)
				assert.Equal(t, CardTypeCoupon, card.Type)
			}},
		{"GET", "/api/v2/cards/{id}", 200, "card.json", "/api/v2/cards/638920-251-210", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				card, _, err := c.Cards.Get(ctx, "638920-251-210")
				require.NoError(t, err)
				assert.Equal(t, 7, card.Balance.NumberStampsTotal)
			}},
		{"PATCH", "/api/v2/cards/{id}", 200, "card.json", "/api/v2/cards/638920-251-210", "", `{"customFields":[{"id":1,"value":"w"}]}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Cards.Update(ctx, "638920-251-210", &CardUpdateRequest{CustomFields: []CustomFieldValue{{1, "w"}}})
				require.NoError(t, err)
			}},
		{"DELETE", "/api/v2/cards/{id}", 200, "deleted-card.json", "/api/v2/cards/638920-251-210", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				resp, err := c.Cards.Delete(ctx, "638920-251-210")
				require.NoError(t, err)
				assert.Equal(t, "019bae92-ffff-7340-88bc-9e2f9d442689", resp.ResponseID)
			}},

		// Customers
		{"GET", "/api/v2/customers", 200, "customers-list.json", "/api/v2/customers", "email=j%40e.com&phone=1555", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				cs, _, err := c.Customers.List(ctx, &CustomerListOptions{Email: "j@e.com", Phone: "1555"})
				require.NoError(t, err)
				assert.Len(t, cs, 2)
			}},
		{"POST", "/api/v2/customers", 201, "customer.json", "/api/v2/customers", "", `{"firstName":"Jane","email":"j@e.com","gender":0,"dateOfBirth":"1990-04-23"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				cu, _, err := c.Customers.Create(ctx, &CustomerCreateRequest{FirstName: "Jane", Email: "j@e.com", Gender: Ptr(GenderUnknown), DateOfBirth: Date{1990, 4, 23}})
				require.NoError(t, err)
				assert.Equal(t, "Jane", cu.FirstName)
			}},
		{"GET", "/api/v2/customers/{id}", 200, "customer.json", "/api/v2/customers/c-1", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Customers.Get(ctx, "c-1")
				require.NoError(t, err)
			}},
		{"PATCH", "/api/v2/customers/{id}", 200, "customer.json", "/api/v2/customers/c-1", "", `{"id":"c-1","surname":"Roe"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Customers.Update(ctx, "c-1", &CustomerUpdateRequest{Surname: Ptr("Roe")})
				require.NoError(t, err)
			}},
		{"DELETE", "/api/v2/customers/{id}", 200, "deleted-card.json", "/api/v2/customers/c-1", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, err := c.Customers.Delete(ctx, "c-1")
				require.NoError(t, err)
			}},

		// Companies
		{"GET", "/api/v2/companies", 200, "companies-list.json", "/api/v2/companies", "itemsPerPage=100", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				cos, _, err := c.Companies.List(ctx, &CompanyListOptions{ListOptions{ItemsPerPage: 100}})
				require.NoError(t, err)
				assert.Equal(t, "ck_live_bean_9f8e7d6c5b4a", cos[0].APIKey.Reveal())
			}},
		{"POST", "/api/v2/companies", 201, "company.json", "/api/v2/companies", "",
			`{"tariffId":3,"tariffPeriod":"two_months","name":"Bean There Coffee","userName":"Ann","userSurname":"Lee","email":"owner@beanthere.example","phone":"+15555550100","password":"s3cret-pass","country":"US","language":"en"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				co, _, err := c.Companies.Create(ctx, &CompanyCreateRequest{Name: "Bean There Coffee", Email: "owner@beanthere.example", Phone: "+15555550100",
					Country: "US", UserName: "Ann", UserSurname: "Lee", Password: NewSecret("s3cret-pass"), TariffID: 3, TariffPeriod: TariffTwoMonths, Language: "en"})
				require.NoError(t, err)
				assert.Equal(t, 4821, co.ID)
			}},
		{"GET", "/api/v2/companies/{id}", 200, "company.json", "/api/v2/companies/4821", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				co, _, err := c.Companies.Get(ctx, 4821)
				require.NoError(t, err)
				assert.Equal(t, "Bean There Coffee", co.Name)
				assert.Equal(t, "America/Chicago", co.Extra.Timezone)
				require.NotNil(t, co.ExpiresAt)
				assert.Equal(t, 2027, co.ExpiresAt.Year())
			}},
		{"PATCH", "/api/v2/companies/{id}", 200, "company.json", "/api/v2/companies/4821", "", `{"name":"Bean Here","expiresAt":"2027-02-01T00:00:00+00:00"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Companies.Update(ctx, 4821, &CompanyUpdateRequest{Name: Ptr("Bean Here"), ExpiresAt: &Timestamp{Time: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)}})
				require.NoError(t, err)
			}},
		{"DELETE", "/api/v2/companies/{id}", 200, "deleted-company.json", "/api/v2/companies/4821", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, err := c.Companies.Delete(ctx, 4821)
				require.NoError(t, err)
			}},
		{"GET", "/api/v2/companies/{id}/sso-link", 200, "sso-link.json", "/api/v2/companies/4821/sso-link", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				l, _, err := c.Companies.SSOLink(ctx, 4821)
				require.NoError(t, err)
				assert.Equal(t, "https://app.example-agency.com/sso/4821?token=one-time", l.Link)
			}},
		{"POST", "/api/v2/companies/{id}/change-tariff", 200, "company.json", "/api/v2/companies/4821/change-tariff", "", `{"tariffId":5,"tariffPeriod":"year"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Companies.ChangeTariff(ctx, 4821, &ChangeTariffRequest{TariffID: 5, TariffPeriod: TariffYear})
				require.NoError(t, err)
			}},

		// Tariffs
		{"GET", "/api/v2/tariffs", 200, "tariffs-list.json", "/api/v2/tariffs", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				ts, _, err := c.Tariffs.List(ctx)
				require.NoError(t, err)
				require.Len(t, ts, 2)
				assert.Nil(t, ts[0].Prices)
				assert.Equal(t, 49.0, ts[1].Prices.Month)
			}},
		{"GET", "/api/v2/tariffs/{id}", 200, "tariff.json", "/api/v2/tariffs/3", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				tr, _, err := c.Tariffs.Get(ctx, 3)
				require.NoError(t, err)
				assert.Equal(t, TariffPrices{Month: 49, Quarter: 139.5, Year: 499}, *tr.Prices)
				assert.Equal(t, TariffLimits{Templates: 10, Locations: 5, Managers: 3, Integrations: 2}, tr.Limits)
				assert.True(t, tr.Options.ReferralProgram)
				assert.False(t, tr.Options.WhiteLabel)
			}},

		// Templates and reward tiers
		{"GET", "/api/v2/templates", 200, "templates-list.json", "/api/v2/templates", "page=3", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				ts, _, err := c.Templates.List(ctx, &TemplateListOptions{ListOptions{Page: 3}})
				require.NoError(t, err)
				assert.Equal(t, CardTypeReward, ts[0].Type, "type as a string")
				assert.Equal(t, CardTypeMembership, ts[1].Type, "type as a number")
				tier := ts[1].MembershipTiers[0]
				assert.Equal(t, []string{"Sauna", "Towels"}, tier.Benefits)
				assert.Equal(t, MembershipTierPricing{Price: 90.5, Limit: 20, Active: true, Recommended: true}, tier.MonthlyParameters)
			}},
		{"GET", "/api/v2/templates/{id}", 200, "template.json", "/api/v2/templates/955805", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				tm, _, err := c.Templates.Get(ctx, 955805)
				require.NoError(t, err)
				assert.Equal(t, CardTypeReward, tm.Type)
				assert.Equal(t, MechanicsSpend, tm.Mechanics.Kind())
				assert.Equal(t, 100, tm.RewardTiers[0].Threshold)
			}},
		{"POST", "/api/v2/templates/{templateId}/reward_tiers", 201, "reward-tier.json", "/api/v2/templates/955805/reward_tiers", "",
			`{"name":"10% off","type":2,"value":10,"threshold":50,"usageLimit":1,"valueLimit":25.5}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				rt, _, err := c.Templates.CreateRewardTier(ctx, 955805, &RewardTierCreateRequest{Name: "10% off", Type: RewardTierPercent, Value: 10,
					Threshold: Ptr(50), UsageLimit: Ptr(1), ValueLimit: Ptr(25.5)})
				require.NoError(t, err)
				assert.Equal(t, RewardTier{ID: 32, TemplateID: 955805, Name: "10% off", Type: RewardTierPercent, Threshold: 50, Value: 10, ValueLimit: 25.5, UsageLimit: 1}, *rt)
			}},
		{"DELETE", "/api/v2/templates/{templateId}/reward_tiers/{id}", 200, "deleted-tier.json", "/api/v2/templates/955805/reward_tiers/32", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, err := c.Templates.DeleteRewardTier(ctx, 955805, 32)
				require.NoError(t, err)
			}},

		// Pushes and SMS
		{"GET", "/api/v2/pushes", 200, "pushes-list.json", "/api/v2/pushes", "cardId=638920-251-210&endDate=2026-02-28&startDate=2026-02-01&templateId=955805", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				ps, _, err := c.Pushes.List(ctx, &PushListOptions{TemplateID: 955805, CardID: "638920-251-210", StartDate: Date{2026, 2, 1}, EndDate: Date{2026, 2, 28}})
				require.NoError(t, err)
				assert.Equal(t, "scheduled", ps[0].Status)
			}},
		{"POST", "/api/v2/pushes", 201, "push.json", "/api/v2/pushes", "", `{"message":"Double stamps today!","templateId":955805,"scheduledAt":"2026-02-01T09:00:00+00:00"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				p, _, err := c.Pushes.Send(ctx, &PushSendRequest{Message: "Double stamps today!", TemplateID: 955805, ScheduledAt: Timestamp{Time: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}})
				require.NoError(t, err)
				assert.Equal(t, 117, p.DeliveredAmount)
				assert.Equal(t, "", p.CardID, "null: every card of the template")
			}},
		{"GET", "/api/v2/pushes/{id}", 200, "push.json", "/api/v2/pushes/019c1111-2222-7000-8000-0000000000aa", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				p, _, err := c.Pushes.Get(ctx, "019c1111-2222-7000-8000-0000000000aa")
				require.NoError(t, err)
				assert.Equal(t, "Double stamps today!", p.Message)
			}},
		{"POST", "/api/v2/sms", 201, "sms.json", "/api/v2/sms", "", `{"customerId":"c-1","message":"Your reward is ready"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				sms, _, err := c.SMS.Send(ctx, &SMSSendRequest{CustomerID: "c-1", Message: "Your reward is ready"})
				require.NoError(t, err)
				assert.Equal(t, "sms-019c-77", sms.ID)
			}},

		// Operations history and statistics
		{"GET", "/api/v2/operations", 200, "operations-list.json", "/api/v2/operations",
			"cardId=638920-251-210&customerId=c-1&endDate=2026-01-31&itemsPerPage=1000&startDate=2026-01-01&templateId=955805", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				ops, _, err := c.Operations.List(ctx, &OperationListOptions{ListOptions: ListOptions{ItemsPerPage: 1000}, CardID: "638920-251-210",
					CustomerID: "c-1", TemplateID: 955805, StartDate: Date{2026, 1, 1}, EndDate: Date{2026, 1, 31}})
				require.NoError(t, err)
				op := ops[0]
				assert.Equal(t, 88001, op.ID)
				assert.Equal(t, 3, op.EventID)
				assert.Equal(t, 2.0, op.Amount)
				assert.Equal(t, 9, op.Balance)
				assert.Equal(t, 12.5, op.PurchaseSum)
				assert.Equal(t, 12, op.LocationID)
				assert.Equal(t, "till 3", op.Comment)
			}},
		{"GET", "/api/v2/statistics/revenue", 200, "revenue.json", "/api/v2/statistics/revenue", "companyId=4821&endDate=2026-01-31&startDate=2026-01-01", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				r, _, err := c.Statistics.Revenue(ctx, &RevenueOptions{CompanyID: 4821, StartDate: Date{2026, 1, 1}, EndDate: Date{2026, 1, 31}})
				require.NoError(t, err)
				assert.Equal(t, 5230.75, r.RevenueTotal)
				assert.Equal(t, []StatsPoint{{"2026-01-01", 100.25}, {"2026-01-02", 0}}, r.RevenueByDay)
				assert.Equal(t, 42.4, r.ROI)
			}},

		// Profile
		{"GET", "/api/v2/profile", 200, "profile.json", "/api/v2/profile", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				p, _, err := c.Profile.Get(ctx)
				require.NoError(t, err)
				assert.Equal(t, DateFormatSlashMDY, p.DateFormat)
			}},
		{"PATCH", "/api/v2/profile", 200, "profile.json", "/api/v2/profile", "", `{"timezone":"America/New_York","dateFormat":"MM/DD/YYYY","language":"en"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Profile.Update(ctx, &ProfileUpdateRequest{Timezone: Ptr("America/New_York"), DateFormat: Ptr(DateFormatSlashMDY), Language: Ptr("en")})
				require.NoError(t, err)
			}},
		{"GET", "/api/v2/profile/agency", 200, "agency-profile.json", "/api/v2/profile/agency", "", "", false,
			func(t *testing.T, ctx context.Context, c *Client) {
				p, _, err := c.Profile.GetAgency(ctx)
				require.NoError(t, err)
				assert.Equal(t, "@agency", p.Instagram)
				assert.Equal(t, "", p.Facebook)
			}},
		{"PATCH", "/api/v2/profile/agency", 200, "agency-profile.json", "/api/v2/profile/agency", "", `{"helpCenterLink":"https://help.agency.example","agreement":"v2"}`, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				_, _, err := c.Profile.UpdateAgency(ctx, &AgencyProfileUpdateRequest{HelpCenterLink: Ptr("https://help.agency.example"), Agreement: Ptr("v2")})
				require.NoError(t, err)
			}},

		// Marketplace
		{"POST", "/api/v2/marketplace/accrue", 200, "transaction.json", "/api/v2/marketplace/accrue", "",
			`{"transactionId":"pos-2026-000481","check":{"amount":1250,"currency":"USD","selections":[{"id":"sku-1","displayName":"Latte","price":625,"quantity":2,"totalPrice":1250}]},"phone":"+15555550142","credentials":[{"name":"storeId","value":"st-42"}]}`, true,
			func(t *testing.T, ctx context.Context, c *Client) {
				tx, resp, err := c.Marketplace.Accrue(ctx, &AccrueRequest{TransactionID: "pos-2026-000481", Phone: "+15555550142",
					Check:       Check{Amount: 1250, Currency: "USD", Selections: []Selection{{ID: "sku-1", DisplayName: "Latte", Price: Ptr(625), Quantity: 2, TotalPrice: 1250}}},
					Credentials: []Credential{{"storeId", NewSecret("st-42")}}})
				require.NoError(t, err)
				assert.Equal(t, "", resp.ResponseID, "no envelope")
				r := tx.Results[0]
				assert.Equal(t, CardTypeStamp, r.CardType)
				assert.Equal(t, 125, r.AccruedValue)
				assert.True(t, r.IsSuccess)
				assert.True(t, r.ReversedAt.IsZero())
			}},
		{"POST", "/api/v2/marketplace/reverse", 200, "transaction-reversed.json", "/api/v2/marketplace/reverse", "", `{"transactionId":"pos-2026-000481"}`, true,
			func(t *testing.T, ctx context.Context, c *Client) {
				tx, _, err := c.Marketplace.Reverse(ctx, &ReverseRequest{TransactionID: "pos-2026-000481"})
				require.NoError(t, err)
				assert.Equal(t, 2026, tx.Results[0].ReversedAt.Year())
			}},
		{"POST", "/api/v2/marketplace/resolve-credentials", 200, "credentials.json", "/api/v2/marketplace/resolve-credentials", "", `{"names":["storeId"]}`, true,
			func(t *testing.T, ctx context.Context, c *Client) {
				cr, _, err := c.Marketplace.ResolveCredentials(ctx, &ResolveCredentialsRequest{Names: []string{"storeId"}})
				require.NoError(t, err)
				assert.Equal(t, []Credential{{"storeId", NewSecret("st-42")}}, cr.Credentials)
			}},
	}
	// The 18 card actions, from the operations tests' table.
	for _, a := range Actions() {
		tc := actionCases[a]
		ct := a.CardTypes()[0]
		for _, t := range a.CardTypes() {
			if cond, _ := ActionCondition(a, t); cond == ConditionAlways {
				ct = t
				break
			}
		}
		opts := &ActionOptions{CardType: ct}
		if tc.accrual {
			opts.Comment, opts.PurchaseSum = "till 3", 12.5
		}
		eps = append(eps, endpoint{"POST", "/api/v2/cards/{id}/" + a.String(), 200, "card.json", "/api/v2/cards/638920-251-210/" + a.String(), "", tc.body, false,
			func(t *testing.T, ctx context.Context, c *Client) {
				card, _, err := tc.call(ctx, c.Cards, "638920-251-210", opts)
				require.NoError(t, err)
				assert.Equal(t, "638920-251-210", card.ID)
			}})
	}
	return eps
}

// TestEveryEndpoint calls every endpoint of the API and checks the request against the
// description and the decoded answer against the fixture. It fails if an endpoint of the
// description has no call here.
func TestEveryEndpoint(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	eps := endpoints()

	var covered []string
	for _, ep := range eps {
		covered = append(covered, ep.method+" "+ep.path)
	}
	sort.Strings(covered)
	wantOps := append(s.operations(), "POST /api/v2/companies/{id}/change-tariff") // from the docs page only
	sort.Strings(wantOps)
	require.Equal(t, wantOps, covered, "every endpoint of the API, once each")
	require.Len(t, covered, 54)

	for _, ep := range eps {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t, WithAppToken(testAppToken))
			ts.reply(ep.method+" "+ep.sentPath, ep.status, ep.fixture)
			ep.call(t, context.Background(), c)

			got := ts.only()
			assert.Equal(t, ep.method, got.Method)
			assert.Equal(t, ep.sentPath, got.Path)
			assert.Equal(t, ep.query, got.RawQuery)
			if ep.body == "" {
				assert.Empty(t, got.Body)
			} else {
				assert.JSONEq(t, ep.body, string(got.Body))
				assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			}
			assert.Equal(t, "application/json", got.Header.Get("Accept"))
			assert.True(t, strings.HasPrefix(got.Header.Get("User-Agent"), "loyalty-go/"))
			if ep.app {
				assert.Equal(t, testAppToken, got.Header.Get("X-App-Token"))
				assert.Empty(t, got.Header.Get("X-API-Key"), "the merchant key is not sent to the marketplace")
			} else {
				assert.Equal(t, testKey, got.Header.Get("X-API-Key"))
				assert.Empty(t, got.Header.Get("X-App-Token"))
			}
			op := s.operation(ep.method, ep.path)
			if ep.path == "/api/v2/companies/{id}/change-tariff" {
				return // from the docs page only: no description to check against
			}
			require.NotNil(t, op, "the description has no %s %s", ep.method, ep.path)
			assert.Empty(t, s.checkQuery(op, got.RawQuery), "query against the description")
			assert.Empty(t, s.checkBody(op, got.Body), "body against the description")
		})
	}
}

// apiLine finds the operations an "API:" line names.
var apiLine = regexp.MustCompile(`(GET|POST|PATCH|DELETE) (/api/(?:v2|automation)/[^\s,;]*)`)

// TestEveryMethodNamesItsEndpoint keeps the "// API: METHOD /api/v2/..." line on every
// service method, so that grepping a path from the API docs lands on its method, and checks
// that each named path is one the description (or the product docs) has.
func TestEveryMethodNamesItsEndpoint(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	seen := 0
	for _, f := range sourceFiles(t) {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok || !strings.HasSuffix(fmt.Sprint(star.X), "Service") {
				continue
			}
			name := fmt.Sprint(star.X) + "." + fn.Name.Name
			doc := fn.Doc.Text()
			i := strings.LastIndex(doc, "API: ")
			if !assert.True(t, i >= 0, "%s has no API: line", name) {
				continue
			}
			line := strings.SplitN(doc[i+5:], "\n", 2)[0]
			ops := apiLine.FindAllStringSubmatch(line, -1)
			if !assert.NotEmpty(t, ops, "%s: no endpoint in its API: line", name) {
				continue
			}
			seen++
			for _, op := range ops {
				method, path := op[1], op[2]
				if path == "/api/v2/companies/{id}/change-tariff" || strings.HasPrefix(path, "/api/automation/") {
					continue // in the product docs and the connectors only, not the description
				}
				assert.NotNil(t, spec.operation(method, path), "%s names %s %s, which the description lacks", name, method, path)
			}
		}
	}
	assert.GreaterOrEqual(t, seen, 66, "service methods found")
}

// TestEveryMethodSaysWhatItReturns keeps, on every exported method that can fail, a doc
// that says what it returns and an "Errors:" line naming what to expect: go doc answers
// without the source.
func TestEveryMethodSaysWhatItReturns(t *testing.T) {
	t.Parallel()
	seen := 0
	for _, f := range sourceFiles(t) {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() || fn.Type.Results == nil {
				continue
			}
			if recv := fn.Recv; recv != nil {
				if star, ok := recv.List[0].Type.(*ast.StarExpr); !ok || !ast.IsExported(fmt.Sprint(star.X)) {
					continue // a value receiver: Format, MarshalJSON and the like
				}
			}
			last := fn.Type.Results.List[len(fn.Type.Results.List)-1]
			if fmt.Sprint(last.Type) != "error" || strings.HasPrefix(fn.Name.Name, "Unmarshal") || fn.Name.Name == "Unwrap" {
				continue
			}
			name := fn.Name.Name
			if fn.Recv != nil {
				name = fmt.Sprint(fn.Recv.List[0].Type.(*ast.StarExpr).X) + "." + name
			}
			doc := fn.Doc.Text()
			seen++
			assert.Contains(t, doc, "Errors:", "%s names no errors", name)
			assert.Regexp(t, `(?i)\breturns?\b`, doc, "%s does not say what it returns", name)
		}
	}
	assert.GreaterOrEqual(t, seen, 76, "methods found")
}

// sourceFiles parses the package's own source files (not its tests), with their comments.
func sourceFiles(t *testing.T) []*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	return files
}
