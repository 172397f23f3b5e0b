// ApplyOnce and the create helpers under every fault the fake injects: 1,000 trials of lost
// answers, held requests and rival tills, none applied twice.

package loyalty_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// The fault tests' times. Only the injected faults outlast an attempt: every look-up read
// has the same per-attempt timeout, and must finish within it on a loaded machine. The
// server is done with any attempt faultHold after it arrived, so inFlight is above that.
const (
	attemptTimeout = 400 * time.Millisecond
	faultHold      = 1200 * time.Millisecond
	inFlight       = 1500 * time.Millisecond
)

// trialKind is one way an accrual can go wrong, as the fake injects it.
type trialKind struct {
	name  string
	fault *loyaltytest.Fault
	// rival has another till stamp the same card just after the attempt, so that the card
	// changes after the attempt began and the history must prove more.
	rival bool
}

var trialKinds = []trialKind{
	{"no fault", nil, false},
	{"dropped before it was applied", &loyaltytest.Fault{DropBefore: true, Times: 1}, false},
	{"applied, answer dropped", &loyaltytest.Fault{DropAfter: true, Times: 1}, false},
	{"500", &loyaltytest.Fault{Status: 500, Times: 1}, false},
	{"502", &loyaltytest.Fault{Status: 502, Times: 1}, false},
	{"503", &loyaltytest.Fault{Status: 503, Times: 1}, false},
	{"504", &loyaltytest.Fault{Status: 504, Times: 1}, false},
	{"timed out before it was applied", &loyaltytest.Fault{Latency: faultHold, Times: 1}, false},
	{"applied, timed out before the answer", &loyaltytest.Fault{DelayAnswer: faultHold, Times: 1}, false},
	{"dropped before, another till stamps the card", &loyaltytest.Fault{DropBefore: true, Times: 1}, true},
	{"applied and dropped, another till stamps the card", &loyaltytest.Fault{DropAfter: true, Times: 1}, true},
}

// TestApplyOnceNeverDoublesAnAccrual sends 1,000 stamps through ApplyOnce, each under one
// injected fault, against a fake whose history lags 80ms behind the cards, and counts for
// each receipt the history rows that carry it: never more than one, exactly one whenever
// ApplyOnce reported success.
func TestApplyOnceNeverDoublesAnAccrual(t *testing.T) {
	t.Parallel()
	synctest.Test(t, applyOnceNeverDoubles)
}

