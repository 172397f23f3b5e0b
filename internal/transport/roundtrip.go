package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// jsonType is the value of Accept and Content-Type, shared by every request: net/http only
// reads it, and a RoundTripper that adds to it appends to a full slice, which copies.
var jsonType = []string{"application/json"}

// errAttemptTimeout is the cause of an attempt's deadline, to tell it from the caller's.
var errAttemptTimeout = errors.New("attempt timed out")

// attempt sends r once. It waits its turn at the rate limiter, then sends under the
// per-attempt deadline, which stays on the answer's body until it is closed. *first is the
// first attempt's request, which later attempts copy rather than build again.
func (t *Transport) attempt(ctx context.Context, r *Request, first **http.Request, limiter *rate.Limiter) (*http.Response, error) {
	if limiter != nil {
		if err := limiter.Wait(ctx); err != nil {
			return nil, &rateWaitError{err}
		}
	}
	actx, cancel := ctx, context.CancelFunc(nil)
	if t.timeout > 0 && !endsWithin(ctx, t.timeout) {
		actx, cancel = context.WithTimeoutCause(ctx, t.timeout, errAttemptTimeout)
	}
	req, err := t.request(actx, r, first)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, err
	}
	resp, err := t.send(req)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, t.explain(actx, err)
	}
	if cancel != nil {
		resp.Body = &deadlineBody{ReadCloser: resp.Body, ctx: actx, cancel: cancel, t: t}
	}
	return resp, nil
}

// endsWithin reports a context that ends within d anyway: the attempt then needs no deadline
// (and no timer) of its own, as net/http reasons about Client.Timeout.
func endsWithin(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= d
}

// request builds the attempt's request: the first from r, later ones as copies of the first
// with a body of their own (the transport may still be reading the old one).
func (t *Transport) request(ctx context.Context, r *Request, first **http.Request) (*http.Request, error) {
	if *first != nil {
		req := (*first).Clone(ctx)
		if req.GetBody != nil {
			req.Body, _ = req.GetBody() // a bytes.Reader's GetBody cannot fail
		}
		return req, nil
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, &buildError{err}
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
	*first = req
	return req, nil
}

// send hands one request to the round tripper, holding it to the contract http.Client would:
// a response has a body, or an error explains why there is none.
func (t *Transport) send(req *http.Request) (*http.Response, error) {
	if t.client != nil {
		resp, err := t.client.Do(req)
		return resp, withoutURL(err) // as RoundTrip would answer, so explain sees the cause
	}
	resp, err := t.rt.RoundTrip(req)
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		return nil, err
	case resp == nil:
		return nil, fmt.Errorf("transport %T returned neither a response nor an error", t.rt)
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, nil
}

// explain names the attempt's own timeout, where net/http would only say "context deadline
// exceeded" and leave the reader to guess whose deadline it was.
func (t *Transport) explain(ctx context.Context, err error) error {
	if err != nil && context.Cause(ctx) == errAttemptTimeout {
		return &AttemptTimeoutError{Limit: t.timeout, Err: err}
	}
	return err
}

// deadlineBody keeps the attempt's deadline over the reading of the body and releases its
// timer when the body is closed.
type deadlineBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelFunc
	t      *Transport
}

// Read reads the body, naming the attempt's timeout when it is what stopped it.
func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.t.explain(b.ctx, err)
	}
	return n, err
}

// Close closes the body and releases the attempt's timer.
func (b *deadlineBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// AttemptTimeoutError is one attempt that outlasted the per-attempt timeout. It is a timeout
// in the net.Error sense, and errors.Is(err, context.DeadlineExceeded) holds.
type AttemptTimeoutError struct {
	Limit time.Duration
	Err   error
}

// Error names the timeout.
func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer within the per-attempt timeout of %s", e.Limit)
}

// Unwrap gives net/http's own error.
func (e *AttemptTimeoutError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, context.DeadlineExceeded) true, whatever net/http wrapped.
func (e *AttemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as net.Error asks.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// Temporary reports true: another attempt may succeed.
func (e *AttemptTimeoutError) Temporary() bool { return true }

// buildError is a request net/http would not even build (a malformed URL, say): it was never
// sent, and no retry can mend it.
type buildError struct{ err error }

// Error is net/http's reason.
func (e *buildError) Error() string { return e.err.Error() }

// Unwrap gives net/http's error.
func (e *buildError) Unwrap() error { return e.err }

// rateWaitError is a request that gave up waiting for the rate limiter: it was never sent.
type rateWaitError struct{ err error }

// Error says the request gave up waiting for the limiter.
func (e *rateWaitError) Error() string {
	return "waiting for the client-side rate limit: " + e.err.Error()
}

// Unwrap gives the limiter's error.
func (e *rateWaitError) Unwrap() error { return e.err }
