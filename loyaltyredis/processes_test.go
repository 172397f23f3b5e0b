package loyaltyredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// workerEnv carries a worker's task to this test binary run again as another process.
const workerEnv = "LOYALTYREDIS_WORKER"

// task is what one worker process does.
type task struct {
	Kind       string        // "limit" or "ledger"
	RedisAddr  string        `json:",omitempty"`
	Prefix     string        `json:",omitempty"`
	BaseURL    string        `json:",omitempty"`
	APIKey     string        `json:",omitempty"`
	Goroutines int           `json:",omitempty"`
	For        time.Duration `json:",omitempty"` // limit: how long to keep calling
	PerSecond  float64       `json:",omitempty"`
	Burst      int           `json:",omitempty"`
	Cards      []string      `json:",omitempty"` // ledger: the cards the references stamp
	References int           `json:",omitempty"`
	Seed       uint64        `json:",omitempty"`
}

// outcome is what a worker reports on its stdout.
type outcome struct {
	Calls   int
	Outcome map[string]int // ledger: how each call ended
	Errors  []string       // anything unexpected
}

// runWorker runs one worker's task and prints its outcome; the exit status is 0 unless the
// worker could not run at all.
func runWorker(spec string) int {
	var tk task
	if err := json.Unmarshal([]byte(spec), &tk); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: tk.RedisAddr})
	defer rdb.Close()
	opts := []loyalty.Option{loyalty.WithBaseURL(tk.BaseURL), loyalty.WithRetryWait(time.Millisecond, 20*time.Millisecond)}
	var out outcome
	switch tk.Kind {
	case "limit":
		limiter, err := NewRateLimiter(rdb, tk.PerSecond, tk.Burst, WithPrefix(tk.Prefix))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		opts = append(opts, loyalty.WithRateLimiter(limiter))
	case "ledger":
		opts = append(opts, loyalty.WithLedger(NewLedger(rdb, WithPrefix(tk.Prefix))))
	}
	client, err := loyalty.NewClient(tk.APIKey, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	note := func(kind string, err error) {
		mu.Lock()
		defer mu.Unlock()
		out.Calls++
		if out.Outcome == nil {
			out.Outcome = map[string]int{}
		}
		out.Outcome[kind]++
		if err != nil && len(out.Errors) < 20 {
			out.Errors = append(out.Errors, err.Error())
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	switch tk.Kind {
	case "limit":
		end := time.Now().Add(tk.For)
		for range tk.Goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					_, _, err := client.Profile.Get(ctx)
					if err != nil {
						note("error", err)
						continue
					}
					note("ok", nil)
				}
			}()
		}
	case "ledger":
		order := rand.New(rand.NewPCG(tk.Seed, 1)).Perm(tk.References) // each process in its own order
		next := make(chan int)
		go func() {
			for _, i := range order {
				next <- i
			}
			close(next)
		}()
		once := &loyalty.OnceOptions{Settle: 5 * time.Millisecond, InFlight: 200 * time.Millisecond}
		for range tk.Goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					card := tk.Cards[i%len(tk.Cards)]
					_, _, err := client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1),
						&loyalty.ActionOptions{Reference: reference(i)}, once)
					switch {
					case err == nil:
						note("applied", nil)
					case errors.Is(err, loyalty.ErrAlreadyApplied):
						note("already applied", nil)
					case loyalty.IsOutcomeUnknown(err):
						note("unknown", err)
					default:
						note("error", err)
					}
				}
			}()
		}
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return 2
	}
	return 0
}

func reference(i int) string { return fmt.Sprintf("receipt-%04d", i) }

// runWorkers runs n copies of this test binary with tk, and returns their outcomes.
func runWorkers(t *testing.T, n int, tk task) []outcome {
	t.Helper()
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		tk := tk
		tk.Seed = uint64(i + 1)
		spec, err := json.Marshal(tk)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"="+string(spec))
		wg.Add(1)
		go func() {
			defer wg.Done()
			stdout, err := cmd.Output()
			var stderr string
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				stderr = string(ee.Stderr)
			}
			if !assert.NoError(t, err, "worker %d: %s", i, stderr) {
				return
			}
			assert.NoError(t, json.Unmarshal(stdout, &results[i]), "worker %d said %q", i, stdout)
		}()
	}
	wg.Wait()
	return results
}

