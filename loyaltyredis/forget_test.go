package loyaltyredis

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// A Redis that forgets (flushed, restarted without persistence, failed over to a replica that
// never got the claim) while a send is in flight must not let a second process send the same
// reference: the ledger notices, and until no forgotten attempt can still land it waits before
// a first send and reads the history, as after a lost answer.

// forgetful is the set-up of these tests: a fake API whose add-stamp a proxy holds for hold
// before it is applied, a card, and two "processes" (clients with ledgers and Redis
// connections of their own) sharing one Redis at addr under one prefix.
type forgetful struct {
	srv    *loyaltytest.Server
	card   string
	a, b   *loyalty.Client
	rdb    *redis.Client
	prefix string
}

func newForgetful(t *testing.T, addr string, hold time.Duration) *forgetful {
	t.Helper()
	f := &forgetful{srv: loyaltytest.NewServer()}
	t.Cleanup(f.srv.Close)
	ctx := context.Background()
	cu, _, err := f.srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550123"})
	require.NoError(t, err)
	card, _, err := f.srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: f.srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	f.card = card.ID
	f.rdb, f.prefix = newRedis(t, addr)
	for _, c := range []**loyalty.Client{&f.a, &f.b} {
		rdb, _ := newRedis(t, addr) // a connection of its own, as another process has
		*c, err = f.srv.NewClient(loyalty.WithLedger(NewLedger(rdb, WithPrefix(f.prefix))))
		require.NoError(t, err)
	}
	f.srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{Hold: hold, Times: 1})
	return f
}

// stamps is what the card holds once the server has finished with every request.
func (f *forgetful) stamps(t *testing.T) int {
	t.Helper()
	f.srv.WaitIdle()
	card, _, err := f.srv.Client.Cards.Get(context.Background(), f.card)
	require.NoError(t, err)
	return card.Balance.NumberStampsTotal
}

// race has A send the reference, waits until the fake holds A's send, lets forget make Redis
// lose what it held, then has B send the same reference; it returns what each got.
func (f *forgetful) race(t *testing.T, once *loyalty.OnceOptions, forget func()) (errA, errB error) {
	t.Helper()
	ctx := context.Background()
	opts := &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-flush"}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _, errA = f.a.Cards.ApplyOnce(ctx, f.card, loyalty.Bind(f.a.Cards.AddStamps, 1), opts, once)
	}()
	require.Eventually(t, func() bool { return f.srv.Requests("POST /api/v2/cards/{id}/add-stamp") == 1 },
		10*time.Second, time.Millisecond, "A's send reached the fake")
	forget()
	_, _, errB = f.b.Cards.ApplyOnce(ctx, f.card, loyalty.Bind(f.b.Cards.AddStamps, 1), opts, once)
	wg.Wait()
	return errA, errB
}

func TestFlushWhileASendIsInFlight(t *testing.T) {
	t.Parallel()
	f := newForgetful(t, startRedis(t).addr, 700*time.Millisecond) // a server of its own: it is flushed
	once := &loyalty.OnceOptions{InFlight: time.Second, Settle: 50 * time.Millisecond}
	errA, errB := f.race(t, once, func() { require.NoError(t, f.rdb.FlushAll(context.Background()).Err()) })
	t.Logf("A: %v\nB: %v", errA, errB)
	assert.Equal(t, 1, f.stamps(t), "the reference is applied once")
	assert.Equal(t, 1, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "B sent nothing")
	assert.ErrorIs(t, errB, loyalty.ErrAlreadyApplied, "B found A's send in the history")
}

// Redis killed and started again, empty, while A's send is held at the server: B waits out
// the send the ledger forgot, finds it in the history, and sends nothing.
func TestRestartWithoutPersistenceWhileASendIsInFlight(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	f := newForgetful(t, rs.addr, 700*time.Millisecond)
	once := &loyalty.OnceOptions{InFlight: time.Second, Settle: 50 * time.Millisecond}
	errA, errB := f.race(t, once, func() { rs.stop(); rs.start(t) })
	t.Logf("A: %v\nB: %v", errA, errB)
	assert.Equal(t, 1, f.stamps(t), "the reference is applied once")
	assert.Equal(t, 1, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "B sent nothing")
	assert.ErrorIs(t, errB, loyalty.ErrAlreadyApplied, "B found A's send in the history")
}

