// Tests of apply_once.go and of the create helpers (create_once.go, with FindOrCreate, FindOrIssue
// and CreateOnce): once across calls, goroutines, clients and clocks, and the looks before a send.

package loyalty_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// rowsWith counts the history rows of the card that carry ref, whatever the history's lag:
// it reads the history through a server clock moved far ahead.
func rowsWith(t *testing.T, c *loyalty.Client, id, ref string) int {
	t.Helper()
	n := 0
	for op, err := range c.Operations.All(context.Background(), &loyalty.OperationListOptions{CardID: id}) {
		require.NoError(t, err)
		if got, ok := loyalty.ReferenceOf(op.Comment); ok && got == ref {
			n++
		}
	}
	return n
}

// stampCard issues one stamp card on srv.
func stampCard(t *testing.T, srv *loyaltytest.Server) string {
	t.Helper()
	return issueCards(t, srv, srv.Client, 1)[0]
}

// A server whose clock is two days off the machine's, either way: the stamp whose answer was
// lost is found in the history, not sent again.
func TestApplyOnceHoldsUnderServerClockSkew(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{48 * time.Hour, -48 * time.Hour, 49 * time.Hour, -49 * time.Hour} {
		t.Run(offset.String(), func(t *testing.T) {
			t.Parallel()
			srv := loyaltytest.NewServer(loyaltytest.WithClockOffset(offset))
			t.Cleanup(srv.Close)
			id := stampCard(t, srv)
			srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
			card, _, err := srv.Client.Cards.ApplyOnce(context.Background(), id, loyalty.Bind(srv.Client.Cards.AddStamps, 2),
				&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "r-skew"}, &loyalty.OnceOptions{Settle: 10 * time.Millisecond})
			require.NoError(t, err)
			assert.Equal(t, 2, card.Balance.NumberStampsTotal, "two stamps, not four")
			assert.Equal(t, 1, rowsWith(t, srv.Client, id, "r-skew"))
		})
	}
}

// A receipt sent again (by the POS, by a worker restarted after a crash) is applied once:
// in a row on one client, on another client of the process, on a client with a ledger of
// its own (as another process would be, with only the history to go by), and by eight
// goroutines at once.
func TestApplyOnceIsOnceAcrossCalls(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	other, err := srv.NewClient()
	require.NoError(t, err)
	process, err := srv.NewClient(loyalty.WithLedger(loyalty.NewMemoryLedger(0)))
	require.NoError(t, err)
	once := &loyalty.OnceOptions{Settle: 10 * time.Millisecond}

	id := stampCard(t, srv)
	stamp := func(c *loyalty.Client, ref string) (*loyalty.Card, error) {
		card, _, err := c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1), &loyalty.ActionOptions{Reference: ref}, once)
		return card, err
	}
	card, err := stamp(srv.Client, "receipt-1")
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.NumberStampsTotal)
	for name, c := range map[string]*loyalty.Client{"the same client": srv.Client, "another client": other, "another process": process} {
		card, err := stamp(c, "receipt-1")
		require.ErrorIs(t, err, loyalty.ErrAlreadyApplied, name)
		var already *loyalty.AlreadyAppliedError
		require.ErrorAs(t, err, &already, name)
		assert.Equal(t, "receipt-1", already.Reference)
		require.NotNil(t, card, "%s: the card comes back with the error", name)
		assert.Equal(t, 1, card.Balance.NumberStampsTotal, "%s: nothing applied again", name)
	}
	_, err = stamp(process, "receipt-1")
	var already *loyalty.AlreadyAppliedError
	require.ErrorAs(t, err, &already)
	assert.Contains(t, already.Finding.Reason, "ledger", "the other process found it in the history once, and keeps it")

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = stamp(srv.Client, "receipt-2")
		}()
	}
	wg.Wait()
	applied := 0
	for _, err := range errs {
		if err == nil {
			applied++
		} else {
			assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied)
		}
	}
	assert.Equal(t, 1, applied, "one of the eight sends it")
	assert.Equal(t, 1, rowsWith(t, srv.Client, id, "receipt-1"))
	assert.Equal(t, 1, rowsWith(t, srv.Client, id, "receipt-2"))

	// Cashback, as the issue measured it: 2.13 stays 2.13.
	cashback := issueFrom(t, srv, loyaltytest.TemplateCashback)
	for range 2 {
		card, _, err = srv.Client.Cards.ApplyOnce(ctx, cashback, loyalty.Bind(srv.Client.Cards.AddPoints, 42.60), &loyalty.ActionOptions{Reference: "receipt-3"}, once)
		if err != nil {
			require.ErrorIs(t, err, loyalty.ErrAlreadyApplied)
		}
		assert.InDelta(t, 2.13, card.Balance.Balance, 1e-9)
	}
}

