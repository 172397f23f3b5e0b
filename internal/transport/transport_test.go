package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripFunc is a RoundTripper written inline.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newTestTransport(rt http.RoundTripper, retryMax int) *Transport {
	return New(Config{HTTPClient: &http.Client{Transport: rt}, RetryMax: retryMax, MaxRetryAfter: time.Second})
}

func TestRetrySendsTheWholeBodyAgain(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, key, contentType string
		length                         int64
		body                           string
	}
	var (
		mu   sync.Mutex
		got  []seen
		fail = true
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Header.Get("X-App-Token"), r.Header.Get("Content-Type"), r.ContentLength, string(b)})
		if fail {
			fail = false
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	tr := New(Config{RetryMax: 2})
	defer tr.CloseIdleConnections()

	body := `{"transactionId":"t-1","amount":12.5}`
	res, err := tr.Do(context.Background(), &Request{Method: "POST", URL: srv.URL + "/accrue?x=1", Body: []byte(body),
		Class: Keyed, AuthHeader: "X-App-Token", AuthValue: "tok", UserAgent: "ua"})
	require.NoError(t, err)
	defer res.Release()
	assert.Equal(t, `{"ok":true}`, string(res.Body))
	assert.Equal(t, 2, res.Attempts)
	assert.True(t, res.EarlierMayHaveActed, "a 503 may have been passed on before it failed")
	want := seen{"POST", "/accrue?x=1", "tok", "application/json", int64(len(body)), body}
	assert.Equal(t, []seen{want, want}, got, "the retry is the same request, body and all")
}

func TestRetryBodyIsFreshForAnyRoundTripper(t *testing.T) {
	t.Parallel()
	// net/http's own transport would rewind a spent body through GetBody; a RoundTripper of
	// the caller's may not, so every attempt must bring a body of its own.
	var bodies []string
	tr := newTestTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		bodies = append(bodies, string(b))
		status := http.StatusServiceUnavailable
		if len(bodies) == 3 {
			status = http.StatusOK
		}
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	}), 2)
	res, err := tr.Do(context.Background(), &Request{Method: "POST", URL: "http://h/accrue", Body: []byte(`{"amount":1}`), Class: Keyed})
	require.NoError(t, err)
	res.Release()
	assert.Equal(t, []string{`{"amount":1}`, `{"amount":1}`, `{"amount":1}`}, bodies)
}

func TestMalformedURLIsNotRetried(t *testing.T) {
	t.Parallel()
	tr := newTestTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("a request that cannot be built reached the transport")
		return nil, errors.New("unreachable")
	}), 3)
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: "http://h/%zz?secret=1", Class: Idempotent})
	var te *Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, te.Attempts)
	assert.False(t, te.MayHaveActed)
	assert.NotContains(t, err.Error(), "secret", "the URL's query stays out of the error")
}

func TestRoundTripperContractIsEnforced(t *testing.T) {
	t.Parallel()
	t.Run("neither response nor error", func(t *testing.T) {
		tr := newTestTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), 0)
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: "http://h/x", Class: Idempotent})
		var te *Error
		require.ErrorAs(t, err, &te)
		assert.Contains(t, err.Error(), "neither a response nor an error")
	})
	t.Run("response without a body", func(t *testing.T) {
		tr := newTestTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 204, Header: http.Header{}}, nil
		}), 0)
		res, err := tr.Do(context.Background(), &Request{Method: "GET", URL: "http://h/x", Class: Idempotent})
		require.NoError(t, err)
		assert.Equal(t, 204, res.Response.StatusCode)
		assert.Empty(t, res.Body)
	})
	t.Run("response with an error", func(t *testing.T) {
		closed := false
		tr := newTestTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: closeFunc(func() { closed = true })}, errors.New("broken")
		}), 0)
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: "http://h/x", Class: Idempotent})
		assert.EqualError(t, err, "broken")
		assert.True(t, closed, "the stray body is closed")
	})
}

type closeFunc func()

func (closeFunc) Read([]byte) (int, error) { return 0, io.EOF }
func (f closeFunc) Close() error           { f(); return nil }

func TestCallerGivingUpWithAnAnswerInHand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		acted  bool
	}{{200, true}, {422, false}, {503, true}} {
		ctx, cancel := context.WithCancel(context.Background())
		closed := false
		tr := newTestTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
			cancel() // the caller gives up as the answer arrives
			return &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: closeFunc(func() { closed = true })}, nil
		}), 3)
		_, err := tr.Do(ctx, &Request{Method: "POST", URL: "http://h/x", Body: []byte(`{}`), Class: Unsafe})
		var te *Error
		require.ErrorAs(t, err, &te, tt.status)
		assert.ErrorIs(t, err, context.Canceled, tt.status)
		assert.Equal(t, 1, te.Attempts, tt.status)
		assert.Equal(t, tt.acted, te.MayHaveActed, "status %d", tt.status)
		assert.True(t, closed, "the unread answer is closed (status %d)", tt.status)
	}
}

func TestCookieJarOfTheCallersClientIsUsed(t *testing.T) {
	t.Parallel()
	var second string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("affinity"); err == nil {
			second = c.Value
		}
		http.SetCookie(w, &http.Cookie{Name: "affinity", Value: "node-7"})
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := New(Config{HTTPClient: &http.Client{Jar: jar}})
	defer tr.CloseIdleConnections()
	for range 2 {
		res, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/x", Class: Idempotent})
		require.NoError(t, err)
		res.Release()
	}
	assert.Equal(t, "node-7", second)
}

func TestJarDoesNotBringRedirectsBack(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/x" {
			t.Errorf("the redirect to %s was followed", r.URL.Path)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := New(Config{HTTPClient: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}})
	defer tr.CloseIdleConnections()
	res, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/x", Class: Idempotent})
	require.NoError(t, err)
	defer res.Release()
	assert.Equal(t, http.StatusFound, res.Response.StatusCode)
	assert.True(t, strings.HasSuffix(res.Response.Header.Get("Location"), "/elsewhere"))
}

func TestAttemptAddsNoDeadlineUnderAnEarlierOne(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		callerDeadline time.Duration
		own            bool
	}{{10 * time.Second, false}, {time.Hour, true}} {
		ctx, cancel := context.WithTimeout(context.Background(), tt.callerDeadline)
		var sent context.Context
		tr := New(Config{HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent = r.Context()
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})}, Timeout: time.Minute})
		res, err := tr.Do(ctx, &Request{Method: "GET", URL: "http://h/x", Class: Idempotent})
		require.NoError(t, err)
		res.Release()
		if tt.own {
			assert.True(t, sent != ctx, "the attempt's deadline comes first: it has a context of its own")
			d, _ := sent.Deadline()
			assert.WithinDuration(t, time.Now().Add(time.Minute), d, 5*time.Second)
		} else {
			assert.True(t, sent == ctx, "the caller's deadline comes first: no context of the attempt's own")
		}
		cancel()
	}
}

func TestAttemptTimeoutReadsTheSameThroughACookieJar(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := New(Config{HTTPClient: &http.Client{Jar: jar}, Timeout: 30 * time.Millisecond})
	defer tr.CloseIdleConnections()
	_, err = tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/x?token=s3cret", Class: Idempotent})
	var timeout *AttemptTimeoutError
	require.ErrorAs(t, err, &timeout)
	assert.EqualError(t, err, "no answer within the per-attempt timeout of 30ms")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
