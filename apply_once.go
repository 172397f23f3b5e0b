package loyalty

import (
	"context"
	"errors"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// The API has no idempotency keys. When a card action's answer is lost, the client says
// "outcome unknown" rather than send it twice. The helpers here find out what happened and
// apply the action at most once, using a reference (a receipt or order id) that the SDK
// writes into the operation's comment.

// ActionFunc is a card action with everything but the card and the options bound, as Bind
// makes it or as RedeemCoupon already is.
type ActionFunc func(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error)

// Bind fixes an action's quantity: Bind(client.Cards.AddStamps, 2).
func Bind[Q any](action func(ctx context.Context, id string, q Q, opts *ActionOptions) (*Card, *Response, error), q Q) ActionFunc {
	return func(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error) {
		return action(ctx, id, q, opts)
	}
}

// OnceOptions tunes ApplyOnce and the create helpers. The zero value (or nil) is the
// default.
type OnceOptions struct {
	// Fresh skips the history look-up ApplyOnce makes before its first send, for a
	// reference you know was never sent before (one you just generated). It saves two reads
	// (GET of the card and of its history) before the action; the ledger is still asked.
	Fresh bool
	// Settle is the first wait before the history is read after an unknown outcome (default
	// 2s); later looks wait twice as long as the one before, up to 8 × Settle or a quarter
	// of InFlight, whichever is longer.
	Settle time.Duration
	// Lookups bounds the looks at the history after an unknown outcome, and before a first
	// send while the history cannot tell (default: as many as it takes to pass InFlight, and
	// two more).
	Lookups int
	// Sends bounds the sends in all (default 3).
	Sends int
	// InFlight is how long after an attempt ended the server may still apply it: "not
	// applied" waits it out (default: the larger of DefaultInFlight, 30 s, and the client's
	// per-attempt timeout).
	InFlight time.Duration
	// Window is how far back the look-up before a first send searches (DefaultWindow, 7
	// days). A repeat older than that is caught by the ledger alone.
	Window time.Duration
	// Hold is how long the ledger claim lasts without renewal (DefaultLedgerHold). The call
	// renews it before each step, and cuts a step that would outlast it: a call never loses
	// its claim to time, and fails safe if a step (a wait, a look, a send) is longer than Hold.
	Hold time.Duration
	// HistoryLag opts into a bound on the history's lag (see ReferenceQuery.HistoryLag).
	HistoryLag time.Duration
}

func (o *OnceOptions) settle() time.Duration {
	if o == nil || o.Settle <= 0 {
		return 2 * time.Second
	}
	return o.Settle
}

// waits returns the waits before each look at the history after a lost answer: Settle
// (at least a millisecond), then twice the wait before, up to 8 × Settle or a quarter of
// inFlight, whichever is longer; Lookups of them, or by default as many as it takes to pass
// inFlight, and two more Settle apart. A lost answer that was applied shows at an early look;
// "not applied" needs the bound passed, and a few long waits reach it in a few looks.
func (o *OnceOptions) waits(inFlight time.Duration) []time.Duration {
	settle := max(o.settle(), time.Millisecond)
	limit := max(8*settle, inFlight/4)
	var out []time.Duration
	var total time.Duration
	for w := settle; ; w = min(2*w, limit) {
		if o != nil && o.Lookups > 0 {
			if len(out) == o.Lookups {
				return out
			}
		} else if total > inFlight {
			return append(out, settle, settle)
		}
		out = append(out, w)
		total += w
	}
}

// precheckLooks bounds the looks before a first send while the history cannot tell: the
// first at once, then Settle apart (Lookups, or 3 by default).
func (o *OnceOptions) precheckLooks() int {
	if o != nil && o.Lookups > 0 {
		return o.Lookups
	}
	return 3
}

func (o *OnceOptions) sends() int {
	if o == nil || o.Sends <= 0 {
		return 3
	}
	return o.Sends
}

func (o *OnceOptions) hold() time.Duration {
	if o == nil || o.Hold <= 0 {
		return DefaultLedgerHold
	}
	return o.Hold
}

func (o *OnceOptions) settings(c *Client) verdictBounds {
	if o == nil {
		return verdictBounds{inFlight: c.inFlight(0), window: DefaultWindow}
	}
	return verdictBounds{inFlight: c.inFlight(o.InFlight), window: orDefault(o.Window, DefaultWindow), lag: o.HistoryLag}
}

// ApplyOnce sends a card action at most once per reference (opts.Reference, a receipt or
// order id, required) on that card: across calls, goroutines and clients of this process, and
// across processes that share a ledger (WithLedger) or the card's history.
//
// Several copies of a service (replicas, workers, a till restarted while its last request
// was in flight) keep this promise only through a shared ledger, such as
// loyaltyredis.NewLedger: with the default in-process ledger each copy has its own, and two
// copies that receive the same reference at the same moment may each send it, since the
// history shows a change only some time after it.
//
//   - It claims the reference in the client's ledger. One already applied returns the card
//     (read with one GET) and an *AlreadyAppliedError: errors.Is(err, ErrAlreadyApplied).
//     One held by another call waits for that call's outcome.
//   - Before the first send it looks the reference up in the card's history
//     (Operations.FindReference: the card and its history of the last Window, read side by
//     side), unless once.Fresh, or the ledger vouches that it has kept every reference sent
//     for longer than the Window. Applied: the card and an *AlreadyAppliedError. If the history
//     cannot tell yet, it looks again; still unknown, it returns an *OutcomeUnknownError
//     without sending.
//   - When the send's outcome is unknown (the answer was lost), it waits and looks the
//     reference up, as often as the options allow: applied returns the card, with no error; not
//     applied (which waits for OnceOptions.InFlight after the attempt ended) sends again; still
//     unknown returns an *OutcomeUnknownError whose Finding says why, and records it in the
//     ledger, so that a later call finds out before it sends.
//
// Cost: with the defaults, a first send is three requests in two round trips (the card and
// its history read side by side, then the action); with a card read a moment ago in
// opts.Card (within 5 s, as FindOrIssue or Get return it), two (the history, the action);
// with a ledger that vouches (its LedgerClaim.Kept covers the Window), or once.Fresh, one
// (the action). A repeat answered by the ledger is one GET. A lost answer costs two reads
// per look; an applied action shows at the first look (after Settle, 2 s), a lost one only
// after InFlight (30 s).
//
// Errors: *AlreadyAppliedError (ErrAlreadyApplied) for a repeat; *OutcomeUnknownError
// (ErrOutcomeUnknown) when the history cannot tell; an ErrLedger error when the ledger fails
// (nothing is sent); the action's own errors otherwise (ErrActionNotAllowed,
// ErrCardState, ErrNotFound, ErrInvalidArgument, *APIError).
//
//	card, _, err := client.Cards.ApplyOnce(ctx, cardID, loyalty.Bind(client.Cards.AddStamps, 2),
//		&loyalty.ActionOptions{Reference: "receipt-8812", Comment: "till 3"}, nil)
//
// API: the action's own endpoint; before it GET /api/v2/cards/{id} and GET
// /api/v2/operations; after a lost answer the same two reads
func (s *CardsService) ApplyOnce(ctx context.Context, id string, action ActionFunc, opts *ActionOptions, once *OnceOptions) (*Card, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	switch {
	case action == nil:
		return nil, nil, invalid("action", "must not be nil")
	case opts == nil || opts.Reference == "":
		return nil, nil, invalid("options.reference", "ApplyOnce needs a reference to find the action by")
	}
	if _, err := segment("id", id); err != nil {
		return nil, nil, err
	}
	if err := checkReference(opts.Reference); err != nil {
		return nil, nil, err
	}
	return s.applyOnce(ctx, id, func(context.Context, *Card) (ActionFunc, error) { return action, nil }, opts, once)
}

// plan chooses the action to send once the card is known (as the look-up before the first
// send read it, or as the caller handed it; nil when neither): what Purchase needs, which
// picks the action by the card's type and template.
type plan func(ctx context.Context, card *Card) (ActionFunc, error)

// applyOnce is ApplyOnce with the action chosen by choose, before the first send. Its
// arguments are checked.
func (s *CardsService) applyOnce(ctx context.Context, id string, choose plan, opts *ActionOptions, once *OnceOptions) (*Card, *Response, error) {
	ref := opts.Reference
	ls := once.settings(s.client)
	cl, _, err := s.client.claimOnce(ctx, s.client.onceKey("apply", cacheKey(id), ref), once.hold())
	switch {
	case errors.Is(err, errHeldElsewhere):
		return nil, nil, &OutcomeUnknownError{Err: err, Finding: &Finding{Reason: errHeldElsewhere.Error()}}
	case err != nil:
		return nil, nil, err
	case cl == nil: // applied before, as the ledger says
		card, resp, _ := s.Get(ctx, id)
		return card, resp, &AlreadyAppliedError{CardID: id, Reference: ref,
			Finding: &Finding{Outcome: OutcomeApplied, Card: card, Reason: "the ledger recorded the reference as applied"}}
	}
	defer cl.release(ctx) // unless an outcome is recorded below: nothing was applied

	// before is the look-up made just before a send: it places the send on the server's clock.
	var before *Finding
	switch {
	case cl.prev.State == LedgerUnknown:
		// An earlier call lost an answer, or its claim lapsed without an outcome: find out what
		// became of it before sending.
		f, historyErr := s.askHistory(ctx, cl, id, ref, earlier(cl.prev, cl.granted), once, ls, nil)
		switch {
		case f != nil && f.Outcome == OutcomeApplied:
			_ = cl.applied(ctx, id)
			return f.Card, nil, &AlreadyAppliedError{CardID: id, Reference: ref, Finding: f}
		case f == nil || f.Outcome != OutcomeNotApplied:
			return nil, nil, &OutcomeUnknownError{Err: errEarlierUnknown, Finding: f, LookupErr: historyErr}
		}
		before = f
	case once.fresh():
		// A reference just generated: nothing can have sent it.
	case cl.vouches(ls.window):
		// The ledger has kept every claim and outcome for longer than the look-up searches:
		// a free key there is the evidence the look-up would give.
	default:
		if d := cl.doubt(ls.inFlight); d > 0 {
			// The ledger lost what it held a moment ago: a send whose claim it forgot may
			// still land. Wait until none can, then look, as after a lost answer.
			if err := cl.sleep(ctx, d); err != nil {
				return nil, nil, ledgerOr(err, &OutcomeUnknownError{Err: errForgotten,
					Finding: &Finding{Reason: errForgotten.Error()}, LookupErr: err})
			}
		}
		// A card the caller read a moment ago stands for the look-up's read of it: only the
		// history is read.
		f, historyErr := s.askHistory(ctx, cl, id, ref, nil, once, ls, opts.Card)
		switch {
		case f != nil && f.Outcome == OutcomeApplied:
			_ = cl.applied(ctx, id)
			return f.Card, nil, &AlreadyAppliedError{CardID: id, Reference: ref, Finding: f}
		case f == nil && historyErr != nil && !IsOutcomeUnknown(historyErr) && errors.Is(historyErr, ErrNotFound):
			return nil, nil, historyErr
		case f == nil || f.Outcome != OutcomeNotApplied:
			return nil, nil, ledgerOr(historyErr, &OutcomeUnknownError{Err: errNotSentUnknown, Finding: f, LookupErr: historyErr})
		}
		before = f
	}

	known := opts.Card
	if before != nil {
		known = before.Card
	}
	action, err := choose(ctx, known)
	if err != nil {
		return nil, nil, err // nothing sent
	}
	for sends := 1; ; sends++ {
		// The claim is renewed before every send: nothing is sent under a claim the ledger
		// lost. A send is cut at InFlight, so that a ledger which lost its claims knows how
		// long any of their sends may still land (see LedgerClaim.Kept).
		stepCtx, cancelStep, err := cl.step(ctx, true)
		if err != nil {
			return nil, nil, err // nothing of this call is applied: the sends before were not
		}
		sendCtx, cancelSend := context.WithTimeout(stepCtx, ls.inFlight)
		sent := time.Now()
		card, resp, err := action(sendCtx, id, opts)
		ended := time.Now()
		cancelSend()
		cancelStep()
		if err == nil {
			if lerr := cl.applied(ctx, id); lerr != nil {
				s.client.logger.Warn("loyalty: the action was applied, but the ledger could not record it", "error", lerr.Error())
			}
			return card, resp, nil
		}
		if !IsOutcomeUnknown(err) {
			return card, resp, err // refused or never sent: nothing applied
		}
		a := &attempt{sent: sent, ended: ended}
		if before != nil && !before.ServerTime.IsZero() {
			// The look-up just before the send places it on the server's clock exactly.
			a.serverSent = before.ServerTime
		}
		f, historyErr := s.askHistory(ctx, cl, id, ref, a, once, ls, nil)
		switch {
		case f != nil && f.Outcome == OutcomeApplied:
			_ = cl.applied(ctx, id)
			card, resp, err := s.Get(ctx, id)
			if err != nil {
				return f.Card, resp, nil // applied; only the fresh read failed
			}
			return card, resp, nil
		case f != nil && f.Outcome == OutcomeNotApplied && sends < once.sends():
			before = f
			continue
		case f == nil || f.Outcome != OutcomeNotApplied:
			// Unknown: record it with the attempt's place on the server's clock, so that a
			// later call, here or in another process, finds out before it sends.
			var serverSent, serverEnded time.Time
			if f != nil && !f.ServerTime.IsZero() {
				serverSent = a.serverSent
				if serverSent.IsZero() {
					serverSent = f.ServerTime.Add(-time.Since(sent))
				}
				serverEnded = f.ServerTime.Add(-time.Since(ended))
			}
			_ = cl.unknown(ctx, id, serverSent, serverEnded)
		}
		out := OutcomeUnknownError{Err: err} // an action of the caller's own may carry the sentinel alone
		var unknown *OutcomeUnknownError
		if errors.As(err, &unknown) {
			out = *unknown
		}
		out.Finding, out.LookupErr = f, historyErr
		return nil, resp, &out
	}
}

// ledgerOr is err when the ledger failed (nothing was sent, and the ledger is what to mend),
// else unknown.
func ledgerOr(err error, unknown *OutcomeUnknownError) error {
	if errors.Is(err, ErrLedger) {
		return err
	}
	return unknown
}

func (o *OnceOptions) fresh() bool { return o != nil && o.Fresh }

var (
	// errNotSentUnknown explains an ApplyOnce that sent nothing because the history could not
	// tell whether an earlier attempt with the reference was applied.
	errNotSentUnknown = errors.New("nothing was sent: the history cannot tell yet whether an earlier attempt with this reference was applied")
	// errEarlierUnknown explains one whose reference an earlier call left unknown.
	errEarlierUnknown = errors.New("nothing was sent: an earlier call with this reference lost its answer, and the history cannot tell yet what became of it")
	// errForgotten explains one that gave up while waiting out the sends a ledger forgot.
	errForgotten = errors.New("nothing was sent: the ledger lost what it held a moment ago, and a send it forgot may still land")
)

// askHistory asks the history about the reference until it can tell, waiting before each look as
// once says, each wait and look a step of the claim.
func (s *CardsService) askHistory(ctx context.Context, cl *claim, id, ref string, a *attempt, once *OnceOptions, ls verdictBounds, handed *Card) (*Finding, error) {
	waits := once.waits(a.bound(ls.inFlight))
	if a == nil {
		// Before a first send nothing is in flight: look at once, then Settle apart.
		waits = make([]time.Duration, once.precheckLooks())
		for i := 1; i < len(waits); i++ {
			waits[i] = once.settle()
		}
	}
	var f *Finding
	var lastErr error
	for _, wait := range waits {
		got, err := s.askHistoryOnce(ctx, cl, id, ref, a, ls, wait, handed)
		handed = nil // later looks read the card again
		if err != nil {
			lastErr = err
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrLedger) || ctx.Err() != nil {
				return f, err
			}
			continue
		}
		f, lastErr = got, nil
		if got.Outcome != OutcomeUnknown {
			return got, nil
		}
	}
	return f, lastErr
}

// askHistoryOnce waits, then reads the card and its history, within one step of the claim.
func (s *CardsService) askHistoryOnce(ctx context.Context, cl *claim, id, ref string, a *attempt, ls verdictBounds, wait time.Duration, handed *Card) (*Finding, error) {
	stepCtx, cancel, err := cl.step(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := transport.Sleep(stepCtx, wait); err != nil {
		return nil, err
	}
	f, _, err := s.client.Operations.find(stepCtx, id, ref, a, ls, handed)
	return f, err
}
