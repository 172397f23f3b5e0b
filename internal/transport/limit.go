package transport

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MemoryLimiter is a token bucket per key, in this process's memory. The API limits each key
// on its own, so an agency acting as a thousand companies has a thousand buckets. A bucket that
// has filled up again is dropped: a new one would be the same, so a process that makes
// short-lived clients for many keys keeps only the buckets in use.
type MemoryLimiter struct {
	limit rate.Limit
	burst int
	// every is how often full buckets are looked for.
	every time.Duration

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	next    time.Time
}

// NewMemoryLimiter allows perSecond requests a second per key, in bursts of up to burst.
func NewMemoryLimiter(perSecond float64, burst int) *MemoryLimiter {
	burst = max(burst, 1)
	fill := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &MemoryLimiter{limit: rate.Limit(perSecond), burst: burst, every: max(fill, time.Second), buckets: map[string]*rate.Limiter{}}
}

// Wait waits until one request under key may go, or fails at once when ctx would end first.
func (l *MemoryLimiter) Wait(ctx context.Context, key string) error {
	return l.bucket(key, time.Now()).Wait(ctx)
}

// bucket returns key's bucket, dropping the full ones now and then.
func (l *MemoryLimiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.next) {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.next = now.Add(l.every)
	}
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	return b
}

// Len counts the buckets held, for tests and benchmarks.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
