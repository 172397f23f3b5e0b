// Tests of the smaller services: companies.go, marketplace.go, profile.go, pushes.go, sms.go,
// statistics.go, tariffs.go and templates.go.

package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const companyKey = "ck_live_bean_9f8e7d6c5b4a" // the apiKey in testdata/company.json

func TestCompanyKeyNeverPrints(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/companies/{id}", http.StatusOK, "company.json")
	co, _, err := c.Companies.Get(context.Background(), 4821)
	require.NoError(t, err)
	require.Equal(t, companyKey, co.APIKey.Reveal())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{co, *co, co.APIKey, []Company{*co}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, companyKey, "%s of %T", verb, v)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", co), "Bean There Coffee", "the rest still prints")
	assert.Contains(t, fmt.Sprintf("%+v", co), redacted)
	assert.NotContains(t, co.APIKey.String(), companyKey)

	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("company", "company", co, "key", co.APIKey, "value", *co)
	assert.NotContains(t, buf.String(), companyKey)

	// Stored as JSON, a company would come back without its key, and nothing would say so:
	// json.Marshal refuses, and says what to do; with the key cleared it marshals.
	_, err = json.Marshal(co)
	require.ErrorIs(t, err, ErrSecretNotMarshalled)
	assert.NotContains(t, err.Error(), companyKey)
	assert.Contains(t, err.Error(), "Reveal()")
	stored := *co
	stored.APIKey = Secret{}
	b, err := json.Marshal(stored)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"apiKey":""`)
	var back Company
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, stored, back)
	assert.Equal(t, "", Secret{}.String())
}

func TestCompanyPasswordNeverPrintsButIsSent(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/companies", http.StatusCreated, "company.json")
	req := &CompanyCreateRequest{Name: "N", Email: "e@x.y", Phone: "1", Country: "US", UserName: "A", UserSurname: "B",
		Password: NewSecret("hunter2-pass"), TariffID: 3, TariffPeriod: TariffMonth}
	assert.NotContains(t, fmt.Sprintf("%+v %#v", req, req), "hunter2-pass")
	_, _, err := c.Companies.Create(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, string(ts.only().Body), `"password":"hunter2-pass"`)
}

func TestActingAsACompany(t *testing.T) {
	t.Parallel()
	var keys []string
	srv, conns := connCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("X-API-Key"))
		switch r.URL.Path {
		case "/api/v2/companies/4821":
			_, _ = w.Write(fixtureBytes(t, "company.json"))
		default:
			_, _ = w.Write(fixtureBytes(t, "card.json"))
		}
	})
	agency := newTestClient(t, srv.URL)
	ctx := context.Background()

	co, _, err := agency.Companies.Get(ctx, 4821)
	require.NoError(t, err)
	sub, err := agency.ForCompany(co)
	require.NoError(t, err)
	_, _, err = sub.Cards.Get(ctx, "638920-251-210")
	require.NoError(t, err)
	_, _, err = agency.Cards.Get(ctx, "638920-251-210")
	require.NoError(t, err)

	assert.Equal(t, []string{testKey, companyKey, testKey}, keys, "each client sends its own key")
	assert.Equal(t, int64(1), conns.Load(), "the company client reuses the agency's pool")
	assert.NotContains(t, fmt.Sprintf("%+v", sub), companyKey)

	_, err = agency.ForCompany(&Company{ID: 1})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = agency.ForCompany(nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = agency.ForAPIKey(" ")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestAppClientReachesOnlyTheMarketplace(t *testing.T) {
	t.Parallel()
	_, ts := setup(t)
	ts.reply("POST /api/v2/marketplace/reverse", http.StatusOK, "transaction-reversed.json")
	app, err := NewAppClient(testAppToken, WithBaseURL(ts.URL))
	require.NoError(t, err)
	_, _, err = app.Marketplace.Reverse(context.Background(), &ReverseRequest{TransactionID: "tx-1"})
	require.NoError(t, err)
	got := ts.only()
	assert.Equal(t, testAppToken, got.Header.Get("X-App-Token"))
	assert.Empty(t, got.Header.Get("X-API-Key"))

	_, _, err = app.Cards.Get(context.Background(), "1")
	assert.ErrorIs(t, err, ErrInvalidArgument, "no merchant key: refused before sending")
	assert.Len(t, ts.requests(), 1)
	assert.NotContains(t, fmt.Sprintf("%#v", app), testAppToken)

	_, err = NewAppClient("")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestMarketplaceNeedsAnAppToken(t *testing.T) {
	t.Parallel()
	c, ts := setup(t) // a merchant client without WithAppToken
	_, _, err := c.Marketplace.Reverse(context.Background(), &ReverseRequest{TransactionID: "tx-1"})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests())
}

func TestMarketplaceErrorsShape(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.reply("POST /api/v2/marketplace/accrue", http.StatusForbidden, "error-marketplace.json")
	_, _, err := c.Marketplace.Accrue(context.Background(), &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: "USD"}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, "Authentication failed.", apiErr.Message)
	assert.False(t, IsOutcomeUnknown(err))
}

func TestAccrueIsRepeatedWithTheSameTransactionID(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken), WithRetryMax(3))
	var calls atomic.Int32
	ts.handle("POST /api/v2/marketplace/accrue", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1: // the accrual is applied, the answer lost
			conn, _, _ := http.NewResponseController(w).Hijack()
			_ = conn.Close()
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = w.Write(fixtureBytes(t, "transaction.json"))
		}
	})
	req := &AccrueRequest{Email: "jane@example.com", Check: Check{Amount: 500, Currency: "USD"}}
	tx, resp, err := c.Marketplace.Accrue(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, "pos-2026-000481", tx.TransactionID)

	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), req.TransactionID, "generated and written back")
	var ids []string
	for _, r := range ts.requests() {
		var body struct {
			TransactionID string `json:"transactionId"`
			Check         struct {
				Selections []Selection `json:"selections"`
			} `json:"check"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		ids = append(ids, body.TransactionID)
		assert.NotNil(t, body.Check.Selections, "selections are required: sent as []")
	}
	assert.Equal(t, []string{req.TransactionID, req.TransactionID, req.TransactionID}, ids, "one id for every attempt")
}

