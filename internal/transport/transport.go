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

	"github.com/hashicorp/go-retryablehttp"
)

// DefaultIdleConnsPerHost fits bulk work: net/http's default of 2 would make a client running
// dozens of requests at once open and close a connection for nearly every call.
const DefaultIdleConnsPerHost = 256

// Config is everything a Transport needs; the loyalty package fills it from its options.
type Config struct {
	// HTTPClient is the caller's client, or nil for a pooled transport of our own. It is
	// copied, never modified.
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
	rc      *retryablehttp.Client
	maxBody int64
	limits  *limiters
}

// New builds a Transport from cfg.
func New(cfg Config) *Transport {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // a copy: the caller's client is not ours to change
	}
	rt := hc.Transport
	if rt == nil {
		if cfg.HTTPClient != nil {
			rt = http.DefaultTransport
		} else {
			rt = newPool()
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = hc.Timeout
	}
	// The attempt's deadline travels in its context (see roundTripper), so net/http needs no
	// timer of its own for it.
	hc.Timeout = 0
	hc.Transport = &roundTripper{next: rt, timeout: timeout}
	// Never follow a redirect: net/http would send X-API-Key on to whatever host the Location
	// names, in clear if it says http://, and turn a POST into a GET that reads as success.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	scale := cfg.RetryAfterScale
	if scale <= 0 {
		scale = 1
	}
	p := &policy{maxRetryAfter: cfg.MaxRetryAfter, scale: scale, logger: logger}
	maxBody := cfg.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	t := &Transport{
		rc: &retryablehttp.Client{
			HTTPClient:     &hc,
			Logger:         nil, // it would print URLs to stderr; retries are logged through slog
			RetryWaitMin:   cfg.WaitMin,
			RetryWaitMax:   cfg.WaitMax,
			RetryMax:       cfg.RetryMax,
			CheckRetry:     p.checkRetry,
			Backoff:        p.backoff,
			ErrorHandler:   retryablehttp.PassthroughErrorHandler,
			RequestLogHook: countAttempt,
		},
		maxBody: maxBody,
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
	// AuthHeader and AuthValue authenticate the request (X-API-Key and the key, say).
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
	st := &callState{Context: ctx, class: r.Class}
	if t.limits != nil {
		st.limiter = t.limits.get(r.AuthValue)
	}
	var body any
	if r.Body != nil {
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(st, r.Method, r.URL, body)
	if err != nil {
		return Result{}, &Error{Err: withoutURL(err)}
	}
	if r.AuthHeader != "" {
		req.Header.Set(r.AuthHeader, r.AuthValue)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", r.UserAgent)
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := t.rc.Do(req)
	if err != nil {
		if resp != nil {
			// retryablehttp hands back the last answer with the error (a context that
			// ended after the headers arrived): it is ours to close.
			drainAndClose(resp.Body)
		}
		return Result{}, &Error{Err: withoutURL(err), Attempts: st.attempts, MayHaveActed: st.mayHaveActed && !notSent(err)}
	}
	res := Result{Response: resp, Attempts: st.attempts, EarlierMayHaveActed: st.earlierMayHaveActed}
	buf, err := readBody(resp, t.maxBody)
	if err != nil {
		drainAndClose(resp.Body)
	} else {
		_ = resp.Body.Close() // read to the end: nothing to drain
	}
	resp.Body = http.NoBody
	if err != nil {
		// A refusal (4xx) was not applied; any other answer may have been.
		acted := resp.StatusCode < 400 || resp.StatusCode >= 500
		return res, &Error{Err: err, Attempts: st.attempts, MayHaveActed: acted, StatusCode: resp.StatusCode}
	}
	res.buf, res.Body = buf, buf.Bytes()
	return res, nil
}

// CloseIdleConnections closes the pool's idle connections. Requests in flight are not
// affected; later ones open new connections.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.rc.HTTPClient.Transport.(*roundTripper).next.(interface{ CloseIdleConnections() }); ok {
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
