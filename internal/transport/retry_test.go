package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 500_000_000, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"9300000000", math.MaxInt64, true}, // overflows time.Duration: longer than any cap
		{"99999999999999999999999", math.MaxInt64, true}, // overflows int64 too
		{"-99999999999999999999999", 0, false},
		// An HTTP date is honoured to the instant, not truncated to a whole second early.
		{"Thu, 26 Nov 2026 12:00:42 GMT", 41*time.Second + 500*time.Millisecond, true},
		{"Thu, 26 Nov 2026 11:59:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestHugeRetryAfterIsAboveTheCapNotAHammer(t *testing.T) {
	t.Parallel()
	p := &policy{maxRetryAfter: 30 * time.Second, scale: 1, logger: slog.New(slog.DiscardHandler)}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"9300000000"}}}
	assert.False(t, p.decide(Idempotent, resp, nil), "a wait beyond the cap is not retried")
	assert.Equal(t, 30*time.Second, p.backoff(0, 0, 0, resp), "and never a negative wait")
}

func TestBackoffStaysWithinItsBounds(t *testing.T) {
	t.Parallel()
	p := &policy{maxRetryAfter: 30 * time.Second, scale: 1}
	for _, bounds := range [][2]time.Duration{{40 * time.Millisecond, 400 * time.Millisecond}, {250 * time.Millisecond, 5 * time.Second}, {time.Second, time.Second}} {
		lo, hi := bounds[0], bounds[1]
		prevStep := time.Duration(0)
		for attempt := range 10 {
			step := min(lo<<attempt, hi)
			for range 200 {
				got := p.backoff(lo, hi, attempt, nil)
				assert.GreaterOrEqual(t, got, lo, "never below the minimum (attempt %d)", attempt)
				assert.GreaterOrEqual(t, got, step, "never below the attempt's step (attempt %d)", attempt)
				assert.LessOrEqual(t, got, hi, "never above the maximum (attempt %d)", attempt)
				assert.LessOrEqual(t, got, 2*step, "at most twice the step (attempt %d)", attempt)
			}
			assert.GreaterOrEqual(t, step, prevStep, "steps grow")
			prevStep = step
		}
	}
	assert.Equal(t, time.Duration(0), p.backoff(0, 0, 3, nil), "zero bounds never sleep")
	assert.Equal(t, time.Second, p.backoff(time.Second, time.Second, 100, nil), "a huge attempt number stays at the maximum")
}

func TestBackoffHonoursRetryAfterScaled(t *testing.T) {
	t.Parallel()
	p := &policy{maxRetryAfter: 30 * time.Second, scale: 1}
	resp := &http.Response{Header: http.Header{"Retry-After": {"12"}}}
	assert.Equal(t, 12*time.Second, p.backoff(time.Millisecond, time.Second, 0, resp), "Retry-After wins over backoff")
	resp.Header.Set("Retry-After", "120")
	assert.Equal(t, 30*time.Second, p.backoff(time.Millisecond, time.Second, 0, resp), "capped")

	fast := &policy{maxRetryAfter: 30 * time.Second, scale: 0.001}
	resp.Header.Set("Retry-After", "1")
	assert.Equal(t, time.Millisecond, fast.backoff(0, 0, 0, resp), "a scaled second, not truncated to zero")
}

func TestNotSent(t *testing.T) {
	t.Parallel()
	sent := []error{
		&net.OpError{Op: "read", Err: syscall.ECONNRESET},
		&net.OpError{Op: "write", Err: syscall.EPIPE},
		context.DeadlineExceeded,
		errors.New("EOF"),
		&AttemptTimeoutError{Limit: time.Second, Err: context.DeadlineExceeded},
	}
	for _, err := range sent {
		assert.False(t, notSent(err), "%v may have reached the server", err)
	}
	notYet := []error{
		&net.OpError{Op: "dial", Err: errors.New("refused")},
		&net.DNSError{Err: "no such host", Name: "x"},
		syscall.ECONNREFUSED,
		&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
		x509.HostnameError{Host: "x", Certificate: &x509.Certificate{}},
		tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
		&net.OpError{Op: "remote error", Err: tls.AlertError(40)},
		tls.AlertError(40),
		&rateWaitError{context.DeadlineExceeded},
		&url.Error{Op: "Get", URL: "ftp://x", Err: errors.New(`unsupported protocol scheme "ftp"`)},
	}
	for _, err := range notYet {
		assert.True(t, notSent(fmt.Errorf("wrapped: %w", err)), "%v never left the client", err)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	p := &policy{maxRetryAfter: time.Minute, scale: 1}
	status := func(code int) *http.Response { return &http.Response{StatusCode: code, Header: http.Header{}} }
	reset := &net.OpError{Op: "read", Err: syscall.ECONNRESET}
	dial := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	cert := &url.Error{Op: "Get", URL: "https://x", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	scheme := &url.Error{Op: "Get", URL: "ftp://x", Err: errors.New(`unsupported protocol scheme "ftp"`)}
	redirects := &url.Error{Op: "Get", URL: "https://x", Err: errors.New("stopped after 10 redirects")}
	limiter := &rateWaitError{errors.New("rate: Wait(n=1) would exceed context deadline")}
	tests := []struct {
		resp                      *http.Response
		err                       error
		idempotent, unsafe, keyed bool
	}{
		{status(200), nil, false, false, false},
		{status(301), nil, false, false, false},
		{status(307), nil, false, false, false},
		{status(400), nil, false, false, false},
		{status(404), nil, false, false, false},
		{status(429), nil, true, true, true},
		{status(500), nil, false, false, true},
		{status(502), nil, true, false, true},
		{status(503), nil, true, false, true},
		{status(504), nil, true, false, true},
		{nil, reset, true, false, true},
		{nil, dial, true, true, true},
		{nil, cert, false, false, false},
		{nil, scheme, false, false, false},
		{nil, redirects, false, false, false},
		{nil, limiter, false, false, false},
		{nil, context.Canceled, false, false, false},
	}
	for _, tt := range tests {
		name := fmt.Sprint(tt.err)
		if tt.resp != nil {
			name = strconv.Itoa(tt.resp.StatusCode)
		}
		assert.Equal(t, tt.idempotent, p.decide(Idempotent, tt.resp, tt.err), "idempotent, %s", name)
		assert.Equal(t, tt.unsafe, p.decide(Unsafe, tt.resp, tt.err), "unsafe, %s", name)
		assert.Equal(t, tt.keyed, p.decide(Keyed, tt.resp, tt.err), "keyed, %s", name)
	}
}

func TestClassResolve(t *testing.T) {
	t.Parallel()
	for method, want := range map[string]Class{"GET": Idempotent, "DELETE": Idempotent, "HEAD": Idempotent,
		"POST": Unsafe, "PATCH": Unsafe, "PUT": Unsafe} {
		assert.Equal(t, want, ByMethod.Resolve(method), method)
	}
	assert.Equal(t, Keyed, Keyed.Resolve("POST"))
}

// Retry-After: 0, or a date already past, still waits the minimum: three retries in 2 ms would
// hammer a server that asked to be left alone.
func TestRetryAfterNowWaitsTheMinimum(t *testing.T) {
	t.Parallel()
	p := &policy{maxRetryAfter: time.Minute, scale: 1}
	for _, v := range []string{"0", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)} {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}
		assert.Equal(t, 250*time.Millisecond, p.backoff(250*time.Millisecond, 5*time.Second, 0, resp), v)
	}
}
