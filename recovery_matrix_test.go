// The recovery matrix: every fault kind × server clocks far from this machine's × a first call
// and two repeats, none applied twice.

package loyalty_test

import (
	"context"
	"errors"
	"fmt"
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

// matrixOffsets are the server clock offsets of the recovery matrix: the server's clock
// hours or days away from this machine's, either way.
var matrixOffsets = []time.Duration{-72 * time.Hour, -25 * time.Hour, -time.Hour, 0, time.Hour, 25 * time.Hour, 72 * time.Hour}

// TestRecoveryMatrix runs ApplyOnce under every fault kind, against servers whose clocks are
// each of matrixOffsets away from this machine's, with a history lagging 80ms behind the
// cards. Each cell has a card of its own, issued a minute (of the server's clock) before, and
// three calls with one reference:
//
//   - the first call, under the fault: as documented, it ends applied (no error) for every
//     fault kind, since the lost answers are either found applied in the history or proven
//     not applied once the attempt can no longer be in flight, and then sent again;
//   - the same call repeated at once on the same client: ErrAlreadyApplied, from the ledger;
//   - the call repeated by another process (a client with a ledger of its own, so only the
//     card's history can tell), once the history shows the first call's row:
//     ErrAlreadyApplied, from the history.
//
// In every cell the reference is applied exactly once. The test prints its tally.
func TestRecoveryMatrix(t *testing.T) {
	t.Parallel()
	synctest.Test(t, recoveryMatrix)
}

func recoveryMatrix(t *testing.T) {
	const lag = 80 * time.Millisecond
	once := &loyalty.OnceOptions{Settle: 50 * time.Millisecond, InFlight: inFlight}
	ctx := context.Background()

	type cell struct {
		offset               time.Duration
		kind                 string
		first, again, elsewh error
		applied              int
	}
	// server is one offset's fake, with a card per fault kind.
	type server struct {
		offset time.Duration
		srv    *loyaltytest.Server
		clk    *shiftClock
		ids    []string
	}
	var (
		mu      sync.Mutex
		cells   []cell
		servers []server
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, 32)
	for _, offset := range matrixOffsets {
		clk := newShiftClock()
		clk.shift(offset)
		srv := loyaltytest.NewServer(loyaltytest.WithClock(clk.Now), loyaltytest.WithHistoryLag(lag), loyaltytest.WithInMemoryNetwork())
		t.Cleanup(srv.Close)
		client, err := srv.NewClient(loyalty.WithTimeout(attemptTimeout), loyalty.WithLedger(loyalty.NewMemoryLedger(0)))
		require.NoError(t, err)
		rival, err := srv.NewClient()
		require.NoError(t, err)
		process, err := srv.NewClient(loyalty.WithLedger(loyalty.NewMemoryLedger(0)))
		require.NoError(t, err)
		ids := issueCards(t, srv, srv.Client, len(trialKinds))
		clk.shift(time.Minute) // the cards were issued a minute before the till uses them
		servers = append(servers, server{offset, srv, clk, ids})
		for k, kind := range trialKinds {
			id, ref := ids[k], fmt.Sprintf("receipt-%s-%d", offset, k)
			if kind.fault != nil {
				f := *kind.fault
				f.Path = "/api/v2/cards/" + id + "/add-stamp"
				srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", f)
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				c := cell{offset: offset, kind: kind.name}
				c.first = runTrial(ctx, client, rival, id, ref, kind, once)
				repeat := func(c *loyalty.Client) error {
					_, _, err := c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1),
						&loyalty.ActionOptions{CardType: loyalty.CardTypeStamp, Reference: ref}, once)
					return err
				}
				c.again = repeat(client)
				srv.WaitForHistory()
				c.elsewh = repeat(process)
				mu.Lock()
				cells = append(cells, c)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()

	tally := map[string]map[string]int{}
	doubled := 0
	for _, ms := range servers {
		ms.clk.shift(time.Hour) // the history shows every row
		for k := range trialKinds {
			ref := fmt.Sprintf("receipt-%s-%d", ms.offset, k)
			n := rowsWith(t, ms.srv.Client, ms.ids[k], ref)
			for i := range cells {
				if cells[i].offset == ms.offset && cells[i].kind == trialKinds[k].name {
					cells[i].applied = n
				}
			}
		}
	}
	for _, c := range cells {
		row := fmt.Sprintf("%-50s %+5.0fh", c.kind, c.offset.Hours())
		verdict := func(what string, err error, want error) string {
			switch {
			case err == nil && want == nil, want != nil && errors.Is(err, want):
				return what + " as documented"
			}
			t.Errorf("%s, %s: %v", row, what, err)
			return what + " NOT as documented"
		}
		if tally[c.kind] == nil {
			tally[c.kind] = map[string]int{}
		}
		if c.applied > 1 {
			doubled++
			tally[c.kind]["DOUBLED"]++
		}
		assert.Equal(t, 1, c.applied, "%s: applied once", row)
		tally[c.kind][verdict("first: applied", c.first, nil)]++
		tally[c.kind][verdict("again: already applied", c.again, loyalty.ErrAlreadyApplied)]++
		tally[c.kind][verdict("elsewhere: already applied", c.elsewh, loyalty.ErrAlreadyApplied)]++
	}
	t.Logf("%d cells (%d fault kinds × %d clock offsets), a first call and two repeats each, %d applied twice:\n%s",
		len(cells), len(trialKinds), len(matrixOffsets), doubled, strings.TrimSpace(formatTally(tally)))
	assert.Zero(t, doubled)
}
