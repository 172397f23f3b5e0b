package loyalty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// The API has no idempotency keys. When a card action's answer is lost, the client says
// "outcome unknown" rather than send it twice. The helpers here find out what happened and
// apply the action at most once, using a reference (a receipt or order id) that the SDK
// writes into the operation's comment.

// referenceOpen and referenceClose frame a reference in an operation's comment:
// "till 3 [ref:receipt-8812]". ReferenceOf reads it back.
const (
	referenceOpen  = "[ref:"
	referenceClose = "]"
	// maxReference bounds a reference, so the comment stays short.
	maxReference = 64
)

// checkReference refuses a reference that could not be read back from a comment.
func checkReference(ref string) error {
	switch {
	case ref == "":
		return nil
	case len(ref) > maxReference:
		return invalid("options.reference", fmt.Sprintf("must be at most %d bytes", maxReference))
	case strings.ContainsAny(ref, "[]") || strings.TrimSpace(ref) != ref:
		return invalid("options.reference", "must not contain brackets or start or end with a space")
	case strings.IndexFunc(ref, unicode.IsControl) >= 0:
		return invalid("options.reference", "must not contain control characters")
	}
	return nil
}

// withReference is the comment an action is sent with: the caller's comment, then the tag.
func withReference(comment, ref string) string {
	if ref == "" {
		return comment
	}
	tag := referenceOpen + ref + referenceClose
	if comment == "" {
		return tag
	}
	return comment + " " + tag
}

// ReferenceOf returns the reference an action sent with ActionOptions.Reference left in an
// operation's comment ("till 3 [ref:receipt-8812]" gives "receipt-8812"), and whether there
// was one.
func ReferenceOf(comment string) (string, bool) {
	i := strings.LastIndex(comment, referenceOpen)
	if i < 0 {
		return "", false
	}
	rest := comment[i+len(referenceOpen):]
	j := strings.Index(rest, referenceClose)
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}

// Outcome is what the history says of an action sent with a reference.
type Outcome int

const (
	// OutcomeUnknown: the history cannot tell yet (it may lag behind the card, the request
	// may still be in flight at the server). Do not send again.
	OutcomeUnknown Outcome = iota
	// OutcomeApplied: an operation carries the reference.
	OutcomeApplied
	// OutcomeNotApplied: the evidence shows the reference was not applied, and no attempt
	// can still be. Sending again is safe.
	OutcomeNotApplied
)

// String names the outcome: "applied", "not applied" or "unknown".
func (o Outcome) String() string {
	switch o {
	case OutcomeApplied:
		return "applied"
	case OutcomeNotApplied:
		return "not applied"
	}
	return "unknown"
}

// Finding is the answer of FindReference, and what ApplyOnce learned before it decided.
type Finding struct {
	// Outcome is the verdict: applied, not applied, or unknown.
	Outcome Outcome
	// Operation is the history row that carries the reference, when Outcome is applied.
	Operation *Operation
	// Card is the card as the look-up read it (nil for a verdict that came from the ledger
	// alone).
	Card *Card
	// ServerTime is the server's clock when the card was read: the clock every verdict is
	// judged on.
	ServerTime time.Time
	// Reason says how the verdict was reached, or why it could not be.
	Reason string
}

// settleMargin covers what separates two readings of the server's clock: its timestamps have
// whole seconds, and a cluster's machines differ by a little.
const settleMargin = 2 * time.Second

// DefaultInFlight is the least time a request the client gave up on may still be applied by
// the server: a proxy or a queue may hold it, and the server works on it until its own limit
// (30 s is PHP's). A verdict of "not applied" waits at least this long (or the client's
// per-attempt timeout, when longer) after the attempt ended. Set Once.InFlight or
// ReferenceQuery.InFlight to your own bound.
const DefaultInFlight = 30 * time.Second

// DefaultWindow is how far back the look-up made before a first send searches the history.
const DefaultWindow = DefaultLedgerKeep

