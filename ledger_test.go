// Tests of ledger.go and memory_ledger.go: the ledger contract, keys, the waits of a claim.

package loyalty

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryLedgerContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewMemoryLedger(0).(*memoryLedger)
	l.now = func() time.Time { return now }

	prev, ok, err := claimOf(l, ctx, "k", "a", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, LedgerEntry{}, prev, "a free key")
	held, ok, _ := claimOf(l, ctx, "k", "b", time.Minute)
	assert.False(t, ok, "held by a")
	assert.Equal(t, LedgerHeld, held.State)

	require.NoError(t, l.Record(ctx, "k", "b", LedgerEntry{State: LedgerApplied, ID: "x"}, time.Hour))
	require.NoError(t, l.Release(ctx, "k", "b"))
	_, ok, _ = claimOf(l, ctx, "k", "c", time.Minute)
	assert.False(t, ok, "only the holder records or releases")

	sent := now.Add(-time.Second)
	require.NoError(t, l.Record(ctx, "k", "a", LedgerEntry{State: LedgerUnknown, ID: "card", Sent: sent, Ended: now}, time.Hour))
	prev, ok, _ = claimOf(l, ctx, "k", "d", time.Minute)
	assert.True(t, ok, "an unknown outcome is claimed again, to find out")
	assert.Equal(t, LedgerEntry{State: LedgerUnknown, ID: "card", Sent: sent, Ended: now}, prev)
	require.NoError(t, l.Record(ctx, "k", "d", LedgerEntry{State: LedgerApplied, ID: "card"}, time.Hour))
	got, ok, _ := claimOf(l, ctx, "k", "e", time.Minute)
	assert.False(t, ok)
	assert.Equal(t, LedgerEntry{State: LedgerApplied, ID: "card"}, got)

	now = now.Add(time.Hour)
	_, ok, _ = claimOf(l, ctx, "k", "f", time.Minute)
	assert.True(t, ok, "an outcome is kept as long as asked, no longer")
	now = now.Add(50 * time.Second)
	renewed, err := l.Renew(ctx, "k", "f", time.Minute)
	require.NoError(t, err)
	assert.True(t, renewed, "the holder renews its claim")
	renewed, _ = l.Renew(ctx, "k", "someone else", time.Minute)
	assert.False(t, renewed, "only the holder")
	now = now.Add(50 * time.Second)
	_, ok, _ = claimOf(l, ctx, "k", "f2", time.Minute)
	assert.False(t, ok, "a renewed claim outlives its first hold")
	now = now.Add(time.Minute)
	renewed, _ = l.Renew(ctx, "k", "f", time.Minute)
	assert.False(t, renewed, "an expired claim is not renewed")
	_, ok, _ = claimOf(l, ctx, "k", "f3", time.Minute)
	assert.True(t, ok, "an expired claim frees the key")
	now = now.Add(time.Minute)
	prev, ok, _ = claimOf(l, ctx, "k", "g", time.Minute)
	assert.True(t, ok, "a claim left by a holder that died can be claimed again")
	assert.Equal(t, LedgerEntry{State: LedgerUnknown}, prev, "as one that may have been sent, never as a free key")
	require.NoError(t, l.Release(ctx, "k", "g"))
	_, ok, _ = claimOf(l, ctx, "k", "h", time.Minute)
	assert.True(t, ok, "released")
}

func TestMemoryLedgerForgetsTheOldestBeyondItsBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLedger(100).(*memoryLedger)
	for i := range 1000 {
		key := fmt.Sprint("k", i)
		_, ok, err := claimOf(l, ctx, key, "h", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		if i%3 == 0 { // unknown, claimed again and applied: listed twice, counted once
			require.NoError(t, l.Record(ctx, key, "h", LedgerEntry{State: LedgerUnknown}, time.Hour))
			_, ok, _ = claimOf(l, ctx, key, "h2", time.Minute)
			require.True(t, ok)
			require.NoError(t, l.Record(ctx, key, "h2", LedgerEntry{State: LedgerApplied}, time.Hour))
			continue
		}
		require.NoError(t, l.Record(ctx, key, "h", LedgerEntry{State: LedgerApplied}, time.Hour))
	}
	_, ok, _ := claimOf(l, ctx, "held", "h", time.Minute)
	require.True(t, ok)
	assert.Equal(t, 100, l.recorded)
	assert.Len(t, l.entries, 101, "100 outcomes and the claim in progress")
	assert.LessOrEqual(t, len(l.order), 2*100+64, "the list of outcomes is compacted")
	_, ok, _ = claimOf(l, ctx, "k999", "x", time.Minute)
	assert.False(t, ok, "the newest outcome is kept")
	_, ok, _ = claimOf(l, ctx, "k0", "x", time.Minute)
	assert.True(t, ok, "the oldest is forgotten")
}

// Of many callers claiming one key at once, exactly one gets it.
func TestMemoryLedgerClaimIsAtomic(t *testing.T) {
	t.Parallel()
	l := NewMemoryLedger(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, _ := claimOf(l, context.Background(), "k", fmt.Sprint(i), time.Minute)
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, won)
}

// A key names the account by a digest, never the key, and carries no reference in clear.
func TestOnceKeysCarryNoSecret(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testKey)
	require.NoError(t, err)
	key := c.onceKey("apply", "638920-251-210", "receipt-8812")
	assert.NotContains(t, key, testKey)
	assert.NotContains(t, key, "receipt-8812")
	assert.True(t, strings.HasPrefix(key, "once:"+c.account+":apply:"), key)
	d, err := c.ForAPIKey("sk_other")
	require.NoError(t, err)
	assert.NotEqual(t, key, d.onceKey("apply", "638920-251-210", "receipt-8812"), "each account has its own keys")
	assert.Same(t, c.ledger, d.ledger, "a derived client shares the ledger")
}

// The looks after a lost answer are few, however small Settle is, and pass the in-flight
// bound.
func TestOnceWaitsAreFewAndPassTheBound(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		once     *OnceOptions
		inFlight time.Duration
		most     int
	}{
		{nil, 30 * time.Second, 8},
		{&OnceOptions{Settle: 1}, 30 * time.Second, 20},
		{&OnceOptions{Settle: time.Second}, time.Minute, 10},
		{&OnceOptions{Settle: 10 * time.Millisecond}, 400 * time.Millisecond, 10},
	} {
		waits := tt.once.waits(tt.inFlight)
		var total time.Duration
		for _, w := range waits[:len(waits)-2] {
			total += w
		}
		assert.Greater(t, total, tt.inFlight, "%+v", tt.once)
		assert.LessOrEqual(t, len(waits), tt.most, "%+v: %v", tt.once, waits)
	}
	assert.Len(t, (&OnceOptions{Lookups: 3}).waits(time.Hour), 3)
}

// claimOf is Claim in the older three-value form, for tests that look at the entry alone.
func claimOf(l Ledger, ctx context.Context, key, holder string, hold time.Duration) (LedgerEntry, bool, error) {
	got, err := l.Claim(ctx, key, holder, hold)
	return got.Entry, got.Claimed, err
}
