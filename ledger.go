package loyalty

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Ledger is where the "once" helpers (Cards.ApplyOnce, Cards.FindOrIssue,
// Customers.FindOrCreate, Companies.CreateOnce) claim a reference before they send anything and
// record what became of it. A reference seen again, by a later call, another goroutine or
// another process that shares the ledger, is answered from the ledger instead of being sent
// twice; two callers that claim one reference at once send it at most once between them.
//
// The default is one in-memory ledger shared by every client of the process (see
// NewMemoryLedger); the module github.com/loyaltycards/loyalty-go/loyaltyredis has one that
// processes and machines share. WithLedger sets another. For a reference the ledger does not
// know (it was never claimed through it, or its entry has expired), the operations history
// stays the witness.
//
// A holder renews its claim before every step of its call (each look at the history, each
// send), and bounds the step to end before the claim could expire: a claim never expires
// under its holder, and a holder whose claim is gone sends nothing more.
//
// An implementation must be safe for concurrent use, and Claim must be atomic: of two holders
// claiming one free key at once, exactly one gets it. It must never forget an entry without
// saying so in LedgerClaim.Kept (an evicted key, say): a key found free is taken as "no call
// holds it, and none applied it" for as long as Kept covers. Keys and entries carry no
// secret: a key is made of digests (of the API key and of the reference), and an entry of ids
// and times.
type Ledger interface {
	// Claim takes key for holder, for at most hold, when the key is free, its entry says
	// LedgerUnknown, or it is a claim whose hold lapsed. A lapsed claim is not a free key:
	// it is answered as the entry it replaced in state LedgerUnknown, since its holder may
	// have sent. A claim's entry is kept for DefaultLedgerKeep after its hold, for that.
	Claim(ctx context.Context, key, holder string, hold time.Duration) (LedgerClaim, error)
	// Renew extends holder's claim on key to hold from now. It reports false, and changes
	// nothing, when holder no longer holds key (its hold lapsed, or the ledger lost it).
	Renew(ctx context.Context, key, holder string, hold time.Duration) (bool, error)
	// Record replaces holder's claim with an outcome (LedgerApplied or LedgerUnknown), kept
	// for keep. It changes nothing when holder no longer holds key.
	Record(ctx context.Context, key, holder string, e LedgerEntry, keep time.Duration) error
	// Release frees holder's claim, for a reference that was not applied and may be sent
	// again. It changes nothing when holder no longer holds key.
	Release(ctx context.Context, key, holder string) error
}

// LedgerClaim is a ledger's answer to Claim.
type LedgerClaim struct {
	// Claimed is set when the key was taken. Entry is then the entry the claim replaced (the
	// zero entry for a free key, or LedgerUnknown), else the entry that stands (LedgerHeld by
	// another holder, or LedgerApplied).
	Claimed bool
	Entry   LedgerEntry
	// Kept is how long, when the ledger answered, it had kept every entry written to it:
	// since it was first used, or since it last lost what it held (a Redis restarted, flushed
	// or failed over). A free key is only evidence for that long. A ledger shared by processes
	// reports it; zero means the ledger does not track it, as NewMemoryLedger's, which is a
	// witness for the calls of its own process only (the history covers the rest).
	//
	// A ledger that lost what it held may have lost the claim of a send still in flight: for
	// two in-flight bounds after Kept began (one for the send, one for the server), a first
	// send waits and reads the history. One that has kept everything for the look-up's whole
	// Window vouches for a free key alone, and ApplyOnce sends without the look-up.
	Kept time.Duration
}

// LedgerState is what a ledger knows of a reference.
type LedgerState uint8

// The states of a ledger entry.
const (
	// LedgerFree: nothing is known; the zero entry.
	LedgerFree LedgerState = iota
	// LedgerHeld: a caller has claimed the reference and has not finished with it.
	LedgerHeld
	// LedgerApplied: the reference was applied (or the object created).
	LedgerApplied
	// LedgerUnknown: an attempt may or may not have been applied; whoever claims the
	// reference next must find out before sending it again. A claim whose hold lapsed
	// without an outcome (its holder died, or could not record) is claimed as this, with no
	// times: its holder may have sent.
	LedgerUnknown
)

// String names the state.
func (s LedgerState) String() string {
	switch s {
	case LedgerHeld:
		return "held"
	case LedgerApplied:
		return "applied"
	case LedgerUnknown:
		return "unknown"
	}
	return "free"
}

// LedgerEntry is what a ledger keeps of one reference.
type LedgerEntry struct {
	State LedgerState
	// ID is what the reference acted on or created: a card, customer or company id.
	ID string
	// Sent and Ended bound the last attempt on the server's clock (zero when not known), so
	// that whoever claims a LedgerUnknown entry can judge it without this machine's clock.
	Sent, Ended time.Time
}

// Default hold and keep times of the "once" helpers' ledger entries.
const (
	// DefaultLedgerHold is how long a claim lasts without renewal: a claim left by a process
	// that died frees itself after it. A holder renews its claim before each step of its call,
	// and no step runs past the claim's end (OnceOptions.Hold sets another).
	DefaultLedgerHold = 15 * time.Minute
	// DefaultLedgerKeep is how long an outcome is remembered, as long as the history look-up
	// before a first send searches back (OnceOptions.Window).
	DefaultLedgerKeep = 7 * 24 * time.Hour
)

// onceKey names a reference in the ledger: the account (a digest of the base URL and the API
// key), what kind of reference it is, and a digest of its parts. It holds no secret and no
// personal data.
func (c *Client) onceKey(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "once:" + c.account + ":" + kind + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// accountDigest is what the ledger and the rate limiter key an account by: never the key.
func accountDigest(base, apiKey string) string {
	sum := sha256.Sum256([]byte(base + "\x00" + apiKey))
	return hex.EncodeToString(sum[:12])
}

// newHolder returns a random holder token for one claim.
func newHolder() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claim is a reference held in the ledger by one helper call.
type claim struct {
	ledger Ledger
	key    string
	holder string
	hold   time.Duration
	// prev is the entry the claim replaced: free, or unknown with its attempt's times.
	prev LedgerEntry
	// kept is how long the ledger had kept everything when it granted the claim (0: it does
	// not say), and granted when that was, on this machine's clock (elapsed time only).
	kept    time.Duration
	granted time.Time
	// renewed is when the claim was last granted or renewed, on this machine's clock.
	renewed time.Time
	done    bool
}

// errHeldElsewhere is the cause of an OutcomeUnknownError for a reference that another call
// holds until the caller's context ends.
var errHeldElsewhere = errors.New("another call holds the reference and has not finished with it")

// errClaimLost is a ledger failure: the claim a call held is gone (the ledger lost it, or it
// expired), so the call sends nothing more.
var errClaimLost = errors.New("the claim on the reference was lost (the ledger forgot it, or it expired): nothing more is sent")

// claimOnce claims key for hold, waiting while another call holds it. It returns the claim,
// or the entry that settles the call without one (LedgerApplied). A failing ledger is an
// ErrLedger error: nothing may be sent.
func (c *Client) claimOnce(ctx context.Context, key string, hold time.Duration) (*claim, LedgerEntry, error) {
	holder := newHolder()
	wait := 5 * time.Millisecond
	for {
		got, err := c.ledger.Claim(ctx, key, holder, hold)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, LedgerEntry{}, ctx.Err()
		case err != nil:
			return nil, LedgerEntry{}, &ledgerError{"claim", err}
		case got.Claimed:
			now := time.Now()
			return &claim{ledger: c.ledger, key: key, holder: holder, hold: hold, prev: got.Entry,
				kept: got.Kept, granted: now, renewed: now}, LedgerEntry{}, nil
		case got.Entry.State == LedgerApplied:
			return nil, got.Entry, nil
		}
		// Held by another call: wait for its outcome, polling at a pace that suits a shared
		// store as well as memory.
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, got.Entry, fmt.Errorf("%w (%w)", errHeldElsewhere, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// doubt is how long, from now, an attempt whose claim the ledger may have lost could still
// land at the server: the ledger lost what it held less than a send's bound and the server's
// in-flight bound ago (both inFlight), plus the margin of two readings of a clock. Zero for a
// ledger that kept everything for longer, or does not say.
func (cl *claim) doubt(inFlight time.Duration) time.Duration {
	if cl.kept <= 0 || cl.prev.State != LedgerFree {
		return 0
	}
	return max(0, 2*inFlight+settleMargin-cl.kept-time.Since(cl.granted))
}

// vouches reports whether the ledger alone proves a free key was never sent within window:
// it has kept everything for at least that long, and keeps outcomes that long.
func (cl *claim) vouches(window time.Duration) bool {
	return cl.prev.State == LedgerFree && cl.kept >= window && window <= DefaultLedgerKeep
}

// step returns a context for the next step of the call that ends before the claim could
// expire, with a fifth of the hold left to record the outcome. Before a send (fence) it always
// renews the claim, so that nothing is sent under a claim the ledger has lost; before a look it
// renews once a quarter of the hold has passed. A claim that is gone is an ErrLedger error: the
// step must not run.
func (cl *claim) step(ctx context.Context, fence bool) (context.Context, context.CancelFunc, error) {
	if fence || time.Since(cl.renewed) > cl.hold/4 {
		asked := time.Now()
		held, err := cl.ledger.Renew(ctx, cl.key, cl.holder, cl.hold)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err != nil:
			return nil, nil, &ledgerError{"renew", err}
		case !held:
			return nil, nil, &ledgerError{"renew", errClaimLost}
		}
		cl.renewed = asked
	}
	stepCtx, cancel := context.WithDeadline(ctx, cl.renewed.Add(cl.hold-cl.hold/5))
	return stepCtx, cancel, nil
}

// sleep waits d within a step of the claim.
func (cl *claim) sleep(ctx context.Context, d time.Duration) error {
	stepCtx, cancel, err := cl.step(ctx, false)
	if err != nil {
		return err
	}
	defer cancel()
	return transport.Sleep(stepCtx, d)
}

// applied records that the reference was applied to (or created) id.
func (cl *claim) applied(ctx context.Context, id string) error {
	if cl == nil || cl.done {
		return nil
	}
	cl.done = true
	if err := cl.ledger.Record(context.WithoutCancel(ctx), cl.key, cl.holder, LedgerEntry{State: LedgerApplied, ID: id}, DefaultLedgerKeep); err != nil {
		return &ledgerError{"record", err}
	}
	return nil
}

// unknown records an attempt whose outcome could not be learned, with its server times.
func (cl *claim) unknown(ctx context.Context, id string, sent, ended time.Time) error {
	if cl == nil || cl.done {
		return nil
	}
	cl.done = true
	e := LedgerEntry{State: LedgerUnknown, ID: id, Sent: sent, Ended: ended}
	if err := cl.ledger.Record(context.WithoutCancel(ctx), cl.key, cl.holder, e, DefaultLedgerKeep); err != nil {
		return &ledgerError{"record", err}
	}
	return nil
}

// release frees the claim when nothing was applied, unless an outcome was recorded. A
// previous unknown entry is put back: freeing it would forget an attempt that may still show.
func (cl *claim) release(ctx context.Context) {
	if cl == nil || cl.done {
		return
	}
	cl.done = true
	ctx = context.WithoutCancel(ctx)
	if cl.prev.State == LedgerUnknown {
		_ = cl.ledger.Record(ctx, cl.key, cl.holder, cl.prev, DefaultLedgerKeep)
		return
	}
	_ = cl.ledger.Release(ctx, cl.key, cl.holder)
}
