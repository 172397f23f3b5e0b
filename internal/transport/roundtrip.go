package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// roundTripper is what every attempt goes through on its way to the caller's (or our)
// transport: it waits for the rate limiter, then bounds the attempt with a deadline.
//
// It deliberately has no CloseIdleConnections: retryablehttp calls that after every failed
// request, which on a shared client would empty the pool under all the requests in flight.
type roundTripper struct {
	next    http.RoundTripper
	timeout time.Duration
}

// errAttemptTimeout is the cause of an attempt's deadline, to tell it from the caller's.
var errAttemptTimeout = errors.New("attempt timed out")

// RoundTrip waits its turn at the rate limiter, then sends one attempt under its deadline.
func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if l := stateOf(req.Context()).limiter; l != nil {
		if err := l.Wait(req.Context()); err != nil {
			return nil, &rateWaitError{err}
		}
	}
	if t.timeout <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.timeout, errAttemptTimeout)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, t.explain(ctx, err)
	}
	resp.Body = &deadlineBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, rt: t}
	return resp, nil
}

// explain names the attempt's own timeout, where net/http would only say "context deadline
// exceeded" and leave the reader to guess whose deadline it was.
func (t *roundTripper) explain(ctx context.Context, err error) error {
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
	rt     *roundTripper
}

// Read reads the body, naming the attempt's timeout when it is what stopped it.
func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.rt.explain(b.ctx, err)
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

// rateWaitError is a request that gave up waiting for the rate limiter: it was never sent.
type rateWaitError struct{ err error }

// Error says the request gave up waiting for the limiter.
func (e *rateWaitError) Error() string {
	return "waiting for the client-side rate limit: " + e.err.Error()
}

// Unwrap gives the limiter's error.
func (e *rateWaitError) Unwrap() error { return e.err }
