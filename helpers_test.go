// Helpers of the package's tests: a recording test server and its fixtures.

package loyalty

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/pipenet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is the API key every test client sends. newTestClient checks that it never shows
// up in a log line, and every error a request returns is logged.
const testKey = "sk_test_4f9a27c1e8b3d6"

// recorded is what a test server saw of one request.
type recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// testServer is an httptest server whose handlers record every request.
type testServer struct {
	t   *testing.T
	URL string
	mux *http.ServeMux

	mu   sync.Mutex
	reqs []recorded
}

// setup returns a client with zero retry waits pointed at a fresh test server, and the server.
func setup(t *testing.T, opts ...Option) (*Client, *testServer) {
	t.Helper()
	ts, srv := newTestServer(t)
	srv.Start()
	ts.URL = srv.URL
	return newTestClient(t, ts.URL, opts...), ts
}

// setupInMemory is setup on an in-memory network (internal/pipenet): the server and the client
// open no socket, so a test can run them in a testing/synctest bubble.
func setupInMemory(t *testing.T, opts ...Option) (*Client, *testServer) {
	t.Helper()
	ts, srv := newTestServer(t)
	l := pipenet.New()
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	ts.URL = srv.URL
	tr := l.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	return newTestClient(t, ts.URL, append([]Option{WithHTTPClient(&http.Client{Transport: tr})}, opts...)...), ts
}

// newTestServer returns a test server whose handlers record every request, not yet started.
func newTestServer(t *testing.T) (*testServer, *httptest.Server) {
	t.Helper()
	ts := &testServer{t: t, mux: http.NewServeMux()}
	outer := http.NewServeMux()
	outer.Handle("/api/v2/", ts.recordAll(ts.mux))
	outer.Handle("/api/automation/", ts.recordAll(ts.mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside /api/v2 and /api/automation: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewUnstartedServer(outer)
	t.Cleanup(srv.Close)
	return ts, srv
}

// newTestClient logs everything at debug level into a buffer that must never contain the key:
// every error that reaches the caller through a request is logged too, so this checks them.
func newTestClient(t *testing.T, baseURL string, opts ...Option) *Client {
	t.Helper()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		assert.NotContains(t, logs.String(), testKey, "the API key leaked into a log line")
	})
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append([]Option{WithBaseURL(baseURL), WithRetryWait(0, 0), WithRetryAfterScale(0.001), WithLogger(logger)}, opts...)
	c, err := NewClient(testKey, all...)
	require.NoError(t, err)
	return c
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a shared logger.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (ts *testServer) recordAll(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		ts.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// requests returns every request seen so far.
func (ts *testServer) requests() []recorded {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]recorded(nil), ts.reqs...)
}

// only returns the single request the server saw, failing the test if it saw another number.
func (ts *testServer) only() recorded {
	ts.t.Helper()
	reqs := ts.requests()
	require.Len(ts.t, reqs, 1, "requests received")
	return reqs[0]
}

// reply registers pattern (a ServeMux pattern such as "GET /api/v2/cards/{id}") to answer
// with status and the body of testdata/fixture.
func (ts *testServer) reply(pattern string, status int, fixture string) {
	body := fixtureBytes(ts.t, fixture)
	ts.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if filepath.Ext(fixture) == ".json" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// handle registers a handler of the test's own.
func (ts *testServer) handle(pattern string, h http.HandlerFunc) { ts.mux.HandleFunc(pattern, h) }

func fixtureBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// assertRequest checks the method, path, query, standard headers and JSON body of a request.
// wantBody "" means the request must have had no body.
func assertRequest(t *testing.T, got recorded, method, path, rawQuery, wantBody string) {
	t.Helper()
	assert.Equal(t, method, got.Method, "method")
	assert.Equal(t, path, got.Path, "path")
	assert.Equal(t, rawQuery, got.RawQuery, "query")
	assert.Equal(t, testKey, got.Header.Get("X-API-Key"), "X-API-Key")
	assert.Equal(t, "application/json", got.Header.Get("Accept"), "Accept")
	assert.Equal(t, "loyalty-go/"+Version, got.Header.Get("User-Agent"), "User-Agent")
	if wantBody == "" {
		assert.Empty(t, got.Body, "body")
		assert.Empty(t, got.Header.Get("Content-Type"), "Content-Type without a body")
		return
	}
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"), "Content-Type")
	assert.JSONEq(t, wantBody, string(got.Body), "body")
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// connCountingServer starts a server that counts the TCP connections it accepts.
func connCountingServer(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}
