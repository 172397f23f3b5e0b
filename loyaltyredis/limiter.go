package loyaltyredis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// RateLimiter is a loyalty.RateLimiter kept in Redis, for WithRateLimiter: processes that use
// one Redis and one prefix share each API key's limit. It is safe for concurrent use.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
	local   loyalty.RateLimiter // while Redis cannot be asked, unless failClosed
	settings
	// downUntil (Unix nanoseconds, this machine's clock) skips Redis for a moment after it
	// failed, so that an unreachable Redis costs each request nothing, not a timeout.
	downUntil atomic.Int64
}

var _ loyalty.RateLimiter = (*RateLimiter)(nil)

// retryRedisAfter is how long the limiter keeps to its local limit after Redis failed.
const retryRedisAfter = time.Second

// NewRateLimiter returns a limiter of perSecond requests a second per API key, in bursts of
// up to burst, kept in rdb. WithPrefix, WithFailClosed and WithErrorHandler apply.
//
// Errors: a rate that is not a positive number, or a burst below 1.
func NewRateLimiter(rdb redis.UniversalClient, perSecond float64, burst int, opts ...Option) (*RateLimiter, error) {
	if !(perSecond > 0) || math.IsInf(perSecond, 0) || burst < 1 {
		return nil, fmt.Errorf("loyaltyredis: a rate of %v a second in bursts of %d: want a positive rate and a burst of 1 or more", perSecond, burst)
	}
	// redis_rate counts whole requests per period: a rate with a fraction becomes so many
	// per 1,000 seconds, which keeps it to a thousandth of a request a second.
	limit := redis_rate.Limit{Rate: int(perSecond), Burst: burst, Period: time.Second}
	if perSecond != math.Trunc(perSecond) {
		limit = redis_rate.Limit{Rate: max(int(math.Round(perSecond*1000)), 1), Burst: burst, Period: 1000 * time.Second}
	}
	return &RateLimiter{
		limiter:  redis_rate.NewLimiter(rdb),
		limit:    limit,
		local:    loyalty.NewMemoryRateLimiter(perSecond, burst),
		settings: newSettings(opts),
	}, nil
}

// Wait returns once a request under key may be sent. Redis decides, by its own clock; the
// wait it asks for is slept here.
//
// Errors: ctx's error when it ends first, or when its deadline comes before the wait would
// end; with WithFailClosed, an error matching ErrUnavailable while Redis cannot be asked.
func (l *RateLimiter) Wait(ctx context.Context, key string) error {
	for {
		if time.Now().UnixNano() < l.downUntil.Load() {
			return l.unavailable(ctx, key, nil)
		}
		res, err := l.limiter.Allow(ctx, l.prefix+key, l.limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.downUntil.Store(time.Now().Add(retryRedisAfter).UnixNano())
			return l.unavailable(ctx, key, fmt.Errorf("loyaltyredis: rate limit: %w", err))
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := max(res.RetryAfter, time.Millisecond)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("loyaltyredis: the rate limit lets the next request go in %v, after the deadline: %w", wait, context.DeadlineExceeded)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// unavailable answers while Redis cannot be asked: the local limit, or a refusal.
func (l *RateLimiter) unavailable(ctx context.Context, key string, err error) error {
	if err != nil {
		l.report(err)
	}
	if l.failClosed {
		if err == nil {
			err = errors.New("loyaltyredis: rate limit: Redis failed a moment ago")
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return l.local.Wait(ctx, key)
}