// arrivals records when each request reached the fake, on one clock: this process's.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

// front puts a recorder in front of the fake, and returns its URL.
func (a *arrivals) front(t *testing.T, fake *loyaltytest.Server) string {
	target, err := url.Parse(fake.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.at = append(a.at, time.Now())
		a.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Four processes of eight goroutines each share one key's limit of 10 a second through Redis:
// no second at the fake sees more than the limit and the burst, and the run achieves at least
// 95% of the limit.
func TestLimitSharedByFourProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 5 s")
	}
	const (
		processes, goroutines = 4, 8
		perSecond, burst      = 10, 5
		runFor                = 5 * time.Second
	)
	addr := sharedAddr(t)
	_, prefix := newRedis(t, addr)
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	var seen arrivals
	base := seen.front(t, fake)

	results := runWorkers(t, processes, task{Kind: "limit", RedisAddr: addr, Prefix: prefix, BaseURL: base, APIKey: fake.APIKey,
		Goroutines: goroutines, For: runFor, PerSecond: perSecond, Burst: burst})
	calls := 0
	for i, r := range results {
		calls += r.Calls
		assert.Zero(t, r.Outcome["error"], "worker %d: %v", i, r.Errors)
	}

	at := slices.Clone(seen.at)
	require.NotEmpty(t, at)
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	perSecondSeen := map[int64]int{}
	for _, a := range at {
		perSecondSeen[a.Unix()]++
	}
	most, slidingMost := 0, 0
	for _, n := range perSecondSeen {
		most = max(most, n)
	}
	for i, j := 0, 0; j < len(at); j++ { // any window of one second, not only whole seconds
		for at[j].Sub(at[i]) >= time.Second {
			i++
		}
		slidingMost = max(slidingMost, j-i+1)
	}
	span := at[len(at)-1].Sub(at[0])
	achieved := float64(len(at)-burst) / span.Seconds() // the burst is on top of the rate
	t.Logf("%d processes × %d goroutines, limit %d/s burst %d: %d requests in %.2f s; most in one second %d (any 1 s window: %d); achieved %.2f/s (%.1f%% of the limit)",
		processes, goroutines, perSecond, burst, len(at), span.Seconds(), most, slidingMost, achieved, 100*achieved/perSecond)
	assert.Equal(t, calls, len(at), "every call reached the fake once")
	assert.LessOrEqual(t, most, perSecond+burst, "no second above the limit and the burst")
	assert.GreaterOrEqual(t, achieved, 0.95*perSecond, "at least 95%% of the limit")
}

// issueStampCards issues n stamp cards on the fake.
func issueStampCards(t *testing.T, fake *loyaltytest.Server, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		cu, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Holder", Phone: fmt.Sprintf("1555%07d", i)})
		require.NoError(t, err)
		card, _, err := fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: fake.TemplateNamed(loyaltytest.TemplateStampVisits)})
		require.NoError(t, err)
		ids = append(ids, card.ID)
	}
	return ids
}

// appliedRows counts the history rows of each reference.
func appliedRows(t *testing.T, fake *loyaltytest.Server) map[string]int {
	t.Helper()
	rows := map[string]int{}
	for op, err := range fake.Client.Operations.All(context.Background(), &loyalty.OperationListOptions{ListOptions: loyalty.ListOptions{ItemsPerPage: 1000}}) {
		require.NoError(t, err)
		if ref, ok := loyalty.ReferenceOf(op.Comment); ok {
			rows[ref]++
		}
	}
	return rows
}

