// The retry rules (call.go and internal/transport): what is repeated, after what, and what is
// not.

package loyalty

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusSequence answers with each status in turn, then 200 with a card, and counts calls.
func statusSequence(t *testing.T, headers map[string]string, statuses ...int) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	card := fixtureBytes(t, "card.json")
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			for k, v := range headers {
				w.Header().Set(k, v)
			}
			w.WriteHeader(statuses[i])
			_, _ = w.Write([]byte(`{"message":"try later"}`))
			return
		}
		_, _ = w.Write(card)
	}, &n
}

func TestRetryRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		statuses  []int
		headers   map[string]string
		wantCalls int32
		wantErr   error // nil: success after retries
		unknown   bool  // the error must say the outcome is unknown
	}{
		{"GET 503 is repeated", "GET", []int{503}, nil, 2, nil, false},
		{"GET 502 then 504 are repeated", "GET", []int{502, 504}, nil, 3, nil, false},
		{"GET 429 is repeated", "GET", []int{429}, nil, 2, nil, false},
		{"GET 500 is not repeated", "GET", []int{500}, nil, 1, ErrServerError, false},
		{"GET 404 is not repeated", "GET", []int{404}, nil, 1, ErrNotFound, false},
		{"GET gives up after RetryMax", "GET", []int{503, 503, 503, 503}, nil, 4, ErrServerError, false},
		{"DELETE 503 is repeated", "DELETE", []int{503}, nil, 2, nil, false},
		{"POST 429 with Retry-After is waited for and repeated", "POST", []int{429}, map[string]string{"Retry-After": "2"}, 2, nil, false},
		{"POST 429 asking longer than the cap is returned", "POST", []int{429}, map[string]string{"Retry-After": "3600"}, 1, ErrRateLimited, false},
		{"POST 503 is not repeated, outcome unknown", "POST", []int{503}, nil, 1, ErrServerError, true},
		{"POST 502 is not repeated, outcome unknown", "POST", []int{502}, nil, 1, ErrServerError, true},
		{"POST 500 is not repeated, outcome unknown", "POST", []int{500}, nil, 1, ErrServerError, true},
		{"POST 400 is not repeated and is known", "POST", []int{400}, nil, 1, ErrBadRequest, false},
		{"PATCH 429 is repeated", "PATCH", []int{429}, nil, 2, nil, false},
		{"PATCH 504 is not repeated", "PATCH", []int{504}, nil, 1, ErrServerError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t, WithRetryMax(3))
			h, calls := statusSequence(t, tt.headers, tt.statuses...)
			ts.handle("/api/v2/cards/{id}", h)

			resp, err := c.do(context.Background(), &call{method: tt.method, path: "cards/1", out: new(Card)})
			assert.Equal(t, tt.wantCalls, calls.Load(), "requests sent")
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, int(tt.wantCalls), resp.Attempts)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.unknown, IsOutcomeUnknown(err), "outcome unknown")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, int(tt.wantCalls), apiErr.Attempts)
			assert.Equal(t, tt.statuses[len(tt.statuses)-1], apiErr.StatusCode)
			require.NotNil(t, resp, "the response comes back with an API error")
		})
	}
}

func TestRetryAfterAboveCapIsReportedNotWaited(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithMaxRetryAfter(10*time.Second))
	h, calls := statusSequence(t, map[string]string{"Retry-After": "11"}, 429)
	ts.handle("GET /api/v2/cards/{id}", h)
	_, _, err := c.Cards.Get(context.Background(), "1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 11*time.Second, apiErr.RetryAfter)
	assert.Equal(t, int32(1), calls.Load())
}

func TestPOSTThatTimesOutIsNotRepeated(t *testing.T) {
	t.Parallel()
	// Long enough for loopback to write the request under any load; the handler holds it
	// past that.
	c, ts := setup(t, WithTimeout(250*time.Millisecond))
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ts.handle("POST /api/v2/cards/{id}/add-stamp", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, err := c.do(context.Background(), &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	require.Error(t, err)
	assert.True(t, IsOutcomeUnknown(err), "a timed-out POST may have been applied: %v", err)
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, 1, unknown.Attempts, "never repeated")
	assert.Equal(t, "/api/v2/cards/1/add-stamp", unknown.Path)
	select {
	case <-entered: // it reached the server: the outcome really was unknown
	case <-time.After(time.Minute):
		t.Fatal("the request never reached the server")
	}
}

func TestGETThatTimesOutIsRepeated(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithTimeout(250*time.Millisecond))
	var calls atomic.Int32
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	card, resp, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err)
	assert.Equal(t, "638920-251-210", card.ID)
	assert.Equal(t, 2, resp.Attempts)
}

// hijackAndClose reads the request, then drops the connection without answering: the server
// may have acted, the client cannot know.
func hijackAndClose(calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
}

