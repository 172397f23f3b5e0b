// Requests per job: what each of the till's and the agency's jobs costs in requests, and in
// round trips one after another, counted by the fake (BENCHMARKS.md, "Requests per job").
// Each job runs in a testing/synctest bubble against a fake whose every request takes one
// virtual round trip: the time a job takes, divided by it, is its round trips in sequence.
// A change that adds a request to a job fails here.

package loyalty_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// roundTrip is the virtual time each request to the fake takes.
const roundTrip = 100 * time.Millisecond

// cost is what a job cost: requests, and round trips one after another.
type cost struct{ requests, sequence int }

func (c cost) String() string {
	return fmt.Sprintf("%d requests, %d in sequence", c.requests, c.sequence)
}

// measure runs job and returns what it cost at srv.
func measure(t *testing.T, srv *loyaltytest.Server, job func()) cost {
	t.Helper()
	before, start := srv.TotalRequests(), time.Now()
	job()
	return cost{srv.TotalRequests() - before, int(time.Since(start) / roundTrip)}
}

// jobServer is a fake on the in-memory network where every request takes a round trip, with
// a returning customer: a phone, and a stamp card already stamped once.
func jobServer(t *testing.T) (srv *loyaltytest.Server, phone, cardID string) {
	t.Helper()
	srv = loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork(), loyaltytest.WithLatency(roundTrip))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	phone = "15555550142"
	cu, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: phone})
	require.NoError(t, err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	_, _, err = srv.Client.Cards.AddStamps(ctx, card.ID, 1, &loyalty.ActionOptions{Reference: "receipt-0"})
	require.NoError(t, err)
	return srv, phone, card.ID
}

// freshProcess is a client as a new process of the till has it: nothing cached, a ledger of
// its own.
func freshProcess(t *testing.T, srv *loyaltytest.Server, opts ...loyalty.Option) *loyalty.Client {
	t.Helper()
	c, err := srv.NewClient(append([]loyalty.Option{loyalty.WithLedger(loyalty.NewMemoryLedger(0))}, opts...)...)
	require.NoError(t, err)
	return c
}

// vouchingLedger is a ledger shared by processes that has kept everything for longer than
// the look-up before a first send searches: a Redis that has not restarted for a fortnight.
type vouchingLedger struct{ loyalty.Ledger }

func (l vouchingLedger) Claim(ctx context.Context, key, holder string, hold time.Duration) (loyalty.LedgerClaim, error) {
	got, err := l.Ledger.Claim(ctx, key, holder, hold)
	got.Kept = 14 * 24 * time.Hour
	return got, err
}

