// Tests of WithRetryHooks (options.go): go-retryablehttp's logger and hooks see no secret and
// cannot repeat a state change.

package loyalty

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stalledTLS is an https address whose TLS handshake never completes: it accepts connections
// and never answers. It counts the connections made, and signals each on accepted.
func stalledTLS(t *testing.T) (string, *atomic.Int32, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns atomic.Int32
	accepted := make(chan struct{}, 16)
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return "https://" + l.Addr().String(), &conns, accepted
}

// A card action that never got past the TLS handshake sent nothing: it is retried, and in the
// end it is a plain failure, not an unknown outcome that would cost the caller a recovery.
func TestActionStalledInTheHandshakeWasNotSent(t *testing.T) {
	t.Parallel()
	base, conns, accepted := stalledTLS(t)
	c := newTestClient(t, base, WithTimeout(200*time.Millisecond), WithRetryMax(1))
	_, _, err := c.Cards.AddStamps(context.Background(), "1", 1, &ActionOptions{CardType: CardTypeStamp})
	require.Error(t, err)
	assert.False(t, IsOutcomeUnknown(err), "nothing left during a handshake: %v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 2, reqErr.Attempts, "not sent, so sent again")
	assert.Equal(t, int32(2), conns.Load())
	<-accepted
	<-accepted

	// The caller gives up during the handshake: still nothing sent.
	ctx, cancel := context.WithCancel(context.Background())
	c2 := newTestClient(t, base, WithTimeout(time.Hour))
	go func() {
		<-accepted // the handshake has begun
		cancel()
	}()
	_, _, err = c2.Cards.AddStamps(ctx, "1", 1, &ActionOptions{CardType: CardTypeStamp})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, IsOutcomeUnknown(err), "cancelled in the handshake: %v", err)
}

// A CheckRetry of the user's that always says "retry" is asked where repeating is safe (a
// read after a 500, which the SDK alone would not retry) and overruled where it is not (an
// accrual answered 500, or timed out after it was sent).
func TestRetryHookCannotRepeatAStateChange(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	always := func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		asked.Add(1)
		return true, nil
	}
	c, ts := setup(t, WithRetryHooks(RetryHooks{CheckRetry: always}), WithRetryMax(2), WithTimeout(250*time.Millisecond))
	var gets, posts, slow atomic.Int32
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) < 3 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	ts.handle("POST /api/v2/cards/{id}/add-stamp", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ts.handle("POST /api/v2/cards/{id}/add-visit", func(w http.ResponseWriter, r *http.Request) {
		slow.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx := context.Background()
	_, resp, err := c.Cards.Get(ctx, "1")
	require.NoError(t, err, "the hook retried a read the SDK alone would not")
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, int32(2), asked.Load())

	_, _, err = c.Cards.AddStamps(ctx, "1", 1, &ActionOptions{CardType: CardTypeStamp})
	assert.True(t, IsOutcomeUnknown(err), "%v", err)
	assert.Equal(t, int32(1), posts.Load(), "a 500 to an accrual is never sent again")
	_, _, err = c.Cards.AddVisits(ctx, "1", 1, &ActionOptions{CardType: CardTypeMultipass})
	assert.True(t, IsOutcomeUnknown(err), "%v", err)
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, 1, unknown.Attempts, "an accrual that timed out once sent is never sent again")
	assert.Equal(t, int32(2), asked.Load(), "the hook was not even asked about the accruals")
}