func TestConnectionDroppedAfterRequest(t *testing.T) {
	t.Parallel()
	t.Run("POST is not repeated", func(t *testing.T) {
		t.Parallel()
		c, ts := setup(t)
		var calls atomic.Int32
		ts.handle("POST /api/v2/cards/{id}/add-stamp", hijackAndClose(&calls))
		_, err := c.do(context.Background(), &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
		assert.True(t, IsOutcomeUnknown(err), "%v", err)
		assert.Equal(t, int32(1), calls.Load())
	})
	t.Run("GET is repeated", func(t *testing.T) {
		t.Parallel()
		c, ts := setup(t, WithRetryMax(2))
		var calls atomic.Int32
		ts.handle("GET /api/v2/cards/{id}", hijackAndClose(&calls))
		_, _, err := c.Cards.Get(context.Background(), "1")
		require.Error(t, err)
		assert.False(t, IsOutcomeUnknown(err))
		assert.Equal(t, int32(3), calls.Load())
	})
}

// failingDial fails the first n round trips the way a refused dial does, then passes through.
type failingDial struct {
	n     atomic.Int32
	fails int32
	next  http.RoundTripper
}

func (f *failingDial) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(1) <= f.fails {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "connection refused"}}
	}
	return f.next.RoundTrip(r)
}

func TestPOSTIsRepeatedWhenTheConnectionWasNeverMade(t *testing.T) {
	t.Parallel()
	rt := &failingDial{fails: 2, next: http.DefaultTransport}
	c, ts := setup(t, WithHTTPClient(&http.Client{Transport: rt}))
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
	_, resp, err := fetch[Card](context.Background(), c, call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Len(t, ts.requests(), 1, "the server saw it once")
}

func TestRefusedConnectionIsNotOutcomeUnknown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	c := newTestClient(t, "http://"+addr, WithRetryMax(1))
	_, err = c.do(context.Background(), &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "a refused dial certainly sent nothing: %v", err)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// retrySignal is a logger option that signals every retry: the client logs "loyalty retry"
// just before it waits to send again, so a test can act in that wait without guessing when
// it comes.
func retrySignal() (Option, <-chan struct{}) {
	retries := make(chan struct{}, 16)
	logger := slog.New(recordHandler{level: slog.LevelInfo, record: func(r slog.Record) {
		if r.Message == "loyalty retry" {
			retries <- struct{}{}
		}
	}})
	return WithLogger(logger), retries
}

func TestContextCancelStopsWaiting(t *testing.T) {
	t.Parallel()
	signal, retries := retrySignal()
	c, ts := setup(t, WithRetryAfterScale(1), WithMaxRetryAfter(time.Hour), signal)
	h, calls := statusSequence(t, map[string]string{"Retry-After": "600"}, 503)
	ts.handle("GET /api/v2/cards/{id}", h)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-retries // waiting ten minutes to retry
		cancel()
	}()
	done := make(chan error, 1)
	go func() { _, _, err := c.Cards.Get(ctx, "1"); done <- err }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, int32(1), calls.Load())
	case <-time.After(time.Minute):
		t.Fatal("the call kept waiting after its context was cancelled")
	}
}

func TestFailedRequestKeepsThePool(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	srv, conns := connCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	c := newTestClient(t, srv.URL, WithRetryMax(1))
	ctx := context.Background()

	_, _, err := c.Cards.Get(ctx, "1")
	require.NoError(t, err)
	fail.Store(true)
	_, _, err = c.Cards.Get(ctx, "1") // the call gives up here; the pool must outlive it
	require.ErrorIs(t, err, ErrServerError)
	fail.Store(false)
	_, _, err = c.Cards.Get(ctx, "1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), conns.Load(), "one connection served all three calls")
}

func TestDoneContextSendsNothing(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.do(ctx, &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, IsOutcomeUnknown(err), "nothing left the machine")
	assert.Empty(t, ts.requests())
}

func TestPOSTStoppedWhileWaitingAfter429IsKnownNotApplied(t *testing.T) {
	t.Parallel()
	signal, retries := retrySignal()
	c, ts := setup(t, WithRetryAfterScale(1), WithMaxRetryAfter(time.Hour), signal)
	h, calls := statusSequence(t, map[string]string{"Retry-After": "600"}, 429)
	ts.handle("POST /api/v2/cards/{id}/add-stamp", h)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-retries // in the wait before the retry
		cancel()
	}()
	_, err := c.do(ctx, &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, IsOutcomeUnknown(err), "the only request sent was refused with 429: %v", err)
	assert.Equal(t, int32(1), calls.Load())
}

// cutOff answers 200 with a body shorter than its Content-Length, then drops the connection.
func cutOff(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"code":200,"data":{"id":"1-2`))
	http.NewResponseController(w).Flush()
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func TestAnswerCutOffAfterSuccess(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRetryMax(0))
	ts.handle("POST /api/v2/cards/{id}/add-stamp", cutOff)
	ts.handle("GET /api/v2/cards/{id}", cutOff)

	_, err := c.do(context.Background(), &call{method: "POST", path: "cards/1/add-stamp", body: map[string]int{"stamps": 1}})
	require.Error(t, err)
	assert.True(t, IsOutcomeUnknown(err), "a 200 whose body was lost: applied, answer lost: %v", err)

	_, _, err = c.Cards.Get(context.Background(), "1")
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "a read changes nothing")
}

func TestRetryLogsLeaveTheQueryStringOut(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt := &failingDial{fails: 1, next: http.DefaultTransport}
	c, ts := setup(t, WithHTTPClient(&http.Client{Transport: rt}), WithLogger(logger))
	ts.reply("GET /api/v2/cards", http.StatusOK, "cards-list.json")
	_, _, err := c.Cards.List(context.Background(), &CardListOptions{CustomerEmail: "jane.private@example.com"})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "loyalty retry")
	assert.NotContains(t, logs.String(), "jane.private")
}
