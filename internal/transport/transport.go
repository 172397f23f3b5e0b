// Package transport sends one API request and reads its answer. It knows nothing of the API's
// resources or its envelope, and reports what happened (status, attempts, whether the server
// may have acted) in its own values; the loyalty package turns them into its public errors.
//
// # What is go-retryablehttp's, and what is ours
//
// The retry loop is github.com/hashicorp/go-retryablehttp's: it counts the attempts, gives
// each attempt a fresh copy of the body, waits between attempts within the caller's context,
// and calls the request and response log hooks and a retryablehttp logger a user hands in.
// A well-kept library does that better than a loop we would keep correct ourselves.
//
// The rules are ours, plugged into the library's extension points, because a doubled stamp is
// lost money and the library's defaults retry a POST after a 5xx:
//
//   - CheckRetry is the retry table (retry.go): a state change that may have reached the
//     server is never sent again; 429 and a request that never left are retried; no 3xx is
//     followed or retried; a certificate error or a URL net/http cannot send is permanent. A
//     user's own CheckRetry (WithRetryHooks) is asked only where a retry is safe.
//   - "May have reached the server" is a fact, not a guess from error types: an httptrace hook
//     records whether net/http handed the attempt a connection. Before that (DNS, dial, TLS
//     handshake, waiting for the pool) nothing can have left. Only a RoundTripper that
//     reports no trace events at all is judged by its error's type.
//   - Backoff is exponential with jitter, or the server's Retry-After, capped and never
//     below the minimum wait; PrepareRetry waits for the rate limiter before every retry (the
//     first attempt waits in Do); ErrorHandler turns a final failure into an *Error.
//   - An attempt's deadline, its body included, is set by the RoundTripper the library's
//     http.Client sends through (attempt.go), which also holds a caller's RoundTripper to
//     http.Client's contract. Redirects are never followed: that http.Client's CheckRedirect
//     returns the 3xx as it is.
//
// The library's hooks receive no per-call state, so each call has its own
// retryablehttp.Client with the hooks bound to the call; they are pooled, so this costs no
// allocation. The library calls CloseIdleConnections on its http.Client after a failure; the
// attempt RoundTripper does not pass that on, since the pool is shared by every client of the
// process and closing it would cost every other call its connections. Transport's own
// CloseIdleConnections closes the pool when the caller asks.
package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// DefaultIdleConnsPerHost fits bulk work: net/http's default of 2 would make a client running
// dozens of requests at once open and close a connection for nearly every call.
const DefaultIdleConnsPerHost = 256

// Config is everything a Transport needs; the loyalty package fills it from its options.
type Config struct {
	// HTTPClient is the caller's client, or nil for a pooled transport of our own. Its
	// Transport, Timeout and Jar are used; its CheckRedirect is not, and it is never modified.
	HTTPClient *http.Client
	// Timeout bounds each attempt, answer body included. 0 keeps HTTPClient's own Timeout.
	Timeout time.Duration
	// RetryMax is how many times a failed request may be repeated.
	RetryMax int
	// WaitMin and WaitMax bound the backoff between attempts.
	WaitMin, WaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After waited for; a longer one ends the call.
	MaxRetryAfter time.Duration
	// RetryAfterScale multiplies every Retry-After wait; 0 means 1. Tests shrink it.
	RetryAfterScale float64
	// MaxBody caps an answer's body; 0 means DefaultMaxBody.
	MaxBody int64
	// Limiter, when set, is asked before every attempt, with the request's RateKey.
	Limiter Limiter
	// Logger receives one record per retry. Nil logs nothing.
	Logger *slog.Logger
	// Hooks are go-retryablehttp settings a user hands in.
	Hooks Hooks
}

// Limiter keeps requests within a rate: Wait returns once the caller may send one request
// under key, or an error when it cannot within ctx.
type Limiter interface {
	Wait(ctx context.Context, key string) error
}

