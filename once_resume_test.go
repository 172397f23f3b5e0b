package loyalty_test

// The paths a restarted worker meets: a reference an earlier call left "unknown" in the
// ledger (applied, not applied, or not shown yet by a lagging history), for ApplyOnce and for
// the create helpers; an action refused inside ApplyOnce; a ledger that fails to record a
// success.

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// seededLedger is a memory ledger whose first claim finds the entry seed, as a worker
// restarted after a lost answer finds what the one before it recorded, and which keeps what
// is recorded and released.
type seededLedger struct {
	loyalty.Ledger
	mu       sync.Mutex
	seed     loyalty.LedgerEntry
	seeded   bool
	records  []loyalty.LedgerEntry
	released int
	// failRecord makes every Record fail, as a Redis gone after the send would.
	failRecord bool
}

func newSeededLedger(seed loyalty.LedgerEntry) *seededLedger {
	return &seededLedger{Ledger: loyalty.NewMemoryLedger(0), seed: seed}
}

func (l *seededLedger) Claim(ctx context.Context, key, holder string, hold time.Duration) (loyalty.LedgerClaim, error) {
	got, err := l.Ledger.Claim(ctx, key, holder, hold)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && got.Claimed && !l.seeded {
		l.seeded, got.Entry = true, l.seed
	}
	return got, err
}

func (l *seededLedger) Record(ctx context.Context, key, holder string, e loyalty.LedgerEntry, keep time.Duration) error {
	l.mu.Lock()
	l.records = append(l.records, e)
	fail := l.failRecord
	l.mu.Unlock()
	if fail {
		return errUnreachable
	}
	return l.Ledger.Record(ctx, key, holder, e, keep)
}

func (l *seededLedger) Release(ctx context.Context, key, holder string) error {
	l.mu.Lock()
	l.released++
	l.mu.Unlock()
	return l.Ledger.Release(ctx, key, holder)
}

// recorded lists the states recorded, in order.
func (l *seededLedger) recorded() []loyalty.LedgerState {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []loyalty.LedgerState
	for _, e := range l.records {
		out = append(out, e.State)
	}
	return out
}

// resumeSetup is a fake whose clock the test moves, with a stamp card issued at the start.
type resumeSetup struct {
	srv    *loyaltytest.Server
	clk    *shiftClock
	card   string
	issued time.Time // the server's clock when the card was issued (its last change)
}

func newResume(t *testing.T, opts ...loyaltytest.Option) *resumeSetup {
	t.Helper()
	clk := newShiftClock()
	srv := loyaltytest.NewServer(append(opts, loyaltytest.WithClock(clk.Now))...)
	t.Cleanup(srv.Close)
	id := stampCard(t, srv)
	card, _, err := srv.Client.Cards.Get(context.Background(), id)
	require.NoError(t, err)
	return &resumeSetup{srv: srv, clk: clk, card: id, issued: card.UpdatedAt.Time}
}

// client returns a client of the fake on ledger.
func (r *resumeSetup) client(t *testing.T, ledger loyalty.Ledger, opts ...loyalty.Option) *loyalty.Client {
	t.Helper()
	c, err := r.srv.NewClient(append(opts, loyalty.WithLedger(ledger))...)
	require.NoError(t, err)
	return c
}

// unknownAt is the entry an earlier call recorded for an attempt sent at sent (server time).
func unknownAt(sent time.Time) loyalty.LedgerEntry {
	return loyalty.LedgerEntry{State: loyalty.LedgerUnknown, Sent: sent, Ended: sent.Add(time.Second)}
}

var stampOpts = func(ref string) *loyalty.ActionOptions {
	return &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref}
}

// The earlier call's stamp was applied: the history shows it, nothing is sent, and the
// ledger learns the outcome.
func TestApplyOnceResumesAnUnknownThatWasApplied(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	_, _, err := r.srv.Client.Cards.AddStamps(ctx, r.card, 1, stampOpts("r-resumed")) // the earlier call's send
	require.NoError(t, err)
	ledger := newSeededLedger(unknownAt(r.issued))
	c := r.client(t, ledger)
	_, _, err = c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-resumed"), &loyalty.OnceOptions{Settle: time.Millisecond})
	var already *loyalty.AlreadyAppliedError
	require.ErrorAs(t, err, &already)
	assert.Equal(t, loyalty.OutcomeApplied, already.Finding.Outcome)
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "nothing sent again")
	assert.Equal(t, []loyalty.LedgerState{loyalty.LedgerApplied}, ledger.recorded())
}

