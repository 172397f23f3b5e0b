package loyalty

import (
	"context"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// RateLimiter keeps a client within a rate of requests: the client asks it before every
// attempt, retries included. NewMemoryRateLimiter is the one WithRateLimit sets; the module
// github.com/loyaltycards/loyalty-go/loyaltyredis has one that processes share.
type RateLimiter interface {
	// Wait returns once one request under key may be sent, or an error when that cannot be
	// within ctx; the request is then not sent. key names the API key's account: a digest
	// of the key, never the key.
	Wait(ctx context.Context, key string) error
}

// NewMemoryRateLimiter returns a RateLimiter kept in this process's memory: a token bucket of
// perSecond requests a second, in bursts of up to burst, for each key. A bucket that has
// filled up again is dropped (a new one would be the same), so a process that makes
// short-lived clients for thousands of keys keeps only the buckets in use.
func NewMemoryRateLimiter(perSecond float64, burst int) RateLimiter {
	return transport.NewMemoryLimiter(perSecond, burst)
}
