// Tests of typecache.go, and of the one GET that learns a card's type (operations.go).

package loyalty

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypeCacheHoldsItsSize(t *testing.T) {
	t.Parallel()
	const size = 10_000
	c := newTypeCache(size)
	ids := make([]string, size)
	for i := range ids {
		ids[i] = fmt.Sprintf("%06d-%03d-%03d", i, i%1000, i%997)
		c.put(ids[i], CardTypeStamp)
	}
	assert.Equal(t, size, c.len(), "full, not half")

	// A working set equal to the size, with misses put back as an action's look-up would.
	rng := rand.New(rand.NewPCG(1, 2))
	hits, gets := 0, 200_000
	for range gets {
		id := ids[rng.IntN(size)]
		if c.get(id) == CardTypeStamp {
			hits++
		} else {
			c.put(id, CardTypeStamp)
		}
	}
	rate := float64(hits) / float64(gets)
	t.Logf("hit rate on a working set of its size: %.2f%%", 100*rate)
	assert.GreaterOrEqual(t, rate, 0.99)

	// New cards push out the ones not used since the hand last passed.
	for i := range size / 2 {
		c.put(fmt.Sprintf("new-%d", i), CardTypeCoupon)
	}
	assert.Equal(t, size, c.len(), "never above its size")
}

func TestTypeCacheKeysAreNormalised(t *testing.T) {
	t.Parallel()
	c := newTypeCache(10)
	c.put(" 0F5B7A3C-1D2E-4F60-8A9B-0C1D2E3F4A5B ", CardTypeGift)
	assert.Equal(t, CardTypeGift, c.get("0f5b7a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b"))
}

func TestTypeCacheHitDoesNotAllocate(t *testing.T) {
	c := newTypeCache(10)
	c.put("638920-251-210", CardTypeStamp)
	allocs := testing.AllocsPerRun(1000, func() { _ = c.get("638920-251-210") })
	assert.Zero(t, allocs)
}

// TestTypeCacheMemory measures what a full cache of 100,000 cards costs, for the figure in
// the docs (typeCacheBytesPerCard).
func TestTypeCacheMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory; not with -short")
	}
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newTypeCache(n)
	for i := range n {
		c.put(fmt.Sprintf("%06d-%03d-%03d", i, i%1000, i%997), CardTypeStamp) // a serial as decoded
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perCard := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes a card, its serial included", perCard)
	assert.Less(t, perCard, float64(typeCacheBytesPerCard), "the documented figure holds")
	runtime.KeepAlive(c)
}

// Twenty actions on a card of unknown type at once share one look-up: each waits inside it
// until the card is read (the test holds the read until all twenty are in), and none reads
// the card again.
func TestConcurrentActionsOnAnUnknownCardShareOneLookUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, ts := setupInMemory(t)
		var gets atomic.Int32
		release := make(chan struct{})
		ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
			gets.Add(1)
			<-release
			_, _ = w.Write(fixtureBytes(t, "card.json"))
		})
		ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, _, err := c.Cards.AddStamps(context.Background(), "638920-251-210", 1, nil)
				assert.NoError(t, err)
			})
		}
		synctest.Wait() // every action is inside the look-up, blocked: none has passed it
		assert.Equal(t, int32(1), gets.Load(), "twenty actions waiting, one read of the card")
		close(release)
		wg.Wait()
		assert.Equal(t, int32(1), gets.Load(), "one look-up for twenty actions")
		assert.Len(t, ts.requests(), 21)
	})
}

func TestLookUpIsRememberedUnderTheCallersID(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var gets atomic.Int32
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		_, _ = w.Write(fixtureBytes(t, "card.json")) // the card answers with its serial as id
	})
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
	uuid := "0F5B7A3C-1D2E-4F60-8A9B-0C1D2E3F4A5B"
	for _, id := range []string{uuid, uuid, "0f5b7a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b", "638920-251-210"} {
		_, _, err := c.Cards.AddStamps(context.Background(), id, 1, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), gets.Load(), "the uuid, written either way, and the serial all hit the cache")
}

func TestALookUpStopsWithItsContext(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	release := make(chan struct{})
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Cards.AddStamps(ctx, "638920-251-210", 1, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestAJoinedLookUpSurvivesTheOtherActionsCancel(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var gets atomic.Int32
	first := make(chan struct{})
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) == 1 {
			close(first)
			<-r.Context().Done() // the first till gives up on this one
			return
		}
		_, _ = w.Write(fixtureBytes(t, "card.json"))
	})
	ts.reply("POST /api/v2/cards/{id}/add-stamp", http.StatusOK, "card.json")
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		_, _, err := c.Cards.AddStamps(leaderCtx, "638920-251-210", 1, nil)
		leaderDone <- err
	}()
	<-first
	joined := make(chan error)
	go func() {
		_, _, err := c.Cards.AddStamps(context.Background(), "638920-251-210", 1, nil)
		joined <- err
	}()
	waitForStack(t, "TestAJoinedLookUpSurvivesTheOtherActionsCancel", "singleflight.(*Group).Do", "sync.(*WaitGroup).Wait") // joined
	cancel()
	assert.ErrorIs(t, <-leaderDone, context.Canceled)
	require.NoError(t, <-joined, "the joined action looked the card up again on its own")
}

// waitForStack waits until a goroutine started by the test named has all of frames on its
// stack: a state to act in, observed rather than guessed with a sleep.
func waitForStack(t *testing.T, test string, frames ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if !strings.Contains(g, "created by ") || !strings.Contains(g, test) {
				continue
			}
			all := true
			for _, f := range frames {
				all = all && strings.Contains(g, f)
			}
			if all {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("no goroutine of %s reached %v", test, frames)
}