// issueFrom issues a card from the named default template.
func issueFrom(t *testing.T, srv *loyaltytest.Server, template string) string {
	t.Helper()
	ctx := context.Background()
	customer, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jo", Email: fmt.Sprintf("jo-%d@example.com", time.Now().UnixNano())})
	require.NoError(t, err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateNamed(template)})
	require.NoError(t, err)
	return card.ID
}

// A proxy holds the first add-stamp past the client's timeout and passes it on later: the
// card has not changed when the client first looks, but the attempt is not over. Not applied
// is only concluded once InFlight has passed, by when the held stamp has landed.
func TestApplyOnceWaitsOutAnAttemptStillInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, applyOnceWaitsOutAnAttemptStillInFlight)
}

func applyOnceWaitsOutAnAttemptStillInFlight(t *testing.T) {
	clk := newShiftClock()
	srv := loyaltytest.NewServer(loyaltytest.WithClock(clk.Now), loyaltytest.WithInMemoryNetwork())
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(loyalty.WithTimeout(attemptTimeout))
	require.NoError(t, err)
	id := stampCard(t, srv)
	clk.shift(time.Minute) // the card last changed long before the attempt
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{Hold: faultHold, Times: 1})
	card, _, err := c.Cards.ApplyOnce(context.Background(), id, loyalty.Bind(c.Cards.AddStamps, 1),
		&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "held"}, &loyalty.OnceOptions{Settle: 20 * time.Millisecond, InFlight: 2 * faultHold})
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.NumberStampsTotal)
	srv.WaitIdle() // the held stamp has landed
	assert.Equal(t, 1, rowsWith(t, srv.Client, id, "held"))
}

// The history lags 20 s behind the cards (on a server clock running 100 times faster than
// this machine's): no lag is assumed, so the lost stamp is found once its row shows, and
// never sent again.
func TestApplyOnceAssumesNoHistoryLag(t *testing.T) {
	t.Parallel()
	start := time.Now()
	fast := func() time.Time { return start.Add(100 * time.Since(start)) }
	srv := loyaltytest.NewServer(loyaltytest.WithClock(fast), loyaltytest.WithHistoryLag(20*time.Second))
	t.Cleanup(srv.Close)
	id := stampCard(t, srv)
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
	card, _, err := srv.Client.Cards.ApplyOnce(context.Background(), id, loyalty.Bind(srv.Client.Cards.AddStamps, 1),
		&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "lagging"},
		&loyalty.OnceOptions{Settle: 10 * time.Millisecond, InFlight: 10 * time.Millisecond, Lookups: 100})
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.NumberStampsTotal)
	assert.Equal(t, 1, srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "sent once")
}

