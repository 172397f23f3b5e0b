// A long run under faults (LOYALTY_SOAK=1): no goroutine or memory left behind.

package loyalty_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// TestSoak drives 100,000 calls through one client against the fake, under a rotation of
// faults, and checks that goroutines and heap come back to where they started: a client
// that leaks a little per call would take a merchant's server down after months. It takes a
// few minutes, so it runs only with LOYALTY_SOAK set (LOYALTY_SOAK=20000 for fewer calls).
func TestSoak(t *testing.T) {
	calls, _ := strconv.Atoi(os.Getenv("LOYALTY_SOAK"))
	if os.Getenv("LOYALTY_SOAK") == "" {
		t.Skip("set LOYALTY_SOAK=1 (100,000 calls) or LOYALTY_SOAK=<calls> to run the soak test")
	}
	if calls < 1000 {
		calls = 100_000
	}
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient(loyalty.WithRetryWait(0, time.Millisecond), loyalty.WithRetryAfterScale(0.001), loyalty.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cards := make([]string, 64)
	for i := range cards {
		cu, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Soak", Phone: fmt.Sprintf("1555%07d", i)})
		if err != nil {
			t.Fatal(err)
		}
		card, _, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
		if err != nil {
			t.Fatal(err)
		}
		cards[i] = card.ID
	}

	warm := func() { // a few calls, so the pool and caches exist before the baseline
		for _, id := range cards {
			_, _, _ = client.Cards.Get(ctx, id)
		}
	}
	warm()
	client.CloseIdleConnections() // the pool's idle connections are not a leak: count without them
	goroutines, heap := settle()
	t.Logf("baseline: %d goroutines, %.1f MB heap", goroutines, float64(heap)/(1<<20))

	faults := []loyaltytest.Fault{{Status: 503, RetryAfter: 1, Times: 1}, {DropBefore: true, Times: 1}, {DropAfter: true, Times: 1},
		{MalformedJSON: true, Times: 1}, {Status: 429, RetryAfter: 1, Times: 1}, {Latency: 5 * time.Millisecond, Times: 1}}
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < calls; i += 32 {
				id := cards[i%len(cards)]
				if i%97 == 0 {
					route := "GET /api/v2/cards/{id}"
					if i%2 == 0 {
						route = "POST /api/v2/cards/{id}/add-stamp"
					}
					srv.InjectFault(route, faults[i%len(faults)])
				}
				var err error
				if i%4 == 0 {
					_, _, err = client.Cards.AddStamps(ctx, id, 1, &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp})
				} else {
					_, _, err = client.Cards.Get(ctx, id)
				}
				if err != nil {
					failed.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	srv.ClearFaults()
	t.Logf("%d calls in %s, %d ended in an error (the faults)", done.Load(), time.Since(start).Round(time.Millisecond), failed.Load())

	warm()
	client.CloseIdleConnections()
	g, h := settle()
	t.Logf("after: %d goroutines, %.1f MB heap", g, float64(h)/(1<<20))
	if g > goroutines+4 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines grew from %d to %d:\n%s", goroutines, g, buf[:runtime.Stack(buf, true)])
	}
	if h > 2*heap+8<<20 {
		t.Errorf("heap grew from %.1f MB to %.1f MB", float64(heap)/(1<<20), float64(h)/(1<<20))
	}
}

// settle waits for the goroutine count to stop moving, collects garbage, and reports the
// goroutines and the live heap.
func settle() (int, uint64) {
	prev := -1
	for range 50 {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n == prev {
			break
		}
		prev = n
		time.Sleep(100 * time.Millisecond)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return prev, m.HeapAlloc
}
