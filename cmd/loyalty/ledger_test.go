package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// ledgers returns two ledgers on one file, as two processes (pids 1001 and 1002) have them,
// with one clock and a set of the processes alive.
func ledgers(t *testing.T) (a, b *fileLedger, clock *time.Time, dead func(pid int)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "ledger.json")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	gone := map[int]bool{}
	open := func(pid int) *fileLedger {
		l, err := openFileLedger(path)
		require.NoError(t, err)
		l.pid, l.now = pid, func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		l.alive = func(pid int) bool { mu.Lock(); defer mu.Unlock(); return !gone[pid] }
		return l
	}
	return open(1001), open(1002), &now, func(pid int) { mu.Lock(); gone[pid] = true; mu.Unlock() }
}

func TestFileLedgerClaimsAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, clock, dead := ledgers(t)
	c, err := a.Claim(ctx, "k1", "h-a", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true}, c, "a free key, and Kept zero: the file does not vouch")
	fi, err := os.Stat(a.path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the ledger is the user's alone")

	c, err = b.Claim(ctx, "k1", "h-b", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Entry: loyalty.LedgerEntry{State: loyalty.LedgerHeld}}, c, "held by the other process")

	// Only the holder renews, records or releases.
	ok, err := b.Renew(ctx, "k1", "h-b", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, b.Release(ctx, "k1", "h-a")) // another process, same holder name
	ok, err = a.Renew(ctx, "k1", "h-a", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)

	// The holder's process is gone: its claim is an unknown at once, not after its hold.
	dead(1001)
	c, err = b.Claim(ctx, "k1", "h-b", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true, Entry: loyalty.LedgerEntry{State: loyalty.LedgerUnknown}}, c)

	// An outcome stands for every process until it expires.
	sent := clock.Add(-time.Second)
	require.NoError(t, b.Record(ctx, "k1", "h-b", loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "638920-251-210", Sent: sent, Ended: *clock}, time.Hour))
	c, err = a.Claim(ctx, "k1", "h-a2", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Entry: loyalty.LedgerEntry{State: loyalty.LedgerApplied, ID: "638920-251-210", Sent: sent, Ended: *clock}}, c)
	*clock = clock.Add(time.Hour)
	c, err = a.Claim(ctx, "k1", "h-a2", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true}, c, "expired: free")
}

func TestFileLedgerLapsedClaimIsUnknownAndAReleaseFrees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, clock, _ := ledgers(t)
	_, err := a.Claim(ctx, "k", "h-a", time.Minute)
	require.NoError(t, err)
	*clock = clock.Add(time.Minute)
	c, err := b.Claim(ctx, "k", "h-b", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true, Entry: loyalty.LedgerEntry{State: loyalty.LedgerUnknown}}, c, "lapsed: its holder may have sent")
	ok, err := a.Renew(ctx, "k", "h-a", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a lapsed holder cannot take it back")

	require.NoError(t, b.Release(ctx, "k", "h-b"))
	c, err = a.Claim(ctx, "k", "h-a", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true}, c)
}

func TestFileLedgerOneClaimOfManyAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _, _ := ledgers(t)
	var won atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := a
			if i%2 == 1 {
				l = b
			}
			<-start
			c, err := l.Claim(ctx, "k", "h"+string(rune('a'+i)), time.Minute)
			assert.NoError(t, err)
			if c.Claimed {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}

func TestFileLedgerFailsSafeOnADamagedFileAndForgetsAGoneOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _, _, _ := ledgers(t)
	_, err := a.Claim(ctx, "k", "h", time.Minute)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(a.path, []byte("{not json"), 0o600))
	_, err = a.Claim(ctx, "k2", "h", time.Minute)
	require.ErrorIs(t, err, loyalty.ErrLedger, "nothing is sent on a ledger that cannot be read")
	assert.Contains(t, err.Error(), "remove it to start afresh")

	require.NoError(t, os.Remove(a.path))
	c, err := a.Claim(ctx, "k", "h2", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, loyalty.LedgerClaim{Claimed: true}, c, "a free key: Kept zero, so the history or the list stays the witness")
}

func TestFileLedgerKeepsAtMostMaxOutcomesButEveryClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _, clock, _ := ledgers(t)
	a.max = 3
	_, err := a.Claim(ctx, "held", "h", time.Hour)
	require.NoError(t, err)
	for i := range 5 {
		key := string(rune('a' + i))
		_, err := a.Claim(ctx, key, "h", time.Minute)
		require.NoError(t, err)
		*clock = clock.Add(time.Second)
		require.NoError(t, a.Record(ctx, key, "h", loyalty.LedgerEntry{State: loyalty.LedgerApplied}, time.Hour))
	}
	for key, want := range map[string]bool{"a": true, "b": true, "c": false, "d": false, "e": false, "held": false} {
		c, err := a.Claim(ctx, key, "other", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, want, c.Claimed, "key %s: the two oldest outcomes are forgotten, the claim is not", key)
		if c.Claimed {
			require.NoError(t, a.Release(ctx, key, "other"))
		}
	}
}

// TestFileLedgerSurvivesKills kills a process while it claims and records as fast as it can,
// again and again: the next run always reads the ledger, and finds every outcome recorded
// before the kill.
func TestFileLedgerSurvivesKills(t *testing.T) {
	if path := os.Getenv("LOYALTY_LEDGER_CHURN"); path != "" {
		churn(path)
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.json")
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileLedgerSurvivesKills$")
		cmd.Env = append(os.Environ(), "LOYALTY_LEDGER_CHURN="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(out)
		var recorded []string
		for len(recorded) < 5+round*3 && lines.Scan() {
			recorded = append(recorded, lines.Text())
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()

		l, err := openFileLedger(path)
		require.NoError(t, err)
		for _, key := range recorded {
			c, err := l.Claim(context.Background(), key, "reader", time.Minute)
			require.NoError(t, err, "round %d: the ledger reads after a kill", round)
			assert.Equal(t, loyalty.LedgerApplied, c.Entry.State, "round %d: %s was recorded before the kill", round, key)
		}
	}
}

// churn claims and records keys without end, printing each key once its outcome is written.
func churn(path string) {
	l, err := openFileLedger(path)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		key := fmt.Sprintf("%d-%d", os.Getpid(), i)
		if _, err := l.Claim(ctx, key, "churn", time.Minute); err != nil {
			panic(err)
		}
		if err := l.Record(ctx, key, "churn", loyalty.LedgerEntry{State: loyalty.LedgerApplied}, time.Hour); err != nil {
			panic(err)
		}
		fmt.Println(key)
	}
}
