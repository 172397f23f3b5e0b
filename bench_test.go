// Benchmarks: the SDK against bare net/http and go-retryablehttp twins (BENCHMARKS.md).

package loyalty

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"

	"github.com/loyaltycards/loyalty-go/internal/benchserver"
	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Each SDK benchmark has two twins: impl=bare, the same call written by hand with net/http and
// encoding/json, and impl=retryable, the same again on go-retryablehttp as a user of the
// SDK's stack would write it; both decode into the same models, over a pooled transport as
// careful hand-written code would use. Compare with benchstat -col /impl. BENCHMARKS.md has the figures and the commands; for per-call
// figures run the server in its own process (LOYALTY_BENCH_URL, see cmd/benchserver), so that
// its work does not blur the client's. cpu-ns/op is this process's CPU time per call.

const benchCard = "638920-251-210"

// benchURL is the server to measure against: LOYALTY_BENCH_URL, or one in this process.
func benchURL(b *testing.B) string {
	b.Helper()
	if u := os.Getenv("LOYALTY_BENCH_URL"); u != "" {
		return u
	}
	srv := httptest.NewServer(benchserver.Handler(0))
	b.Cleanup(srv.Close)
	return srv.URL
}

func benchSDK(b *testing.B, url string, opts ...Option) *Client {
	b.Helper()
	c, err := NewClient(testKey, append([]Option{WithBaseURL(url)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return c
}

// bareClient is what a careful hand-written client would use: net/http's default transport
// with as many idle connections per host as the SDK keeps, and a timeout.
func bareClient(b *testing.B) *http.Client {
	t := pooledTransport()
	b.Cleanup(t.CloseIdleConnections)
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * transport.DefaultIdleConnsPerHost
	t.MaxIdleConnsPerHost = transport.DefaultIdleConnsPerHost
	return t
}

// bareCall is the hand-written request: key header, JSON body, envelope decoded into out.
func bareCall(ctx context.Context, hc *http.Client, method, url string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", testKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	env := struct {
		ResponseID string    `json:"responseId"`
		Data       any       `json:"data"`
		Meta       *ListMeta `json:"meta"`
	}{Data: out}
	return json.NewDecoder(resp.Body).Decode(&env)
}

// retryableClient is go-retryablehttp as its users set it up: its own client over the same
// pool as the bare twin, its logger off (it prints every request to stderr otherwise).
func retryableClient(b *testing.B) *retryablehttp.Client {
	rc := retryablehttp.NewClient()
	rc.HTTPClient = bareClient(b)
	rc.Logger = nil
	return rc
}

// retryableCall is the hand-written request on go-retryablehttp.
func retryableCall(ctx context.Context, rc *retryablehttp.Client, method, url string, body any, out any) error {
	var raw any
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		raw = buf
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, url, raw)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", testKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := rc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	env := struct {
		ResponseID string    `json:"responseId"`
		Data       any       `json:"data"`
		Meta       *ListMeta `json:"meta"`
	}{Data: out}
	return json.NewDecoder(resp.Body).Decode(&env)
}

// measure runs f b.N times and reports this process's CPU time per call beside the wall time.
func measure(b *testing.B, f func() error) {
	b.Helper()
	b.ReportAllocs()
	before := cpuTime()
	n := 0
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-before)/float64(n), "cpu-ns/op")
	}
}

func BenchmarkRead(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url)
		measure(b, func() error { _, _, err := c.Cards.Get(ctx, benchCard); return err })
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			var card Card
			return bareCall(ctx, hc, "GET", url+"/api/v2/cards/"+benchCard, nil, &card)
		})
	})
	b.Run("impl=retryable", func(b *testing.B) {
		rc := retryableClient(b)
		measure(b, func() error {
			var card Card
			return retryableCall(ctx, rc, "GET", url+"/api/v2/cards/"+benchCard, nil, &card)
		})
	})
}

func BenchmarkActionTypeGiven(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url)
		opts := &ActionOptions{CardType: CardTypeStamp}
		measure(b, func() error { _, _, err := c.Cards.AddStamps(ctx, benchCard, 1, opts); return err })
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			var card Card
			return bareCall(ctx, hc, "POST", url+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
		})
	})
	b.Run("impl=retryable", func(b *testing.B) {
		rc := retryableClient(b)
		measure(b, func() error {
			var card Card
			return retryableCall(ctx, rc, "POST", url+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
		})
	})
}

// BenchmarkActionLookedUp: the card's type is not known, so the SDK reads the card first; the
// twin does the same GET by hand before its POST.
func BenchmarkActionLookedUp(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url, WithCardTypeCacheSize(0))
		measure(b, func() error { _, _, err := c.Cards.AddStamps(ctx, benchCard, 1, nil); return err })
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			var card Card
			if err := bareCall(ctx, hc, "GET", url+"/api/v2/cards/"+benchCard, nil, &card); err != nil {
				return err
			}
			if card.Type != CardTypeStamp {
				return fmt.Errorf("type %v", card.Type)
			}
			return bareCall(ctx, hc, "POST", url+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
		})
	})
	b.Run("impl=retryable", func(b *testing.B) {
		rc := retryableClient(b)
		measure(b, func() error {
			var card Card
			if err := retryableCall(ctx, rc, "GET", url+"/api/v2/cards/"+benchCard, nil, &card); err != nil {
				return err
			}
			if card.Type != CardTypeStamp {
				return fmt.Errorf("type %v", card.Type)
			}
			return retryableCall(ctx, rc, "POST", url+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
		})
	})
}