func applyOnceNeverDoubles(t *testing.T) {
	trials := 1000
	if testing.Short() {
		trials = 220
	}
	const lag = 80 * time.Millisecond
	clk := newShiftClock()
	srv := loyaltytest.NewServer(loyaltytest.WithHistoryLag(lag), loyaltytest.WithClock(clk.Now), loyaltytest.WithInMemoryNetwork())
	t.Cleanup(srv.Close)
	client, err := srv.NewClient(loyalty.WithTimeout(attemptTimeout), loyalty.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	rival, err := srv.NewClient()
	require.NoError(t, err)
	ctx := context.Background()
	// No lag is assumed: "not applied" waits out the in-flight bound.
	once := &loyalty.OnceOptions{Settle: 50 * time.Millisecond, InFlight: inFlight}

	cards := issueCards(t, srv, srv.Client, trials) // with the default timeout: setting up is not the test

	type result struct {
		kind    string
		err     error
		applied int
	}
	results := make([]result, trials)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range trials {
		kind := trialKinds[i%len(trialKinds)]
		id, ref := cards[i], fmt.Sprintf("receipt-%04d", i)
		if kind.fault != nil {
			f := *kind.fault
			f.Path = "/api/v2/cards/" + id + "/add-stamp"
			srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", f)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := runTrial(ctx, client, rival, id, ref, kind, once)
			results[i] = result{kind: kind.name, err: err}
		}()
	}
	wg.Wait()
	srv.ClearFaults()
	clk.shift(time.Hour) // the history shows every row

	rows := map[string]int{}
	for op, err := range srv.Client.Operations.All(ctx, &loyalty.OperationListOptions{ListOptions: loyalty.ListOptions{ItemsPerPage: 1000}}) {
		require.NoError(t, err)
		if ref, ok := loyalty.ReferenceOf(op.Comment); ok {
			rows[ref]++
		}
	}

	tally := map[string]map[string]int{}
	doubled := 0
	for i, r := range results {
		r.applied = rows[fmt.Sprintf("receipt-%04d", i)]
		verdict := "applied once"
		switch {
		case r.applied > 1:
			doubled++
			verdict = "DOUBLED"
		case r.err == nil && r.applied != 1:
			verdict = "reported success, not applied"
			t.Errorf("trial %d (%s): no error, but applied %d times", i, r.kind, r.applied)
		case r.err != nil && !loyalty.IsOutcomeUnknown(r.err):
			verdict = "failed: " + r.err.Error()
			t.Errorf("trial %d (%s): %v", i, r.kind, r.err)
		case r.err != nil && r.applied == 0:
			verdict = "unknown, not applied, not resent"
		case r.err != nil:
			verdict = "unknown, applied once, not resent"
		}
		if tally[r.kind] == nil {
			tally[r.kind] = map[string]int{}
		}
		tally[r.kind][verdict]++
	}
	t.Logf("%d trials, %d doubled:\n%s", trials, doubled, formatTally(tally))
	assert.Zero(t, doubled, "no receipt may be applied twice")
}

// runTrial applies one stamp with ApplyOnce under kind's fault (already injected), with
// another till stamping the card once the first attempt has begun when kind says so.
func runTrial(ctx context.Context, client, rival *loyalty.Client, id, ref string, kind trialKind, once *loyalty.OnceOptions) error {
	action := loyalty.Bind(client.Cards.AddStamps, 1)
	returned := make(chan struct{})
	var rivalDone sync.WaitGroup
	if kind.rival {
		began := make(chan struct{})
		var first sync.Once
		own := action
		action = func(ctx context.Context, id string, opts *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
			first.Do(func() { close(began) })
			return own(ctx, id, opts)
		}
		rivalDone.Add(1)
		go func() {
			defer rivalDone.Done()
			select {
			case <-began:
				_, _, _ = rival.Cards.AddStamps(ctx, id, 1, &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Comment: "till 9"})
			case <-returned: // nothing was sent: there is no attempt to follow
			}
		}()
	}
	_, _, err := client.Cards.ApplyOnce(ctx, id, action,
		&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref, Comment: "till 3"}, once)
	close(returned)
	rivalDone.Wait()
	return err
}