// hookLog is a retryablehttp.LeveledLogger and Logger that keeps what it is given.
type hookLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *hookLog) add(level, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+msg+" "+fmt.Sprint(kv...))
}
func (l *hookLog) Error(msg string, kv ...any)       { l.add("ERROR", msg, kv...) }
func (l *hookLog) Info(msg string, kv ...any)        { l.add("INFO", msg, kv...) }
func (l *hookLog) Debug(msg string, kv ...any)       { l.add("DEBUG", msg, kv...) }
func (l *hookLog) Warn(msg string, kv ...any)        { l.add("WARN", msg, kv...) }
func (l *hookLog) Printf(format string, args ...any) { l.add("PRINTF", fmt.Sprintf(format, args...)) }
func (l *hookLog) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// What a go-retryablehttp user hands in works, and sees no key, body or query string.
func TestRetryHooksSeeNoSecret(t *testing.T) {
	t.Parallel()
	for _, logger := range []any{&hookLog{}, retryablehttp.Logger(&printfOnly{&hookLog{}})} {
		var seen []string
		var mu sync.Mutex
		record := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
		c, ts := setup(t, WithRetryHooks(RetryHooks{
			Logger: logger,
			RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, attempt int) {
				b, _ := io.ReadAll(r.Body)
				record(fmt.Sprintf("request %d %s %s %v body=%q", attempt, r.Method, r.URL, r.Header, b))
			},
			ResponseLogHook: func(_ retryablehttp.Logger, resp *http.Response) {
				record(fmt.Sprintf("response %d %s %v", resp.StatusCode, resp.Request.URL, resp.Request.Header))
			},
		}))
		var n atomic.Int32
		ts.handle("GET /api/v2/customers", func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write(fixtureBytes(t, "customers-list.json"))
		})
		_, _, err := c.Customers.List(context.Background(), &CustomerListOptions{Email: "jane@example.com"})
		require.NoError(t, err)
		mu.Lock()
		all := strings.Join(seen, "\n")
		mu.Unlock()
		var logs string
		switch l := logger.(type) {
		case *hookLog:
			logs = l.all()
		case *printfOnly:
			logs = l.log.all()
		}
		assert.Contains(t, all, "request 1 GET", "the hooks were called for each attempt")
		assert.Contains(t, all, "response 503")
		assert.Contains(t, logs, "retrying", "the library's records reach the logger")
		for _, s := range []string{all, logs} {
			assert.NotContains(t, s, testKey)
			assert.NotContains(t, s, "jane@example.com", "no query string")
			assert.NotContains(t, s, "jane%40example.com", "no query string")
			assert.NotContains(t, strings.ToLower(s), "x-api-key")
		}
	}
	_, err := NewClient(testKey, WithRetryHooks(RetryHooks{Logger: "not a logger"}))
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

// printfOnly is a retryablehttp.Logger and nothing more.
type printfOnly struct{ log *hookLog }

func (p *printfOnly) Printf(format string, args ...any) { p.log.Printf(format, args...) }

// A log hook may set a header of its own or dump the request, as it would with
// go-retryablehttp alone: the request it gets has a header map, with every header but the
// credentials.
func TestRetryHooksGetAUsableRequest(t *testing.T) {
	t.Parallel()
	var dumps, traces []string
	var mu sync.Mutex
	c, ts := setup(t, WithUserAgent("till/3"), WithRetryHooks(RetryHooks{
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, attempt int) {
			r.Header.Set("X-Trace", fmt.Sprint(attempt)) // must not panic on a nil map
			dump, err := httputil.DumpRequestOut(r, false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dumps = append(dumps, "error: "+err.Error())
				return
			}
			dumps = append(dumps, string(dump))
			traces = append(traces, r.Header.Get("X-Trace"))
		},
		ResponseLogHook: func(_ retryablehttp.Logger, resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			dumps = append(dumps, "response to "+resp.Request.Header.Get("User-Agent"))
		},
	}))
	ts.reply("GET /api/v2/customers", http.StatusOK, "customers-list.json")
	_, _, err := c.Customers.List(context.Background(), &CustomerListOptions{Email: "jane@example.com"})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, dumps, 2)
	assert.Contains(t, dumps[0], "GET /api/v2/customers HTTP/1.1")
	assert.Contains(t, dumps[0], "User-Agent: loyalty-go/"+Version+" till/3")
	assert.Contains(t, dumps[0], "Accept: application/json")
	assert.NotContains(t, dumps[0], testKey)
	assert.NotContains(t, strings.ToLower(dumps[0]), "x-api-key")
	assert.NotContains(t, dumps[0], "jane")
	assert.Equal(t, []string{"0"}, traces, "go-retryablehttp counts attempts from 0")
	assert.Equal(t, "response to loyalty-go/"+Version+" till/3", dumps[1])
	assert.Empty(t, ts.only().Header.Get("X-Trace"), "a hook's copy is not what is sent")
}
