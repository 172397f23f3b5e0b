// Tests of call.go's pipeline over a real transport: redirects, timeouts, certificates, bodies
// closed, lost DELETE answers.

package loyalty

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingServer counts every request it receives, whatever the path.
func countingServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("X-API-Key") != "" {
			t.Errorf("the API key reached %s", r.Host)
		}
		_, _ = w.Write([]byte(`{"data":{"id":"1-2-3","type":1}}`))
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	t.Parallel()
	otherHTTPS, otherHTTPSHits := countingServer(t, true)
	plainHTTP, plainHTTPHits := countingServer(t, false)

	var baseHits, sameHostTargetHits atomic.Int32
	var location atomic.Value
	base := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/elsewhere/") {
			sameHostTargetHits.Add(1)
			_, _ = w.Write([]byte(`{"data":{"id":"1-2-3","type":1}}`))
			return
		}
		baseHits.Add(1)
		status := 0 // the test names the status as the card id: /api/v2/cards/{status}[/add-stamp]
		_, _ = fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/api/v2/cards/"), "%d", &status)
		w.Header().Set("Location", location.Load().(string))
		w.WriteHeader(status)
	}))
	t.Cleanup(base.Close)

	// The caller's own client, with a redirect policy of its own that would follow anything.
	callers := base.Client()
	followAll := func(*http.Request, []*http.Request) error { return nil }
	callers.CheckRedirect = followAll
	c, err := NewClient(testKey, WithBaseURL(base.URL), WithHTTPClient(callers), WithRetryMax(3), WithRetryWait(0, 0))
	require.NoError(t, err)

	targets := map[string]string{
		"same host":  base.URL + "/elsewhere/card?token=abc",
		"other host": otherHTTPS.URL + "/api/v2/cards/1",
		"http://":    plainHTTP.URL + "/api/v2/cards/1",
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, method := range []string{"GET", "POST"} {
			for where, target := range targets {
				t.Run(fmt.Sprintf("%d %s to %s", status, method, where), func(t *testing.T) {
					baseHits.Store(0)
					location.Store(target)
					r := &call{method: method, path: fmt.Sprintf("cards/%d", status), out: new(Card)}
					if method == "POST" {
						r.path, r.body = r.path+"/add-stamp", map[string]int{"stamps": 1}
					}
					resp, err := c.do(context.Background(), r)

					require.Error(t, err, "a redirect never reads as success")
					var redirect *RedirectError
					require.ErrorAs(t, err, &redirect)
					assert.Equal(t, status, redirect.StatusCode)
					assert.Equal(t, strings.TrimSuffix(target, "?token=abc"), redirect.Location, "names the Location, without its query")
					assert.Equal(t, 1, redirect.Attempts, "never retried")
					assert.Equal(t, int32(1), baseHits.Load(), "one request, never repeated")
					assert.Equal(t, method == "POST" && status == 303, IsOutcomeUnknown(err), "303 to a POST says it may have acted")
					assert.NotContains(t, err.Error(), testKey)
					require.NotNil(t, resp)
					assert.Equal(t, status, resp.StatusCode)
				})
			}
		}
	}
	assert.Zero(t, otherHTTPSHits.Load(), "requests at another host")
	assert.Zero(t, plainHTTPHits.Load(), "requests over plain http")
	assert.Zero(t, sameHostTargetHits.Load(), "requests at the redirect's target on the same host")
	assert.NotNil(t, callers.CheckRedirect, "the caller's client is left as it was")
}