func TestRequestsPerJob(t *testing.T) {
	t.Parallel()
	stamp := func(c *loyalty.Client) loyalty.ActionFunc { return loyalty.Bind(c.Cards.AddStamps, 1) }
	typed := func(ref string) *loyalty.ActionOptions {
		return &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref}
	}

	t.Run("ApplyOnce, new reference, in-process ledger", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, id := jobServer(t)
			c := freshProcess(t, srv)
			got := measure(t, srv, func() {
				_, _, err := c.Cards.ApplyOnce(context.Background(), id, stamp(c), typed("receipt-1"), nil)
				require.NoError(t, err)
			})
			assert.Equal(t, cost{3, 2}, got, "the card and its history side by side, then the action")
		})
	})

	t.Run("ApplyOnce, new reference, a ledger that vouches, card type given", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, id := jobServer(t)
			c := freshProcess(t, srv, loyalty.WithLedger(vouchingLedger{loyalty.NewMemoryLedger(0)}))
			got := measure(t, srv, func() {
				_, _, err := c.Cards.ApplyOnce(context.Background(), id, stamp(c), typed("receipt-1"), nil)
				require.NoError(t, err)
			})
			assert.Equal(t, cost{1, 1}, got, "the action alone")
		})
	})

	t.Run("till by phone: FindOrCreate, FindOrIssue, ApplyOnce with the card handed on", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, phone, _ := jobServer(t)
			c := freshProcess(t, srv)
			ctx := context.Background()
			till := func(receipt string) {
				customer, resp, err := c.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{Phone: phone}) // no name: found
				require.NoError(t, err)
				assert.True(t, resp.Found)
				card, _, err := c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)}, nil)
				require.NoError(t, err)
				_, _, err = c.Cards.ApplyOnce(ctx, card.ID, stamp(c), &loyalty.ActionOptions{Card: card, Reference: receipt}, nil)
				require.NoError(t, err)
			}
			assert.Equal(t, cost{4, 4}, measure(t, srv, func() { till("receipt-1") }), "fresh process")
			assert.Equal(t, cost{4, 4}, measure(t, srv, func() { till("receipt-2") }), "next receipt, same process")
		})
	})

	t.Run("Purchase, by card id and by phone", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, phone, id := jobServer(t)
			template := srv.TemplateID(loyalty.CardTypeStamp)
			byID := func(c *loyalty.Client, receipt string) func() {
				return func() {
					_, _, err := c.Cards.Purchase(context.Background(), &loyalty.PurchaseRequest{CardID: id, Amount: 4.5, Receipt: receipt}, nil)
					require.NoError(t, err)
				}
			}
			byPhone := func(c *loyalty.Client, receipt string) func() {
				return func() {
					_, _, err := c.Cards.Purchase(context.Background(), &loyalty.PurchaseRequest{CustomerPhone: phone, TemplateID: template,
						Amount: 4.5, Receipt: receipt}, nil)
					require.NoError(t, err)
				}
			}
			c := freshProcess(t, srv)
			assert.Equal(t, cost{4, 3}, measure(t, srv, byID(c, "p-1")), "by id, fresh process: the template read once")
			assert.Equal(t, cost{3, 2}, measure(t, srv, byID(c, "p-2")), "by id, a returning card")
			assert.Equal(t, cost{3, 3}, measure(t, srv, byPhone(c, "p-3")), "by phone, a returning customer")
			c = freshProcess(t, srv)
			assert.Equal(t, cost{4, 3}, measure(t, srv, byPhone(c, "p-4")), "by phone, fresh process")
		})
	})

	t.Run("agency: CreateOnce a row at a time against existing companies", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ existing, rows, want int }{{2000, 20, 42}, {5000, 500, 1005}} {
			if testing.Short() && tc.rows > 20 {
				continue
			}
			synctest.Test(t, func(t *testing.T) {
				// One template a company: thousands of companies, each with its own templates.
				srv := loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork(),
					loyaltytest.WithTemplates(loyaltytest.Template{Name: "Stamps", Type: loyalty.CardTypeStamp}))
				t.Cleanup(srv.Close)
				for i := range tc.existing {
					srv.AddCompany(fmt.Sprintf("Existing %d", i))
				}
				c := freshProcess(t, srv)
				created := 0
				got := measure(t, srv, func() {
					for i := range tc.rows {
						_, resp, err := c.Companies.CreateOnce(context.Background(), &loyalty.CompanyCreateRequest{
							Name: fmt.Sprintf("Row %d", i), Email: fmt.Sprintf("row%d@example.com", i), Phone: "+15555550100",
							Country: "US", UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("change-me-1"),
							TariffID: 1, TariffPeriod: loyalty.TariffMonth}, nil)
						require.NoError(t, err)
						if !resp.Found {
							created++
						}
					}
				})
				assert.Equal(t, tc.want, got.requests, "%d rows against %d companies: the list once, then 2 a row", tc.rows, tc.existing)
				assert.Equal(t, tc.rows, created, "each row says it was created")
			})
		}
	})
}

// TestALostAnswerResolvesIn pins how long, with the default options, ApplyOnce takes to learn
// what became of an action whose answer was lost (virtual time; the API's own round trips
// come on top): an applied one shows at the first look, after Settle; one that was not applied
// is sent again once it can no longer be in flight, InFlight after the attempt.
func TestALostAnswerResolvesIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault loyaltytest.Fault
		want  time.Duration
		sends int
	}{
		{"applied", loyaltytest.Fault{DropAfter: true, Times: 1}, 2 * time.Second, 1},
		{"not applied", loyaltytest.Fault{DropBefore: true, Times: 1}, 30 * time.Second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork()) // no round trip: the waits alone
				t.Cleanup(srv.Close)
				id := issueCards(t, srv, srv.Client, 1)[0]
				time.Sleep(time.Hour) // the card last changed long before the purchase
				srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", tc.fault)
				start := time.Now()
				_, _, err := srv.Client.Cards.ApplyOnce(context.Background(), id, loyalty.Bind(srv.Client.Cards.AddStamps, 1),
					&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-lost"}, nil)
				require.NoError(t, err)
				took := time.Since(start)
				t.Logf("a lost answer, %s: resolved in %s", tc.name, took)
				assert.Equal(t, tc.want, took)
				assert.Equal(t, tc.sends, srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
			})
		})
	}
}