func TestAccrueKeepsTheCallersTransactionID(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.reply("POST /api/v2/marketplace/accrue", http.StatusOK, "transaction.json")
	req := &AccrueRequest{TransactionID: "pos-77", SerialNumber: "1-2-3", Check: Check{Currency: "USD"}}
	_, _, err := c.Marketplace.Accrue(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "pos-77", req.TransactionID)
	assert.Contains(t, string(ts.only().Body), `"transactionId":"pos-77"`)
	assert.NotEqual(t, NewTransactionID(), NewTransactionID())
}

func TestMarketplaceTolerance(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.handle("POST /api/v2/marketplace/reverse", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"transactionId":"t","results":[{"serialNumber":"1-2-3","templateId":"955805","cardType":"stamp"}]}`))
	})
	tx, _, err := c.Marketplace.Reverse(context.Background(), &ReverseRequest{TransactionID: "t"})
	require.NoError(t, err)
	assert.Equal(t, "1-2-3", tx.Results[0].SerialNumber)
	assert.Equal(t, CardTypeStamp, tx.Results[0].CardType)
}

func TestServicesRefuseBadArguments(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ctx := context.Background()
	good := CompanyCreateRequest{Name: "N", Email: "e", Phone: "p", Country: "US", UserName: "u", UserSurname: "s", Password: NewSecret("123456"), TariffID: 1, TariffPeriod: TariffTrial}
	with := func(f func(r *CompanyCreateRequest)) *CompanyCreateRequest { r := good; f(&r); return &r }
	calls := map[string]func() error{
		"company id 0":        func() error { _, _, err := c.Companies.Get(ctx, 0); return err },
		"company negative id": func() error { _, err := c.Companies.Delete(ctx, -4); return err },
		"company no name": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.Name = "" }))
			return err
		},
		"short password": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.Password = NewSecret("12345") }))
			return err
		},
		"long password": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.Password = NewSecret(strings.Repeat("x", 21)) }))
			return err
		},
		"bad period": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.TariffPeriod = "weekly" }))
			return err
		},
		"bad language": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.Language = "english" }))
			return err
		},
		"no tariff": func() error {
			_, _, err := c.Companies.Create(ctx, with(func(r *CompanyCreateRequest) { r.TariffID = 0 }))
			return err
		},
		"empty update": func() error { _, _, err := c.Companies.Update(ctx, 1, &CompanyUpdateRequest{}); return err },
		"tariff period": func() error {
			_, _, err := c.Companies.ChangeTariff(ctx, 1, &ChangeTariffRequest{TariffID: 2})
			return err
		},
		"tariff nil":  func() error { _, _, err := c.Companies.ChangeTariff(ctx, 1, nil); return err },
		"sso id":      func() error { _, _, err := c.Companies.SSOLink(ctx, 0); return err },
		"tariff id":   func() error { _, _, err := c.Tariffs.Get(ctx, 0); return err },
		"template id": func() error { _, _, err := c.Templates.Get(ctx, 0); return err },
		"tier no name": func() error {
			_, _, err := c.Templates.CreateRewardTier(ctx, 1, &RewardTierCreateRequest{Type: RewardTierAmount})
			return err
		},
		"tier bad type": func() error {
			_, _, err := c.Templates.CreateRewardTier(ctx, 1, &RewardTierCreateRequest{Name: "x", Type: 3})
			return err
		},
		"tier delete id":  func() error { _, err := c.Templates.DeleteRewardTier(ctx, 1, 0); return err },
		"push no message": func() error { _, _, err := c.Pushes.Send(ctx, &PushSendRequest{TemplateID: 1}); return err },
		"push no tmpl":    func() error { _, _, err := c.Pushes.Send(ctx, &PushSendRequest{Message: "m"}); return err },
		"push id":         func() error { _, _, err := c.Pushes.Get(ctx, ""); return err },
		"push dates reversed": func() error {
			_, _, err := c.Pushes.List(ctx, &PushListOptions{StartDate: Date{2026, 2, 2}, EndDate: Date{2026, 2, 1}})
			return err
		},
		"sms no customer": func() error { _, _, err := c.SMS.Send(ctx, &SMSSendRequest{Message: "m"}); return err },
		"sms no message":  func() error { _, _, err := c.SMS.Send(ctx, &SMSSendRequest{CustomerID: "c"}); return err },
		"ops bad date": func() error {
			_, _, err := c.Operations.List(ctx, &OperationListOptions{StartDate: Date{2026, 2, 30}})
			return err
		},
		"ops page size": func() error {
			_, _, err := c.Operations.List(ctx, &OperationListOptions{ListOptions: ListOptions{ItemsPerPage: 1001}})
			return err
		},
		"revenue dates": func() error {
			_, _, err := c.Statistics.Revenue(ctx, &RevenueOptions{StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 1, 1}})
			return err
		},
		"profile date format": func() error {
			_, _, err := c.Profile.Update(ctx, &ProfileUpdateRequest{DateFormat: Ptr(DateFormat("D/M/Y"))})
			return err
		},
		"profile phone": func() error { _, _, err := c.Profile.Update(ctx, &ProfileUpdateRequest{Phone: Ptr("123")}); return err },
		"profile nil":   func() error { _, _, err := c.Profile.Update(ctx, nil); return err },
		"agency phone": func() error {
			_, _, err := c.Profile.UpdateAgency(ctx, &AgencyProfileUpdateRequest{Phone: Ptr(strings.Repeat("1", 21))})
			return err
		},
		"accrue no card": func() error {
			_, _, err := c.Marketplace.Accrue(ctx, &AccrueRequest{Check: Check{Amount: 1}})
			return err
		},
		"accrue quantity": func() error {
			_, _, err := c.Marketplace.Accrue(ctx, &AccrueRequest{Phone: "1", Check: Check{Selections: []Selection{{Quantity: 0}}}})
			return err
		},
		"accrue negative": func() error {
			_, _, err := c.Marketplace.Accrue(ctx, &AccrueRequest{Phone: "1", Check: Check{Amount: -1}})
			return err
		},
		"reverse no id": func() error { _, _, err := c.Marketplace.Reverse(ctx, &ReverseRequest{}); return err },
	}
	for name, f := range calls {
		assert.ErrorIs(t, f(), ErrInvalidArgument, name)
	}
	var n int
	for _, err := range c.Operations.All(ctx, &OperationListOptions{EndDate: Date{2026, 13, 1}}) {
		assert.ErrorIs(t, err, ErrInvalidArgument)
		n++
	}
	assert.Equal(t, 1, n, "the iterator yields the refusal once")
	assert.Empty(t, ts.requests(), "nothing was sent")
}

func TestOperationsAllWalksTheHistory(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var calls atomic.Int32
	ts.handle("GET /api/v2/operations", func(w http.ResponseWriter, r *http.Request) {
		page := calls.Add(1)
		fmt.Fprintf(w, `{"data":[{"id":%d,"cardId":"x"}],"meta":{"currentPage":%d,"itemsPerPage":1,"totalItems":3}}`, page, page)
	})
	var ids []int
	for op, err := range c.Operations.All(context.Background(), &OperationListOptions{CardID: "x", ListOptions: ListOptions{ItemsPerPage: 1}}) {
		require.NoError(t, err)
		ids = append(ids, op.ID)
	}
	assert.Equal(t, []int{1, 2, 3}, ids)
	reqs := ts.requests()
	assert.Equal(t, "cardId=x&itemsPerPage=1&page=3", reqs[2].RawQuery)
}

func TestOtherIteratorsWalkPages(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/companies", http.StatusOK, "companies-list.json")
	ts.reply("GET /api/v2/templates", http.StatusOK, "templates-list.json")
	ts.reply("GET /api/v2/pushes", http.StatusOK, "pushes-list.json")
	ctx := context.Background()
	count := func(seq func(func(int, error) bool)) (n int) {
		for _, err := range seq {
			require.NoError(t, err)
			n++
		}
		return n
	}
	assert.Equal(t, 1, count(func(y func(int, error) bool) {
		for co, err := range c.Companies.All(ctx, nil) {
			if !y(co.ID, err) {
				return
			}
		}
	}))
	assert.Equal(t, 2, count(func(y func(int, error) bool) {
		for tm, err := range c.Templates.All(ctx, nil) {
			if !y(tm.ID, err) {
				return
			}
		}
	}))
	assert.Equal(t, 1, count(func(y func(int, error) bool) {
		for p, err := range c.Pushes.All(ctx, &PushListOptions{TemplateID: 1}) {
			if !y(p.TemplateID, err) {
				return
			}
		}
	}))
	assert.Len(t, ts.requests(), 3, "one page each, stopped by totalItems")
}

func TestAccrueChangesOnlyTheTransactionIDOfTheRequest(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.reply("POST /api/v2/marketplace/accrue", http.StatusOK, "transaction.json")
	req := &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: "USD"}}
	_, _, err := c.Marketplace.Accrue(context.Background(), req)
	require.NoError(t, err)
	assert.Nil(t, req.Check.Selections, "left as the caller set it")
	assert.NotEmpty(t, req.TransactionID, "written back, as documented")
	assert.Contains(t, string(ts.only().Body), `"selections":[]`)
}

func TestCompanyCreateNamesTheFirstMissingField(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	for range 20 {
		_, _, err := c.Companies.Create(context.Background(), &CompanyCreateRequest{})
		var argErr *ArgumentError
		require.ErrorAs(t, err, &argErr)
		assert.Equal(t, "name", argErr.Name)
	}
}

// The description makes check.currency required but nullable: the key is always sent, null
// when no currency is given, and a currency given must be an ISO 4217 code.
func TestAccrueSendsCurrencyAsTheDescriptionSays(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.handle("POST /api/v2/marketplace/accrue", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"transactionId":"t","results":[]}`))
	})
	for _, cur := range []string{"US", "usd", "USDT", "U$D"} {
		_, _, err := c.Marketplace.Accrue(context.Background(), &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: cur}})
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", cur)
	}
	assert.Empty(t, ts.requests(), "a malformed currency sends nothing")
	for cur, want := range map[string]string{"": `"currency":null`, "EUR": `"currency":"EUR"`} {
		_, _, err := c.Marketplace.Accrue(context.Background(), &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: cur}})
		require.NoError(t, err, "%q", cur)
		reqs := ts.requests()
		assert.Contains(t, string(reqs[len(reqs)-1].Body), `{"amount":100,`+want+`,"selections":[]}`, "%q", cur)
	}
}