// Transport sends requests. It is safe for concurrent use; every client derived from one
// loyalty client shares one Transport, so they share its pool and its rate limiter.
type Transport struct {
	// pool is where connections live; client is the http.Client every attempt goes through,
	// over the attempt RoundTripper.
	pool   http.RoundTripper
	client *http.Client

	retryMax         int
	waitMin, waitMax time.Duration
	policy           policy
	maxBody          int64
	limiter          Limiter
	hooks            Hooks
	calls            sync.Pool // *call
}

// New builds a Transport from cfg.
func New(cfg Config) *Transport {
	t := &Transport{
		retryMax: max(cfg.RetryMax, 0),
		waitMin:  cfg.WaitMin,
		waitMax:  cfg.WaitMax,
		maxBody:  cfg.MaxBody,
		limiter:  cfg.Limiter,
		hooks:    cfg.Hooks,
		policy:   policy{maxRetryAfter: cfg.MaxRetryAfter, scale: cfg.RetryAfterScale, logger: cfg.Logger},
	}
	timeout := cfg.Timeout
	var jar http.CookieJar
	if hc := cfg.HTTPClient; hc != nil {
		t.pool = hc.Transport
		if t.pool == nil {
			t.pool = http.DefaultTransport
		}
		if timeout == 0 {
			timeout = hc.Timeout
		}
		jar = hc.Jar
	} else {
		t.pool = newPool()
	}
	// Never follow a redirect: net/http would send X-API-Key on to whatever host the Location
	// names, in clear if it says http://, and turn a POST into a GET that reads as success.
	// The attempt's deadline is the attempt RoundTripper's, so no Timeout either.
	t.client = &http.Client{
		Transport:     &attempter{rt: t.pool, timeout: timeout},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if t.policy.scale <= 0 {
		t.policy.scale = 1
	}
	if t.policy.logger == nil {
		t.policy.logger = slog.New(slog.DiscardHandler)
	}
	if t.maxBody <= 0 {
		t.maxBody = DefaultMaxBody
	}
	t.calls.New = func() any { return newCall(t) }
	return t
}

// newPool is http.DefaultTransport (proxy from the environment, HTTP/2, dial and TLS
// timeouts) with a pool sized for many requests at once.
func newPool() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * DefaultIdleConnsPerHost
	t.MaxIdleConnsPerHost = DefaultIdleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	// The API's headers are a few hundred bytes; net/http would take 10 MB of them.
	t.MaxResponseHeaderBytes = 64 << 10
	return t
}

// Request is one API request, ready to send.
type Request struct {
	Method string
	// URL is absolute. It may carry a query string; errors and logs never show it.
	URL string
	// Body is the JSON body, or nil.
	Body  []byte
	Class Class
	// AuthHeader and AuthValue authenticate the request (X-Api-Key and the key, say).
	// AuthHeader in canonical form costs nothing to store.
	AuthHeader, AuthValue string
	// RateKey names the rate limit the request counts against: a digest of its credential,
	// never the credential.
	RateKey   string
	UserAgent string
}

// Result is an answer that arrived, whatever its status. The body has been read whole and the
// connection released; Body is valid until Release.
type Result struct {
	// Response has its Body replaced by http.NoBody.
	Response *http.Response
	Body     []byte
	Attempts int
	// EarlierMayHaveActed is set when an attempt before the last one may have reached the
	// server (its answer was lost, or it was a 5xx) and the request was sent again.
	EarlierMayHaveActed bool

	buf *buffer
}

// Release returns the body's buffer to the pool. Body must not be used after it.
func (r *Result) Release() {
	if r.buf != nil {
		r.buf.release()
		r.buf, r.Body = nil, nil
	}
}

// Error is a request that got no usable answer: no response at all, or a body that could not
// be read whole. Err never contains the URL.
type Error struct {
	Err      error
	Attempts int
	// MayHaveActed is set when the last attempt may have reached the server and been acted on.
	MayHaveActed bool
	// StatusCode is the status of an answer whose body was lost, or 0.
	StatusCode int
}

// Error is the failure's text, without the URL.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap gives the failure.
func (e *Error) Unwrap() error { return e.Err }