// What a first send costs: by default two reads before the action; with Fresh, the action
// alone; a repeat answered by the ledger, one read.
func TestApplyOnceLooksBeforeItSends(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	id := stampCard(t, srv)
	routes := []string{"GET /api/v2/cards/{id}", "GET /api/v2/operations", "POST /api/v2/cards/{id}/add-stamp"}
	count := func() []int {
		out := make([]int, len(routes))
		for i, r := range routes {
			out[i] = srv.Requests(r)
		}
		return out
	}
	diff := func(before []int) []int {
		after := count()
		for i := range after {
			after[i] -= before[i]
		}
		return after
	}
	opts := func(ref string) *loyalty.ActionOptions {
		return &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref}
	}
	before := count()
	_, _, err := srv.Client.Cards.ApplyOnce(ctx, id, loyalty.Bind(srv.Client.Cards.AddStamps, 1), opts("r-1"), nil)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1}, diff(before), "the card, its history, then the action")

	before = count()
	_, _, err = srv.Client.Cards.ApplyOnce(ctx, id, loyalty.Bind(srv.Client.Cards.AddStamps, 1), opts("r-2"), &loyalty.OnceOptions{Fresh: true})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0, 1}, diff(before), "a fresh reference: the action alone")

	before = count()
	_, _, err = srv.Client.Cards.ApplyOnce(ctx, id, loyalty.Bind(srv.Client.Cards.AddStamps, 1), opts("r-2"), &loyalty.OnceOptions{Fresh: true})
	require.ErrorIs(t, err, loyalty.ErrAlreadyApplied)
	assert.Equal(t, []int{1, 0, 0}, diff(before), "a repeat answered by the ledger: one read of the card")
}

// failingLedger is a ledger that cannot be reached.
type failingLedger struct{}

var errUnreachable = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (failingLedger) Claim(context.Context, string, string, time.Duration) (loyalty.LedgerClaim, error) {
	return loyalty.LedgerClaim{}, errUnreachable
}
func (failingLedger) Renew(context.Context, string, string, time.Duration) (bool, error) {
	return false, errUnreachable
}
func (failingLedger) Record(context.Context, string, string, loyalty.LedgerEntry, time.Duration) error {
	return errUnreachable
}
func (failingLedger) Release(context.Context, string, string) error { return errUnreachable }

// A ledger that cannot answer is never taken as leave to send: every helper fails closed.
func TestOnceHelpersFailClosedWithoutTheirLedger(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	id := stampCard(t, srv)
	c, err := srv.NewClient(loyalty.WithLedger(failingLedger{}))
	require.NoError(t, err)
	sent := srv.TotalRequests()
	_, _, err = c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1), &loyalty.ActionOptions{Reference: "r"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	assert.ErrorIs(t, err, errUnreachable, "the ledger's own error is kept")
	_, _, err = c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "A", Email: "a@example.com"})
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	_, _, err = c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: "c", TemplateID: 1}, nil)
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	_, _, err = c.Companies.CreateOnce(ctx, &loyalty.CompanyCreateRequest{Name: "N", Email: "n@example.com", Phone: "1", Country: "US",
		UserName: "A", UserSurname: "B", Password: loyalty.NewSecret("pw-123456"), TariffID: 1, TariffPeriod: loyalty.TariffMonth}, nil)
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	assert.Equal(t, sent, srv.TotalRequests(), "nothing was sent")
}

// Eight workers run the same provisioning step at once: one company, one customer, one card.
func TestCreatesAreOnceAcrossGoroutines(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c := srv.Client
	company := &loyalty.CompanyCreateRequest{Name: "Bean There", Email: "owner@beanthere.example", Phone: "+15555550100", Country: "US",
		UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("change-me-1"), TariffID: 1, TariffPeriod: loyalty.TariffMonth}
	customer := &loyalty.CustomerCreateRequest{FirstName: "Jane", Email: "jane@example.com"}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			co, _, err := c.Companies.CreateOnce(ctx, company, nil)
			require.NoError(t, err)
			cu, _, err := c.Customers.FindOrCreate(ctx, customer)
			require.NoError(t, err)
			card, _, err := c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)}, nil)
			require.NoError(t, err)
			ids[i] = fmt.Sprint(co.ID, cu.ID, card.ID)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id, "every worker got the same three")
	}
	assert.Equal(t, 1, srv.Requests("POST /api/v2/companies"))
	assert.Equal(t, 1, srv.Requests("POST /api/v2/customers"))
	assert.Equal(t, 1, srv.Requests("POST /api/v2/cards"))
}