func TestDeleteWhoseAnswerWasLostIsASuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		first   func(w http.ResponseWriter) // the first attempt's answer
		wantErr error
	}{
		{"answer dropped after the delete", func(w http.ResponseWriter) { dropConnection(w) }, nil},
		{"503 from a gateway that may have passed it on", func(w http.ResponseWriter) { w.WriteHeader(503) }, nil},
		{"429: refused without acting", func(w http.ResponseWriter) { w.WriteHeader(429) }, ErrNotFound},
	}
	deletes := map[string]func(c *Client) (*Response, error){
		"Cards.Delete": func(c *Client) (*Response, error) { return c.Cards.Delete(context.Background(), "1-2-3") },
		"Customers.Delete": func(c *Client) (*Response, error) {
			return c.Customers.Delete(context.Background(), "1-2-3")
		},
		"Companies.Delete": func(c *Client) (*Response, error) { return c.Companies.Delete(context.Background(), 7) },
		"Templates.DeleteRewardTier": func(c *Client) (*Response, error) {
			return c.Templates.DeleteRewardTier(context.Background(), 7, 8)
		},
	}
	for _, tt := range tests {
		for name, del := range deletes {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				c, ts := setup(t)
				var n atomic.Int32
				ts.handle("DELETE /", func(w http.ResponseWriter, r *http.Request) {
					if n.Add(1) == 1 {
						tt.first(w)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusNotFound)
					_, _ = w.Write([]byte(`{"code":404,"message":"Not found","responseId":"r-1"}`))
				})
				resp, err := del(c)
				assert.Equal(t, int32(2), n.Load(), "sent twice")
				require.NotNil(t, resp)
				if tt.wantErr != nil {
					assert.ErrorIs(t, err, tt.wantErr)
					assert.False(t, resp.DeletedEarlier)
					return
				}
				require.NoError(t, err, "the first attempt deleted it")
				assert.True(t, resp.DeletedEarlier)
				assert.Equal(t, 2, resp.Attempts)
			})
		}
	}

	t.Run("404 on the first attempt stays not found", func(t *testing.T) {
		t.Parallel()
		c, ts := setup(t)
		ts.handle("DELETE /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":404,"message":"Card not found"}`))
		})
		resp, err := c.Cards.Delete(context.Background(), "1-2-3")
		assert.ErrorIs(t, err, ErrNotFound)
		require.NotNil(t, resp)
		assert.False(t, resp.DeletedEarlier)
	})
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// recordingTransport remembers every response body it hands out and whether it was closed.
type recordingTransport struct {
	next http.RoundTripper
	// afterResponse, when set, runs once a response has arrived (to cancel a context, say).
	afterResponse func()

	mu     sync.Mutex
	bodies []*recordedBody
}

type recordedBody struct {
	io.ReadCloser
	closed atomic.Bool
}

func (b *recordedBody) Close() error { b.closed.Store(true); return b.ReadCloser.Close() }

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b := &recordedBody{ReadCloser: resp.Body}
	resp.Body = b
	rt.mu.Lock()
	rt.bodies = append(rt.bodies, b)
	rt.mu.Unlock()
	if rt.afterResponse != nil {
		rt.afterResponse()
	}
	return resp, nil
}

func (rt *recordingTransport) allClosed(t *testing.T, want int) {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	require.Len(t, rt.bodies, want, "responses")
	for i, b := range rt.bodies {
		assert.True(t, b.closed.Load(), "body %d closed", i)
	}
}

func TestEveryResponseBodyIsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   func(t *testing.T) http.HandlerFunc
		cancel    bool // cancel the call's context as soon as the answer's headers arrive
		responses int
	}{
		{"success", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(fixtureBytes(t, "card.json")) }
		}, false, 1},
		{"API error", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(404)
				_, _ = w.Write(fixtureBytes(t, "error-not-found.html"))
			}
		}, false, 1},
		{"decode error", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"data": [`)) }
		}, false, 1},
		{"context cancelled after the headers", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(fixtureBytes(t, "card.json")) }
		}, true, 1},
		{"retried", func(t *testing.T) http.HandlerFunc {
			h, _ := statusSequence(t, nil, 503, 502)
			return h
		}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := &recordingTransport{next: http.DefaultTransport}
			if tt.cancel {
				rt.afterResponse = cancel
			}
			c, ts := setup(t, WithHTTPClient(&http.Client{Transport: rt}))
			ts.handle("GET /api/v2/cards/{id}", tt.handler(t))
			_, _, _ = c.Cards.Get(ctx, "1")
			rt.allClosed(t, tt.responses)
		})
	}
}

func TestRetryAfterTooLargeToRepresentIsNotHammered(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRetryMax(3))
	h, calls := statusSequence(t, map[string]string{"Retry-After": "9300000000"}, 429, 429, 429, 429)
	ts.handle("GET /api/v2/cards/{id}", h)
	_, _, err := c.Cards.Get(context.Background(), "1")
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, int32(1), calls.Load(), "longer than the cap: returned at once, not retried")
}

func TestCertificateErrorsAreNotRetriedNorUnknown(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("no request may pass a failed handshake")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	srv.StartTLS()                                   // its certificate is not trusted by the client
	t.Cleanup(srv.Close)

	c, err := NewClient(testKey, WithBaseURL(srv.URL), WithRetryMax(3), WithRetryWait(0, 0))
	require.NoError(t, err)
	_, _, err = c.Cards.Get(context.Background(), "1")
	require.Error(t, err)
	assert.Equal(t, int64(1), conns.Load(), "one handshake, no retry")

	conns.Store(0)
	_, _, err = c.Cards.AddStamps(context.Background(), "1", 1, &ActionOptions{CardType: CardTypeStamp})
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "a failed handshake sent nothing: %v", err)
	var reqErr *RequestError
	assert.ErrorAs(t, err, &reqErr)
	assert.Equal(t, int64(1), conns.Load(), "one handshake, no retry")
}

