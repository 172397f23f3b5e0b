package loyaltyredis

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// benchKeys numbers the references the benchmarks claim, each new.
var benchKeys atomic.Uint64

// BenchmarkLedger is the ledger's part of a "once" call on a new reference: a claim, then the
// outcome recorded. On loopback Redis each is one round trip.
func BenchmarkLedger(b *testing.B) {
	rdb, prefix := newRedis(b, sharedAddr(b))
	for _, bc := range []struct {
		store  string
		ledger loyalty.Ledger
	}{
		{"memory", loyalty.NewMemoryLedger(0)},
		{"redis", NewLedger(rdb, WithPrefix(prefix))},
	} {
		b.Run("store="+bc.store, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				key := "bench:" + strconv.FormatUint(benchKeys.Add(1), 10)
				if got, err := bc.ledger.Claim(ctx, key, "holder", time.Minute); err != nil || !got.Claimed {
					b.Fatal(got, err)
				}
				if err := bc.ledger.Record(ctx, key, "holder", loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "123-456-789"}, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLimiterWait is what asking the limiter costs when it lets the request go at once.
func BenchmarkLimiterWait(b *testing.B) {
	rdb, prefix := newRedis(b, sharedAddr(b))
	shared, err := NewRateLimiter(rdb, 1e9, 1000, WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		store   string
		limiter loyalty.RateLimiter
	}{
		{"memory", loyalty.NewMemoryRateLimiter(1e9, 1000)},
		{"redis", shared},
	} {
		b.Run("store="+bc.store, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.limiter.Wait(ctx, "account"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