// ReferenceQuery asks FindReference about one reference on one card.
type ReferenceQuery struct {
	// CardID is the card the action was sent to, and Reference the one it carried
	// (ActionOptions.Reference).
	CardID    string
	Reference string
	// Since is when your attempt was sent and Ended when your client gave up on it (Since
	// when zero), on this machine's clock. Only the time elapsed since each is used: the
	// verdicts themselves are judged on the server's clock, so a clock here that is hours
	// off, or a far time zone, changes nothing.
	//
	// Leave both zero to ask whether the reference was applied at any time within Window,
	// with no attempt of yours outstanding: the question ApplyOnce asks before its first
	// send.
	Since, Ended time.Time
	// InFlight is how long after Ended the server may still apply the attempt: "not
	// applied" is never answered sooner (default: the larger of DefaultInFlight and the
	// client's per-attempt timeout).
	InFlight time.Duration
	// Window is how far back a query without Since searches (DefaultWindow when zero).
	Window time.Duration
	// HistoryLag, when set, is a bound you know the history's lag behind the cards to keep:
	// a card change older than it then counts as shown in the history. The API documents no
	// such bound, so none is assumed unless you give one.
	HistoryLag time.Duration
}

// FindReference tells whether a card action sent with ActionOptions.Reference was applied.
//
// It answers OutcomeApplied when a history row of the card carries the reference, with the
// row. It answers OutcomeNotApplied only on evidence, and for an attempt of yours only once
// InFlight has passed since it ended (until then the server may still apply it):
//
//   - the card has not changed since before the attempt (an applied action changes the card,
//     and the card is read fresh), or
//   - the history has caught up with the card: it shows a row at or after the card's last
//     change (or, for a card whose last change wrote no row, a row of the account after it),
//     and no row carries the reference, or
//   - for a query without an attempt: the card has not changed since it was issued, or
//     within Window, or
//   - the card's last change is older than a HistoryLag you gave.
//
// Anything less is OutcomeUnknown: ask again later. Every time is judged on the server's
// clock (the answer's createdAt or Date): this machine's clock only measures how long ago the
// attempt was. History rows are assumed to become visible in the order they were written.
//
// It reads the card, then the card's history for the days around the attempt (or the
// Window), 1,000 rows a page, and stops at the reference; when the card's own rows cannot
// show its last change it reads one or two rows of the account's history as well.
//
// Returns the finding with the card's read response. Errors: those of Cards.Get
// (ErrNotFound for an unknown card); a history that cannot be read is a finding of
// OutcomeUnknown, not an error; ErrInvalidArgument for an empty card id or reference.
//
// API: GET /api/v2/cards/{id}, then GET /api/v2/operations
func (s *OperationsService) FindReference(ctx context.Context, q ReferenceQuery) (*Finding, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if q.Reference == "" {
		return nil, nil, invalid("reference", "must not be empty")
	}
	if err := checkReference(q.Reference); err != nil {
		return nil, nil, err
	}
	var a *attempt
	switch {
	case !q.Since.IsZero():
		a = &attempt{sent: q.Since, ended: q.Ended}
		if a.ended.IsZero() {
			a.ended = q.Since
		}
	case !q.Ended.IsZero():
		return nil, nil, invalid("since", "must be set when ended is")
	}
	return s.find(ctx, q.CardID, q.Reference, a, lookSettings{
		inFlight: s.client.inFlight(q.InFlight), window: orDefault(q.Window, DefaultWindow), lag: q.HistoryLag})
}

// attempt is one send of a referenced action, as the look-ups judge it.
type attempt struct {
	// sent and ended are this machine's clock around the send; zero for an attempt known only
	// from the ledger (another call's, perhaps another process's).
	sent, ended time.Time
	// serverSent and serverEnded place the attempt on the server's clock when that is known:
	// from a look-up made just before the send, or from the ledger.
	serverSent, serverEnded time.Time
}

// earlier is the attempt an unknown ledger entry stands for, claimed at granted (this
// machine's clock). An entry that could not place its attempt on the server's clock (its
// look-ups failed, or it is a claim whose holder never recorded an outcome) stands for an
// attempt sent at some time before, and ended by the claim at the latest.
func earlier(e LedgerEntry, granted time.Time) *attempt {
	if e.Ended.IsZero() {
		return &attempt{ended: granted}
	}
	return &attempt{serverSent: e.Sent, serverEnded: e.Ended}
}

// start places the attempt's send on the server's clock, given a reading of it at read (this
// machine's clock); ok is false when when it was sent is not known.
func (a *attempt) start(serverNow, read time.Time) (time.Time, bool) {
	switch {
	case !a.serverSent.IsZero():
		return a.serverSent, true
	case !a.sent.IsZero():
		return serverNow.Add(-read.Sub(a.sent)), true
	}
	return time.Time{}, false
}

