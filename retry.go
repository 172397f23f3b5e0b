package loyalty

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// retryClass says how safe a request is to repeat.
type retryClass uint8

const (
	// retryByMethod decides by the HTTP method: GET and DELETE are idempotent, the rest unsafe.
	retryByMethod retryClass = iota
	// retryIdempotent: repeating changes nothing, so any transient failure is retried.
	retryIdempotent
	// retryUnsafe: repeating may apply the change twice, so only failures where the server
	// certainly did not act are retried (429, and errors before the request left).
	retryUnsafe
	// retryKeyed: a state change carrying a caller-chosen id the server deduplicates on (the
	// marketplace's transactionId), so it is retried like an idempotent request, and a lost
	// answer is not "outcome unknown": send it again with the same id.
	retryKeyed
)

func classOf(method string, c retryClass) retryClass {
	if c != retryByMethod {
		return c
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return retryIdempotent
	}
	return retryUnsafe
}

// callState is the request's context: the context is the only thing retryablehttp hands to
// every hook, so the policy knows which request it judges and the caller learns the attempts
// made. Being the context itself, it costs one allocation rather than a value and a wrapper.
type callState struct {
	context.Context
	class    retryClass
	attempts int
	// mayHaveActed is true while the latest attempt is in flight or ended ambiguously, and
	// false once the policy has judged it refused or never sent (and so worth retrying).
	// A call that stops during the wait before a retry has then sent nothing ambiguous.
	mayHaveActed bool
}

type callStateKey struct{}

// Value finds the state from any context derived from it (net/http adds its own layers).
func (s *callState) Value(key any) any {
	if key == (callStateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

func stateOf(ctx context.Context) *callState {
	if st, ok := ctx.Value(callStateKey{}).(*callState); ok {
		return st
	}
	return &callState{class: retryUnsafe} // unknown request: assume the worst
}

// countAttempt is retryablehttp's RequestLogHook, called before each attempt.
func countAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	st := stateOf(req.Context())
	st.attempts, st.mayHaveActed = retry+1, true
}

type retryPolicy struct {
	maxRetryAfter time.Duration
	unit          time.Duration
	logger        *slog.Logger
}

// checkRetry is the policy of the package documentation, one rule per case.
func (p *retryPolicy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st := stateOf(ctx)
	retry := p.decide(st.class, resp, err)
	if retry && st.class == retryUnsafe {
		st.mayHaveActed = false // unsafe requests are only retried when they were not applied
	}
	if retry && p.logger.Enabled(ctx, slog.LevelInfo) {
		attrs := []slog.Attr{slog.Int("attempt", st.attempts)}
		if resp != nil {
			attrs = append(attrs, slog.String("method", resp.Request.Method),
				slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode))
		} else {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // its text repeats the URL, query string included
			}
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		p.logger.LogAttrs(ctx, slog.LevelInfo, "loyalty retry", attrs...)
	}
	return retry, nil
}

func (p *retryPolicy) decide(class retryClass, resp *http.Response, err error) bool {
	if err != nil {
		if class == retryUnsafe {
			return notSent(err)
		}
		return transient(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		// The server refused without acting, so even an accrual may be sent again.
		return p.waitAllowed(resp)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// A gateway may have passed the request on before failing: never repeat an accrual.
		return class != retryUnsafe && p.waitAllowed(resp)
	}
	return false
}

// waitAllowed refuses a retry the server wants delayed beyond the cap.
func (p *retryPolicy) waitAllowed(resp *http.Response) bool {
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return !ok || d <= p.maxRetryAfter
}

// backoff is retryablehttp's Backoff: Retry-After when the server gave one, otherwise
// exponential from minWait, capped at maxWait, with jitter so a crowd of clients spreads out.
func (p *retryPolicy) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, p.maxRetryAfter) / time.Second * p.unit
		}
	}
	wait := minWait << min(attempt, 30)
	if wait > maxWait || wait <= 0 {
		wait = maxWait
	}
	if wait <= 0 {
		return 0
	}
	// Equal jitter: at least half the step, so waits still grow.
	return wait/2 + rand.N(wait/2+1)
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now).Truncate(time.Second), 0), true
}

// notSent reports a failure that certainly happened before the request left: the connection
// was never made. Only then may a state-changing request be sent again.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// transient reports a transport failure worth another try for a request that is safe to
// repeat. Certificate problems and cancellations are not.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var certErr *x509.CertificateInvalidError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	return !errors.As(err, &certErr) && !errors.As(err, &authErr) && !errors.As(err, &hostErr)
}
