package loyalty

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"time"
)

// OperationsService reads the operations history: one row per card action. After an
// *OutcomeUnknownError, read it to learn whether the action was applied.
type OperationsService service

// Operation is one row of the operations history.
type Operation struct {
	ID         int      `json:"id"`
	CardID     string   `json:"cardId"`
	CustomerID string   `json:"customerId"`
	Customer   Customer `json:"customer"`
	TemplateID int      `json:"templateId"`
	CompanyID  int      `json:"companyId"`
	// EventID is the kind of action, as the API numbers it. The numbering is not documented,
	// so it is kept raw; compare it with the EventID of a history row whose action you know.
	EventID int `json:"eventId"`
	// Amount is the quantity the action moved.
	Amount float64 `json:"amount"`
	// Balance is the card's balance after the action.
	Balance     int       `json:"balance"`
	PurchaseSum float64   `json:"purchaseSum"`
	Source      string    `json:"source"`
	Comment     string    `json:"comment"`
	CardDevice  string    `json:"cardDevice"`
	LocationID  int       `json:"locationId"`
	ManagerID   int       `json:"managerId"`
	CreatedAt   Timestamp `json:"createdAt"`
	UpdatedAt   Timestamp `json:"updatedAt"`
}

// OperationListOptions filters the history. Zero values filter nothing; dates are inclusive
// days. The API documents neither the time zone of StartDate and EndDate (the account's
// timezone setting, see Profile, is the likely one) nor the order of the rows: do not rely
// on either, and widen a date range by a day on each side when the exact edge matters.
type OperationListOptions struct {
	ListOptions
	CardID     string `url:"cardId,omitempty"`
	CustomerID string `url:"customerId,omitempty"`
	TemplateID int    `url:"templateId,omitempty"`
	StartDate  Date   `url:"startDate,omitempty"`
	EndDate    Date   `url:"endDate,omitempty"`
}

func (o *OperationListOptions) checkRange() error {
	if o == nil {
		return nil
	}
	return checkRange(o.StartDate, o.EndDate)
}

// List returns one page of operations matching opts (nil: the first page of all), with the
// page's Meta on the Response. The API has been seen answering 1000 rows a page when
// itemsPerPage is not given.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list the history; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/operations
func (s *OperationsService) List(ctx context.Context, opts *OperationListOptions) ([]Operation, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if err := opts.checkRange(); err != nil {
		return nil, nil, err
	}
	return list[Operation](ctx, s.client, "operations", opts)
}

// All walks every operation matching opts, fetching pages as the loop reaches them.
//
// API: GET /api/v2/operations, page after page
func (s *OperationsService) All(ctx context.Context, opts *OperationListOptions) iter.Seq2[Operation, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Operation](err)
	}
	if err := opts.checkRange(); err != nil {
		return failed[Operation](err)
	}
	return walk[Operation](ctx, s.client, "operations", opts)
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
// per-attempt timeout, when longer) after the attempt ended. Set OnceOptions.InFlight or
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
	return s.find(ctx, q.CardID, q.Reference, a, verdictBounds{
		inFlight: s.client.inFlight(q.InFlight), window: orDefault(q.Window, DefaultWindow), lag: q.HistoryLag}, nil)
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

