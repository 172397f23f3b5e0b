// No secret in anything printed, logged or returned (secret.go, scrub.go).

package loyalty

import (
	"regexp"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The secrets of the leak tests: keys and values in shapes that a scrub of the raw text alone
// would miss (a '/' that PHP writes as "\/", a '+').
const (
	leakAgencyKey  = "pk_live/Ab+9xYzAGENCY"
	leakCompanyKey = "pk_live/Cd+7wVuCOMPANY"
	leakAppToken   = "app_tok/En+5tSrAPP"
	leakPassword   = "hunter2-pass"
	leakCredential = "POS-SECRET-123"
)

var leakSecrets = []string{leakAgencyKey, leakCompanyKey, leakAppToken, leakPassword, leakCredential}

// capturingT is a testify TestingT that keeps the failure messages, to read what a test's
// failure would print.
type capturingT struct {
	mu  sync.Mutex
	out strings.Builder
}

func (c *capturingT) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(&c.out, format, args...)
}

// printed is everything the printers the issue names make of v: fmt's verbs, slog's text and
// JSON handlers, and testify's failure message and diff against a value unlike it.
func printed(v, unlike any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("value", "v", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("value", "v", v)
	b.Write(logs.Bytes())
	t := &capturingT{}
	assert.Equal(t, unlike, v)
	assert.Equal(t, v, unlike)
	b.WriteString(t.out.String())
	return b.String()
}

// containsSecret names the secret s shows, in any of the forms it could travel in.
func containsSecret(s string) string {
	for _, secret := range leakSecrets {
		for _, form := range secretForms(secret) {
			if strings.Contains(s, form) {
				return secret
			}
		}
	}
	return ""
}

// secretForms are the ways a secret may be written out: as it is, JSON-escaped by Go or by
// PHP (which writes "/" as "\/"), and hex-dumped as a testify diff of []byte would.
func secretForms(s string) []string {
	quoted, _ := json.Marshal(s)
	goEscaped := strings.Trim(string(quoted), `"`)
	return []string{s, goEscaped, strings.ReplaceAll(goEscaped, "/", `\/`), fmt.Sprintf("%x", s)}
}

// TestNoPrinterShowsASecret walks every exported type that can hold a secret through every
// printer, and finds none.
func TestNoPrinterShowsASecret(t *testing.T) {
	t.Parallel()
	// A ledger of its own: the dump below walks into it, and the process's default ledger
	// is written by other tests as it reads.
	client, err := NewClient(leakAgencyKey, WithAppToken(leakAppToken), WithLedger(NewMemoryLedger(0)))
	require.NoError(t, err)
	company := &Company{ID: 7, Name: "Bean There", APIKey: NewSecret(leakCompanyKey)}
	sub, err := client.ForCompany(company)
	require.NoError(t, err)
	cred := []Credential{{Name: "pos", Value: NewSecret(leakCredential)}}
	accrue := &AccrueRequest{Check: Check{Amount: 100, Currency: "USD"}, SerialNumber: "1-2-3", Credentials: cred}
	body := *accrue
	require.NoError(t, accrue.claim(&body)) // as Accrue leaves it: with what it recognises the purchase by
	values := map[string][2]any{
		"Client":                    {client, sub},
		"Client value":              {*client, *sub},
		"Secret":                    {NewSecret(leakCompanyKey), NewSecret("other")},
		"Company":                   {*company, Company{ID: 8}},
		"*Company":                  {company, &Company{ID: 8}},
		"CompanyCreateRequest":      {CompanyCreateRequest{Name: "N", Password: NewSecret(leakPassword)}, CompanyCreateRequest{}},
		"Credential":                {cred[0], Credential{Name: "pos"}},
		"AccrueRequest":             {*accrue, AccrueRequest{}},
		"*AccrueRequest":            {accrue, &AccrueRequest{}},
		"ReverseRequest":            {ReverseRequest{TransactionID: "t", Credentials: cred}, ReverseRequest{}},
		"ResolveCredentialsRequest": {ResolveCredentialsRequest{Credentials: cred}, ResolveCredentialsRequest{}},
		"ResolvedCredentials":       {ResolvedCredentials{Credentials: cred}, ResolvedCredentials{}},
	}
	for name, v := range values {
		if s := containsSecret(printed(v[0], v[1])); s != "" {
			t.Errorf("%s prints the secret %q", name, s)
		}
	}
}

// Every *Response carries the request that was sent, scrubbed: no credential, no body, no
// query string; a server that echoes the key, JSON-escaped or not, finds it masked in the
// error, its message and its body, and in the answer's headers.
func TestResponsesAndErrorsCarryNoSecret(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	d, err := c.ForAPIKey(leakCompanyKey)
	require.NoError(t, err)
	escaped := strings.ReplaceAll(leakCompanyKey, "/", `\/`)
	ts.handle("POST /api/v2/companies", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("X-Api-Key"))
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = fmt.Fprintf(w, `{"message":"key %s is not allowed","errors":{"password":["%s is weak, key %s"]}}`, escaped, leakPassword, leakCompanyKey)
	})
	ts.handle("GET /api/v2/customers", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(fixtureBytes(t, "customers-list.json"))
	})
	// An answer that is not the error shape is kept raw in APIError.Body; a success answer
	// is decoded into the caller's values. Either may echo the key as PHP escapes it.
	ts.handle("GET /api/v2/profile", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = fmt.Fprintf(w, "<html>upstream refused key %s</html>", escaped)
	})
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"code":200,"data":{"id":"1-2-3","customer":{"firstName":"%s"},"comment":"%s"}}`, escaped, leakCompanyKey)
	})
	_, resp, err := d.Companies.Create(context.Background(), &CompanyCreateRequest{Name: "N", Email: "e@example.com", Phone: "1",
		Country: "US", UserName: "A", UserSurname: "B", Password: NewSecret(leakPassword), TariffID: 1, TariffPeriod: TariffMonth})
	require.Error(t, err)
	require.NotNil(t, resp)
	_, listResp, err2 := d.Customers.List(context.Background(), &CustomerListOptions{Email: "jane@example.com"})
	require.NoError(t, err2)

	for _, r := range []*Response{resp, listResp} {
		req := r.Request
		require.NotNil(t, req)
		assert.Empty(t, req.Header.Get("X-Api-Key"))
		assert.Nil(t, req.GetBody, "no way back to the body")
		assert.Empty(t, req.URL.RawQuery, "no query string (it may carry an email)")
		dump, err := httputil.DumpRequest(req, true)
		require.NoError(t, err)
		assert.Empty(t, containsSecret(string(dump)), "DumpRequest of the response's request")
		assert.Empty(t, containsSecret(printed(r, &Response{})), "the response printed")
		assert.NotContains(t, printed(r, &Response{}), "jane@example.com")
	}
	assert.Empty(t, containsSecret(err.Error()), err.Error())
	assert.Empty(t, containsSecret(printed(err, fmt.Errorf("other"))), "the error printed")
	_, _, perr := d.Profile.Get(context.Background())
	var raw *APIError
	require.ErrorAs(t, perr, &raw)
	assert.NotEmpty(t, raw.Body)
	assert.Empty(t, containsSecret(printed(perr, fmt.Errorf("other"))), "a raw body kept in the error: %s", raw.Body)
	card, _, cerr := d.Cards.Get(context.Background(), "1-2-3")
	require.NoError(t, cerr)
	assert.Equal(t, "[redacted]", card.Customer.FirstName, "a success answer that echoes the key")
	assert.Empty(t, containsSecret(printed(card, &Card{})), "the card returned")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Message, "key [redacted] is not allowed")
}

// A printer that calls no method (fmt on an unexported field, spew as testify's diff runs
// it) walks a Secret by reflection. What it prints must not depend on the secret at all:
// knowing one secret of the process must not unlock another, nor tell its length.
func TestReflectionShowsNothingOfASecret(t *testing.T) {
	t.Parallel()
	type tenant struct{ co Company } // fmt cannot call Company.Format on an unexported field
	addresses := regexp.MustCompile(`0x[0-9a-f]+`)
	show := func(key string) string {
		v := tenant{co: Company{ID: 7, APIKey: NewSecret(key)}}
		walked := fmt.Sprintf("%v|%+v|%#v", v, v, v) + dump.Sdump(v) + spew.Sdump(v)
		return addresses.ReplaceAllString(walked, "0x?")
	}
	known, victim := show("lt_company_attacker_own_key"), show("lt_company_9f86d081884c7d65")
	assert.Equal(t, known, victim, "what reflection shows depends on the secret")
	assert.Equal(t, known, show("short"), "what reflection shows depends on the secret's length")
	assert.NotContains(t, known, "lt_company")
}