func BenchmarkCreate(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	req := &CustomerCreateRequest{FirstName: "Jane", Email: "jane.doe@example.com", Phone: "12135550142"}
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url)
		measure(b, func() error { _, _, err := c.Customers.Create(ctx, req); return err })
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			var customer Customer
			return bareCall(ctx, hc, "POST", url+"/api/v2/customers", req, &customer)
		})
	})
	b.Run("impl=retryable", func(b *testing.B) {
		rc := retryableClient(b)
		measure(b, func() error {
			var customer Customer
			return retryableCall(ctx, rc, "POST", url+"/api/v2/customers", req, &customer)
		})
	})
}

func benchPage(b *testing.B, per int) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url)
		opts := &CardListOptions{ListOptions: ListOptions{ItemsPerPage: per}}
		measure(b, func() error {
			cards, _, err := c.Cards.List(ctx, opts)
			if err == nil && len(cards) != per {
				err = fmt.Errorf("%d cards", len(cards))
			}
			return err
		})
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			var cards []Card
			err := bareCall(ctx, hc, "GET", fmt.Sprintf("%s/api/v2/cards?itemsPerPage=%d", url, per), nil, &cards)
			if err == nil && len(cards) != per {
				err = fmt.Errorf("%d cards", len(cards))
			}
			return err
		})
	})
}

func BenchmarkPage100(b *testing.B)  { benchPage(b, 100) }
func BenchmarkPage1000(b *testing.B) { benchPage(b, 1000) }

// BenchmarkIterate100k walks all 100,000 cards, 1,000 a page: All against a hand-written loop.
func BenchmarkIterate100k(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchSDK(b, url)
		measure(b, func() error {
			n := 0
			for _, err := range c.Cards.All(ctx, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 1000}}) {
				if err != nil {
					return err
				}
				n++
			}
			if n != benchserver.TotalCards {
				return fmt.Errorf("%d cards", n)
			}
			return nil
		})
	})
	b.Run("impl=bare", func(b *testing.B) {
		hc := bareClient(b)
		measure(b, func() error {
			n := 0
			for page := 1; ; page++ {
				var cards []Card
				if err := bareCall(ctx, hc, "GET", fmt.Sprintf("%s/api/v2/cards?page=%d&itemsPerPage=1000", url, page), nil, &cards); err != nil {
					return err
				}
				if len(cards) == 0 {
					break
				}
				n += len(cards)
				if n >= benchserver.TotalCards {
					break
				}
			}
			if n != benchserver.TotalCards {
				return fmt.Errorf("%d cards", n)
			}
			return nil
		})
	})
}