// verdictBounds are the bounds a verdict on a reference is judged by.
type verdictBounds struct {
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

// find reads the card and its history side by side, and judges: a nil attempt asks whether
// the reference was ever applied within the window. A handed card read a moment ago (see
// Card.fresh) stands for the card's read, and only the history is read.
//
// The history's days are chosen before the server's clock is read: from the server's time at
// the client's last look-up, moved on by the time elapsed here, or else this machine's clock.
// That is only a guess of which days to ask for, four days wider on each side than needed;
// once the card's answer gives the server's time, a range that did not cover the days needed
// is read again. Nothing is judged on the guess.
func (s *OperationsService) find(ctx context.Context, id, ref string, a *attempt, ls verdictBounds, handed *Card) (*Finding, *Response, error) {
	var card *Card
	var resp *Response
	var read, serverNow time.Time
	var hist historyRead
	var asked dayRange
	if handed.fresh() {
		card, read, serverNow = handed, handed.readAt, handed.serverAt
		asked = daysFor(serverNow, read, a, ls.window, 1)
		hist = s.readHistory(ctx, id, ref, asked)
	} else {
		asked = daysFor(s.client.clock.guess(), time.Now(), a, ls.window, 4)
		histCtx, cancel := context.WithCancel(ctx)
		done := make(chan historyRead, 1)
		go func() { done <- s.readHistory(histCtx, id, ref, asked) }()
		var err error
		card, resp, err = s.client.Cards.Get(ctx, id)
		read = time.Now()
		if err != nil {
			cancel()
			<-done
			return nil, resp, err
		}
		hist = <-done
		cancel()
		serverNow = serverTime(resp)
		s.client.clock.observe(serverNow, read)
	}
	f := &Finding{Card: card, ServerTime: serverNow}
	if serverNow.IsZero() {
		f.Reason = "the server's time is unknown"
		return f, resp, nil
	}
	if needed := daysFor(serverNow, read, a, ls.window, 1); !asked.covers(needed) {
		hist = s.readHistory(ctx, id, ref, needed) // the guess was days off the server's clock
	}
	switch {
	case hist.err != nil:
		f.Reason = "the history could not be read: " + hist.err.Error()
	case hist.found != nil:
		f.Outcome, f.Operation, f.Reason = OutcomeApplied, hist.found, "a history row carries the reference"
	default:
		f.Outcome, f.Reason = s.judge(ctx, card, a, ls, serverNow, read, from(serverNow, read, a, ls.window), hist.newest)
	}
	return f, resp, nil
}

// historyRead is what a read of a card's history found: the row that carries the reference,
// or the newest row's time.
type historyRead struct {
	found  *Operation
	newest time.Time
	err    error
}

// readHistory reads the card's history over days, 1,000 rows a page, until a row carries ref.
func (s *OperationsService) readHistory(ctx context.Context, id, ref string, days dayRange) historyRead {
	opts := &OperationListOptions{CardID: id, StartDate: days.start, EndDate: days.end, ListOptions: ListOptions{ItemsPerPage: MaxItemsPerPage}}
	var out historyRead
	for op, err := range s.All(ctx, opts) {
		if err != nil {
			return historyRead{err: err}
		}
		if got, ok := ReferenceOf(op.Comment); ok && got == ref {
			return historyRead{found: &op}
		}
		if op.CreatedAt.Time.After(out.newest) {
			out.newest = op.CreatedAt.Time
		}
	}
	return out
}

// from is the server time from which a row matters: the attempt's send, or the window when
// there is none, or none known.
func from(serverNow, read time.Time, a *attempt, window time.Duration) time.Time {
	if a != nil {
		if start, ok := a.start(serverNow, read); ok {
			return start
		}
	}
	return serverNow.Add(-window)
}

// dayRange is the days of history a look-up reads.
type dayRange struct{ start, end Date }

// daysFor is the days to read, given the server's time (or a guess of it) read at read: from
// the day before a row matters to the day after now, and slack days more on each side (the
// filters' time zone is not documented: a day covers them all).
func daysFor(serverNow, read time.Time, a *attempt, window time.Duration, slack int) dayRange {
	if serverNow.IsZero() {
		return dayRange{}
	}
	return dayRange{DateOf(from(serverNow, read, a, window).UTC().AddDate(0, 0, -slack)), DateOf(serverNow.UTC().AddDate(0, 0, slack))}
}

// covers reports whether r reads every day of need.
func (r dayRange) covers(need dayRange) bool {
	if r == (dayRange{}) {
		return true // no filter: every day
	}
	return !midnight(r.start).After(midnight(need.start)) && !midnight(r.end).Before(midnight(need.end))
}

func midnight(d Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// serverClock remembers the server's time at the client's last look-up, for the next one's
// guess of which days of history to ask for (see find). It is never judged on.
type serverClock struct {
	mu            sync.Mutex
	server, local time.Time
}

func (c *serverClock) observe(server, local time.Time) {
	if server.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.server, c.local = server, local
}

// guess is the server's time now, as far as the last observation tells, or this machine's.
func (c *serverClock) guess() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server.IsZero() {
		return time.Now()
	}
	return c.server.Add(time.Since(c.local))
}

// judge decides between not applied and unknown for a reference no row carries.
func (s *OperationsService) judge(ctx context.Context, card *Card, a *attempt, ls verdictBounds, serverNow, read, from, newest time.Time) (Outcome, string) {
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