// lookSettings are a look-up's bounds.
type lookSettings struct {
	inFlight, window, lag time.Duration
}

// inFlight is the in-flight bound to judge by: the caller's, or the default.
func (c *Client) inFlight(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return max(DefaultInFlight, c.attemptTimeout)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// find reads the card and its history and judges: a nil attempt asks whether the reference
// was ever applied within the window.
func (s *OperationsService) find(ctx context.Context, id, ref string, a *attempt, ls lookSettings) (*Finding, *Response, error) {
	card, resp, err := s.client.Cards.Get(ctx, id)
	if err != nil {
		return nil, resp, err
	}
	read := time.Now()
	serverNow := serverTime(resp)
	f := &Finding{Card: card, ServerTime: serverNow}

	// from is the server time from which a row matters: the attempt's send, or the window
	// when there is none, or none known.
	var from time.Time
	if !serverNow.IsZero() {
		from = serverNow.Add(-ls.window)
		if a != nil {
			if start, ok := a.start(serverNow, read); ok {
				from = start
			}
		}
	}
	opts := &OperationListOptions{CardID: id, ListOptions: ListOptions{ItemsPerPage: MaxItemsPerPage}}
	if !serverNow.IsZero() {
		// The filters' time zone is not documented: a day more on each side covers them all.
		opts.StartDate, opts.EndDate = DateOf(from.UTC().AddDate(0, 0, -1)), DateOf(serverNow.UTC().AddDate(0, 0, 1))
	}
	var newest time.Time
	for op, err := range s.All(ctx, opts) {
		if err != nil {
			f.Reason = "the history could not be read: " + err.Error()
			return f, resp, nil
		}
		if got, ok := ReferenceOf(op.Comment); ok && got == ref {
			f.Outcome, f.Operation, f.Reason = OutcomeApplied, &op, "a history row carries the reference"
			return f, resp, nil
		}
		if op.CreatedAt.Time.After(newest) {
			newest = op.CreatedAt.Time
		}
	}
	f.Outcome, f.Reason = s.judge(ctx, card, a, ls, serverNow, read, from, newest)
	return f, resp, nil
}

// judge decides between not applied and unknown for a reference no row carries.
func (s *OperationsService) judge(ctx context.Context, card *Card, a *attempt, ls lookSettings, serverNow, read, from, newest time.Time) (Outcome, string) {
	changed := card.UpdatedAt.Time
	if serverNow.IsZero() || changed.IsZero() {
		return OutcomeUnknown, "the server's time or the card's last change is unknown"
	}
	var start time.Time
	startKnown := false
	if a != nil {
		if left := a.inFlightLeft(read, serverNow, ls.inFlight); left > 0 {
			return OutcomeUnknown, fmt.Sprintf("the attempt may still be in flight at the server (for %s after it ended; %s to go)",
				ls.inFlight, left.Round(time.Millisecond))
		}
		start, startKnown = a.start(serverNow, read)
		if startKnown && changed.Before(start.Add(-settleMargin)) {
			return OutcomeNotApplied, "the card has not changed since before the attempt"
		}
	}
	switch {
	case !newest.IsZero() && !newest.Before(changed):
		return OutcomeNotApplied, fmt.Sprintf("the history shows the card's last change (%s) and no row carries the reference", changed.Format(time.RFC3339))
	case a == nil && !card.CreatedAt.IsZero() && !changed.After(card.CreatedAt.Time):
		return OutcomeNotApplied, "the card has not changed since it was issued"
	case a == nil && changed.Before(from):
		return OutcomeNotApplied, "the card has not changed within the window searched"
	case ls.lag > 0 && serverNow.Sub(changed) >= ls.lag+settleMargin:
		return OutcomeNotApplied, fmt.Sprintf("the card's last change is older than the history lag allowed (%s), and no row carries the reference", ls.lag)
	case s.accountShowsAfter(ctx, changed, serverNow):
		return OutcomeNotApplied, "the account's history shows a change made after the card's last one, and no row carries the reference"
	case a == nil:
		return OutcomeUnknown, "the card changed recently, and the history does not show that change yet"
	case !startKnown:
		return OutcomeUnknown, "the card changed, and the history does not show that change yet"
	case !changed.After(start.Add(settleMargin)):
		return OutcomeUnknown, "the card last changed about when the attempt began (timestamps have whole seconds), and the history does not show that change yet"
	}
	return OutcomeUnknown, "the card changed after the attempt began, and the history does not show that change yet"
}

// bound is how long after the attempt the looks must go on for a verdict: the in-flight
// bound, and the margin of two server clock readings for an attempt known by them alone.
func (a *attempt) bound(inFlight time.Duration) time.Duration {
	if a != nil && a.ended.IsZero() {
		return inFlight + settleMargin
	}
	return inFlight
}

// inFlightLeft is how long the server may still apply the attempt.
func (a *attempt) inFlightLeft(read, serverNow time.Time, inFlight time.Duration) time.Duration {
	if !a.ended.IsZero() {
		return inFlight - read.Sub(a.ended)
	}
	if !a.serverEnded.IsZero() {
		// Two readings of the server's clock, each short of the truth by up to a second.
		return inFlight + settleMargin - serverNow.Sub(a.serverEnded)
	}
	return inFlight // nothing says when it ended: it may still be in flight
}

// accountShowsAfter reports whether the account's history shows a row written after changed
// (in a later second). Rows become visible in the order they are written, so the card's own
// row for its last change, if it wrote one, shows too. The history's order is not documented:
// it reads the first and the last row of the days concerned.
func (s *OperationsService) accountShowsAfter(ctx context.Context, changed, serverNow time.Time) bool {
	opts := &OperationListOptions{StartDate: DateOf(changed.UTC()), EndDate: DateOf(serverNow.UTC().AddDate(0, 0, 1)),
		ListOptions: ListOptions{Page: 1, ItemsPerPage: 1}}
	rows, resp, err := s.List(ctx, opts)
	if err != nil || len(rows) == 0 {
		return false
	}
	if rows[0].CreatedAt.Time.After(changed) {
		return true
	}
	if resp.Meta == nil || resp.Meta.TotalItems <= 1 {
		return false
	}
	opts.Page = resp.Meta.TotalItems
	rows, _, err = s.List(ctx, opts)
	return err == nil && len(rows) == 1 && rows[0].CreatedAt.Time.After(changed)
}

// serverTime is the server's clock at the answer: the envelope's createdAt, else the Date
// header.
func serverTime(resp *Response) time.Time {
	if resp == nil {
		return time.Time{}
	}
	if !resp.CreatedAt.IsZero() {
		return resp.CreatedAt.Time
	}
	if resp.Response != nil {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ActionFunc is a card action with everything but the card and the options bound, as Bind
// makes it or as RedeemCoupon already is.
type ActionFunc func(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error)

// Bind fixes an action's quantity: Bind(client.Cards.AddStamps, 2).
func Bind[Q any](action func(ctx context.Context, id string, q Q, opts *ActionOptions) (*Card, *Response, error), q Q) ActionFunc {
	return func(ctx context.Context, id string, opts *ActionOptions) (*Card, *Response, error) {
		return action(ctx, id, q, opts)
	}
}

// Once tunes ApplyOnce and the create helpers. The zero value (or nil) is the default.
type Once struct {
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

func (o *Once) settle() time.Duration {
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
func (o *Once) waits(inFlight time.Duration) []time.Duration {
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
func (o *Once) precheckLooks() int {
	if o != nil && o.Lookups > 0 {
		return o.Lookups
	}
	return 3
}

func (o *Once) sends() int {
	if o == nil || o.Sends <= 0 {
		return 3
	}
	return o.Sends
}

func (o *Once) hold() time.Duration {
	if o == nil || o.Hold <= 0 {
		return DefaultLedgerHold
	}
	return o.Hold
}

func (o *Once) settings(c *Client) lookSettings {
	if o == nil {
		return lookSettings{inFlight: c.inFlight(0), window: DefaultWindow}
	}
	return lookSettings{inFlight: c.inFlight(o.InFlight), window: orDefault(o.Window, DefaultWindow), lag: o.HistoryLag}
}

// ApplyOnce sends a card action at most once per reference (opts.Reference, a receipt or
// order id, required) on that card: across calls, goroutines and clients of this process, and
// across processes that share a ledger (WithLedger) or the card's history.
//
//   - It claims the reference in the client's ledger. One already applied returns the card
//     (read with one GET) and an *AlreadyAppliedError: errors.Is(err, ErrAlreadyApplied).
//     One held by another call waits for that call's outcome.
//   - Before the first send it looks the reference up in the card's history
//     (Operations.FindReference, two reads: the card and its history of the last Window),
//     unless once.Fresh. Applied: the card and an *AlreadyAppliedError. If the history
//     cannot tell yet, it looks again; still unknown, it returns an *OutcomeUnknownError
//     without sending.
//   - When the send's outcome is unknown (the answer was lost), it waits and looks the
//     reference up, as often as Once allows: applied returns the card, with no error; not
//     applied (which waits for Once.InFlight after the attempt ended) sends again; still
//     unknown returns an *OutcomeUnknownError whose Finding says why, and records it in the
//     ledger, so that a later call finds out before it sends.
//
// Cost: with the defaults, a first send is three round trips (GET card, GET history, the
// action); a repeat answered by the ledger, one GET; once.Fresh, one (the action). A lost
// answer costs two reads per look; an applied action shows at the first look (after
// Settle, 2 s), a lost one only after InFlight (30 s).
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
func (s *CardsService) ApplyOnce(ctx context.Context, id string, action ActionFunc, opts *ActionOptions, once *Once) (*Card, *Response, error) {
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
		f, lookupErr := s.look(ctx, cl, id, ref, earlier(cl.prev, cl.granted), once, ls)
		switch {
		case f != nil && f.Outcome == OutcomeApplied:
			_ = cl.applied(ctx, id)
			return f.Card, nil, &AlreadyAppliedError{CardID: id, Reference: ref, Finding: f}
		case f == nil || f.Outcome != OutcomeNotApplied:
			return nil, nil, &OutcomeUnknownError{Err: errEarlierUnknown, Finding: f, LookupErr: lookupErr}
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
		f, lookupErr := s.look(ctx, cl, id, ref, nil, once, ls)
		switch {
		case f != nil && f.Outcome == OutcomeApplied:
			_ = cl.applied(ctx, id)
			return f.Card, nil, &AlreadyAppliedError{CardID: id, Reference: ref, Finding: f}
		case f == nil && lookupErr != nil && !IsOutcomeUnknown(lookupErr) && errors.Is(lookupErr, ErrNotFound):
			return nil, nil, lookupErr
		case f == nil || f.Outcome != OutcomeNotApplied:
			return nil, nil, ledgerOr(lookupErr, &OutcomeUnknownError{Err: errNotSentUnknown, Finding: f, LookupErr: lookupErr})
		}
		before = f
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
		f, lookupErr := s.look(ctx, cl, id, ref, a, once, ls)
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
		out.Finding, out.LookupErr = f, lookupErr
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

func (o *Once) fresh() bool { return o != nil && o.Fresh }

var (
	// errNotSentUnknown explains an ApplyOnce that sent nothing because the history could not
	// tell whether an earlier attempt with the reference was applied.
	errNotSentUnknown = errors.New("nothing was sent: the history cannot tell yet whether an earlier attempt with this reference was applied")
	// errEarlierUnknown explains one whose reference an earlier call left unknown.
	errEarlierUnknown = errors.New("nothing was sent: an earlier call with this reference lost its answer, and the history cannot tell yet what became of it")
	// errForgotten explains one that gave up while waiting out the sends a ledger forgot.
	errForgotten = errors.New("nothing was sent: the ledger lost what it held a moment ago, and a send it forgot may still land")
)

// look asks the history about the reference until it can tell, waiting before each look as
// once says, each wait and look a step of the claim.
func (s *CardsService) look(ctx context.Context, cl *claim, id, ref string, a *attempt, once *Once, ls lookSettings) (*Finding, error) {
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
		got, err := s.lookOnce(ctx, cl, id, ref, a, ls, wait)
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

// lookOnce waits, then looks, within one step of the claim.
func (s *CardsService) lookOnce(ctx context.Context, cl *claim, id, ref string, a *attempt, ls lookSettings, wait time.Duration) (*Finding, error) {
	stepCtx, cancel, err := cl.step(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := transport.Sleep(stepCtx, wait); err != nil {
		return nil, err
	}
	f, _, err := s.client.Operations.find(stepCtx, id, ref, a, ls)
	return f, err
}
