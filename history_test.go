// Tests of history.go: FindReference proves or says unknown.

package loyalty_test

import (
	"context"
	"testing"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindReferenceProvesOrSaysUnknown pins the server's clock to a day long past and moves it
// by hand: every verdict is judged on the server's clock, so this passes on any date, in any
// time zone.
func TestFindReferenceProvesOrSaysUnknown(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	srv := loyaltytest.NewServer(loyaltytest.WithClock(clk.Now), loyaltytest.WithHistoryLag(5*time.Second))
	t.Cleanup(srv.Close)
	c := srv.Client
	ctx := context.Background()
	ids := issueCards(t, srv, c, 2)
	id, other := ids[0], ids[1]
	stamp := func(card, ref string) {
		t.Helper()
		_, _, err := c.Cards.AddStamps(ctx, card, 1, &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref})
		require.NoError(t, err)
	}
	// find asks about an attempt that began at server time at, and is long over (InFlight of
	// a nanosecond). The test moves the server's clock by hand, so the attempt is placed as
	// far back on this machine's clock as the server's clock moved since.
	find := func(ref string, at time.Time, inFlight time.Duration) *loyalty.Finding {
		t.Helper()
		since := time.Now().Add(-clk.Now().Sub(at))
		f, _, err := c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: id, Reference: ref, Since: since, InFlight: inFlight})
		require.NoError(t, err)
		return f
	}
	over := time.Nanosecond

	f, _, err := c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: id, Reference: "receipt-0"})
	require.NoError(t, err)
	assert.Equal(t, loyalty.OutcomeNotApplied, f.Outcome, "before any send: %s", f.Reason)
	assert.Contains(t, f.Reason, "not changed since it was issued")
	assert.True(t, clk.Now().Equal(f.ServerTime), "judged on the server's clock: %v", f.ServerTime)

	clk.advance(10 * time.Second)
	lost := clk.Now() // an attempt that never reached the server
	f = find("receipt-lost", lost, 0)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome, "the attempt may still be in flight: %s", f.Reason)
	assert.Contains(t, f.Reason, "in flight")
	f = find("receipt-lost", lost, over)
	assert.Equal(t, loyalty.OutcomeNotApplied, f.Outcome, f.Reason)
	assert.Contains(t, f.Reason, "not changed since before the attempt")

	since := clk.Now()
	stamp(id, "receipt-1") // applied; its row shows 5s later
	f = find("receipt-1", since, over)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome, "the card changed and the history lags: %s", f.Reason)
	clk.advance(3 * time.Second)
	assert.Equal(t, loyalty.OutcomeUnknown, find("receipt-1", since, over).Outcome, "still within the lag")
	clk.advance(3 * time.Second)
	f = find("receipt-1", since, over)
	require.Equal(t, loyalty.OutcomeApplied, f.Outcome, f.Reason)
	require.NotNil(t, f.Operation)
	assert.Equal(t, "[ref:receipt-1]", f.Operation.Comment)

	// Another till stamps the card just after our lost attempt began.
	clk.advance(3 * time.Second)
	lost = clk.Now()
	clk.advance(3 * time.Second)
	stamp(id, "")
	f = find("receipt-2", lost, over)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome, "the card changed after the attempt: only the history can tell")
	assert.Contains(t, f.Reason, "changed after the attempt began")
	f = find("receipt-2", lost, time.Hour)
	assert.Contains(t, f.Reason, "in flight", "no verdict before the attempt is over")
	clk.advance(3 * time.Second) // the other stamp's row is still 2s from showing
	f = find("receipt-2", lost, over)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome, "no lag is assumed: %s", f.Reason)
	f, _, err = c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: id, Reference: "receipt-2",
		Since: time.Now().Add(-clk.Now().Sub(lost)), InFlight: over, HistoryLag: time.Second})
	require.NoError(t, err)
	assert.Equal(t, loyalty.OutcomeNotApplied, f.Outcome, "a lag the caller opts into: %s", f.Reason)
	clk.advance(5 * time.Second)
	f = find("receipt-2", lost, over)
	assert.Equal(t, loyalty.OutcomeNotApplied, f.Outcome, "the history shows the card's last change and no row carries the reference: %s", f.Reason)
	assert.Contains(t, f.Reason, "history shows the card's last change")

	// The card changed just before the attempt, in the same second: the reason says so.
	clk.advance(10 * time.Second)
	stamp(id, "")
	f = find("receipt-3", clk.Now(), over)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome)
	assert.Contains(t, f.Reason, "about when the attempt began")

	// A change that writes no history row (a PATCH) is shown caught up by a later row of the
	// account, on another card.
	clk.advance(10 * time.Second)
	_, _, err = c.Cards.Update(ctx, id, &loyalty.CardUpdateRequest{CustomFields: []loyalty.CustomFieldValue{{ID: 1, Value: "x"}}})
	require.NoError(t, err)
	f, _, err = c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: id, Reference: "receipt-4"})
	require.NoError(t, err)
	assert.Equal(t, loyalty.OutcomeUnknown, f.Outcome, "nothing yet shows the history has caught up: %s", f.Reason)
	clk.advance(time.Second)
	stamp(other, "")
	clk.advance(6 * time.Second)
	f, _, err = c.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: id, Reference: "receipt-4"})
	require.NoError(t, err)
	assert.Equal(t, loyalty.OutcomeNotApplied, f.Outcome, f.Reason)
	assert.Contains(t, f.Reason, "account's history")
}

// The look-up chooses the history's days before it reads the server's clock, from a guess:
// on a client that has not met the server yet, this machine's clock. A server clock ten days
// off makes the guess miss: the days are read again, once the card's answer gives the server's
// time, and the verdict is the same. The next look-up guesses from the server's clock.
func TestAHistoryGuessThatMissesIsReadAgain(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{240 * time.Hour, -240 * time.Hour} {
		srv := loyaltytest.NewServer(loyaltytest.WithClockOffset(offset))
		t.Cleanup(srv.Close)
		ctx := context.Background()
		id := stampCard(t, srv)
		_, _, err := srv.Client.Cards.AddStamps(ctx, id, 1, &loyalty.ActionOptions{Reference: "r-old"})
		require.NoError(t, err)
		c, err := srv.NewClient(loyalty.WithLedger(loyalty.NewMemoryLedger(0)))
		require.NoError(t, err)
		history := func() int { return srv.Requests("GET /api/v2/operations") }

		before := history()
		_, _, err = c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1), &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "r-old"}, nil)
		assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied, "%s: the row is found in the days read again", offset)
		assert.Equal(t, 2, history()-before, "%s: the guessed days, then the right ones", offset)

		before = history()
		_, _, err = c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1), &loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: "r-new"}, nil)
		require.NoError(t, err)
		assert.Equal(t, 1, history()-before, "%s: the next guess is the server's clock", offset)
	}
}