func TestAnAccrueRequestBelongsToOnePurchase(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken), WithRetryMax(0))
	var n atomic.Int32
	ts.handle("POST /api/v2/marketplace/accrue", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(fixtureBytes(t, "transaction.json"))
	})
	ctx := context.Background()
	req := &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: "USD"}}
	_, _, err := c.Marketplace.Accrue(ctx, req)
	require.Error(t, err, "the first attempt failed")
	id := req.TransactionID
	require.NotEmpty(t, id)

	_, _, err = c.Marketplace.Accrue(ctx, req)
	require.NoError(t, err, "sent again for the same purchase, with the same id")
	reqs := ts.requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, string(reqs[1].Body), `"transactionId":"`+id+`"`)

	_, _, err = c.Marketplace.Accrue(ctx, req)
	assert.ErrorIs(t, err, ErrInvalidArgument, "reused for a second purchase after it was accrued")
	assert.Contains(t, err.Error(), "already accrued as transaction "+id)

	changed := &AccrueRequest{SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: "USD"}}
	n.Store(0)
	_, _, err = c.Marketplace.Accrue(ctx, changed)
	require.Error(t, err)
	changed.Check.Amount = 250 // the till reused the struct for the next customer
	_, _, err = c.Marketplace.Accrue(ctx, changed)
	assert.ErrorIs(t, err, ErrInvalidArgument, "a changed purchase under a generated id")
	assert.Len(t, ts.requests(), 3, "neither refusal was sent")

	own := &AccrueRequest{TransactionID: "pos-9", SerialNumber: "1-2-3", Check: Check{Amount: 100, Currency: "USD"}}
	_, _, err = c.Marketplace.Accrue(ctx, own)
	require.NoError(t, err)
	_, _, err = c.Marketplace.Accrue(ctx, own)
	require.NoError(t, err, "the caller's own id is theirs to repeat")
}

func TestResolveCredentialsWithoutNamesAsksForAll(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	ts.reply("POST /api/v2/marketplace/resolve-credentials", http.StatusOK, "credentials.json")
	_, _, err := c.Marketplace.ResolveCredentials(context.Background(), &ResolveCredentialsRequest{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"names":[]}`, string(ts.only().Body), "names is required: sent empty, meaning every credential")
}
