// Tests of request.go: Client.Do.

package loyalty

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoReachesAnyEndpoint(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("POST /api/v2/loyalty-programs/{id}/archive", http.StatusOK, "card.json")

	var card Card
	resp, err := c.Do(context.Background(), &Request{
		Method: "POST",
		Path:   "/api/v2/loyalty-programs/7/archive",
		Query:  url.Values{"notify": {"false"}},
		Body:   map[string]any{"reason": "season over"},
	}, &card)
	require.NoError(t, err)
	assertRequest(t, ts.only(), "POST", "/api/v2/loyalty-programs/7/archive", "notify=false", `{"reason":"season over"}`)
	assert.Equal(t, "638920-251-210", card.ID, "data decoded into out")
	assert.NotEmpty(t, resp.ResponseID)
}

func TestDoUsesTheSameErrorsAndRetryRules(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := statusSequence(t, nil, 503, 503)
	ts.handle("/api/v2/things/{id}", h)

	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "things/1"}, nil)
	assert.True(t, IsOutcomeUnknown(err), "a POST is not repeated after a 503: %v", err)
	assert.Equal(t, int32(1), calls.Load())

	calls.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: "POST", Path: "things/1", SafeToRepeat: true}, nil)
	require.NoError(t, err, "marked safe to repeat: retried like a GET")
	assert.Equal(t, int32(3), calls.Load())

	ts.reply("GET /api/v2/missing", http.StatusNotFound, "error-not-found.html")
	_, err = c.Do(context.Background(), &Request{Method: "GET", Path: "missing"}, nil)
	assert.ErrorIs(t, err, ErrEndpointNotFound, "an endpoint the API does not have")
}

func TestDoRefusesPathsOutsideTheAPI(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	for _, p := range []string{"", "/", "cards/../../admin", "cards/%2e%2e/x", "cards//1", "https://evil.example/x",
		"cards?page=2", "cards#x", `cards\1`, "cards/%zz"} {
		_, err := c.Do(context.Background(), &Request{Method: "GET", Path: p}, nil)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", p)
	}
	for _, m := range []string{"", "get", "TRACE", "CONNECT"} {
		_, err := c.Do(context.Background(), &Request{Method: m, Path: "cards"}, nil)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", m)
	}
	_, err := c.Do(context.Background(), nil, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests(), "nothing sent")
}