// Four processes submit the same 1,000 references, each in its own order, while the answers
// to the first 150 stamps are lost after the stamp was applied: every reference is applied
// exactly once.
func TestSameReferencesFromFourProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("4 processes, 4,000 calls")
	}
	const processes, references, lost = 4, 1000, 150
	addr := sharedAddr(t)
	_, prefix := newRedis(t, addr)
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	cards := issueStampCards(t, fake, 50)
	fake.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: lost})

	results := runWorkers(t, processes, task{Kind: "ledger", RedisAddr: addr, Prefix: prefix, BaseURL: fake.URL, APIKey: fake.APIKey,
		Goroutines: 8, Cards: cards, References: references})
	tally := map[string]int{}
	for i, r := range results {
		for k, n := range r.Outcome {
			tally[k] += n
		}
		assert.Zero(t, r.Outcome["error"]+r.Outcome["unknown"], "worker %d: %v", i, r.Errors)
	}
	fake.WaitIdle()
	rows := appliedRows(t, fake)
	doubled, once := 0, 0
	for i := range references {
		switch n := rows[reference(i)]; {
		case n > 1:
			doubled++
		case n == 1:
			once++
		}
	}
	t.Logf("%d processes × %d references, answers to %d stamps lost: %d calls %v; applied once %d, applied twice or more %d; add-stamp sent %d times",
		processes, references, lost, processes*references, tally, once, doubled, fake.Requests("POST /api/v2/cards/{id}/add-stamp"))
	assert.Zero(t, doubled, "no reference applied twice")
	assert.Equal(t, references, once, "every reference applied")
	assert.Equal(t, references, tally["applied"], "each applied by exactly one call; the others were told it was already")
}