// A client derived for company B must not judge company A's card by what A's client learned
// of it: B gets the server's 404, as B's own client would, not a local refusal that reveals
// the card exists.
func TestDerivedClientsKeepTheirOwnCardTypes(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	_, keyA := srv.AddCompany("A")
	_, keyB := srv.AddCompany("B")
	a, err := srv.Client.ForAPIKey(keyA)
	require.NoError(t, err)
	b, err := srv.Client.ForAPIKey(keyB)
	require.NoError(t, err)
	customer, _, err := a.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jo", Phone: "15555550111"})
	require.NoError(t, err)
	tmpl, _, err := a.Templates.List(ctx, nil)
	require.NoError(t, err)
	var cashback int
	for _, tm := range tmpl {
		if tm.Type == loyalty.CardTypeCashback {
			cashback = tm.ID
		}
	}
	card, _, err := a.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: cashback})
	require.NoError(t, err)

	_, _, err = b.Cards.AddStamps(ctx, card.ID, 1, nil)
	assert.ErrorIs(t, err, loyalty.ErrNotFound, "B cannot see A's card: %v", err)
	assert.NotErrorIs(t, err, loyalty.ErrActionNotAllowed)
	assert.NotContains(t, err.Error(), "cashback", "nothing of the card's type")
}

// A call that outlives its claim's hold (its send held at the server, then the looks that
// follow) renews the claim at each step: another call waits for its outcome instead of
// claiming the reference again and sending it twice.
func TestAClaimOutlivesItsHold(t *testing.T) {
	t.Parallel()
	synctest.Test(t, aClaimOutlivesItsHold)
}

func aClaimOutlivesItsHold(t *testing.T) {
	srv := loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork())
	t.Cleanup(srv.Close)
	id := stampCard(t, srv)
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{Hold: time.Second, Times: 1})
	ledger := loyalty.NewMemoryLedger(0)
	a, err := srv.NewClient(loyalty.WithLedger(ledger))
	require.NoError(t, err)
	b, err := srv.NewClient(loyalty.WithLedger(ledger))
	require.NoError(t, err)
	once := &loyalty.OnceOptions{InFlight: 1500 * time.Millisecond, Settle: 50 * time.Millisecond, Hold: 300 * time.Millisecond}
	opts := &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "r-long"}
	ctx := context.Background()
	errA := make(chan error, 1)
	go func() {
		_, _, err := a.Cards.ApplyOnce(ctx, id, loyalty.Bind(a.Cards.AddStamps, 1), opts, once)
		errA <- err
	}()
	require.Eventually(t, func() bool { return srv.Requests("POST /api/v2/cards/{id}/add-stamp") == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(600 * time.Millisecond) // twice the hold: without renewal, the claim is gone
	_, _, errB := b.Cards.ApplyOnce(ctx, id, loyalty.Bind(b.Cards.AddStamps, 1), opts, once)
	require.NoError(t, <-errA)
	assert.ErrorIs(t, errB, loyalty.ErrAlreadyApplied)
	srv.WaitIdle()
	assert.Equal(t, 1, srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
	assert.Equal(t, 1, rowsWith(t, srv.Client, id, "r-long"))
}

// A till that knows only a phone finds a returning customer without inventing a name, and
// is asked for one only when there is nobody to find. Each answer says whether the customer
// existed.
func TestFindOrCreateFindsWithoutAName(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	existing, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550160"})
	require.NoError(t, err)

	c, err := srv.NewClient(loyalty.WithLedger(loyalty.NewMemoryLedger(0)))
	require.NoError(t, err)
	got, resp, err := c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{Phone: "15555550160"})
	require.NoError(t, err)
	assert.Equal(t, existing.ID, got.ID)
	assert.Equal(t, "Jane", got.FirstName, "the customer's own name, not one the till made up")
	assert.True(t, resp.Found)

	posts := srv.Requests("POST /api/v2/customers")
	_, _, err = c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{Phone: "15555550161"})
	require.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "a first name is needed to create one")
	assert.Equal(t, posts, srv.Requests("POST /api/v2/customers"), "nothing created")

	created, resp, err := c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Bo", Phone: "15555550161"})
	require.NoError(t, err)
	assert.False(t, resp.Found, "created by this call")
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	again, resp, err := c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{Phone: "15555550161"})
	require.NoError(t, err)
	assert.True(t, resp.Found, "a repeat, answered by the ledger")
	assert.Equal(t, created.ID, again.ID)

	_, _, err = c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Nobody"})
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "neither a phone nor an email")
}