// The earlier call's stamp was not applied: the card has not changed since before it, and it
// can no longer be in flight, so it is sent now, once.
func TestApplyOnceResumesAnUnknownThatWasNotApplied(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	r.clk.shift(10 * time.Minute)
	ledger := newSeededLedger(unknownAt(r.issued.Add(time.Minute))) // after the card last changed, long ago
	c := r.client(t, ledger)
	card, _, err := c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-lost"), &loyalty.OnceOptions{Settle: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.NumberStampsTotal)
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
	assert.Equal(t, []loyalty.LedgerState{loyalty.LedgerApplied}, ledger.recorded())
}

// The history lags: the card changed after the earlier attempt began and no row shows it
// yet. Nothing is sent, and the unknown entry is put back as it was, for the next call.
func TestApplyOnceResumesAnUnknownTheHistoryCannotShowYet(t *testing.T) {
	t.Parallel()
	r := newResume(t, loyaltytest.WithHistoryLag(time.Hour))
	ctx := context.Background()
	_, _, err := r.srv.Client.Cards.AddStamps(ctx, r.card, 1, stampOpts("r-lagging")) // applied, its row hidden
	require.NoError(t, err)
	r.clk.shift(10 * time.Minute)
	seed := unknownAt(r.issued.Add(-time.Second))
	ledger := newSeededLedger(seed)
	c := r.client(t, ledger)
	_, _, err = c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-lagging"),
		&loyalty.OnceOptions{Settle: time.Millisecond, Lookups: 2})
	var unknown *loyalty.OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Contains(t, err.Error(), "an earlier call with this reference lost its answer")
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "nothing sent")
	require.Equal(t, []loyalty.LedgerState{loyalty.LedgerUnknown}, ledger.recorded(), "the entry is put back, not freed")
	assert.Equal(t, seed, ledger.records[0], "with the earlier attempt's times")
	assert.Zero(t, ledger.released)
}

// Created by the earlier call, whose answer was lost: the look finds the card, and nothing
// is issued again.
func TestFindOrIssueResumesAnUnknownThatWasCreated(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	card, _, err := r.srv.Client.Cards.Get(ctx, r.card)
	require.NoError(t, err)
	ledger := newSeededLedger(unknownAt(r.issued))
	c := r.client(t, ledger)
	got, _, err := c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: card.CustomerID, TemplateID: card.TemplateID}, nil)
	require.NoError(t, err)
	assert.Equal(t, r.card, got.ID)
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards"), "only the card of the set-up")
	assert.Equal(t, []loyalty.LedgerState{loyalty.LedgerApplied}, ledger.recorded())
}

// Not created, and the earlier issue can no longer be in flight: it is issued now, once.
func TestFindOrIssueResumesAnUnknownThatWasNotCreated(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	customer, _, err := r.srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550188"})
	require.NoError(t, err)
	r.clk.shift(10 * time.Minute)
	ledger := newSeededLedger(unknownAt(r.issued))
	c := r.client(t, ledger)
	_, _, err = c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: r.srv.TemplateID(loyalty.CardTypeStamp)},
		&loyalty.OnceOptions{Settle: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 2, r.srv.Requests("POST /api/v2/cards"), "the set-up's card and this one")
	assert.Equal(t, []loyalty.LedgerState{loyalty.LedgerApplied}, ledger.recorded())
}

