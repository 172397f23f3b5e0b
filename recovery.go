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
	// OutcomeUnknown: the history cannot tell yet (it may lag behind the card, the card
	// changed for other reasons, the request may still be in flight). Do not send again.
	OutcomeUnknown Outcome = iota
	// OutcomeApplied: an operation carries the reference.
	OutcomeApplied
	// OutcomeNotApplied: the history demonstrably covers the attempt and no operation
	// carries the reference. Sending again is safe.
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

// Finding is the answer of FindReference.
type Finding struct {
	// Outcome is the verdict: applied, not applied, or unknown.
	Outcome Outcome
	// Operation is the history row that carries the reference, when Outcome is applied.
	Operation *Operation
	// Reason says how the verdict was reached, or why it could not be.
	Reason string
}

// settleMargin covers what separates the client's clock from the server's timestamps: they
// have whole seconds, and the answer that brings the server's time took a while to arrive.
const settleMargin = 2 * time.Second

// DefaultHistoryLag is how far the operations history is assumed to lag behind the card
// when ReferenceQuery.HistoryLag is not set. The API does not document it; set your own
// when you know better.
const DefaultHistoryLag = 10 * time.Second

// ReferenceQuery asks FindReference about one attempt.
type ReferenceQuery struct {
	// CardID is the card the action was sent to, and Reference the one it carried
	// (ActionOptions.Reference).
	CardID    string
	Reference string
	// Since is when the attempt began, on this machine's clock.
	Since time.Time
	// HistoryLag is the longest the history may lag behind the card (DefaultHistoryLag when
	// zero).
	HistoryLag time.Duration
}

