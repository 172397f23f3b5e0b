// Tests of errors.go: every error shape the API sends, read into typed errors.

package loyalty

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorDecodingByStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        string
		contentType string
		sentinel    error
		message     string
		code        int
		responseID  string
		fields      []FieldError
		keepsBody   bool
	}{
		{"400 irrelevant accrual", 400, `{"code":400,"message":"Irrelevant accrual type","responseId":"r-400"}`, "application/json",
			ErrBadRequest, "Irrelevant accrual type", 400, "r-400", nil, false},
		{"400 visit already registered", 400, `{"message":"A visit has already been registered today"}`, "application/json",
			ErrBadRequest, "A visit has already been registered today", 0, "", nil, false},
		{"401 bad key", 401, `{"code":401,"message":"API key not found","responseId":"r-401"}`, "application/json",
			ErrUnauthorized, "API key not found", 401, "r-401", nil, false},
		{"403 marketplace shape", 403, `{"errors":["Authentication failed."]}`, "application/json",
			ErrForbidden, "Authentication failed.", 0, "", []FieldError{{Message: "Authentication failed."}}, false},
		{"404 HTML page", 404, "<!DOCTYPE html><html><body>Oops! An Error Occurred</body></html>", "text/html",
			ErrEndpointNotFound, "no such endpoint at URL/api/v2/cards/638920-251-210 (the server answered its HTML 404 page; check the base URL)", 0, "", nil, true},
		{"404 JSON", 404, `{"code":404,"message":"Card not found","responseId":"r-404"}`, "application/json",
			ErrNotFound, "Card not found", 404, "r-404", nil, false},
		{"409 duplicate customer", 409, `{"code":409,"message":"Customer already exists"}`, "application/json",
			ErrConflict, "Customer already exists", 409, "", nil, false},
		{"422 field map", 422, `{"code":422,"message":"Validation failed","errors":{"email":["not an email"],"firstName":"blank"}}`, "application/json",
			ErrValidation, "Validation failed", 422, "", []FieldError{{"email", "not an email"}, {"firstName", "blank"}}, false},
		{"422 violations list", 422, `{"detail":"2 violations","violations":[{"propertyPath":"phone","message":"too short"}]}`, "application/json",
			ErrValidation, "2 violations", 0, "", []FieldError{{"phone", "too short"}}, false},
		{"429", 429, `{"message":"Too many requests"}`, "application/json",
			ErrRateLimited, "Too many requests", 0, "", nil, false},
		{"500 empty body", 500, ``, "", ErrServerError, "Internal Server Error", 0, "", nil, true},
		{"502 text", 502, `bad gateway`, "text/plain", ErrServerError, "Bad Gateway", 0, "", nil, true},
		{"JSON without a message", 418, `{"unexpected":true}`, "application/json", nil, "I'm a teapot", 0, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t, WithRetryMax(0))
			ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			_, resp, err := c.Cards.Get(context.Background(), "638920-251-210")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, strings.Replace(tt.message, "URL", ts.URL, 1), apiErr.Message)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.responseID, apiErr.ResponseID)
			assert.Equal(t, tt.fields, apiErr.FieldErrors)
			assert.Equal(t, "GET", apiErr.Method)
			assert.Equal(t, "/api/v2/cards/638920-251-210", apiErr.Path)
			assert.Equal(t, 1, apiErr.Attempts)
			if tt.keepsBody {
				assert.Equal(t, tt.body, apiErr.Body)
			} else {
				assert.Empty(t, apiErr.Body)
			}
			if tt.sentinel != nil {
				assert.ErrorIs(t, err, tt.sentinel)
			}
			for _, other := range []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrEndpointNotFound, ErrConflict, ErrRateLimited, ErrServerError} {
				if other != tt.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
			require.NotNil(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.responseID, resp.ResponseID)
		})
	}
}

func TestAPIErrorMessageIsOneLine(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 400, Message: "Irrelevant accrual type", ResponseID: "r-1", Method: "POST", Path: "/api/v2/cards/1/add-stamp"}
	assert.Equal(t, "loyalty: POST /api/v2/cards/1/add-stamp: 400 Irrelevant accrual type (responseId r-1)", e.Error())
}

func TestHTMLErrorBodyIsTruncated(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/nowhere", http.StatusNotFound, "error-not-found.html")
	_, err := c.do(context.Background(), &call{method: "GET", path: "nowhere"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrEndpointNotFound)
	assert.False(t, IsNotFound(err), "no such endpoint is not no such card")
	assert.Equal(t, ts.URL+"/api/v2/nowhere", apiErr.URL)
	assert.True(t, strings.HasPrefix(apiErr.Body, "<!DOCTYPE html>"))
	assert.Equal(t, maxErrorBody+len("…"), len(apiErr.Body))
	assert.NotContains(t, apiErr.Error(), "<html>", "the one-line message leaves the page out")
}

func TestErrorRetryAfterIsKept(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRetryMax(0))
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 4*time.Second, apiErr.RetryAfter)
	assert.True(t, IsRateLimited(err))
}

