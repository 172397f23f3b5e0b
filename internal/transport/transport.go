// Package transport sends one API request and reads its answer: the retry policy, the redirect
// rule, the connection pool, per-key rate limits, the per-attempt timeout and pooled body
// buffers. It knows nothing of the API's resources or its envelope. It reports what happened
// (status, attempts, whether the server may have acted) in its own values; the loyalty package
// turns them into its public errors.
package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/time/rate"
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
	// RateLimit is the most requests a second per rate key, RateBurst how many may go at
	// once; a RateLimit of 0 means no limit.
	RateLimit float64
	RateBurst int
	// Logger receives one record per retry. Nil logs nothing.
	Logger *slog.Logger
}

// Transport sends requests. It is safe for concurrent use; every client derived from one
// loyalty client shares one Transport, so they share its pool and its rate limiters.
type Transport struct {
	// rt sends one attempt. client is set only when the caller's client has a cookie jar,
	// which only http.Client knows how to apply.
	rt     http.RoundTripper
	client *http.Client

	timeout          time.Duration
	retryMax         int
	waitMin, waitMax time.Duration
	policy           policy
	maxBody          int64
	limits           *limiters
}

// New builds a Transport from cfg.
func New(cfg Config) *Transport {
	t := &Transport{
		timeout:  cfg.Timeout,
		retryMax: max(cfg.RetryMax, 0),
		waitMin:  cfg.WaitMin,
		waitMax:  cfg.WaitMax,
		maxBody:  cfg.MaxBody,
		policy:   policy{maxRetryAfter: cfg.MaxRetryAfter, scale: cfg.RetryAfterScale, logger: cfg.Logger},
	}
	if hc := cfg.HTTPClient; hc != nil {
		t.rt = hc.Transport
		if t.rt == nil {
			t.rt = http.DefaultTransport
		}
		if t.timeout == 0 {
			t.timeout = hc.Timeout
		}
		if hc.Jar != nil {
			// Never follow a redirect: net/http would send X-API-Key on to whatever host the
			// Location names, in clear if it says http://, and turn a POST into a GET that
			// reads as success. The attempt's deadline is ours, so no Timeout either.
			t.client = &http.Client{
				Transport:     t.rt,
				Jar:           hc.Jar,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
	} else {
		t.rt = newPool()
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
	if cfg.RateLimit > 0 {
		t.limits = newLimiters(cfg.RateLimit, cfg.RateBurst)
	}
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
	// AuthValue also selects the rate limiter: one per credential.
	AuthHeader, AuthValue string
	UserAgent             string
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

// Do sends r, retrying as its class allows, and reads the answer. The answer's body is always
// drained and closed before Do returns. A Result with a Response may come with an *Error
// when the body was lost after the status arrived.
func (t *Transport) Do(ctx context.Context, r *Request) (Result, error) {
	var limiter *rate.Limiter
	if t.limits != nil {
		limiter = t.limits.get(r.AuthValue)
	}
	class := r.Class.Resolve(r.Method)
	// earlier is set once an attempt that may have reached the server is sent again.
	earlier := false
	var first *http.Request
	for attempt := 1; ; attempt++ {
		resp, err := t.attempt(ctx, r, &first, limiter)
		if ctx.Err() != nil {
			// The caller has given up: whatever arrived is not read, nor anything retried.
			acted := err == nil || !notSent(err)
			if resp != nil {
				acted = mayHaveActed(resp.StatusCode)
				drainAndClose(resp.Body)
			}
			return Result{}, &Error{Err: ctx.Err(), Attempts: attempt, MayHaveActed: acted || earlier}
		}
		if attempt > t.retryMax || !t.policy.decide(class, resp, err) {
			if err != nil {
				return Result{}, &Error{Err: withoutURL(err), Attempts: attempt, MayHaveActed: !notSent(err) || earlier}
			}
			return t.read(resp, attempt, earlier)
		}
		if ambiguous(resp, err) {
			earlier = true
		}
		t.policy.logRetry(ctx, first, attempt, resp, err)
		wait := t.policy.backoff(t.waitMin, t.waitMax, attempt-1, resp)
		if resp != nil {
			drainAndClose(resp.Body)
		}
		if err := Sleep(ctx, wait); err != nil {
			// Unsafe requests are only retried when they were not applied, so only an
			// earlier ambiguous attempt (of a request safe to repeat) may have acted.
			return Result{}, &Error{Err: err, Attempts: attempt, MayHaveActed: earlier}
		}
	}
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

// Sleep waits d, or until ctx ends, and then reports ctx's error, if any. The retry loop and
// the loyalty package's recovery both wait this way.
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
	if c, ok := t.rt.(interface{ CloseIdleConnections() }); ok {
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
var ErrBodyTooLarge = errors.New("loyalty: response body too large")

func tooLarge(limit int64) error { return fmt.Errorf("%w (over %d bytes)", ErrBodyTooLarge, limit) }