// Redis killed in the middle of a run and started again (empty: it keeps nothing on disk):
// calls fail with a typed error or "unknown" while it is down, nothing is applied twice,
// and the work resumes after the restart.
func TestRedisRestartMidRun(t *testing.T) {
	rs := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	cards := issueStampCards(t, fake, 20)
	client, err := fake.NewClient(loyalty.WithLedger(NewLedger(rdb)), loyalty.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	once := &loyalty.OnceOptions{Settle: 5 * time.Millisecond, InFlight: 100 * time.Millisecond}

	const references, stopAfter, restartAfter = 400, 100, 40
	var (
		mu             sync.Mutex
		pending        = make([]int, references)
		done, failures int
		failed         = map[string]int{}
		afterRestart   int
		restarted      bool
		stop           = make(chan struct{})
		restart        = make(chan struct{})
		back           = make(chan struct{}) // closed once Redis is up again
	)
	for i := range pending {
		pending[i] = i
	}
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(pending) == 0 {
			return 0, false
		}
		i := pending[0]
		pending = pending[1:]
		return i, true
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				_, _, err := client.Cards.ApplyOnce(ctx, cards[i%len(cards)], loyalty.Bind(client.Cards.AddStamps, 1),
					&loyalty.ActionOptions{Reference: reference(i)}, once)
				mu.Lock()
				switch {
				case err == nil || errors.Is(err, loyalty.ErrAlreadyApplied):
					done++
					if restarted {
						afterRestart++
					}
					if done == stopAfter {
						close(stop)
					}
				case errors.Is(err, loyalty.ErrLedger), loyalty.IsOutcomeUnknown(err):
					kind := "ledger"
					if !errors.Is(err, loyalty.ErrLedger) {
						kind = "unknown"
					}
					failed[kind]++
					failures++
					pending = append(pending, i) // try it again later
					if failures == restartAfter {
						close(restart)
					}
					if failures >= restartAfter {
						mu.Unlock()
						<-back // enough seen: wait for Redis rather than spin
						// go-redis answers with its last dial error for a moment after
						// Redis is back; a caller would pace its retries, so does this.
						time.Sleep(5 * time.Millisecond)
						continue
					}
				default:
					t.Errorf("reference %d: an error neither typed as the ledger's nor unknown: %v", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	<-stop
	rs.stop()
	<-restart
	rs.start(t)
	mu.Lock()
	restarted = true
	mu.Unlock()
	close(back)
	wg.Wait()

	rows := appliedRows(t, fake)
	doubled, once_ := 0, 0
	for i := range references {
		switch rows[reference(i)] {
		case 0:
		case 1:
			once_++
		default:
			doubled++
		}
	}
	t.Logf("%d references, Redis killed after %d and started again after %d failed calls %v: applied once %d, twice or more %d, %d done after the restart",
		references, stopAfter, restartAfter, failed, once_, doubled, afterRestart)
	assert.Zero(t, doubled, "nothing applied twice")
	assert.Equal(t, references, once_, "every reference applied in the end")
	assert.Positive(t, afterRestart, "the work resumed after the restart")
	assert.Positive(t, failed["ledger"], "calls failed with ErrLedger while Redis was down")
}

// A Redis that cannot be reached from the start: the ledger fails closed (ErrLedger, nothing
// sent); the limiter keeps the limit in memory, or with WithFailClosed refuses (ErrUnavailable,
// nothing sent).
func TestRedisUnreachable(t *testing.T) {
	l, err := (&net0{}).closedPort()
	require.NoError(t, err)
	var reported atomic.Int32
	rdb := redis.NewClient(&redis.Options{Addr: l, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	card := issueStampCards(t, fake, 1)[0]
	ctx := context.Background()
	before := fake.Report().Total

	client, err := fake.NewClient(loyalty.WithLedger(NewLedger(rdb, WithErrorHandler(func(error) { reported.Add(1) }))))
	require.NoError(t, err)
	_, _, err = client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1), &loyalty.ActionOptions{Reference: "r-1"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	_, _, err = client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550999"})
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	assert.Equal(t, before, fake.Report().Total, "the ledger fails closed: nothing sent")
	assert.Positive(t, reported.Load(), "the error handler was told")
	assert.NotContains(t, err.Error(), fake.APIKey)

	limiter, err := NewRateLimiter(rdb, 1000, 10)
	require.NoError(t, err)
	client, err = fake.NewClient(loyalty.WithRateLimiter(limiter))
	require.NoError(t, err)
	for range 3 {
		_, _, err = client.Profile.Get(ctx)
		require.NoError(t, err, "the limit is kept in memory while Redis is away")
	}

	closed, err := NewRateLimiter(rdb, 1000, 10, WithFailClosed())
	require.NoError(t, err)
	client, err = fake.NewClient(loyalty.WithRateLimiter(closed))
	require.NoError(t, err)
	n := fake.Requests("GET /api/v2/profile")
	_, _, err = client.Profile.Get(ctx)
	assert.ErrorIs(t, err, ErrUnavailable)
	_, _, err = client.Cards.AddStamps(ctx, card, 1, nil)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.False(t, loyalty.IsOutcomeUnknown(err), "refused before sending: the outcome is known")
	assert.Equal(t, n, fake.Requests("GET /api/v2/profile"), "nothing sent")
	assert.Zero(t, fake.Requests("POST /api/v2/cards/{id}/add-stamp"))
}

// Nothing the adapter writes to Redis holds the API key, a reference or a customer's data.
func TestNoSecretInRedis(t *testing.T) {
	rdb, prefix := newRedis(t, sharedAddr(t))
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	card := issueStampCards(t, fake, 1)[0]
	agedEpoch(t, rdb, prefix, time.Hour) // a Redis that lost nothing lately: no wait before a first send
	limiter, err := NewRateLimiter(rdb, 100, 10, WithPrefix(prefix))
	require.NoError(t, err)
	client, err := fake.NewClient(loyalty.WithLedger(NewLedger(rdb, WithPrefix(prefix))), loyalty.WithRateLimiter(limiter))
	require.NoError(t, err)
	ctx := context.Background()
	_, _, err = client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1), &loyalty.ActionOptions{Reference: "receipt-secretive"}, nil)
	require.NoError(t, err)
	_, _, err = client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Email: "ann.private@example.com"})
	require.NoError(t, err)

	found := keysUnder(t, rdb, "*"+strings.TrimSuffix(prefix, ":")+"*")
	require.NotEmpty(t, found)
	for k, v := range found {
		for _, secret := range []string{fake.APIKey, "receipt-secretive", "ann.private", "example.com"} {
			assert.NotContains(t, k, secret)
			assert.NotContains(t, v, secret)
		}
	}
	t.Logf("keys written: %d, such as %v", len(found), slices.Sorted(func(yield func(string) bool) {
		for k := range found {
			if !yield(k) {
				return
			}
		}
	})[:2])
}