func TestDecodeErrorKeepsStatusAndResponseID(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"responseId":"r-dec","data":["not","a","card"]}`))
	})
	_, resp, err := c.Cards.Get(context.Background(), "1")
	var decErr *DecodeError
	require.ErrorAs(t, err, &decErr)
	assert.Equal(t, "loyalty.Card", decErr.What)
	assert.Equal(t, 200, decErr.StatusCode)
	assert.Equal(t, "r-dec", decErr.ResponseID)
	assert.Contains(t, err.Error(), "decoding loyalty.Card")
	assert.Equal(t, "r-dec", resp.ResponseID)
}

func TestDecodeErrorOnInvalidJSON(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"data":{"id":"1"`))
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	var decErr *DecodeError
	require.ErrorAs(t, err, &decErr)
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr))
}

func TestOneOddFieldDoesNotCostTheAnswer(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"data":{"balance":{"bonusBalance":"x","numberStampsTotal":4.0},"companyId":"154435","id":"1-2-3","type":"stamp","templateId":9}}`))
	})
	card, resp, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err)
	assert.Equal(t, "1-2-3", card.ID)
	assert.Equal(t, CardTypeStamp, card.Type)
	assert.Equal(t, 4, card.Balance.NumberStampsTotal, "4.0 is a whole number")
	assert.Equal(t, 9, card.TemplateID, "fields after the odd ones are still read")
	assert.Equal(t, 154435, card.CompanyID, "a number sent as a string is read")
	assert.Equal(t, 0, card.Balance.BonusBalance, "the unreadable field is left zero")
	assert.Equal(t, []UnreadField{{Path: "data.balance.bonusBalance", Reason: "want a whole number that fits int, got a string"}}, resp.UnreadFields,
		"and reported, without its value")
}

func TestOutcomeUnknownErrorText(t *testing.T) {
	t.Parallel()
	e := &OutcomeUnknownError{Method: "POST", Path: "/api/v2/cards/1/add-point", Attempts: 1, Err: context.DeadlineExceeded}
	assert.Contains(t, e.Error(), "outcome unknown")
	assert.ErrorIs(t, e, ErrOutcomeUnknown)
	assert.ErrorIs(t, e, context.DeadlineExceeded)
}

func TestErrorCodeSentAsAString(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"code":"400","message":"Bad card","responseId":"r-1"}`))
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Code)
	assert.Equal(t, "Bad card", apiErr.Message)
}

// A 422 says why: the field errors it holds are in its message, a few of them, each short,
// on one line.
func TestAPIErrorSaysWhichFieldsFailed(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 422, Message: "Validation failed", Method: "POST", Path: "/api/v2/companies", ResponseID: "r-2",
		FieldErrors: []FieldError{{"tariffId", "Tariff not found."}}}
	assert.Equal(t, "loyalty: POST /api/v2/companies: 422 Validation failed: tariffId: Tariff not found. (responseId r-2)", e.Error())

	e.FieldErrors = []FieldError{{"a", "one"}, {"", "no field named"}, {"c", strings.Repeat("x", 300) + "\nnext line"}, {"d", "four"}, {"e", "five"}}
	msg := e.Error()
	assert.Contains(t, msg, "Validation failed: a: one; no field named; c: xxx")
	assert.Contains(t, msg, "…; and 2 more (responseId r-2)")
	assert.NotContains(t, msg, "\n")
	assert.Less(t, len(msg), 400, "bounded")

	e.Message, e.FieldErrors = "tariffId: Tariff not found.", []FieldError{{"tariffId", "Tariff not found."}}
	assert.Equal(t, "loyalty: POST /api/v2/companies: 422 tariffId: Tariff not found. (responseId r-2)", e.Error(),
		"a message that is the field error already is not repeated")
}

// An action on a card that does not exist names the action asked for, not only the GET the
// client made to learn the card's type; errors.Is still says not found.
func TestActionOnAnUnknownCardNamesTheAction(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":404,"message":"Card not found"}`))
	})
	_, _, err := c.Cards.RedeemCoupon(context.Background(), "999-999-999", nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "loyalty: redeem-coupon on card 999-999-999: "), err.Error())
	assert.Contains(t, err.Error(), "404 Card not found")
	assert.ErrorIs(t, err, ErrNotFound)
	var apiErr *APIError
	assert.ErrorAs(t, err, &apiErr)
}