// Not created yet, and the earlier issue may still be in flight when the looks run out:
// nothing is issued, and "unknown" is recorded again with the attempt's times on the server's
// clock, for the next call.
func TestFindOrIssueRecordsAnUnknownStillInFlight(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	customer, _, err := r.srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Bo", Phone: "15555550189"})
	require.NoError(t, err)
	seed := unknownAt(r.issued) // just now: still in flight for InFlight
	ledger := newSeededLedger(seed)
	c := r.client(t, ledger)
	_, _, err = c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: r.srv.TemplateID(loyalty.CardTypeStamp)},
		&loyalty.OnceOptions{Settle: time.Millisecond, Lookups: 1, InFlight: time.Hour})
	require.True(t, loyalty.IsOutcomeUnknown(err), "%v", err)
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards"), "nothing issued")
	require.Equal(t, []loyalty.LedgerState{loyalty.LedgerUnknown}, ledger.recorded())
	assert.WithinDuration(t, seed.Sent, ledger.records[0].Sent, 2*time.Second, "the earlier attempt, placed on the server's clock")
	assert.False(t, ledger.records[0].Ended.IsZero())
}

// An action the server refuses inside ApplyOnce (more stamps taken than the card has) comes
// back as it is, applied nothing, and frees the reference for another try.
func TestApplyOnceReturnsTheActionsOwnRefusal(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	ledger := newSeededLedger(loyalty.LedgerEntry{})
	c := r.client(t, ledger)
	_, _, err := c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.SubtractStamps, 5), stampOpts("r-refused"), nil)
	require.ErrorIs(t, err, loyalty.ErrInsufficientBalance)
	assert.Empty(t, ledger.recorded(), "no outcome recorded")
	assert.Equal(t, 1, ledger.released, "the reference is free again")
	_, _, err = c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-refused"), nil)
	require.NoError(t, err, "and may be sent with another action")
}

// A ledger that fails to record a success: the call still reports the success (the stamp was
// applied), and says so in the log; the next call finds the row in the history.
func TestApplyOnceReportsASuccessTheLedgerCouldNotRecord(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	ledger := newSeededLedger(loyalty.LedgerEntry{})
	ledger.failRecord = true
	var logs bytes.Buffer
	var mu sync.Mutex
	c := r.client(t, ledger, loyalty.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))))
	once := &loyalty.OnceOptions{Hold: 200 * time.Millisecond, Settle: time.Millisecond}
	card, _, err := c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-unrecorded"), once)
	require.NoError(t, err)
	assert.Equal(t, 1, card.Balance.NumberStampsTotal)
	mu.Lock()
	assert.Contains(t, logs.String(), "the action was applied, but the ledger could not record it")
	mu.Unlock()
	ledger.mu.Lock()
	ledger.failRecord = false
	ledger.mu.Unlock()
	// The claim stays until its hold lapses; then it is claimed as an unknown (its holder
	// may have sent), never as a free key, and the history is the witness.
	_, _, err = c.Cards.ApplyOnce(ctx, r.card, loyalty.Bind(c.Cards.AddStamps, 1), stampOpts("r-unrecorded"), once)
	assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied)
	assert.Equal(t, 1, r.srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
}

// lockedWriter serialises writes from the client's goroutines.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// An issue of this call's own whose answer was lost, and which does not show before the looks
// run out: "unknown" is recorded with the attempt placed on the server's clock, so that the
// next call, here or in another process, waits it out before it issues again.
func TestFindOrIssueRecordsItsOwnLostIssue(t *testing.T) {
	t.Parallel()
	r := newResume(t)
	ctx := context.Background()
	customer, _, err := r.srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Cy", Phone: "15555550190"})
	require.NoError(t, err)
	r.srv.InjectFault("POST /api/v2/cards", loyaltytest.Fault{Hold: 300 * time.Millisecond, Times: 1}) // applied after the client gave up
	ledger := newSeededLedger(loyalty.LedgerEntry{})
	c := r.client(t, ledger, loyalty.WithTimeout(50*time.Millisecond))
	_, _, err = c.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: r.srv.TemplateID(loyalty.CardTypeStamp)},
		&loyalty.OnceOptions{Settle: time.Millisecond, Lookups: 1, InFlight: time.Hour})
	require.True(t, loyalty.IsOutcomeUnknown(err), "%v", err)
	r.srv.WaitIdle()
	require.Equal(t, []loyalty.LedgerState{loyalty.LedgerUnknown}, ledger.recorded())
	got := ledger.records[0]
	assert.WithinDuration(t, r.issued, got.Sent, 5*time.Second, "the attempt on the server's clock")
	assert.False(t, got.Ended.Before(got.Sent))
	assert.Zero(t, ledger.released)
}