// formatTally lists a tally one kind a line, in a stable order.
func formatTally(tally map[string]map[string]int) string {
	var lines []string
	for kind, verdicts := range tally {
		var parts []string
		for v, n := range verdicts {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
		sort.Strings(parts)
		lines = append(lines, fmt.Sprintf("%-50s %s", kind, strings.Join(parts, ", ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// shiftClock is the machine's clock moved by a shift the test sets: a server clock that runs
// as real time does, and that a test can move ahead instead of waiting.
type shiftClock struct {
	mu  sync.Mutex
	off time.Duration
}

func newShiftClock() *shiftClock { return &shiftClock{} }

func (c *shiftClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *shiftClock) shift(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// issueCards issues n stamp cards, each to a customer of its own.
func issueCards(t *testing.T, srv *loyaltytest.Server, c *loyalty.Client, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx := context.Background()
			customer, _, err := c.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Trial", Phone: fmt.Sprintf("1555%07d", i)})
			if err == nil {
				var card *loyalty.Card
				card, _, err = c.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
				if err == nil {
					ids[i] = card.ID
				}
			}
			if err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, firstErr)
	return ids
}

// clock is a server clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var createFaults = []trialKind{
	{"no fault", nil, false},
	{"dropped before it was applied", &loyaltytest.Fault{DropBefore: true, Times: 1}, false},
	{"applied, answer dropped", &loyaltytest.Fault{DropAfter: true, Times: 1}, false},
	{"502", &loyaltytest.Fault{Status: 502, Times: 1}, false},
	{"applied, timed out before the answer", &loyaltytest.Fault{DelayAnswer: faultHold, Times: 1}, false},
}

// TestCreatesHappenOnceUnderFaults runs each create helper under each fault, then once more
// as a script run again would, and counts what exists: exactly one of each.
func TestCreatesHappenOnceUnderFaults(t *testing.T) {
	t.Parallel()
	// A lost create is sent again only once it can no longer land: InFlight after it ended.
	once := &loyalty.OnceOptions{Settle: 100 * time.Millisecond, InFlight: inFlight}
	const rounds = 2
	for k, kind := range createFaults {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { createsOnceUnder(t, k, kind, once, rounds) })
		})
	}
}

func createsOnceUnder(t *testing.T, k int, kind trialKind, once *loyalty.OnceOptions, rounds int) {
	srv := loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork())
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(loyalty.WithTimeout(attemptTimeout), loyalty.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	for r := range rounds {
		name := fmt.Sprintf("%s #%d", kind.name, r)
		inject := func(route string) {
			if kind.fault != nil {
				srv.InjectFault(route, *kind.fault)
			}
		}
		email := fmt.Sprintf("jane+%d-%d@example.com", r, k)

		inject("POST /api/v2/customers")
		req := &loyalty.CustomerCreateRequest{FirstName: "Jane", Email: email}
		customer, _, err := c.Customers.FindOrCreate(ctx, req)
		require.NoError(t, err, name)
		again, _, err := c.Customers.FindOrCreate(ctx, req)
		require.NoError(t, err, name)
		assert.Equal(t, customer.ID, again.ID, "%s: run again, the same customer", name)
		list, _, err := srv.Client.Customers.List(ctx, &loyalty.CustomerListOptions{Email: email})
		require.NoError(t, err)
		assert.Len(t, list, 1, "%s: one customer", name)

		inject("POST /api/v2/cards")
		issue := &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)}
		card, _, err := c.Cards.FindOrIssue(ctx, issue, once)
		require.NoError(t, err, name)
		card2, _, err := c.Cards.FindOrIssue(ctx, issue, once)
		require.NoError(t, err, name)
		assert.Equal(t, card.ID, card2.ID, "%s: run again, the same card", name)
		cards, _, err := srv.Client.Cards.List(ctx, &loyalty.CardListOptions{CustomerID: customer.ID})
		require.NoError(t, err)
		assert.Len(t, cards, 1, "%s: one card", name)

		inject("POST /api/v2/companies")
		company := &loyalty.CompanyCreateRequest{Name: "Bean There " + name, Email: email, Phone: "+15555550100", Country: "US",
			UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("change-me-1"), TariffID: 1, TariffPeriod: loyalty.TariffMonth}
		created, _, err := c.Companies.CreateOnce(ctx, company, once)
		if err != nil {
			// Only a create that never landed may end unknown: a second company with
			// the same email is not refused, so CreateOnce does not send again.
			require.True(t, loyalty.IsOutcomeUnknown(err), "%s: %v", name, err)
		}
		rerun, _, err := c.Companies.CreateOnce(ctx, company, once)
		require.NoError(t, err, "%s: the script run again", name)
		if created != nil {
			assert.Equal(t, created.ID, rerun.ID, "%s: the same company", name)
		}
		assert.NotEmpty(t, rerun.APIKey.Reveal(), "%s: read whole, with its key", name)
		n := 0
		for co, err := range srv.Client.Companies.All(ctx, nil) {
			require.NoError(t, err)
			if strings.EqualFold(co.Email, email) {
				n++
			}
		}
		assert.Equal(t, 1, n, "%s: one company", name)
		srv.ClearFaults()
	}
}

// An ActionFunc of the caller's own may report an unknown outcome with the sentinel alone,
// not an *OutcomeUnknownError: ApplyOnce must still answer with one, not panic.
func TestApplyOnceWithAnActionOfTheCallersOwn(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	id := issueCards(t, srv, srv.Client, 1)[0]
	own := func(ctx context.Context, id string, opts *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
		return nil, nil, fmt.Errorf("my gateway lost the answer: %w", loyalty.ErrOutcomeUnknown)
	}
	var err error
	require.NotPanics(t, func() {
		_, _, err = srv.Client.Cards.ApplyOnce(context.Background(), id, own, &loyalty.ActionOptions{Reference: "r-own"},
			&loyalty.OnceOptions{Settle: time.Millisecond, Lookups: 1, Sends: 1})
	})
	var unknown *loyalty.OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Contains(t, err.Error(), "my gateway lost the answer")
	assert.NotNil(t, unknown.Finding, "it says what the history told")
}