func TestPlainHTTPServerBehindHTTPSIsNotUnknown(t *testing.T) {
	t.Parallel()
	srv, conns := connCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("no request may be read from a TLS handshake")
	})
	c, err := NewClient(testKey, WithBaseURL(strings.Replace(srv.URL, "http://", "https://", 1)), WithRetryWait(0, 0))
	require.NoError(t, err)
	_, _, err = c.Cards.AddStamps(context.Background(), "1", 1, &ActionOptions{CardType: CardTypeStamp})
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "%v", err)
	assert.ErrorIs(t, err, http.ErrSchemeMismatch, "the error says what is wrong, not that a handshake looked odd")
	assert.Equal(t, int64(1), conns.Load(), "not retried")
}

func TestPerAttemptTimeoutReadsClearly(t *testing.T) {
	t.Parallel()
	// Long enough for loopback to write the request under any load; the handler holds every
	// attempt past it.
	c, ts := setup(t, WithTimeout(250*time.Millisecond), WithRetryMax(1))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ts.handle("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "per-attempt timeout of 250ms")
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 2, reqErr.Attempts, "a read is tried again")

	_, err = c.do(context.Background(), &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	assert.True(t, IsOutcomeUnknown(err), "%v", err)
	assert.Contains(t, err.Error(), "per-attempt timeout of 250ms")
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, 1, unknown.Attempts, "an accrual is not")
}

func TestPerAttemptTimeoutCoversTheBody(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithTimeout(50*time.Millisecond), WithRetryMax(0))
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(`{"data":`))
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // the rest never comes
	})
	start := time.Now()
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "the trickle did not hold the call")
}

func TestMarketplaceAccrueIsRetriedAfterA500(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithAppToken(testAppToken))
	var ids []string
	var mu sync.Mutex
	var n atomic.Int32
	ts.handle("POST /api/v2/marketplace/accrue", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		ids = append(ids, string(body))
		mu.Unlock()
		if n.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write(fixtureBytes(t, "transaction.json"))
	})
	_, resp, err := c.Marketplace.Accrue(context.Background(), &AccrueRequest{
		TransactionID: "tx-1", SerialNumber: "1-2-3",
		Check: Check{Amount: 10, Currency: "USD", Selections: []Selection{{DisplayName: "coffee", Quantity: 1, TotalPrice: 10}}},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	require.Len(t, ids, 2)
	assert.Equal(t, ids[0], ids[1], "the same transaction both times")
}

// perHour is a limit slow enough that a limited call can never be let through within a test's
// deadline: the limiter refuses it at once, without waiting, whatever the machine's load.
const perHour = 1.0 / 3600

func TestRateLimitBelongsToTheKey(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRateLimit(perHour, 1))
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err, "the first request takes the burst")

	same, err := c.ForAPIKey(testKey)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err = same.Cards.Get(ctx, "1")
	require.Error(t, err, "a client derived for the same key shares its limiter")
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 1, len(ts.requests()), "the limited call was not sent")

	other, err := c.ForAPIKey("sk_test_other_company")
	require.NoError(t, err)
	_, _, err = other.Cards.Get(ctx, "1")
	require.NoError(t, err, "another key has a limiter of its own")
	assert.Equal(t, 2, len(ts.requests()))
}

func TestRateLimitedPOSTThatGaveUpWasNotSent(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRateLimit(perHour, 1))
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
	opts := &ActionOptions{CardType: CardTypeStamp}
	_, _, err := c.Cards.AddStamps(context.Background(), "1", 1, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err = c.Cards.AddStamps(ctx, "1", 1, opts)
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "it never left: %v", err)
	assert.Len(t, ts.requests(), 1)
}

func TestCloseIdleConnectionsIsSharedByDerivedClients(t *testing.T) {
	t.Parallel()
	srv, conns := connCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	c := newTestClient(t, srv.URL)
	sub, err := c.ForAPIKey("sk_test_company")
	require.NoError(t, err)
	ctx := context.Background()
	_, _, err = c.Cards.Get(ctx, "1")
	require.NoError(t, err)
	_, _, err = sub.Cards.Get(ctx, "1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), conns.Load(), "one pool")
	sub.CloseIdleConnections()
	_, _, err = c.Cards.Get(ctx, "1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), conns.Load(), "the derived client closed the shared pool's idle connection")
	var zero *Client
	zero.CloseIdleConnections() // no panic
}
