package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// call is one request's way through the library's loop: a retryablehttp.Client whose hooks
// are this call's methods, the trace that tells whether an attempt got a connection, and what
// the attempts so far have shown. Calls are pooled, each made once with its hooks bound: a
// call made afresh costs 8 allocations more (the client, its four hooks, the trace and its two
// closures), which would put every request above the go-retryablehttp twin's count
// (BENCHMARKS.md, "What each kept optimisation buys").
type call struct {
	t     *Transport
	rc    *retryablehttp.Client
	trace httptrace.ClientTrace

	ctx      context.Context
	class    Class
	rateKey  string
	attempts int
	// acted is set when the last attempt may have been acted on: it reached the server and
	// was not refused (a 4xx). earlier is set when an attempt before it may have been, and
	// the request was sent again.
	acted, earlier bool
	lastErr        error

	// getConn and gotConn are the trace of the current attempt: net/http looked for a
	// connection, and got one.
	getConn, gotConn atomic.Bool
}

func newCall(t *Transport) *call {
	c := &call{t: t}
	c.rc = &retryablehttp.Client{
		HTTPClient:   t.client,
		RetryWaitMin: t.waitMin,
		RetryWaitMax: t.waitMax,
		RetryMax:     t.retryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: c.giveUp,
		PrepareRetry: c.prepareRetry,
	}
	t.hooks.install(c.rc)
	c.trace = httptrace.ClientTrace{
		GetConn: func(string) { c.getConn.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { c.gotConn.Store(true) },
	}
	return c
}

// start readies the call for r.
func (c *call) start(ctx context.Context, r *Request) {
	c.ctx = ctx
	c.class = r.Class.Resolve(r.Method)
	c.rateKey = r.RateKey
	c.attempts, c.acted, c.earlier, c.lastErr = 0, false, false, nil
	c.getConn.Store(false)
	c.gotConn.Store(false)
}

// traced adds the call's trace to ctx.
func (c *call) traced(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &c.trace)
}

// wait waits for the rate limiter, before an attempt.
func (c *call) wait(ctx context.Context) error {
	if c.t.limiter == nil {
		return nil
	}
	if err := c.t.limiter.Wait(ctx, c.rateKey); err != nil {
		return &rateWaitError{err}
	}
	return nil
}

// reachedServer tells whether a failed attempt may have reached the server: once net/http
// has handed it a connection, bytes may have left; before that (DNS, dial, the TLS handshake,
// the wait for the pool) none can have. A RoundTripper that reports no trace events at all is
// judged by its error's type.
func (c *call) reachedServer(err error) bool {
	switch {
	case c.gotConn.Load():
		return true
	case c.getConn.Load():
		return false
	}
	return !notSent(err)
}

// checkRetry is the library's CheckRetry: the SDK's retry table, and a user's CheckRetry
// where a retry is safe.
func (c *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	c.attempts++
	reached := err == nil || c.reachedServer(err)
	c.acted = reached && (err != nil || mayHaveActed(resp.StatusCode))
	c.lastErr = err
	if ctx.Err() != nil || c.attempts > c.t.retryMax {
		return false, nil
	}
	retry := c.t.policy.decideReached(c.class, resp, err, reached)
	if user := c.t.hooks.CheckRetry; user != nil && c.safeToRepeat(resp, err) {
		retry, _ = user(ctx, scrubbedResponse(resp), err)
	}
	if retry && (resp != nil && resp.StatusCode >= 500 || resp == nil && c.acted) {
		c.earlier = true // an ambiguous attempt is sent again: it may have acted
	}
	return retry, nil
}

// safeToRepeat tells where a user's CheckRetry may decide: never for a state change that may
// have reached the server, a redirect, or a failure no retry can mend.
func (c *call) safeToRepeat(resp *http.Response, err error) bool {
	switch {
	case err != nil && permanent(err):
		return false
	case resp != nil && resp.StatusCode >= 300 && resp.StatusCode < 400:
		return false
	case c.class != Unsafe:
		return true
	}
	return !c.acted // a request that never reached the server, or a refusal

}

// backoff is the library's Backoff: the policy's wait, logged as a retry just before the
// library waits it out.
func (c *call) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	c.t.policy.logRetry(c.ctx, c.attempts, resp, c.lastErr)
	return c.t.policy.backoff(minWait, maxWait, attempt, resp)
}

// prepareRetry is the library's PrepareRetry: a new attempt starts its trace afresh and waits
// for the rate limiter.
func (c *call) prepareRetry(req *http.Request) error {
	c.getConn.Store(false)
	c.gotConn.Store(false)
	return c.wait(req.Context())
}

// giveUp is the library's ErrorHandler, called when the loop ends without an answer to
// return: retries spent on a failure, a failure no retry may mend, or a rate limiter that
// stopped a retry. It returns the *Error Do reports.
func (c *call) giveUp(resp *http.Response, err error, tries int) (*http.Response, error) {
	if err == nil && resp != nil {
		return resp, nil // retries spent on an answer: the answer is the result
	}
	if resp != nil {
		drainAndClose(resp.Body)
	}
	acted := c.acted || c.earlier
	var wait *rateWaitError
	if errors.As(err, &wait) {
		acted = c.earlier // the limiter stopped the retry before it was sent
	}
	if c.ctx.Err() != nil && !errors.Is(err, c.ctx.Err()) {
		err = c.ctx.Err()
	}
	return nil, &Error{Err: withoutURL(err), Attempts: max(tries, 1), MayHaveActed: acted}
}
