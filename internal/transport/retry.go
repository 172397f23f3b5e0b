package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Class says how safe a request is to repeat.
type Class uint8

const (
	// ByMethod decides by the HTTP method: GET, HEAD, OPTIONS and DELETE are idempotent, the
	// rest unsafe.
	ByMethod Class = iota
	// Idempotent: repeating changes nothing, so any transient failure is retried.
	Idempotent
	// Unsafe: repeating may apply the change twice, so only failures where the server
	// certainly did not act are retried (429, and failures before the request left).
	Unsafe
	// Keyed: a state change carrying a caller-chosen id the server applies once (the
	// marketplace's transactionId), so it is retried like an idempotent request and after a
	// 500 too.
	Keyed
)

// Resolve turns ByMethod into the class the method implies.
func (c Class) Resolve(method string) Class {
	if c != ByMethod {
		return c
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return Idempotent
	}
	return Unsafe
}

// policy decides which failures are worth another attempt, and how long to wait before it.
type policy struct {
	maxRetryAfter time.Duration
	scale         float64
	logger        *slog.Logger
}

// logRetry records one retry, just before its wait: the request's method and path (never its
// query, which may carry personal data) and what went wrong.
func (p *policy) logRetry(ctx context.Context, attempt int, resp *http.Response, err error) {
	if !p.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{slog.Int("attempt", attempt)}
	switch {
	case resp != nil && resp.Request != nil:
		attrs = append(attrs, slog.String("method", resp.Request.Method),
			slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode))
	case err != nil:
		attrs = append(attrs, slog.String("error", withoutURL(err).Error()))
	}
	p.logger.LogAttrs(ctx, slog.LevelInfo, "loyalty retry", attrs...)
}

// decide is the retry table of the README, one rule per case, for a failure judged by its
// error's type alone.
func (p *policy) decide(class Class, resp *http.Response, err error) bool {
	return p.decideReached(class, resp, err, err != nil && !notSent(err))
}

// decideReached is the retry table, given whether a failed attempt may have reached the
// server.
func (p *policy) decideReached(class Class, resp *http.Response, err error, reached bool) bool {
	if err != nil {
		if permanent(err) {
			return false
		}
		if class == Unsafe {
			return !reached
		}
		return true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		// The server refused without acting, so even an accrual may be sent again.
		return p.waitAllowed(resp)
	case http.StatusInternalServerError:
		// Usually a fault that repeats; worth another try only where it cannot double anything.
		return class == Keyed && p.waitAllowed(resp)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// A gateway may have passed the request on before failing: never repeat an accrual.
		return class != Unsafe && p.waitAllowed(resp)
	}
	return false
}

// waitAllowed refuses a retry the server wants delayed beyond the cap.
func (p *policy) waitAllowed(resp *http.Response) bool {
	d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return !ok || d <= p.maxRetryAfter
}

// backoff is the wait before the next attempt: Retry-After when the server gave one (but
// never less than minWait: a Retry-After of 0 or a past date does not make a client hammer the
// server), otherwise an exponential step from minWait with jitter above it, never below
// minWait nor above maxWait.
func (p *policy) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return max(scaled(min(d, p.maxRetryAfter), p.scale), minWait)
		}
	}
	return jittered(minWait, maxWait, attempt)
}

// jittered is the attempt's step, minWait doubled per attempt, plus up to the same again at
// random, all within [minWait, maxWait]: waits grow, and a crowd of clients spreads out.
func jittered(minWait, maxWait time.Duration, attempt int) time.Duration {
	if maxWait <= 0 {
		return 0
	}
	step := maxWait
	if attempt < 62 && minWait <= maxWait>>attempt {
		step = minWait << attempt
	}
	spread := min(step, maxWait-step)
	if spread <= 0 {
		return step
	}
	return step + rand.N(spread+1)
}

func scaled(d time.Duration, scale float64) time.Duration {
	if scale == 1 {
		return d
	}
	return time.Duration(float64(d) * scale)
}

// ParseRetryAfter reads Retry-After as seconds or as an HTTP date. A number of seconds too
// large to represent reads as the longest duration, so it is "longer than any cap"; garbage
// and negative values read as absent.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case secs < 0:
			return 0, false
		case secs > int64(math.MaxInt64/time.Second):
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	// The date is when the server will take requests again: not a moment earlier.
	return max(t.Sub(now), 0), true
}

// notSent reports a failure that certainly happened before the request left: the connection
// was never made, the TLS handshake failed, or the client gave up waiting to send. Only then
// may a state-changing request be sent again.
func notSent(err error) bool {
	var (
		dnsErr    *net.DNSError
		opErr     *net.OpError
		waitErr   *rateWaitError
		buildErr  *buildError
		recErr    tls.RecordHeaderError
		verifyErr *tls.CertificateVerificationError
		alertErr  tls.AlertError
	)
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &waitErr), errors.As(err, &buildErr), errors.As(err, &recErr),
		errors.As(err, &verifyErr), errors.As(err, &alertErr), certificateError(err):
		return true
	case errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "remote error"):
		// "remote error" is a TLS alert from the server, which ends the handshake.
		return true
	case errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	return unusableRequest(err)
}

// permanent reports a failure that no retry can mend: a cancelled call, a certificate that
// does not verify, a URL net/http cannot send, a limiter that cannot serve the call in time.
func permanent(err error) bool {
	var (
		waitErr  *rateWaitError
		buildErr *buildError
	)
	return errors.Is(err, context.Canceled) || errors.As(err, &waitErr) || errors.As(err, &buildErr) || certificateError(err) || unusableRequest(err) ||
		strings.Contains(err.Error(), "server response headers exceeded") // an answer net/http will not read, sent or not
}

func certificateError(err error) bool {
	var (
		verifyErr *tls.CertificateVerificationError
		certErr   x509.CertificateInvalidError
		authErr   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		recErr    tls.RecordHeaderError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &certErr) || errors.As(err, &authErr) ||
		errors.As(err, &hostErr) || errors.As(err, &recErr)
}

// unusableRequest recognises what net/http refuses before sending. It reports these only as
// text.
func unusableRequest(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unsupported protocol scheme") || strings.Contains(s, "invalid header") ||
		strings.Contains(s, "server gave HTTP response to HTTPS client") ||
		strings.Contains(s, "stopped after") && strings.Contains(s, "redirects") ||
		strings.Contains(s, "no Host in request URL")
}