// A failover to a replica that never got A's claim: the server is another (its run id
// differs) and the claim is missing, though the rest of the ledger was replicated.
func TestFailoverToAReplicaThatMissedTheClaim(t *testing.T) {
	t.Parallel()
	f := newForgetful(t, sharedAddr(t), 700*time.Millisecond)
	agedEpoch(t, f.rdb, f.prefix, time.Hour)
	once := &loyalty.OnceOptions{InFlight: time.Second, Settle: 50 * time.Millisecond}
	errA, errB := f.race(t, once, func() {
		ctx := context.Background()
		keys := keysUnder(t, f.rdb, f.prefix+"*once:*")
		require.Len(t, keys, 1, "A's claim")
		for k := range keys {
			require.NoError(t, f.rdb.Del(ctx, k).Err())
		}
		epoch := f.prefix + slot + "epoch"
		v, err := f.rdb.Get(ctx, epoch).Result()
		require.NoError(t, err)
		require.NoError(t, f.rdb.Set(ctx, epoch, strings.Replace(v, runID(t, f.rdb), "0123456789abcdef", 1), 0).Err())
	})
	t.Logf("A: %v\nB: %v", errA, errB)
	assert.Equal(t, 1, f.stamps(t), "the reference is applied once")
	assert.Equal(t, 1, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "B sent nothing")
}

// A call that outlives its claim's hold (a send held at the server, the looks that follow)
// keeps its claim by renewing it: a second process waits for it instead of claiming the
// reference and sending it again.
func TestAClaimOutlivesItsHold(t *testing.T) {
	t.Parallel()
	f := newForgetful(t, sharedAddr(t), time.Second)
	agedEpoch(t, f.rdb, f.prefix, time.Hour)
	once := &loyalty.OnceOptions{InFlight: 1500 * time.Millisecond, Settle: 50 * time.Millisecond, Hold: 300 * time.Millisecond}
	errA, errB := f.race(t, once, func() { time.Sleep(600 * time.Millisecond) }) // twice the hold
	t.Logf("A: %v\nB: %v", errA, errB)
	assert.Equal(t, 1, f.stamps(t), "the reference is applied once")
	assert.Equal(t, 1, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "B sent nothing")
	assert.ErrorIs(t, errB, loyalty.ErrAlreadyApplied)
}

// A ledger on a Redis that may evict keys is refused before anything is sent, with what to
// change; one on a Redis that does not evict, or has no memory limit, is not.
func TestLedgerRefusesARedisThatEvicts(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	rdb, prefix := newRedis(t, rs.addr)
	ctx := context.Background()
	l := NewLedger(rdb, WithPrefix(prefix))
	require.NoError(t, l.Check(ctx), "no maxmemory")
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "100mb").Err())
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err())
	err := l.Check(ctx)
	require.ErrorIs(t, err, ErrEvicts)
	assert.Contains(t, err.Error(), "maxmemory-policy noeviction")

	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	card := issueStampCards(t, fake, 1)[0]
	before := fake.Report().Total
	client, err := fake.NewClient(loyalty.WithLedger(l))
	require.NoError(t, err)
	_, _, err = client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1), &loyalty.ActionOptions{Reference: "r-1"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	assert.ErrorIs(t, err, ErrEvicts)
	assert.Equal(t, before, fake.Report().Total, "nothing sent")

	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
	require.NoError(t, l.Check(ctx))
}

