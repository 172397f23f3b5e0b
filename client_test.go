// Tests of client.go and options.go: construction, options, base URLs, keys.

package loyalty

import (
	"github.com/loyaltycards/loyalty-go/internal/transport"

	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientRefusesBlankKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "   ", "\t\n"} {
		_, err := NewClient(key)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", key)
	}
}

func TestBaseURLRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		insecure bool
		want     string // "" means refused
	}{
		{"https://api.digitalwallet.cards", false, "https://api.digitalwallet.cards"},
		{"https://api.digitalwallet.cards/", false, "https://api.digitalwallet.cards"},
		{"https://api.digitalwallet.cards/api/v2", false, "https://api.digitalwallet.cards"},
		{"https://api.digitalwallet.cards/api/v2/", false, "https://api.digitalwallet.cards"},
		{"https://api.digitalwallet.cards/api", false, ""}, // every call would go to /api/api/v2
		{"https://api.digitalwallet.cards/v2", false, ""},
		{"https://proxy.example.com/loyalty/", false, ""},
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"http://localhost:8080/api/v2", false, "http://localhost:8080"},
		{"http://[::1]:9000", false, "http://[::1]:9000"},
		{"http://api.digitalwallet.cards", false, ""},
		{"http://10.0.0.5:8080", false, ""},
		{"http://10.0.0.5:8080", true, "http://10.0.0.5:8080"},
		{"api.digitalwallet.cards", false, ""},
		{"/api/v2", false, ""},
		{"ftp://example.com", false, ""},
		{"https://user:pass@example.com", false, ""},
		{"https://example.com/?x=1", false, ""},
		{"https://example.com/#frag", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		opts := []Option{WithBaseURL(tt.url)}
		if tt.insecure {
			opts = append(opts, WithInsecureHTTP())
		}
		c, err := NewClient("k", opts...)
		if tt.want == "" {
			assert.ErrorIs(t, err, ErrInvalidArgument, tt.url)
			continue
		}
		require.NoError(t, err, tt.url)
		assert.Equal(t, tt.want, c.base, tt.url)
	}
}

func TestOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"nil http client": WithHTTPClient(nil),
		"nil logger":      WithLogger(nil),
		"negative retry":  WithRetryMax(-1),
		"min above max":   WithRetryWait(time.Second, time.Millisecond),
		"negative wait":   WithRetryWait(-1, time.Second),
		"zero timeout":    WithTimeout(0),
		"negative cap":    WithMaxRetryAfter(-time.Second),
		"two-line agent":  WithUserAgent("app/1\r\nX-Evil: 1"),
	} {
		_, err := NewClient("k", opt)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
}

func TestUserAgentSuffix(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithUserAgent("till-app/2.1"))
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err)
	assert.Equal(t, "loyalty-go/"+Version+" till-app/2.1", ts.only().Header.Get("User-Agent"))
}

func TestCallersHTTPClientIsWrappedNotChanged(t *testing.T) {
	t.Parallel()
	var seen int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen++
		return http.DefaultTransport.RoundTrip(r)
	})}
	orig := hc.Transport
	c, ts := setup(t, WithHTTPClient(hc), WithTimeout(time.Second))
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err)
	assert.Equal(t, 1, seen, "requests go through the caller's transport")
	assert.Equal(t, time.Duration(0), hc.Timeout, "the caller's client is not modified")
	assert.Equal(t, fmt.Sprintf("%p", orig), fmt.Sprintf("%p", hc.Transport))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientNeverPrintsItsKey(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testKey)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, c)
		assert.NotContains(t, out, testKey, verb)
		assert.NotContains(t, out, fmt.Sprintf("%x", testKey), verb)
	}
	assert.NotContains(t, c.String(), testKey)
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "c", c)
	assert.NotContains(t, buf.String(), testKey)
	assert.Contains(t, buf.String(), "[redacted]")
}

func TestKeyEchoedByServerIsScrubbed(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html>key " + r.Header.Get("X-API-Key") + " is not valid</html>"))
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, apiErr.Body, testKey)
	assert.Contains(t, apiErr.Body, "[redacted]")
	assert.NotContains(t, fmt.Sprintf("%+v", apiErr), testKey)
}

func TestNewClientFromEnv(t *testing.T) {
	// Not parallel: it sets environment variables.
	t.Setenv("LOYALTY_API_KEY", "")
	_, err := NewClientFromEnv()
	assert.ErrorIs(t, err, ErrInvalidArgument)

	t.Setenv("LOYALTY_API_KEY", testKey)
	t.Setenv("LOYALTY_BASE_URL", "http://127.0.0.1:1234/api/v2/")
	c, err := NewClientFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1234", c.base)

	c, err = NewClientFromEnv(WithBaseURL("https://other.example"))
	require.NoError(t, err)
	assert.Equal(t, "https://other.example", c.base, "explicit options win")
}

func TestResponseOverTheCapIsAnError(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(" ", 1<<20))
		_, _ = w.Write([]byte(`{"data":`))
		for range transport.DefaultMaxBody>>20 + 1 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	_, _, err := c.Cards.Get(context.Background(), "1")
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			card, resp, err := c.Cards.Get(context.Background(), fmt.Sprint(i))
			assert.NoError(t, err)
			assert.Equal(t, "638920-251-210", card.ID)
			assert.Equal(t, 1, resp.Attempts)
		}()
	}
	wg.Wait()
	assert.Len(t, ts.requests(), 32)
}

func TestLogsSayWhatHappenedWithoutSecrets(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, ts := setup(t, WithLogger(logger))
	h, _ := statusSequence(t, nil, 503)
	ts.handle("GET /api/v2/cards/{id}", h)
	_, _, err := c.Cards.Get(context.Background(), "42")
	require.NoError(t, err)
	out := logs.String()
	assert.Contains(t, out, "loyalty retry")
	assert.Contains(t, out, "status=503")
	assert.Contains(t, out, "path=/api/v2/cards/42")
	assert.Contains(t, out, "attempts=2")
	assert.NotContains(t, out, testKey)
	assert.NotContains(t, strings.ToLower(out), "x-api-key")
}

func TestLoggedDurationIsTheCalls(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelWarn} {
		var got []time.Duration
		logger := slog.New(recordHandler{level: level, record: func(r slog.Record) {
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "duration" {
					got = append(got, a.Value.Duration())
				}
				return true
			})
		}})
		c, ts := setup(t, WithLogger(logger), WithRetryMax(0))
		// A clock that moves 20ms while the server handles the request: the logged duration
		// is exactly that, not time since year 1, and not a part of the call.
		var mu sync.Mutex
		clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			clock = clock.Add(20 * time.Millisecond)
			mu.Unlock()
			if r.PathValue("id") == "bad" {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			_, _ = w.Write(fixtureBytes(t, "card.json"))
		})
		_, _, _ = c.Cards.Get(context.Background(), "42")
		_, _, _ = c.Cards.Get(context.Background(), "bad")
		want := map[slog.Level]int{slog.LevelDebug: 2, slog.LevelWarn: 1}[level]
		require.Len(t, got, want, "one record per call at or above %v", level)
		for _, d := range got {
			assert.Equal(t, 20*time.Millisecond, d, level)
		}
	}
}

// recordHandler hands every record at or above level to record.
type recordHandler struct {
	level  slog.Level
	record func(slog.Record)
}

func (h recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.record(r)
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func TestEmptySuccessBodyIsFine(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("DELETE /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	resp, err := c.Cards.Delete(context.Background(), "1-2-3")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}
