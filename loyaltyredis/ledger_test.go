package loyaltyredis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// The Redis ledger keeps the same contract as the in-memory default: each case runs on both.
func TestLedgerKeepsTheContractOfTheMemoryLedger(t *testing.T) {
	rdb, prefix := newRedis(t, sharedAddr(t))
	ledgers := map[string]loyalty.Ledger{
		"memory": loyalty.NewMemoryLedger(0),
		"redis":  NewLedger(rdb, WithPrefix(prefix)),
	}
	sent := time.Date(2031, 3, 4, 5, 6, 7, 8, time.UTC)
	for name, l := range ledgers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const hold, keep = time.Minute, time.Hour

			prev, ok, err := claimOf(l, ctx, "k1", "alice", hold)
			require.NoError(t, err)
			assert.True(t, ok, "a free key is taken")
			assert.Equal(t, loyalty.LedgerEntry{}, prev, "and it replaced nothing")

			e, ok, err := claimOf(l, ctx, "k1", "bob", hold)
			require.NoError(t, err)
			assert.False(t, ok, "a held key is not taken again")
			assert.Equal(t, loyalty.LedgerHeld, e.State)

			require.NoError(t, l.Record(ctx, "k1", "bob", loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "x"}, keep))
			require.NoError(t, l.Release(ctx, "k1", "bob"))
			e, ok, err = claimOf(l, ctx, "k1", "carol", hold)
			require.NoError(t, err)
			assert.False(t, ok, "a holder that is not the holder changes nothing")
			assert.Equal(t, loyalty.LedgerHeld, e.State)

			require.NoError(t, l.Record(ctx, "k1", "alice", loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "card|1"}, keep))
			e, ok, err = claimOf(l, ctx, "k1", "bob", hold)
			require.NoError(t, err)
			assert.False(t, ok, "an applied reference is not claimed")
			assert.Equal(t, loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "card|1"}, e, "its id comes back whole")

			unknown := loyalty.LedgerEntry{State: loyalty.LedgerUnknown, ID: "c-2", Sent: sent, Ended: sent.Add(1500 * time.Millisecond)}
			_, ok, err = claimOf(l, ctx, "k2", "alice", hold)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, l.Record(ctx, "k2", "alice", unknown, keep))
			prev, ok, err = claimOf(l, ctx, "k2", "bob", hold)
			require.NoError(t, err)
			assert.True(t, ok, "an unknown outcome is claimed, to be found out")
			assert.True(t, prev.Sent.Equal(unknown.Sent) && prev.Ended.Equal(unknown.Ended), "with its attempt's times: %+v", prev)
			assert.Equal(t, unknown.ID, prev.ID)
			assert.Equal(t, loyalty.LedgerUnknown, prev.State)

			require.NoError(t, l.Release(ctx, "k2", "bob"))
			prev, ok, err = claimOf(l, ctx, "k2", "carol", hold)
			require.NoError(t, err)
			assert.True(t, ok, "released")
			assert.Equal(t, loyalty.LedgerEntry{}, prev)
		})
	}
}

// Of many holders claiming one key at once, exactly one gets it.
func TestLedgerClaimIsAtomic(t *testing.T) {
	rdb, prefix := newRedis(t, sharedAddr(t))
	l := NewLedger(rdb, WithPrefix(prefix))
	for round := range 50 {
		var won atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, ok, err := claimOf(l, context.Background(), "race-"+itoa(round), "h"+itoa(i), time.Minute)
				assert.NoError(t, err)
				if ok {
					won.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Equal(t, int32(1), won.Load(), "round %d", round)
	}
}

// Entries live as long as the client asks: a claim its hold, an outcome its keep.
func TestLedgerEntriesExpire(t *testing.T) {
	rdb, prefix := newRedis(t, sharedAddr(t))
	l := NewLedger(rdb, WithPrefix(prefix))
	ctx := context.Background()
	_, ok, err := claimOf(l, ctx, "k", "h", loyalty.DefaultLedgerHold)
	require.NoError(t, err)
	require.True(t, ok)
	life := loyalty.DefaultLedgerHold + loyalty.DefaultLedgerKeep
	ttl := rdb.PTTL(ctx, prefix+slot+"k").Val()
	assert.True(t, ttl > life-time.Minute && ttl <= life, "a claim's key outlives its hold by the keep: %v", ttl)
	require.NoError(t, l.Record(ctx, "k", "h", loyalty.LedgerEntry{State: loyalty.LedgerApplied}, loyalty.DefaultLedgerKeep))
	ttl = rdb.PTTL(ctx, prefix+slot+"k").Val()
	assert.True(t, ttl > loyalty.DefaultLedgerKeep-time.Minute && ttl <= loyalty.DefaultLedgerKeep, "an outcome's life: %v", ttl)

	// A holder that died: its claim lapses after the hold, and is claimed as an unknown,
	// never as a free key, since it may have sent.
	_, ok, err = claimOf(l, ctx, "short", "h", time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	require.Eventually(t, func() bool {
		held, err := l.Renew(ctx, "short", "h", time.Millisecond)
		return err == nil && !held
	}, 10*time.Second, time.Millisecond, "the hold lapses")
	prev, ok, err := claimOf(l, ctx, "short", "another", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the reference can be claimed again")
	assert.Equal(t, loyalty.LedgerEntry{State: loyalty.LedgerUnknown}, prev, "as one that may have been sent")
}

// A value the ledger did not write is an error, not a verdict.
func TestLedgerRefusesEntriesItCannotRead(t *testing.T) {
	rdb, prefix := newRedis(t, sharedAddr(t))
	var reported []error
	l := NewLedger(rdb, WithPrefix(prefix), WithErrorHandler(func(err error) { reported = append(reported, err) }))
	ctx := context.Background()
	for _, v := range []string{"applied|x", "weird||0|0|", "applied||soon|0|"} {
		require.NoError(t, rdb.Set(ctx, prefix+slot+"bad", v, time.Minute).Err())
		_, _, err := claimOf(l, ctx, "bad", "h", time.Minute)
		assert.Error(t, err, "%q", v)
	}
	assert.Len(t, reported, 3)
	_, _, err := claimOf(l, ctx, "k", "a|b", time.Minute)
	assert.Error(t, err, "a holder token that would break an entry apart")
}

// claimOf is Claim in the older three-value form, for tests that look at the entry alone.
func claimOf(l loyalty.Ledger, ctx context.Context, key, holder string, hold time.Duration) (loyalty.LedgerEntry, bool, error) {
	got, err := l.Claim(ctx, key, holder, hold)
	return got.Entry, got.Claimed, err
}
