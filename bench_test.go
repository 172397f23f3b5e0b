package loyalty

import (
	"github.com/loyaltycards/loyalty-go/internal/transport"

	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The SDK's Get against the same call written by hand with net/http and encoding/json. The
// target: at most 1.10x the bare time and 15 more allocations per call. Compare with
// go test -run '^$' -bench 'GetCard' -benchmem.

func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	body := fixtureBytes(b, "card.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchClient is a client of benchServer.
func benchClient(b *testing.B) *Client {
	b.Helper()
	c, err := NewClient(testKey, WithBaseURL(benchServer(b).URL))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkGetCardSDK(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		card, _, err := c.Cards.Get(ctx, "638920-251-210")
		if err != nil || card.ID == "" {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetCardBare(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: pooledTransport(), Timeout: 30 * time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v2/cards/638920-251-210", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("X-API-Key", testKey)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "bare")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var env struct {
			ResponseID string `json:"responseId"`
			Data       Card   `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || env.Data.ID == "" {
			b.Fatal(err)
		}
	}
}

// BenchmarkConcurrentGetsConnections runs 2,000 GETs, 32 at a time, against a server that
// takes 5 ms per answer, and reports the TCP connections the server accepted: with the pool
// sized for bulk work it stays near the concurrency instead of growing with the call count.
func BenchmarkConcurrentGetsConnections(b *testing.B) {
	const calls, concurrency = 2000, 32
	body := fixtureBytes(b, "card.json")
	srv, conns := connCountingServer(b, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		_, _ = w.Write(body)
	})
	var rounds, total int64
	for b.Loop() {
		// A fresh client each round: its pool starts cold, so every connection it needs is new.
		c, err := NewClient(testKey, WithBaseURL(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		conns.Store(0)
		ids := make(chan string)
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					if _, _, err := c.Cards.Get(context.Background(), id); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := range calls {
			ids <- fmt.Sprint(i)
		}
		close(ids)
		wg.Wait()
		rounds++
		total += conns.Load()
		c.CloseIdleConnections()
	}
	b.ReportMetric(float64(total)/float64(rounds), "conns/round")
}

// The action check on a card whose type is cached, alone and as part of a full action,
// against the same POST sent without it. The target: a few hundred nanoseconds
// and no allocation per call.

func BenchmarkActionCheckCached(b *testing.B) {
	c, err := NewClient(testKey)
	if err != nil {
		b.Fatal(err)
	}
	c.cardTypes.put("638920-251-210", CardTypeStamp)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Cards.check(ctx, "638920-251-210", ActionAddStamps, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActionAddStampsChecked(b *testing.B) {
	c := benchClient(b)
	c.cardTypes.put("638920-251-210", CardTypeStamp)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Cards.AddStamps(ctx, "638920-251-210", 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActionAddStampsBarePOST(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _, err := fetch[Card](ctx, c, call{method: "POST", path: "cards/638920-251-210/add-stamp", body: stampsBody{Stamps: 1}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// pooledTransport is what a careful hand-written client would use: net/http's default
// transport with as many idle connections per host as the SDK keeps.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * transport.DefaultIdleConnsPerHost
	t.MaxIdleConnsPerHost = transport.DefaultIdleConnsPerHost
	return t
}

// BenchmarkRateLimit has 32 goroutines call as fast as they can through one client limited to
// 200 requests a second, for 10 seconds (2 with -short), and reports the rate the server saw
// and the busiest one-second window. A token bucket admits at most burst + rate·T requests in
// any window of T, so the window may never pass 201; the achieved rate should be within 5% of
// 200.
func BenchmarkRateLimit(b *testing.B) {
	const limit, burst, workers = 200, 1, 32
	window := 10 * time.Second
	if testing.Short() {
		window = 2 * time.Second
	}
	body := fixtureBytes(b, "card.json")
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	c, err := NewClient(testKey, WithBaseURL(srv.URL), WithRateLimit(limit, burst))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		mu.Lock()
		arrivals = arrivals[:0]
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), window)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					_, _, _ = c.Cards.Get(ctx, "1")
				}
			}()
		}
		wg.Wait()
		cancel()
	}
	mu.Lock()
	defer mu.Unlock()
	achieved := float64(len(arrivals)) / window.Seconds()
	busiest := 0
	for i, j := 0, 0; j < len(arrivals); j++ {
		for arrivals[j].Sub(arrivals[i]) >= time.Second {
			i++
		}
		busiest = max(busiest, j-i+1)
	}
	b.ReportMetric(achieved, "req/s")
	b.ReportMetric(float64(busiest), "max-req-in-1s")
	if busiest > limit+burst {
		b.Errorf("%d requests in one second, above the limit of %d", busiest, limit)
	}
	if achieved < 0.95*limit {
		b.Logf("achieved %.1f req/s, more than 5%% below the limit of %d", achieved, limit)
	}
}