// jsonType is the value of Accept and Content-Type, shared by every request: net/http only
// reads it, and a RoundTripper that adds to it appends to a full slice, which copies.
var jsonType = []string{"application/json"}

// Do sends r, retrying as its class allows, and reads the answer. The answer's body is always
// drained and closed before Do returns. A Result with a Response may come with an *Error
// when the body was lost after the status arrived.
func (t *Transport) Do(ctx context.Context, r *Request) (Result, error) {
	c := t.calls.Get().(*call)
	defer t.calls.Put(c)
	c.start(ctx, r)

	if err := c.wait(ctx); err != nil {
		return Result{}, &Error{Err: err, Attempts: 1}
	}
	var body any
	if r.Body != nil {
		body = r.Body
	}
	actx := ctx
	if r.Method != http.MethodGet {
		// Whether an attempt got a connection decides whether it may have reached the
		// server. A read is repeated either way, so it needs no trace.
		actx = c.traced(ctx)
	}
	req, err := retryablehttp.NewRequestWithContext(actx, r.Method, r.URL, body)
	if err != nil {
		return Result{}, &Error{Err: &buildError{withoutURL(err)}, Attempts: 1}
	}
	// Keys in canonical form are stored directly rather than through Header.Set, which
	// would check (and for X-API-Key rewrite) each key on every request.
	h := req.Header
	if r.AuthHeader != "" {
		h[http.CanonicalHeaderKey(r.AuthHeader)] = []string{r.AuthValue}
	}
	h["Accept"] = jsonType
	h["User-Agent"] = []string{r.UserAgent}
	if r.Body != nil {
		h["Content-Type"] = jsonType
	}

	resp, err := c.rc.Do(req)
	var te *Error
	switch {
	case errors.As(err, &te):
		return Result{}, te // the ErrorHandler's verdict
	case ctx.Err() != nil:
		// The caller has given up: whatever arrived is not read, nor anything retried. An
		// answer in hand says by its status whether the server acted.
		acted := c.acted
		if resp != nil {
			acted = mayHaveActed(resp.StatusCode)
			drainAndClose(resp.Body)
		}
		return Result{}, &Error{Err: ctx.Err(), Attempts: max(c.attempts, 1), MayHaveActed: acted || c.earlier}
	case err != nil:
		return Result{}, &Error{Err: withoutURL(err), Attempts: max(c.attempts, 1), MayHaveActed: c.acted || c.earlier}
	}
	return t.read(resp, c.attempts, c.earlier)
}

// read reads the body of the answer Do settled on.
func (t *Transport) read(resp *http.Response, attempts int, earlier bool) (Result, error) {
	res := Result{Response: resp, Attempts: attempts, EarlierMayHaveActed: earlier}
	buf, err := readBody(resp, t.maxBody)
	if err != nil {
		drainAndClose(resp.Body)
	} else {
		_ = resp.Body.Close() // read to the end: nothing to drain
	}
	resp.Body = http.NoBody
	if err != nil {
		return res, &Error{Err: err, Attempts: attempts, MayHaveActed: mayHaveActed(resp.StatusCode) || earlier, StatusCode: resp.StatusCode}
	}
	res.buf, res.Body = buf, buf.Bytes()
	return res, nil
}

// mayHaveActed reads a status: a refusal (4xx) was not applied, any other answer may have been.
func mayHaveActed(status int) bool { return status < 400 || status >= 500 }

// Sleep waits d, or until ctx ends, and then reports ctx's error, if any. The loyalty
// package's recovery waits this way.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// CloseIdleConnections closes the pool's idle connections. Requests in flight are not
// affected; later ones open new connections.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.pool.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// withoutURL unwraps the *url.Error net/http adds: its text repeats the full URL, query
// string included.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ErrBodyTooLarge is the failure of an answer whose body is over the cap.
var ErrBodyTooLarge = errors.New("the body is over the cap")

func tooLarge(limit int64) error { return fmt.Errorf("%w of %d bytes", ErrBodyTooLarge, limit) }
