package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// errAttemptTimeout is the cause of an attempt's deadline, to tell it from the caller's.
var errAttemptTimeout = errors.New("attempt timed out")

// attempter is the RoundTripper the library's http.Client sends each attempt through. It
// puts the per-attempt deadline on the attempt, keeps it over the reading of the body, and
// holds the caller's RoundTripper to the contract http.Client expects. It does not pass
// CloseIdleConnections on (see the package doc).
type attempter struct {
	rt      http.RoundTripper
	timeout time.Duration
}

// RoundTrip sends one attempt under its deadline.
func (a *attempter) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var cancel context.CancelFunc
	if a.timeout > 0 && !endsWithin(ctx, a.timeout) {
		ctx, cancel = context.WithTimeoutCause(ctx, a.timeout, errAttemptTimeout)
		req = req.WithContext(ctx)
	}
	resp, err := a.rt.RoundTrip(req)
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close() // a stray body: http.Client would only log it
		}
		err = a.explain(ctx, err)
	case resp == nil:
		err = fmt.Errorf("transport %T returned neither a response nor an error", a.rt)
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, err
	}
	if cancel != nil {
		resp.Body = &deadlineBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, a: a}
	}
	return resp, nil
}

// endsWithin reports a context that ends within d anyway: the attempt then needs no deadline
// (and no timer) of its own, as net/http reasons about Client.Timeout.
func endsWithin(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= d
}

// explain names the attempt's own timeout, where net/http would only say "context deadline
// exceeded" and leave the reader to guess whose deadline it was.
func (a *attempter) explain(ctx context.Context, err error) error {
	if err != nil && context.Cause(ctx) == errAttemptTimeout {
		return &AttemptTimeoutError{Limit: a.timeout, Err: err}
	}
	return err
}

// deadlineBody keeps the attempt's deadline over the reading of the body and releases its
// timer when the body is closed.
type deadlineBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelFunc
	a      *attempter
}

// Read reads the body, naming the attempt's timeout when it is what stopped it.
func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.a.explain(b.ctx, err)
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
