package transport

import (
	"sync"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per credential. The API limits each key on its own, so an
// agency acting as a thousand companies has a thousand buckets, and every client derived for
// one key draws from the same one.
type limiters struct {
	limit rate.Limit
	burst int
	m     sync.Map // credential -> *rate.Limiter
}

func newLimiters(perSecond float64, burst int) *limiters {
	return &limiters{limit: rate.Limit(perSecond), burst: max(burst, 1)}
}

func (l *limiters) get(credential string) *rate.Limiter {
	if v, ok := l.m.Load(credential); ok {
		return v.(*rate.Limiter)
	}
	v, _ := l.m.LoadOrStore(credential, rate.NewLimiter(l.limit, l.burst))
	return v.(*rate.Limiter)
}
