// The create helpers' shared core: create something at most once, for scripts that may crash
// half-way and run again, and for creates whose answer was lost (*OutcomeUnknownError). Each
// helper (Customers.FindOrCreate, Cards.FindOrIssue, Companies.CreateOnce, beside their
// services) claims its key in the client's ledger first (see Ledger), so a repeat in this
// process, or in any that shares the ledger, is answered from it; then looks for what exists;
// creates; and after a lost answer looks again until the object shows, or until the attempt
// can no longer be in flight (OnceOptions.InFlight after it ended) and it has not: only then
// may it be created again.

package loyalty

import (
	"context"
	"errors"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// creator is what createOnce needs of one kind of object.
type creator[T any] struct {
	// find looks for the object; nil when there is none. Its response dates the look on the
	// server's clock. again is set when a create may have landed since an earlier look: what
	// the helper keeps from earlier looks (an index of companies) must not answer then.
	find func(ctx context.Context, again bool) (*T, *Response, error)
	// create sends the create; get reads an object the ledger names.
	create func(context.Context) (*T, *Response, error)
	get    func(context.Context, string) (*T, *Response, error)
	id     func(*T) string
	// conflictIsExisting marks an object the API refuses twice (409): a create still in flight
	// cannot make a second one, so a lost create may be sent again at once, and a refused
	// one is found by the next look.
	conflictIsExisting bool
}

// createOnce finds or creates the object of cr at most once per key.
func createOnce[T any](ctx context.Context, c *Client, key string, once *OnceOptions, cr creator[T]) (*T, *Response, error) {
	cl, settled, err := c.claimOnce(ctx, key, once.hold())
	switch {
	case errors.Is(err, errHeldElsewhere):
		return nil, nil, &OutcomeUnknownError{Err: err, Finding: &Finding{Reason: errHeldElsewhere.Error()}}
	case err != nil:
		return nil, nil, err
	case cl == nil:
		obj, resp, err := cr.get(ctx, settled.ID) // created before, as the ledger says
		return obj, found(resp, true), err
	}
	defer cl.release(ctx) // unless an outcome is recorded below: nothing was created
	inFlight := once.settings(c).inFlight

	// pending is a create whose answer was lost: by this call, or by an earlier one the ledger
	// remembers. Until it can no longer be in flight, nothing is sent again.
	var pending *attempt
	if cl.prev.State == LedgerUnknown {
		pending = earlier(cl.prev, cl.granted)
	}
	if d := cl.doubt(inFlight); d > 0 && !cr.conflictIsExisting {
		// The ledger lost what it held a moment ago: a create whose claim it forgot may still
		// land. Wait until none can; the look below then sees it.
		if err := cl.sleep(ctx, d); err != nil {
			return nil, nil, ledgerOr(err, &OutcomeUnknownError{Err: errForgotten, Finding: &Finding{Reason: errForgotten.Error()}})
		}
	}
	var lastErr error
	var lastResp *Response
	// sentHere is set once this call sent a create that may have landed: an object found
	// after that is the call's own, not one that existed.
	sentHere := false
	for sends := 0; ; {
		obj, resp, err := stepped(ctx, cl, false, func(ctx context.Context) (*T, *Response, error) {
			return cr.find(ctx, pending != nil)
		})
		if err != nil {
			if IsOutcomeUnknown(lastErr) && errors.Is(err, ErrLedger) {
				err = lastErr // this call's own lost create says it best
			}
			return nil, resp, err
		}
		if obj == nil && pending != nil && !cr.conflictIsExisting {
			obj, resp, err = awaitCreated(ctx, cl, pending, once, inFlight, resp, func(ctx context.Context) (*T, *Response, error) {
				return cr.find(ctx, true)
			})
			if err != nil {
				if IsOutcomeUnknown(lastErr) {
					err = lastErr // this call's own lost create says it best
				}
				var serverSent, serverEnded time.Time
				if now := serverTime(resp); !now.IsZero() {
					serverSent, serverEnded = pending.onServer(now)
				}
				_ = cl.unknown(ctx, "", serverSent, serverEnded)
				return nil, resp, err
			}
		}
		if obj != nil {
			if lerr := cl.applied(ctx, cr.id(obj)); lerr != nil {
				c.logger.Warn("loyalty: the ledger could not record a create", "error", lerr.Error())
			}
			return obj, found(resp, !sentHere), nil
		}
		pending = nil // not created, and no attempt can still land: it may be sent
		if sends == once.sends() {
			return nil, lastResp, lastErr
		}
		sends++
		sent := time.Now()
		// Renewed before the send (nothing is sent under a lost claim) and cut at InFlight.
		created, resp, err := stepped(ctx, cl, true, func(ctx context.Context) (*T, *Response, error) {
			sendCtx, cancel := context.WithTimeout(ctx, inFlight)
			defer cancel()
			return cr.create(sendCtx)
		})
		ended := time.Now()
		switch {
		case err == nil:
			if lerr := cl.applied(ctx, cr.id(created)); lerr != nil {
				c.logger.Warn("loyalty: the ledger could not record a create", "error", lerr.Error())
			}
			return created, resp, nil
		case cr.conflictIsExisting && errors.Is(err, ErrConflict):
			if obj, fresp, ferr := cr.find(ctx, true); ferr != nil || obj != nil {
				if obj != nil {
					_ = cl.applied(ctx, cr.id(obj))
				}
				return obj, found(fresp, !sentHere), ferr
			}
			return nil, resp, err // a conflict the look-up cannot explain: let the caller see it
		case !IsOutcomeUnknown(err):
			return nil, resp, err
		}
		pending = &attempt{sent: sent, ended: ended}
		lastErr, lastResp, sentHere = err, resp, true
	}
}

// found marks an answer as the look-up's or the ledger's (Response.Found): the object
// existed before the call, when existed says so.
func found(resp *Response, existed bool) *Response {
	if resp != nil {
		resp.Found = existed
	}
	return resp
}

// stepped runs f within a step of the claim (see claim.step).
func stepped[T any](ctx context.Context, cl *claim, fence bool, f func(context.Context) (*T, *Response, error)) (*T, *Response, error) {
	stepCtx, cancel, err := cl.step(ctx, fence)
	if err != nil {
		return nil, nil, err
	}
	defer cancel()
	return f(stepCtx)
}

// awaitCreated looks for the object of a create whose answer was lost, the options' waits apart, until
// it shows or the create can no longer be in flight. It returns nil and no error when the
// create was not applied, and an *OutcomeUnknownError when the looks ran out first.
func awaitCreated[T any](ctx context.Context, cl *claim, a *attempt, once *OnceOptions, inFlight time.Duration, resp *Response, find func(context.Context) (*T, *Response, error)) (*T, *Response, error) {
	for _, wait := range once.waits(a.bound(inFlight)) {
		if a.inFlightLeft(time.Now(), serverTime(resp), inFlight) <= 0 {
			return nil, resp, nil
		}
		found, fresp, err := stepped(ctx, cl, false, func(ctx context.Context) (*T, *Response, error) {
			if err := transport.Sleep(ctx, wait); err != nil {
				return nil, nil, &OutcomeUnknownError{Err: err}
			}
			return find(ctx)
		})
		if err != nil {
			if fresp == nil {
				fresp = resp
			}
			return nil, fresp, err
		}
		if found != nil {
			return found, fresp, nil
		}
		resp = fresp
	}
	if a.inFlightLeft(time.Now(), serverTime(resp), inFlight) <= 0 {
		return nil, resp, nil
	}
	return nil, resp, &OutcomeUnknownError{Err: errors.New("a create whose answer was lost may still land: it does not show yet"),
		Finding: &Finding{Reason: "the object does not show, and the create may still be in flight at the server"}}
}

// onServer places an attempt on the server's clock, given the server's time now.
func (a *attempt) onServer(serverNow time.Time) (sent, ended time.Time) {
	sent, ended = a.serverSent, a.serverEnded
	if sent.IsZero() && !a.sent.IsZero() {
		sent = serverNow.Add(-time.Since(a.sent))
	}
	if ended.IsZero() && !a.ended.IsZero() {
		ended = serverNow.Add(-time.Since(a.ended))
	}
	return sent, ended
}