// A claim the ledger loses before its holder sends: the holder renews it before the send,
// finds it gone, and sends nothing.
func TestAClaimLostBeforeTheSendSendsNothing(t *testing.T) {
	t.Parallel()
	f := newForgetful(t, startRedis(t).addr, 0) // a server of its own: it is flushed
	f.srv.ClearFaults()
	agedEpoch(t, f.rdb, f.prefix, time.Hour)
	f.srv.InjectFault("GET /api/v2/operations", loyaltytest.Fault{Latency: 300 * time.Millisecond, Times: 1})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, _, err := f.a.Cards.ApplyOnce(ctx, f.card, loyalty.Bind(f.a.Cards.AddStamps, 1),
			&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-lost"}, nil)
		done <- err
	}()
	require.Eventually(t, func() bool { return f.srv.Requests("GET /api/v2/operations") == 1 }, 10*time.Second, time.Millisecond,
		"A is looking the reference up")
	require.NoError(t, f.rdb.FlushAll(ctx).Err())
	err := <-done
	assert.ErrorIs(t, err, loyalty.ErrLedger)
	assert.Contains(t, err.Error(), "claim")
	assert.Zero(t, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "nothing sent under a lost claim")
}

// A ledger that has kept everything for longer than the look-up before a first send searches
// vouches for a receipt it has never seen: with the card's type given, the action is the only
// request. One that cannot vouch (it began an hour ago) looks the receipt up first.
func TestALedgerThatKeptEverythingVouches(t *testing.T) {
	t.Parallel()
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	card := issueStampCards(t, fake, 1)[0]
	ctx := context.Background()
	for _, tc := range []struct {
		age      time.Duration
		requests int
	}{{loyalty.DefaultWindow + time.Hour, 1}, {time.Hour, 3}} {
		rdb, prefix := newRedis(t, sharedAddr(t))
		agedEpoch(t, rdb, prefix, tc.age)
		client, err := fake.NewClient(loyalty.WithLedger(NewLedger(rdb, WithPrefix(prefix))))
		require.NoError(t, err)
		before := fake.Report().Total
		_, _, err = client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1),
			&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-" + tc.age.String()}, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.requests, fake.Report().Total-before, "a ledger that has kept everything for %s", tc.age)
		_, _, err = client.Cards.ApplyOnce(ctx, card, loyalty.Bind(client.Cards.AddStamps, 1),
			&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-" + tc.age.String()}, nil)
		assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied, "and the repeat is caught")
	}
}

// A holder that died after its send, before it recorded the outcome: its claim lapses, and a
// ledger that would vouch for a free key does not take the lapsed claim for one. The next
// call finds the send in the history and sends nothing.
func TestALapsedClaimIsNeverVouchedFor(t *testing.T) {
	t.Parallel()
	f := newForgetful(t, sharedAddr(t), 0)
	f.srv.ClearFaults()
	agedEpoch(t, f.rdb, f.prefix, loyalty.DefaultWindow+time.Hour)
	ctx := context.Background()
	// The dead holder: it claimed the reference (as ApplyOnce keys it), sent, and died.
	dead, err := f.srv.NewClient(loyalty.WithLedger(&keyRecorder{Ledger: NewLedger(f.rdb, WithPrefix(f.prefix)), hold: 50 * time.Millisecond}))
	require.NoError(t, err)
	_, _, err = dead.Cards.ApplyOnce(ctx, f.card, loyalty.Bind(dead.Cards.AddStamps, 1),
		&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-dead"}, &loyalty.OnceOptions{Fresh: true})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // its hold lapses
	_, _, err = f.b.Cards.ApplyOnce(ctx, f.card, loyalty.Bind(f.b.Cards.AddStamps, 1),
		&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "receipt-dead"}, &loyalty.OnceOptions{Settle: time.Millisecond})
	assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied)
	assert.Equal(t, 1, f.srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
	assert.Equal(t, 1, f.stamps(t))
}

// keyRecorder is a ledger whose holder dies after its send: it claims for hold whatever it
// is asked, and never records an outcome.
type keyRecorder struct {
	loyalty.Ledger
	hold time.Duration
}

func (k *keyRecorder) Claim(ctx context.Context, key, holder string, _ time.Duration) (loyalty.LedgerClaim, error) {
	return k.Ledger.Claim(ctx, key, holder, k.hold)
}

func (k *keyRecorder) Renew(ctx context.Context, key, holder string, _ time.Duration) (bool, error) {
	return k.Ledger.Renew(ctx, key, holder, k.hold)
}

func (k *keyRecorder) Record(context.Context, string, string, loyalty.LedgerEntry, time.Duration) error {
	return nil // died before it could
}