// FindReference tells whether a card action sent with ActionOptions.Reference was applied.
//
// It answers OutcomeApplied when a history row of the card carries the reference. It answers
// OutcomeNotApplied only with proof that the attempt would show if it had been applied:
//
//   - the card has not changed since before the attempt began (an applied action changes the
//     card, and the card is read fresh), or
//   - the card's last change is older than the history's lag, so every row up to it shows,
//     and none carries the reference.
//
// Times are compared on the server's clock: the attempt's start is placed on it from the
// server's time in the card's answer, less the time elapsed here and a margin of two seconds
// (timestamps have whole seconds). Anything else (a history that may still lag, a card with
// no last-change time, an error reading the history) is OutcomeUnknown: read again later. An
// empty history page alone never proves anything. A request still being processed by the
// server is invisible to all of this: ask once the attempt can no longer be in flight
// (ApplyOnce waits Once.Settle first).
//
// It reads the card once and its history for the days around the attempt (the date filters'
// time zone is not documented, so a day is added on each side), page by page, stopping at
// the reference.
//
// API: GET /api/v2/cards/{id}, then GET /api/v2/operations
func (s *OperationsService) FindReference(ctx context.Context, q ReferenceQuery) (*Finding, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	switch {
	case q.Reference == "":
		return nil, nil, invalid("reference", "must not be empty")
	case q.Since.IsZero():
		return nil, nil, invalid("since", "must be when the attempt began")
	}
	if err := checkReference(q.Reference); err != nil {
		return nil, nil, err
	}
	lag := q.HistoryLag
	if lag <= 0 {
		lag = DefaultHistoryLag
	}
	card, resp, err := s.client.Cards.Get(ctx, q.CardID)
	if err != nil {
		return nil, resp, err
	}

	opts := &OperationListOptions{CardID: q.CardID, StartDate: DateOf(q.Since.AddDate(0, 0, -1)), EndDate: DateOf(time.Now().AddDate(0, 0, 1)),
		ListOptions: ListOptions{ItemsPerPage: MaxItemsPerPage}} // few requests: the API's pages go to 1,000
	for op, err := range s.All(ctx, opts) {
		if err != nil {
			return &Finding{Reason: "the history could not be read: " + err.Error()}, resp, nil
		}
		if got, ok := ReferenceOf(op.Comment); ok && got == q.Reference {
			return &Finding{Outcome: OutcomeApplied, Operation: &op, Reason: "a history row carries the reference"}, resp, nil
		}
	}

	serverNow, changed := serverTime(resp), card.UpdatedAt.Time
	if serverNow.IsZero() || changed.IsZero() {
		return &Finding{Reason: "the server's time or the card's last change is unknown"}, resp, nil
	}
	attemptStart := serverNow.Add(-time.Since(q.Since) - settleMargin)
	switch {
	case changed.Before(attemptStart):
		return &Finding{Outcome: OutcomeNotApplied, Reason: "the card has not changed since before the attempt"}, resp, nil
	case serverNow.Sub(changed) >= lag+settleMargin:
		return &Finding{Outcome: OutcomeNotApplied, Reason: "the history covers the card's last change and no row carries the reference"}, resp, nil
	}
	return &Finding{Reason: "the card changed after the attempt began, and the history may not show that change yet"}, resp, nil
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

// Once tunes ApplyOnce. The zero value is the default.
type Once struct {
	// Settle is how long to wait after an unknown outcome before reading the history, so
	// that an attempt still being processed by the server has finished (default 5s).
	Settle time.Duration
	// Lookups is how many times to read the history while it cannot tell (default 3),
	// Settle apart.
	Lookups int
	// Sends bounds the sends in all (default 3).
	Sends int
	// HistoryLag is passed to FindReference (DefaultHistoryLag when zero).
	HistoryLag time.Duration
}

func (o *Once) settle() time.Duration {
	if o == nil || o.Settle <= 0 {
		return 5 * time.Second
	}
	return o.Settle
}

func (o *Once) lookups() int {
	if o == nil || o.Lookups <= 0 {
		return 3
	}
	return o.Lookups
}

func (o *Once) sends() int {
	if o == nil || o.Sends <= 0 {
		return 3
	}
	return o.Sends
}

// ApplyOnce sends a card action at most once per opts.Reference (a receipt or order id,
// required). When the outcome is unknown (the answer was lost), it waits, looks the
// reference up in the card's history (FindReference) and:
//
//   - applied: returns the card as it is now (nil if it could not be read: the action was
//     applied all the same), with no error;
//   - not applied: sends the action again, and handles that attempt the same way;
//   - still unknown after the lookups allowed: returns an *OutcomeUnknownError, whose
//     Finding says why. It never sends again then.
//
// Any other error is returned as the action gave it.
//
//	card, _, err := client.Cards.ApplyOnce(ctx, cardID, loyalty.Bind(client.Cards.AddStamps, 2),
//		&loyalty.ActionOptions{Reference: "receipt-8812", Comment: "till 3"}, nil)
//
// API: the action's own endpoint; after a lost answer GET /api/v2/cards/{id} and
// GET /api/v2/operations
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
	for sends := 1; ; sends++ {
		start := time.Now()
		card, resp, err := action(ctx, id, opts)
		if !IsOutcomeUnknown(err) {
			return card, resp, err
		}
		finding, lookupErr := s.resolve(ctx, id, opts.Reference, start, once)
		switch {
		case finding != nil && finding.Outcome == OutcomeApplied:
			card, resp, err := s.Get(ctx, id)
			if err != nil {
				return nil, resp, nil // applied; only the fresh read failed
			}
			return card, resp, nil
		case finding != nil && finding.Outcome == OutcomeNotApplied && sends < once.sends():
			continue
		}
		out := OutcomeUnknownError{Err: err} // an action of the caller's own may carry the sentinel alone
		var unknown *OutcomeUnknownError
		if errors.As(err, &unknown) {
			out = *unknown
		}
		out.Finding, out.LookupErr = finding, lookupErr
		return nil, resp, &out
	}
}

// resolve waits for the attempt to settle, then asks the history until it can tell.
func (s *CardsService) resolve(ctx context.Context, id, ref string, start time.Time, once *Once) (*Finding, error) {
	var finding *Finding
	var lastErr error
	for range once.lookups() {
		if err := transport.Sleep(ctx, once.settle()); err != nil {
			return finding, err
		}
		var lag time.Duration
		if once != nil {
			lag = once.HistoryLag
		}
		f, _, err := s.client.Operations.FindReference(ctx, ReferenceQuery{CardID: id, Reference: ref, Since: start, HistoryLag: lag})
		if err != nil {
			lastErr = err
			continue
		}
		finding = f
		if f.Outcome != OutcomeUnknown {
			return f, nil
		}
	}
	return finding, lastErr
}