// BenchmarkClientWork is the client's own work on a read, an action and a create, with no
// network: both twins send through a RoundTripper that answers at once with the bench
// server's recorded answers. Over loopback, the client's CPU time also counts the kernel's
// and the scheduler's share of each exchange, which moves by a few percent with timing alone.
// Here only the code on each side is measured.
func BenchmarkClientWork(b *testing.B) {
	ctx := context.Background()
	rt := newRecordedAnswers(b)
	const base = "http://bench.invalid"
	customer := &CustomerCreateRequest{FirstName: "Jane", Email: "jane.doe@example.com", Phone: "12135550142"}
	ops := []struct {
		name string
		sdk  func(c *Client) error
		bare func(hc *http.Client) error
		rtbl func(rc *retryablehttp.Client) error
	}{
		{"read",
			func(c *Client) error { _, _, err := c.Cards.Get(ctx, benchCard); return err },
			func(hc *http.Client) error {
				var card Card
				return bareCall(ctx, hc, "GET", base+"/api/v2/cards/"+benchCard, nil, &card)
			},
			func(rc *retryablehttp.Client) error {
				var card Card
				return retryableCall(ctx, rc, "GET", base+"/api/v2/cards/"+benchCard, nil, &card)
			}},
		{"action",
			func(c *Client) error {
				_, _, err := c.Cards.AddStamps(ctx, benchCard, 1, &ActionOptions{CardType: CardTypeStamp})
				return err
			},
			func(hc *http.Client) error {
				var card Card
				return bareCall(ctx, hc, "POST", base+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
			},
			func(rc *retryablehttp.Client) error {
				var card Card
				return retryableCall(ctx, rc, "POST", base+"/api/v2/cards/"+benchCard+"/add-stamp", map[string]int{"stamps": 1}, &card)
			}},
		{"create",
			func(c *Client) error { _, _, err := c.Customers.Create(ctx, customer); return err },
			func(hc *http.Client) error {
				var out Customer
				return bareCall(ctx, hc, "POST", base+"/api/v2/customers", customer, &out)
			},
			func(rc *retryablehttp.Client) error {
				var out Customer
				return retryableCall(ctx, rc, "POST", base+"/api/v2/customers", customer, &out)
			}},
	}
	for _, op := range ops {
		b.Run("op="+op.name+"/impl=sdk", func(b *testing.B) {
			c := benchSDK(b, base, WithHTTPClient(&http.Client{Transport: rt}), WithInsecureHTTP())
			measure(b, func() error { return op.sdk(c) })
		})
		b.Run("op="+op.name+"/impl=bare", func(b *testing.B) {
			hc := &http.Client{Transport: rt} // no Timeout: with a RoundTripper net/http does not know, it would start a goroutine a call
			measure(b, func() error { return op.bare(hc) })
		})
		b.Run("op="+op.name+"/impl=retryable", func(b *testing.B) {
			rc := retryablehttp.NewClient()
			rc.HTTPClient, rc.Logger = &http.Client{Transport: rt}, nil
			measure(b, func() error { return op.rtbl(rc) })
		})
	}
}

// recordedAnswers is a RoundTripper that plays back the bench server's answers, recorded once
// per method and path. Like net/http, it reads and closes the request's body.
type recordedAnswers map[string]*httptest.ResponseRecorder

func newRecordedAnswers(b *testing.B) recordedAnswers {
	b.Helper()
	h := benchserver.Handler(0)
	r := recordedAnswers{}
	for _, mp := range [][2]string{{"GET", "/api/v2/cards/" + benchCard}, {"POST", "/api/v2/cards/" + benchCard + "/add-stamp"}, {"POST", "/api/v2/customers"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(mp[0], mp[1], nil))
		r[mp[0]+" "+mp[1]] = rec
	}
	return r
}

func (r recordedAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	rec, ok := r[req.Method+" "+req.URL.Path]
	if !ok {
		return nil, fmt.Errorf("no recorded answer for %s %s", req.Method, req.URL.Path)
	}
	body := rec.Body.Bytes()
	return &http.Response{StatusCode: rec.Code, Header: rec.Header(), ContentLength: int64(len(body)),
		Body: io.NopCloser(bytes.NewReader(body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// BenchmarkBulk runs 2,000 reads at concurrency 8, 32 and 128 against a server that takes 5ms
// an answer, and counts the TCP connections it accepted. The bare twin uses net/http's
// defaults (2 idle connections per host), as most hand-written code does.
func BenchmarkBulk(b *testing.B) {
	const calls = 2000
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(benchserver.Handler(5 * time.Millisecond))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	for _, workers := range []int{8, 32, 128} {
		for _, impl := range []string{"sdk", "bare"} {
			b.Run(fmt.Sprintf("conc=%d/impl=%s", workers, impl), func(b *testing.B) {
				var total int64
				rounds := 0
				for b.Loop() {
					conns.Store(0)
					var get func(ctx context.Context) error
					var closeIdle func()
					if impl == "sdk" {
						c := benchSDK(b, srv.URL) // a fresh client: its pool starts cold
						get = func(ctx context.Context) error { _, _, err := c.Cards.Get(ctx, benchCard); return err }
						closeIdle = c.CloseIdleConnections
					} else {
						t := http.DefaultTransport.(*http.Transport).Clone()
						hc := &http.Client{Transport: t, Timeout: 30 * time.Second}
						get = func(ctx context.Context) error {
							var card Card
							return bareCall(ctx, hc, "GET", srv.URL+"/api/v2/cards/"+benchCard, nil, &card)
						}
						closeIdle = t.CloseIdleConnections
					}
					runConcurrently(b, calls, workers, get)
					total += conns.Load()
					rounds++
					closeIdle()
				}
				b.ReportMetric(float64(total)/float64(rounds), "conns/round")
			})
		}
	}
}

func runConcurrently(b *testing.B, calls, workers int, get func(ctx context.Context) error) {
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if err := get(context.Background()); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for range calls {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
}

// BenchmarkActionCheckCached is the card-type check of an action on a card whose type is
// cached: no allocation, tens of nanoseconds.
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

// BenchmarkRateLimit has 32 goroutines call as fast as they can through one client limited to
// 200 requests a second, for 10 seconds (2 with -short), and reports the rate the server saw
// and the busiest one-second window. A token bucket admits at most burst + rate·T requests in
// any window of T, so the window should not pass 201, and the achieved rate should be within
// 5% of 200; the figures are reported, not asserted.
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
	// A benchmark reports; it does not judge the scheduler. Arrivals are stamped by the
	// server after the network, so a loaded machine can bunch them past limit+burst.
	if busiest > limit+burst || achieved < 0.95*limit {
		b.Logf("achieved %.1f req/s, busiest second %d (limit %d, burst %d)", achieved, busiest, limit, burst)
	}
}
